/*
 * A growable byte buffer, always NUL-terminated after `len` bytes so it can be
 * used as a C string. Zero-initialise (`yq_buf_t b = {0};`) before use; free
 * the storage with yq_buf_free().
 */
#ifndef YQ_CORE_BUF_H
#define YQ_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} yq_buf_t;

void yq_buf_reserve(yq_buf_t *b, size_t extra);
void yq_buf_append(yq_buf_t *b, const void *p, size_t n);
void yq_buf_puts(yq_buf_t *b, const char *s);
void yq_buf_putc(yq_buf_t *b, char c);
void yq_buf_printf(yq_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void yq_buf_vprintf(yq_buf_t *b, const char *fmt, va_list ap);
void yq_buf_reset(yq_buf_t *b);
void yq_buf_free(yq_buf_t *b);
/* Hands the storage to the caller (free() it); the buffer is left empty. */
char *yq_buf_steal(yq_buf_t *b);

#endif
