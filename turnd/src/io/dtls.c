/*
 * dtls.c - TURN over DTLS (RFC 7350, RFC 8656 §3.1) for the client leg:
 * records from the client carry STUN and ChannelData messages that go to the
 * core exactly as UDP datagrams do; relays stay UDP.
 *
 * One UDP socket per DTLS address serves every client, and sessions are
 * found by the client's address (the socket plus the client's address make
 * the 5-tuple). A connected socket per client would need SO_REUSEPORT
 * groups, would race the listener for a new client's second flight, and
 * would cost a descriptor per client; the lookup here is one hash probe.
 *
 * No state exists before a client proves it receives at its address: a
 * ClientHello from an unknown address goes through DTLSv1_listen() on one
 * shared SSL object, which answers with a HelloVerifyRequest smaller than
 * the ClientHello (so the listener is no amplifier) and keeps nothing. The
 * cookie is an HMAC of the client's address and the current minute under a
 * random key; only a ClientHello that returns a valid cookie gets a session,
 * and the shared SSL object becomes that session's.
 *
 * OpenSSL reads and writes through a small BIO: reads return the datagram
 * being handled, writes go to the shell's send queue towards the client.
 * Sessions without an allocation end after idle_timeout_s without a
 * message, unfinished handshakes after DTLS_HANDSHAKE_S; a session that ends
 * takes its allocation with it, as a TLS connection does. ALPN "stun.turn"
 * (RFC 7443) is answered as over TLS. Only this file and tls.c include
 * OpenSSL.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#define DTLS_HANDSHAKE_S 10
#define DTLS_MTU 1200        /* handshake flights are cut to fit common paths */
#define DTLS_PLAIN_MAX 16384 /* one record's plaintext (TLS max fragment) */
#define COOKIE_LEN 32
#define COOKIE_PERIOD_MS 60000 /* a cookie is good for one to two minutes */

/* Where the BIO reads from and writes to; one per session and one for the
 * shared listening SSL. */
struct dgram_io {
    struct tio_dtls *d;
    int fd;
    struct stun_addr peer;
    const uint8_t *in; /* the datagram being handled; NULL once read */
    size_t in_len;
    unsigned written; /* datagrams sent, to tell a HelloVerifyRequest from silence */
};

struct dtls_session {
    struct dtls_session *hnext;       /* hash bucket */
    struct dtls_session *prev, *next; /* d->all, for the sweep */
    struct tio_sock *listener;
    SSL *ssl;
    struct dgram_io io;
    uint64_t created_ms, last_ms;
    bool handshaken, closing;
    const char *close_reason;
};

struct tio_dtls {
    struct tio_server *s;
    SSL_CTX *ctx;
    BIO_METHOD *meth;
    SSL *listen_ssl; /* the next session's SSL, used statelessly until a cookie checks out */
    struct dgram_io listen_io;
    BIO_ADDR *listen_client;
    uint8_t cookie_key[32];
    struct dtls_session **buckets;
    unsigned n_buckets; /* a power of two */
    struct dtls_session *all;
    unsigned max_sessions, idle_s;
    uint64_t next_sweep_ms, last_limit_log_ms;
    struct tio_dtls_stats st;
    uint8_t plain[DTLS_PLAIN_MAX];
    uint8_t wire[65536]; /* one datagram as received */
};

/* ---- the BIO ---- */

static int bio_write(BIO *b, const char *buf, int len)
{
    struct dgram_io *io = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    /* UDP: a datagram the socket cannot take now is lost, and DTLS
     * retransmits the handshake; never make OpenSSL wait. */
    tio_sendq_push(io->d->s, io->fd, &io->peer, (const uint8_t *)buf, (size_t)len);
    io->written++;
    return len;
}

static int bio_read(BIO *b, char *buf, int cap)
{
    struct dgram_io *io = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!io->in) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = io->in_len < (size_t)cap ? io->in_len : (size_t)cap; /* cut like recv() */
    memcpy(buf, io->in, n);
    io->in = NULL;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
        return DTLS_MTU;
    default:
        return 0; /* pending bytes, peer address, timers: nothing to say */
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- cookies (RFC 6347 §4.2.1) ---- */

static int cookie_of(struct tio_dtls *d, const struct stun_addr *peer, uint64_t period,
                     unsigned char out[COOKIE_LEN])
{
    uint8_t msg[8 + sizeof(*peer)];
    memcpy(msg, &period, 8);
    memcpy(msg + 8, peer, sizeof(*peer));
    unsigned int n = COOKIE_LEN;
    return HMAC(EVP_sha256(), d->cookie_key, sizeof(d->cookie_key), msg, sizeof(msg), out, &n)
               ? 0
               : -EIO;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    struct dgram_io *io = SSL_get_app_data(ssl);
    if (cookie_of(io->d, &io->peer, tio_now_ms() / COOKIE_PERIOD_MS, cookie) != 0) return 0;
    *len = COOKIE_LEN;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    struct dgram_io *io = SSL_get_app_data(ssl);
    uint64_t now = tio_now_ms() / COOKIE_PERIOD_MS;
    unsigned char want[COOKIE_LEN];
    if (len != COOKIE_LEN) return 0;
    for (uint64_t p = now; p + 2 > now; p--) { /* this period and the one before */
        if (cookie_of(io->d, &io->peer, p, want) == 0 && CRYPTO_memcmp(want, cookie, len) == 0)
            return 1;
        if (p == 0) break;
    }
    return 0;
}

/* ---- contexts and SSL objects ---- */

static SSL_CTX *ctx_new(const char *cert, const char *key, char *err, size_t err_cap)
{
    char detail[256];
    if (!cert || !key) {
        snprintf(err, err_cap, "DTLS needs tls_cert and tls_key");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(DTLS_server_method());
    if (!ctx) {
        snprintf(err, err_cap, "cannot set up DTLS: %s", tio_tls_error(detail, sizeof(detail)));
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_COOKIE_EXCHANGE);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle sessions hold no record buffers */
    tio_tls_accept_alpn(ctx);
    SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
    SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION)) {
        snprintf(err, err_cap, "cannot require DTLS 1.2: %s",
                 tio_tls_error(detail, sizeof(detail)));
        goto fail;
    }
    if (tio_tls_use_pair(ctx, cert, key, err, err_cap) != 0) goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* A fresh SSL reading and writing through a BIO bound to io. */
static SSL *ssl_new(struct tio_dtls *d, struct dgram_io *io)
{
    SSL *ssl = SSL_new(d->ctx);
    BIO *bio = ssl ? BIO_new(d->meth) : NULL;
    if (!bio) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    BIO_set_data(bio, io);
    SSL_set_bio(ssl, bio, bio); /* one reference, owned by ssl */
    SSL_set_app_data(ssl, io);
    SSL_set_accept_state(ssl);
    return ssl;
}

static void ssl_rebind(SSL *ssl, struct dgram_io *io)
{
    BIO_set_data(SSL_get_rbio(ssl), io);
    SSL_set_app_data(ssl, io);
}

/* ---- the session table ---- */

static unsigned bucket_of(const struct tio_dtls *d, int fd, const struct stun_addr *peer)
{
    return (stun_addr_hash(peer) ^ ((uint32_t)fd * 2654435761u)) & (d->n_buckets - 1);
}

static struct dtls_session *find(const struct tio_dtls *d, int fd, const struct stun_addr *peer)
{
    for (struct dtls_session *x = d->buckets[bucket_of(d, fd, peer)]; x; x = x->hnext)
        if (x->io.fd == fd && stun_addr_equal(&x->io.peer, peer)) return x;
    return NULL;
}

static void log_session(const struct dtls_session *x, enum lt_log_level level, const char *event,
                        const char *detail)
{
    if (!lt_log_enabled(level)) return;
    char client[64];
    stun_addr_format(&x->io.peer, true, client, sizeof(client));
    lt_log(level, "io", event, "transport=dtls client=%s detail=\"%s\"", client, detail);
}

/* Never inside a core callback: see close_later(). */
static void session_close(struct tio_dtls *d, struct dtls_session *x, const char *reason)
{
    struct turn_core *core = d->s->core;
    /* The core keeps datagram allocations until they expire; a DTLS
     * session's allocation ends with the session, as a TLS connection's does. */
    if (core && x->handshaken) turn_core_kill_client(core, x->io.fd, &x->io.peer, "dtls-closed");
    if (lt_log_enabled(LT_LOG_DEBUG)) log_session(x, LT_LOG_DEBUG, "conn_closed", reason);
    /* close_notify, unless the session broke or its client is already gone */
    if (x->handshaken && strcmp(reason, "dtls-error") && strcmp(reason, "client-restarted"))
        SSL_shutdown(x->ssl);
    ERR_clear_error();
    SSL_free(x->ssl);
    struct dtls_session **pp = &d->buckets[bucket_of(d, x->io.fd, &x->io.peer)];
    while (*pp != x)
        pp = &(*pp)->hnext;
    *pp = x->hnext;
    if (x->prev)
        x->prev->next = x->next;
    else
        d->all = x->next;
    if (x->next) x->next->prev = x->prev;
    d->st.sessions--;
    free(x);
}

static void close_later(struct dtls_session *x, const char *reason)
{
    if (x->closing) return;
    x->closing = true;
    x->close_reason = reason;
}

/* ---- datagrams from clients ---- */

/* Content type handshake, DTLS, epoch 0 (in the clear) and a ClientHello
 * inside: all a new address may send. Anything else from an unknown address
 * is dropped unanswered. */
static bool is_client_hello(const uint8_t *p, size_t len)
{
    return len >= 13 + 12 && p[0] == 22 && p[1] == 0xfe && p[3] == 0 && p[4] == 0 && p[13] == 1;
}

/* The new session once the client returned a valid cookie; NULL otherwise.
 * `old` is the established session of the same address, which a valid
 * cookie replaces (RFC 6347 §4.2.8: the client restarted on that port). */
static struct dtls_session *new_client(struct tio_dtls *d, struct tio_sock *listener,
                                       const struct stun_addr *from, const uint8_t *data,
                                       size_t len, uint64_t now, struct dtls_session *old)
{
    if (!is_client_hello(data, len)) return NULL;
    if (d->st.sessions >= d->max_sessions && !old) {
        d->st.refused++;
        if (now - d->last_limit_log_ms >= 10000) { /* at most one line per 10 s */
            d->last_limit_log_ms = now;
            lt_log(LT_LOG_WARN, "io", "dtls_limit", "max_dtls_sessions=%u refused_total=%llu",
                   d->max_sessions, (unsigned long long)d->st.refused);
        }
        return NULL;
    }
    if (!d->listen_ssl && !(d->listen_ssl = ssl_new(d, &d->listen_io))) return NULL;
    struct dgram_io *io = &d->listen_io;
    io->fd = listener->fd;
    io->peer = *from;
    io->in = data;
    io->in_len = len;
    io->written = 0;
    int rc = DTLSv1_listen(d->listen_ssl, d->listen_client);
    io->in = NULL;
    if (rc <= 0) {
        if (io->written) d->st.hello_verify_requests++;
        ERR_clear_error();
        return NULL; /* nothing kept: the next ClientHello starts from scratch */
    }
    if (old) session_close(d, old, "client-restarted"); /* it proved the address is its own */
    struct dtls_session *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->listener = listener;
    x->io = *io;
    x->ssl = d->listen_ssl;
    d->listen_ssl = NULL; /* made again on the next new client */
    ssl_rebind(x->ssl, &x->io);
    x->created_ms = x->last_ms = now;
    unsigned b = bucket_of(d, x->io.fd, from);
    x->hnext = d->buckets[b];
    d->buckets[b] = x;
    x->next = d->all;
    if (d->all) d->all->prev = x;
    d->all = x;
    d->st.sessions++;
    d->st.sessions_total++;
    if (lt_log_enabled(LT_LOG_DEBUG)) {
        char client[64];
        stun_addr_format(from, true, client, sizeof(client));
        lt_log(LT_LOG_DEBUG, "io", "conn_opened", "transport=dtls client=%s conns=%llu", client,
               (unsigned long long)d->st.sessions);
    }
    return x;
}

static void log_ssl_failure(struct dtls_session *x, const char *event)
{
    char detail[256];
    log_session(x, LT_LOG_INFO, event, tio_tls_error(detail, sizeof(detail)));
}

static void session_input(struct tio_dtls *d, struct dtls_session *x, const uint8_t *data,
                          size_t len, uint64_t now)
{
    x->io.in = data;
    x->io.in_len = len;
    ERR_clear_error();
    if (!x->handshaken) {
        int rc = SSL_do_handshake(x->ssl);
        if (rc != 1) {
            int e = SSL_get_error(x->ssl, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                d->st.handshake_failures++;
                log_ssl_failure(x, "dtls_handshake_failed");
                close_later(x, "dtls-handshake-failed");
            }
            x->io.in = NULL;
            return;
        }
        x->handshaken = true;
        x->last_ms = now;
        d->st.handshakes++;
    }
    /* A datagram may hold several records: read until OpenSSL wants more. */
    while (!x->closing) {
        size_t n = 0;
        int rc = SSL_read_ex(x->ssl, d->plain, sizeof(d->plain), &n);
        if (rc != 1) {
            int e = SSL_get_error(x->ssl, rc);
            if (e == SSL_ERROR_ZERO_RETURN) {
                close_later(x, "closed-by-client");
            } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                log_ssl_failure(x, "dtls_read_failed");
                close_later(x, "dtls-error");
            }
            break;
        }
        x->last_ms = now;
        d->s->client_msgs[TIO_DTLS]++;
        d->s->client_bytes[TIO_DTLS] += n;
        turn_core_on_client(d->s->core, x->io.fd, &x->listener->local, &x->io.peer, d->plain, n,
                            now);
    }
    x->io.in = NULL;
}

void tio_dtls_read(struct tio_server *s, struct tio_sock *sock)
{
    struct tio_dtls *d = s->dtls;
    for (int round = 0; round < 4 * TIO_BATCH && !sock->dead; round++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        ssize_t n =
            recvfrom(sock->fd, d->wire, sizeof(d->wire), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
        if (n < 0) return;
        struct stun_addr from;
        tio_addr_from_sockaddr(&ss, &from);
        uint64_t now = tio_now_ms();
        struct dtls_session *x = find(d, sock->fd, &from);
        const uint8_t *data = d->wire;
        /* A ClientHello in the clear on an established session is a client
         * that restarted on the same port: it goes through the cookie
         * exchange like a new one, and the old session stays until it passes. */
        bool restart = x && x->handshaken && !x->closing && is_client_hello(d->wire, (size_t)n);
        if (!x || restart) {
            if (!(x = new_client(d, sock, &from, d->wire, (size_t)n, now, restart ? x : NULL)))
                continue;
            data = NULL; /* DTLSv1_listen() kept the ClientHello in the session's SSL */
        }
        if (!x->closing) session_input(d, x, data, (size_t)n, now);
        if (x->closing) session_close(d, x, x->close_reason);
    }
}

/* ---- datagrams to clients ---- */

void tio_dtls_send(struct tio_server *s, struct tio_sock *sock, const struct stun_addr *to,
                   const uint8_t *buf, size_t len)
{
    struct tio_dtls *d = s->dtls;
    if (!d) return;
    struct dtls_session *x = find(d, sock->fd, to);
    if (!x || !x->handshaken || x->closing || len > DTLS_PLAIN_MAX) {
        d->st.send_dropped++;
        return;
    }
    size_t n = 0;
    ERR_clear_error();
    if (SSL_write_ex(x->ssl, buf, len, &n) != 1) {
        log_ssl_failure(x, "dtls_write_failed");
        close_later(x, "dtls-error"); /* inside a core callback: closed by the sweep */
    }
}

/* ---- timers ---- */

void tio_dtls_maintain(struct tio_server *s, uint64_t now)
{
    struct tio_dtls *d = s->dtls;
    if (!d || now < d->next_sweep_ms) return;
    d->next_sweep_ms = now + 250; /* DTLS retransmits after 1 s and more */
    uint64_t idle_ms = (uint64_t)d->idle_s * 1000;
    struct dtls_session *x = d->all;
    while (x) {
        struct dtls_session *next = x->next;
        if (x->closing) {
            session_close(d, x, x->close_reason);
        } else if (!x->handshaken) {
            if (now - x->created_ms >= DTLS_HANDSHAKE_S * 1000) {
                d->st.handshake_failures++;
                session_close(d, x, "dtls-handshake-timeout");
            } else if (DTLSv1_handle_timeout(x->ssl) < 0) {
                session_close(d, x, "dtls-handshake-failed");
            }
        } else if (now - x->last_ms >= idle_ms &&
                   !(s->core && turn_core_has_allocation(s->core, x->io.fd, &x->io.peer))) {
            session_close(d, x, "idle");
        }
        x = next;
    }
    ERR_clear_error();
}

/* ---- setup ---- */

static int dtls_new(struct tio_server *s, const struct tio_dtls_config *c, char *err,
                    size_t err_cap)
{
    struct tio_dtls *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    s->dtls = d;
    d->s = s;
    d->max_sessions = c->max_sessions;
    d->idle_s = c->idle_timeout_s;
    d->n_buckets = 1024;
    while (d->n_buckets < d->max_sessions && d->n_buckets < (1u << 20))
        d->n_buckets <<= 1;
    d->buckets = calloc(d->n_buckets, sizeof(*d->buckets));
    d->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "turnd-dtls");
    d->listen_client = BIO_ADDR_new();
    d->listen_io.d = d;
    if (!d->buckets || !d->meth || !d->listen_client || !BIO_meth_set_write(d->meth, bio_write) ||
        !BIO_meth_set_read(d->meth, bio_read) || !BIO_meth_set_ctrl(d->meth, bio_ctrl) ||
        !BIO_meth_set_create(d->meth, bio_create)) {
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    if (getentropy(d->cookie_key, sizeof(d->cookie_key)) != 0) {
        snprintf(err, err_cap, "no entropy for DTLS cookies: %s", strerror(errno));
        return -EIO;
    }
    d->ctx = ctx_new(c->cert, c->key, err, err_cap);
    return d->ctx ? 0 : -EINVAL;
}

int tio_server_dtls(struct tio_server *s, const struct tio_dtls_config *c, char *err,
                    size_t err_cap)
{
    if (c->n_listen == 0) return 0;
    int rc = dtls_new(s, c, err, err_cap);
    for (unsigned i = 0; rc == 0 && i < c->n_listen && i < TIO_MAX_ADDRS; i++) {
        char name[64];
        stun_addr_format(&c->listen[i], true, name, sizeof(name));
        int fd = tio_udp_bind(&c->listen[i], false);
        struct tio_sock *sock =
            fd >= 0 && s->n_listeners < TIO_MAX_LISTENERS ? calloc(1, sizeof(*sock)) : NULL;
        if (!sock) {
            snprintf(err, err_cap, "cannot listen on %s/udp (DTLS): %s", name,
                     strerror(fd < 0 ? -fd : ENOMEM));
            if (fd >= 0) close(fd);
            return fd < 0 ? fd : -ENOMEM;
        }
        sock->fd = fd;
        sock->kind = SOCK_DTLS_LISTENER;
        sock->local = c->listen[i];
        s->listeners[s->n_listeners++] = sock; /* closed with the other listeners */
        rc = tio_watch(s, sock, EPOLLIN);
        if (rc != 0) snprintf(err, err_cap, "cannot watch %s/udp: %s", name, strerror(-rc));
    }
    return rc;
}

int tio_dtls_reload(struct tio_server *s, const char *cert, const char *key, char *err,
                    size_t err_cap)
{
    struct tio_dtls *d = s->dtls;
    if (!d) return 0;
    SSL_CTX *next = ctx_new(cert, key, err, err_cap);
    if (!next) return -EINVAL;
    SSL_CTX_free(d->ctx); /* live sessions hold their own reference */
    d->ctx = next;
    SSL_free(d->listen_ssl); /* made again from the new context */
    d->listen_ssl = NULL;
    return 0;
}

void tio_dtls_stats(const struct tio_server *s, struct tio_dtls_stats *out)
{
    if (s->dtls)
        *out = s->dtls->st;
    else
        memset(out, 0, sizeof(*out));
}

void tio_dtls_free(struct tio_server *s)
{
    struct tio_dtls *d = s->dtls;
    if (!d) return;
    while (d->all) {
        struct dtls_session *x = d->all;
        d->all = x->next;
        SSL_free(x->ssl);
        free(x);
    }
    SSL_free(d->listen_ssl);
    SSL_CTX_free(d->ctx);
    BIO_meth_free(d->meth);
    BIO_ADDR_free(d->listen_client);
    free(d->buckets);
    free(d);
    s->dtls = NULL;
}
