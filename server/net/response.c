/*
 * Response serialisation (see response.h).
 *
 * Security headers go on every response, errors included, so that no path
 * through the server can forget them: nosniff, a referrer policy, framing
 * denied, and on HTML a strict Content-Security-Policy (scripts only from our
 * origin, no inline script; inline styles allowed because the calendar and
 * chart libraries set style attributes). API responses are never cached
 * (Cache-Control: no-store) unless the handler chose its own policy.
 */
#include "net/response.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CSP                                                                                                            \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "                  \
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "              \
    "frame-ancestors 'none'"

const char *yq_response_reason(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

/* "Date: Sat, 28 Nov 2026 17:39:18 GMT\r\n", formatted once per second
 * (RFC 9110 section 5.6.7, IMF-fixdate). */
static const char *date_line(void) {
    static char line[64];
    static time_t cached = -1;
    time_t now = time(NULL);
    if (now != cached) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        cached = now;
    }
    return line;
}

/* 1 when the handler's extra header lines already hold this (lower-case)
 * header name. */
static int has_header(const yq_buf_t *lines, const char *lname) {
    size_t n = strlen(lname);
    const char *p = lines->data;
    if (!p)
        return 0;
    while (*p) {
        if (strncasecmp(p, lname, n) == 0 && p[n] == ':')
            return 1;
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        p = eol + 2;
    }
    return 0;
}

static int is_api(const char *path) {
    return path && strncmp(path, "/api/", 5) == 0;
}

void yq_response_serialize(yq_buf_t *out, const yq_req_t *req, int status, const char *content_type, const void *body,
                           size_t len, int keep_alive) {
    int no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    yq_buf_reserve(out, 512 + req->res_headers.len + (req->method == YQ_M_HEAD || no_body ? 0 : len));
    yq_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, yq_response_reason(status));
    yq_buf_puts(out, date_line());
    if (content_type && !no_body)
        yq_buf_printf(out, "Content-Type: %s\r\n", content_type);
    if (!no_body)
        yq_buf_printf(out, "Content-Length: %zu\r\n", len);
    yq_buf_puts(out, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    yq_buf_puts(out, "X-Content-Type-Options: nosniff\r\n"
                     "Referrer-Policy: strict-origin-when-cross-origin\r\n"
                     "X-Frame-Options: DENY\r\n");
    if (content_type && strncasecmp(content_type, "text/html", 9) == 0)
        yq_buf_puts(out, "Content-Security-Policy: " CSP "\r\n");
    if (is_api(req->path) && !has_header(&req->res_headers, "cache-control"))
        yq_buf_puts(out, "Cache-Control: no-store\r\n");
    if (req->res_headers.len)
        yq_buf_append(out, req->res_headers.data, req->res_headers.len);
    yq_buf_puts(out, "\r\n");
    if (!no_body && req->method != YQ_M_HEAD && len)
        yq_buf_append(out, body, len);
}
