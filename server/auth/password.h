/*
 * Password hashing with Argon2id (libsodium crypto_pwhash_str: 19 MiB,
 * 2 passes, per OWASP's minimum). One hash costs ~100-150 ms, so the server
 * runs hashing and verification on libuv's thread pool, never on the loop.
 */
#ifndef YQ_AUTH_PASSWORD_H
#define YQ_AUTH_PASSWORD_H

#include <sodium.h>
#include <uv.h>

#define YQ_PASSWORD_MIN_CHARS 12
#define YQ_PASSWORD_MAX_BYTES 1024
#define YQ_PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Checks the policy: at least 12 characters, at most 1 KiB, not a common
 * password. Returns NULL when acceptable, else an English reason. */
const char *yq_password_policy(const char *pw);

/* Synchronous hash (CLI use): writes a NUL-terminated string into out
 * (YQ_PASSWORD_HASH_MAX bytes). Returns 0 or -1. */
int yq_password_hash(const char *pw, char *out);

/* Off-loop hash: cb(ctx, rc, hash) runs on the loop thread; hash is valid
 * only during the callback. The password is copied and wiped afterwards. */
typedef void (*yq_password_hash_cb)(void *ctx, int rc, const char *hash);
void yq_password_hash_async(uv_loop_t *loop, const char *pw, yq_password_hash_cb cb, void *ctx);

/* Off-loop verify: cb(ctx, ok). With hash == NULL (unknown login) a dummy
 * hash is verified instead, so both answers take the same time; ok is 0. */
typedef void (*yq_password_verify_cb)(void *ctx, int ok);
void yq_password_verify_async(uv_loop_t *loop, const char *hash, const char *pw, yq_password_verify_cb cb, void *ctx);

#endif
