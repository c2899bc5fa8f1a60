/*
 * core.h - the TURN server state machine (RFC 8656 over UDP, TCP and TLS),
 * sans-I/O.
 *
 * The core owns allocations, permissions, channels, nonces and quotas. It
 * never touches a socket or a clock: the shell feeds it datagrams with the
 * time, and the core answers through the function pointers of struct
 * turn_env (send a datagram, open or close a relay socket, random bytes).
 * Unit tests drive it with a fake env; turnd's I/O layer drives it with
 * epoll and real sockets.
 */
#ifndef LANTURN_TURN_CORE_H
#define LANTURN_TURN_CORE_H

#include "../stun/stun.h"
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes the shell must leave writable before a peer datagram handed to
 * turn_core_on_peer(): the core writes the ChannelData or Data indication
 * header there instead of copying the payload. TURN_TAILROOM bytes after the
 * payload are writable too (attribute padding). */
#define TURN_HEADROOM 64
#define TURN_TAILROOM 4
/* Largest datagram the core builds or accepts. */
#define TURN_MAX_DATAGRAM 65535

struct turn_user {
    char *name;
    uint8_t key[STUN_LONG_TERM_KEY_LEN]; /* MD5(name:realm:password) */
    uint8_t key_sha256[STUN_KEY_MAX];    /* SHA-256(name:realm:password), RFC 8489 §9.2.2 */
    uint8_t userhash[STUN_USERHASH_LEN]; /* SHA-256(name:realm), §14.4 */
};

struct turn_core_config {
    char realm[128];
    char software[64]; /* SOFTWARE attribute; empty = none */
    struct stun_addr relay_ip[2]; /* at most one per family */
    unsigned n_relay_ip;
    uint16_t port_lo, port_hi; /* relay port range, inclusive */

    uint32_t lifetime_default; /* seconds; RFC 8656: 600 */
    uint32_t lifetime_max;     /* 3600 */
    uint32_t perm_lifetime;    /* 300 */
    uint32_t chan_lifetime;    /* 600 */
    uint32_t nonce_lifetime;   /* how long a nonce is accepted before 438 */

    unsigned max_allocations;          /* whole server; 0 = unlimited */
    unsigned max_allocations_per_user; /* 0 = unlimited */
    unsigned max_permissions;          /* per allocation */
    unsigned max_channels;             /* per allocation */
    unsigned max_tcp_connections;      /* RFC 6062 peer connections per TCP allocation */

    /* Failed authentications from one IP address: after auth_fail_limit
     * (0 = no limit) inside auth_fail_window seconds, its TURN requests are
     * dropped until the window ends. */
    unsigned auth_fail_limit;
    unsigned auth_fail_window;
    /* Answers without integrity (Binding responses, 401/438 challenges,
     * errors to unauthenticated requests) sent over UDP to one IP address:
     * at most unauth_answer_limit (0 = no limit) per unauth_answer_window
     * seconds, the rest dropped. UDP sources can be forged, so this bounds
     * what turnd reflects at any one host; streams are never limited. */
    unsigned unauth_answer_limit;
    unsigned unauth_answer_window;
    /* Relay bandwidth in bytes/s, both directions together (0 = no limit):
     * per allocation, and per user over all their allocations. Excess
     * datagrams are dropped and counted. */
    uint32_t alloc_bandwidth;
    uint32_t user_bandwidth;

    /* RFC 8489 §10, RFC 8656 §7.2: when full (the 508 cases) or draining,
     * Allocate gets 300 Try Alternate naming this server (port 0 = none);
     * ALTERNATE-DOMAIN too when alternate_domain is set. Draining without an
     * alternate server refuses new allocations with 508; existing ones stay. */
    struct stun_addr alternate_server;
    char alternate_domain[256];
    bool draining;

    struct turn_user *users; /* static long-term users; owned by the config */
    unsigned n_users;
    char *secret; /* shared secret for time-limited credentials; NULL = off */

    struct turn_policy policy;
};

/* Defaults from RFC 8656 and safe limits; realm "lanturn". */
void turn_core_config_defaults(struct turn_core_config *c);
/* Add a static user; the keys use c->realm, so set the realm first.
 * 0, -ENOMEM, or -EIO when the crypto library failed. */
int turn_core_config_add_user(struct turn_core_config *c, const char *name, const char *password);
int turn_core_config_set_secret(struct turn_core_config *c, const char *secret);
/* Frees users and secret, not c itself. */
void turn_core_config_release(struct turn_core_config *c);

/* What the core needs from outside. `handle` values are the shell's: a
 * listening socket's handle comes in with each client datagram, relay
 * handles come back from relay_open. */
struct turn_env {
    void *ctx;
    /* Bind a UDP relay socket to `addr` (ip and port). Datagrams it receives
     * go to turn_core_on_peer() with `owner`. 0 and *handle, or -EADDRINUSE
     * (the core tries another port) or another negative errno. */
    int (*relay_open)(void *ctx, const struct stun_addr *addr, void *owner, bool dont_fragment,
                      int *handle);
    void (*relay_close)(void *ctx, int handle);
    /* Send one datagram from socket `handle` to `to`. */
    void (*send)(void *ctx, int handle, const struct stun_addr *to, const uint8_t *buf, size_t len);
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /* Seconds since the Unix epoch, for time-limited credentials. */
    uint64_t (*wall_clock)(void *ctx);

    /* RFC 6062 TCP relays; tcp_listen NULL = TCP allocations unsupported
     * (442). tcp_listen opens a listening socket on addr (closed with
     * relay_close); connections it accepts go to turn_core_on_tcp_incoming()
     * with `owner`. tcp_connect starts a non-blocking connection from the
     * relayed address `from` to `to` and reports its end through
     * turn_core_on_tcp_connected(); 0 and *handle, or a negative errno.
     * tcp_bind splices peer connection `peer` with client data connection
     * `conn` (raw bytes both ways from now on); `token` names the pair in
     * turn_core_tcp_budget() and turn_core_tcp_moved(). tcp_close closes a peer
     * connection and the client connection spliced to it, if any; the shell
     * then does not call turn_core_on_tcp_closed(). */
    int (*tcp_listen)(void *ctx, const struct stun_addr *addr, void *owner, int *handle);
    int (*tcp_connect)(void *ctx, const struct stun_addr *from, const struct stun_addr *to,
                       int *handle);
    void (*tcp_bind)(void *ctx, int peer, int conn, void *token);
    void (*tcp_close)(void *ctx, int peer);

    /* Workers (turn_core_share()): hand a datagram from relayed address
     * `from` to `to`, a relay of worker `worker`'s core, instead of sending
     * it through the kernel; that worker then calls turn_core_on_handoff().
     * false: not taken (the core sends it as to any peer). NULL = never. */
    bool (*relay_handoff)(void *ctx, unsigned worker, const struct stun_addr *from,
                          const struct stun_addr *to, const uint8_t *buf, size_t len);
};

struct turn_stats {
    uint64_t allocations;        /* live now */
    uint64_t allocations_total;  /* created since start */
    uint64_t permissions;        /* live now */
    uint64_t channels;           /* live now */
    uint64_t auth_failures;
    uint64_t auth_rate_limited;  /* requests dropped: too many failures from the address */
    uint64_t unauth_dropped;     /* unsigned UDP answers dropped: the address's budget was spent */
    uint64_t peer_denied;        /* CreatePermission/ChannelBind/Connect refused by policy */
    uint64_t tcp_connections;    /* RFC 6062 peer data connections live now */
    uint64_t tcp_connections_total;
    uint64_t tcp_connect_failures; /* Connect answered 447 */
    uint64_t tcp_refused;          /* incoming peer connections refused: no permission or quota */
    uint64_t own_port_dropped;   /* datagrams to a non-relay port of our own address */
    uint64_t no_permission_dropped;
    uint64_t alternate_redirects; /* Allocate answered 300 Try Alternate */
    uint64_t quota_rejections;    /* Allocate answered 486 or 508: a quota or capacity */
    uint64_t bandwidth_dropped_packets, bandwidth_dropped_bytes; /* over a bandwidth limit */
    uint64_t malformed;
    uint64_t client_to_peer_packets, client_to_peer_bytes;
    uint64_t peer_to_client_packets, peer_to_client_bytes;
};

struct turn_core;

/* The core keeps a pointer to cfg (it must outlive the core) and env. NULL on
 * allocation failure. */
struct turn_core *turn_core_new(const struct turn_core_config *cfg, const struct turn_env *env);
void turn_core_free(struct turn_core *core);

/* A datagram from a client arrived on listening socket `lsock`, whose local
 * address is `local`, from `from`. `now_ms` is a monotonic clock. buf may be
 * modified. */
void turn_core_on_client(struct turn_core *core, int lsock, const struct stun_addr *local,
                         const struct stun_addr *from, uint8_t *buf, size_t len, uint64_t now_ms);

/* One whole STUN or ChannelData message (a frame cut by stun_stream_frame())
 * from TCP or TLS connection `conn`, whose local address is `local` and
 * remote address `from`. Answers and relayed data go to env->send with
 * handle `conn`; ChannelData towards the client is padded to 4 bytes. An
 * allocation made here ends with the connection: the shell must call
 * turn_core_on_client_closed() before it reuses `conn`. */
void turn_core_on_stream(struct turn_core *core, int conn, const struct stun_addr *local,
                         const struct stun_addr *from, uint8_t *buf, size_t len, uint64_t now_ms);
/* Stream connection `conn` from `from` is gone: delete its allocation, if
 * any. Does nothing for UDP 5-tuples. */
void turn_core_on_client_closed(struct turn_core *core, int conn, const struct stun_addr *from);
/* Whether the 5-tuple (handle, from) has an allocation now; lets a shell
 * time out idle connections that have none. */
bool turn_core_has_allocation(struct turn_core *core, int handle, const struct stun_addr *from);

/* A datagram from a peer arrived on the relay socket registered with `owner`.
 * buf points at the payload; TURN_HEADROOM bytes before it and TURN_TAILROOM
 * bytes after it are writable. */
void turn_core_on_peer(struct turn_core *core, void *owner, const struct stun_addr *from,
                       uint8_t *buf, size_t len, uint64_t now_ms);

/* RFC 6062: the peer connection `peer` (from env->tcp_connect) is up (ok)
 * or failed (the shell has closed it then); the core answers the Connect.
 * When a connection is not wanted any more the core calls env->tcp_close. */
void turn_core_on_tcp_connected(struct turn_core *core, int peer, bool ok, uint64_t now_ms);
/* A peer connected to the TCP relay registered with `owner`, as connection
 * `peer`. true: the core sent a ConnectionAttempt and keeps the connection
 * (the shell reads nothing from it until tcp_bind); false: close it. */
bool turn_core_on_tcp_incoming(struct turn_core *core, void *owner, int peer,
                               const struct stun_addr *from, uint64_t now_ms);
/* Peer connection `peer`, or the client data connection spliced to it, is
 * gone (the shell closed both). */
void turn_core_on_tcp_closed(struct turn_core *core, int peer);
/* A spliced pair (`token` from env->tcp_bind): how many of `want` bytes the
 * bandwidth limits let the shell read now (0: read nothing, try again after
 * a while), and the bytes it moved, counted like relayed datagrams' bytes. */
size_t turn_core_tcp_budget(struct turn_core *core, void *token, size_t want, uint64_t now_ms);
void turn_core_tcp_moved(struct turn_core *core, void *token, bool to_peer, size_t n);

/* One allocation, as turn_core_sessions() shows it; valid during the callback. */
struct turn_session {
    uint64_t id; /* unique while the core lives */
    const char *user;
    struct stun_addr client, relay;
    /* A dual-stack allocation's other relayed address (RFC 8656 §7.2);
     * family 0 when there is none. */
    struct stun_addr relay2;
    int handle;  /* the shell's listening socket or stream connection */
    bool stream; /* TCP or TLS */
    uint64_t age_ms;
    uint64_t to_peer_packets, to_peer_bytes, to_client_packets, to_client_bytes;
    const struct stun_addr *peers; /* IP addresses with a live permission */
    unsigned n_peers;
};
/* Call fn for every allocation, newest first; read-only. 0 or -ENOMEM. */
int turn_core_sessions(struct turn_core *core, uint64_t now_ms,
                       void (*fn)(void *arg, const struct turn_session *s), void *arg);
/* Delete the allocation with this id, or every allocation of this user
 * (id 0); how many were deleted. */
unsigned turn_core_kill(struct turn_core *core, uint64_t id, const char *user);
/* Delete the allocation of the 5-tuple (handle, client), whatever its
 * transport: a shell whose datagram sessions end (DTLS) ends their
 * allocations too. true when there was one. */
bool turn_core_kill_client(struct turn_core *core, int handle, const struct stun_addr *client,
                           const char *reason);

/* Expire what is due; call at or after turn_core_next_deadline(). */
void turn_core_tick(struct turn_core *core, uint64_t now_ms);
/* Monotonic ms of the next expiry check (UINT64_MAX when idle). */
uint64_t turn_core_next_deadline(const struct turn_core *core);

const struct turn_stats *turn_core_stats(const struct turn_core *core);
/* sum += add, counter by counter (several workers' cores into one). */
void turn_stats_add(struct turn_stats *sum, const struct turn_stats *add);

/* Several cores in one process, one per worker thread (turnd's workers):
 * they share the allocation quotas, the per-address limits, the nonce key,
 * allocation ids and which relay ports are live, so a datagram towards a
 * relay address another core owns is sent there (through the kernel) as to
 * any relay of this server. Each core stays single-threaded; only the
 * shared part is locked, and never per relayed datagram. */
struct turn_shared;
struct turn_shared *turn_shared_new(void);
/* After every core sharing it is freed. */
void turn_shared_free(struct turn_shared *sh);
/* Right after turn_core_new(), before any traffic; worker: this core's
 * index, what relay_handoff names it by (0-255). */
void turn_core_share(struct turn_core *core, struct turn_shared *sh, unsigned worker);
/* A datagram another worker's core handed over (env->relay_handoff) for our
 * relay address `to`: delivered as if our relay socket had received it from
 * `from`, permission check included. buf as for turn_core_on_peer(). */
void turn_core_on_handoff(struct turn_core *core, const struct stun_addr *from,
                          const struct stun_addr *to, uint8_t *buf, size_t len, uint64_t now_ms);

/* Delete every allocation (at shutdown), closing relay sockets. */
void turn_core_clear(struct turn_core *core);

#endif
