/*
 * A per-request memory pool: many small allocations, one free when the request
 * ends (the h2o pattern). Memory from yq_arena_alloc() is owned by the arena
 * and released by yq_arena_destroy(); never free() it.
 */
#ifndef YQ_CORE_ARENA_H
#define YQ_CORE_ARENA_H

#include <stddef.h>

typedef struct yq_arena yq_arena_t;

yq_arena_t *yq_arena_create(void);
void yq_arena_destroy(yq_arena_t *a);
void *yq_arena_alloc(yq_arena_t *a, size_t n);
char *yq_arena_strndup(yq_arena_t *a, const char *s, size_t n);
char *yq_arena_strdup(yq_arena_t *a, const char *s);
char *yq_arena_printf(yq_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
