/*
 * Process metrics, exported in the Prometheus text format by GET /metrics:
 * requests by route and status, a request latency histogram, open
 * connections, and SQLite commit latency. Updated on the loop thread only.
 */
#ifndef YQ_HTTP_METRICS_H
#define YQ_HTTP_METRICS_H

#include <stdint.h>

#include "core/buf.h"

void yq_metrics_request(const char *route, int status, uint64_t micros);
void yq_metrics_connections(int delta);
void yq_metrics_commit(uint64_t micros);

/* A gauge computed when /metrics is read (business figures from the API
 * layer). The callback appends complete Prometheus lines (# HELP/# TYPE
 * included) to out. */
typedef void (*yq_metrics_collector_fn)(yq_buf_t *out);
void yq_metrics_add_collector(yq_metrics_collector_fn fn);

/* Appends the whole exposition to out. */
void yq_metrics_render(yq_buf_t *out);

#endif
