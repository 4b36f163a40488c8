-- The catalogue exports (server/api/instrument_csv.c) keep their rendered
-- bytes and serve them again until catalogue_version (migration 021) changes.
-- An exported instrument also shows its institution's code and names and its
-- zone's code and names, so a change to one of those renews the version too;
-- migration 021 already covers every change to an instrument and to an
-- institution's zone.
--
-- A database made before migration 021 existed and already past version 30
-- never ran it (migrations run by number): the table and its triggers are
-- made here when missing, so that every database from this version on has a
-- catalogue version and no trigger below refers to a missing table.
CREATE TABLE IF NOT EXISTS catalogue_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v INTEGER NOT NULL
);
INSERT OR IGNORE INTO catalogue_version (id, v) VALUES (1, random());
CREATE TRIGGER IF NOT EXISTS catalogue_version_insert AFTER INSERT ON instrument_search BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS catalogue_version_update AFTER UPDATE ON instrument_search BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS catalogue_version_delete AFTER DELETE ON instrument_search BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS catalogue_version_org_zone AFTER UPDATE OF zone_id ON orgs BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;

CREATE TRIGGER catalogue_version_org_names AFTER UPDATE OF code, name_zh, name_en ON orgs
WHEN old.code IS NOT new.code OR old.name_zh IS NOT new.name_zh OR old.name_en IS NOT new.name_en BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER catalogue_version_zone_names AFTER UPDATE OF code, name_zh, name_en ON zones
WHEN old.code IS NOT new.code OR old.name_zh IS NOT new.name_zh OR old.name_en IS NOT new.name_en BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
