/*
 * One HTTP/1.1 connection: the bytes in (llhttp), the requests it carries and
 * the responses out, in request order.
 *
 * A connection is either a TCP socket accepted by net/server.c or an
 * in-process "loopback" connection with no socket at all (the h2o pattern):
 * tests and the fuzz target feed it bytes and read back what the server would
 * have written. Both run the same parser, limits and response queue.
 */
#ifndef YQ_NET_CONN_H
#define YQ_NET_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"

typedef struct yq_conn yq_conn_t;

/* Limits shared by every connection (copied from the server configuration). */
typedef struct {
    size_t max_write_queue;     /* unsent response bytes before a client that does not read is cut */
    uint64_t header_timeout_ms; /* the whole header section must arrive within this */
    uint64_t idle_timeout_ms;   /* keep-alive idle time, and stalled body or write progress */
    const char *trusted_proxy;  /* peer whose X-Forwarded-For is believed; NULL: none */
    void (*on_closed)(void);    /* called after a socket connection has been freed */
} yq_conn_settings_t;

void yq_conn_configure(const yq_conn_settings_t *s);

/* Accepts one pending connection from listener and starts reading it.
 * Returns 0 or a negative libuv error (nothing is left allocated then). */
int yq_conn_accept(uv_loop_t *loop, uv_stream_t *listener);

/* Accepts one pending connection and closes it at once (connection cap). */
void yq_conn_refuse(uv_loop_t *loop, uv_stream_t *listener);

/* Socket connections alive (closing ones included) and requests handed to a
 * handler that have not been answered yet (their client may be gone). */
size_t yq_conn_count(void);
size_t yq_conn_inflight(void);

/* Graceful stop: closes idle connections (and those still receiving a
 * header), lets connections with a request in flight finish it, and reads no
 * further requests. */
void yq_conn_drain_all(void);
/* Closes every connection now (the drain timed out). */
void yq_conn_abort_all(void);

/* Answers held until a commit is durable (the group commit's hold, see
 * db/batch.h and "held answers" in conn.c). Between begin and end, what
 * answers would write to sockets is kept; end returns it (NULL: nothing).
 * yq_conn_held_send() runs on the WAL sync thread once the commit is on
 * disk (err != 0: the fdatasync failed, nothing is sent) and writes what it
 * can; yq_conn_held_finish() then runs on the loop with the same err, writes
 * the rest and frees h. */
typedef struct yq_held yq_held_t;
void yq_conn_hold_begin(void);
yq_held_t *yq_conn_hold_end(void);
void yq_conn_held_send(yq_held_t *h, int err);
void yq_conn_held_finish(yq_held_t *h, int err);

/* In-process connections (tests, fuzzing). The caller frees with
 * yq_conn_loopback_free(); requests still being handled then are answered
 * into the void. */
yq_conn_t *yq_conn_loopback_new(void);
/* Feeds bytes as if read from the socket (any split is allowed). */
void yq_conn_loopback_feed(yq_conn_t *c, const void *data, size_t len);
/* The peer closed its sending side. */
void yq_conn_loopback_eof(yq_conn_t *c);
/* Everything the server has written so far (owned by the connection). */
const yq_buf_t *yq_conn_loopback_output(yq_conn_t *c);
/* 1 once the server has finished with the connection (closed or shut down). */
int yq_conn_loopback_closed(const yq_conn_t *c);
void yq_conn_loopback_free(yq_conn_t *c);

#endif
