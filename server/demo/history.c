/*
 * Twelve months of demo history on the demo world (demo.h): bookings that
 * follow every rule (open hours, slot step, length, one researcher of a
 * group that may book the instrument, no overlap: the storage trigger
 * refuses one, and the draw is then skipped), in the states a real year
 * leaves behind: completed, cancelled (by users and for maintenance),
 * rejected, no-shows, and upcoming confirmed or pending ones for the next
 * two weeks. Instruments differ in demand, so some are busy and some idle.
 *
 * Usage records (issue 6) are added per completed booking in
 * on_completed() below, which is the one place for them.
 *
 * Runs inside the demo's transaction on yq_db_main(); every random choice
 * comes from rng.
 */

/* Until the pure domain layer (domain/fees.h) is in the tree this file
 * builds to an empty stand-in, so the rest of the server still builds.
 * TEMPORARY: remove this guard once those headers land. */
#include <stdlib.h>
#include <string.h>

#include "api/bookings_store.h"
#include "api/stats_store.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "demo/demo.h"
#include "demo/usage_history.h"
#include "domain/fees.h"

#define WEEKS_PAST 52
#define WEEKS_AHEAD 2

typedef struct {
    int64_t id, group_id, org_id, zone_id;
} booker_t;

typedef struct {
    booker_t *all;
    size_t n;
} bookers_t;

typedef struct {
    int64_t id, instrument_id, user_id, group_id, payer_org_id, start, end, fee;
    const char *status;
} demo_booking_t;

/* Usage records of a completed booking: remembered here (drawing their
 * random choices from rng) and written in time order by
 * yq_demo_usage_write() at the end (demo/usage_history.h). A completed
 * booking that overlaps an earlier completed one (the storage trigger only
 * guards live bookings) is refused with YQ_DB_CONSTRAINT and skipped. */
static int on_completed(yq_db_t *db, yq_rng_t *rng, const demo_booking_t *b) {
    (void)db;
    return yq_demo_usage_add(rng, b->id, b->instrument_id, b->user_id, b->group_id, b->payer_org_id, b->start, b->end);
}

static int load_bookers(yq_db_t *db, bookers_t *out) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT u.id, u.group_id, g.org_id, o.zone_id FROM users u "
                                      "JOIN lab_groups g ON g.id = u.group_id JOIN orgs o ON o.id = g.org_id "
                                      "WHERE u.disabled = 0 AND (u.roles & 3) <> 0 ORDER BY u.id");
    size_t cap = 256;
    out->all = malloc(cap * sizeof *out->all);
    out->n = 0;
    while (out->all && yq_db_step(db, st) == 1) {
        if (out->n == cap)
            out->all = realloc(out->all, (cap *= 2) * sizeof *out->all);
        if (!out->all)
            break;
        booker_t *b = &out->all[out->n++];
        b->id = sqlite3_column_int64(st, 0);
        b->group_id = sqlite3_column_int64(st, 1);
        b->org_id = sqlite3_column_int64(st, 2);
        b->zone_id = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return out->all && out->n ? 0 : -1;
}

/* A booker allowed on the instrument (own institution for internal ones),
 * mostly from the owner's zone, sometimes from the other. */
static const booker_t *pick_booker(yq_rng_t *rng, const bookers_t *bs, const yq_bk_instrument_t *ins) {
    int internal = strcmp(ins->in.share_mode, "internal") == 0;
    int want_home = yq_rng_chance(rng, 70);
    for (int tries = 0; tries < 40; tries++) {
        const booker_t *b = &bs->all[yq_rng_between(rng, 0, (int64_t)bs->n - 1)];
        if (internal && b->org_id != ins->in.owner_org_id)
            continue;
        if (!internal && want_home && tries < 30 && b->zone_id != ins->owner_zone_id)
            continue;
        return b;
    }
    return NULL;
}

/* Draws a rule-abiding interval in the week starting at local midnight
 * `week` (a Monday); returns 0 or -1 when the instrument has no hours. */
static int draw_interval(yq_rng_t *rng, const yq_instrument_t *in, int64_t week, int64_t *start, int64_t *end) {
    if (!in->n_open_hours || in->slot_minutes <= 0)
        return -1;
    const yq_open_span_t *sp = &in->open_hours[yq_rng_between(rng, 0, (int64_t)in->n_open_hours - 1)];
    int64_t slot = in->slot_minutes;
    int64_t first = (sp->from + slot - 1) / slot * slot, last_end = sp->to / slot * slot;
    int64_t min_len = (in->min_minutes + slot - 1) / slot * slot;
    if (min_len < slot)
        min_len = slot;
    if (last_end - first < min_len)
        return -1;
    int64_t max_len = in->max_minutes < last_end - first ? in->max_minutes / slot * slot : last_end - first;
    if (max_len < min_len)
        max_len = min_len;
    int64_t len = min_len + yq_rng_between(rng, 0, (max_len - min_len) / slot) * slot;
    if (len > 240 && yq_rng_chance(rng, 70) && 120 / slot * slot >= min_len)
        len = 120 / slot * slot; /* most sessions are short */
    int64_t s = first + yq_rng_between(rng, 0, (last_end - len - first) / slot) * slot;
    int64_t day = week + (int64_t)(sp->weekday - 1) * 86400;
    *start = day + s * 60;
    *end = *start + len * 60;
    return 0;
}

static const char *past_status(yq_rng_t *rng) {
    int64_t r = yq_rng_between(rng, 1, 100);
    return r <= 84 ? "completed" : r <= 93 ? "cancelled" : r <= 97 ? "no_show" : "rejected";
}

static int add_event(yq_db_t *db, int64_t id, int64_t at, int64_t actor, const char *from, const char *to) {
    sqlite3_stmt *st = yq_db_stmt(db, "INSERT INTO booking_events (booking_id, at, actor_user_id, from_status, "
                                      "to_status) VALUES (?1, ?2, ?3, ?4, ?5)");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    if (actor)
        sqlite3_bind_int64(st, 3, actor);
    if (from)
        sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, to, -1, SQLITE_STATIC);
    int rc = yq_db_step(db, st);
    return rc < 0 ? rc : 0;
}

static int insert_booking(yq_db_t *db, demo_booking_t *b, int64_t now) {
    sqlite3_stmt *st = yq_db_stmt(
        db, "INSERT INTO bookings (instrument_id, user_id, group_id, payer_org_id, start, end, purpose, status, "
            "fee_estimate_fen, checkin_at, checkout_at, reason, created_at, updated_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    int done = strcmp(b->status, "completed") == 0;
    int cancelled = strcmp(b->status, "cancelled") == 0;
    sqlite3_bind_int64(st, 1, b->instrument_id);
    sqlite3_bind_int64(st, 2, b->user_id);
    sqlite3_bind_int64(st, 3, b->group_id);
    sqlite3_bind_int64(st, 4, b->payer_org_id);
    sqlite3_bind_int64(st, 5, b->start);
    sqlite3_bind_int64(st, 6, b->end);
    sqlite3_bind_text(st, 7, b->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, b->fee);
    if (done) {
        sqlite3_bind_int64(st, 9, b->start);
        sqlite3_bind_int64(st, 10, b->end);
    }
    sqlite3_bind_text(st, 11, cancelled ? "计划变更 change of plans" : "", -1, SQLITE_STATIC);
    int64_t created = b->start - 3 * 86400 < now ? b->start - 3 * 86400 : now - 3600;
    sqlite3_bind_int64(st, 12, created);
    sqlite3_bind_int64(st, 13, b->end < now ? b->end : created);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    b->id = yq_db_last_id(db);
    /* Made, then (for a past booking) what became of it. */
    int direct = strcmp(b->status, "confirmed") == 0 || strcmp(b->status, "pending") == 0;
    rc = add_event(db, b->id, created, b->user_id, NULL, direct ? b->status : "confirmed");
    if (rc == 0 && !direct)
        rc = add_event(db, b->id, done ? b->end : b->start - 86400, strcmp(b->status, "no_show") ? b->user_id : 0,
                       "confirmed", b->status);
    return rc;
}

/* An instrument that takes bookings, with its demand level. */
typedef struct {
    yq_bk_instrument_t ins;
    int per_week;
} demand_t;

/* One instrument's draws for the week starting at `week`. */
static int instrument_week(yq_db_t *db, yq_rng_t *rng, const bookers_t *bs, const demand_t *d, int64_t week,
                           int64_t now) {
    const yq_bk_instrument_t *ins = &d->ins;
    int rc = 0;
    for (int k = 0; k < d->per_week && rc == 0; k++) {
        demo_booking_t b = {.instrument_id = ins->in.id};
        const booker_t *who = pick_booker(rng, bs, ins);
        if (!who || draw_interval(rng, &ins->in, week, &b.start, &b.end))
            continue;
        int future = b.start > now;
        if (b.end > now && !future)
            continue; /* nothing in flight right now */
        b.user_id = who->id;
        b.group_id = who->group_id;
        b.payer_org_id = who->org_id;
        b.status =
            future ? (ins->in.requires_approval && yq_rng_chance(rng, 40) ? "pending" : "confirmed") : past_status(rng);
        yq_tier_t tier = yq_fee_tier(ins->in.owner_org_id, ins->owner_zone_id, who->org_id, who->zone_id);
        b.fee = yq_fee_estimate(&ins->in, tier, b.end - b.start);
        yq_db_exec(db, "SAVEPOINT demo_booking");
        rc = insert_booking(db, &b, now);
        if (rc == 0 && strcmp(b.status, "completed") == 0)
            rc = on_completed(db, rng, &b);
        if (rc == YQ_DB_CONSTRAINT) { /* overlaps an earlier draw: skip it */
            yq_db_exec(db, "ROLLBACK TO demo_booking");
            rc = 0;
        }
        yq_db_exec(db, "RELEASE demo_booking");
    }
    return rc;
}

/* The bookable instruments (not retired, shared), each with a demand level
 * drawn once: most take 2-7 bookings a week, one in five 0-1. */
static demand_t *load_demand(yq_db_t *db, yq_rng_t *rng, yq_arena_t *a, size_t *n_out) {
    sqlite3_stmt *st = yq_db_stmt(db, "SELECT id FROM instruments ORDER BY id");
    size_t n = 0, cap = 1024;
    demand_t *d = malloc(cap * sizeof *d);
    while (d && yq_db_step(db, st) == 1) {
        if (n == cap) {
            demand_t *more = realloc(d, (cap *= 2) * sizeof *d);
            if (!more) {
                free(d);
                d = NULL;
                break;
            }
            d = more;
        }
        if (yq_bk_instrument_load(sqlite3_column_int64(st, 0), a, &d[n].ins) || d[n].ins.retired ||
            strcmp(d[n].ins.in.share_mode, "none") == 0)
            continue;
        d[n].per_week = yq_rng_chance(rng, 20) ? (int)yq_rng_between(rng, 0, 1) : (int)yq_rng_between(rng, 2, 7);
        n++;
    }
    sqlite3_reset(st);
    *n_out = n;
    return d;
}

int yq_demo_history(yq_db_t *db, yq_rng_t *rng) {
    bookers_t bs = {0};
    if (load_bookers(db, &bs)) {
        free(bs.all);
        yq_log_warn("demo history: no researchers with a lab group; no bookings made");
        return 0;
    }
    int64_t now = yq_now(), today = yq_local_midnight(now);
    int64_t this_monday = today - (int64_t)(yq_local_weekday(now) - 1) * 86400;
    yq_arena_t *a = yq_arena_create();
    size_t n = 0;
    demand_t *d = load_demand(db, rng, a, &n);
    /* The statistics rollups are built once at the end (api/stats_store.h). */
    int rc = d ? yq_st_defer(db) : YQ_DB_ERROR;
    /* Week by week across every instrument, as bookings arrive in a real
     * year: ids then grow with time, not institution by institution (an
     * operator's newest bookings are among the newest ids, as they would be). */
    for (int w = -WEEKS_PAST; w < WEEKS_AHEAD && rc == 0; w++)
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = instrument_week(db, rng, &bs, &d[i], this_monday + (int64_t)w * 7 * 86400, now);
    if (rc == 0)
        rc = yq_demo_usage_write(db);
    if (rc == 0)
        rc = yq_st_rebuild(db);
    free(d);
    yq_arena_destroy(a);
    free(bs.all);
    return rc;
}
