/*
 * WAL writes combined: a shim over SQLite's default VFS that turns the two
 * writes per WAL frame of a commit into one write per commit (the rules are
 * in wal_writes.c). Connections opened with the VFS named
 * YQ_WAL_WRITES_VFS use it; the database and its WAL stay ordinary SQLite
 * files that any other connection, tool or process reads as usual.
 */
#ifndef YQ_DB_WAL_WRITES_H
#define YQ_DB_WAL_WRITES_H

#include <sqlite3.h>

#define YQ_WAL_WRITES_VFS "yiqi-wal-writes"

/* Registers the VFS (not as the default) once; SQLITE_OK or an error. */
int yq_wal_writes_register(void);

#endif
