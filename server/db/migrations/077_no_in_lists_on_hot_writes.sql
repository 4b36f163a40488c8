-- Write throughput (issues 5 and 6): no constant IN list is evaluated when a
-- booking or a usage record is inserted.
--
-- SQLite codes "x IN ('a', 'b', 'c')" with three or more constants as a
-- lookup in a temporary B-tree that it builds each time the statement runs
-- (opened, filled, closed: a pager and a B-tree of its own). An INSERT
-- evaluates its table's CHECK constraints and the WHERE of every partial
-- index once per row, so each booking built two of them (the status CHECK,
-- and the WHERE of bookings_live_end) and each usage record three (kind,
-- source, tier). "x = 'a' OR x = 'b' OR x = 'c'" is the same test without
-- one. Measured through the server (bench/bookings.sh's load, A/B): 62 ->
-- 57 us of loop time per booking, 15.9-16.0k -> 17.2-17.3k bookings/s.
--
-- A CHECK constraint cannot be altered, so both tables are rebuilt (SQLite's
-- documented procedure for other schema changes: new table, copy, drop,
-- rename, then the indexes and triggers again; migrate.c runs migrations with
-- foreign keys off and checks them before each commit). Rows, ids and the
-- usage ledger's hashes are copied unchanged. The partial index
-- bookings_live_end gets the same OR chain as its WHERE, and so do the
-- queries that use it (YQ_BK_LIVE in api/bookings_store.h and the triggers
-- below), since SQLite uses a partial index only for a query whose WHERE
-- contains the index's condition as written.

-- ---- bookings -------------------------------------------------------------

DROP TRIGGER blocks_no_live_booking; -- refers to bookings; made again below

CREATE TABLE bookings_rebuilt (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    group_id INTEGER REFERENCES lab_groups(id),
    payer_org_id INTEGER NOT NULL REFERENCES orgs(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL CHECK (end > start),
    purpose TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status = 'pending' OR status = 'confirmed' OR status = 'in_use'
                                OR status = 'completed' OR status = 'rejected' OR status = 'cancelled'
                                OR status = 'no_show'),
    needs_pi INTEGER NOT NULL DEFAULT 0,       -- PI approval still outstanding
    needs_operator INTEGER NOT NULL DEFAULT 0, -- operator approval still outstanding
    fee_estimate_fen INTEGER NOT NULL DEFAULT 0,
    series_id INTEGER,                         -- recurring bookings share one
    checkin_at INTEGER,
    checkout_at INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
INSERT INTO bookings_rebuilt (id, instrument_id, user_id, group_id, payer_org_id, start, end, purpose, status,
                              needs_pi, needs_operator, fee_estimate_fen, series_id, checkin_at, checkout_at, reason,
                              created_at, updated_at)
SELECT id, instrument_id, user_id, group_id, payer_org_id, start, end, purpose, status, needs_pi, needs_operator,
       fee_estimate_fen, series_id, checkin_at, checkout_at, reason, created_at, updated_at
FROM bookings ORDER BY id;
DROP TABLE bookings;
ALTER TABLE bookings_rebuilt RENAME TO bookings;

CREATE INDEX bookings_live_end ON bookings(instrument_id, end, start)
    WHERE (status = 'pending' OR status = 'confirmed' OR status = 'in_use');
CREATE INDEX bookings_series ON bookings(series_id) WHERE series_id IS NOT NULL;
CREATE INDEX bookings_no_show ON bookings(user_id, start) WHERE status = 'no_show';
CREATE INDEX bookings_start ON bookings(start);
CREATE INDEX bookings_user ON bookings(user_id);

CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
WHEN NEW.status = 'pending' OR NEW.status = 'confirmed' OR NEW.status = 'in_use'
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE (SELECT b.start FROM bookings b
           WHERE b.instrument_id = NEW.instrument_id
             AND (b.status = 'pending' OR b.status = 'confirmed' OR b.status = 'in_use')
             AND b.end > NEW.start
           ORDER BY b.end LIMIT 1) < NEW.end
       OR EXISTS (SELECT 1 FROM blocks k
                  WHERE k.instrument_id = NEW.instrument_id AND k.end > NEW.start AND k.start < NEW.end);
END;

CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF instrument_id, start, end, status ON bookings
WHEN (NEW.status = 'pending' OR NEW.status = 'confirmed' OR NEW.status = 'in_use')
 AND (NOT (OLD.status = 'pending' OR OLD.status = 'confirmed' OR OLD.status = 'in_use')
      OR NEW.instrument_id <> OLD.instrument_id OR NEW.start <> OLD.start OR NEW.end <> OLD.end)
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE EXISTS (SELECT 1 FROM bookings b
                  WHERE b.instrument_id = NEW.instrument_id
                    AND (b.status = 'pending' OR b.status = 'confirmed' OR b.status = 'in_use')
                    AND b.end > NEW.start AND b.start < NEW.end AND b.id <> NEW.id)
       OR EXISTS (SELECT 1 FROM blocks k
                  WHERE k.instrument_id = NEW.instrument_id AND k.end > NEW.start AND k.start < NEW.end);
END;

CREATE TRIGGER blocks_no_live_booking BEFORE INSERT ON blocks
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE EXISTS (SELECT 1 FROM bookings b
                  WHERE b.instrument_id = NEW.instrument_id
                    AND (b.status = 'pending' OR b.status = 'confirmed' OR b.status = 'in_use')
                    AND b.end > NEW.start AND b.start < NEW.end);
END;

CREATE TRIGGER stats_bookings_insert AFTER INSERT ON bookings
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_bookings_delta (day, instrument_id, status, d)
    VALUES ((NEW.start + 28800) / 86400, NEW.instrument_id, NEW.status, 1);
END;

CREATE TRIGGER stats_bookings_update AFTER UPDATE OF status, start, instrument_id ON bookings
WHEN (NEW.status IS NOT OLD.status OR NEW.start IS NOT OLD.start OR NEW.instrument_id IS NOT OLD.instrument_id)
 AND NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_bookings_delta (day, instrument_id, status, d)
    VALUES ((OLD.start + 28800) / 86400, OLD.instrument_id, OLD.status, -1),
           ((NEW.start + 28800) / 86400, NEW.instrument_id, NEW.status, 1);
END;

CREATE TRIGGER stats_bookings_delete AFTER DELETE ON bookings
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_bookings_delta (day, instrument_id, status, d)
    VALUES ((OLD.start + 28800) / 86400, OLD.instrument_id, OLD.status, -1);
END;

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

-- ---- usage records ----------------------------------------------------------

CREATE TABLE usage_records_rebuilt (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    provider_org_id INTEGER NOT NULL REFERENCES orgs(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    group_id INTEGER,
    payer_org_id INTEGER NOT NULL REFERENCES orgs(id),
    booking_id INTEGER REFERENCES bookings(id),
    kind TEXT NOT NULL CHECK (kind = 'original' OR kind = 'reversal' OR kind = 'correction'),
    corrects_id INTEGER REFERENCES usage_records(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    minutes INTEGER NOT NULL,                  -- used minutes (negative on a reversal)
    samples INTEGER NOT NULL DEFAULT 0,
    service_mode TEXT NOT NULL DEFAULT 'self_operated',
    source TEXT NOT NULL CHECK (source = 'checkout' OR source = 'manual' OR source = 'agent' OR source = 'kiosk'
                                OR source = 'correction'),
    recorded_by INTEGER,
    period TEXT NOT NULL,                      -- "2026-11": settlement month
    tier TEXT NOT NULL CHECK (tier = 'internal' OR tier = 'zone' OR tier = 'cross_zone'),
    price_unit TEXT NOT NULL,
    rate_fen INTEGER NOT NULL,
    min_charge_fen INTEGER NOT NULL,
    step_minutes INTEGER NOT NULL,
    basis TEXT NOT NULL,
    booked_minutes INTEGER NOT NULL DEFAULT 0,
    fee_fen INTEGER NOT NULL,
    voucher_fen INTEGER NOT NULL DEFAULT 0,
    cash_fen INTEGER NOT NULL,
    voucher_id INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO usage_records_rebuilt (id, instrument_id, provider_org_id, user_id, group_id, payer_org_id, booking_id,
                                   kind, corrects_id, start, end, minutes, samples, service_mode, source,
                                   recorded_by, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes,
                                   basis, booked_minutes, fee_fen, voucher_fen, cash_fen, voucher_id, reason,
                                   created_at, prev_hash, hash)
SELECT id, instrument_id, provider_org_id, user_id, group_id, payer_org_id, booking_id, kind, corrects_id, start,
       end, minutes, samples, service_mode, source, recorded_by, period, tier, price_unit, rate_fen,
       min_charge_fen, step_minutes, basis, booked_minutes, fee_fen, voucher_fen, cash_fen, voucher_id, reason,
       created_at, prev_hash, hash
FROM usage_records ORDER BY id;
DROP TABLE usage_records; -- DROP fires no DELETE trigger: the append-only triggers go with the table
ALTER TABLE usage_records_rebuilt RENAME TO usage_records;

CREATE INDEX usage_period ON usage_records(period);
CREATE INDEX usage_instrument_span ON usage_records(instrument_id, start, end);
CREATE INDEX usage_corrects ON usage_records(corrects_id) WHERE corrects_id IS NOT NULL;
CREATE INDEX usage_booking ON usage_records(booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX usage_start ON usage_records(start);
CREATE INDEX usage_user ON usage_records(user_id);
CREATE INDEX usage_group ON usage_records(group_id) WHERE group_id IS NOT NULL;

CREATE TRIGGER usage_records_no_update BEFORE UPDATE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'usage records are append-only');
END;

CREATE TRIGGER usage_records_no_delete BEFORE DELETE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'usage records are append-only');
END;

CREATE TRIGGER stats_usage_insert AFTER INSERT ON usage_records
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_usage_delta (day, instrument_id, payer_zone_id, user_id, payer_org_id, uses, minutes,
                                   external_minutes, cross_zone_minutes, samples, fee_fen)
    VALUES ((NEW.start + 28800) / 86400, NEW.instrument_id,
            coalesce((SELECT zone_id FROM orgs WHERE id = NEW.payer_org_id), 0), NEW.user_id, NEW.payer_org_id,
            CASE NEW.kind WHEN 'reversal' THEN -1 ELSE 1 END, NEW.minutes,
            CASE WHEN NEW.payer_org_id <> NEW.provider_org_id THEN NEW.minutes ELSE 0 END,
            CASE WHEN NEW.tier = 'cross_zone' THEN NEW.minutes ELSE 0 END, NEW.samples, NEW.fee_fen);
END;
