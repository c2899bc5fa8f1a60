/*
 * peer_tcp.c - the sockets of RFC 6062 TCP allocations: a listening socket
 * on each TCP relayed address, connections to and from peers, and the
 * splice of raw bytes between a peer connection and its client data
 * connection (a tio_conn of tcp.c). What may connect, and when to give up,
 * the core decides (turn/tcprelay.c); this file only moves bytes.
 *
 * Connections to peers start from the relayed address itself (SO_REUSEPORT
 * beside the listener), so a peer sees the address the client announced.
 * Until ConnectionBind a peer connection is not read at all: what the peer
 * sends waits in the kernel (RFC 6062 §5.2 asks the server to buffer it).
 *
 * Backpressure, both ways, with bounded buffers: bytes from the client go to
 * the peer at once or into the peer's queue (PEER_WQ_CAP); when it is full
 * the client connection is paused (no EPOLLIN) until the queue drains.
 * Bytes from the peer are read only while the client connection's queue
 * holds less than CLIENT_QUEUE_MAX; otherwise the peer is paused until
 * tcp.c reports the client's queue empty. Either side's end (EOF, error)
 * closes the other once what is queued for it has been written.
 *
 * Bandwidth limits: each side is read only as far as the core's budget
 * (turn_core_tcp_budget) allows; a side with no budget is paused and put on
 * s->throttled, and tio_peers_maintain() resumes it on the next pass of the
 * loop, when the buckets have refilled.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PEER_WQ_CAP (128 * 1024)    /* client -> peer bytes waiting; > one read of tcp.c */
#define CLIENT_QUEUE_MAX (64 * 1024) /* peer -> client: stop reading the peer above this */
#define PEER_READ 16384
#define ACCEPTS_PER_EVENT 256 /* more than the backlog: an event drains it */

enum peer_state { PEER_CONNECTING, PEER_PENDING, PEER_SPLICED };

struct tio_peer {
    struct tio_sock sock; /* first: epoll events and by_fd point here */
    enum peer_state state;
    struct tio_sock *client; /* the spliced client data connection */
    bool paused;             /* not reading: the client's queue is full or no budget */
    bool eof;                /* the other side ended: close once wq is written */
    void *token;             /* the core's name for the pair */
    bool throttled;          /* on s->throttled: out of bandwidth budget */
    bool client_throttled;   /* the client side is paused for budget, not room */
    struct tio_peer *next_throttled;
    uint8_t *wq;
    size_t whead, wtail;
};

static int stream_socket(const struct stun_addr *bind_to, bool reuse_port)
{
    struct sockaddr_storage ss;
    unsigned sl;
    if (tio_addr_to_sockaddr(bind_to, &ss, &sl) != 0)
        return -EINVAL;
    int fd = socket(bind_to->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
        (bind_to->family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static void peer_events(struct tio_server *s, struct tio_peer *p)
{
    uint32_t ev = 0;
    if (p->state == PEER_CONNECTING || p->whead < p->wtail)
        ev |= EPOLLOUT;
    if (p->state == PEER_SPLICED && !p->paused)
        ev |= EPOLLIN | EPOLLRDHUP;
    struct epoll_event e = {.events = ev, .data.ptr = &p->sock};
    epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->sock.fd, &e);
}

static struct tio_peer *peer_new(struct tio_server *s, int fd, enum peer_state state,
                                 const struct stun_addr *local)
{
    struct tio_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->sock.fd = fd;
    p->sock.kind = SOCK_PEER;
    p->sock.local = *local;
    p->state = state;
    if (tio_watch(s, &p->sock, state == PEER_CONNECTING ? EPOLLOUT : 0) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* Out of bandwidth budget: retried by tio_peers_maintain(). */
static void throttle(struct tio_server *s, struct tio_peer *p)
{
    if (p->throttled)
        return;
    p->throttled = true;
    p->next_throttled = s->throttled;
    s->throttled = p;
}

static void unthrottle(struct tio_server *s, struct tio_peer *p)
{
    struct tio_peer **q = &s->throttled;
    while (*q && *q != p)
        q = &(*q)->next_throttled;
    if (*q)
        *q = p->next_throttled;
    p->throttled = false;
}

/* Close the peer socket; the client connection follows once its queue is
 * written (tcp.c). The core is told unless it asked for the close. */
static void peer_close(struct tio_server *s, struct tio_peer *p, bool tell_core, const char *reason)
{
    if (p->sock.dead)
        return;
    if (p->throttled)
        unthrottle(s, p);
    if (tell_core && s->core)
        turn_core_on_tcp_closed(s->core, p->sock.fd);
    if (p->client) {
        tio_conn_unsplice(s, p->client, reason);
        p->client = NULL;
    }
    free(p->wq);
    p->wq = NULL;
    tio_retire(s, &p->sock); /* frees p after the batch */
}

/* ---- the core's env ---- */

int tio_peer_listen(void *ctx, const struct stun_addr *addr, void *owner, int *handle)
{
    struct tio_server *s = ctx;
    int fd = stream_socket(addr, true);
    if (fd < 0)
        return fd;
    if (listen(fd, 64) != 0) {
        close(fd);
        return -EADDRINUSE; /* the core tries another port */
    }
    struct tio_sock *sock = calloc(1, sizeof(*sock));
    int rc = -ENOMEM;
    if (sock) {
        sock->fd = fd;
        sock->kind = SOCK_TCP_RELAY;
        sock->owner = owner;
        sock->local = *addr;
        /* Edge-triggered: when descriptors run out, the connection left in
         * the backlog must not wake the loop again and again. */
        rc = tio_watch(s, sock, EPOLLIN | EPOLLET);
    }
    if (rc != 0) {
        close(fd);
        free(sock);
        return rc;
    }
    *handle = fd;
    return 0;
}

int tio_peer_connect(void *ctx, const struct stun_addr *from, const struct stun_addr *to,
                     int *handle)
{
    struct tio_server *s = ctx;
    struct sockaddr_storage ss;
    unsigned sl;
    if (tio_addr_to_sockaddr(to, &ss, &sl) != 0)
        return -EINVAL;
    /* From the relayed address; should the kernel refuse that 4-tuple (a
     * TIME_WAIT left by an earlier connection to the same peer), from the
     * relayed IP address at least. */
    struct stun_addr ip = *from;
    ip.port = 0;
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = stream_socket(attempt ? &ip : from, attempt == 0);
        if (fd < 0)
            continue;
        if (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS) {
            int err = -errno;
            close(fd);
            fd = err;
            if (err != -EADDRNOTAVAIL && err != -EADDRINUSE)
                return err;
        }
    }
    if (fd < 0)
        return fd;
    struct tio_peer *p = peer_new(s, fd, PEER_CONNECTING, from);
    if (!p) {
        close(fd);
        return -ENOMEM;
    }
    *handle = fd;
    return 0;
}

static struct tio_peer *peer_of(struct tio_server *s, int handle)
{
    struct tio_sock *sock = (unsigned)handle < s->max_fd ? s->by_fd[handle] : NULL;
    return sock && sock->kind == SOCK_PEER ? (struct tio_peer *)sock : NULL;
}

void tio_peer_bind(void *ctx, int peer, int conn, void *token)
{
    struct tio_server *s = ctx;
    struct tio_peer *p = peer_of(s, peer);
    struct tio_sock *c = (unsigned)conn < s->max_fd ? s->by_fd[conn] : NULL;
    if (!p || !c || c->kind != SOCK_CONN) {
        if (p)
            peer_close(s, p, true, "bind-failed");
        return;
    }
    p->state = PEER_SPLICED;
    p->client = c;
    p->token = token;
    tio_conn_splice(s, c, p);
    peer_events(s, p);
}

void tio_peer_close(void *ctx, int peer)
{
    struct tio_server *s = ctx;
    struct tio_peer *p = peer_of(s, peer);
    if (p)
        peer_close(s, p, false, "closed-by-server");
}

/* ---- events ---- */

static void accept_peers(struct tio_server *s, struct tio_sock *listener)
{
    for (int i = 0; i < ACCEPTS_PER_EVENT && !listener->dead; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(listener->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        struct stun_addr from;
        tio_addr_from_sockaddr(&ss, &from);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct tio_peer *p = peer_new(s, fd, PEER_PENDING, &listener->local);
        if (!p) {
            close(fd);
            continue;
        }
        if (!turn_core_on_tcp_incoming(s->core, listener->owner, fd, &from, tio_now_ms()))
            peer_close(s, p, false, "refused");
    }
}

static void connected(struct tio_server *s, struct tio_peer *p)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(p->sock.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    int fd = p->sock.fd;
    if (err) {
        peer_close(s, p, false, "connect-failed");
        turn_core_on_tcp_connected(s->core, fd, false, tio_now_ms());
        return;
    }
    p->state = PEER_PENDING;
    peer_events(s, p);
    turn_core_on_tcp_connected(s->core, fd, true, tio_now_ms());
}

/* Write what is queued for the peer; true when the queue is empty. */
static bool peer_flush(struct tio_server *s, struct tio_peer *p)
{
    while (p->whead < p->wtail) {
        ssize_t n = send(p->sock.fd, p->wq + p->whead, p->wtail - p->whead, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return false;
        if (n <= 0) {
            peer_close(s, p, true, "peer-write-error");
            return false;
        }
        p->whead += (size_t)n;
    }
    p->whead = p->wtail = 0;
    return true;
}

static void peer_read(struct tio_server *s, struct tio_peer *p)
{
    uint8_t buf[PEER_READ];
    for (int round = 0; round < 8 && !p->sock.dead && p->client; round++) {
        size_t queued = tio_conn_queued(p->client);
        if (queued >= CLIENT_QUEUE_MAX) {
            p->paused = true; /* tio_peer_client_drained() resumes */
            peer_events(s, p);
            return;
        }
        size_t room = CLIENT_QUEUE_MAX - queued;
        room = turn_core_tcp_budget(s->core, p->token, room < sizeof(buf) ? room : sizeof(buf),
                                    tio_now_ms());
        if (room == 0) {
            p->paused = true;
            peer_events(s, p);
            throttle(s, p);
            return;
        }
        ssize_t n = recv(p->sock.fd, buf, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            peer_close(s, p, true, n == 0 ? "closed-by-peer" : "peer-read-error");
            return;
        }
        turn_core_tcp_moved(s->core, p->token, false, (size_t)n);
        tio_conn_send(s, p->client, buf, (size_t)n);
    }
}

void tio_peer_event(struct tio_server *s, struct tio_sock *sock, uint32_t events)
{
    if (sock->kind == SOCK_TCP_RELAY) {
        accept_peers(s, sock);
        return;
    }
    struct tio_peer *p = (struct tio_peer *)sock;
    if (p->state == PEER_CONNECTING) {
        connected(s, p);
        return;
    }
    if (p->state == PEER_PENDING) {
        if (events & (EPOLLHUP | EPOLLERR))
            peer_close(s, p, true, "peer-gone");
        return; /* not read before ConnectionBind */
    }
    if ((events & EPOLLOUT) && peer_flush(s, p)) {
        if (p->eof) {
            peer_close(s, p, true, "closed-by-client");
            return;
        }
        if (p->client)
            tio_conn_pause(s, p->client, false);
        peer_events(s, p);
    }
    if (!p->sock.dead && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        peer_read(s, p);
}

/* ---- called by tcp.c for the spliced client connection ---- */

size_t tio_peer_room(struct tio_server *s, struct tio_peer *p)
{
    if (p->sock.dead || p->eof)
        return 0;
    size_t room = PEER_WQ_CAP - (p->wtail - p->whead);
    if (room == 0)
        return 0;
    room = turn_core_tcp_budget(s->core, p->token, room, tio_now_ms());
    if (room == 0) {
        p->client_throttled = true; /* tcp.c pauses the client; we resume it */
        throttle(s, p);
    }
    return room;
}

void tio_peer_from_client(struct tio_server *s, struct tio_peer *p, const uint8_t *buf, size_t len)
{
    if (p->sock.dead || p->eof)
        return;
    turn_core_tcp_moved(s->core, p->token, true, len);
    if (p->whead == p->wtail) {
        ssize_t n;
        do
            n = send(p->sock.fd, buf, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN) {
            peer_close(s, p, true, "peer-write-error");
            return;
        }
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        }
        if (len == 0)
            return;
    }
    if (!p->wq && !(p->wq = malloc(PEER_WQ_CAP))) {
        peer_close(s, p, true, "out-of-memory");
        return;
    }
    if (p->wtail + len > PEER_WQ_CAP) {
        memmove(p->wq, p->wq + p->whead, p->wtail - p->whead);
        p->wtail -= p->whead;
        p->whead = 0;
    }
    if (p->wtail + len > PEER_WQ_CAP) { /* tcp.c reads at most tio_peer_room() */
        peer_close(s, p, true, "peer-queue-overflow");
        return;
    }
    memcpy(p->wq + p->wtail, buf, len);
    p->wtail += len;
    peer_events(s, p);
}

void tio_peer_client_drained(struct tio_server *s, struct tio_peer *p)
{
    if (p->paused && !p->sock.dead) {
        p->paused = false;
        peer_events(s, p);
        peer_read(s, p); /* the peer may have sent everything already: no new event */
    }
}

void tio_peers_maintain(struct tio_server *s)
{
    struct tio_peer *p = s->throttled;
    s->throttled = NULL; /* what still has no budget throttles itself again */
    while (p) {
        struct tio_peer *next = p->next_throttled;
        p->throttled = false;
        if (p->client_throttled && p->client) {
            p->client_throttled = false;
            tio_conn_pause(s, p->client, false);
        }
        if (p->paused && !p->sock.dead && p->client &&
            tio_conn_queued(p->client) < CLIENT_QUEUE_MAX) {
            p->paused = false;
            peer_events(s, p);
            peer_read(s, p);
        }
        p = next;
    }
}

void tio_peer_client_closed(struct tio_server *s, struct tio_peer *p)
{
    p->client = NULL;
    if (p->sock.dead)
        return;
    if (p->whead == p->wtail) {
        peer_close(s, p, true, "closed-by-client");
        return;
    }
    p->eof = true; /* the client's last bytes first */
    p->paused = true;
    peer_events(s, p);
}
