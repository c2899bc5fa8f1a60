/*
 * http_req.h - reading one HTTP/1.x request head from a buffer (sans-I/O);
 * used by the metrics endpoint (metrics_http.c).
 */
#ifndef LANTURN_TIO_HTTP_REQ_H
#define LANTURN_TIO_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>

enum { TIO_HTTP_BAD = -1, TIO_HTTP_INCOMPLETE = 0, TIO_HTTP_DONE = 1 };

/* Pointers borrow from the buffer handed to tio_http_parse(). */
struct tio_http_request {
    const char *method, *target;
    size_t method_len, target_len;
    int minor; /* HTTP/1.0 or HTTP/1.1 */
    bool has_host;
    size_t head_len; /* bytes up to and including the empty line */
};

/* TIO_HTTP_DONE with *req filled when buf holds a whole, well-formed head;
 * TIO_HTTP_INCOMPLETE when it may still become one; TIO_HTTP_BAD otherwise. */
int tio_http_parse(const char *buf, size_t len, struct tio_http_request *req);

#endif
