-- Distinct users over any range in one row per user and year (issue 8).
--
-- The per-instrument table of /stats/instruments (and its CSV of every
-- instrument) counts each instrument's distinct users and payer
-- institutions over the range. With migration 060 that meant, per
-- instrument, the year rows (month masks) for the whole months plus one row
-- per user and day for the days at the range's edges (about a month of them
-- on a 365-day range): some 260,000 rows for 1,500 instruments over a year
-- of 1,000,000 records, read and de-duplicated in SQL, 80 us an instrument.
--
-- Here each (instrument, year, user, payer institution) row of
-- stats_users_year also carries the days of that year the user had uses
-- left on the instrument: a 366-bit mask in six words, bit k % 61 of word
-- d<k / 61> for the k-th day of the local year (k = 0 for 1 January; 61
-- bits a word keeps every word positive). Any range of whole days within a
-- year is then a mask, and an instrument's users over a one-year range are
-- its rows of the (at most two) years the range touches, nothing more:
-- SQLite keeps the rows whose months or days meet the range and
-- api/stats_store.c counts the distinct users and institutions among them.
-- Partial first and last days are still read from the records.
--
-- The bits follow stats_users_day (a day's bit is set while that day's row
-- has uses > 0, and the month's bit while one of its days' is) through the
-- triggers below. They fire when the deltas are folded into
-- stats_users_day (api/stats_fold.c, in bulk every 200 ms), never on the
-- insert of a usage record itself: one upsert of the year row per folded
-- user and day, which replaces the one per user and month that kept the
-- month mask before. The verification (yq_st_verify) checks the months
-- against stats_users_month and the days against stats_users_day; the
-- rebuild (yq_st_rebuild) recomputes both the same way.
ALTER TABLE stats_users_year ADD COLUMN d0 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_users_year ADD COLUMN d1 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_users_year ADD COLUMN d2 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_users_year ADD COLUMN d3 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_users_year ADD COLUMN d4 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_users_year ADD COLUMN d5 INTEGER NOT NULL DEFAULT 0;

-- The month mask now follows the days too (a month has uses left exactly
-- when one of its days has: a reversal shares its original's day), so the
-- triggers of migration 060 on stats_users_month go and a folded record
-- costs one trigger on the year row, as before, not two.
DROP TRIGGER stats_users_month_insert;
DROP TRIGGER stats_users_month_update;

-- A day's row got uses: set its day's and its month's bits (creating the
-- year row if need be). strftime gives YYYYMMDDD: year, month, day of year.
CREATE TRIGGER stats_users_day_insert AFTER INSERT ON stats_users_day
WHEN NEW.uses > 0 AND NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months, d0, d1, d2, d3, d4, d5)
    SELECT NEW.instrument_id, y, NEW.user_id, NEW.payer_org_id, 1 << (m - 1),
           CASE k / 61 WHEN 0 THEN 1 << k % 61 ELSE 0 END, CASE k / 61 WHEN 1 THEN 1 << k % 61 ELSE 0 END,
           CASE k / 61 WHEN 2 THEN 1 << k % 61 ELSE 0 END, CASE k / 61 WHEN 3 THEN 1 << k % 61 ELSE 0 END,
           CASE k / 61 WHEN 4 THEN 1 << k % 61 ELSE 0 END, CASE k / 61 WHEN 5 THEN 1 << k % 61 ELSE 0 END
    FROM (SELECT v / 100000 AS y, v / 1000 % 100 AS m, v % 1000 - 1 AS k
          FROM (SELECT CAST(strftime('%Y%m%j', NEW.day * 86400, 'unixepoch') AS INTEGER) AS v))
    WHERE true
    ON CONFLICT DO UPDATE SET months = months | excluded.months, d0 = d0 | excluded.d0, d1 = d1 | excluded.d1,
        d2 = d2 | excluded.d2, d3 = d3 | excluded.d3, d4 = d4 | excluded.d4, d5 = d5 | excluded.d5;
END;

-- (The DO UPDATE of the fold's upsert fires UPDATE triggers.) A day's uses
-- turned positive again: the same; went back to zero (a reversal): clear
-- the day's bit, and the month's when no other day of it is left.
CREATE TRIGGER stats_users_day_set AFTER UPDATE OF uses ON stats_users_day
WHEN OLD.uses <= 0 AND NEW.uses > 0 AND NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months, d0, d1, d2, d3, d4, d5)
    SELECT NEW.instrument_id, y, NEW.user_id, NEW.payer_org_id, 1 << (m - 1),
           CASE k / 61 WHEN 0 THEN 1 << k % 61 ELSE 0 END, CASE k / 61 WHEN 1 THEN 1 << k % 61 ELSE 0 END,
           CASE k / 61 WHEN 2 THEN 1 << k % 61 ELSE 0 END, CASE k / 61 WHEN 3 THEN 1 << k % 61 ELSE 0 END,
           CASE k / 61 WHEN 4 THEN 1 << k % 61 ELSE 0 END, CASE k / 61 WHEN 5 THEN 1 << k % 61 ELSE 0 END
    FROM (SELECT v / 100000 AS y, v / 1000 % 100 AS m, v % 1000 - 1 AS k
          FROM (SELECT CAST(strftime('%Y%m%j', NEW.day * 86400, 'unixepoch') AS INTEGER) AS v))
    WHERE true
    ON CONFLICT DO UPDATE SET months = months | excluded.months, d0 = d0 | excluded.d0, d1 = d1 | excluded.d1,
        d2 = d2 | excluded.d2, d3 = d3 | excluded.d3, d4 = d4 | excluded.d4, d5 = d5 | excluded.d5;
END;

CREATE TRIGGER stats_users_day_clear AFTER UPDATE OF uses ON stats_users_day
WHEN OLD.uses > 0 AND NEW.uses <= 0 AND NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    UPDATE stats_users_year
    SET d0 = d0 & ~b.m0, d1 = d1 & ~b.m1, d2 = d2 & ~b.m2, d3 = d3 & ~b.m3, d4 = d4 & ~b.m4, d5 = d5 & ~b.m5
    FROM (SELECT y, CASE k / 61 WHEN 0 THEN 1 << k % 61 ELSE 0 END AS m0,
                 CASE k / 61 WHEN 1 THEN 1 << k % 61 ELSE 0 END AS m1, CASE k / 61 WHEN 2 THEN 1 << k % 61 ELSE 0 END AS m2,
                 CASE k / 61 WHEN 3 THEN 1 << k % 61 ELSE 0 END AS m3, CASE k / 61 WHEN 4 THEN 1 << k % 61 ELSE 0 END AS m4,
                 CASE k / 61 WHEN 5 THEN 1 << k % 61 ELSE 0 END AS m5
          FROM (SELECT CAST(strftime('%Y', NEW.day * 86400, 'unixepoch') AS INTEGER) AS y,
                       CAST(strftime('%j', NEW.day * 86400, 'unixepoch') AS INTEGER) - 1 AS k)) AS b
    WHERE instrument_id = NEW.instrument_id AND year = b.y AND user_id = NEW.user_id AND payer_org_id = NEW.payer_org_id;
    -- The month's days are [a, e) of the year.
    UPDATE stats_users_year SET months = months & ~(1 << (b.m - 1))
    FROM (SELECT CAST(strftime('%Y', NEW.day * 86400, 'unixepoch') AS INTEGER) AS y,
                 CAST(strftime('%m', NEW.day * 86400, 'unixepoch') AS INTEGER) AS m,
                 CAST(strftime('%j', NEW.day * 86400, 'unixepoch', 'start of month') AS INTEGER) - 1 AS a,
                 CAST(strftime('%j', NEW.day * 86400, 'unixepoch', 'start of month', '+1 month', '-1 day') AS INTEGER)
                     AS e) AS b
    WHERE instrument_id = NEW.instrument_id AND year = b.y AND user_id = NEW.user_id AND payer_org_id = NEW.payer_org_id
      AND NOT ((d0 & CASE WHEN min(b.e, 61) > max(b.a, 0) THEN (1 << min(b.e, 61)) - (1 << max(b.a, 0)) ELSE 0 END) <> 0
        OR (d1 & CASE WHEN min(b.e, 122) > max(b.a, 61) THEN (1 << (min(b.e, 122) - 61)) - (1 << (max(b.a, 61) - 61)) ELSE 0 END) <> 0
        OR (d2 & CASE WHEN min(b.e, 183) > max(b.a, 122) THEN (1 << (min(b.e, 183) - 122)) - (1 << (max(b.a, 122) - 122)) ELSE 0 END) <> 0
        OR (d3 & CASE WHEN min(b.e, 244) > max(b.a, 183) THEN (1 << (min(b.e, 244) - 183)) - (1 << (max(b.a, 183) - 183)) ELSE 0 END) <> 0
        OR (d4 & CASE WHEN min(b.e, 305) > max(b.a, 244) THEN (1 << (min(b.e, 305) - 244)) - (1 << (max(b.a, 244) - 244)) ELSE 0 END) <> 0
        OR (d5 & CASE WHEN min(b.e, 366) > max(b.a, 305) THEN (1 << (min(b.e, 366) - 305)) - (1 << (max(b.a, 305) - 305)) ELSE 0 END) <> 0);
END;

-- What stats_users_day already holds.
INSERT INTO stats_users_year (instrument_id, year, user_id, payer_org_id, months, d0, d1, d2, d3, d4, d5)
SELECT instrument_id, y, user_id, payer_org_id, 0, sum(CASE k / 61 WHEN 0 THEN 1 << k % 61 ELSE 0 END),
       sum(CASE k / 61 WHEN 1 THEN 1 << k % 61 ELSE 0 END), sum(CASE k / 61 WHEN 2 THEN 1 << k % 61 ELSE 0 END),
       sum(CASE k / 61 WHEN 3 THEN 1 << k % 61 ELSE 0 END), sum(CASE k / 61 WHEN 4 THEN 1 << k % 61 ELSE 0 END),
       sum(CASE k / 61 WHEN 5 THEN 1 << k % 61 ELSE 0 END)
FROM (SELECT instrument_id, user_id, payer_org_id, CAST(strftime('%Y', day * 86400, 'unixepoch') AS INTEGER) AS y,
             CAST(strftime('%j', day * 86400, 'unixepoch') AS INTEGER) - 1 AS k
      FROM stats_users_day WHERE uses > 0)
GROUP BY 1, 2, 3, 4
ON CONFLICT DO UPDATE SET d0 = excluded.d0, d1 = excluded.d1, d2 = excluded.d2, d3 = excluded.d3, d4 = excluded.d4,
    d5 = excluded.d5;
