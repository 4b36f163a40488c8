/*
 * Twelve months of demo history on the demo world (demo.h): bookings that
 * follow every rule (open hours, slot step, length, one researcher of a
 * group that may book the instrument, no overlap: the storage trigger
 * refuses one, and the draw is then skipped), in the states a real year
 * leaves behind: completed, cancelled (by users and for maintenance),
 * rejected, no-shows, and upcoming confirmed or pending ones for the next
 * two weeks. Instruments differ in demand, so some are busy and some idle.
 *
 * No-shows and the bar (DOMAIN.md "Bookings"): each week's draws are placed
 * in order of start, and every no-show goes through the rule the server's
 * sweep applies (yq_booking_bar_after_no_show, domain/booking_rules.h), so a
 * user with three no-shows in 90 days is barred for 30 days from the third,
 * exactly as a running server would have left users.barred_until, and makes
 * no booking while barred. Most people rarely miss a booking; a few are
 * careless (see draw_no_show_rate). The users whose logins `yiqi demo`
 * prints never miss one, so a newcomer signing in as one of them can book at
 * once.
 *
 * Usage records (issue 6) are added per completed booking in
 * on_completed() below, which is the one place for them.
 *
 * Runs inside the demo's transaction on yq_db_main(); every random choice
 * comes from rng.
 */

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
#include "domain/booking_rules.h"
#include "domain/fees.h"

#define WEEKS_PAST 52
#define WEEKS_AHEAD 2

/* A bar from `from` to `until` (the no-show that set it was marked at from). */
typedef struct {
    int64_t from, until;
} bar_t;

typedef struct {
    int64_t id, group_id, org_id, zone_id;
    int no_show_per_mille; /* chance that a booking that reaches its start is missed */
    int shown;             /* login printed by `yiqi demo`: never misses a booking */
    int upcoming;          /* bookings made after now (kept few for the shown logins) */
    int64_t *no_shows;     /* starts of the no-shows so far, in order */
    size_t n_no_shows;
    bar_t *bars; /* the bars so far, in order, not overlapping */
    size_t n_bars;
    int64_t barred_until; /* as the sweep leaves users.barred_until (0: never) */
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

/* How often a booker misses a booking that reaches its start, per mille.
 * Facilities see a few in a hundred bookings missed, mostly by a few careless
 * people; most miss one now and then. A demo booker makes about 700 bookings
 * a year (170 in any 90 days), so even 1% for everyone would bar four in five
 * of them some time in the year: most here miss 1-2 in a thousand (one or two
 * a year), one in twelve 5, and one in fifty 40, who then keep running into
 * the bar. About 0.2% of the bookings that reach their start end as
 * no-shows, one user in twenty is barred at some time in the year, and one in
 * a hundred is barred at any time. */
static int draw_no_show_rate(yq_rng_t *rng) {
    int64_t r = yq_rng_between(rng, 1, 100);
    return r <= 45 ? 1 : r <= 90 ? 2 : r <= 98 ? 5 : 40;
}

static void free_bookers(bookers_t *bs) {
    for (size_t i = 0; bs->all && i < bs->n; i++) {
        free(bs->all[i].no_shows);
        free(bs->all[i].bars);
    }
    free(bs->all);
}

/* The bookers, each with a no-show rate; those in world->shown marked. */
static int load_bookers(yq_db_t *db, yq_rng_t *rng, const yq_demo_counts_t *world, bookers_t *out) {
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
        *b = (booker_t){.id = sqlite3_column_int64(st, 0),
                        .group_id = sqlite3_column_int64(st, 1),
                        .org_id = sqlite3_column_int64(st, 2),
                        .zone_id = sqlite3_column_int64(st, 3),
                        .no_show_per_mille = draw_no_show_rate(rng)};
        for (size_t k = 0; world && k < world->n_shown; k++)
            b->shown |= world->shown[k] == b->id;
    }
    sqlite3_reset(st);
    return out->all && out->n ? 0 : -1;
}

/* A booker allowed on the instrument (own institution for internal ones),
 * mostly from the owner's zone, sometimes from the other. */
static booker_t *pick_booker(yq_rng_t *rng, const bookers_t *bs, const yq_bk_instrument_t *ins) {
    int internal = strcmp(ins->in.share_mode, "internal") == 0;
    int want_home = yq_rng_chance(rng, 70);
    for (int tries = 0; tries < 40; tries++) {
        booker_t *b = &bs->all[yq_rng_between(rng, 0, (int64_t)bs->n - 1)];
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

/* What became of a past booking: cancelled or rejected before its start, or
 * used, or missed at the booker's rate. The printed logins never miss one:
 * they are the accounts a newcomer tries first. */
static const char *past_status(yq_rng_t *rng, const booker_t *who) {
    int64_t r = yq_rng_between(rng, 1, 100);
    if (r <= 9)
        return "cancelled";
    if (r <= 12)
        return "rejected";
    int missed = yq_rng_between(rng, 1, 1000) <= who->no_show_per_mille;
    return missed && !who->shown ? "no_show" : "completed";
}

/* When a booking was made: three days ahead, or an hour ago for one that
 * starts sooner (never in the future). */
static int64_t made_at(int64_t start, int64_t now) {
    return start - 3 * 86400 < now ? start - 3 * 86400 : now - 3600;
}

/* 1 when who was barred at t (the server would have refused a booking). */
static int barred_at(const booker_t *who, int64_t t) {
    for (size_t i = 0; i < who->n_bars; i++)
        if (who->bars[i].from <= t && t < who->bars[i].until)
            return 1;
    return 0;
}

/* Records a no-show at start as the sweep would: the bar it leaves, from the
 * moment the sweep marked it. Returns 0 or YQ_DB_ERROR (out of memory). */
static int note_no_show(booker_t *who, int64_t start) {
    int64_t *starts = realloc(who->no_shows, (who->n_no_shows + 1) * sizeof *starts);
    if (!starts)
        return YQ_DB_ERROR;
    who->no_shows = starts;
    starts[who->n_no_shows++] = start;
    int64_t until = yq_booking_bar_after_no_show(starts, who->n_no_shows, who->barred_until);
    if (until <= who->barred_until)
        return 0;
    int64_t from = yq_booking_no_show_marked_at(start);
    if (who->n_bars && from <= who->bars[who->n_bars - 1].until) {
        who->bars[who->n_bars - 1].until = until; /* a longer bar */
    } else {
        bar_t *more = realloc(who->bars, (who->n_bars + 1) * sizeof *more);
        if (!more)
            return YQ_DB_ERROR;
        who->bars = more;
        who->bars[who->n_bars++] = (bar_t){from, until};
    }
    who->barred_until = until;
    return 0;
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
    int64_t created = made_at(b->start, now);
    sqlite3_bind_int64(st, 12, created);
    sqlite3_bind_int64(st, 13, b->end < now ? b->end : created);
    int rc = yq_db_step(db, st);
    if (rc < 0)
        return rc;
    b->id = yq_db_last_id(db);
    /* Made, then (for a past booking) what became of it. */
    int direct = strcmp(b->status, "confirmed") == 0 || strcmp(b->status, "pending") == 0;
    rc = add_event(db, b->id, created, b->user_id, NULL, direct ? b->status : "confirmed");
    if (rc == 0 && !direct) {
        /* A no-show is the sweep's, 15 minutes after the start. */
        int no_show = strcmp(b->status, "no_show") == 0;
        int64_t at = done ? b->end : no_show ? yq_booking_no_show_marked_at(b->start) : b->start - 86400;
        rc = add_event(db, b->id, at, no_show ? 0 : b->user_id, "confirmed", b->status);
    }
    return rc;
}

/* An instrument that takes bookings, with its demand level. */
typedef struct {
    yq_bk_instrument_t ins;
    int per_week;
} demand_t;

/* One draw of a week: who would book which instrument when. */
typedef struct {
    const demand_t *d;
    booker_t *who;
    int64_t start, end;
    size_t seq; /* the order of the draw, so that sorting is deterministic */
} draw_t;

typedef struct {
    draw_t *all;
    size_t n, cap;
} draws_t;

static int by_start(const void *a, const void *b) {
    const draw_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One instrument's draws for the week starting at `week`, added to ws.
 * Returns 0 or YQ_DB_ERROR (out of memory). */
static int draw_week(yq_rng_t *rng, const bookers_t *bs, const demand_t *d, int64_t week, int64_t now, draws_t *ws) {
    for (int k = 0; k < d->per_week; k++) {
        draw_t w = {.d = d, .who = pick_booker(rng, bs, &d->ins), .seq = ws->n};
        if (!w.who || draw_interval(rng, &d->ins.in, week, &w.start, &w.end))
            continue;
        if (w.end > now && w.start <= now)
            continue; /* nothing in flight right now */
        if (ws->n == ws->cap) {
            size_t cap = ws->cap ? ws->cap * 2 : 4096;
            draw_t *more = realloc(ws->all, cap * sizeof *more);
            if (!more)
                return YQ_DB_ERROR;
            ws->all = more;
            ws->cap = cap;
        }
        ws->all[ws->n++] = w;
    }
    return 0;
}

/* Makes the booking of one draw, unless its booker was barred when it would
 * have been made (the server refuses that with `barred`), and records a
 * no-show with the bar it leaves. Draws come in order of start, so every
 * no-show before this start is already recorded. Returns 0 or a negative
 * code. */
static int place(yq_db_t *db, yq_rng_t *rng, const draw_t *w, int64_t now) {
    const yq_bk_instrument_t *ins = &w->d->ins;
    booker_t *who = w->who;
    if (barred_at(who, made_at(w->start, now)))
        return 0;
    /* A printed login keeps only two upcoming bookings: enough to see, cancel
     * and check in, and too few for the sweep to bar someone who tries the
     * demo again days later without checking in (three no-shows bar). */
    if (w->start > now && who->shown && who->upcoming >= 2)
        return 0;
    demo_booking_t b = {.instrument_id = ins->in.id,
                        .user_id = who->id,
                        .group_id = who->group_id,
                        .payer_org_id = who->org_id,
                        .start = w->start,
                        .end = w->end};
    if (b.start > now)
        b.status = ins->in.requires_approval && yq_rng_chance(rng, 40) ? "pending" : "confirmed";
    else
        b.status = past_status(rng, who);
    yq_tier_t tier = yq_fee_tier(ins->in.owner_org_id, ins->owner_zone_id, who->org_id, who->zone_id);
    b.fee = yq_fee_estimate(&ins->in, tier, b.end - b.start);
    yq_db_exec(db, "SAVEPOINT demo_booking");
    int rc = insert_booking(db, &b, now);
    if (rc == 0 && strcmp(b.status, "completed") == 0)
        rc = on_completed(db, rng, &b);
    if (rc == YQ_DB_CONSTRAINT) { /* overlaps an earlier draw: skip it */
        yq_db_exec(db, "ROLLBACK TO demo_booking");
        yq_db_exec(db, "RELEASE demo_booking");
        return 0;
    }
    yq_db_exec(db, "RELEASE demo_booking");
    if (rc == 0 && b.start > now)
        who->upcoming++;
    if (rc == 0 && strcmp(b.status, "no_show") == 0)
        rc = note_no_show(who, b.start);
    return rc;
}

/* Every instrument's bookings for the week starting at `week`, made in
 * order of start (ids then grow with time, and the bar of a no-show is known
 * before the bookings made after it). */
static int book_week(yq_db_t *db, yq_rng_t *rng, const bookers_t *bs, const demand_t *d, size_t n, int64_t week,
                     int64_t now, draws_t *ws) {
    ws->n = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = draw_week(rng, bs, &d[i], week, now, ws);
    if (rc == 0 && ws->n)
        qsort(ws->all, ws->n, sizeof *ws->all, by_start);
    for (size_t j = 0; j < ws->n && rc == 0; j++)
        rc = place(db, rng, &ws->all[j], now);
    return rc;
}

/* Leaves users.barred_until as the sweep would have. */
static int write_bars(yq_db_t *db, const bookers_t *bs) {
    for (size_t i = 0; i < bs->n; i++) {
        if (!bs->all[i].barred_until)
            continue;
        sqlite3_stmt *st = yq_db_stmt(db, "UPDATE users SET barred_until = ?2 WHERE id = ?1");
        sqlite3_bind_int64(st, 1, bs->all[i].id);
        sqlite3_bind_int64(st, 2, bs->all[i].barred_until);
        int rc = yq_db_step(db, st);
        sqlite3_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
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

int yq_demo_history(yq_db_t *db, yq_rng_t *rng, const yq_demo_counts_t *world) {
    bookers_t bs = {0};
    if (load_bookers(db, rng, world, &bs)) {
        free_bookers(&bs);
        yq_log_warn("demo history: no researchers with a lab group; no bookings made");
        return 0;
    }
    int64_t now = yq_now(), today = yq_local_midnight(now);
    int64_t this_monday = today - (int64_t)(yq_local_weekday(now) - 1) * 86400;
    yq_arena_t *a = yq_arena_create();
    size_t n = 0;
    demand_t *d = load_demand(db, rng, a, &n);
    draws_t ws = {0};
    /* The statistics rollups are built once at the end (api/stats_store.h). */
    int rc = d ? yq_st_defer(db) : YQ_DB_ERROR;
    /* Week by week across every instrument, as bookings arrive in a real
     * year: ids then grow with time, not institution by institution (an
     * operator's newest bookings are among the newest ids, as they would be). */
    for (int w = -WEEKS_PAST; w < WEEKS_AHEAD && rc == 0; w++)
        rc = book_week(db, rng, &bs, d, n, this_monday + (int64_t)w * 7 * 86400, now, &ws);
    if (rc == 0)
        rc = write_bars(db, &bs);
    if (rc == 0)
        rc = yq_demo_usage_write(db);
    if (rc == 0)
        rc = yq_st_rebuild(db);
    free(ws.all);
    free(d);
    yq_arena_destroy(a);
    free_bookers(&bs);
    return rc;
}
