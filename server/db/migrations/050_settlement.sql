-- Monthly settlement (issue 7; DOMAIN.md "Monthly settlement"). Migration 001
-- made settlements and settlement_lines; a statement also keeps, as built,
-- the zones of each line, the zone flows and nets, the net positions and the
-- totals, so a closed statement reads back exactly as it was closed even if
-- an institution later moves to another zone.

ALTER TABLE settlements ADD COLUMN built_by INTEGER REFERENCES users(id);
ALTER TABLE settlements ADD COLUMN records INTEGER NOT NULL DEFAULT 0;      -- usage records of the period
ALTER TABLE settlements ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN fee_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN voucher_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN cash_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN voucher_fund_net_fen INTEGER NOT NULL DEFAULT 0;

ALTER TABLE settlement_lines ADD COLUMN provider_zone_id INTEGER REFERENCES zones(id);
ALTER TABLE settlement_lines ADD COLUMN payer_zone_id INTEGER REFERENCES zones(id);

-- Fee flowing from the payer's zone to the provider's, same-zone pairs included.
CREATE TABLE settlement_flows (
    period TEXT NOT NULL REFERENCES settlements(period),
    from_zone_id INTEGER NOT NULL REFERENCES zones(id),
    to_zone_id INTEGER NOT NULL REFERENCES zones(id),
    fee_fen INTEGER NOT NULL,
    PRIMARY KEY (period, from_zone_id, to_zone_id)
) WITHOUT ROWID;

-- Per unordered pair of different zones (a < b): net > 0 when a pays b.
CREATE TABLE settlement_zone_net (
    period TEXT NOT NULL REFERENCES settlements(period),
    zone_a_id INTEGER NOT NULL REFERENCES zones(id),
    zone_b_id INTEGER NOT NULL REFERENCES zones(id),
    net_fen INTEGER NOT NULL,
    PRIMARY KEY (period, zone_a_id, zone_b_id)
) WITHOUT ROWID;

-- Multilateral netting: per institution, fees receivable as provider minus
-- cash payable as payer (> 0: receives). The voucher fund's position is
-- settlements.voucher_fund_net_fen.
CREATE TABLE settlement_net (
    period TEXT NOT NULL REFERENCES settlements(period),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    net_fen INTEGER NOT NULL,
    PRIMARY KEY (period, org_id)
) WITHOUT ROWID;

-- A closed period is immutable: the server never writes one, and these
-- triggers refuse any write to a closed statement that goes through
-- SQLite's ordinary write path.
CREATE TRIGGER settlements_closed_no_update BEFORE UPDATE ON settlements
WHEN OLD.status = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlements_closed_no_delete BEFORE DELETE ON settlements
WHEN OLD.status = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;

CREATE TRIGGER settlement_lines_closed_no_insert BEFORE INSERT ON settlement_lines
WHEN (SELECT status FROM settlements WHERE period = NEW.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_lines_closed_no_update BEFORE UPDATE ON settlement_lines
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_lines_closed_no_delete BEFORE DELETE ON settlement_lines
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;

CREATE TRIGGER settlement_flows_closed_no_insert BEFORE INSERT ON settlement_flows
WHEN (SELECT status FROM settlements WHERE period = NEW.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_flows_closed_no_update BEFORE UPDATE ON settlement_flows
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_flows_closed_no_delete BEFORE DELETE ON settlement_flows
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;

CREATE TRIGGER settlement_zone_net_closed_no_insert BEFORE INSERT ON settlement_zone_net
WHEN (SELECT status FROM settlements WHERE period = NEW.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_zone_net_closed_no_update BEFORE UPDATE ON settlement_zone_net
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_zone_net_closed_no_delete BEFORE DELETE ON settlement_zone_net
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;

CREATE TRIGGER settlement_net_closed_no_insert BEFORE INSERT ON settlement_net
WHEN (SELECT status FROM settlements WHERE period = NEW.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_net_closed_no_update BEFORE UPDATE ON settlement_net
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;
CREATE TRIGGER settlement_net_closed_no_delete BEFORE DELETE ON settlement_net
WHEN (SELECT status FROM settlements WHERE period = OLD.period) = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'period_closed');
END;

-- Lines by institution (operators read the lines where theirs is provider or payer).
CREATE INDEX settlement_lines_provider ON settlement_lines(provider_org_id, period);
CREATE INDEX settlement_lines_payer ON settlement_lines(payer_org_id, period);
