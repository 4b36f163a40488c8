/*
 * Allocation that never returns NULL: out of memory aborts the process with a
 * message (the server cannot do anything useful without memory, and checking
 * every allocation would bury the logic). Memory from these functions is freed
 * with free().
 */
#ifndef YQ_CORE_ALLOC_H
#define YQ_CORE_ALLOC_H

#include <stddef.h>

void *yq_xmalloc(size_t n);
void *yq_xcalloc(size_t count, size_t size);
void *yq_xrealloc(void *p, size_t n);
char *yq_xstrdup(const char *s);
char *yq_xstrndup(const char *s, size_t n);

#endif
