-- Booking throughput (issue 5): a new booking wrote two index pages in
-- random places, bookings_live_end (instrument, end) and bookings_start
-- (start), each one a WAL frame at the next commit. Under a booking rush the
-- second was about a sixth of the server's time per booking (bookings/s
-- through bench/bookings.sh went up 18% without it).
--
-- bookings_start now holds only bookings that are no longer live
-- (completed, cancelled, rejected, no-show), as bookings_ended does by
-- instrument: a booking enters it once, when it ends or is called off, where
-- it also leaves bookings_live_end. The live ones of a time window are read
-- instrument by instrument through bookings_live_end: live bookings of one
-- instrument never overlap, so those starting before `to` end before
-- `to` + the longest booking (booking_span), a short range of that index.
-- Readers: the booking list with from= (api/bookings.c) and the statistics
-- of partial days (api/stats_store.c).
DROP INDEX bookings_start;
CREATE INDEX bookings_ended_start ON bookings(start)
    WHERE NOT (status = 'pending' OR status = 'confirmed' OR status = 'in_use');
