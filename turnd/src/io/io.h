/*
 * io.h - turnd's I/O shell (prefix tio_): an epoll loop that owns the
 * listening, connection and relay sockets, feeds datagrams and stream frames
 * to the TURN core and sends what the core asks for. The core's int handles
 * are file descriptors.
 */
#ifndef LANTURN_TIO_H
#define LANTURN_TIO_H

#include "../stun/stun.h"
#include "../turn/core.h"
#include "../turn/policy.h"

#include <stdbool.h>
#include <stdint.h>

struct tio_server;

/* TURN over TCP and TLS (RFC 8656 §3.1): the client leg only, relays stay UDP. */
struct tio_stream_config {
    bool tcp;                           /* TCP on every UDP listen address */
    const struct stun_addr *tls_listen; /* TLS listening addresses */
    unsigned n_tls_listen;
    const char *tls_cert, *tls_key; /* PEM files; needed when n_tls_listen > 0 */
    unsigned max_connections;       /* TCP + TLS together */
    unsigned idle_timeout_s;        /* for connections without an allocation */
    bool udp_shared;                /* UDP listeners with SO_REUSEPORT (workers > 1) */
};

/* Create the epoll loop and bind every listening address: UDP on `listen`,
 * plus TCP and TLS as `stream` says (NULL = UDP only). On error returns NULL
 * and writes a message into err. */
struct tio_server *tio_server_new(const struct stun_addr *listen, unsigned n_listen,
                                  const struct tio_stream_config *stream, char *err,
                                  size_t err_cap);

/* Workers (worker.c): n servers in one process, each its own epoll loop and
 * core in its own thread. The first is made by tio_server_new() and keeps
 * everything but UDP TURN to itself: signals, the control socket, metrics,
 * TCP, TLS and DTLS. The others come from tio_server_new_worker(): UDP
 * listeners only, bound with SO_REUSEPORT on the same addresses (the first
 * server's too, when its stream config says udp_shared). An allocation
 * lives on the worker whose socket received its Allocate; the cores share
 * quotas and the relay port map (turn_shared). */
struct tio_group;
/* UDP listeners on `listen`, SO_REUSEPORT; no signals, no streams. */
struct tio_server *tio_server_new_worker(const struct stun_addr *listen, unsigned n_listen,
                                         char *err, size_t err_cap);
/* servers[0] from tio_server_new() with stream->udp_shared set, the rest
 * from tio_server_new_worker(); cores[i] drives servers[i]. Starts threads
 * for servers 1..n-1 (servers[0] runs in the caller, tio_server_run()).
 * NULL with a message in err. */
struct tio_group *tio_group_start(struct tio_server **servers, struct turn_core **cores,
                                  unsigned n, char *err, size_t err_cap);
/* Ask the other workers to stop and wait for them; then free. */
void tio_group_stop(struct tio_group *g);
/* Called on the first worker: hold every other worker between two of its
 * events, so their cores and servers can be read or changed from here
 * (control, metrics, reload). Nests; a no-op without workers. */
void tio_workers_pause(struct tio_server *s);
void tio_workers_resume(struct tio_server *s);
/* The env that makes the core use this server's sockets and clocks. */
void tio_server_env(struct tio_server *s, struct turn_env *env);
/* Run until SIGINT or SIGTERM; 0, or a negative errno when the loop failed. */
int tio_server_run(struct tio_server *s, struct turn_core *core);
void tio_server_free(struct tio_server *s);
/* Serve the control socket (control.c) at path, a unix stream socket with
 * file mode `mode`; NULL or "" = none. When it cannot be created turnd runs
 * on without it: the reason is logged and -EIO returned. */
int tio_server_control(struct tio_server *s, const char *path, unsigned mode);
/* What SIGHUP and the control socket's "reload" call, in the loop's thread:
 * 0, or an error with a message in err (the old configuration stays). */
/* tio_udp_set_buffers() on every UDP listening socket, where all clients'
 * datagrams arrive and all answers leave; *rcv and *snd get the smallest
 * grant. 0 or -errno. */
int tio_server_udp_buffers(struct tio_server *s, unsigned bytes, unsigned *rcv, unsigned *snd);
void tio_server_on_reload(struct tio_server *s, int (*fn)(void *arg, char *err, size_t err_cap),
                          void *arg);

/* New TLS handshakes use this certificate and key from now on (connections
 * already up keep theirs). 0, or an error in err and the old pair stays. */
int tio_server_reload_tls(struct tio_server *s, const char *cert, const char *key, char *err,
                          size_t err_cap);

/* TURN over DTLS (RFC 7350, RFC 8656 §3.1) on UDP addresses `listen`, with
 * the TLS certificate and key (tio_server_reload_tls() reloads both). */
struct tio_dtls_config {
    const struct stun_addr *listen;
    unsigned n_listen; /* 0 = no DTLS */
    const char *cert, *key;
    unsigned max_sessions;   /* established and handshaking together */
    unsigned idle_timeout_s; /* for sessions without an allocation */
};
/* Bind the DTLS listeners; call before tio_server_udp_buffers(). 0, or an
 * error with a message in err. */
int tio_server_dtls(struct tio_server *s, const struct tio_dtls_config *c, char *err,
                    size_t err_cap);
/* Serve GET /metrics over HTTP/1.1 on addr (metrics_http.c). 0, or an error
 * with a message in err. */
int tio_server_metrics_http(struct tio_server *s, const struct stun_addr *addr, char *err,
                            size_t err_cap);

/* Monotonic milliseconds. */
uint64_t tio_now_ms(void);

/* Socket helpers (udp.c). */
int tio_addr_to_sockaddr(const struct stun_addr *a, void *ss, unsigned *len);
void tio_addr_from_sockaddr(const void *sa, struct stun_addr *out);
/* A non-blocking UDP socket bound to addr (IPv6 sockets are IPv6-only).
 * fd, or a negative errno. */
int tio_udp_bind(const struct stun_addr *addr, bool dont_fragment);
/* The same with SO_REUSEPORT, for a listener every worker binds: the kernel
 * hashes each client's address and port to one of them. */
int tio_udp_bind_shared(const struct stun_addr *addr);
/* Ask for `bytes` of receive and send buffer (0 = leave the kernel default);
 * the kernel caps the request at net.core.rmem_max / wmem_max. *rcv and *snd
 * get what it granted, in the same units as the request. 0 or -errno. */
int tio_udp_set_buffers(int fd, unsigned bytes, unsigned *rcv, unsigned *snd);

/* Add the IP addresses of this host's interfaces to the policy's own list
 * (ifaddrs.c). 0 or a negative errno. */
int tio_add_interface_addresses(struct turn_policy *p);

#endif
