-- CSV import (api/instrument_csv.c) of 5,000 new instruments held the event
-- loop for 0.6-0.8 s, 40% of it in FTS5: every INSERT into instruments ran
-- in a statement transaction (it has triggers), and FTS5 writes its pending
-- terms out as a new segment at every statement savepoint, so each row
-- became a segment of its own, merged again and again.
--
-- While search_deferred holds its row, the triggers leave instruments_fts
-- alone; the writer that set it (the import, inside its one transaction)
-- removes the old terms of the rows it will change before changing them,
-- adds the terms of every row it created or changed in one statement at the
-- end, and clears the row before COMMIT. instrument_search (plain rows) is
-- kept by its own trigger as before.
CREATE TABLE search_deferred (id INTEGER PRIMARY KEY CHECK (id = 1));

DROP TRIGGER instruments_fts_insert;
CREATE TRIGGER instruments_fts_insert AFTER INSERT ON instruments
WHEN NOT EXISTS (SELECT 1 FROM search_deferred)
BEGIN
    INSERT INTO instruments_fts (rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES (new.id, new.name_zh, new.name_en, new.model, new.manufacturer, new.functions);
END;
CREATE TRIGGER instruments_search_insert AFTER INSERT ON instruments BEGIN
    INSERT INTO instrument_search (id, owner_org_id, class_code, share_mode, run_status, retired, value_fen, name_zh, short)
    VALUES (new.id, new.owner_org_id, new.class_code, new.share_mode, new.run_status, new.retired_at IS NOT NULL,
            new.original_value_fen, new.name_zh,
            lower(new.name_zh || char(10) || new.name_en || char(10) || new.model || char(10) || new.manufacturer));
END;

DROP TRIGGER instruments_fts_update;
CREATE TRIGGER instruments_fts_update AFTER UPDATE OF name_zh, name_en, model, manufacturer, functions ON instruments
WHEN NOT EXISTS (SELECT 1 FROM search_deferred)
BEGIN
    INSERT INTO instruments_fts (instruments_fts, rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES ('delete', old.id, old.name_zh, old.name_en, old.model, old.manufacturer, old.functions);
    INSERT INTO instruments_fts (rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES (new.id, new.name_zh, new.name_en, new.model, new.manufacturer, new.functions);
END;
