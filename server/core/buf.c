/* Growable byte buffer: see buf.h. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void yq_buf_reserve(yq_buf_t *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = yq_xrealloc(b->data, cap);
    b->cap = cap;
}

void yq_buf_append(yq_buf_t *b, const void *p, size_t n) {
    yq_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void yq_buf_puts(yq_buf_t *b, const char *s) {
    yq_buf_append(b, s, strlen(s));
}

void yq_buf_putc(yq_buf_t *b, char c) {
    yq_buf_append(b, &c, 1);
}

void yq_buf_vprintf(yq_buf_t *b, const char *fmt, va_list ap) {
    /* Format into the spare room first; grow and format again only when it
     * did not fit. */
    yq_buf_reserve(b, 64);
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        yq_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void yq_buf_printf(yq_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    yq_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void yq_buf_reset(yq_buf_t *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void yq_buf_free(yq_buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *yq_buf_steal(yq_buf_t *b) {
    if (!b->data)
        yq_buf_reserve(b, 0), b->data[0] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
