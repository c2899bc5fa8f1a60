/*
 * internal.h - the TURN core's private state, shared by core.c (dispatch,
 * data path, timers), requests.c (request handlers), alloc.c (tables) and
 * auth.c (nonces and credentials). Not part of the module's interface.
 */
#ifndef LANTURN_TURN_INTERNAL_H
#define LANTURN_TURN_INTERNAL_H

#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* RFC 8489 §9.2 nonce cookie, 4 base64 digits of feature bits, then 8 hex
 * digits of time and 16 of MAC. */
#define TURN_NONCE_COOKIE "obMatJos2"
#define TURN_NONCE_PREFIX_LEN 13
#define TURN_NONCE_LEN (TURN_NONCE_PREFIX_LEN + 24)
#define TURN_RESERVATION_TTL_MS 30000 /* RFC 8656 §7.2: about 30 s */
#define TURN_CHANNEL_COOLDOWN_MS 300000 /* RFC 8656 §12: no rebinding for 5 min */
#define TURN_TICK_MS 1000
#define TURN_TOKEN_LEN 8
#define TURN_TCP_TIMEOUT_MS 30000 /* RFC 6062 §5.2, §5.3: connect and ConnectionBind */

struct turn_perm {
    struct stun_addr ip; /* port 0 */
    uint64_t expires_ms;
    bool relay_only; /* our own relay address: only live relay ports */
};

struct turn_chan {
    struct stun_addr peer;
    uint64_t expires_ms; /* usable until then, reserved for a cooldown after */
    uint16_t number;
};

/* A token bucket in milli-bytes (exact at any rate); zeroed = full at first use. */
struct turn_bucket {
    uint64_t tokens;
    uint64_t last_ms;
};

/* A token bucket that every worker charges (a user's bandwidth). Two
 * workers charging at once may take it below zero: the refill pays the
 * debt first. */
struct turn_shared_bucket {
    _Atomic int64_t tokens;
    _Atomic uint64_t last_ms;
};

/* Allocations per user name, for the per-user quota and bandwidth. */
struct turn_user_entry {
    struct turn_user_entry *next;
    unsigned n_allocs;
    struct turn_bucket bandwidth;
    /* with workers: the user's bucket of all cores, which outlives this
     * entry (every allocation counted here is counted there too) */
    struct turn_shared_bucket *shared_bandwidth;
    char name[]; /* NUL-terminated */
};

struct turn_alloc {
    struct turn_alloc *hash_next;       /* 5-tuple hash chain */
    struct turn_alloc *prev, *next;     /* list of all allocations */
    int lsock;                          /* listening socket or stream connection */
    bool stream;                        /* lsock is a TCP/TLS connection */
    struct stun_addr client;            /* with lsock/local: the 5-tuple */
    struct stun_addr local;
    struct stun_addr relay;
    int relay_handle;
    /* RFC 8656 §7.2 dual-stack: the second relayed address (the other
     * family's), family 0 when there is none. */
    struct stun_addr relay2;
    int relay2_handle;
    uint16_t missing_af, missing_code; /* dual-stack: the family not granted and why */
    bool tcp;       /* RFC 6062: relay is a listening TCP socket */
    unsigned n_tcp; /* its peer data connections (tcprelay.c) */
    struct turn_user_entry *user;
    uint8_t alloc_tid[STUN_TID_LEN];     /* to recognise Allocate retransmits */
    uint64_t expires_ms;
    uint32_t lifetime_s; /* as granted, for retransmitted responses */
    uint8_t reservation_token[TURN_TOKEN_LEN];
    bool has_reservation_token;
    struct turn_perm *perms;
    unsigned n_perms, cap_perms;
    struct turn_chan *chans;
    unsigned n_chans, cap_chans;
    struct turn_bucket bandwidth;
    /* For the control socket's session list (sessions.c). */
    uint64_t id, created_ms;
    uint64_t to_peer_packets, to_peer_bytes, to_client_packets, to_client_bytes;
};

/* A relay port held for a later Allocate with RESERVATION-TOKEN (EVEN-PORT R bit). */
struct turn_reservation {
    struct turn_reservation *next;
    uint8_t token[TURN_TOKEN_LEN];
    struct stun_addr relay;
    int handle;
    uint64_t expires_ms;
};

/* One RFC 6062 peer data connection of a TCP allocation (tcprelay.c). */
enum turn_tcp_state {
    TURN_TCP_CONNECTING, /* Connect sent by the client; the shell is connecting */
    TURN_TCP_PENDING,    /* up, waiting up to 30 s for the client's ConnectionBind */
    TURN_TCP_BOUND,      /* spliced to a client data connection by the shell */
};
struct turn_tcp_conn {
    struct turn_tcp_conn *next; /* c->tcp_conns */
    struct turn_alloc *alloc;
    uint32_t id;     /* CONNECTION-ID */
    int handle;      /* the shell's peer connection */
    struct stun_addr peer;
    enum turn_tcp_state state;
    uint64_t deadline_ms; /* connect or bind timeout */
    /* What the deferred Connect answer needs from its request. */
    uint8_t tid[STUN_TID_LEN];
    uint8_t key[STUN_KEY_MAX];
    size_t key_len;
    bool sha256, fingerprint;
    int client_handle; /* the control connection the answer goes to */
    struct stun_addr client;
};

/* Events of one client IP address inside a time window (ratelimit.c). */
struct turn_ip_count {
    struct stun_addr ip; /* port 0 */
    uint64_t window_start_ms;
    uint32_t count; /* 0 = free slot */
};
/* A fixed table of them: bounded memory and bounded work per lookup. */
struct turn_ip_counts {
    struct turn_ip_count *slots;
    unsigned n; /* a power of two */
};
#define TURN_IP_TABLE 4096 /* addresses tracked at once per table */

/* What the cores of one process's workers share (shared.c). */
struct turn_shared {
    pthread_mutex_t mu; /* users, allocations, fails, unauth */
    struct shared_user **users;
    unsigned allocations;
    struct turn_reservation *reservations; /* every core's (alloc.c) */
    _Atomic unsigned n_reservations;       /* read unlocked: keeps every core ticking */
    struct turn_ip_counts fails, unauth;
    uint8_t nonce_key[32];
    bool keyed;
    _Atomic uint64_t next_id;
    _Atomic uint64_t live_relay[2][65536 / 64]; /* UDP and TCP relays of allocations */
    _Atomic uint8_t relay_worker[2][65536];     /* whose core owns each live one */
};

struct turn_core {
    const struct turn_core_config *cfg;
    struct turn_shared *shared; /* NULL: this core alone */
    unsigned worker;            /* with shared: this core's worker index */
    struct turn_env env;
    struct turn_stats stats;

    struct turn_alloc **buckets; /* 5-tuple hash */
    unsigned n_buckets;          /* power of two */
    struct turn_alloc *all;      /* every allocation, for timers */
    struct turn_user_entry **users;
    unsigned n_user_buckets;
    struct turn_reservation *reservations;
    struct turn_tcp_conn *tcp_conns;

    /* Relay ports in use, per family (index 0 IPv4, 1 IPv6): the owner, or
     * RESERVED for a reservation. Lets "is this one of our relay ports?" be
     * one array read on the data path. */
    struct turn_alloc **port_owner[2];

    struct turn_ip_counts fails;  /* failed authentications */
    struct turn_ip_counts unauth; /* unsigned answers sent over UDP */

    uint8_t nonce_key[32];
    uint8_t tid_prefix[4]; /* Data indications: prefix + counter */
    uint64_t tid_counter;
    uint64_t next_tick_ms;
};

#define TURN_PORT_RESERVED ((struct turn_alloc *)1)

static inline int turn_family_index(uint16_t af)
{
    return af == 10 /* AF_INET6 */ ? 1 : 0;
}

/* ---- alloc.c ---- */
struct turn_alloc *turn_alloc_find(struct turn_core *c, int lsock, const struct stun_addr *client);
/* Creates and links an allocation; takes a reference on the user entry. */
struct turn_alloc *turn_alloc_create(struct turn_core *c, int lsock, bool stream,
                                     const struct stun_addr *local, const struct stun_addr *client,
                                     const char *user);
void turn_alloc_destroy(struct turn_core *c, struct turn_alloc *a, const char *reason);
unsigned turn_user_alloc_count(struct turn_core *c, const char *user);
/* Pick and bind a relay port on ip (a TCP listener when a->tcp). even and
 * reserve_next for EVEN-PORT. Fills *relay and *handle (a->relay or
 * a->relay2); when reserve_next, holds the next port until now_ms plus
 * TURN_RESERVATION_TTL_MS and puts its token in a. 0 or -ENOSPC. */
int turn_relay_bind(struct turn_core *c, struct turn_alloc *a, const struct stun_addr *ip,
                    bool even, bool reserve_next, bool dont_fragment, uint64_t now_ms,
                    struct stun_addr *relay, int *handle);
/* Close the relayed address of family af of a dual-stack allocation, keeping
 * the other one; the allocation's relay becomes the remaining address. */
void turn_relay_drop(struct turn_core *c, struct turn_alloc *a, uint16_t af);
/* The allocation's relayed address of this family and its handle; NULL when
 * it has none (single-family allocations, RFC 8656 §7.2). */
const struct stun_addr *turn_alloc_relay(const struct turn_alloc *a, uint16_t af, int *handle);
int turn_relay_take_reservation(struct turn_core *c, struct turn_alloc *a, const uint8_t *token,
                                bool dont_fragment);
void turn_reservations_expire(struct turn_core *c, uint64_t now_ms);
bool turn_is_live_relay(const struct turn_core *c, const struct stun_addr *addr);
/* The worker whose core owns the live relay address addr, when it is not
 * this core's; -1 otherwise. */
int turn_relay_worker(const struct turn_core *c, const struct stun_addr *addr);
bool turn_is_live_tcp_relay(const struct turn_core *c, const struct stun_addr *addr);

struct turn_perm *turn_perm_find(struct turn_alloc *a, const struct stun_addr *ip, uint64_t now_ms);
int turn_perm_install(struct turn_core *c, struct turn_alloc *a, const struct stun_addr *ip,
                      bool relay_only, uint64_t now_ms);
/* Any channel entry (active or cooling down) by number or by peer. */
struct turn_chan *turn_chan_by_number(struct turn_alloc *a, uint16_t number);
struct turn_chan *turn_chan_by_peer(struct turn_alloc *a, const struct stun_addr *peer);
int turn_chan_install(struct turn_core *c, struct turn_alloc *a, uint16_t number,
                      const struct stun_addr *peer, uint64_t now_ms);
void turn_alloc_expire_entries(struct turn_core *c, struct turn_alloc *a, uint64_t now_ms);

/* ---- auth.c ---- */
struct turn_auth {
    int error;   /* 0, or the STUN error to answer with */
    bool failed; /* wrong credentials (counts towards the rate limit) */
    bool sha256; /* the request used MESSAGE-INTEGRITY-SHA256; so do answers */
    uint8_t key[STUN_KEY_MAX];
    size_t key_len; /* 16 (MD5) or 32 (SHA-256); 0 before a key is known */
    char user[514]; /* USERNAME as sent (or the USERHASH's user), NUL-terminated */
};
extern const uint8_t turn_password_algorithms[8];
bool turn_userhash_offered(const struct turn_core_config *cfg);
void turn_nonce_make(const struct turn_core *c, const struct stun_addr *client, uint64_t now_ms,
                     char out[TURN_NONCE_LEN + 1]);
/* Long-term credential check of a request (RFC 8489 §9.2.4). */
void turn_auth_check(struct turn_core *c, const struct stun_msg *m, const struct stun_addr *client,
                     uint64_t now_ms, struct turn_auth *out);

/* ---- shared.c ---- */
unsigned turn_shared_user_count(struct turn_shared *sh, const char *user);
/* Count one more allocation of user: 0, -EDQUOT (per_user reached), -ENOSPC
 * (total reached; 0 = no limit for either) or -ENOMEM. */
int turn_shared_take(struct turn_shared *sh, const char *user, unsigned per_user, unsigned total);
void turn_shared_release(struct turn_shared *sh, const char *user);
/* The user's bandwidth bucket shared by every core; the user must hold an
 * allocation taken with turn_shared_take(). */
struct turn_shared_bucket *turn_shared_user_bandwidth(struct turn_shared *sh, const char *user);
uint64_t turn_shared_next_id(struct turn_shared *sh);
/* fam: turn_family_index(). */
void turn_shared_mark_relay(struct turn_shared *sh, int fam, uint16_t port, bool live,
                            unsigned worker);
bool turn_shared_relay_is_live(const struct turn_shared *sh, int fam, uint16_t port);
unsigned turn_shared_relay_worker(const struct turn_shared *sh, int fam, uint16_t port);

/* ---- ratelimit.c ---- */
int turn_ratelimit_init(struct turn_core *c);
void turn_ratelimit_free(struct turn_core *c);
/* True when ip has used up its failed authentications for now. */
bool turn_fails_blocked(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms);
void turn_fails_record(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms);
/* Takes one unsigned UDP answer from ip's budget: false when it is spent
 * and the answer must be dropped (counted in stats.unauth_dropped). */
bool turn_unauth_answer_allowed(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms);

/* ---- tcprelay.c (RFC 6062) ---- */
/* Connect after the policy check (§5.2): 0 when the answer will come from
 * turn_core_on_tcp_connected() or the timeout, else the STUN error to send. */
int turn_tcp_connect(struct turn_core *c, struct turn_alloc *a, const struct stun_msg *m,
                     const struct stun_addr *peer, const struct turn_auth *auth, int lsock,
                     const struct stun_addr *client, bool fingerprint, uint64_t now_ms);
struct turn_tcp_conn *turn_tcp_find_id(struct turn_core *c, uint32_t id);
void turn_tcp_bind(struct turn_core *c, struct turn_tcp_conn *t, int conn);
/* Close and forget every peer connection of a (the allocation is going). */
void turn_tcp_release_all(struct turn_core *c, struct turn_alloc *a);
void turn_tcp_expire(struct turn_core *c, uint64_t now_ms);

/* ---- requests.c ---- */
/* stream: the request came over a TCP/TLS connection `lsock`. */
void turn_handle_request(struct turn_core *c, int lsock, bool stream, const struct stun_addr *local,
                         const struct stun_addr *from, const struct stun_msg *m, uint64_t now_ms);

/* ---- core.c ---- */
void turn_send_to_client(struct turn_core *c, int lsock, const struct stun_addr *to,
                         const uint8_t *buf, size_t len);
bool turn_peer_send_allowed(struct turn_core *c, struct turn_alloc *a,
                            const struct stun_addr *peer, uint64_t now_ms);
/* Bytes the allocation's and its user's bandwidth buckets allow now
 * (SIZE_MAX without limits); charging takes len from both. */
size_t turn_bandwidth_budget(struct turn_core *c, struct turn_alloc *a, uint64_t now_ms);
void turn_bandwidth_charge(struct turn_core *c, struct turn_alloc *a, size_t len);

#endif
