-- Usage records and vouchers (issue 6): the storage-level half of the
-- append-only, hash-chained ledger (the chain itself is domain/ledger.h),
-- and the indexes the usage API reads by.

-- Usage records are never changed or removed: a wrong record is corrected by
-- new records (a reversal and a correction) that point at it. The server has
-- no UPDATE or DELETE statement for them, and these triggers refuse one from
-- anywhere else that goes through SQLite's ordinary write path. (Someone who
-- can edit the file can also drop a trigger; the hash chain and a checkpoint
-- kept outside the database catch that.)
CREATE TRIGGER usage_records_no_update BEFORE UPDATE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'usage records are append-only');
END;
CREATE TRIGGER usage_records_no_delete BEFORE DELETE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'usage records are append-only');
END;

-- The chain itself is kept by its one writer: every append reads the head
-- and inserts the next record inside the same BEGIN IMMEDIATE transaction
-- (the group commit of db/batch.h in the server, the demo's transaction in
-- `yiqi demo`), and SQLite admits one such transaction at a time, whichever
-- process holds it. No trigger checks the link on insert: a trigger that can
-- RAISE makes SQLite keep a statement journal for every insert, which
-- doubled the cost of writing a year of demo records; verification
-- (GET /api/v1/usage/verify) finds any broken link instead.

-- Voucher events are the voucher's history: append-only too.
CREATE TRIGGER voucher_events_no_update BEFORE UPDATE ON voucher_events
BEGIN
    SELECT RAISE(ABORT, 'voucher events are append-only');
END;
CREATE TRIGGER voucher_events_no_delete BEFORE DELETE ON voucher_events
BEGIN
    SELECT RAISE(ABORT, 'voucher events are append-only');
END;

-- An event states the balance its voucher has after it: written after the
-- balance changed, in the same transaction, it must match.
CREATE TRIGGER voucher_events_balance BEFORE INSERT ON voucher_events
BEGIN
    SELECT RAISE(ABORT, 'voucher_balance')
    WHERE NEW.balance_fen IS NOT (SELECT balance_fen FROM vouchers WHERE id = NEW.voucher_id);
END;

-- A balance never exceeds what was issued (the CHECK of migration 001 keeps
-- it from going below zero).
CREATE TRIGGER vouchers_balance_bounded BEFORE UPDATE OF balance_fen, amount_fen ON vouchers
WHEN NEW.balance_fen > NEW.amount_fen
BEGIN
    SELECT RAISE(ABORT, 'voucher_balance');
END;

-- The overlap check. Live records of one instrument never overlap, so
-- ordered by start they are ordered by end too, and the only one a new
-- interval [s, e) can overlap is the live record with the greatest
-- (start, end) that starts before e: one index step back from e, however
-- long the instrument's history and in whatever order records are entered
-- (back-dated ones included). This index replaces usage_instrument_start of
-- migration 001, whose queries it serves as well.
DROP INDEX usage_instrument_start;
CREATE INDEX usage_instrument_span ON usage_records(instrument_id, start, end);

-- The corrections of a record, and the records of a booking.
CREATE INDEX usage_corrects ON usage_records(corrects_id) WHERE corrects_id IS NOT NULL;
CREATE INDEX usage_booking ON usage_records(booking_id) WHERE booking_id IS NOT NULL;
