/*
 * The ceiling of one commit per booking: a bare SQLite loop (WAL,
 * synchronous=FULL), each booking its own transaction with an overlap check
 * and an insert, like a server without group commit would do. Prints
 * "bare_sqlite_commits_per_s N". Usage: bare_sqlite FILE SECONDS.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bare_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bare_sqlite FILE SECONDS\n");
        return 2;
    }
    sqlite3 *db;
    must(sqlite3_open(argv[1], &db), db, "open");
    must(sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      "CREATE TABLE IF NOT EXISTS bookings (id INTEGER PRIMARY KEY, instrument_id INTEGER NOT NULL,"
                      " start INTEGER NOT NULL, end INTEGER NOT NULL, user_id INTEGER NOT NULL, status TEXT NOT NULL);"
                      "CREATE INDEX IF NOT EXISTS b_end ON bookings(instrument_id, end);",
                      NULL, NULL, NULL),
         db, "schema");
    sqlite3_stmt *check, *ins, *begin, *commit;
    must(sqlite3_prepare_v2(db,
                            "SELECT 1 FROM bookings WHERE instrument_id = ?1 AND end > ?2 AND start < ?3 "
                            "AND status IN ('pending','confirmed','in_use') LIMIT 1",
                            -1, &check, NULL),
         db, "prep");
    must(sqlite3_prepare_v2(db,
                            "INSERT INTO bookings (instrument_id, start, end, user_id, status) "
                            "VALUES (?1, ?2, ?3, 1, 'confirmed')",
                            -1, &ins, NULL),
         db, "prep");
    must(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL), db, "prep");
    must(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), db, "prep");
    double secs = atof(argv[2]), t0 = now_s();
    long n = 0;
    srand(42);
    while (now_s() - t0 < secs) {
        int instrument = rand() % 1000;
        long start = 1800L * (rand() % 100000);
        must(sqlite3_step(begin), db, "begin");
        sqlite3_reset(begin);
        sqlite3_bind_int(check, 1, instrument);
        sqlite3_bind_int64(check, 2, start);
        sqlite3_bind_int64(check, 3, start + 3600);
        int taken = sqlite3_step(check) == SQLITE_ROW;
        sqlite3_reset(check);
        if (!taken) {
            sqlite3_bind_int(ins, 1, instrument);
            sqlite3_bind_int64(ins, 2, start);
            sqlite3_bind_int64(ins, 3, start + 3600);
            must(sqlite3_step(ins), db, "insert");
            sqlite3_reset(ins);
        }
        must(sqlite3_step(commit), db, "commit");
        sqlite3_reset(commit);
        n++;
    }
    printf("bare_sqlite_commits_per_s %.0f\n", n / (now_s() - t0));
    sqlite3_close(db);
    return 0;
}
