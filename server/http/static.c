/*
 * Static files from the web directory (see static.h).
 *
 * Two walls keep requests inside the root. First yq_path_decode() decodes the
 * path once and refuses dot segments, backslashes, NUL and leftover '%'.
 * Then the file is opened relative to the root's directory descriptor with
 * openat2(RESOLVE_BENEATH), which makes the kernel refuse any resolution,
 * symlinks included, that would leave the root; where openat2 is missing
 * (Linux < 5.6) realpath() and a prefix check do the same job.
 *
 * Files are small UI assets, read whole with pread() on the loop thread (they
 * come from the page cache); files up to 64 KiB stay in a small cache that is
 * revalidated with one fstatat() per request. The ETag is the size and the modification time
 * in nanoseconds; hashed names under /assets/ never change and are cached
 * for a year, everything else is revalidated (no-cache).
 */
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/path.h"

#define MAX_FILE (64 * 1024 * 1024)

static int root_fd = -1;
static char root_real[PATH_MAX];
static int have_openat2 = 1;

int yq_static_set_root(const char *dir) {
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return -1;
    int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (root_fd >= 0)
        close(root_fd);
    root_fd = fd;
    snprintf(root_real, sizeof root_real, "%s", real);
    return 0;
}

/* Opens rel (no leading slash) beneath the root. Returns a descriptor, or -1
 * with errno set (EXDEV or ENOENT for a path that escapes). */
static int open_beneath(const char *rel) {
    if (have_openat2) {
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        have_openat2 = 0;
    }
    char full[PATH_MAX], real[PATH_MAX];
    if (snprintf(full, sizeof full, "%s/%s", root_real, rel) >= (int)sizeof full) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!realpath(full, real))
        return -1;
    size_t n = strlen(root_real);
    if (strncmp(real, root_real, n) != 0 || (real[n] != '/' && real[n] != '\0')) {
        errno = EXDEV;
        return -1;
    }
    return open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

/* True when an If-None-Match list names the tag (weak comparison, RFC 9110
 * section 13.1.2). */
static int etag_matches(const char *inm, const char *etag) {
    if (!inm)
        return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == elen && memcmp(p, etag, n) == 0)
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

/* Hashed build outputs under /assets/ ("index-BXjoyX-T.js",
 * "fcicons-5e1e94990b.ttf") never change: a '-' then at least 8 hash
 * characters before the extension. */
static int is_immutable(const char *path) {
    if (strncmp(path, "/assets/", 8) != 0)
        return 0;
    const char *name = strrchr(path, '/') + 1;
    const char *dash = strchr(name, '-');
    const char *dot = strrchr(name, '.');
    if (!dash || !dot || dot < dash)
        return 0;
    size_t n = 0;
    for (const char *q = dash + 1; q < dot; q++, n++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-' ||
              *q == '_'))
            return 0;
    return n >= 8;
}

static int read_all(int fd, char *buf, size_t size) {
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* ---- a small cache of small files ----------------------------------------
 * Direct-mapped by path. A hit needs one fstatat() showing the same inode,
 * size and modification time as when the file was opened beneath the root,
 * so the containment check made then still holds (a swapped symlink names
 * another inode and misses). */

#define CACHE_SLOTS 64
#define CACHE_MAX_FILE (64 * 1024)

typedef struct {
    char *path; /* relative to the root; NULL when empty */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim;
    char *data;
} cache_entry_t;

static cache_entry_t cache[CACHE_SLOTS];

static cache_entry_t *cache_slot(const char *rel) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = rel; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &cache[h % CACHE_SLOTS];
}

static int same_file(const cache_entry_t *e, const struct stat *st) {
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtim.tv_sec == st->st_mtim.tv_sec && e->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/* Returns the cached bytes of rel and fills st, or NULL on a miss. */
static const char *cache_get(const char *rel, struct stat *st) {
    cache_entry_t *e = cache_slot(rel);
    if (!e->path || strcmp(e->path, rel) != 0)
        return NULL;
    if (fstatat(root_fd, rel, st, 0) || !S_ISREG(st->st_mode) || !same_file(e, st))
        return NULL;
    return e->data;
}

static void cache_put(const char *rel, const struct stat *st, const char *data) {
    cache_entry_t *e = cache_slot(rel);
    free(e->path);
    free(e->data);
    e->path = yq_xstrdup(rel);
    e->data = yq_xmalloc((size_t)st->st_size + 1);
    memcpy(e->data, data, (size_t)st->st_size);
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtim = st->st_mtim;
}

/* Opens rel beneath the root and reads it whole into *out (malloc'd; the
 * caller frees it). Answers the request itself on failure and returns -1. */
static int load_file(yq_req_t *req, const char *rel, struct stat *st, char **out) {
    int fd = open_beneath(rel);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            yq_reply_header(req, "Retry-After", "1");
            yq_reply_error(req, 503, "unavailable", "The server is busy.", NULL);
        } else {
            yq_reply_error(req, 404, "not_found", "No such file.", NULL);
        }
        return -1;
    }
    if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_size > MAX_FILE) {
        close(fd);
        yq_reply_error(req, 404, "not_found", "No such file.", NULL);
        return -1;
    }
    char *buf = yq_xmalloc((size_t)st->st_size + 1);
    int err = read_all(fd, buf, (size_t)st->st_size);
    close(fd);
    if (err) {
        free(buf);
        yq_reply_error(req, 500, "internal", "The file could not be read.", NULL);
        return -1;
    }
    *out = buf;
    return 0;
}

void yq_static_serve(yq_req_t *req) {
    if (req->method != YQ_M_GET && req->method != YQ_M_HEAD) {
        yq_reply_header(req, "Allow", "GET, HEAD");
        yq_reply_error(req, 405, "method_not_allowed", "Only GET and HEAD are allowed here.", NULL);
        return;
    }
    size_t plen = strlen(req->path);
    char *dec = yq_arena_alloc(req->arena, plen + sizeof "index.html");
    if (yq_path_decode(req->path, dec, plen + 1)) {
        yq_reply_error(req, 400, "bad_path", "This path is not allowed.", NULL);
        return;
    }
    if (dec[strlen(dec) - 1] == '/')
        strcat(dec, "index.html");
    if (root_fd < 0) {
        yq_reply_error(req, 404, "not_found", "No such file.", NULL);
        return;
    }
    const char *rel = dec + 1;
    struct stat st;
    char *owned = NULL;
    const char *data = cache_get(rel, &st);
    if (!data) {
        if (load_file(req, rel, &st, &owned))
            return;
        data = owned;
        if (st.st_size <= CACHE_MAX_FILE)
            cache_put(rel, &st, owned);
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec);
    yq_reply_header(req, "ETag", etag);
    yq_reply_header(req, "Cache-Control", is_immutable(dec) ? "public, max-age=31536000, immutable" : "no-cache");
    const char *mime = yq_path_mime(dec);
    if (etag_matches(yq_req_header(req, "if-none-match"), etag))
        yq_reply(req, 304, mime, NULL, 0);
    else
        yq_reply(req, 200, mime, data, (size_t)st.st_size);
    free(owned);
}
