/*
 * wsc.h - a WebSocket client for many thousands of connections in one
 * process: nonblocking TCP from a chosen source address, TLS through OpenSSL,
 * the RFC 6455 upgrade, masked text frames out, frames in; one epoll loop.
 * No allocation per frame unless a frame arrives split across reads.
 */
#ifndef BENCH_WSC_H
#define BENCH_WSC_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

enum wsc_state { WSC_IDLE, WSC_TCP, WSC_TLS, WSC_UPGRADE, WSC_OPEN, WSC_CLOSED };

struct wsc {
    enum wsc_state state;
    int fd;
    SSL *ssl;
    char *rx; /* bytes of an incomplete HTTP response or frame */
    size_t rx_len, rx_cap;
    char *tx; /* bytes SSL_write has not taken yet */
    size_t tx_len, tx_cap;
    uint32_t events; /* what epoll watches now */
};

struct wsc_loop;

struct wsc_handler {
    void (*on_open)(struct wsc *c, void *user);                            /* 101 received */
    void (*on_text)(struct wsc *c, const char *text, size_t len, void *user);
    void (*on_close)(struct wsc *c, const char *why, void *user); /* after it is closed */
};

struct wsc_config {
    const char *host_header;
    const char *path;
    const char *subprotocol;
    size_t max_message; /* larger frames close the connection */
};

/* 0 or -errno. */
int wsc_loop_new(const struct wsc_config *cfg, const struct wsc_handler *h, void *user,
                 struct wsc_loop **out);
void wsc_loop_free(struct wsc_loop *l);
/* Starts connecting c from src (port 0) to dst; 0 or -errno (c is then CLOSED). */
int wsc_connect(struct wsc_loop *l, struct wsc *c, const struct sockaddr_in *src,
                const struct sockaddr_in *dst);
/* Queues one text frame; 0, -ENOTCONN or -ENOMEM. */
int wsc_send_text(struct wsc_loop *l, struct wsc *c, const char *text, size_t len);
/* Closes at once (no close handshake); on_close is called with why. */
void wsc_close(struct wsc_loop *l, struct wsc *c, const char *why);
/* Waits up to timeout_ms and handles what is ready; returns events handled or -errno. */
int wsc_loop_poll(struct wsc_loop *l, int timeout_ms);

#endif
