/*
 * CSV reader and writer (see csv.h for the dialect).
 *
 * Reading happens in two steps. yq_csv_open() turns the body into one UTF-8
 * text: BOM sniffing (a UTF-8 BOM wins over the declared charset, as in
 * browsers), GB18030 -> UTF-8 through iconv (glibc), a strict UTF-8 check
 * (no overlong forms, surrogates or code points above U+10FFFF) and a NUL
 * check. Any refusal names the record it falls in, found by a quote-aware
 * scan of the text up to the bad byte; the scan also works on raw GB18030
 * because no byte of a multi-byte GB18030 character is '"', CR or LF.
 * yq_csv_next() then cuts one record at a time out of that text into a field
 * buffer, unescaping quotes, and points the cells into it.
 */
#include "domain/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

struct yq_csv {
    char *text; /* UTF-8, BOM removed */
    size_t len, pos;
    size_t line;     /* physical line at pos, from 1 */
    size_t record;   /* last record returned; SIZE_MAX before the first */
    size_t rec_line; /* line where that record starts */
    int state;       /* 0 reading, 1 at the end, -1 after an error */
    const char *charset;
    char err[192];
    size_t err_row;
    yq_buf_t field; /* the current record's cells, each NUL-terminated */
    size_t *offs;   /* start of each cell in field.data */
    size_t noffs, offcap;
    char **cells;
    size_t cellcap;
};

struct yq_csv_writer {
    yq_buf_t out;
    int bom;
    size_t cells_in_row; /* cells written to the current record */
};

static const char bom_utf8[] = "\xEF\xBB\xBF";

/* ---- opening: charset, BOM, validity ---- */

/* The record (0 = header) that byte offset `at` of text falls in. */
static size_t record_at(const char *text, size_t at) {
    size_t rec = 0;
    int quoted = 0;
    for (size_t i = 0; i < at; i++) {
        char c = text[i];
        if (c == '"')
            quoted = !quoted; /* "" toggles twice: still right */
        else if (!quoted && (c == '\n' || (c == '\r' && (i + 1 >= at || text[i + 1] != '\n'))))
            rec++;
    }
    return rec;
}

static void say_row(char *why, size_t size, size_t rec, const char *fmt, ...) {
    char what[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (rec == 0)
        snprintf(why, size, "%s in the header row.", what);
    else
        snprintf(why, size, "%s in data row %zu.", what, rec);
}

/* Length of the valid UTF-8 prefix of s (== len when all of it is valid). */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4, cp = c & 0x07;
        } else {
            return i;
        }
        if (i + n > len)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += n;
    }
    return len;
}

/* GB18030 -> UTF-8. Returns a malloc'd NUL-terminated text (free() it) with
 * its length in *out_len, or NULL with the offset of the first invalid or
 * incomplete sequence in *bad. */
static char *from_gb18030(const char *in, size_t len, size_t *out_len, size_t *bad) {
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) {
        *bad = 0;
        return NULL;
    }
    size_t cap = len + len / 2 + 16, used = 0;
    char *out = yq_xmalloc(cap);
    char *src = (char *)in; /* iconv's prototype is not const-correct */
    size_t left = len;
    while (left > 0) {
        char *dst = out + used;
        size_t room = cap - used - 1;
        size_t rc = iconv(cd, &src, &left, &dst, &room);
        used = (size_t)(dst - out);
        if (rc != (size_t)-1)
            break;
        if (errno == E2BIG) {
            cap *= 2;
            out = yq_xrealloc(out, cap);
            continue;
        }
        *bad = (size_t)(src - in); /* EILSEQ, or EINVAL: cut short at the end */
        free(out);
        iconv_close(cd);
        return NULL;
    }
    iconv_close(cd);
    out[used] = '\0';
    *out_len = used;
    return out;
}

int yq_csv_open(const char *data, size_t len, const char *charset, int detect, yq_csv_t **out, char *why,
                size_t why_size) {
    *out = NULL;
    int gb;
    if (!charset || !strcmp(charset, "utf-8") || !strcmp(charset, "UTF-8"))
        gb = 0;
    else if (!strcmp(charset, "gb18030") || !strcmp(charset, "GB18030"))
        gb = 1;
    else {
        snprintf(why, why_size, "Unsupported charset '%.40s': use utf-8 or gb18030.", charset);
        return -1;
    }
    if (len >= 3 && memcmp(data, bom_utf8, 3) == 0) /* the BOM says UTF-8 whatever was declared */
        gb = 0;
    char *text = NULL;
    size_t tlen = 0, bad = 0;
    if (!gb) {
        size_t ok = utf8_valid_prefix((const unsigned char *)data, len);
        if (ok < len && detect)
            text = from_gb18030(data, len, &tlen, &bad);
        if (ok < len && !text) {
            say_row(why, why_size, record_at(data, ok), "The file is not valid UTF-8 (byte 0x%02X at offset %zu)",
                    (unsigned char)data[ok], ok);
            return -1;
        }
        gb = text != NULL;
        if (!text) {
            text = yq_xstrndup(data, len);
            tlen = len;
        }
    } else if (!(text = from_gb18030(data, len, &tlen, &bad))) {
        say_row(why, why_size, record_at(data, bad), "Invalid GB18030 byte sequence (offset %zu)", bad);
        return -1;
    }
    size_t nul = strlen(text);
    if (nul < tlen) {
        say_row(why, why_size, record_at(text, nul), "A NUL byte is not allowed");
        free(text);
        return -1;
    }
    yq_csv_t *c = yq_xcalloc(1, sizeof *c);
    size_t skip = tlen >= 3 && memcmp(text, bom_utf8, 3) == 0 ? 3 : 0;
    if (skip)
        memmove(text, text + 3, tlen - 2);
    c->text = text;
    c->len = tlen - skip;
    c->line = 1;
    c->record = SIZE_MAX;
    c->charset = gb ? "gb18030" : "utf-8";
    *out = c;
    return 0;
}

/* ---- reading records ---- */

static void start_cell(yq_csv_t *c) {
    if (c->noffs == c->offcap)
        c->offs = yq_xrealloc(c->offs, (c->offcap = c->offcap ? c->offcap * 2 : 32) * sizeof *c->offs);
    c->offs[c->noffs++] = c->field.len;
}

static int fail(yq_csv_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->err_row = c->record == SIZE_MAX ? 0 : c->record + 1;
    c->state = -1;
    return -1;
}

/* Consumes a line ending at pos (CRLF, LF or CR), if any. */
static void eat_newline(yq_csv_t *c) {
    if (c->pos < c->len && c->text[c->pos] == '\r') {
        c->pos++;
        if (c->pos < c->len && c->text[c->pos] == '\n')
            c->pos++;
    } else if (c->pos < c->len && c->text[c->pos] == '\n') {
        c->pos++;
    }
    c->line++;
}

/* Reads a quoted cell starting at the opening quote. Returns 0 or -1. */
static int quoted_cell(yq_csv_t *c) {
    size_t open_line = c->line, cell = c->noffs;
    c->pos++;
    for (;;) {
        if (c->pos >= c->len)
            return fail(c, "a quoted field (cell %zu) opened on line %zu is not closed", cell, open_line);
        char ch = c->text[c->pos];
        if (ch == '"') {
            if (c->pos + 1 < c->len && c->text[c->pos + 1] == '"') {
                yq_buf_putc(&c->field, '"');
                c->pos += 2;
                continue;
            }
            c->pos++;
            break;
        }
        if (ch == '\r' || ch == '\n') { /* a line break inside the cell: kept as LF */
            yq_buf_putc(&c->field, '\n');
            c->pos += ch == '\r' && c->pos + 1 < c->len && c->text[c->pos + 1] == '\n' ? 2 : 1;
            c->line++;
            continue;
        }
        yq_buf_putc(&c->field, ch);
        c->pos++;
    }
    if (c->pos < c->len && c->text[c->pos] != ',' && c->text[c->pos] != '\r' && c->text[c->pos] != '\n')
        return fail(c, "unexpected text after the closing quote of cell %zu on line %zu", cell, c->line);
    return 0;
}

static void unquoted_cell(yq_csv_t *c) {
    size_t start = c->pos;
    while (c->pos < c->len) {
        char ch = c->text[c->pos];
        if (ch == ',' || ch == '\r' || ch == '\n')
            break;
        c->pos++;
    }
    yq_buf_append(&c->field, c->text + start, c->pos - start);
}

int yq_csv_next(yq_csv_t *c, char ***cells, size_t *n) {
    *cells = NULL;
    *n = 0;
    if (c->state)
        return c->state < 0 ? -1 : 0;
    if (c->pos >= c->len) {
        c->state = 1;
        return 0;
    }
    yq_buf_reset(&c->field);
    c->noffs = 0;
    size_t line = c->line;
    for (;;) {
        start_cell(c);
        if (c->pos < c->len && c->text[c->pos] == '"') {
            if (quoted_cell(c))
                return -1;
        } else {
            unquoted_cell(c);
        }
        yq_buf_putc(&c->field, '\0');
        if (c->pos < c->len && c->text[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len)
            eat_newline(c);
        break;
    }
    if (c->noffs > c->cellcap)
        c->cells = yq_xrealloc(c->cells, (c->cellcap = c->noffs) * sizeof *c->cells);
    for (size_t i = 0; i < c->noffs; i++)
        c->cells[i] = c->field.data + c->offs[i];
    c->record = c->record == SIZE_MAX ? 0 : c->record + 1;
    c->rec_line = line;
    *cells = c->cells;
    *n = c->noffs;
    return 1;
}

void yq_csv_rewind(yq_csv_t *c) {
    c->pos = 0;
    c->line = 1;
    c->record = SIZE_MAX;
    c->rec_line = 0;
    c->state = 0;
    c->err[0] = '\0';
    c->err_row = 0;
}

size_t yq_csv_record(const yq_csv_t *c) {
    return c->record;
}

size_t yq_csv_line(const yq_csv_t *c) {
    return c->rec_line;
}

const char *yq_csv_error(const yq_csv_t *c) {
    return c->err;
}

size_t yq_csv_error_row(const yq_csv_t *c) {
    return c->err_row;
}

const char *yq_csv_charset(const yq_csv_t *c) {
    return c->charset;
}

void yq_csv_close(yq_csv_t *c) {
    if (!c)
        return;
    free(c->text);
    yq_buf_free(&c->field);
    free(c->offs);
    free(c->cells);
    free(c);
}

/* ---- writing ---- */

yq_csv_writer_t *yq_csv_writer_create(int bom) {
    yq_csv_writer_t *w = yq_xcalloc(1, sizeof *w);
    w->bom = bom;
    if (bom)
        yq_buf_append(&w->out, bom_utf8, 3);
    return w;
}

yq_csv_writer_t *yq_csv_writer_new(void) {
    return yq_csv_writer_create(1);
}

/* RFC 4180 needs quotes for comma, quote and line breaks; blanks at either
 * end are quoted so no reader trims them; and a file without BOM whose first
 * cell starts with "ID" is quoted so Excel does not take it for SYLK. */
static int needs_quotes(const yq_csv_writer_t *w, const char *s) {
    size_t len = strlen(s);
    if (!len)
        return 0;
    if (strpbrk(s, ",\"\r\n"))
        return 1;
    if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
        return 1;
    return !w->bom && w->out.len == 0 && s[0] == 'I' && s[1] == 'D';
}

/* The first characters that make Excel, LibreOffice and WPS read a cell as
 * a formula (OWASP "CSV Injection"): = + - @, and TAB or CR, which some of
 * them skip before looking at the next character. */
static int formula_start(char c) {
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* An optional sign, digits with at most one decimal point, an optional
 * trailing %: what the exports write for amounts, hours and rates. */
static int plain_number(const char *s) {
    size_t digits = 0, points = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s == '.' && !points)
            points++;
        else
            break;
    }
    if (*s == '%')
        s++;
    return digits > 0 && *s == '\0';
}

/* Apostrophes already in front of such text are looked through, so that a
 * cell which really starts with "'=" gets one more and reads back whole. */
int yq_csv_formula_like(const char *s) {
    if (!s)
        return 0;
    s += strspn(s, "'");
    return formula_start(s[0]) && !plain_number(s);
}

const char *yq_csv_unguard(const char *s) {
    return s[0] == '\'' && yq_csv_formula_like(s + 1) ? s + 1 : s;
}

void yq_csv_cell(yq_csv_writer_t *w, const char *s) {
    if (!s)
        s = "";
    if (w->cells_in_row++)
        yq_buf_putc(&w->out, ',');
    const char *guard = yq_csv_formula_like(s) ? "'" : "";
    if (!needs_quotes(w, s)) {
        yq_buf_puts(&w->out, guard);
        yq_buf_puts(&w->out, s);
        return;
    }
    yq_buf_putc(&w->out, '"');
    yq_buf_puts(&w->out, guard);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            yq_buf_putc(&w->out, '"');
        yq_buf_putc(&w->out, *p);
    }
    yq_buf_putc(&w->out, '"');
}

void yq_csv_end_row(yq_csv_writer_t *w) {
    yq_buf_append(&w->out, "\r\n", 2);
    w->cells_in_row = 0;
}

const char *yq_csv_writer_data(const yq_csv_writer_t *w, size_t *len) {
    if (len)
        *len = w->out.len;
    return w->out.data ? w->out.data : "";
}

void yq_csv_writer_free(yq_csv_writer_t *w) {
    if (!w)
        return;
    yq_buf_free(&w->out);
    free(w);
}
