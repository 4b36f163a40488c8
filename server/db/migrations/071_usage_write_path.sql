-- Usage throughput (issue 6): the same change as migration 070 for the usage
-- rollups. The trigger on usage_records updated four rollup rows per record
-- (stats_usage_day, stats_usage_month, stats_users_month and, through it,
-- stats_users_year, and stats_users_day), each in a random place, so each
-- record dirtied four or five B-tree pages. It now appends one row to
-- stats_usage_delta; api/stats_fold.c folds the deltas into the rollups in
-- one grouped pass every 200 ms and before any read of them. The folded
-- upserts of stats_users_month fire its triggers as before, so
-- stats_users_year follows.
--
-- Measured through the server (bench/usage.sh's load, 32 clients): about
-- 28% of the loop's time per record went to that trigger.
CREATE TABLE stats_usage_delta (
    id INTEGER PRIMARY KEY,
    day INTEGER NOT NULL,            -- local day number, (start + 28800) / 86400
    instrument_id INTEGER NOT NULL,
    payer_zone_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    payer_org_id INTEGER NOT NULL,
    uses INTEGER NOT NULL,           -- +1, or -1 for a reversal
    minutes INTEGER NOT NULL,
    external_minutes INTEGER NOT NULL,
    cross_zone_minutes INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    fee_fen INTEGER NOT NULL
);

DROP TRIGGER stats_usage_insert;

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

-- usage_user (user, start) and usage_payer (payer, start) cost each record two
-- more random pages and served no query: the list and summaries filter by
-- user and payer through optional parameters ("?3 = 0 OR u.user_id = ?3"),
-- which SQLite plans over usage_start or the rowid instead. The summaries of
-- one's own or one's group's records (the usage page) do read by user or
-- group, through a plain equality (api/usage.c); indexes on the id alone keep
-- each user's and group's new records at the end of its range.
DROP INDEX IF EXISTS usage_user;
DROP INDEX IF EXISTS usage_payer;
CREATE INDEX usage_user ON usage_records(user_id);
CREATE INDEX usage_group ON usage_records(group_id) WHERE group_id IS NOT NULL;
