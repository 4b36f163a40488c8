-- Statistics benchmark data (bench/stats.sh): a year of a large sharing list,
-- written straight into a database made by `yiqi init`, through the real
-- schema and its triggers (so the statistics rollups of migration 060 are
-- kept exactly as the server keeps them). bench/stats.mjs replaces the
-- parameters before running it with the sqlite3 shell:
--   @Y0@     UTC instant of the local midnight starting the year
--   @DAYS@   days in the year
--   @N@      original usage records (1,000,000)
--   @CHUNK@  records per usage statement
--
-- The world: 200 institutions alternating between the two zones, 6,000 users
-- (30 per institution), 1,500 instruments owned by 60 of the institutions
-- (a quarter specialised; every 50th awaiting repair), 3,000 maintenance
-- blocks. Usage: instruments drawn with a triangular skew (low ids busy, high
-- ids nearly idle), 08:00-20:00 local starts, 30 minutes to 5 hours; 60% of
-- the users from the owner institution, the rest from a pool of 60 users of
-- other institutions per instrument; every 50th record voided later (a
-- reversal). Bookings: one completed booking per record, plus cancelled,
-- no-show and rejected ones (about 17% more).
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -500000;
PRAGMA temp_store = MEMORY;
BEGIN;

INSERT INTO orgs (id, code, name_zh, name_en, kind, zone_id, credit_code)
SELECT value, 'B' || value, '基准单位' || value, 'Bench institution ' || value,
       CASE value % 3 WHEN 0 THEN 'enterprise' WHEN 1 THEN 'university' ELSE 'institute' END,
       1 + value % 2, 'BENCH' || value
FROM generate_series(1, 200);

INSERT INTO users (id, login, name, org_id, roles, password_hash)
SELECT value, 'bu' || value, '用户' || value, ((value - 1) % 200) + 1, 1, 'x' FROM generate_series(1, 6000);

WITH cls(k, code) AS (VALUES (0, '010101'), (1, '010204'), (2, '010304'), (3, '010405'), (4, '010503'), (5, '010702'),
                             (6, '010805'), (7, '010903'), (8, '011003'), (9, '011010'), (10, '011104'), (11, '011203'),
                             (12, '011210'), (13, '020107'), (14, '020303'), (15, '020503'), (16, '030103'),
                             (17, '030402'), (18, '040106'), (19, '040303'))
INSERT INTO instruments (id, owner_org_id, asset_no, name_zh, name_en, model, manufacturer, class_code, category_type,
                         share_mode, run_status, original_value_fen, open_hours, purchase_date)
SELECT value, ((value - 1) % 60) + 1, 'BA-' || value, '基准仪器' || value, 'Bench instrument ' || value, 'M-' || value,
       'Maker', (SELECT code FROM cls WHERE k = value % 20),
       CASE WHEN value % 4 = 0 THEN 'specialised' ELSE 'general' END, 'external',
       CASE WHEN value % 50 = 0 THEN 'awaiting_repair' ELSE 'normal' END, 50000000 + value * 10000, '[]', '2020-01-01'
FROM generate_series(1, 1500);

-- (MATERIALIZED: a flattened subquery would call random() once per use of its column.)
WITH b AS MATERIALIZED (SELECT @Y0@ + abs(random()) % (@DAYS@ * 86400) AS s FROM generate_series(1, 3000))
INSERT INTO blocks (instrument_id, start, end, reason)
SELECT 1 + abs(random()) % 1500, s, s + 14400 + abs(random()) % 259200, '年度保养' FROM b;

-- Usage, in ten statements (bounded statement journals): stats.mjs repeats
-- the statement between the CHUNK marks ten times.
-- CHUNK BEGIN
WITH g AS MATERIALIZED (
    SELECT 1 + min(abs(random()) % 1500, abs(random()) % 1500) AS i, abs(random()) AS r1, abs(random()) AS r2,
           abs(random()) AS r3
    FROM generate_series(1, @CHUNK@)),
h AS MATERIALIZED (
    SELECT i, ((i - 1) % 60) + 1 AS owner, @Y0@ + (r1 % @DAYS@) * 86400 + 28800 + r2 % 43200 AS s, 30 + r3 % 270 AS m,
           CASE WHEN r3 % 10 < 6 THEN ((i - 1) % 60) + 200 * (r2 % 30) + 1 ELSE (i * 131 + r2 % 60) % 6000 + 1 END AS u,
           r2 % 5 AS samples
    FROM g),
p AS MATERIALIZED (SELECT *, ((u - 1) % 200) + 1 AS payer FROM h)
INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, start, end, minutes, samples,
                           source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, fee_fen,
                           cash_fen, created_at, prev_hash, hash)
SELECT i, owner, u, payer, 'original', s, s + m * 60, m, samples, 'manual', strftime('%Y-%m', s + 28800, 'unixepoch'),
       CASE WHEN payer = owner THEN 'internal' WHEN payer % 2 = owner % 2 THEN 'zone' ELSE 'cross_zone' END,
       'hour', 20000, 0, 15, 'used', m * 20000 / 60, m * 20000 / 60, s + m * 60, '', ''
FROM p;
-- CHUNK END

INSERT INTO usage_records (instrument_id, provider_org_id, user_id, payer_org_id, kind, corrects_id, start, end, minutes,
                           samples, source, period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis,
                           fee_fen, cash_fen, created_at, prev_hash, hash)
SELECT instrument_id, provider_org_id, user_id, payer_org_id, 'reversal', id, start, end, -minutes, -samples,
       'correction', period, tier, price_unit, rate_fen, min_charge_fen, step_minutes, basis, -fee_fen, -cash_fen,
       created_at + 86400, '', ''
FROM usage_records WHERE id % 50 = 0;

INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status, created_at, updated_at)
SELECT instrument_id, user_id, payer_org_id, start, end, 'completed', start - 86400, end
FROM usage_records WHERE kind = 'original';

WITH x AS MATERIALIZED (
    SELECT 1 + min(abs(random()) % 1500, abs(random()) % 1500) AS i, 1 + abs(random()) % 6000 AS u,
           @Y0@ + abs(random()) % (@DAYS@ * 86400) AS s, abs(random()) AS r
    FROM generate_series(1, @N@ * 17 / 100))
INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status, created_at, updated_at)
SELECT i, u, ((u - 1) % 200) + 1, s, s + 7200, CASE WHEN r % 17 < 10 THEN 'cancelled' WHEN r % 17 < 14 THEN 'no_show'
       ELSE 'rejected' END, s - 86400, s
FROM x;

COMMIT;
PRAGMA journal_mode = WAL;
