-- Usage sums per year (issue 8), so a range's totals need few rows.
--
-- Per-instrument figures, flows and summaries by zone, institution or class
-- need a range's sums, not its months. Migration 060 reads them as month
-- rows plus day rows at the edges: on a 365-day range some 80,000 rows for
-- 1,500 instruments (a month of day rows alone is 45,000). Sums can be
-- subtracted, so with a row per instrument, payer zone and year a range can
-- also be read as a year less what lies outside it: the last 365 days are
-- last year's tail plus this year, less the rest of this year, which holds
-- no usage yet. api/stats_store.c (yq_st_usage_totals) picks, for each year
-- and partial month of the range, whichever way reads fewer rows.
--
-- Same keys and sums as stats_usage_month (year = month / 100). The
-- triggers below add each change of a month row to its year's row; they
-- fire when the deltas are folded into the month rows (api/stats_fold.c),
-- once per month row a fold touches, never on the insert of a usage
-- record itself. The verification (yq_st_verify) and the rebuild
-- (yq_st_rebuild) recompute the table from the records.
CREATE TABLE stats_usage_year (
    year INTEGER NOT NULL,
    instrument_id INTEGER NOT NULL,
    payer_zone_id INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    external_minutes INTEGER NOT NULL,
    cross_zone_minutes INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    fee_fen INTEGER NOT NULL,
    PRIMARY KEY (year, instrument_id, payer_zone_id)
) WITHOUT ROWID;

CREATE TRIGGER stats_usage_month_insert AFTER INSERT ON stats_usage_month
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    INSERT INTO stats_usage_year (year, instrument_id, payer_zone_id, uses, minutes, external_minutes,
                                  cross_zone_minutes, samples, fee_fen)
    VALUES (NEW.month / 100, NEW.instrument_id, NEW.payer_zone_id, NEW.uses, NEW.minutes, NEW.external_minutes,
            NEW.cross_zone_minutes, NEW.samples, NEW.fee_fen)
    ON CONFLICT DO UPDATE SET uses = uses + excluded.uses, minutes = minutes + excluded.minutes,
        external_minutes = external_minutes + excluded.external_minutes,
        cross_zone_minutes = cross_zone_minutes + excluded.cross_zone_minutes,
        samples = samples + excluded.samples, fee_fen = fee_fen + excluded.fee_fen;
END;

-- (The DO UPDATE of the fold's upsert fires UPDATE triggers.)
CREATE TRIGGER stats_usage_month_update AFTER UPDATE ON stats_usage_month
WHEN NOT EXISTS (SELECT 1 FROM stats_deferred)
BEGIN
    UPDATE stats_usage_year
    SET uses = uses + NEW.uses - OLD.uses, minutes = minutes + NEW.minutes - OLD.minutes,
        external_minutes = external_minutes + NEW.external_minutes - OLD.external_minutes,
        cross_zone_minutes = cross_zone_minutes + NEW.cross_zone_minutes - OLD.cross_zone_minutes,
        samples = samples + NEW.samples - OLD.samples, fee_fen = fee_fen + NEW.fee_fen - OLD.fee_fen
    WHERE year = NEW.month / 100 AND instrument_id = NEW.instrument_id AND payer_zone_id = NEW.payer_zone_id;
END;

-- What stats_usage_month already holds.
INSERT INTO stats_usage_year (year, instrument_id, payer_zone_id, uses, minutes, external_minutes, cross_zone_minutes,
                              samples, fee_fen)
SELECT month / 100, instrument_id, payer_zone_id, sum(uses), sum(minutes), sum(external_minutes),
       sum(cross_zone_minutes), sum(samples), sum(fee_fen)
FROM stats_usage_month
GROUP BY 1, 2, 3;
