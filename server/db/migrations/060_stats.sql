-- Statistics rollups (issue 8). The commission's figures over any range must
-- not scan the usage log (a million records a year), so the log is summed as
-- it is written: the triggers below add every new usage record into per-day
-- and per-month rows, and keep booking counts by status the same way. A
-- range is then read as whole months, whole days at its edges and, for a
-- partial first or last day only, the records themselves (domain/stats.h,
-- yq_stats_plan).
--
-- Keys. A record counts on the local (Asia/Shanghai, UTC+8 without daylight
-- saving) day and month of its start: day = (start + 28800) / 86400, month =
-- YYYYMM. A reversal has its original's start, so a correction leaves no
-- trace in the sums; `uses` counts +1 per record and -1 per reversal.
-- External minutes: payer institution other than the provider; cross-zone
-- minutes: the record's tier, which the usage module fixed from the two
-- institutions' zones when it priced the record. The payer's zone is read
-- when the record is written, as the record's tier was.
--
-- Usage records are append-only (migration 040 refuses UPDATE and DELETE),
-- so AFTER INSERT is the only trigger they need. Bookings change status, so
-- theirs move one count from the old key to the new one.
--
-- The tests recompute every rollup from the log and compare
-- (tests/http/stats.test.mjs, tests/unit/test_stats_store.c).

CREATE TABLE stats_usage_day (
    day INTEGER NOT NULL,
    instrument_id INTEGER NOT NULL,
    payer_zone_id INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    external_minutes INTEGER NOT NULL,
    cross_zone_minutes INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    fee_fen INTEGER NOT NULL,
    PRIMARY KEY (day, instrument_id, payer_zone_id)
) WITHOUT ROWID;

CREATE TABLE stats_usage_month (
    month INTEGER NOT NULL,
    instrument_id INTEGER NOT NULL,
    payer_zone_id INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    external_minutes INTEGER NOT NULL,
    cross_zone_minutes INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    fee_fen INTEGER NOT NULL,
    PRIMARY KEY (month, instrument_id, payer_zone_id)
) WITHOUT ROWID;

-- Distinct users and institutions of an instrument need the user: per month
-- and per day, keyed by instrument first, so one instrument's users over a
-- range are one contiguous stretch of the index.
CREATE TABLE stats_users_month (
    instrument_id INTEGER NOT NULL,
    month INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    payer_org_id INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, month, user_id, payer_org_id)
) WITHOUT ROWID;

-- Which months of a year a user used an instrument in (bit m-1 for month m,
-- set while that month's row above has uses left): a year's distinct users
-- are then one row each, not one per month. Kept from stats_users_month by
-- the two triggers after it.
CREATE TABLE stats_users_year (
    instrument_id INTEGER NOT NULL,
    year INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    payer_org_id INTEGER NOT NULL,
    months INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, year, user_id, payer_org_id)
) WITHOUT ROWID;

CREATE TABLE stats_users_day (
    instrument_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    payer_org_id INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, day, user_id, payer_org_id)
) WITHOUT ROWID;

CREATE TABLE stats_bookings_day (
    day INTEGER NOT NULL,
    instrument_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, instrument_id, status)
) WITHOUT ROWID;

CREATE TABLE stats_bookings_month (
    month INTEGER NOT NULL,
    instrument_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (month, instrument_id, status)
) WITHOUT ROWID;

-- A bulk writer (the demo's year of history) may put the one row here, write
-- everything, and rebuild every rollup at once in the same transaction
-- (yq_st_rebuild, api/stats_store.h, runs the backfill at the end of this
-- file): while the row exists the triggers on the log and the bookings do
-- nothing.
CREATE TABLE stats_deferred (id INTEGER PRIMARY KEY CHECK (id = 1));

CREATE TRIGGER stats_usage_insert AFTER INSERT ON usage_records
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_usage_day (day, instrument_id, payer_zone_id, uses, minutes, external_minutes,
                                 cross_zone_minutes, samples, fee_fen)
    VALUES ((NEW.start + 28800) / 86400, NEW.instrument_id,
            coalesce((SELECT zone_id FROM orgs WHERE id = NEW.payer_org_id), 0),
            CASE NEW.kind WHEN 'reversal' THEN -1 ELSE 1 END, NEW.minutes,
            CASE WHEN NEW.payer_org_id <> NEW.provider_org_id THEN NEW.minutes ELSE 0 END,
            CASE WHEN NEW.tier = 'cross_zone' THEN NEW.minutes ELSE 0 END, NEW.samples, NEW.fee_fen)
    ON CONFLICT DO UPDATE SET uses = uses + excluded.uses, minutes = minutes + excluded.minutes,
        external_minutes = external_minutes + excluded.external_minutes,
        cross_zone_minutes = cross_zone_minutes + excluded.cross_zone_minutes,
        samples = samples + excluded.samples, fee_fen = fee_fen + excluded.fee_fen;
    INSERT INTO stats_usage_month (month, instrument_id, payer_zone_id, uses, minutes, external_minutes,
                                   cross_zone_minutes, samples, fee_fen)
    VALUES (CAST(strftime('%Y%m', NEW.start + 28800, 'unixepoch') AS INTEGER), NEW.instrument_id,
            coalesce((SELECT zone_id FROM orgs WHERE id = NEW.payer_org_id), 0),
            CASE NEW.kind WHEN 'reversal' THEN -1 ELSE 1 END, NEW.minutes,
            CASE WHEN NEW.payer_org_id <> NEW.provider_org_id THEN NEW.minutes ELSE 0 END,
            CASE WHEN NEW.tier = 'cross_zone' THEN NEW.minutes ELSE 0 END, NEW.samples, NEW.fee_fen)
    ON CONFLICT DO UPDATE SET uses = uses + excluded.uses, minutes = minutes + excluded.minutes,
        external_minutes = external_minutes + excluded.external_minutes,
        cross_zone_minutes = cross_zone_minutes + excluded.cross_zone_minutes,
        samples = samples + excluded.samples, fee_fen = fee_fen + excluded.fee_fen;
    INSERT INTO stats_users_month (instrument_id, month, user_id, payer_org_id, uses)
    VALUES (NEW.instrument_id, CAST(strftime('%Y%m', NEW.start + 28800, 'unixepoch') AS INTEGER), NEW.user_id,
            NEW.payer_org_id, CASE NEW.kind WHEN 'reversal' THEN -1 ELSE 1 END)
    ON CONFLICT DO UPDATE SET uses = uses + excluded.uses;
    INSERT INTO stats_users_day (instrument_id, day, user_id, payer_org_id, uses)
    VALUES (NEW.instrument_id, (NEW.start + 28800) / 86400, NEW.user_id, NEW.payer_org_id,
            CASE NEW.kind WHEN 'reversal' THEN -1 ELSE 1 END)
    ON CONFLICT DO UPDATE SET uses = uses + excluded.uses;
END;

CREATE TRIGGER stats_users_month_insert AFTER INSERT ON stats_users_month
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months)
    VALUES (NEW.instrument_id, NEW.month / 100, NEW.user_id, NEW.payer_org_id,
            CASE WHEN NEW.uses > 0 THEN 1 << (NEW.month % 100 - 1) ELSE 0 END)
    ON CONFLICT DO UPDATE SET months = (months & ~(1 << (NEW.month % 100 - 1))) | excluded.months;
END;

-- (The DO UPDATE of an upsert fires UPDATE triggers too.)
CREATE TRIGGER stats_users_month_update AFTER UPDATE OF uses ON stats_users_month
WHEN (OLD.uses > 0) <> (NEW.uses > 0) AND NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    UPDATE stats_users_year
    SET months = (months & ~(1 << (NEW.month % 100 - 1))) | CASE WHEN NEW.uses > 0 THEN 1 << (NEW.month % 100 - 1) ELSE 0 END
    WHERE instrument_id = NEW.instrument_id AND year = NEW.month / 100 AND user_id = NEW.user_id
      AND payer_org_id = NEW.payer_org_id;
END;

CREATE TRIGGER stats_bookings_insert AFTER INSERT ON bookings
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_bookings_day (day, instrument_id, status, n)
    VALUES ((NEW.start + 28800) / 86400, NEW.instrument_id, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO stats_bookings_month (month, instrument_id, status, n)
    VALUES (CAST(strftime('%Y%m', NEW.start + 28800, 'unixepoch') AS INTEGER), NEW.instrument_id, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER stats_bookings_update AFTER UPDATE OF status, start, instrument_id ON bookings
WHEN (NEW.status IS NOT OLD.status OR NEW.start IS NOT OLD.start OR NEW.instrument_id IS NOT OLD.instrument_id)
 AND NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    UPDATE stats_bookings_day SET n = n - 1
    WHERE day = (OLD.start + 28800) / 86400 AND instrument_id = OLD.instrument_id AND status = OLD.status;
    UPDATE stats_bookings_month SET n = n - 1
    WHERE month = CAST(strftime('%Y%m', OLD.start + 28800, 'unixepoch') AS INTEGER)
      AND instrument_id = OLD.instrument_id AND status = OLD.status;
    INSERT INTO stats_bookings_day (day, instrument_id, status, n)
    VALUES ((NEW.start + 28800) / 86400, NEW.instrument_id, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO stats_bookings_month (month, instrument_id, status, n)
    VALUES (CAST(strftime('%Y%m', NEW.start + 28800, 'unixepoch') AS INTEGER), NEW.instrument_id, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER stats_bookings_delete AFTER DELETE ON bookings
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    UPDATE stats_bookings_day SET n = n - 1
    WHERE day = (OLD.start + 28800) / 86400 AND instrument_id = OLD.instrument_id AND status = OLD.status;
    UPDATE stats_bookings_month SET n = n - 1
    WHERE month = CAST(strftime('%Y%m', OLD.start + 28800, 'unixepoch') AS INTEGER)
      AND instrument_id = OLD.instrument_id AND status = OLD.status;
END;

-- Records and bookings of a partial first or last day are read by start;
-- maintenance blocks of a range by end.
CREATE INDEX usage_start ON usage_records(start);
CREATE INDEX bookings_start ON bookings(start);
CREATE INDEX blocks_end ON blocks(end);

-- What the log already holds (a database migrated with history), in bulk
-- with the triggers deferred. The same statements are yq_st_rebuild's
-- (api/stats_store.c).
INSERT INTO stats_deferred (id) VALUES (1);
INSERT INTO stats_usage_day (day, instrument_id, payer_zone_id, uses, minutes, external_minutes, cross_zone_minutes,
                             samples, fee_fen)
SELECT (u.start + 28800) / 86400, u.instrument_id, coalesce(o.zone_id, 0),
       sum(CASE u.kind WHEN 'reversal' THEN -1 ELSE 1 END), sum(u.minutes),
       sum(CASE WHEN u.payer_org_id <> u.provider_org_id THEN u.minutes ELSE 0 END),
       sum(CASE WHEN u.tier = 'cross_zone' THEN u.minutes ELSE 0 END), sum(u.samples), sum(u.fee_fen)
FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id
GROUP BY 1, 2, 3;
INSERT INTO stats_usage_month (month, instrument_id, payer_zone_id, uses, minutes, external_minutes,
                               cross_zone_minutes, samples, fee_fen)
SELECT CAST(strftime('%Y%m', u.start + 28800, 'unixepoch') AS INTEGER), u.instrument_id, coalesce(o.zone_id, 0),
       sum(CASE u.kind WHEN 'reversal' THEN -1 ELSE 1 END), sum(u.minutes),
       sum(CASE WHEN u.payer_org_id <> u.provider_org_id THEN u.minutes ELSE 0 END),
       sum(CASE WHEN u.tier = 'cross_zone' THEN u.minutes ELSE 0 END), sum(u.samples), sum(u.fee_fen)
FROM usage_records u LEFT JOIN orgs o ON o.id = u.payer_org_id
GROUP BY 1, 2, 3;
INSERT INTO stats_users_month (instrument_id, month, user_id, payer_org_id, uses)
SELECT instrument_id, CAST(strftime('%Y%m', start + 28800, 'unixepoch') AS INTEGER), user_id, payer_org_id,
       sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END)
FROM usage_records
GROUP BY 1, 2, 3, 4;
INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months)
SELECT instrument_id, month / 100, user_id, payer_org_id, sum(CASE WHEN uses > 0 THEN 1 << (month % 100 - 1) ELSE 0 END)
FROM stats_users_month
GROUP BY 1, 2, 3, 4;
INSERT INTO stats_users_day (instrument_id, day, user_id, payer_org_id, uses)
SELECT instrument_id, (start + 28800) / 86400, user_id, payer_org_id, sum(CASE kind WHEN 'reversal' THEN -1 ELSE 1 END)
FROM usage_records
GROUP BY 1, 2, 3, 4;
INSERT INTO stats_bookings_day (day, instrument_id, status, n)
SELECT (start + 28800) / 86400, instrument_id, status, count(*) FROM bookings GROUP BY 1, 2, 3;
INSERT INTO stats_bookings_month (month, instrument_id, status, n)
SELECT CAST(strftime('%Y%m', start + 28800, 'unixepoch') AS INTEGER), instrument_id, status, count(*)
FROM bookings GROUP BY 1, 2, 3;
DELETE FROM stats_deferred;
