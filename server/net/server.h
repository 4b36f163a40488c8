/*
 * The HTTP/1.1 server on libuv: listener, connection cap, timeouts, signals
 * and the graceful drain. Requests go to yq_http_dispatch() (http/router.h).
 */
#ifndef YQ_NET_SERVER_H
#define YQ_NET_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct {
    const char *host;           /* "127.0.0.1" */
    int port;                   /* 0: ephemeral (the chosen port is logged) */
    int max_connections;        /* default 10000 */
    size_t max_write_queue;     /* bytes queued to a client that does not read; default 8 MiB */
    uint64_t header_timeout_ms; /* default 10000 */
    uint64_t idle_timeout_ms;   /* default 60000 */
    uint64_t drain_timeout_ms;  /* default 10000 */
    const char *trusted_proxy;  /* peer address whose X-Forwarded-For is believed; NULL: none */
} yq_server_config_t;

void yq_server_config_defaults(yq_server_config_t *cfg);

/* Listens and runs the loop until SIGTERM/SIGINT and the drain are done.
 * Prints "listening on http://HOST:PORT" to stderr once bound. Returns 0 on a
 * clean stop, or a negative libuv error when it cannot listen. */
int yq_server_run(uv_loop_t *loop, const yq_server_config_t *cfg);

/* Registers a function called when the server begins to stop (before the
 * drain): background timers use it to close their handles. */
void yq_server_on_stop(void (*fn)(void *ctx), void *ctx);

#endif
