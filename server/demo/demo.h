/*
 * The demo world of `yiqi demo` (issue 4): deterministic from a fixed seed,
 * built in ONE transaction on an empty database.
 *
 *   yq_demo_world()    zones' institutions (data/demo_orgs.tsv) with valid
 *                      credit codes, lab groups with PIs, users of every
 *                      role, vouchers for the voucher-holding enterprises
 *                      (last year and this year, with their 'issue' events),
 *                      and ~1,500 instruments (data/demo_instruments.tsv)
 *                      with values, rates by tier, open hours and rules.
 *   yq_demo_history()  twelve months of bookings and usage records on that
 *                      world (server/demo/history.c).
 *
 * Contract for yq_demo_history: it runs inside the demo's open transaction
 * (do not BEGIN/COMMIT, do not use the group-commit batch); yq_db_main() is
 * the demo database; draw every random choice from rng so the world stays
 * deterministic; draw on the vouchers the world issued rather than issuing
 * new ones; return 0 or a negative code (the demo then rolls everything back).
 */
#ifndef YQ_DEMO_DEMO_H
#define YQ_DEMO_DEMO_H

#include <stdint.h>
#include <stdio.h>

#include "db/db.h"

/* splitmix64: small, fast, and the same sequence on every platform. */
typedef struct {
    uint64_t state;
} yq_rng_t;

static inline uint64_t yq_rng_next(yq_rng_t *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform integer in [lo, hi] (hi >= lo). */
static inline int64_t yq_rng_between(yq_rng_t *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(yq_rng_next(r) % (uint64_t)(hi - lo + 1));
}
/* 1 with probability percent / 100. */
static inline int yq_rng_chance(yq_rng_t *r, int percent) {
    return (int)(yq_rng_next(r) % 100) < percent;
}

#define YQ_DEMO_SEED 20261128ull

#define YQ_DEMO_SHOWN_MAX 16

/* What the world holds, for history and for the summary line. shown lists
 * the users whose logins are printed: a newcomer signs in as one of them and
 * must be able to book at once, so the history never bars them. */
typedef struct {
    int orgs, groups, users, instruments, vouchers;
    int64_t shown[YQ_DEMO_SHOWN_MAX];
    size_t n_shown;
} yq_demo_counts_t;

/* Builds the world into db (the caller holds the transaction). Prints the
 * demo logins to `logins`. Returns 0 or a negative code with the reason on
 * stderr. */
int yq_demo_world(yq_db_t *db, yq_rng_t *rng, FILE *logins, yq_demo_counts_t *counts);

/* Twelve months of bookings and usage (server/demo/history.c) on the world
 * yq_demo_world described in world. */
int yq_demo_history(yq_db_t *db, yq_rng_t *rng, const yq_demo_counts_t *world);

#endif
