-- Bookings (issue 5): the storage-level guarantee that live bookings never
-- overlap each other or a maintenance block, the indexes that keep that check
-- and the availability query cheap as history grows, and idempotency keys.

-- Live bookings only, ordered by end. Live bookings of one instrument never
-- overlap, so ordered by end they are also ordered by start: the first live
-- booking ending after a new start is the only one that can overlap the new
-- interval. The trigger below therefore reads one index entry (the
-- neighbour), however long the instrument's history. `start` is included so
-- the check never touches the table.
CREATE INDEX bookings_live_end ON bookings(instrument_id, end, start)
    WHERE status IN ('pending', 'confirmed', 'in_use');

-- The no-show sweep and the expiry of unapproved bookings.
CREATE INDEX bookings_confirmed_start ON bookings(start) WHERE status = 'confirmed';
CREATE INDEX bookings_pending_start ON bookings(start) WHERE status = 'pending';
CREATE INDEX bookings_series ON bookings(series_id) WHERE series_id IS NOT NULL;

-- A live booking may not overlap another live booking or a block. The check
-- runs inside the inserting transaction, so no interleaving of writers can
-- double-book; RAISE(ABORT) undoes only the offending statement and reports
-- SQLITE_CONSTRAINT_TRIGGER, which the API answers as 409 slot_taken.
CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
WHEN NEW.status IN ('pending', 'confirmed', 'in_use')
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE (SELECT b.start FROM bookings b
           WHERE b.instrument_id = NEW.instrument_id AND b.status IN ('pending', 'confirmed', 'in_use')
             AND b.end > NEW.start
           ORDER BY b.end LIMIT 1) < NEW.end
       OR EXISTS (SELECT 1 FROM blocks k
                  WHERE k.instrument_id = NEW.instrument_id AND k.end > NEW.start AND k.start < NEW.end);
END;

-- Changes that could make a booking overlap (a move, or a revival of a dead
-- one) are checked in full; moves between live states are not.
CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF instrument_id, start, end, status ON bookings
WHEN NEW.status IN ('pending', 'confirmed', 'in_use')
 AND (OLD.status NOT IN ('pending', 'confirmed', 'in_use') OR NEW.instrument_id <> OLD.instrument_id
      OR NEW.start <> OLD.start OR NEW.end <> OLD.end)
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE EXISTS (SELECT 1 FROM bookings b
                  WHERE b.instrument_id = NEW.instrument_id AND b.status IN ('pending', 'confirmed', 'in_use')
                    AND b.end > NEW.start AND b.start < NEW.end AND b.id <> NEW.id)
       OR EXISTS (SELECT 1 FROM blocks k
                  WHERE k.instrument_id = NEW.instrument_id AND k.end > NEW.start AND k.start < NEW.end);
END;

-- A block may only be written once the live bookings it hits are cancelled
-- (the API does both in one transaction).
CREATE TRIGGER blocks_no_live_booking BEFORE INSERT ON blocks
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE EXISTS (SELECT 1 FROM bookings b
                  WHERE b.instrument_id = NEW.instrument_id AND b.status IN ('pending', 'confirmed', 'in_use')
                    AND b.end > NEW.start AND b.start < NEW.end);
END;

-- Idempotency-Key (POST /api/v1/bookings): the first successful answer to a
-- key, per user, with a hash of the request body so a reused key with a
-- different request is refused rather than silently answered.
CREATE TABLE booking_idempotency (
    user_id INTEGER NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;

-- The calendar feed is looked up by the hash of its secret token.
CREATE UNIQUE INDEX users_ical_token ON users(ical_token_hash) WHERE ical_token_hash IS NOT NULL;

-- Unread notifications are counted per user.
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;

-- Qualifications are listed per instrument.
CREATE INDEX qualifications_instrument ON qualifications(instrument_id, user_id);

-- No-show counting (three in 90 days bar the user).
CREATE INDEX bookings_no_show ON bookings(user_id, start) WHERE status = 'no_show';
