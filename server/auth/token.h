/*
 * Secrets handed to clients (session and API tokens, calendar feed keys):
 * 256 random bits from libsodium, shown as base64url (43 characters). Only
 * their SHA-256 is stored, so a copy of the database cannot sign anyone in.
 */
#ifndef YQ_AUTH_TOKEN_H
#define YQ_AUTH_TOKEN_H

#include <stddef.h>

#define YQ_TOKEN_CHARS 44 /* 43 characters and the NUL */
#define YQ_TOKEN_HASH_BYTES 32

/* Writes a new random token into out (YQ_TOKEN_CHARS bytes). */
void yq_token_new(char *out);
/* SHA-256 of the token text into hash (YQ_TOKEN_HASH_BYTES bytes). */
void yq_token_hash(const char *token, unsigned char *hash);

#endif
