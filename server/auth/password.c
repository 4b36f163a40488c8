/* Argon2id hashing on the thread pool: see password.h. */
#include "auth/password.h"

#include <stdlib.h>
#include <string.h>

#include "auth/weak_password.h"
#include "core/alloc.h"

#define OPSLIMIT 2
#define MEMLIMIT (19u * 1024u * 1024u)

const char *yq_password_policy(const char *pw) {
    size_t chars = 0;
    for (const char *s = pw; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            chars++;
    if (chars < YQ_PASSWORD_MIN_CHARS)
        return "The password must have at least 12 characters.";
    if (strlen(pw) > YQ_PASSWORD_MAX_BYTES)
        return "The password is too long.";
    if (yq_password_is_common(pw))
        return "This password is on a list of commonly used passwords; choose another.";
    return NULL;
}

int yq_password_hash(const char *pw, char *out) {
    return crypto_pwhash_str(out, pw, strlen(pw), OPSLIMIT, MEMLIMIT) == 0 ? 0 : -1;
}

typedef struct {
    uv_work_t work;
    char *pw;
    char hash[YQ_PASSWORD_HASH_MAX];
    int has_hash;
    int rc;
    yq_password_hash_cb hash_cb;
    yq_password_verify_cb verify_cb;
    void *ctx;
} job_t;

/* A hash of a random password, made once, verified for unknown logins. */
static char dummy_hash[YQ_PASSWORD_HASH_MAX];
static uv_once_t dummy_once = UV_ONCE_INIT;

static void make_dummy(void) {
    char pw[33];
    randombytes_buf(pw, 16);
    sodium_bin2hex(pw, sizeof pw, (const unsigned char *)pw, 16);
    yq_password_hash(pw, dummy_hash);
}

static void free_job(job_t *j) {
    sodium_memzero(j->pw, strlen(j->pw));
    free(j->pw);
    free(j);
}

static void do_hash(uv_work_t *w) {
    job_t *j = w->data;
    j->rc = yq_password_hash(j->pw, j->hash);
}

static void after_hash(uv_work_t *w, int status) {
    job_t *j = w->data;
    j->hash_cb(j->ctx, status ? -1 : j->rc, j->hash);
    free_job(j);
}

void yq_password_hash_async(uv_loop_t *loop, const char *pw, yq_password_hash_cb cb, void *ctx) {
    job_t *j = yq_xcalloc(1, sizeof *j);
    j->pw = yq_xstrdup(pw);
    j->hash_cb = cb;
    j->ctx = ctx;
    j->work.data = j;
    uv_queue_work(loop, &j->work, do_hash, after_hash);
}

static void do_verify(uv_work_t *w) {
    job_t *j = w->data;
    if (!j->has_hash) {
        uv_once(&dummy_once, make_dummy);
        /* Only the time this takes matters: an unknown login never signs in. */
        int ignored = crypto_pwhash_str_verify(dummy_hash, j->pw, strlen(j->pw));
        (void)ignored;
        j->rc = 0;
        return;
    }
    j->rc = crypto_pwhash_str_verify(j->hash, j->pw, strlen(j->pw)) == 0;
}

static void after_verify(uv_work_t *w, int status) {
    job_t *j = w->data;
    j->verify_cb(j->ctx, status ? 0 : j->rc);
    free_job(j);
}

void yq_password_verify_async(uv_loop_t *loop, const char *hash, const char *pw, yq_password_verify_cb cb, void *ctx) {
    job_t *j = yq_xcalloc(1, sizeof *j);
    j->pw = yq_xstrdup(pw);
    if (hash && strlen(hash) < sizeof j->hash) {
        strcpy(j->hash, hash);
        j->has_hash = 1;
    }
    j->verify_cb = cb;
    j->ctx = ctx;
    j->work.data = j;
    uv_queue_work(loop, &j->work, do_verify, after_verify);
}
