/*
 * HTTP/1.1 connections on libuv + llhttp (see conn.h).
 *
 * Design (after h2o's lib/http1.c): one struct holds a connection's whole
 * state and small functions named after events drive it. Bytes go through
 * llhttp; on_message_complete pauses the parser so that each complete request
 * is dispatched outside the parser's callbacks, then parsing resumes where it
 * stopped (llhttp_get_error_pos). Every request gets a `pending` record that
 * joins the connection's queue once its headers are complete; yq_reply()
 * serialises the response into that record, and the queue is flushed from
 * its head only, so responses leave in request order even when a handler
 * answers later (RFC 9112 section 9.3.2). A request whose connection has gone
 * stays alive ("orphaned") until its handler answers, then is freed.
 *
 * What llhttp 8.1 does not check is checked here: request-line and header
 * sizes (414, 431), the body limit of the matched route (413, before the body
 * is read), Host exactly once in HTTP/1.1 (400, RFC 9112 section 3.2), and
 * obs-fold (400, RFC 9112 section 5.2): llhttp accepts a folded line and
 * reports it as a second value span, so a header value span preceded, since
 * the previous span, by a line feed is a fold. After a request that does not
 * keep the connection alive (llhttp_should_keep_alive), nothing more is parsed.
 *
 * Closing follows libuv's rules: handles are freed only in their close
 * callback; each write request owns its buffer and frees it in after_write.
 * After the last response a connection is shut down and the input drained
 * for a short while ("lingering close"), so that unread request bytes do not
 * turn into a TCP reset that destroys the response in flight.
 */
#include "net/conn.h"

#include <errno.h>
#include <llhttp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/router.h"
#include "net/response.h"

#define MAX_URL 8192           /* request target, 414 beyond */
#define MAX_HEADER_BYTES 16384 /* names + values + separators, 431 beyond */
#define MAX_HEADER_FIELDS 100  /* 431 beyond */
#define MAX_PIPELINE 64        /* queued requests before reading pauses */
#define LINGER_MS 2000         /* reading after our shutdown, at most */
#define READ_BUF_SIZE 65536
#define FLUSH_BATCH 65536 /* answered bytes batched before a write within one read */

typedef struct pending {
    yq_req_t req;
    struct pending *next;
    struct yq_conn *conn; /* NULL once orphaned */
    yq_buf_t body;
    yq_buf_t out;      /* the response body, once answered */
    const char *ctype; /* its Content-Type (in the arena), NULL for none */
    size_t max_body;
    size_t hcap;
    int status;
    size_t resp_bytes;
    unsigned keep_alive : 1, headers_done : 1, queued : 1, dispatched : 1, done : 1, send_continue : 1,
        engine_error : 1, writes : 1;
} pending_t;

struct yq_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    llhttp_t parser;
    struct yq_conn *prev, *next; /* live socket connections */
    char peer[64];
    int loopback;
    yq_buf_t loop_out;
    int nhandles;

    pending_t *cur;   /* being parsed */
    pending_t *ready; /* complete, waiting to be dispatched */
    pending_t *head, *tail;
    size_t nqueue;

    yq_buf_t url, field, value;
    size_t header_bytes, nfields, host_count;
    const char *scan_pos; /* end of the last span seen in the current input */
    int gap_lf;           /* a line feed since the last header span */

    yq_buf_t inbuf; /* unparsed input held while the pipeline is full */
    size_t writes_pending;
    size_t writes_out; /* dispatched requests that may write, not yet answered */
    /* Answers held until their commit is durable (see "held answers"). */
    size_t held;         /* held items not yet back from the sync thread */
    size_t held_loop;    /* of those, items the loop itself will write */
    uint64_t held_scope; /* the hold scope of this connection's newest item */
    size_t held_index;   /* that item's index in the scope */
    yq_buf_t behind;     /* answered outside a hold while items are out: sent after them */
    atomic_int stalled;  /* the sync thread could not write everything: the loop writes the rest */
    size_t ready_bytes;  /* answered bytes at the head of the queue not yet written */
    unsigned in_parse : 1, flush_wanted : 1, stop_parsing : 1, closing : 1, shutting : 1, close_after_write : 1,
        draining : 1, eof : 1, read_paused : 1, reading : 1, loop_closed : 1, in_llhttp : 1, close_deferred : 1,
        shutdown_deferred : 1;
};

typedef struct {
    uv_write_t req;
    size_t len;
    char *data;
} write_req_t;

static yq_conn_settings_t settings = {
    .max_write_queue = 8 * 1024 * 1024,
    .header_timeout_ms = 10000,
    .idle_timeout_ms = 60000,
};
static yq_conn_t *live;
static size_t nlive;
static size_t ninflight;
static llhttp_settings_t parser_settings;
static int parser_settings_ready;

static void conn_flush(yq_conn_t *c);
static void conn_close(yq_conn_t *c);
static void conn_shutdown(yq_conn_t *c);
static void conn_pump(yq_conn_t *c);
static void start_reading(yq_conn_t *c);

void yq_conn_configure(const yq_conn_settings_t *s) {
    settings = *s;
}

size_t yq_conn_count(void) {
    return nlive;
}

size_t yq_conn_inflight(void) {
    return ninflight;
}

/* ---- pending requests ---------------------------------------------------- */

static pending_t *pending_new(yq_conn_t *c) {
    pending_t *p = yq_xcalloc(1, sizeof *p);
    p->conn = c;
    p->keep_alive = 1;
    p->max_body = YQ_DEFAULT_MAX_BODY;
    p->req.arena = yq_arena_create();
    p->req.method_name = "-";
    p->req.target = "-";
    p->req.path = "-";
    p->req.query = "";
    p->req.body = "";
    p->req.conn_private = p;
    p->req.start_ns = uv_hrtime();
    snprintf(p->req.peer, sizeof p->req.peer, "%s", c->peer);
    return p;
}

/* Releases what the request itself holds (after the reply was serialised). */
static void pending_release_request(pending_t *p) {
    yq_arena_destroy(p->req.arena);
    p->req.arena = NULL;
    yq_buf_free(&p->body);
    yq_buf_free(&p->req.res_headers);
}

static void pending_free(pending_t *p) {
    if (p->req.arena)
        pending_release_request(p);
    yq_buf_free(&p->out);
    free(p);
}

static void enqueue(yq_conn_t *c, pending_t *p) {
    p->queued = 1;
    if (c->tail)
        c->tail->next = p;
    else
        c->head = p;
    c->tail = p;
    c->nqueue++;
}

/* ---- timers -------------------------------------------------------------- */

static void timer_start(yq_conn_t *c, uint64_t ms);

static void on_timer(uv_timer_t *t) {
    yq_conn_t *c = t->data;
    if (c->closing)
        return;
    /* A handler still working on the head request is not the client's fault. */
    if (!c->shutting && c->head && c->head->dispatched && !c->head->done && !c->writes_pending) {
        timer_start(c, settings.idle_timeout_ms);
        return;
    }
    conn_close(c);
}

static void timer_start(yq_conn_t *c, uint64_t ms) {
    if (!c->loopback && !c->closing)
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void timer_stop(yq_conn_t *c) {
    if (!c->loopback && !c->closing)
        uv_timer_stop(&c->timer);
}

/* ---- engine errors ------------------------------------------------------- */

/* Answers the request being parsed with an error, after the responses before
 * it, and reads nothing more from this connection. */
static void conn_fail(yq_conn_t *c, int status, const char *code, const char *message) {
    if (c->stop_parsing && !c->cur)
        return;
    c->stop_parsing = 1;
    pending_t *p = c->cur;
    c->cur = NULL;
    if (!p)
        p = pending_new(c);
    if (!p->queued)
        enqueue(c, p);
    p->keep_alive = 0;
    p->dispatched = 1;
    p->engine_error = 1;
    p->send_continue = 0;
    ninflight++;
    yq_reply_error(&p->req, status, code, message, NULL);
}

/* ---- llhttp callbacks ---------------------------------------------------- */

static yq_conn_t *conn_of(llhttp_t *parser) {
    return parser->data;
}

static int on_message_begin(llhttp_t *parser) {
    yq_conn_t *c = conn_of(parser);
    if (c->draining) {
        /* Not in flight yet: a request that arrives during the drain is not read. */
        c->stop_parsing = 1;
        return HPE_USER;
    }
    c->cur = pending_new(c);
    yq_buf_reset(&c->url);
    yq_buf_reset(&c->field);
    yq_buf_reset(&c->value);
    c->header_bytes = c->nfields = c->host_count = 0;
    c->gap_lf = 0;
    timer_start(c, settings.header_timeout_ms);
    return 0;
}

static void note_span(yq_conn_t *c, const char *at, size_t n) {
    if (c->scan_pos && at >= c->scan_pos && memchr(c->scan_pos, '\n', (size_t)(at - c->scan_pos)))
        c->gap_lf = 1;
    c->scan_pos = at + n;
}

static int on_span(llhttp_t *parser, const char *at, size_t n) {
    yq_conn_t *c = conn_of(parser);
    c->scan_pos = at + n;
    return 0;
}

static int on_url(llhttp_t *parser, const char *at, size_t n) {
    yq_conn_t *c = conn_of(parser);
    c->scan_pos = at + n;
    if (c->url.len + n > MAX_URL) {
        conn_fail(c, 414, "uri_too_long", "The request target is longer than 8 KiB.");
        return HPE_USER;
    }
    yq_buf_append(&c->url, at, n);
    return 0;
}

static int count_header_bytes(yq_conn_t *c, size_t n) {
    c->header_bytes += n;
    if (c->header_bytes > MAX_HEADER_BYTES) {
        conn_fail(c, 431, "headers_too_large", "The request headers are larger than 16 KiB.");
        return HPE_USER;
    }
    return 0;
}

static int on_header_field(llhttp_t *parser, const char *at, size_t n) {
    yq_conn_t *c = conn_of(parser);
    note_span(c, at, n);
    c->gap_lf = 0;
    if (count_header_bytes(c, n))
        return HPE_USER;
    if (c->cur && !c->cur->headers_done)
        yq_buf_append(&c->field, at, n);
    return 0;
}

static int on_header_value(llhttp_t *parser, const char *at, size_t n) {
    yq_conn_t *c = conn_of(parser);
    note_span(c, at, n);
    if (c->gap_lf) {
        conn_fail(c, 400, "bad_request", "Folded header lines (obs-fold) are not accepted.");
        return HPE_USER;
    }
    if (count_header_bytes(c, n))
        return HPE_USER;
    if (c->cur && !c->cur->headers_done)
        yq_buf_append(&c->value, at, n);
    return 0;
}

/* tchar (RFC 9110 section 5.6.2). */
static int is_token(const char *s, size_t n) {
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (ch && strchr(extra, ch))))
            return 0;
    }
    return 1;
}

static int on_header_value_complete(llhttp_t *parser) {
    yq_conn_t *c = conn_of(parser);
    pending_t *p = c->cur;
    if (!p || p->headers_done) { /* trailer fields of a chunked body: counted, not kept */
        yq_buf_reset(&c->field);
        yq_buf_reset(&c->value);
        return 0;
    }
    if (!is_token(c->field.data, c->field.len)) {
        /* llhttp 8.1 lets "Bad Name:" and "Name :" through; RFC 9112 section 5.1 wants 400. */
        conn_fail(c, 400, "bad_request", "Invalid header field name.");
        return HPE_USER;
    }
    if (++c->nfields > MAX_HEADER_FIELDS) {
        conn_fail(c, 431, "headers_too_large", "The request has more than 100 header fields.");
        return HPE_USER;
    }
    if (count_header_bytes(c, 4))
        return HPE_USER;
    yq_req_t *r = &p->req;
    if (r->nheaders == p->hcap) {
        size_t cap = p->hcap ? p->hcap * 2 : 16;
        yq_header_t *h = yq_arena_alloc(r->arena, cap * sizeof *h);
        if (r->nheaders)
            memcpy(h, r->headers, r->nheaders * sizeof *h);
        r->headers = h;
        p->hcap = cap;
    }
    char *name = yq_arena_strndup(r->arena, c->field.data ? c->field.data : "", c->field.len);
    for (char *s = name; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    /* Trailing whitespace is not part of the value (RFC 9110 section 5.5). */
    size_t vlen = c->value.len;
    while (vlen && (c->value.data[vlen - 1] == ' ' || c->value.data[vlen - 1] == '\t'))
        vlen--;
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = yq_arena_strndup(r->arena, c->value.data ? c->value.data : "", vlen);
    r->nheaders++;
    if (strcmp(name, "host") == 0)
        c->host_count++;
    yq_buf_reset(&c->field);
    yq_buf_reset(&c->value);
    return 0;
}

static yq_method_t method_of(uint8_t m) {
    switch (m) {
    case HTTP_GET:
        return YQ_M_GET;
    case HTTP_HEAD:
        return YQ_M_HEAD;
    case HTTP_POST:
        return YQ_M_POST;
    case HTTP_PUT:
        return YQ_M_PUT;
    case HTTP_PATCH:
        return YQ_M_PATCH;
    case HTTP_DELETE:
        return YQ_M_DELETE;
    case HTTP_OPTIONS:
        return YQ_M_OPTIONS;
    default:
        return YQ_M_OTHER;
    }
}

/* Splits the target into path and query. Origin-form ("/p?q") and
 * absolute-form ("http://host/p?q", RFC 9112 section 3.2.2) are accepted;
 * "*" only for OPTIONS. Returns 0 or -1. */
static int split_target(yq_req_t *r) {
    const char *t = r->target;
    if (strcmp(t, "*") == 0 && r->method == YQ_M_OPTIONS) {
        r->path = "*";
        r->query = "";
        return 0;
    }
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
        t = strchr(t, ':') + 3;
        t += strcspn(t, "/?#");
        if (*t != '/')
            t = *t ? NULL : "/";
        if (!t)
            return -1;
    }
    if (t[0] != '/')
        return -1;
    size_t n = strcspn(t, "?#");
    r->path = yq_arena_strndup(r->arena, t, n);
    if (t[n] == '?') {
        const char *q = t + n + 1;
        r->query = yq_arena_strndup(r->arena, q, strcspn(q, "#"));
    }
    return 0;
}

/* The client address: the peer, or the last X-Forwarded-For hop when the peer
 * is the trusted proxy (the proxy appends the address it saw). */
static void set_peer(yq_conn_t *c, yq_req_t *r) {
    if (!settings.trusted_proxy || strcmp(c->peer, settings.trusted_proxy) != 0)
        return;
    const char *xff = yq_req_header(r, "x-forwarded-for");
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    size_t n = strcspn(last, " \t");
    if (n > 0 && n < sizeof r->peer)
        snprintf(r->peer, sizeof r->peer, "%.*s", (int)n, last);
}

static int on_headers_complete(llhttp_t *parser) {
    yq_conn_t *c = conn_of(parser);
    pending_t *p = c->cur;
    yq_req_t *r = &p->req;
    p->headers_done = 1;
    r->start_ns = uv_hrtime();
    r->method = method_of(parser->method);
    r->method_name = llhttp_method_name((llhttp_method_t)parser->method);
    r->http_major = parser->http_major;
    r->http_minor = parser->http_minor;
    r->target = yq_arena_strndup(r->arena, c->url.data ? c->url.data : "", c->url.len);
    if (!r->headers)
        r->headers = yq_arena_alloc(r->arena, sizeof(yq_header_t));
    set_peer(c, r);
    if (split_target(r)) {
        conn_fail(c, 400, "bad_request", "The request target is not a path.");
        return -1;
    }
    /* RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one before. */
    int v11 = r->http_major == 1 && r->http_minor >= 1;
    if ((v11 && c->host_count != 1) || c->host_count > 1) {
        conn_fail(c, 400, "bad_request", c->host_count ? "Repeated Host header." : "Missing Host header.");
        return -1;
    }
    const yq_route_t *route = NULL;
    if (yq_router_match(r, &route, NULL, 0) == YQ_ROUTE_FOUND) {
        r->route = route;
        if (route->max_body)
            p->max_body = route->max_body;
    }
    int chunked = (parser->flags & F_CHUNKED) != 0;
    int has_body = chunked || ((parser->flags & F_CONTENT_LENGTH) && parser->content_length > 0);
    if ((parser->flags & F_CONTENT_LENGTH) && parser->content_length > p->max_body) {
        conn_fail(c, 413, "body_too_large", "The request body is larger than this path accepts.");
        return -1;
    }
    const char *te = yq_req_header(r, "transfer-encoding");
    if (te && strcasecmp(te, "chunked") != 0) {
        /* RFC 9112 section 6.1: a coding we do not implement. */
        conn_fail(c, 501, "not_implemented", "Only the chunked transfer coding is supported.");
        return -1;
    }
    const char *expect = yq_req_header(r, "expect");
    if (expect && v11) {
        if (strcasecmp(expect, "100-continue") != 0) {
            conn_fail(c, 417, "expectation_failed", "Only Expect: 100-continue is supported.");
            return -1;
        }
        p->send_continue = has_body;
    }
    enqueue(c, p);
    if (has_body)
        timer_start(c, settings.idle_timeout_ms);
    else
        timer_stop(c);
    if (p->send_continue)
        c->flush_wanted = 1; /* written at the end of this parse, in its turn */
    return 0;
}

static int on_body(llhttp_t *parser, const char *at, size_t n) {
    yq_conn_t *c = conn_of(parser);
    c->scan_pos = at + n;
    pending_t *p = c->cur;
    if (p->body.len + n > p->max_body) {
        conn_fail(c, 413, "body_too_large", "The request body is larger than this path accepts.");
        return HPE_USER;
    }
    yq_buf_append(&p->body, at, n);
    return 0;
}

/* A chunk that announces more than the limit allows is refused before its
 * data arrives (llhttp puts the chunk size in content_length here). */
static int on_chunk_header(llhttp_t *parser) {
    yq_conn_t *c = conn_of(parser);
    pending_t *p = c->cur;
    if (p && parser->content_length > p->max_body - p->body.len) {
        conn_fail(c, 413, "body_too_large", "The request body is larger than this path accepts.");
        return HPE_USER;
    }
    return 0;
}

static int on_message_complete(llhttp_t *parser) {
    yq_conn_t *c = conn_of(parser);
    pending_t *p = c->cur;
    c->cur = NULL;
    p->send_continue = 0; /* the body is here: no interim response needed any more */
    p->keep_alive = llhttp_should_keep_alive(parser) && !llhttp_get_upgrade(parser);
    if (!p->keep_alive || c->draining)
        c->stop_parsing = 1;
    p->req.body = p->body.data ? p->body.data : "";
    p->req.body_len = p->body.len;
    c->ready = p;
    timer_stop(c);
    return HPE_PAUSED;
}

static void init_parser_settings(void) {
    if (parser_settings_ready)
        return;
    llhttp_settings_init(&parser_settings);
    parser_settings.on_message_begin = on_message_begin;
    parser_settings.on_method = on_span;
    parser_settings.on_url = on_url;
    parser_settings.on_version = on_span;
    parser_settings.on_header_field = on_header_field;
    parser_settings.on_header_value = on_header_value;
    parser_settings.on_header_value_complete = on_header_value_complete;
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_chunk_header = on_chunk_header;
    parser_settings.on_message_complete = on_message_complete;
    parser_settings_ready = 1;
}

/* ---- parsing loop -------------------------------------------------------- */

static void dispatch_ready(yq_conn_t *c) {
    pending_t *p = c->ready;
    c->ready = NULL;
    if (!p)
        return;
    p->dispatched = 1;
    /* A request pipelined behind one that may write is parsed only once that
     * one is answered, so that it sees the write (its transaction is then
     * committed). Reads alone are dispatched back to back. */
    p->writes = p->req.method != YQ_M_GET && p->req.method != YQ_M_HEAD;
    c->writes_out += p->writes;
    ninflight++;
    yq_http_dispatch(&p->req);
}

/* Runs the parser over len bytes, dispatching each complete request. Input
 * that arrives while MAX_PIPELINE requests are queued is kept in inbuf and
 * reading pauses until the queue drains (conn_pump). */
static void conn_process(yq_conn_t *c, const char *data, size_t len) {
    const char *p = data, *end = data + len;
    c->in_parse = 1;
    while (p < end && !c->closing && !c->stop_parsing) {
        if (c->nqueue >= MAX_PIPELINE && c->flush_wanted) {
            /* Answered responses count too: write them out first. */
            c->in_parse = 0;
            conn_flush(c);
            c->in_parse = 1;
            continue;
        }
        if (c->nqueue >= MAX_PIPELINE || c->writes_out) {
            yq_buf_append(&c->inbuf, p, (size_t)(end - p));
            c->read_paused = 1;
            if (!c->loopback && c->reading) {
                uv_read_stop((uv_stream_t *)&c->tcp);
                c->reading = 0;
            }
            break;
        }
        c->scan_pos = p;
        c->in_llhttp = 1;
        llhttp_errno_t err = llhttp_execute(&c->parser, p, (size_t)(end - p));
        c->in_llhttp = 0;
        if (err == HPE_OK) {
            if (c->cur && !c->cur->headers_done && memchr(c->scan_pos, '\n', (size_t)(end - c->scan_pos)))
                c->gap_lf = 1;
            break;
        }
        if (err == HPE_PAUSED) {
            p = llhttp_get_error_pos(&c->parser);
            llhttp_resume(&c->parser);
            dispatch_ready(c);
            continue;
        }
        if (err == HPE_PAUSED_UPGRADE) { /* no upgrades: answer, then close */
            c->stop_parsing = 1;
            dispatch_ready(c);
            break;
        }
        if (!c->stop_parsing) {
            const char *reason = llhttp_get_error_reason(&c->parser);
            yq_log_info("%s: bad request: %s", c->peer, reason ? reason : llhttp_errno_name(err));
            conn_fail(c, 400, "bad_request", "The request is not valid HTTP/1.1.");
        }
        break;
    }
    c->in_parse = 0;
    if (c->flush_wanted)
        conn_flush(c);
}

/* Resumes parsing held input once the pipeline has room again. */
static void conn_pump(yq_conn_t *c) {
    while (c->read_paused && !c->closing && !c->in_parse && c->nqueue < MAX_PIPELINE / 2 && !c->writes_out) {
        c->read_paused = 0;
        yq_buf_t held = c->inbuf;
        memset(&c->inbuf, 0, sizeof c->inbuf);
        if (!c->stop_parsing && !c->shutting)
            conn_process(c, held.data, held.len);
        yq_buf_free(&held);
    }
    if (!c->read_paused && !c->closing && !c->loopback && !c->reading && !c->eof)
        start_reading(c);
}

/* ---- writing ------------------------------------------------------------- */

static void after_write(uv_write_t *req, int status) {
    write_req_t *w = (write_req_t *)req;
    yq_conn_t *c = req->handle->data;
    free(w->data);
    free(w);
    c->writes_pending--;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (!c->shutting && !(c->cur && !c->cur->headers_done))
        timer_start(c, settings.idle_timeout_ms);
}

/* Sends len bytes now or queues them (the caller keeps data). A client whose
 * unsent bytes have passed the bound when more is to be sent is cut (so one
 * response of any size still goes out). */
static void conn_send(yq_conn_t *c, const char *data, size_t len) {
    size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    if (queued > settings.max_write_queue) {
        yq_log_warn("%s: client does not read its responses (%zu bytes queued); closing", c->peer, queued);
        conn_close(c);
        return;
    }
    size_t off = 0;
    if (!c->writes_pending) {
        /* The common case: the socket takes it all now, nothing is queued. */
        uv_buf_t now = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &now, 1);
        if (n < 0 && n != UV_EAGAIN) {
            conn_close(c);
            return;
        }
        off = n > 0 ? (size_t)n : 0;
        if (off == len)
            return;
    }
    write_req_t *w = yq_xmalloc(sizeof *w);
    w->len = len - off;
    w->data = yq_xmalloc(w->len);
    memcpy(w->data, data + off, w->len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
    int err = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, after_write);
    if (err) {
        free(w->data);
        free(w);
        conn_close(c);
        return;
    }
    c->writes_pending++;
}

/* ---- held answers -----------------------------------------------------------
 *
 * The group commit (db/batch.h) answers its jobs as soon as their COMMIT has
 * written the WAL, inside a hold scope (yq_conn_hold_begin/end): what those
 * answers would write to a socket is kept instead, as one item per
 * connection, and handed with the commit to the WAL sync thread. That thread
 * sends the items right after the fdatasync that makes the commit durable
 * (yq_conn_held_send), so no byte of an answer leaves before its write is on
 * disk, and the loop does not spend its time in the TCP stack. The items come
 * back to the loop (yq_conn_held_finish), which writes whatever the thread
 * could not (a full socket buffer) through libuv as usual.
 *
 * Order on a connection is kept by these rules:
 *   - while items are out, bytes answered outside a hold wait in `behind`;
 *     they go out when the last item is back, or join the connection's next
 *     item (they were answered before it);
 *   - an item is the thread's to write only when libuv has nothing queued
 *     for the connection and no earlier item is the loop's; otherwise the
 *     loop writes it when it comes back (items come back in order);
 *   - once the thread fails to write an item whole it marks the connection
 *     stalled and leaves its later items to the loop.
 * A connection with items out is neither closed nor shut down (its socket
 * must stay the same file); that waits for the last item. If the fdatasync
 * failed, nothing is sent: those connections are closed unanswered. */
typedef struct {
    yq_conn_t *c;        /* loop side only */
    int fd;              /* the socket; -1: the loop writes this item */
    atomic_int *stalled; /* the connection's */
    char *data;          /* set at yq_conn_hold_end: own, or in the scope's bytes at off */
    char *own;           /* a second answer in one scope: the item's bytes, copied together */
    size_t off, len;
    size_t sent; /* by the thread */
    int failed;  /* the thread's send failed (not for a full buffer) */
} held_item_t;

struct yq_held {
    held_item_t *items;
    size_t n;
    yq_buf_t bytes; /* the items' bytes, one after the other */
};

static struct {
    int on;
    uint64_t scope; /* the number of the current or last scope */
    held_item_t *items;
    size_t n, cap;
    yq_buf_t bytes;
} hold;

void yq_conn_hold_begin(void) {
    hold.on = 1;
    hold.scope++;
    hold.items = NULL;
    hold.n = hold.cap = 0;
    memset(&hold.bytes, 0, sizeof hold.bytes);
}

yq_held_t *yq_conn_hold_end(void) {
    hold.on = 0;
    if (!hold.n)
        return NULL;
    yq_held_t *h = yq_xmalloc(sizeof *h);
    *h = (yq_held_t){hold.items, hold.n, hold.bytes};
    for (size_t i = 0; i < h->n; i++)
        h->items[i].data = h->items[i].own ? h->items[i].own : h->bytes.data + h->items[i].off;
    hold.items = NULL;
    hold.n = hold.cap = 0;
    memset(&hold.bytes, 0, sizeof hold.bytes);
    return h;
}

static void held_add(yq_conn_t *c, const char *data, size_t len) {
    if (c->held && c->held_scope == hold.scope) { /* a second answer in this scope */
        held_item_t *it = &hold.items[c->held_index];
        char *both = yq_xmalloc(it->len + len);
        memcpy(both, it->own ? it->own : hold.bytes.data + it->off, it->len);
        memcpy(both + it->len, data, len);
        free(it->own);
        it->own = both;
        it->len += len;
        return;
    }
    if (hold.n == hold.cap) {
        hold.cap = hold.cap ? 2 * hold.cap : 64;
        hold.items = yq_xrealloc(hold.items, hold.cap * sizeof *hold.items);
    }
    held_item_t *it = &hold.items[hold.n];
    uv_os_fd_t fd = -1;
    int direct = !c->writes_pending && !c->held_loop && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0;
    size_t before = c->behind.len;
    *it = (held_item_t){
        .c = c, .fd = direct ? fd : -1, .stalled = &c->stalled, .off = hold.bytes.len, .len = before + len};
    if (before)
        yq_buf_append(&hold.bytes, c->behind.data, before);
    yq_buf_append(&hold.bytes, data, len);
    yq_buf_reset(&c->behind);
    c->held++;
    c->held_loop += !direct;
    c->held_scope = hold.scope;
    c->held_index = hold.n++;
}

/* On the sync thread: touches nothing but the items. */
void yq_conn_held_send(yq_held_t *h, int err) {
    for (size_t i = 0; i < h->n && !err; i++) {
        held_item_t *it = &h->items[i];
        if (it->fd < 0 || atomic_load(it->stalled))
            continue;
        while (it->sent < it->len) {
            ssize_t n = send(it->fd, it->data + it->sent, it->len - it->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                it->sent += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            it->failed = n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
            break;
        }
        if (it->sent < it->len)
            atomic_store(it->stalled, 1);
    }
}

static void held_done(yq_conn_t *c);

void yq_conn_held_finish(yq_held_t *h, int err) {
    if (err) /* logged as made (yq_reply): say they never left */
        yq_log_error("%zu answers of a commit not sent: its fdatasync failed; their connections are closed", h->n);
    for (size_t i = 0; i < h->n; i++) {
        held_item_t *it = &h->items[i];
        yq_conn_t *c = it->c;
        c->held--;
        c->held_loop -= it->fd < 0;
        if (err || it->failed)
            conn_close(c); /* deferred while other items are out */
        else if (!c->closing && it->sent < it->len)
            conn_send(c, it->data + it->sent, it->len - it->sent);
        else if (!c->closing && !c->shutting && !(c->cur && !c->cur->headers_done))
            timer_start(c, settings.idle_timeout_ms); /* as after_write */
        free(it->own);
        if (!c->held)
            held_done(c);
    }
    free(h->items);
    yq_buf_free(&h->bytes);
    free(h);
}

/* Sends (or queues) the bytes in b; the caller keeps b. */
static void conn_write(yq_conn_t *c, yq_buf_t *b) {
    if (c->loopback) {
        if (!c->loop_closed)
            yq_buf_append(&c->loop_out, b->data, b->len);
        return;
    }
    if (hold.on)
        held_add(c, b->data, b->len);
    else if (c->held)
        yq_buf_append(&c->behind, b->data, b->len);
    else
        conn_send(c, b->data, b->len);
}

/* 1 while a request whose headers have arrived is not yet answered. */
static int has_inflight(const yq_conn_t *c) {
    return c->head != NULL || (c->cur && c->cur->headers_done) || c->ready != NULL;
}

/* 1 while a dispatched request still has a response to send. Requests are
 * dispatched in order, so looking at the head suffices; a request whose body
 * was still arriving will never be complete after the peer's EOF. */
static int answers_pending(const yq_conn_t *c) {
    return c->head && c->head->dispatched;
}

/* Writes the answered responses at the head of the queue, in order. */
static void conn_flush(yq_conn_t *c) {
    if (c->in_parse) {
        c->flush_wanted = 1;
        return;
    }
    c->flush_wanted = 0;
    if (c->closing)
        return;
    /* One scratch buffer for every flush: the loop is single-threaded and
     * conn_write copies whatever the socket does not take at once. */
    static yq_buf_t out;
    yq_buf_reset(&out);
    int last = 0;
    while (c->head && !last) {
        pending_t *p = c->head;
        if (p->send_continue && !p->done) {
            yq_buf_puts(&out, "HTTP/1.1 100 Continue\r\n\r\n");
            p->send_continue = 0;
        }
        if (!p->done)
            break;
        /* Serialised now, not at yq_reply, so that a drain that began in
         * between is announced with Connection: close. */
        int keep = p->keep_alive && !c->draining;
        yq_response_serialize(&out, &p->req, p->status, p->ctype, p->out.data, p->resp_bytes, keep);
        last = !p->keep_alive;
        c->head = p->next;
        if (!c->head)
            c->tail = NULL;
        c->nqueue--;
        pending_free(p);
    }
    c->ready_bytes = 0;
    if (out.len)
        conn_write(c, &out);
    if (out.cap > 1024 * 1024)
        yq_buf_free(&out);
    if (c->closing)
        return;
    if (last)
        c->close_after_write = 1;
    if (c->close_after_write || (c->draining && !has_inflight(c)) || (c->eof && !answers_pending(c))) {
        conn_shutdown(c);
        return;
    }
    if (!c->head && !c->cur)
        timer_start(c, settings.idle_timeout_ms);
}

/* ---- yq_reply: the only way a request is answered ------------------------ */

static const char *route_label(const pending_t *p) {
    const yq_req_t *r = &p->req;
    if (r->route)
        return r->route->name ? r->route->name : r->route->pattern;
    if (p->engine_error)
        return "invalid";
    return strncmp(r->path, "/api/", 5) == 0 ? "unmatched" : "static";
}

/* The path for the access log. Paths that carry a secret (the calendar feed's
 * token) are logged as their pattern. */
static const char *log_path(const yq_req_t *r) {
    if (r->route && (strstr(r->route->pattern, "{token}") || strstr(r->route->pattern, "{file}")))
        return r->route->pattern;
    return r->path;
}

void yq_reply(yq_req_t *req, int status, const char *content_type, const void *body, size_t len) {
    pending_t *p = req->conn_private;
    if (req->replied) {
        yq_log_error("second reply to %s %s ignored", req->method_name, req->path);
        return;
    }
    req->replied = 1;
    p->done = 1;
    p->status = status;
    p->resp_bytes = len;
    if (ninflight)
        ninflight--;
    uint64_t micros = (uv_hrtime() - req->start_ns) / 1000;
    yq_metrics_request(route_label(p), status, micros);
    yq_log_info("%s %s %s %d %zu %lluus", req->peer, req->method_name, log_path(req), status, len,
                (unsigned long long)micros);
    yq_conn_t *c = p->conn;
    if (c && p->writes)
        c->writes_out--;
    if (!c) { /* orphaned: the client has gone */
        pending_free(p);
        return;
    }
    /* Kept until the response is written in its turn (see conn_flush). */
    p->ctype = content_type ? yq_arena_strdup(req->arena, content_type) : NULL;
    if (req->method != YQ_M_HEAD && len)
        yq_buf_append(&p->out, body, len);
    if (c->head == p) {
        c->ready_bytes += len;
        /* Within a parse, small responses are batched into one write; large
         * ones go out at once so a non-reading client meets the write bound. */
        if (c->in_parse && !c->in_llhttp && c->ready_bytes >= FLUSH_BATCH) {
            c->in_parse = 0;
            conn_flush(c);
            c->in_parse = 1;
        } else {
            conn_flush(c);
        }
    }
    if (!c->closing && c->read_paused && !c->in_parse)
        conn_pump(c);
}

/* ---- closing ------------------------------------------------------------- */

static void conn_free(yq_conn_t *c) {
    yq_buf_free(&c->url);
    yq_buf_free(&c->field);
    yq_buf_free(&c->value);
    yq_buf_free(&c->inbuf);
    yq_buf_free(&c->loop_out);
    yq_buf_free(&c->behind);
    free(c);
}

static void on_close(uv_handle_t *h) {
    yq_conn_t *c = h->data;
    if (--c->nhandles > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nlive--;
    yq_metrics_connections(-1);
    conn_free(c);
    if (settings.on_closed)
        settings.on_closed();
}

/* Drops the queue: answered responses are freed, requests still with a
 * handler are orphaned (freed by their yq_reply). */
static void drop_requests(yq_conn_t *c) {
    if (c->cur && !c->cur->queued)
        pending_free(c->cur);
    if (c->ready && !c->ready->queued)
        pending_free(c->ready);
    c->cur = c->ready = NULL;
    pending_t *p = c->head;
    while (p) {
        pending_t *next = p->next;
        if (p->dispatched && !p->done)
            p->conn = NULL;
        else
            pending_free(p);
        p = next;
    }
    c->head = c->tail = NULL;
    c->nqueue = 0;
}

static void conn_close(yq_conn_t *c) {
    if (c->closing)
        return;
    c->closing = 1;
    c->stop_parsing = 1;
    drop_requests(c);
    if (c->loopback) {
        c->loop_closed = 1;
        return;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (c->held) { /* the sync thread may still write to the socket */
        c->close_deferred = 1;
        return;
    }
    uv_close((uv_handle_t *)&c->timer, on_close);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void after_shutdown(uv_shutdown_t *req, int status) {
    yq_conn_t *c = req->handle->data;
    if (c->closing)
        return;
    if (status < 0 || c->eof || c->draining) {
        conn_close(c);
        return;
    }
    timer_start(c, LINGER_MS);
}

static void conn_shutdown(yq_conn_t *c) {
    if (c->shutting || c->closing)
        return;
    c->shutting = 1;
    c->stop_parsing = 1;
    if (c->loopback) {
        c->loop_closed = 1;
        return;
    }
    c->read_paused = 0;
    yq_buf_free(&c->inbuf);
    if (!c->reading && !c->eof)
        conn_pump(c);
    timer_stop(c);
    if (c->held) { /* after the held answers */
        c->shutdown_deferred = 1;
        return;
    }
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, after_shutdown))
        conn_close(c);
}

/* The last held item of c is back: what waited for it now happens. */
static void held_done(yq_conn_t *c) {
    atomic_store(&c->stalled, 0);
    if (c->close_deferred) {
        c->close_deferred = 0;
        yq_buf_free(&c->behind);
        uv_close((uv_handle_t *)&c->timer, on_close);
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    if (c->closing)
        return;
    if (c->behind.len) {
        conn_send(c, c->behind.data, c->behind.len);
        yq_buf_free(&c->behind);
    }
    if (c->shutdown_deferred && !c->closing) {
        c->shutdown_deferred = 0;
        if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, after_shutdown))
            conn_close(c);
    }
}

/* ---- reading ------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    /* One buffer for every connection: the loop is single-threaded and each
     * read is consumed (parsed or copied) before the next one. */
    static char shared[READ_BUF_SIZE];
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(shared, sizeof shared);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    yq_conn_t *c = s->data;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF) {
            conn_close(c);
            return;
        }
        c->eof = 1;
        uv_read_stop(s);
        c->reading = 0;
        if (c->shutting || !answers_pending(c))
            conn_close(c);
        else if (!c->read_paused) /* held input is complete bytes: still parsed */
            c->stop_parsing = 1;
        return;
    }
    if (nread == 0 || c->stop_parsing)
        return; /* after the last request: drained and discarded */
    if (c->cur && c->cur->headers_done)
        timer_start(c, settings.idle_timeout_ms); /* body progress */
    conn_process(c, buf->base, (size_t)nread);
    if (c->read_paused)
        conn_pump(c);
}

static void start_reading(yq_conn_t *c) {
    if (!uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
        c->reading = 1;
}

/* ---- accepting ----------------------------------------------------------- */

static void conn_init(yq_conn_t *c) {
    init_parser_settings();
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
}

int yq_conn_accept(uv_loop_t *loop, uv_stream_t *listener) {
    yq_conn_t *c = yq_xcalloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->nhandles = 1;
    int err = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (err) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return err;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->nhandles = 2;
    conn_init(c);
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(c->peer, sizeof c->peer, "-");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof c->peer);
        else
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof c->peer);
    }
    c->next = live;
    if (live)
        live->prev = c;
    live = c;
    nlive++;
    yq_metrics_connections(1);
    timer_start(c, settings.header_timeout_ms);
    start_reading(c);
    return 0;
}

static void on_refused_close(uv_handle_t *h) {
    free(h);
}

void yq_conn_refuse(uv_loop_t *loop, uv_stream_t *listener) {
    uv_tcp_t *t = yq_xmalloc(sizeof *t);
    uv_tcp_init(loop, t);
    uv_accept(listener, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_refused_close);
}

void yq_conn_drain_all(void) {
    for (yq_conn_t *c = live, *next; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        c->draining = 1;
        if (has_inflight(c))
            continue;
        if ((c->writes_pending || c->held) && !c->shutting)
            conn_shutdown(c); /* the last response first, then close */
        else if (!c->writes_pending && !c->held)
            conn_close(c);
    }
}

void yq_conn_abort_all(void) {
    for (yq_conn_t *c = live, *next; c; c = next) {
        next = c->next;
        conn_close(c);
    }
}

/* ---- loopback ------------------------------------------------------------ */

yq_conn_t *yq_conn_loopback_new(void) {
    yq_conn_t *c = yq_xcalloc(1, sizeof *c);
    c->loopback = 1;
    snprintf(c->peer, sizeof c->peer, "loopback");
    conn_init(c);
    return c;
}

void yq_conn_loopback_feed(yq_conn_t *c, const void *data, size_t len) {
    if (c->closing || c->stop_parsing || len == 0)
        return;
    if (c->read_paused) { /* the socket would not be read now: the kernel keeps the bytes */
        yq_buf_append(&c->inbuf, data, len);
        return;
    }
    conn_process(c, data, len);
    if (c->read_paused)
        conn_pump(c);
}

void yq_conn_loopback_eof(yq_conn_t *c) {
    if (c->closing)
        return;
    c->eof = 1;
    c->stop_parsing = 1;
    if (c->shutting || !answers_pending(c))
        conn_close(c);
}

const yq_buf_t *yq_conn_loopback_output(yq_conn_t *c) {
    return &c->loop_out;
}

int yq_conn_loopback_closed(const yq_conn_t *c) {
    return c->loop_closed;
}

void yq_conn_loopback_free(yq_conn_t *c) {
    conn_close(c);
    conn_free(c);
}
