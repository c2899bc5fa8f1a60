/*
 * http_req.c - a strict, sans-I/O reader of one HTTP/1.x request head
 * (RFC 9112 §3, §5): request line, header fields, empty line. Enough for a
 * metrics scraper and nothing more: no bodies, no folded lines, no
 * HTTP/0.9. Bare LF line ends are accepted (RFC 9112 §2.2).
 */
#include "http_req.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The line starting at p, without its CR LF or LF: its length, with *next
 * set after the line end; -1 when no line end is in buf yet. */
static long line_at(const char *buf, size_t len, size_t p, size_t *next)
{
    const char *nl = memchr(buf + p, '\n', len - p);
    if (!nl) return -1;
    size_t end = (size_t)(nl - buf);
    *next = end + 1;
    if (end > p && buf[end - 1] == '\r') end--;
    return (long)(end - p);
}

static int parse_request_line(const char *l, size_t n, struct tio_http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    if (i == 0 || i >= n || l[i] != ' ') return TIO_HTTP_BAD;
    req->method = l;
    req->method_len = i;
    size_t t = ++i;
    while (i < n && (unsigned char)l[i] > 0x20 && (unsigned char)l[i] < 0x7f)
        i++;
    if (i == t || i >= n || l[i] != ' ' || l[t] != '/') return TIO_HTTP_BAD;
    req->target = l + t;
    req->target_len = i - t;
    i++;
    if (n - i != 8 || memcmp(l + i, "HTTP/1.", 7) || (l[i + 7] != '0' && l[i + 7] != '1'))
        return TIO_HTTP_BAD;
    req->minor = l[i + 7] - '0';
    return TIO_HTTP_DONE;
}

static int parse_field(const char *l, size_t n, struct tio_http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)l[i]))
        i++;
    if (i == 0 || i >= n || l[i] != ':') return TIO_HTTP_BAD; /* also folded lines */
    for (size_t k = i + 1; k < n; k++) {
        unsigned char c = (unsigned char)l[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return TIO_HTTP_BAD;
    }
    if (i == 4 && !strncasecmp(l, "host", 4)) req->has_host = true;
    return TIO_HTTP_DONE;
}

int tio_http_parse(const char *buf, size_t len, struct tio_http_request *req)
{
    memset(req, 0, sizeof(*req));
    size_t p = 0, next;
    long n = line_at(buf, len, p, &next);
    if (n < 0) return TIO_HTTP_INCOMPLETE;
    if (parse_request_line(buf + p, (size_t)n, req) != TIO_HTTP_DONE) return TIO_HTTP_BAD;
    for (;;) {
        p = next;
        n = line_at(buf, len, p, &next);
        if (n < 0) return TIO_HTTP_INCOMPLETE;
        if (n == 0) break;
        if (parse_field(buf + p, (size_t)n, req) != TIO_HTTP_DONE) return TIO_HTTP_BAD;
    }
    /* RFC 9112 §3.2: an HTTP/1.1 request without Host gets 400. */
    if (req->minor == 1 && !req->has_host) return TIO_HTTP_BAD;
    req->head_len = next;
    return TIO_HTTP_DONE;
}
