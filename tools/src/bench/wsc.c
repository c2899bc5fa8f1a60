/*
 * wsc.c - see wsc.h. Certificates are not verified: the benchmark talks only
 * to its own signald on loopback, with a certificate it just made.
 */
#include "wsc.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SCRATCH (64 * 1024)
#define MAX_EVENTS 512

struct wsc_loop {
    int ep;
    SSL_CTX *ctx;
    struct wsc_config cfg;
    struct wsc_handler h;
    void *user;
    uint64_t rng;
    char scratch[SCRATCH];
};

int wsc_loop_new(const struct wsc_config *cfg, const struct wsc_handler *h, void *user,
                 struct wsc_loop **out)
{
    struct wsc_loop *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->cfg = *cfg;
    l->h = *h;
    l->user = user;
    l->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->ctx = SSL_CTX_new(TLS_client_method());
    if (l->ep < 0 || !l->ctx) {
        ERR_print_errors_fp(stderr);
        wsc_loop_free(l);
        return -EIO;
    }
    SSL_CTX_set_verify(l->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_min_proto_version(l->ctx, TLS1_2_VERSION);
    /* Idle connections keep no 34 KB read/write buffers: 20,000 of them fit. */
    SSL_CTX_set_mode(l->ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = l;
    return 0;
}

void wsc_loop_free(struct wsc_loop *l)
{
    if (!l)
        return;
    if (l->ep >= 0)
        close(l->ep);
    SSL_CTX_free(l->ctx);
    free(l);
}

static int watch(struct wsc_loop *l, struct wsc *c, uint32_t events)
{
    if (c->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->ep, op, c->fd, &ev) != 0)
        return -errno;
    c->events = events;
    return 0;
}

void wsc_close(struct wsc_loop *l, struct wsc *c, const char *why)
{
    if (c->state == WSC_CLOSED || c->state == WSC_IDLE)
        return;
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    free(c->rx);
    free(c->tx);
    c->rx = c->tx = NULL;
    c->rx_len = c->rx_cap = c->tx_len = c->tx_cap = 0;
    c->events = 0;
    c->state = WSC_CLOSED;
    if (l->h.on_close)
        l->h.on_close(c, why, l->user);
}

static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

static void flush(struct wsc_loop *l, struct wsc *c)
{
    while (c->tx_len > 0) {
        int n = SSL_write(c->ssl, c->tx, (int)c->tx_len);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                watch(l, c, EPOLLIN | EPOLLOUT);
                return;
            }
            wsc_close(l, c, "tls write failed");
            return;
        }
        memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
        c->tx_len -= (size_t)n;
    }
    watch(l, c, EPOLLIN);
}

static int queue_raw(struct wsc *c, const void *data, size_t len)
{
    if (reserve(&c->tx, &c->tx_cap, c->tx_len + len) != 0)
        return -ENOMEM;
    memcpy(c->tx + c->tx_len, data, len);
    c->tx_len += len;
    return 0;
}

static int queue_frame(struct wsc_loop *l, struct wsc *c, int opcode, const char *p, size_t len)
{
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    uint8_t mask[4] = {(uint8_t)l->rng, (uint8_t)(l->rng >> 8), (uint8_t)(l->rng >> 16),
                       (uint8_t)(l->rng >> 24)};
    memcpy(hdr + h, mask, 4);
    h += 4;
    if (reserve(&c->tx, &c->tx_cap, c->tx_len + h + len) != 0)
        return -ENOMEM;
    memcpy(c->tx + c->tx_len, hdr, h);
    uint8_t *dst = (uint8_t *)c->tx + c->tx_len + h;
    for (size_t i = 0; i < len; i++)
        dst[i] = (uint8_t)p[i] ^ mask[i & 3];
    c->tx_len += h + len;
    return 0;
}

int wsc_send_text(struct wsc_loop *l, struct wsc *c, const char *text, size_t len)
{
    if (c->state != WSC_OPEN)
        return -ENOTCONN;
    if (queue_frame(l, c, 1, text, len) != 0)
        return -ENOMEM;
    flush(l, c);
    return 0;
}

int wsc_connect(struct wsc_loop *l, struct wsc *c, const struct sockaddr_in *src,
                const struct sockaddr_in *dst)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = WSC_CLOSED;
        return -errno;
    }
    int one = 1;
    /* The port is chosen at connect(), per destination: more than 28k
     * connections fit on one source address. */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = WSC_TCP;
    int err = 0;
    if (bind(c->fd, (const struct sockaddr *)src, sizeof *src) != 0 ||
        (connect(c->fd, (const struct sockaddr *)dst, sizeof *dst) != 0 && errno != EINPROGRESS))
        err = -errno;
    if (!err)
        err = watch(l, c, EPOLLOUT);
    if (err) {
        close(c->fd);
        c->fd = -1;
        c->state = WSC_CLOSED;
    }
    return err;
}

static void handshake(struct wsc_loop *l, struct wsc *c)
{
    int n = SSL_connect(c->ssl);
    if (n == 1) {
        char req[512];
        int len = snprintf(req, sizeof req,
                           "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                           l->cfg.path, l->cfg.host_header, l->cfg.subprotocol);
        c->state = WSC_UPGRADE;
        if (queue_raw(c, req, (size_t)len) != 0) {
            wsc_close(l, c, "out of memory");
            return;
        }
        flush(l, c);
        return;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ)
        watch(l, c, EPOLLIN);
    else if (e == SSL_ERROR_WANT_WRITE)
        watch(l, c, EPOLLOUT);
    else
        wsc_close(l, c, "tls handshake failed");
}

/* Parses frames in buf; returns bytes consumed, or -1 when c was closed. */
static long frames(struct wsc_loop *l, struct wsc *c, char *buf, size_t len)
{
    size_t off = 0;
    while (len - off >= 2) {
        const uint8_t *p = (const uint8_t *)buf + off;
        int opcode = p[0] & 0x0f, fin = p[0] & 0x80;
        uint64_t plen = p[1] & 0x7f;
        size_t h = 2;
        if (p[1] & 0x80) {
            wsc_close(l, c, "masked frame from the server");
            return -1;
        }
        if (plen == 126) {
            if (len - off < 4)
                break;
            plen = ((uint64_t)p[2] << 8) | p[3];
            h = 4;
        } else if (plen == 127) {
            if (len - off < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = (plen << 8) | p[2 + i];
            h = 10;
        }
        if (plen > l->cfg.max_message) {
            wsc_close(l, c, "frame too large");
            return -1;
        }
        if (len - off < h + plen)
            break;
        char *payload = buf + off + h;
        off += h + (size_t)plen;
        if (opcode == 1 && fin) {
            l->h.on_text(c, payload, (size_t)plen, l->user);
            if (c->state != WSC_OPEN)
                return -1;
        } else if (opcode == 9) {
            if (queue_frame(l, c, 10, payload, (size_t)plen) == 0)
                flush(l, c);
            if (c->state != WSC_OPEN)
                return -1;
        } else if (opcode == 8) {
            wsc_close(l, c, "closed by the server");
            return -1;
        } else if (opcode != 10) {
            wsc_close(l, c, "fragmented or binary frame");
            return -1;
        }
    }
    return (long)off;
}

/* Takes in bytes that arrived: the HTTP response first, then frames. */
static void take(struct wsc_loop *l, struct wsc *c, char *data, size_t len)
{
    char *buf = data;
    size_t blen = len;
    if (c->rx_len > 0 || c->state == WSC_UPGRADE) {
        if (reserve(&c->rx, &c->rx_cap, c->rx_len + len + 1) != 0) {
            wsc_close(l, c, "out of memory");
            return;
        }
        memcpy(c->rx + c->rx_len, data, len);
        c->rx_len += len;
        c->rx[c->rx_len] = '\0';
        buf = c->rx;
        blen = c->rx_len;
    }
    if (c->state == WSC_UPGRADE) {
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (blen > 8192)
                wsc_close(l, c, "upgrade response too long");
            return;
        }
        if (strncmp(buf, "HTTP/1.1 101", 12) != 0) {
            wsc_close(l, c, "upgrade refused");
            return;
        }
        size_t hdr = (size_t)(end + 4 - buf);
        c->state = WSC_OPEN;
        l->h.on_open(c, l->user);
        if (c->state != WSC_OPEN)
            return;
        memmove(c->rx, c->rx + hdr, blen - hdr);
        c->rx_len = blen - hdr;
        buf = c->rx;
        blen = c->rx_len;
    }
    long used = frames(l, c, buf, blen);
    if (used < 0)
        return;
    size_t rest = blen - (size_t)used;
    if (buf == c->rx) {
        memmove(c->rx, c->rx + used, rest);
        c->rx_len = rest;
        if (rest == 0 && c->rx_cap > 65536) { /* a big reply passed: give it back */
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    } else if (rest > 0) {
        if (reserve(&c->rx, &c->rx_cap, rest + 1) != 0) {
            wsc_close(l, c, "out of memory");
            return;
        }
        memcpy(c->rx, buf + used, rest);
        c->rx_len = rest;
    }
}

static void readable(struct wsc_loop *l, struct wsc *c)
{
    for (int rounds = 0; rounds < 64; rounds++) { /* bounded: others get a turn */
        int n = SSL_read(c->ssl, l->scratch, SCRATCH);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            wsc_close(l, c, e == SSL_ERROR_ZERO_RETURN ? "closed by the server" : "tls read failed");
            return;
        }
        take(l, c, l->scratch, (size_t)n);
        if (c->state != WSC_OPEN && c->state != WSC_UPGRADE)
            return;
    }
}

static void ready(struct wsc_loop *l, struct wsc *c, uint32_t ev)
{
    if (c->state == WSC_TCP) {
        int err = 0;
        socklen_t sl = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 || err) {
            wsc_close(l, c, "tcp connect failed");
            return;
        }
        c->ssl = SSL_new(l->ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
            wsc_close(l, c, "tls setup failed");
            return;
        }
        SSL_set_tlsext_host_name(c->ssl, "localhost");
        c->state = WSC_TLS;
        handshake(l, c);
        return;
    }
    if (c->state == WSC_TLS) {
        handshake(l, c);
        return;
    }
    if ((ev & EPOLLOUT) && c->tx_len > 0) {
        flush(l, c);
        if (c->state == WSC_CLOSED)
            return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
        readable(l, c);
}

int wsc_loop_poll(struct wsc_loop *l, int timeout_ms)
{
    struct epoll_event ev[MAX_EVENTS];
    int n = epoll_wait(l->ep, ev, MAX_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        ready(l, ev[i].data.ptr, ev[i].events);
    return n;
}
