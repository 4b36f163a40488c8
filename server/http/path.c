/*
 * Path decoding and MIME types (see path.h).
 *
 * Decoding happens once and the result is then checked segment by segment,
 * so an encoded dot ("%2e%2e") is refused exactly like a literal one, and a
 * double-encoded one ("%252e", which decodes to "%2e") is refused because no
 * asset name contains '%'. Containment in the root is checked again by the
 * caller on the resolved file (symlinks), so this is the first of two walls.
 */
#include "http/path.h"

#include <string.h>
#include <strings.h>

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int bad_char(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == '\\' || c == '%';
}

/* Checks every segment of a decoded path. Returns 0 or -1. */
static int check_segments(const char *p) {
    while (*p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        if (n > 0 && p[0] == '.')
            return -1; /* ".", "..", ".git", ".env" */
        p += n;
    }
    return 0;
}

int yq_path_decode(const char *raw, char *out, size_t size) {
    if (!raw || raw[0] != '/' || size == 0)
        return -1;
    size_t j = 0;
    for (size_t i = 0; raw[i]; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = hexval(raw[i + 1]);
            int lo = hi < 0 ? -1 : hexval(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c == 0 || bad_char(c))
                return -1;
        } else if (bad_char(c)) {
            return -1;
        }
        if (j + 1 >= size)
            return -1;
        out[j++] = (char)c;
    }
    out[j] = '\0';
    return check_segments(out);
}

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"ics", "text/calendar; charset=utf-8"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
};

const char *yq_path_mime(const char *name) {
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
            if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
                return mime_types[i].type;
    return "application/octet-stream";
}
