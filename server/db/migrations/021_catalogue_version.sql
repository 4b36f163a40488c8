-- Catalogue copies in memory (issues 4 and 5). The server keeps the narrow
-- instrument_search rows of migration 020 in memory and scans them there
-- (server/api/instrument_search.c), and keeps the instruments that bookings
-- load (server/api/bookings_store.c); it reads this one-row version before
-- using a copy and drops the copy when the version differs from the one it
-- loaded with.
--
-- Every change to instrument_search (the triggers of migration 020 keep it in
-- step with every change to instruments, whichever connection or process
-- writes) and every change of an institution's zone sets a new random version.
-- Random rather than v + 1: a version set by a transaction that is rolled back
-- can never come back for different rows.
CREATE TABLE catalogue_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v INTEGER NOT NULL
);
INSERT INTO catalogue_version (id, v) VALUES (1, random());

CREATE TRIGGER catalogue_version_insert AFTER INSERT ON instrument_search BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER catalogue_version_update AFTER UPDATE ON instrument_search BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER catalogue_version_delete AFTER DELETE ON instrument_search BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
CREATE TRIGGER catalogue_version_org_zone AFTER UPDATE OF zone_id ON orgs BEGIN
    UPDATE catalogue_version SET v = random() WHERE id = 1;
END;
