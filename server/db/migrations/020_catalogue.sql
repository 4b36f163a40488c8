-- Catalogue search (issue 4). An FTS5 index with the trigram tokenizer over
-- the searchable text of each instrument: trigrams match any substring of
-- three or more characters, Chinese included, and fold case. External
-- content: the index stores no copy of the text.
--
-- The list's filters, sorts and facets read instrument_search: one narrow
-- row per instrument with the filter and sort columns and `short`, the
-- lower-cased names, model and manufacturer, in which words of one or two
-- characters (which trigrams cannot match) are found by a byte search
-- (instr). Scanning these small rows instead of the wide instruments rows
-- keeps a search over 20,000 instruments to a few milliseconds; the full row
-- is read only for the page shown.
--
-- The triggers below keep both in sync with the instruments table.
CREATE VIRTUAL TABLE instruments_fts USING fts5(
    name_zh, name_en, model, manufacturer, functions,
    content = 'instruments', content_rowid = 'id', tokenize = 'trigram'
);
-- Names weigh most in the ranking, then model, manufacturer, functions.
INSERT INTO instruments_fts (instruments_fts, rank) VALUES ('rank', 'bm25(10.0, 10.0, 4.0, 2.0, 1.0)');

CREATE TABLE instrument_search (
    id INTEGER PRIMARY KEY,                    -- = instruments.id
    owner_org_id INTEGER NOT NULL,
    class_code TEXT NOT NULL,
    share_mode TEXT NOT NULL,
    run_status TEXT NOT NULL,
    retired INTEGER NOT NULL,                  -- 1 when retired_at is set
    value_fen INTEGER NOT NULL,
    name_zh TEXT NOT NULL,
    short TEXT NOT NULL                        -- lower(name_zh \n name_en \n model \n manufacturer)
);

CREATE TRIGGER instruments_fts_insert AFTER INSERT ON instruments BEGIN
    INSERT INTO instruments_fts (rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES (new.id, new.name_zh, new.name_en, new.model, new.manufacturer, new.functions);
    INSERT INTO instrument_search (id, owner_org_id, class_code, share_mode, run_status, retired, value_fen, name_zh, short)
    VALUES (new.id, new.owner_org_id, new.class_code, new.share_mode, new.run_status, new.retired_at IS NOT NULL,
            new.original_value_fen, new.name_zh,
            lower(new.name_zh || char(10) || new.name_en || char(10) || new.model || char(10) || new.manufacturer));
END;
CREATE TRIGGER instruments_fts_delete AFTER DELETE ON instruments BEGIN
    INSERT INTO instruments_fts (instruments_fts, rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES ('delete', old.id, old.name_zh, old.name_en, old.model, old.manufacturer, old.functions);
    DELETE FROM instrument_search WHERE id = old.id;
END;
CREATE TRIGGER instruments_fts_update AFTER UPDATE OF name_zh, name_en, model, manufacturer, functions ON instruments
BEGIN
    INSERT INTO instruments_fts (instruments_fts, rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES ('delete', old.id, old.name_zh, old.name_en, old.model, old.manufacturer, old.functions);
    INSERT INTO instruments_fts (rowid, name_zh, name_en, model, manufacturer, functions)
    VALUES (new.id, new.name_zh, new.name_en, new.model, new.manufacturer, new.functions);
END;
CREATE TRIGGER instruments_search_update AFTER UPDATE ON instruments BEGIN
    UPDATE instrument_search
    SET owner_org_id = new.owner_org_id, class_code = new.class_code, share_mode = new.share_mode,
        run_status = new.run_status, retired = new.retired_at IS NOT NULL, value_fen = new.original_value_fen,
        name_zh = new.name_zh,
        short = lower(new.name_zh || char(10) || new.name_en || char(10) || new.model || char(10) || new.manufacturer)
    WHERE id = new.id;
END;
INSERT INTO instruments_fts (instruments_fts) VALUES ('rebuild');
INSERT INTO instrument_search (id, owner_org_id, class_code, share_mode, run_status, retired, value_fen, name_zh, short)
SELECT id, owner_org_id, class_code, share_mode, run_status, retired_at IS NOT NULL, original_value_fen, name_zh,
       lower(name_zh || char(10) || name_en || char(10) || model || char(10) || manufacturer)
FROM instruments;

CREATE INDEX instrument_search_owner ON instrument_search(owner_org_id);
CREATE INDEX instruments_owner ON instruments(owner_org_id);
