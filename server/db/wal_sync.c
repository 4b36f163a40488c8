/*
 * WAL sync thread (see wal_sync.h).
 *
 * State shared with the thread is guarded by S.mu: `requested` is the newest
 * sequence number handed out, `synced` the newest one on disk. The thread
 * sleeps on S.cv until requested > synced, syncs, publishes `synced` and
 * wakes the loop through S.async. The WAL file is opened by path
 * (DB-wal); it is reopened when its inode changes, which happens only if
 * every connection closed it meanwhile.
 */
#include "db/wal_sync.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/metrics.h"

static struct {
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    uv_async_t async;
    yq_wal_synced_fn on_synced;
    char path[4096]; /* the WAL file */
    int fd;          /* used by whoever syncs: the thread, or the loop once it joined */
    ino_t ino;
    uint64_t requested, synced;
    int failed; /* a sync failed since the loop last looked */
    int quit;
    int started;
    yq_wal_sync_stats_t stats;
    struct after {
        uint64_t seq;
        yq_wal_after_fn fn;
        void *arg;
    } * after; /* to run once their commit is on disk, oldest first */
    size_t nafter, capafter;
} S = {.fd = -1};

/* Runs (unlocked) the work attached to commits up to `target`; called with
 * S.mu held, returns with it held. */
static void run_after(uint64_t target, int err) {
    while (S.nafter && S.after[0].seq <= target) {
        size_t n = 0;
        while (n < S.nafter && S.after[n].seq <= target && n < 64)
            n++;
        struct after now[64];
        memcpy(now, S.after, n * sizeof *now);
        memmove(S.after, S.after + n, (S.nafter - n) * sizeof *S.after);
        S.nafter -= n;
        uv_mutex_unlock(&S.mu);
        for (size_t i = 0; i < n; i++)
            now[i].fn(now[i].arg, err);
        uv_mutex_lock(&S.mu);
    }
}

static int sync_dir(void) {
    char dir[sizeof S.path];
    snprintf(dir, sizeof dir, "%s", S.path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        yq_log_error("wal sync: fsync of the directory %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* fdatasync of the WAL file; 0 or -1 (logged). */
static int sync_wal(void) {
    struct stat st;
    if (stat(S.path, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* no WAL file: every commit is in the database file */
        yq_log_error("wal sync: stat %s: %s", S.path, strerror(errno));
        return -1;
    }
    if (S.fd >= 0 && st.st_ino != S.ino) {
        close(S.fd);
        S.fd = -1;
    }
    if (S.fd < 0) {
        S.fd = open(S.path, O_RDWR | O_CLOEXEC);
        if (S.fd < 0) {
            yq_log_error("wal sync: open %s: %s", S.path, strerror(errno));
            return -1;
        }
        S.ino = st.st_ino;
        /* A new WAL file's name must survive a crash too: sync its
         * directory once (SQLite would on its first sync of the file). */
        if (sync_dir() != 0)
            return -1;
    }
    if (fdatasync(S.fd) != 0) {
        yq_log_error("wal sync: fdatasync %s: %s", S.path, strerror(errno));
        return -1;
    }
    return 0;
}

static void thread_main(void *arg) {
    (void)arg;
    uv_mutex_lock(&S.mu);
    for (;;) {
        while (!S.quit && S.requested == S.synced)
            uv_cond_wait(&S.cv, &S.mu);
        if (S.requested == S.synced) /* quit with nothing left */
            break;
        uint64_t target = S.requested;
        uv_mutex_unlock(&S.mu);
        uint64_t t0 = uv_hrtime();
        int rc = sync_wal();
        uint64_t took = uv_hrtime() - t0;
        uv_mutex_lock(&S.mu);
        run_after(target, rc != 0);
        S.stats.sync_ns += took;
        S.synced = target;
        S.failed |= rc != 0;
        S.stats.syncs++;
        uv_async_send(&S.async);
    }
    uv_mutex_unlock(&S.mu);
}

static void on_async(uv_async_t *h) {
    (void)h;
    uv_mutex_lock(&S.mu);
    uint64_t synced = S.synced;
    int failed = S.failed;
    S.failed = 0;
    uv_mutex_unlock(&S.mu);
    S.on_synced(synced, failed);
}

static void collect(yq_buf_t *out) {
    yq_wal_sync_stats_t st;
    yq_wal_sync_stats(&st);
    yq_buf_printf(out,
                  "# HELP yiqi_wal_syncs_total fdatasync calls that made group commits durable.\n"
                  "# TYPE yiqi_wal_syncs_total counter\nyiqi_wal_syncs_total %llu\n"
                  "# HELP yiqi_wal_sync_seconds_total Time spent in those fdatasync calls.\n"
                  "# TYPE yiqi_wal_sync_seconds_total counter\nyiqi_wal_sync_seconds_total %.6f\n",
                  (unsigned long long)st.syncs, (double)st.sync_ns / 1e9);
}

int yq_wal_sync_start(uv_loop_t *loop, yq_db_t *db, yq_wal_synced_fn on_synced) {
    if (S.started)
        return 0;
    int n = snprintf(S.path, sizeof S.path, "%s-wal", yq_db_path(db));
    if (n < 0 || (size_t)n >= sizeof S.path)
        return UV_ENAMETOOLONG;
    S.on_synced = on_synced;
    S.requested = S.synced = 0;
    S.quit = S.failed = 0;
    int rc = uv_mutex_init(&S.mu);
    if (rc)
        return rc;
    if ((rc = uv_cond_init(&S.cv))) {
        uv_mutex_destroy(&S.mu);
        return rc;
    }
    if ((rc = uv_async_init(loop, &S.async, on_async)) || (rc = uv_thread_create(&S.thread, thread_main, NULL))) {
        if (!uv_is_closing((uv_handle_t *)&S.async) && S.async.loop)
            uv_close((uv_handle_t *)&S.async, NULL);
        uv_cond_destroy(&S.cv);
        uv_mutex_destroy(&S.mu);
        return rc;
    }
    static int collecting;
    if (!collecting++)
        yq_metrics_add_collector(collect);
    S.started = 1;
    return 0;
}

int yq_wal_sync_running(void) {
    return S.started;
}

uint64_t yq_wal_sync_request(void) {
    return yq_wal_sync_request_then(NULL, NULL);
}

uint64_t yq_wal_sync_request_then(yq_wal_after_fn fn, void *arg) {
    uv_mutex_lock(&S.mu);
    uint64_t seq = ++S.requested;
    if (fn) {
        if (S.nafter == S.capafter) {
            S.capafter = S.capafter ? 2 * S.capafter : 64;
            S.after = yq_xrealloc(S.after, S.capafter * sizeof *S.after);
        }
        S.after[S.nafter++] = (struct after){seq, fn, arg};
    }
    uv_cond_signal(&S.cv);
    uv_mutex_unlock(&S.mu);
    return seq;
}

void yq_wal_sync_stop(void) {
    if (!S.started)
        return;
    uv_mutex_lock(&S.mu);
    S.quit = 1;
    uv_cond_signal(&S.cv);
    uv_mutex_unlock(&S.mu);
    uv_thread_join(&S.thread); /* it syncs what was requested before it ends */
    S.started = 0;
    uv_mutex_lock(&S.mu);
    run_after(S.synced, S.failed); /* none left: the thread ran them (defensive) */
    uv_mutex_unlock(&S.mu);
    free(S.after);
    S.after = NULL;
    S.nafter = S.capafter = 0;
    uv_close((uv_handle_t *)&S.async, NULL);
    S.on_synced(S.synced, S.failed);
    S.failed = 0;
    if (S.fd >= 0)
        close(S.fd);
    S.fd = -1;
    uv_cond_destroy(&S.cv);
    uv_mutex_destroy(&S.mu);
}

void yq_wal_sync_stats(yq_wal_sync_stats_t *out) {
    if (!S.started) {
        *out = S.stats;
        return;
    }
    uv_mutex_lock(&S.mu);
    *out = S.stats;
    uv_mutex_unlock(&S.mu);
}
