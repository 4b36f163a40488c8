/*
 * yiqi restore --db FILE --from BACKUP: puts a backup back in place.
 *
 * Design: the backup is checked first (PRAGMA integrity_check, a Yiqi schema
 * version this binary knows), then the target is opened and we make sure no
 * other process holds it: every SQLite connection in WAL mode keeps a shared
 * POSIX lock on the "dead man's switch" byte of FILE-shm for as long as it is
 * open (os_unix.c, UNIX_SHM_DMS = byte 128), so F_GETLK there names the PID of
 * a running server (or backup). Then the current contents are copied aside
 * (FILE.before-restore-STAMP.bak), and SQLite's online backup API runs in
 * reverse, backup -> FILE, which replaces the whole database in one
 * transaction, so a crash halfway leaves the old database. The result is
 * checked again. The server migrates an older backup when it next starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "db/db.h"
#include "db/migrate.h"

static const char usage_text[] =
    "usage: yiqi restore --db FILE --from BACKUP\n"
    "Replaces the database FILE with the contents of BACKUP (a file written by `yiqi backup`).\n"
    "Stop the server first (systemctl stop yiqi): restore refuses a database another process has open.\n"
    "The backup must pass PRAGMA integrity_check; the current FILE is kept as FILE.before-restore-STAMP.bak.\n"
    "Run it as the service's user (sudo -u yiqi yiqi restore ...) so the files keep their owner.\n";

#define SHM_DMS_BYTE 128 /* SQLite's unix VFS: UNIX_SHM_BASE (120) + SQLITE_SHM_NLOCK (8) */

/* Returns 0 when PRAGMA integrity_check says ok, else -1 with
 * its first complaint in msg. */
static int integrity(sqlite3 *h, char *msg, size_t size) {
    sqlite3_stmt *st = NULL;
    int ok = 0;
    snprintf(msg, size, "%s", "cannot run integrity_check");
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *r = (const char *)sqlite3_column_text(st, 0);
            ok = r && strcmp(r, "ok") == 0;
            snprintf(msg, size, "%s", r ? r : "?");
        } else {
            snprintf(msg, size, "%s", sqlite3_errmsg(h));
        }
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static int user_version(sqlite3 *h) {
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Returns the PID of another process that has the database open, 0 when none,
 * -1 when it cannot tell. Call while this process has it open (our own locks
 * never conflict with us, so F_GETLK reports only other processes). */
static pid_t holder(const char *db_path) {
    char shm[PATH_MAX + 8];
    snprintf(shm, sizeof shm, "%s-shm", db_path);
    int fd = open(shm, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SHM_DMS_BYTE, .l_len = 1};
    int rc = fcntl(fd, F_GETLK, &fl);
    close(fd);
    if (rc)
        return -1;
    return fl.l_type == F_UNLCK ? 0 : (fl.l_pid > 0 ? fl.l_pid : -1);
}

static int parse_args(int argc, char **argv, const char **db, const char **from) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"from", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            *db = optarg;
        else if (c == 'f')
            *from = optarg;
        else if (c == 'h')
            return fputs(usage_text, stdout), 0;
        else
            return yq_cli_usage_error("restore", "unknown or incomplete option");
    }
    if (!*db || !*from || optind != argc)
        return yq_cli_usage_error("restore", "--db FILE and --from BACKUP are required");
    return -1; /* go on */
}

/* Opens and checks the backup. Returns the handle or NULL (reason printed). */
static sqlite3 *open_backup(const char *from, int *version) {
    sqlite3 *src = NULL;
    char msg[512];
    if (access(from, R_OK) != 0 || sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "yiqi restore: cannot read the backup %s\n", from);
        sqlite3_close(src);
        return NULL;
    }
    if (integrity(src, msg, sizeof msg)) {
        fprintf(stderr, "yiqi restore: the backup %s fails its integrity check (%s); nothing was changed\n", from, msg);
        sqlite3_close(src);
        return NULL;
    }
    *version = user_version(src);
    if (*version <= 0 || *version > yq_migrate_latest()) {
        fprintf(stderr, "yiqi restore: %s has schema version %d; this yiqi knows versions 1..%d; nothing was changed\n",
                from, *version, yq_migrate_latest());
        sqlite3_close(src);
        return NULL;
    }
    return src;
}

/* Copies the current contents of a non-empty target aside. Returns 0 or -1;
 * the name written goes to saved ("" when the target was empty). */
static int save_current(yq_db_t *dst, const char *path, char *saved, size_t size) {
    saved[0] = '\0';
    if (user_version(yq_db_handle(dst)) <= 0)
        return 0;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(saved, size, "%s.before-restore-%s.bak", path, stamp);
    return yq_db_backup(dst, saved);
}

int yq_cli_restore(int argc, char **argv) {
    const char *path = NULL, *from = NULL;
    int rc = parse_args(argc, argv, &path, &from);
    if (rc >= 0)
        return rc;
    char rp_db[PATH_MAX], rp_from[PATH_MAX];
    if (realpath(path, rp_db) && realpath(from, rp_from) && strcmp(rp_db, rp_from) == 0) {
        fprintf(stderr, "yiqi restore: --db and --from are the same file\n");
        return 2;
    }
    int version;
    sqlite3 *src = open_backup(from, &version);
    if (!src)
        return 1;
    yq_db_t *dst = yq_db_open_raw(path);
    if (!dst) {
        sqlite3_close(src);
        return 1;
    }
    pid_t pid = holder(path);
    if (pid != 0) {
        if (pid > 0)
            fprintf(stderr,
                    "yiqi restore: %s is open in process %ld (a running server?); stop it first "
                    "(systemctl stop yiqi); nothing was changed\n",
                    path, (long)pid);
        else
            fprintf(stderr, "yiqi restore: cannot tell whether %s is in use; nothing was changed\n", path);
        yq_db_close(dst);
        sqlite3_close(src);
        return 1;
    }
    char saved[PATH_MAX + 64];
    if (save_current(dst, path, saved, sizeof saved)) {
        fprintf(stderr, "yiqi restore: cannot keep a copy of the current %s; nothing was changed\n", path);
        yq_db_close(dst);
        sqlite3_close(src);
        return 1;
    }
    sqlite3_backup *b = sqlite3_backup_init(yq_db_handle(dst), "main", src, "main");
    int step = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    if (b)
        sqlite3_backup_finish(b);
    sqlite3_close(src);
    char msg[512];
    if (step != SQLITE_DONE || integrity(yq_db_handle(dst), msg, sizeof msg)) {
        fprintf(stderr, "yiqi restore: restoring into %s failed: %s\n", path,
                step != SQLITE_DONE ? sqlite3_errmsg(yq_db_handle(dst)) : msg);
        yq_db_close(dst);
        return 1;
    }
    yq_db_close(dst);
    printf("restored %s (schema version %d) into %s (integrity ok)\n", from, version, path);
    if (saved[0])
        printf("the previous database was kept as %s\n", saved);
    if (version < yq_migrate_latest())
        printf("the server migrates it from version %d to %d when it next starts\n", version, yq_migrate_latest());
    return 0;
}
