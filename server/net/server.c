/*
 * The listener, signals and the graceful drain (see server.h).
 *
 * Life of the server: bind and listen; accept until SIGTERM or SIGINT; then
 * run the stop callbacks (background timers close their handles), close the
 * listener, close idle connections and let those with a request in flight
 * finish it (net/conn.c reads no new requests). When no connection and no
 * request is left, or drain_timeout_ms has passed (then everything still
 * open is closed), the server's own handles are closed and uv_run returns.
 *
 * Running out of descriptors: libuv's accept path closes a reserved
 * descriptor to accept and drop the waiting connections (uv__emfile_trick)
 * and then reports EMFILE; we do the same once more with our own reserve, so
 * the listener never stays readable with nothing accepted (no spin), and a
 * static file that cannot be opened answers 503. Over the connection cap a connection is accepted and closed at once.
 */
#include "net/server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "net/conn.h"

#define MAX_STOP_FNS 16

static struct {
    uv_loop_t *loop;
    yq_server_config_t cfg;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain_timer;
    int listening, stopping, finished;
    int reserve_fd;
    uint64_t last_emfile_log;
    struct {
        void (*fn)(void *ctx);
        void *ctx;
    } stop_fns[MAX_STOP_FNS];
    size_t nstop_fns;
} srv = {.reserve_fd = -1};

/* An unsigned number from the environment, or def when unset or invalid. */
static uint64_t env_u64(const char *name, uint64_t def) {
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return *end || v[0] == '-' ? def : (uint64_t)n;
}

void yq_server_config_defaults(yq_server_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 8080;
    cfg->max_connections = (int)env_u64("YIQI_MAX_CONNECTIONS", 10000);
    cfg->max_write_queue = (size_t)env_u64("YIQI_MAX_WRITE_QUEUE", 8 * 1024 * 1024);
    cfg->header_timeout_ms = env_u64("YIQI_HEADER_TIMEOUT_MS", 10000);
    cfg->idle_timeout_ms = env_u64("YIQI_IDLE_TIMEOUT_MS", 60000);
    cfg->drain_timeout_ms = env_u64("YIQI_DRAIN_TIMEOUT_MS", 10000);
    cfg->trusted_proxy = NULL;
}

void yq_server_on_stop(void (*fn)(void *ctx), void *ctx) {
    if (srv.nstop_fns < MAX_STOP_FNS) {
        srv.stop_fns[srv.nstop_fns].fn = fn;
        srv.stop_fns[srv.nstop_fns].ctx = ctx;
        srv.nstop_fns++;
    }
}

/* ---- stopping ------------------------------------------------------------ */

static void close_if_open(uv_handle_t *h) {
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

/* Everything has drained: close the server's own handles so uv_run returns. */
static void finish(void) {
    if (srv.finished)
        return;
    srv.finished = 1;
    close_if_open((uv_handle_t *)&srv.drain_timer);
    close_if_open((uv_handle_t *)&srv.sigterm);
    close_if_open((uv_handle_t *)&srv.sigint);
    yq_log_info("drained; stopping");
}

static void check_drained(void) {
    if (srv.stopping && !srv.finished && yq_conn_count() == 0 && yq_conn_inflight() == 0)
        finish();
}

static void on_conn_closed(void) {
    check_drained();
}

static void on_drain_timeout(uv_timer_t *t) {
    (void)t;
    yq_log_warn("drain timed out with %zu connections and %zu requests open; closing them", yq_conn_count(),
                yq_conn_inflight());
    yq_conn_abort_all();
    finish();
    /* Handlers that never answered may hold handles of their own. */
    uv_stop(srv.loop);
}

static void begin_stop(const char *why) {
    if (srv.stopping)
        return;
    srv.stopping = 1;
    yq_log_info("%s: stopping; %zu connections open, %zu requests in flight", why, yq_conn_count(), yq_conn_inflight());
    for (size_t i = 0; i < srv.nstop_fns; i++)
        srv.stop_fns[i].fn(srv.stop_fns[i].ctx);
    if (srv.listening) {
        uv_close((uv_handle_t *)&srv.listener, NULL);
        srv.listening = 0;
    }
    yq_conn_drain_all();
    uv_timer_start(&srv.drain_timer, on_drain_timeout, srv.cfg.drain_timeout_ms, 0);
    check_drained();
}

static void on_signal(uv_signal_t *s, int signum) {
    (void)s;
    begin_stop(signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- accepting ----------------------------------------------------------- */

/* Out of descriptors. libuv has already accepted and dropped the waiting
 * connections through its reserved descriptor (uv__emfile_trick); we drop one
 * more through our own reserve in case libuv had none, and log once a second. */
static void handle_emfile(int status) {
    uint64_t now = uv_now(srv.loop);
    if (now - srv.last_emfile_log >= 1000) {
        yq_log_warn("accept: %s; dropping new connections until descriptors are free", uv_strerror(status));
        srv.last_emfile_log = now;
    }
    if (srv.reserve_fd >= 0) {
        int lfd = -1;
        uv_fileno((uv_handle_t *)&srv.listener, (uv_os_fd_t *)&lfd);
        close(srv.reserve_fd);
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        srv.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
}

static void on_connection(uv_stream_t *listener, int status) {
    if (srv.stopping)
        return;
    if (status < 0) {
        if (status == UV_EMFILE || status == UV_ENFILE)
            handle_emfile(status);
        else
            yq_log_warn("accept: %s", uv_strerror(status));
        return;
    }
    if ((int)yq_conn_count() >= srv.cfg.max_connections) {
        yq_conn_refuse(srv.loop, listener);
        return;
    }
    int err = yq_conn_accept(srv.loop, listener);
    if (err == UV_EMFILE || err == UV_ENFILE)
        handle_emfile(err);
    else if (err && err != UV_EAGAIN)
        yq_log_warn("accept: %s", uv_strerror(err));
}

/* ---- binding ------------------------------------------------------------- */

static int resolve(const char *host, int port, struct sockaddr_storage *ss) {
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int err = uv_getaddrinfo(srv.loop, &req, NULL, host, NULL, &hints);
    if (err)
        return err;
    memcpy(ss, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

static void announce(void) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char name[64] = "?";
    int port = srv.cfg.port;
    if (uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, name, sizeof name);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, name, sizeof name);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    int v6 = strchr(name, ':') != NULL;
    fprintf(stderr, "listening on http://%s%s%s:%d\n", v6 ? "[" : "", name, v6 ? "]" : "", port);
    fflush(stderr);
}

int yq_server_run(uv_loop_t *loop, const yq_server_config_t *cfg) {
    memset(&srv.listener, 0, sizeof srv.listener);
    srv.loop = loop;
    srv.cfg = *cfg;
    srv.stopping = srv.finished = 0;
    signal(SIGPIPE, SIG_IGN); /* a peer that has gone shows up as EPIPE instead */
    yq_conn_settings_t cs = {
        .max_write_queue = cfg->max_write_queue,
        .header_timeout_ms = cfg->header_timeout_ms,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .trusted_proxy = cfg->trusted_proxy,
        .on_closed = on_conn_closed,
    };
    yq_conn_configure(&cs);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int err = resolve(cfg->host, cfg->port, &ss);
    if (err)
        return err;
    uv_tcp_init(loop, &srv.listener);
    err = uv_tcp_bind(&srv.listener, (struct sockaddr *)&ss, 0);
    if (!err)
        err = uv_listen((uv_stream_t *)&srv.listener, 511, on_connection);
    if (err) {
        uv_close((uv_handle_t *)&srv.listener, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        return err;
    }
    srv.listening = 1;
    srv.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    uv_timer_init(loop, &srv.drain_timer);
    uv_signal_init(loop, &srv.sigterm);
    uv_signal_init(loop, &srv.sigint);
    uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv.sigint, on_signal, SIGINT);
    announce();

    uv_run(loop, UV_RUN_DEFAULT);
    /* After uv_stop (drain timeout), let pending close callbacks run. */
    for (int i = 0; i < 8 && uv_loop_alive(loop) && srv.finished; i++)
        if (!uv_run(loop, UV_RUN_NOWAIT))
            break;
    if (srv.reserve_fd >= 0) {
        close(srv.reserve_fd);
        srv.reserve_fd = -1;
    }
    return 0;
}
