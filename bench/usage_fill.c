/*
 * Fills a Yiqi database (made by `yiqi init`, with one institution, user and
 * instrument inserted by the caller) with N usage records that form a valid
 * hash chain, for the verification benchmark (bench/usage.mjs). The hashes
 * come from the server's own ledger code (domain/ledger.h, linked from
 * build/libyiqi.a); the rows go in with one prepared INSERT in one
 * transaction, like the demo's. Prints "filled N in S s".
 * Usage: usage_fill FILE N INSTRUMENT_ID ORG_ID USER_ID
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "domain/ledger.h"

static void must(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "usage_fill: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: usage_fill FILE N INSTRUMENT_ID ORG_ID USER_ID\n");
        return 2;
    }
    long n = atol(argv[2]);
    int64_t instrument = atoll(argv[3]), org = atoll(argv[4]), user = atoll(argv[5]);
    sqlite3 *db;
    must(sqlite3_open(argv[1], &db), db, "open");
    must(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; BEGIN", NULL,
                      NULL, NULL),
         db, "begin");
    sqlite3_stmt *ins;
    must(sqlite3_prepare_v2(db,
                            "INSERT INTO usage_records (id, instrument_id, provider_org_id, user_id, payer_org_id, "
                            "kind, start, end, minutes, samples, service_mode, source, recorded_by, period, tier, "
                            "price_unit, rate_fen, min_charge_fen, step_minutes, basis, booked_minutes, fee_fen, "
                            "voucher_fen, cash_fen, reason, created_at, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?3, "
                            "'original', ?5, ?6, ?7, 0, 'self_operated', 'agent', ?4, '2025-06', 'internal', 'hour', "
                            "10000, 0, 15, 'used', 0, ?8, 0, ?8, '', ?6, ?9, ?10)",
                            -1, &ins, NULL),
         db, "prepare");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char prev[YQ_LEDGER_HASH_HEX] = YQ_LEDGER_GENESIS, hash[YQ_LEDGER_HASH_HEX];
    int64_t base = 1748736000; /* 2025-06-01 08:00 +08:00 */
    for (long i = 1; i <= n; i++) {
        int64_t start = base + i * 600, minutes = 5 + i % 5, fee = (minutes + 14) / 15 * 15 * 10000 / 60;
        yq_usage_record_t r = {
            .id = i,
            .instrument_id = instrument,
            .provider_org_id = org,
            .user_id = user,
            .payer_org_id = org,
            .kind = "original",
            .start = start,
            .end = start + minutes * 60,
            .minutes = minutes,
            .service_mode = "self_operated",
            .source = "agent",
            .recorded_by = user,
            .period = "2025-06",
            .tier = "internal",
            .price_unit = "hour",
            .rate_fen = 10000,
            .step_minutes = 15,
            .basis = "used",
            .fee_fen = fee,
            .cash_fen = fee,
            .created_at = start + minutes * 60,
            .prev_hash = prev,
            .reason = "",
        };
        yq_ledger_hash(&r, hash);
        sqlite3_bind_int64(ins, 1, i);
        sqlite3_bind_int64(ins, 2, instrument);
        sqlite3_bind_int64(ins, 3, org);
        sqlite3_bind_int64(ins, 4, user);
        sqlite3_bind_int64(ins, 5, r.start);
        sqlite3_bind_int64(ins, 6, r.end);
        sqlite3_bind_int64(ins, 7, minutes);
        sqlite3_bind_int64(ins, 8, fee);
        sqlite3_bind_text(ins, 9, prev, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 10, hash, -1, SQLITE_TRANSIENT);
        must(sqlite3_step(ins), db, "insert");
        sqlite3_reset(ins);
        for (int k = 0; k < YQ_LEDGER_HASH_HEX; k++)
            prev[k] = hash[k];
    }
    must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("filled %ld in %.1f s\n", n, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
}
