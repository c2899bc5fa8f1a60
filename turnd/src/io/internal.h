/*
 * internal.h - the I/O shell's private state, shared by loop.c (epoll, UDP
 * listeners, relays, the core's env), tcp.c (stream listeners and
 * connections) and tls.c (OpenSSL). Not part of the module's interface.
 */
#ifndef LANTURN_TIO_INTERNAL_H
#define LANTURN_TIO_INTERNAL_H

#include "io.h"
#include "../util/log.h"

#include <stddef.h>
#include <sys/socket.h>

#define TIO_BATCH 32
#define TIO_MAX_ADDRS 16                      /* per kind of listener, as TURND_MAX_LISTEN */
#define TIO_MAX_LISTENERS (4 * TIO_MAX_ADDRS) /* UDP + TCP + TLS + DTLS */

enum tio_sock_kind {
    SOCK_LISTENER,     /* UDP on a listen address */
    SOCK_RELAY,        /* UDP relay of an allocation or a reservation */
    SOCK_SIGNAL,       /* signalfd */
    SOCK_TCP_LISTENER, /* accepts TURN over TCP */
    SOCK_TLS_LISTENER, /* accepts TURN over TLS */
    SOCK_CONN,         /* one TCP or TLS client connection (struct tio_conn) */
    SOCK_CONTROL,      /* the control socket or one of its clients (control.c) */
    SOCK_TCP_RELAY,    /* RFC 6062: listening socket of a TCP allocation (peer_tcp.c) */
    SOCK_PEER,         /* RFC 6062: a connection to or from a peer (struct tio_peer) */
    SOCK_DTLS_LISTENER, /* UDP socket serving every DTLS client (dtls.c) */
    SOCK_HTTP,          /* the metrics HTTP listener or one of its clients (metrics_http.c) */
    SOCK_WAKE,          /* eventfd: the first worker wants this one (worker.c) */
};

struct tio_sock {
    int fd;
    enum tio_sock_kind kind;
    bool dead;
    void *owner; /* relay: the core's allocation, or NULL for a reserved port */
    struct stun_addr local;
    struct tio_sock *next_dead;
};

struct tio_conn;
struct tio_tls_ctx;
struct tio_peer;
struct tio_dtls;
struct tio_http;

/* The client leg's transports, for per-transport counters. */
enum tio_transport { TIO_UDP, TIO_TCP, TIO_TLS, TIO_DTLS, TIO_TRANSPORTS };

/* UDP datagrams waiting for the end of the current batch (sendq.c). */
#define TIO_SENDQ_LEN 64
#define TIO_SENDQ_SLOT 2048 /* bigger datagrams are sent at once */
struct tio_sendq {
    unsigned n;
    int fd[TIO_SENDQ_LEN];
    struct mmsghdr msgs[TIO_SENDQ_LEN];
    struct mmsghdr run[TIO_SENDQ_LEN]; /* one socket's share */
    struct mmsghdr out[TIO_SENDQ_LEN]; /* the share's messages: one datagram or a GSO group */
    unsigned out_first[TIO_SENDQ_LEN], out_n[TIO_SENDQ_LEN]; /* which of run each is */
    struct iovec giov[TIO_SENDQ_LEN]; /* a GSO group's buffers, side by side */
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl[TIO_SENDQ_LEN]; /* a GSO group's UDP_SEGMENT */
    int gso;              /* UDP GSO: 0 not probed yet, 1 usable, -1 not */
    struct iovec iov[TIO_SENDQ_LEN];
    struct sockaddr_storage addrs[TIO_SENDQ_LEN];
    uint8_t bufs[TIO_SENDQ_LEN][TIO_SENDQ_SLOT];
};

struct tio_server {
    int epfd;
    struct tio_sock **by_fd;
    unsigned max_fd;
    struct tio_sock *listeners[TIO_MAX_LISTENERS];
    unsigned n_listeners;
    struct tio_sock signal_sock;
    struct tio_sock *dead; /* closed sockets, freed after the current batch */
    struct turn_core *core;
    bool stop;

    /* recvmmsg batch: buffers with headroom, addresses, iovecs. */
    uint8_t *bufs;
    struct mmsghdr msgs[TIO_BATCH];
    struct iovec iov[TIO_BATCH];
    struct sockaddr_storage addrs[TIO_BATCH];
    uint64_t send_errors;
    struct tio_sendq sendq;

    /* Stream connections (tcp.c). */
    struct tio_stream_config stream;
    struct tio_tls_ctx *tls;
    struct tio_conn *conns;   /* every live connection, for the idle sweep */
    struct tio_conn *closing; /* to close after the current event */
    struct tio_peer *throttled; /* TCP relays waiting for bandwidth budget (peer_tcp.c) */
    unsigned n_conns;
    uint64_t next_sweep_ms, last_limit_log_ms;
    uint64_t conns_total, conns_refused, conns_overflowed;
    uint64_t accept_resume_ms; /* stream listeners unwatched until then; 0: watched */
    uint64_t accept_failures;
    struct lt_log_limit accept_log;

    /* The control socket (control.c) and what "reload" and SIGHUP call. */
    struct tio_sock control;
    char *control_path;
    unsigned n_control;
    int (*reload)(void *arg, char *err, size_t err_cap);
    void *reload_arg;

    /* TURN over DTLS (dtls.c), metrics over HTTP (metrics_http.c), and what
     * clients sent per transport (for metrics). */
    struct tio_dtls *dtls;
    struct tio_http *http;
    uint64_t client_msgs[TIO_TRANSPORTS], client_bytes[TIO_TRANSPORTS];

    /* Workers (worker.c): the group, this server's place in it (0 = the
     * first, which owns everything but UDP TURN), the eventfd the first
     * wakes it with, and how deep the first's pauses are nested. */
    struct tio_group *group;
    struct tio_server *self; /* the list of one, without workers */
    unsigned worker;
    struct tio_sock wake;
    struct tio_inbox *inbox; /* datagrams other workers handed over */
    uint64_t handoffs;       /* how many of them arrived */
    unsigned pause_depth;
};

/* loop.c */
int tio_watch(struct tio_server *s, struct tio_sock *sock, uint32_t events);
/* Stop watching and close sock's descriptor; the struct is freed after the
 * current batch (events for it may still be queued). */
void tio_retire(struct tio_server *s, struct tio_sock *sock);

/* sendq.c: queue one datagram from socket fd; flush sends them all (call
 * before the loop sleeps and before closing any queued socket). */
void tio_sendq_push(struct tio_server *s, int fd, const struct stun_addr *to, const uint8_t *buf,
                    size_t len);
void tio_sendq_flush(struct tio_server *s);

/* tcp.c */
int tio_stream_listen(struct tio_server *s, const struct stun_addr *addr, bool tls, char *err,
                      size_t err_cap);
void tio_stream_accept(struct tio_server *s, struct tio_sock *listener);
void tio_conn_event(struct tio_server *s, struct tio_sock *sock, uint32_t events);
/* The core's env->send towards a connection: queue one whole frame. */
void tio_conn_send(struct tio_server *s, struct tio_sock *sock, const uint8_t *buf, size_t len);
/* Close connections marked for closing, then idle ones when due. */
void tio_conns_maintain(struct tio_server *s, uint64_t now_ms);
void tio_conns_free_all(struct tio_server *s);
bool tio_conn_is_tls(const struct tio_sock *sock);
/* RFC 6062 client data connections: bytes queued towards the client; splice
 * to a peer (raw bytes from now on); end the splice (the connection closes
 * once its queue is written); stop or resume reading it. */
size_t tio_conn_queued(const struct tio_sock *sock);
void tio_conn_splice(struct tio_server *s, struct tio_sock *sock, struct tio_peer *peer);
void tio_conn_unsplice(struct tio_server *s, struct tio_sock *sock, const char *reason);
void tio_conn_pause(struct tio_server *s, struct tio_sock *sock, bool paused);

/* peer_tcp.c: RFC 6062 peer connections; the first four are the core's
 * env->tcp_* functions. */
int tio_peer_listen(void *ctx, const struct stun_addr *addr, void *owner, int *handle);
int tio_peer_connect(void *ctx, const struct stun_addr *from, const struct stun_addr *to,
                     int *handle);
void tio_peer_bind(void *ctx, int peer, int conn, void *token);
void tio_peer_close(void *ctx, int peer);
void tio_peer_event(struct tio_server *s, struct tio_sock *sock, uint32_t events);
/* For tcp.c: room in the peer's queue, bytes from the client, the client's
 * queue is empty, the client connection is gone. */
size_t tio_peer_room(struct tio_server *s, struct tio_peer *p);
void tio_peer_from_client(struct tio_server *s, struct tio_peer *p, const uint8_t *buf, size_t len);
void tio_peer_client_drained(struct tio_server *s, struct tio_peer *p);
void tio_peer_client_closed(struct tio_server *s, struct tio_peer *p);
/* Resume what waited for bandwidth budget (s->throttled). */
void tio_peers_maintain(struct tio_server *s);
/* Live TCP and TLS connections. */
void tio_conns_count(const struct tio_server *s, unsigned *tcp, unsigned *tls);

/* worker.c */
void tio_worker_wake(struct tio_server *s);
void tio_inbox_free(struct tio_inbox *in);
/* The core's env->relay_handoff. */
bool tio_relay_handoff(void *ctx, unsigned worker, const struct stun_addr *from,
                       const struct stun_addr *to, const uint8_t *buf, size_t len);
/* Every worker's server, the first one first (just s without workers);
 * call between tio_workers_pause() and tio_workers_resume(). */
unsigned tio_workers_list(const struct tio_server *s, struct tio_server *const **out);
/* Every worker's core counters summed, and their send errors and client
 * messages per transport; same calling rule. */
void tio_workers_totals(const struct tio_server *s, struct turn_stats *st, uint64_t *send_errors,
                        uint64_t msgs[TIO_TRANSPORTS], uint64_t bytes[TIO_TRANSPORTS]);

/* control.c */
void tio_control_event(struct tio_server *s, struct tio_sock *sock);
void tio_control_close(struct tio_server *s);

/* dtls.c */
struct tio_dtls_stats {
    uint64_t sessions, sessions_total; /* established or handshaking; since start */
    uint64_t hello_verify_requests;    /* cookie-less ClientHellos answered statelessly */
    uint64_t handshakes, handshake_failures;
    uint64_t refused;      /* ClientHellos ignored at max_dtls_sessions */
    uint64_t send_dropped; /* messages for a client without a live session */
};
void tio_dtls_read(struct tio_server *s, struct tio_sock *listener);
/* The core's env->send towards a DTLS client of listener `sock`. */
void tio_dtls_send(struct tio_server *s, struct tio_sock *sock, const struct stun_addr *to,
                   const uint8_t *buf, size_t len);
/* Handshake retransmissions and timeouts, idle sessions. */
void tio_dtls_maintain(struct tio_server *s, uint64_t now_ms);
int tio_dtls_reload(struct tio_server *s, const char *cert, const char *key, char *err,
                    size_t err_cap);
void tio_dtls_stats(const struct tio_server *s, struct tio_dtls_stats *out);
void tio_dtls_free(struct tio_server *s);

/* metrics.c: the Prometheus text for the control socket and HTTP alike;
 * malloc'ed, NULL when out of memory. */
char *tio_metrics_render(const struct tio_server *s, size_t *len);
/* "udp", "tcp", "tls" or "dtls": the client leg of an allocation. */
const char *tio_session_transport(const struct tio_server *s, const struct turn_session *t);
/* The core's counters by name, for "stats" and "metrics". */
struct tio_stat {
    const char *name;
    size_t offset; /* in struct turn_stats */
    bool gauge;
    const char *help;
};
extern const struct tio_stat tio_stats[];
extern const size_t tio_n_stats;
uint64_t tio_stat_value(const struct turn_stats *st, size_t i);

/* metrics_http.c */
void tio_http_event(struct tio_server *s, struct tio_sock *sock, uint32_t events);
void tio_http_maintain(struct tio_server *s, uint64_t now_ms);
void tio_http_free(struct tio_server *s);

/* tls.c: OpenSSL behind a few calls, so no other file includes it. */
struct tio_tls_conn;
int tio_tls_ctx_new(const char *cert, const char *key, struct tio_tls_ctx **out, char *err,
                    size_t err_cap);
void tio_tls_ctx_free(struct tio_tls_ctx *ctx);
struct tio_tls_conn *tio_tls_conn_new(struct tio_tls_ctx *ctx, int fd);
void tio_tls_conn_free(struct tio_tls_conn *t);
/* Results of the I/O calls below: > 0 bytes moved; 0 the peer closed;
 * -EAGAIN wait for readability; -EWOULDBLOCK is not used (same value on
 * Linux), so -EINPROGRESS means wait for writability; -EPROTO a TLS error
 * (logged by the caller with tio_tls_error()). */
int tio_tls_handshake(struct tio_tls_conn *t);
long tio_tls_read(struct tio_tls_conn *t, uint8_t *buf, size_t cap);
long tio_tls_write(struct tio_tls_conn *t, const uint8_t *buf, size_t len);
/* The library's text for the last error on this thread; clears the queue. */
const char *tio_tls_error(char *buf, size_t cap);
/* Load a PEM certificate chain and its key into an SSL_CTX (TLS or DTLS)
 * and check they match. 0, or -EINVAL with the file and the library's
 * reason in err. */
struct ssl_ctx_st;
int tio_tls_use_pair(struct ssl_ctx_st *ctx, const char *cert, const char *key, char *err,
                     size_t err_cap);
/* Answer ALPN "stun.turn" (RFC 7443) when a client offers it, over TLS or DTLS. */
void tio_tls_accept_alpn(struct ssl_ctx_st *ctx);

#endif
