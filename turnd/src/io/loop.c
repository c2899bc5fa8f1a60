/*
 * loop.c - turnd's event loop: one epoll instance, listening sockets and
 * relay sockets, datagrams read in batches with recvmmsg into buffers that
 * keep TURN_HEADROOM bytes in front for the core's headers. Signals arrive
 * through a signalfd so shutdown happens between batches, never inside one.
 *
 * Sockets are looked up by file descriptor. A relay socket or connection
 * closed while events for it are still queued in the current batch is only
 * marked dead and freed after the batch, so no event ever reaches freed
 * memory. TCP and TLS connections live in tcp.c; this file hands them their
 * events and routes the core's sends to them.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH TIO_BATCH
#define SLOT_SIZE 16384 /* largest datagram we read; bigger ones are cut and dropped */
#define MAX_EVENTS 256

uint64_t tio_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_clock(void *ctx)
{
    (void)ctx;
    return (uint64_t)time(NULL);
}

static void random_bytes(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    while (len > 0) {
        size_t n = len > 256 ? 256 : len; /* getentropy's limit per call */
        if (getentropy(buf, n) != 0)
            abort(); /* no entropy: nonces and tokens would be guessable */
        buf += n;
        len -= n;
    }
}

int tio_watch(struct tio_server *s, struct tio_sock *sock, uint32_t events)
{
    if ((unsigned)sock->fd >= s->max_fd)
        return -EMFILE;
    struct epoll_event ev = {.events = events, .data.ptr = sock};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, sock->fd, &ev) != 0)
        return -errno;
    s->by_fd[sock->fd] = sock;
    return 0;
}

static int relay_open(void *ctx, const struct stun_addr *addr, void *owner, bool dont_fragment,
                      int *handle)
{
    struct tio_server *s = ctx;
    int fd = tio_udp_bind(addr, dont_fragment);
    if (fd < 0 || !owner) {
        /* A reserved port (EVEN-PORT): the socket only holds it, nothing
         * reads it, and with workers another worker's core may close it. */
        *handle = fd;
        return fd < 0 ? fd : 0;
    }
    struct tio_sock *sock = calloc(1, sizeof(*sock));
    if (!sock) {
        close(fd);
        return -ENOMEM;
    }
    sock->fd = fd;
    sock->kind = SOCK_RELAY;
    sock->owner = owner;
    sock->local = *addr;
    int rc = tio_watch(s, sock, EPOLLIN);
    if (rc != 0) {
        close(fd);
        free(sock);
        return rc;
    }
    *handle = fd;
    return 0;
}

void tio_retire(struct tio_server *s, struct tio_sock *sock)
{
    tio_sendq_flush(s); /* nothing queued may outlive its descriptor */
    s->by_fd[sock->fd] = NULL;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, sock->fd, NULL);
    close(sock->fd);
    sock->dead = true;
    sock->next_dead = s->dead;
    s->dead = sock;
}

static void relay_close(void *ctx, int handle)
{
    struct tio_server *s = ctx;
    struct tio_sock *sock = s->by_fd[handle];
    if (sock)
        tio_retire(s, sock);
    else
        close(handle); /* a reserved port's socket: see relay_open() */
}

static void send_datagram(void *ctx, int handle, const struct stun_addr *to, const uint8_t *buf,
                          size_t len)
{
    struct tio_server *s = ctx;
    struct tio_sock *sock = (unsigned)handle < s->max_fd ? s->by_fd[handle] : NULL;
    if (sock && sock->kind == SOCK_CONN) {
        tio_conn_send(s, sock, buf, len);
        return;
    }
    if (sock && sock->kind == SOCK_DTLS_LISTENER) {
        tio_dtls_send(s, sock, to, buf, len);
        return;
    }
    tio_sendq_push(s, handle, to, buf, len);
}

int tio_server_udp_buffers(struct tio_server *s, unsigned bytes, unsigned *rcv, unsigned *snd)
{
    *rcv = *snd = UINT32_MAX;
    for (unsigned i = 0; i < s->n_listeners; i++) {
        unsigned r, w;
        int rc = tio_udp_set_buffers(s->listeners[i]->fd, bytes, &r, &w);
        if (rc != 0)
            return rc;
        *rcv = r < *rcv ? r : *rcv;
        *snd = w < *snd ? w : *snd;
    }
    return 0;
}

void tio_server_on_reload(struct tio_server *s, int (*fn)(void *arg, char *err, size_t err_cap),
                          void *arg)
{
    s->reload = fn;
    s->reload_arg = arg;
}

int tio_server_reload_tls(struct tio_server *s, const char *cert, const char *key, char *err,
                          size_t err_cap)
{
    int rc = tio_dtls_reload(s, cert, key, err, err_cap);
    if (rc != 0 || !s->tls)
        return rc; /* no TLS listener: turning TLS on needs a restart */
    struct tio_tls_ctx *next;
    rc = tio_tls_ctx_new(cert, key, &next, err, err_cap);
    if (rc != 0)
        return rc;
    tio_tls_ctx_free(s->tls); /* live connections hold their own reference */
    s->tls = next;
    return 0;
}

void tio_server_env(struct tio_server *s, struct turn_env *env)
{
    env->ctx = s;
    env->relay_open = relay_open;
    env->relay_close = relay_close;
    env->send = send_datagram;
    env->random = random_bytes;
    env->wall_clock = wall_clock;
    env->tcp_listen = tio_peer_listen;
    env->tcp_connect = tio_peer_connect;
    env->tcp_bind = tio_peer_bind;
    env->tcp_close = tio_peer_close;
    env->relay_handoff = tio_relay_handoff;
}

static unsigned raise_fd_limit(void)
{
    /* Every allocation holds a socket: take all the descriptors we may. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 65536;
    return rl.rlim_cur > (1u << 20) ? (1u << 20) : (unsigned)rl.rlim_cur;
}

/* worker: UDP listeners only (shared), no signals: see tio_server_new_worker(). */
static struct tio_server *server_new(const struct stun_addr *listen, unsigned n_listen,
                                     const struct tio_stream_config *stream, bool worker,
                                     char *err, size_t err_cap)
{
    struct tio_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    s->epfd = -1;
    s->signal_sock.fd = -1;
    s->control.fd = -1;
    s->wake.fd = -1;
    s->self = s;
    s->max_fd = raise_fd_limit();
    s->by_fd = calloc(s->max_fd, sizeof(*s->by_fd));
    s->bufs = malloc((size_t)BATCH * (TURN_HEADROOM + SLOT_SIZE + TURN_TAILROOM));
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!s->by_fd || !s->bufs || s->epfd < 0) {
        snprintf(err, err_cap, "cannot set up the event loop: %s", strerror(errno));
        goto fail;
    }
    if (stream)
        s->stream = *stream;
    for (unsigned i = 0; i < n_listen && i < TIO_MAX_ADDRS; i++) {
        char name[64];
        stun_addr_format(&listen[i], true, name, sizeof(name));
        int fd = worker || s->stream.udp_shared ? tio_udp_bind_shared(&listen[i])
                                                : tio_udp_bind(&listen[i], false);
        if (fd < 0) {
            snprintf(err, err_cap, "cannot listen on %s/udp: %s", name, strerror(-fd));
            goto fail;
        }
        struct tio_sock *sock = calloc(1, sizeof(*sock));
        if (!sock) {
            close(fd);
            snprintf(err, err_cap, "out of memory");
            goto fail;
        }
        sock->fd = fd;
        sock->kind = SOCK_LISTENER;
        sock->local = listen[i];
        s->listeners[s->n_listeners++] = sock;
        if (tio_watch(s, sock, EPOLLIN) != 0) {
            snprintf(err, err_cap, "cannot watch %s: %s", name, strerror(errno));
            goto fail;
        }
        if (s->stream.tcp && tio_stream_listen(s, &listen[i], false, err, err_cap) != 0)
            goto fail;
    }
    if (s->stream.n_tls_listen > 0) {
        if (tio_tls_ctx_new(s->stream.tls_cert, s->stream.tls_key, &s->tls, err, err_cap) != 0)
            goto fail;
        for (unsigned i = 0; i < s->stream.n_tls_listen && i < TIO_MAX_ADDRS; i++)
            if (tio_stream_listen(s, &s->stream.tls_listen[i], true, err, err_cap) != 0)
                goto fail;
    }
    if (worker)
        return s; /* signals reach the first worker's signalfd: the mask is the process's */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->signal_sock.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    s->signal_sock.kind = SOCK_SIGNAL;
    if (s->signal_sock.fd < 0 || tio_watch(s, &s->signal_sock, EPOLLIN) != 0) {
        snprintf(err, err_cap, "cannot watch signals: %s", strerror(errno));
        goto fail;
    }
    return s;
fail:
    tio_server_free(s);
    return NULL;
}

struct tio_server *tio_server_new(const struct stun_addr *listen, unsigned n_listen,
                                  const struct tio_stream_config *stream, char *err,
                                  size_t err_cap)
{
    return server_new(listen, n_listen, stream, false, err, err_cap);
}

struct tio_server *tio_server_new_worker(const struct stun_addr *listen, unsigned n_listen,
                                         char *err, size_t err_cap)
{
    return server_new(listen, n_listen, NULL, true, err, err_cap);
}

static void free_dead(struct tio_server *s)
{
    while (s->dead) {
        struct tio_sock *next = s->dead->next_dead;
        free(s->dead);
        s->dead = next;
    }
}

static void read_signals(struct tio_server *s)
{
    struct signalfd_siginfo si;
    while (read(s->signal_sock.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            char err[512];
            if (s->reload) {
                tio_workers_pause(s);
                s->reload(s->reload_arg, err, sizeof(err)); /* it logs the outcome */
                tio_workers_resume(s);
            }
            else
                lt_log(LT_LOG_INFO, "turnd", "sighup", "action=ignored");
            continue;
        }
        lt_log(LT_LOG_INFO, "turnd", "stopping", "signal=%s",
               si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        s->stop = true;
    }
}

/* Read up to a few batches from one socket so a busy socket cannot starve others. */
static void read_socket(struct tio_server *s, struct tio_sock *sock)
{
    const size_t stride = TURN_HEADROOM + SLOT_SIZE + TURN_TAILROOM;
    for (int round = 0; round < 4 && !sock->dead; round++) {
        for (unsigned i = 0; i < BATCH; i++) {
            s->iov[i].iov_base = s->bufs + i * stride + TURN_HEADROOM;
            s->iov[i].iov_len = SLOT_SIZE;
            s->msgs[i].msg_hdr = (struct msghdr){.msg_name = &s->addrs[i],
                                                 .msg_namelen = sizeof(s->addrs[i]),
                                                 .msg_iov = &s->iov[i],
                                                 .msg_iovlen = 1};
        }
        int n = recvmmsg(sock->fd, s->msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        uint64_t now = tio_now_ms();
        for (int i = 0; i < n && !sock->dead; i++) {
            if (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue;
            struct stun_addr from;
            tio_addr_from_sockaddr(&s->addrs[i], &from);
            uint8_t *data = s->iov[i].iov_base;
            size_t len = s->msgs[i].msg_len;
            if (sock->kind == SOCK_LISTENER) {
                s->client_msgs[TIO_UDP]++;
                s->client_bytes[TIO_UDP] += len;
                turn_core_on_client(s->core, sock->fd, &sock->local, &from, data, len, now);
            } else if (sock->owner)
                turn_core_on_peer(s->core, sock->owner, &from, data, len, now);
        }
        if (n < BATCH)
            return;
    }
}

int tio_server_run(struct tio_server *s, struct turn_core *core)
{
    s->core = core;
    struct epoll_event events[MAX_EVENTS];
    while (!s->stop) {
        uint64_t now = tio_now_ms();
        uint64_t deadline = turn_core_next_deadline(core);
        int timeout = deadline == UINT64_MAX ? 1000
                      : deadline <= now      ? 0
                                             : (int)(deadline - now > 1000 ? 1000 : deadline - now);
        int n = epoll_wait(s->epfd, events, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            lt_log(LT_LOG_ERROR, "io", "epoll_failed", "error=\"%s\"", strerror(errno));
            return -errno;
        }
        /* Datagrams the core sends while handling these events wait in the
         * send queue and leave together after them (sendq.c). */
        for (int i = 0; i < n; i++) {
            struct tio_sock *sock = events[i].data.ptr;
            if (sock->dead)
                continue;
            if (sock->kind == SOCK_SIGNAL)
                read_signals(s);
            else if (sock->kind == SOCK_CONN)
                tio_conn_event(s, sock, events[i].events);
            else if (sock->kind == SOCK_TCP_LISTENER || sock->kind == SOCK_TLS_LISTENER)
                tio_stream_accept(s, sock);
            else if (sock->kind == SOCK_CONTROL)
                tio_control_event(s, sock);
            else if (sock->kind == SOCK_TCP_RELAY || sock->kind == SOCK_PEER)
                tio_peer_event(s, sock, events[i].events);
            else if (sock->kind == SOCK_DTLS_LISTENER)
                tio_dtls_read(s, sock);
            else if (sock->kind == SOCK_HTTP)
                tio_http_event(s, sock, events[i].events);
            else if (sock->kind == SOCK_WAKE)
                tio_worker_wake(s);
            else
                read_socket(s, sock);
            if (s->closing)
                tio_conns_maintain(s, 0);
        }
        now = tio_now_ms();
        turn_core_tick(core, now);
        tio_conns_maintain(s, now);
        tio_dtls_maintain(s, now);
        tio_http_maintain(s, now);
        tio_sendq_flush(s);
        free_dead(s);
    }
    return 0;
}

void tio_server_free(struct tio_server *s)
{
    if (!s)
        return;
    tio_conns_free_all(s);
    tio_dtls_free(s);
    tio_http_free(s);
    tio_control_close(s);
    for (unsigned i = 0; i < s->n_listeners; i++) {
        close(s->listeners[i]->fd);
        free(s->listeners[i]);
    }
    tio_tls_ctx_free(s->tls);
    if (s->signal_sock.fd >= 0)
        close(s->signal_sock.fd);
    if (s->wake.fd >= 0)
        close(s->wake.fd);
    if (s->inbox)
        tio_inbox_free(s->inbox);
    free_dead(s);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->by_fd);
    free(s->bufs);
    free(s);
}
