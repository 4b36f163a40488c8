/*
 * WAL writes combined (see wal_writes.h).
 *
 * SQLite appends a transaction to the WAL one frame at a time, each frame
 * two xWrite calls (a 24-byte header, then the page). This shim over the
 * default VFS keeps a WAL file's consecutive writes in a buffer and hands
 * them to the file when the commit frame is complete, so a commit of N
 * frames costs one pwrite per 96 KiB instead of 2N. Everything else goes
 * straight to the file underneath.
 *
 * The rules that keep it exactly as safe as writing through:
 * - The commit frame is the one whose header's second word (the database
 *   size after the commit) is not zero. Its page's xWrite flushes the buffer
 *   and returns the result of that write: a failure fails the COMMIT in
 *   SQLite as it would without the buffer, and the buffered frames are
 *   dropped (SQLite treats the frames of a failed commit as never written).
 * - Any other access to the file (read, size, sync, truncate, lock change,
 *   file control, close) flushes first, so nothing ever observes the file
 *   without the buffered bytes. SQLite publishes new frames to readers in
 *   the WAL index only after a shared-memory barrier on the database file,
 *   and that barrier flushes the database's WAL too: frames are announced
 *   only once they are in the file, whatever wrote them.
 * - A write that is not the continuation of the buffer (SQLite rewriting a
 *   frame of the same transaction in place) flushes first and then goes
 *   through.
 * - A flush that fails outside a commit frame (a barrier, which cannot
 *   return an error) is kept: the next call on the file returns it.
 */
#include "db/wal_writes.h"

#include <stdlib.h>
#include <string.h>

#define BUF_MAX (4 * 1024 * 1024) /* past this the buffer is written out as it goes */

typedef struct wal_file {
    sqlite3_file base;  /* our methods */
    sqlite3_file *real; /* the default VFS's file, right after this struct */
    int wal;            /* a WAL file: writes are combined */
    unsigned char *buf; /* buffered bytes, for file offsets [off, off + len) */
    size_t len, cap;
    sqlite3_int64 off;
    int commit_next;       /* the last buffered write was a commit frame's header */
    int failed;            /* an error code from a flush nobody could be told of */
    struct wal_file *link; /* a database's open WAL, a WAL's database (both ours) */
} wal_file_t;

static sqlite3_vfs shim;
static sqlite3_vfs *real_vfs;

/* The unix VFS writes at most 128 KiB - 1 bytes per call. */
#define WRITE_MAX (96 * 1024)

static int flush(wal_file_t *f) {
    if (!f->len)
        return f->failed;
    int rc = SQLITE_OK;
    for (size_t at = 0; at < f->len && rc == SQLITE_OK; at += WRITE_MAX) {
        size_t n = f->len - at < WRITE_MAX ? f->len - at : WRITE_MAX;
        rc = f->real->pMethods->xWrite(f->real, f->buf + at, (int)n, f->off + (sqlite3_int64)at);
    }
    f->len = 0;
    if (rc != SQLITE_OK && !f->failed)
        f->failed = rc;
    return rc;
}

/* Flushes; returns the first error not yet returned, and forgets it. */
static int settle(wal_file_t *f) {
    flush(f);
    int rc = f->failed;
    f->failed = SQLITE_OK;
    return rc;
}

static int buffer(wal_file_t *f, const void *data, int n, sqlite3_int64 off) {
    size_t need = f->len + (size_t)n;
    if (need > f->cap) {
        size_t cap = f->cap ? f->cap : 256 * 1024;
        while (cap < need)
            cap *= 2;
        unsigned char *b = realloc(f->buf, cap);
        if (!b)
            return SQLITE_NOMEM;
        f->buf = b;
        f->cap = cap;
    }
    if (!f->len)
        f->off = off;
    memcpy(f->buf + f->len, data, (size_t)n);
    f->len = need;
    return SQLITE_OK;
}

/* A WAL frame header (24 bytes) whose database size word is set. */
static int is_commit_header(const void *data, int n) {
    const unsigned char *h = data;
    return n == 24 && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int x_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off) {
    wal_file_t *f = (wal_file_t *)file;
    if (!f->wal)
        return f->real->pMethods->xWrite(f->real, data, n, off);
    /* An error of a flush nobody could be told of (a barrier's) first. */
    int rc = f->failed;
    f->failed = SQLITE_OK;
    /* Not the buffer's continuation (a frame rewritten in place), or too
     * much: what is buffered goes out first. */
    if (rc == SQLITE_OK && f->len && (off != f->off + (sqlite3_int64)f->len || f->len + (size_t)n > BUF_MAX))
        rc = settle(f);
    if (rc != SQLITE_OK) {
        f->len = 0;
        f->commit_next = 0;
        return rc;
    }
    int completes_commit = f->commit_next;
    f->commit_next = is_commit_header(data, n);
    if (buffer(f, data, n, off) != SQLITE_OK) { /* no memory for it: write through */
        rc = settle(f);
        return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, n, off);
    }
    return completes_commit ? settle(f) : SQLITE_OK;
}

/* ---- everything else: flush, then the real file ---- */

#define REAL(file) (((wal_file_t *)(file))->real)
#define SETTLED(file)                                                                                                  \
    do {                                                                                                               \
        int rc_ = settle((wal_file_t *)(file));                                                                        \
        if (rc_ != SQLITE_OK)                                                                                          \
            return rc_;                                                                                                \
    } while (0)

static int x_close(sqlite3_file *file) {
    wal_file_t *f = (wal_file_t *)file;
    int rc = settle(f);
    free(f->buf);
    f->buf = NULL;
    if (f->link && f->link->link == f)
        f->link->link = NULL;
    int rc2 = f->real->pMethods->xClose(f->real);
    return rc != SQLITE_OK ? rc : rc2;
}

static int x_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off) {
    SETTLED(file);
    return REAL(file)->pMethods->xRead(REAL(file), out, n, off);
}

static int x_truncate(sqlite3_file *file, sqlite3_int64 size) {
    SETTLED(file);
    return REAL(file)->pMethods->xTruncate(REAL(file), size);
}

static int x_sync(sqlite3_file *file, int flags) {
    SETTLED(file);
    return REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int x_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    SETTLED(file);
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int x_lock(sqlite3_file *file, int level) {
    SETTLED(file);
    return REAL(file)->pMethods->xLock(REAL(file), level);
}

static int x_unlock(sqlite3_file *file, int level) {
    SETTLED(file);
    return REAL(file)->pMethods->xUnlock(REAL(file), level);
}

static int x_check_reserved_lock(sqlite3_file *file, int *out) {
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int x_file_control(sqlite3_file *file, int op, void *arg) {
    SETTLED(file);
    return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}

static int x_sector_size(sqlite3_file *file) {
    return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int x_device_characteristics(sqlite3_file *file) {
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int x_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out) {
    return REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend, out);
}

static int x_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

/* SQLite calls the barrier on the database file before it publishes new
 * frames in the WAL index (and so to every reader): the database's WAL is
 * flushed there whatever wrote it. An error stays in `failed` for the next
 * call on the WAL, since a barrier cannot return one. */
static void x_shm_barrier(sqlite3_file *file) {
    wal_file_t *f = (wal_file_t *)file;
    if (f->link && f->link->wal)
        flush(f->link);
    REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int x_shm_unmap(sqlite3_file *file, int delete_flag) {
    return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static int x_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out) {
    SETTLED(file);
    return REAL(file)->pMethods->xFetch(REAL(file), off, n, out);
}

static int x_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p) {
    return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

/* One table per version of the methods underneath: SQLite calls a method
 * only if the version says the file has it. */
#define METHODS(version)                                                                                               \
    {                                                                                                                  \
        version, x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock, x_unlock, x_check_reserved_lock,   \
            x_file_control, x_sector_size, x_device_characteristics, x_shm_map, x_shm_lock, x_shm_barrier,             \
            x_shm_unmap, x_fetch, x_unfetch,                                                                           \
    }
static const sqlite3_io_methods methods[3] = {METHODS(1), METHODS(2), METHODS(3)};

static int x_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    wal_file_t *f = (wal_file_t *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        f->base.pMethods = NULL;
        return rc;
    }
    /* Files other than a WAL (the database itself) pass straight through
     * the same methods; only a WAL's writes are buffered. */
    int version = f->real->pMethods->iVersion;
    f->base.pMethods = &methods[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
    if (flags & SQLITE_OPEN_WAL) {
        f->wal = 1;
        /* The database this WAL belongs to, opened through this VFS too. */
        sqlite3_file *db = sqlite3_database_file_object(name);
        if (db && db->pMethods >= methods && db->pMethods < methods + 3) {
            f->link = (wal_file_t *)db;
            f->link->link = f;
        }
    }
    return SQLITE_OK;
}

#define PASS(name, args, call)                                                                                         \
    static int name args {                                                                                             \
        (void)vfs;                                                                                                     \
        return real_vfs->call;                                                                                         \
    }

PASS(x_delete, (sqlite3_vfs * vfs, const char *path, int sync_dir), xDelete(real_vfs, path, sync_dir))
PASS(x_access, (sqlite3_vfs * vfs, const char *path, int flags, int *out), xAccess(real_vfs, path, flags, out))
PASS(x_full_pathname, (sqlite3_vfs * vfs, const char *path, int n, char *out), xFullPathname(real_vfs, path, n, out))
PASS(x_randomness, (sqlite3_vfs * vfs, int n, char *out), xRandomness(real_vfs, n, out))
PASS(x_sleep, (sqlite3_vfs * vfs, int us), xSleep(real_vfs, us))
PASS(x_current_time_int64, (sqlite3_vfs * vfs, sqlite3_int64 *out), xCurrentTimeInt64(real_vfs, out))
PASS(x_get_last_error, (sqlite3_vfs * vfs, int n, char *out), xGetLastError(real_vfs, n, out))

static void *x_dl_open(sqlite3_vfs *vfs, const char *path) {
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, path);
}

static void x_dl_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}

static void (*x_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, lib, sym);
}

static void x_dl_close(sqlite3_vfs *vfs, void *lib) {
    (void)vfs;
    real_vfs->xDlClose(real_vfs, lib);
}

static int x_current_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

int yq_wal_writes_register(void) {
    if (real_vfs)
        return SQLITE_OK;
    sqlite3_vfs *r = sqlite3_vfs_find(NULL);
    if (!r)
        return SQLITE_ERROR;
    shim = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(wal_file_t) + r->szOsFile,
        .mxPathname = r->mxPathname,
        .zName = YQ_WAL_WRITES_VFS,
        .xOpen = x_open,
        .xDelete = x_delete,
        .xAccess = x_access,
        .xFullPathname = x_full_pathname,
        .xDlOpen = x_dl_open,
        .xDlError = x_dl_error,
        .xDlSym = x_dl_sym,
        .xDlClose = x_dl_close,
        .xRandomness = x_randomness,
        .xSleep = x_sleep,
        .xCurrentTime = x_current_time,
        .xGetLastError = x_get_last_error,
        .xCurrentTimeInt64 = x_current_time_int64,
    };
    real_vfs = r;
    int rc = sqlite3_vfs_register(&shim, 0);
    if (rc != SQLITE_OK)
        real_vfs = NULL;
    return rc;
}
