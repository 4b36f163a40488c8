/* Per-request memory pool: a list of chunks; see arena.h. */
#include "core/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define CHUNK_SIZE 4096

struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

struct yq_arena {
    struct chunk *head;
};

yq_arena_t *yq_arena_create(void) {
    return yq_xcalloc(1, sizeof(yq_arena_t));
}

void yq_arena_destroy(yq_arena_t *a) {
    if (!a)
        return;
    struct chunk *c = a->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void *yq_arena_alloc(yq_arena_t *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        c = yq_xmalloc(sizeof(struct chunk) + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *yq_arena_strndup(yq_arena_t *a, const char *s, size_t n) {
    char *p = yq_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *yq_arena_strdup(yq_arena_t *a, const char *s) {
    return yq_arena_strndup(a, s, strlen(s));
}

char *yq_arena_printf(yq_arena_t *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return yq_arena_strdup(a, "");
    char *p = yq_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
