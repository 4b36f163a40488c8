/* Random tokens and their hashes: see token.h. */
#include "auth/token.h"

#include <sodium.h>
#include <string.h>

void yq_token_new(char *out) {
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, YQ_TOKEN_CHARS, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void yq_token_hash(const char *token, unsigned char *hash) {
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}
