-- The longest booking ever stored, so that a list of the bookings in a time
-- window can be read through bookings_start.
--
-- A booking overlaps [from, to) when start < to and end > from. The index
-- on start bounds only the first; with the longest length L also
-- start > from - L, and the window's bookings are a short range of the
-- index instead of a walk over every booking (an operator's 48-hour desk
-- read all 240,000 of a year's bookings: 18-88 ms). The catalogue allows at
-- most a week per booking, but rows may come from elsewhere (imports, older
-- rules), so L is kept from the rows themselves: it only grows, which
-- keeps it a bound (a deleted or shortened booking leaves it as it was).
CREATE TABLE booking_span (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    longest INTEGER NOT NULL
);
INSERT INTO booking_span (id, longest) SELECT 1, coalesce(max(end - start), 0) FROM bookings;

CREATE TRIGGER booking_span_insert AFTER INSERT ON bookings
WHEN NEW.end - NEW.start > (SELECT longest FROM booking_span WHERE id = 1)
BEGIN
    UPDATE booking_span SET longest = NEW.end - NEW.start WHERE id = 1;
END;

CREATE TRIGGER booking_span_update AFTER UPDATE OF start, end ON bookings
WHEN NEW.end - NEW.start > (SELECT longest FROM booking_span WHERE id = 1)
BEGIN
    UPDATE booking_span SET longest = NEW.end - NEW.start WHERE id = 1;
END;
