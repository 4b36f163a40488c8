/*
 * Statistics formulas (DOMAIN.md "Statistics"; API.md stats): per-instrument
 * figures from usage rows, rated hours, utilisation, share rate, idleness.
 * Pure; the caller reads the rows (or rollups) and the blocks.
 *
 * - used / external / cross-zone minutes: sums of the rows' minutes
 *   (reversals carry negative minutes, so a corrected record counts once);
 *   external when the payer institution is not the owner, cross-zone when
 *   the payer's zone is not the owner's zone.
 * - uses: records minus reversals (as in settlement.h). users / orgs:
 *   distinct users and payer institutions whose uses (records minus
 *   reversals) are still positive, so a voided record leaves no user behind.
 * - rated minutes: 1,400 h/yr for general instruments, 800 h/yr for
 *   specialised ones, prorated by the exact length of the period against
 *   the length of each local calendar year it touches (365 days, or 366 in
 *   leap years: a day of a leap year rates 1/366 of the year's hours), then
 *   reduced by the maintenance-block minutes inside the period, minute for
 *   minute, floored at 0. Subtracting block time one for one is the plain
 *   reading of "reduced by maintenance": blocks are set in working time, the
 *   same time the rated hours stand for. Overlapping blocks count once.
 *   Rounded half up to a minute.
 * - utilisation = used / rated (0 when rated is 0); share rate = external /
 *   used (0 when used <= 0).
 * - idle: utilisation under 10% over the last 90 days, i.e. used * 10 <
 *   rated, with rated > 0 (an instrument blocked for the whole window is in
 *   maintenance, not idle).
 */
#ifndef YQ_DOMAIN_STATS_H
#define YQ_DOMAIN_STATS_H

#include <stddef.h>
#include <stdint.h>

#define YQ_RATED_HOURS_GENERAL 1400
#define YQ_RATED_HOURS_SPECIALISED 800
#define YQ_IDLE_WINDOW_SECONDS (90 * 86400LL)

/* One usage record of the instrument in the period. */
typedef struct {
    int64_t user_id, payer_org_id, payer_zone_id;
    int reversal; /* 1 for a reversal record (negative minutes, samples, fee) */
    int64_t minutes, samples, fee_fen;
} yq_stats_row_t;

/* The figures of one instrument over one period. */
typedef struct {
    int64_t used_minutes, external_minutes, cross_zone_minutes;
    int64_t uses, users, orgs, samples, fee_fen;
} yq_stats_t;

/* Computes the usage figures of an instrument owned by owner_org_id in
 * owner_zone_id from rows[0 .. n). Returns 0 and fills *out;
 * YQ_DOM_EINVAL for NULL out or NULL rows with n > 0; YQ_DOM_EOVERFLOW when a
 * sum does not fit. Aborts only when out of memory (core/alloc.h). */
int yq_stats_instrument(int64_t owner_org_id, int64_t owner_zone_id, const yq_stats_row_t *rows, size_t n,
                        yq_stats_t *out);

/* Rated hours per year of a category_type ("general" or "specialised").
 * Returns 1400 or 800, or YQ_DOM_EINVAL for another name. */
int yq_stats_rated_hours_per_year(const char *category_type);

/* Rated minutes of [from, to) before maintenance: hours_per_year x 60 x the
 * share of each local calendar year the period covers, summed and rounded
 * half up. Returns the minutes (>= 0), or YQ_DOM_EINVAL when to < from or
 * hours_per_year < 0, YQ_DOM_EOVERFLOW for absurd ranges. */
int64_t yq_stats_prorated_minutes(int64_t hours_per_year, int64_t from, int64_t to);

/* A maintenance block: a half-open interval of UTC seconds. */
typedef struct {
    int64_t start, end;
} yq_stats_block_t;

/* Minutes of [from, to) covered by the blocks (any order, overlaps counted
 * once), rounded down to the whole minute. Returns them, or YQ_DOM_EINVAL
 * for NULL blocks with n > 0 or to < from. Aborts only when out of memory. */
int64_t yq_stats_block_minutes(const yq_stats_block_t *blocks, size_t n, int64_t from, int64_t to);

/* Rated minutes of [from, to) for the category: prorated minus block
 * minutes, floored at 0. Returns them, or a negative code as above. */
int64_t yq_stats_rated_minutes(const char *category_type, int64_t from, int64_t to, int64_t block_minutes);

/* used / rated, 0 when rated <= 0. */
double yq_stats_utilisation(int64_t used_minutes, int64_t rated_minutes);

/* external / used, 0 when used <= 0. */
double yq_stats_share_rate(int64_t external_minutes, int64_t used_minutes);

/* 1 when the figures of the last 90 days make the instrument idle
 * (rated > 0 and used * 10 < rated), else 0. */
int yq_stats_is_idle(int64_t used_minutes_90d, int64_t rated_minutes_90d);

/* ---- Reference figures ----
 * The national averages per large instrument and year (DOMAIN.md
 * "Statistics"), for reference lines on charts. */
#define YQ_NATIONAL_2019_EFFECTIVE_HOURS 1440
#define YQ_NATIONAL_2019_EXTERNAL_HOURS 240
#define YQ_NATIONAL_2025_EFFECTIVE_HOURS 1599
#define YQ_NATIONAL_2025_EXTERNAL_HOURS 273

/* Distinct keys whose counts sum to a positive number: returns how many
 * keys of t[0 .. n) end with a positive sum (0 for n == 0; t may then be
 * NULL). Used for distinct users and institutions, where a reversal counts
 * -1 against its original's +1. Linear time; aborts only when out of
 * memory. */
typedef struct {
    int64_t key, count;
} yq_stats_tally_t;
int64_t yq_stats_count_positive(const yq_stats_tally_t *t, size_t n);

/* ---- Calendar keys ----
 * Statistics count a usage record (or booking) on the local calendar day
 * and month of its start. A day is a local day number (days since
 * 1970-01-01 in Asia/Shanghai); a month key is YYYYMM (202611), ordered as
 * integers. */
int64_t yq_stats_day_of(int64_t t);
int64_t yq_stats_day_start(int64_t day); /* UTC instant of that local midnight */
int yq_stats_month_of(int64_t t);
int yq_stats_month_of_day(int64_t day);
int64_t yq_stats_month_first_day(int month); /* day number of the 1st */
int64_t yq_stats_month_start(int month);     /* UTC instant of the local month's start */
int yq_stats_month_next(int month);          /* 202612 -> 202701 */

/* ---- Range plans ----
 * A range [from, to) of instants is read from the rollups as at most five
 * pieces, in time order: the records of a partial first day (RAW, instants
 * [lo, hi)), the whole days before the first whole month (DAY, day numbers
 * [lo, hi)), the whole months (MONTH, month keys [lo, hi)), the whole days
 * after them (DAY) and a partial last day (RAW). Each piece is empty-free:
 * lo < hi. So a year's figures cost twelve month rows per instrument, and
 * never a scan of the log. */
enum { YQ_STATS_SEG_RAW = 0, YQ_STATS_SEG_DAY = 1, YQ_STATS_SEG_MONTH = 2 };
typedef struct {
    int kind;
    int64_t lo, hi;
} yq_stats_seg_t;
#define YQ_STATS_MAX_SEGS 5

/* Splits [from, to) into segs; returns how many (0 for an empty range), or
 * YQ_DOM_EINVAL when to < from. */
int yq_stats_plan(int64_t from, int64_t to, yq_stats_seg_t segs[YQ_STATS_MAX_SEGS]);

/* The part of [from, to) in which an instrument was in service: from
 * `since` (the local midnight of its purchase date, or of the day it was
 * listed when that is unknown; 0: always)
 * until `until` (its retirement; 0 when in service). Writes [*lo, *hi),
 * empty (lo == hi) when they do not meet. Rated hours count only there. */
void yq_stats_in_service(int64_t from, int64_t to, int64_t since, int64_t until, int64_t *lo, int64_t *hi);

/* ---- Bookings ----
 * Bookings by status, counted on the local day of their start.
 *   no-show rate = no_show / (completed + in_use + no_show): the share of
 *     bookings that came due and were kept (not cancelled or rejected) in
 *     which nobody came; bookings still pending or confirmed are not yet
 *     decided and count in neither part. 0 when none came due.
 *   cancellation rate = cancelled / all bookings (every status). 0 when
 *     there are none. */
typedef struct {
    int64_t pending, confirmed, in_use, completed, rejected, cancelled, no_show;
} yq_stats_bookings_t;
int64_t yq_stats_bookings_total(const yq_stats_bookings_t *b);
double yq_stats_no_show_rate(const yq_stats_bookings_t *b);
double yq_stats_cancellation_rate(const yq_stats_bookings_t *b);
/* Adds n to the count of the named status; returns 0, or YQ_DOM_EINVAL for
 * an unknown status name. */
int yq_stats_bookings_add(yq_stats_bookings_t *b, const char *status, int64_t n);

#endif
