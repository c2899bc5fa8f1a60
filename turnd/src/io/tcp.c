/*
 * tcp.c - TURN over TCP and TLS (RFC 8656 §3.1, RFC 8489 §6.2.2) for the
 * client leg: listening sockets, accepted connections, their read buffers
 * and write queues. Relays stay UDP.
 *
 * Bytes read from a connection collect in its read buffer; the sans-I/O
 * framer stun_stream_frame() cuts whole STUN or ChannelData messages out of
 * it and each goes to the core with the connection's descriptor as handle.
 * What the core sends back is written at once while the connection's queue
 * is empty, otherwise appended to a bounded write queue drained on EPOLLOUT.
 * A connection whose queue would overflow is closed and logged: its client
 * has stopped reading, and dropping bytes from a stream would desynchronise it.
 *
 * A connection without an allocation is closed after idle_timeout_s with no
 * complete message; one with an allocation lives as long as the allocation,
 * and the allocation as long as the connection (turn_core_on_client_closed).
 * Nothing is closed inside a core callback: a connection to close goes on a
 * list and is closed after the current event, so the core never sees its
 * allocation vanish while it is using it.
 *
 * Out of descriptors, accept() fails at once every time, and the listener,
 * level-triggered, wakes the loop again at once: the stream listeners are
 * unwatched for ACCEPT_BACKOFF_MS instead, and failures are logged at most
 * once a second. The connections waiting in the backlog are taken once
 * descriptors are free again.
 *
 * After an RFC 6062 ConnectionBind the connection is spliced to a peer
 * connection (peer_tcp.c): its bytes are no longer framed but go to the
 * peer, read only as far as the peer's queue has room (else the connection
 * is paused), and the peer learns when this side's queue has drained.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RBUF_CAP STUN_STREAM_FRAME_MAX /* always room for one whole frame */
#define WQ_CAP (256 * 1024)            /* about 2 s of a 1 Mbit/s video call */
/* Listeners unwatched after EMFILE; tio_conns_maintain re-arms them, at most
 * the loop's 1 s wait later. */
#define ACCEPT_BACKOFF_MS 250
#define READS_PER_EVENT 8 /* plain TCP: let other sockets have a turn */
#define ACCEPTS_PER_EVENT 64

struct tio_conn {
    struct tio_sock sock;         /* first: epoll events and by_fd point here */
    struct tio_conn *prev, *next; /* s->conns */
    struct tio_conn *next_closing;
    struct stun_addr peer;
    struct tio_tls_conn *tls; /* NULL for plain TCP */
    bool handshaken;
    bool closing;
    bool want_out; /* EPOLLOUT is registered */
    bool paused;   /* spliced, and the peer's queue is full: no EPOLLIN */
    bool close_when_flushed;
    struct tio_peer *spliced; /* RFC 6062 client data connection */
    const char *close_reason;
    uint64_t last_frame_ms;
    uint8_t *rbuf;
    size_t rlen;
    uint8_t *wq; /* allocated the first time a write cannot complete */
    size_t whead, wtail;
};

static const char *transport(const struct tio_conn *c)
{
    return c->tls ? "tls" : "tcp";
}

int tio_stream_listen(struct tio_server *s, const struct stun_addr *addr, bool tls, char *err,
                      size_t err_cap)
{
    char name[64];
    stun_addr_format(addr, true, name, sizeof(name));
    const char *proto = tls ? "tls" : "tcp";
    struct sockaddr_storage ss;
    unsigned sl;
    if (s->n_listeners >= TIO_MAX_LISTENERS || tio_addr_to_sockaddr(addr, &ss, &sl) != 0) {
        snprintf(err, err_cap, "cannot listen on %s/%s: too many or bad address", name, proto);
        return -EINVAL;
    }
    int fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (addr->family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, err_cap, "cannot listen on %s/%s: %s", name, proto, strerror(errno));
        if (fd >= 0) close(fd);
        return -EADDRINUSE;
    }
    struct tio_sock *sock = calloc(1, sizeof(*sock));
    if (!sock) {
        close(fd);
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    sock->fd = fd;
    sock->kind = tls ? SOCK_TLS_LISTENER : SOCK_TCP_LISTENER;
    sock->local = *addr;
    s->listeners[s->n_listeners++] = sock;
    int rc = tio_watch(s, sock, EPOLLIN);
    if (rc != 0) {
        snprintf(err, err_cap, "cannot watch %s/%s: %s", name, proto, strerror(-rc));
        return rc;
    }
    return 0;
}

static void set_events(struct tio_server *s, struct tio_conn *c, bool out, bool paused)
{
    struct epoll_event ev = {.events = (paused ? 0 : EPOLLIN | EPOLLRDHUP) | (out ? EPOLLOUT : 0),
                             .data.ptr = &c->sock};
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->sock.fd, &ev) == 0) {
        c->want_out = out;
        c->paused = paused;
    }
}

static void set_out(struct tio_server *s, struct tio_conn *c, bool out)
{
    if (c->want_out != out) set_events(s, c, out, c->paused);
}

/* Mark for closing after the current event; see the top of the file. */
static void conn_close_later(struct tio_server *s, struct tio_conn *c, const char *reason)
{
    if (c->closing) return;
    c->closing = true;
    c->close_reason = reason;
    c->next_closing = s->closing;
    s->closing = c;
}

static void conn_release(struct tio_conn *c)
{
    tio_tls_conn_free(c->tls);
    free(c->rbuf);
    free(c->wq);
    c->tls = NULL;
    c->rbuf = c->wq = NULL;
}

static void conn_close_now(struct tio_server *s, struct tio_conn *c, const char *reason)
{
    if (s->core) turn_core_on_client_closed(s->core, c->sock.fd, &c->peer);
    if (c->spliced) {
        struct tio_peer *p = c->spliced;
        c->spliced = NULL;
        tio_peer_client_closed(s, p);
    }
    if (lt_log_enabled(LT_LOG_DEBUG)) {
        char client[64];
        stun_addr_format(&c->peer, true, client, sizeof(client));
        lt_log(LT_LOG_DEBUG, "io", "conn_closed", "transport=%s client=%s reason=%s", transport(c),
               client, reason);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_conns--;
    conn_release(c);
    tio_retire(s, &c->sock); /* frees c after the batch */
}

static void watch_stream_listeners(struct tio_server *s, uint32_t events)
{
    for (unsigned i = 0; i < s->n_listeners; i++) {
        struct tio_sock *l = s->listeners[i];
        struct epoll_event ev = {.events = events, .data.ptr = l};
        if (l->kind == SOCK_TCP_LISTENER || l->kind == SOCK_TLS_LISTENER)
            epoll_ctl(s->epfd, EPOLL_CTL_MOD, l->fd, &ev);
    }
}

static void accept_back_off(struct tio_server *s, int err)
{
    watch_stream_listeners(s, 0);
    uint64_t now = tio_now_ms();
    s->accept_resume_ms = now + ACCEPT_BACKOFF_MS;
    s->accept_failures++;
    unsigned long long quiet;
    if (lt_log_limit_pass(&s->accept_log, (long long)now, 1000, &quiet))
        lt_log(LT_LOG_WARN, "io", "accept_paused",
               "error=\"%s\" backoff_ms=%d max_fd=%u failures=%llu unlogged=%llu", strerror(err),
               ACCEPT_BACKOFF_MS, s->max_fd, (unsigned long long)s->accept_failures, quiet);
}

void tio_stream_accept(struct tio_server *s, struct tio_sock *listener)
{
    bool tls = listener->kind == SOCK_TLS_LISTENER;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(listener->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                accept_back_off(s, errno);
            else if (errno != EAGAIN)
                lt_log(LT_LOG_WARN, "io", "accept_failed", "error=\"%s\"", strerror(errno));
            return;
        }
        struct stun_addr peer;
        tio_addr_from_sockaddr(&ss, &peer);
        if (s->n_conns >= s->stream.max_connections) {
            close(fd);
            s->conns_refused++;
            uint64_t now = tio_now_ms();
            if (now - s->last_limit_log_ms >= 10000) { /* at most one line per 10 s */
                s->last_limit_log_ms = now;
                lt_log(LT_LOG_WARN, "io", "conn_limit", "max_connections=%u refused_total=%llu",
                       s->stream.max_connections, (unsigned long long)s->conns_refused);
            }
            continue;
        }
        struct tio_conn *c = calloc(1, sizeof(*c));
        if (c) c->rbuf = malloc(RBUF_CAP);
        if (c && c->rbuf && tls) c->tls = tio_tls_conn_new(s->tls, fd);
        int one = 1;
        /* Small frames (media, STUN) must not wait for Nagle's algorithm. */
        if (!c || !c->rbuf || (tls && !c->tls) ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
            lt_log(LT_LOG_WARN, "io", "conn_setup_failed", "error=\"out of memory\"");
            if (c) conn_release(c);
            free(c);
            close(fd);
            continue;
        }
        c->sock.fd = fd;
        c->sock.kind = SOCK_CONN;
        c->peer = peer;
        sl = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
            tio_addr_from_sockaddr(&ss, &c->sock.local);
        else
            c->sock.local = listener->local;
        c->last_frame_ms = tio_now_ms();
        int rc = tio_watch(s, &c->sock, EPOLLIN | EPOLLRDHUP);
        if (rc != 0) {
            lt_log(LT_LOG_WARN, "io", "conn_setup_failed", "error=\"%s\"", strerror(-rc));
            conn_release(c);
            free(c);
            close(fd);
            continue;
        }
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        s->conns_total++;
        if (lt_log_enabled(LT_LOG_DEBUG)) {
            char client[64];
            stun_addr_format(&peer, true, client, sizeof(client));
            lt_log(LT_LOG_DEBUG, "io", "conn_opened", "transport=%s client=%s conns=%u",
                   transport(c), client, s->n_conns);
        }
    }
}

/* > 0 bytes, 0 closed by the client, -EAGAIN, -EINPROGRESS (TLS needs to
 * write first) or another negative errno. */
static long conn_read(struct tio_conn *c, uint8_t *buf, size_t cap)
{
    if (c->tls) return tio_tls_read(c->tls, buf, cap);
    for (;;) {
        ssize_t n = recv(c->sock.fd, buf, cap, 0);
        if (n >= 0) return n;
        if (errno != EINTR) return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static long conn_write(struct tio_conn *c, const uint8_t *buf, size_t len)
{
    if (c->tls) return tio_tls_write(c->tls, buf, len);
    for (;;) {
        ssize_t n = send(c->sock.fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno != EINTR) return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static void log_failure(struct tio_conn *c, enum lt_log_level level, const char *event, long rc)
{
    if (!lt_log_enabled(level)) return;
    char client[64], detail[256];
    stun_addr_format(&c->peer, true, client, sizeof(client));
    if (rc == -EPROTO)
        tio_tls_error(detail, sizeof(detail));
    else
        snprintf(detail, sizeof(detail), "%s", strerror((int)-rc));
    lt_log(level, "io", event, "transport=%s client=%s error=\"%s\"", transport(c), client, detail);
}

/* Hand every whole frame in the read buffer to the core. false when the
 * connection is closing. */
static bool deliver(struct tio_server *s, struct tio_conn *c)
{
    size_t off = 0;
    uint64_t now = tio_now_ms();
    while (!c->closing && !c->spliced) {
        size_t n;
        const char *why = NULL;
        if (stun_stream_frame(c->rbuf + off, c->rlen - off, &n, &why) != 0) {
            char client[64];
            stun_addr_format(&c->peer, true, client, sizeof(client));
            lt_log(LT_LOG_INFO, "io", "conn_garbage", "transport=%s client=%s detail=\"%s\"",
                   transport(c), client, why);
            conn_close_later(s, c, "not-stun");
            return false;
        }
        if (n == 0) break;
        c->last_frame_ms = now;
        s->client_msgs[c->tls ? TIO_TLS : TIO_TCP]++;
        s->client_bytes[c->tls ? TIO_TLS : TIO_TCP] += n;
        turn_core_on_stream(s->core, c->sock.fd, &c->sock.local, &c->peer, c->rbuf + off, n, now);
        off += n;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    if (c->spliced && c->rlen > 0 && !c->closing) {
        /* RFC 6062 §5.4: whatever follows ConnectionBind is the peer's. */
        tio_peer_from_client(s, c->spliced, c->rbuf, c->rlen);
        c->rlen = 0;
    }
    return !c->closing;
}

static void conn_read_all(struct tio_server *s, struct tio_conn *c)
{
    /* TLS keeps decrypted bytes inside OpenSSL where epoll cannot see them:
     * read until it says it needs more from the socket. */
    for (int round = 0; c->tls || round < READS_PER_EVENT; round++) {
        size_t cap = RBUF_CAP - c->rlen;
        if (c->spliced) {
            size_t room = tio_peer_room(s, c->spliced);
            if (room == 0) {
                set_events(s, c, c->want_out, true); /* the peer resumes us */
                return;
            }
            cap = room < cap ? room : cap;
        }
        long n = conn_read(c, c->rbuf + c->rlen, cap);
        if (n == -EAGAIN) return;
        if (n == -EINPROGRESS) {
            set_out(s, c, true);
            return;
        }
        if (n == 0) {
            conn_close_later(s, c, "closed-by-client");
            return;
        }
        if (n < 0) {
            log_failure(c, LT_LOG_DEBUG, "conn_read_failed", n);
            conn_close_later(s, c, "read-error");
            return;
        }
        c->rlen += (size_t)n;
        if (!deliver(s, c)) return;
    }
}

static void flush(struct tio_server *s, struct tio_conn *c)
{
    while (c->whead < c->wtail) {
        long n = conn_write(c, c->wq + c->whead, c->wtail - c->whead);
        if (n == -EAGAIN || n == -EINPROGRESS) {
            set_out(s, c, true);
            return;
        }
        if (n <= 0) {
            log_failure(c, LT_LOG_DEBUG, "conn_write_failed", n ? n : -EPIPE);
            conn_close_later(s, c, "write-error");
            return;
        }
        c->whead += (size_t)n;
    }
    c->whead = c->wtail = 0;
    set_out(s, c, false);
    if (c->close_when_flushed)
        conn_close_later(s, c, c->close_reason);
    else if (c->spliced)
        tio_peer_client_drained(s, c->spliced);
}

static bool handshake(struct tio_server *s, struct tio_conn *c)
{
    int rc = tio_tls_handshake(c->tls);
    if (rc == -EAGAIN || rc == -EINPROGRESS) {
        set_out(s, c, rc == -EINPROGRESS);
        return false;
    }
    if (rc != 0) {
        log_failure(c, LT_LOG_INFO, "tls_handshake_failed", rc);
        conn_close_later(s, c, "tls-handshake-failed");
        return false;
    }
    c->handshaken = true;
    set_out(s, c, false);
    return true;
}

void tio_conn_event(struct tio_server *s, struct tio_sock *sock, uint32_t events)
{
    struct tio_conn *c = (struct tio_conn *)sock;
    if (c->closing) return;
    if (c->paused && (events & (EPOLLHUP | EPOLLERR))) {
        conn_close_later(s, c, "closed-by-client"); /* nothing more can be read or written */
        return;
    }
    if (c->tls && !c->handshaken && !handshake(s, c)) return;
    if (c->whead < c->wtail && (events & EPOLLOUT)) flush(s, c);
    /* TLS: a read may be waiting on a write (and the other way round), so
     * any event retries both. */
    if (!c->closing && (c->tls || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))))
        conn_read_all(s, c);
    if (!c->closing && c->tls && c->whead < c->wtail) flush(s, c);
}

void tio_conn_send(struct tio_server *s, struct tio_sock *sock, const uint8_t *buf, size_t len)
{
    struct tio_conn *c = (struct tio_conn *)sock;
    if (c->closing || (c->tls && !c->handshaken)) return;
    if (c->whead == c->wtail) {
        long n = conn_write(c, buf, len);
        if (n == (long)len) return;
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n != -EAGAIN && n != -EINPROGRESS) {
            log_failure(c, LT_LOG_DEBUG, "conn_write_failed", n ? n : -EPIPE);
            conn_close_later(s, c, "write-error");
            return;
        }
        /* OpenSSL wants a retried write to start with the same bytes: they
         * stay at the head of the queue (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
    }
    if (!c->wq && !(c->wq = malloc(WQ_CAP))) {
        conn_close_later(s, c, "out-of-memory");
        return;
    }
    if (c->wtail + len > WQ_CAP && c->whead > 0) {
        memmove(c->wq, c->wq + c->whead, c->wtail - c->whead);
        c->wtail -= c->whead;
        c->whead = 0;
    }
    if (c->wtail + len > WQ_CAP) {
        s->conns_overflowed++;
        char client[64];
        stun_addr_format(&c->peer, true, client, sizeof(client));
        lt_log(LT_LOG_WARN, "io", "conn_overflow",
               "transport=%s client=%s queued=%zu limit=%d detail=\"client not reading; closed\"",
               transport(c), client, c->wtail - c->whead, WQ_CAP);
        conn_close_later(s, c, "write-queue-overflow");
        return;
    }
    memcpy(c->wq + c->wtail, buf, len);
    c->wtail += len;
    set_out(s, c, true);
}

void tio_conns_maintain(struct tio_server *s, uint64_t now_ms)
{
    while (s->closing) {
        struct tio_conn *c = s->closing;
        s->closing = c->next_closing;
        conn_close_now(s, c, c->close_reason);
    }
    if (now_ms && s->throttled) tio_peers_maintain(s); /* budgets refilled since */
    if (now_ms && s->accept_resume_ms && now_ms >= s->accept_resume_ms) {
        s->accept_resume_ms = 0;
        watch_stream_listeners(s, EPOLLIN);
    }
    if (now_ms == 0 || now_ms < s->next_sweep_ms) return;
    s->next_sweep_ms = now_ms + 1000;
    uint64_t idle_ms = (uint64_t)s->stream.idle_timeout_s * 1000;
    struct tio_conn *c = s->conns;
    while (c) {
        struct tio_conn *next = c->next;
        if (now_ms - c->last_frame_ms >= idle_ms && !c->spliced && !c->close_when_flushed &&
            !(s->core && turn_core_has_allocation(s->core, c->sock.fd, &c->peer)))
            conn_close_now(s, c, c->tls && !c->handshaken ? "tls-handshake-timeout" : "idle");
        c = next;
    }
}

void tio_conns_free_all(struct tio_server *s)
{
    while (s->conns) {
        struct tio_conn *c = s->conns;
        s->conns = c->next;
        conn_release(c);
        close(c->sock.fd);
        free(c);
    }
    s->closing = NULL;
    s->n_conns = 0;
}

size_t tio_conn_queued(const struct tio_sock *sock)
{
    const struct tio_conn *c = (const struct tio_conn *)sock;
    return c->wtail - c->whead;
}

void tio_conn_splice(struct tio_server *s, struct tio_sock *sock, struct tio_peer *peer)
{
    (void)s;
    ((struct tio_conn *)sock)->spliced = peer;
}

void tio_conn_unsplice(struct tio_server *s, struct tio_sock *sock, const char *reason)
{
    struct tio_conn *c = (struct tio_conn *)sock;
    c->spliced = NULL;
    c->close_reason = reason;
    if (c->whead == c->wtail)
        conn_close_later(s, c, reason);
    else
        c->close_when_flushed = true; /* the peer's last bytes first */
}

void tio_conn_pause(struct tio_server *s, struct tio_sock *sock, bool paused)
{
    struct tio_conn *c = (struct tio_conn *)sock;
    if (c->closing || c->paused == paused) return;
    set_events(s, c, c->want_out, paused);
    /* TLS may hold decrypted bytes that no epoll event will announce. */
    if (!paused) conn_read_all(s, c);
}

bool tio_conn_is_tls(const struct tio_sock *sock)
{
    return ((const struct tio_conn *)sock)->tls != NULL;
}

void tio_conns_count(const struct tio_server *s, unsigned *tcp, unsigned *tls)
{
    *tcp = *tls = 0;
    for (const struct tio_conn *c = s->conns; c; c = c->next)
        (*(c->tls ? tls : tcp))++;
}
