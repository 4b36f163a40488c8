/*
 * Prometheus metrics (see metrics.h), text exposition format 0.0.4.
 *
 * Everything is updated on the loop thread, so plain counters suffice. The
 * request counter is keyed by (route label, status); route labels are the
 * static strings of the route tables, so the key compares pointers first and
 * the number of series stays bounded by routes x statuses.
 */
#include "http/metrics.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NBUCKETS 14
#define MAX_SERIES 1024
#define MAX_COLLECTORS 32

static const double bounds[NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

typedef struct {
    uint64_t buckets[NBUCKETS]; /* non-cumulative; summed when rendered */
    uint64_t count;
    uint64_t sum_micros;
} histogram_t;

typedef struct {
    const char *route;
    int status;
    uint64_t count;
} series_t;

static series_t series[MAX_SERIES];
static size_t nseries;
static uint64_t dropped_series;
static histogram_t request_latency, commit_latency;
static int64_t open_connections;
static uint64_t connections_total;
static yq_metrics_collector_fn collectors[MAX_COLLECTORS];
static size_t ncollectors;

static void observe(histogram_t *h, uint64_t micros) {
    double s = (double)micros / 1e6;
    for (int i = 0; i < NBUCKETS; i++)
        if (s <= bounds[i]) {
            h->buckets[i]++;
            break;
        }
    h->count++;
    h->sum_micros += micros;
}

void yq_metrics_request(const char *route, int status, uint64_t micros) {
    observe(&request_latency, micros);
    if (!route)
        route = "none";
    for (size_t i = 0; i < nseries; i++)
        if (series[i].status == status && (series[i].route == route || strcmp(series[i].route, route) == 0)) {
            series[i].count++;
            return;
        }
    if (nseries == MAX_SERIES) {
        dropped_series++;
        return;
    }
    series[nseries].route = route;
    series[nseries].status = status;
    series[nseries].count = 1;
    nseries++;
}

void yq_metrics_connections(int delta) {
    open_connections += delta;
    if (delta > 0)
        connections_total += (uint64_t)delta;
}

void yq_metrics_commit(uint64_t micros) {
    observe(&commit_latency, micros);
}

void yq_metrics_add_collector(yq_metrics_collector_fn fn) {
    for (size_t i = 0; i < ncollectors; i++)
        if (collectors[i] == fn)
            return;
    if (ncollectors < MAX_COLLECTORS)
        collectors[ncollectors++] = fn;
}

/* Label values escape backslash, double quote and line feed. */
static void put_label(yq_buf_t *out, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            yq_buf_putc(out, '\\');
        if (*s == '\n') {
            yq_buf_puts(out, "\\n");
            continue;
        }
        yq_buf_putc(out, *s);
    }
}

static void render_histogram(yq_buf_t *out, const char *name, const char *help, const histogram_t *h) {
    yq_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        cum += h->buckets[i];
        yq_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    yq_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    yq_buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", name, (double)h->sum_micros / 1e6, name,
                  (unsigned long long)h->count);
}

/* Resident memory from /proc/self/statm (pages), 0 when unreadable. */
static unsigned long long resident_bytes(void) {
    unsigned long long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (unsigned long long)sysconf(_SC_PAGESIZE);
}

void yq_metrics_render(yq_buf_t *out) {
    yq_buf_puts(out, "# HELP yiqi_http_requests_total HTTP requests answered, by route and status.\n"
                     "# TYPE yiqi_http_requests_total counter\n");
    for (size_t i = 0; i < nseries; i++) {
        yq_buf_puts(out, "yiqi_http_requests_total{route=\"");
        put_label(out, series[i].route);
        yq_buf_printf(out, "\",status=\"%d\"} %llu\n", series[i].status, (unsigned long long)series[i].count);
    }
    if (dropped_series)
        yq_buf_printf(out, "yiqi_http_requests_total{route=\"other\",status=\"0\"} %llu\n",
                      (unsigned long long)dropped_series);
    render_histogram(out, "yiqi_http_request_duration_seconds",
                     "Time from the end of the request headers to the response being queued.", &request_latency);
    yq_buf_printf(out,
                  "# HELP yiqi_http_open_connections Client connections currently open.\n"
                  "# TYPE yiqi_http_open_connections gauge\n"
                  "yiqi_http_open_connections %lld\n"
                  "# HELP yiqi_http_connections_total Client connections accepted.\n"
                  "# TYPE yiqi_http_connections_total counter\n"
                  "yiqi_http_connections_total %llu\n",
                  (long long)open_connections, (unsigned long long)connections_total);
    render_histogram(out, "yiqi_db_commit_duration_seconds", "Time to commit a write transaction to disk.",
                     &commit_latency);
    yq_buf_printf(out,
                  "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes %llu\n",
                  resident_bytes());
    for (size_t i = 0; i < ncollectors; i++)
        collectors[i](out);
}
