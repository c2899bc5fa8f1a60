/*
 * turn_test_env.h - what the TURN core's unit tests share: a fake env that
 * records what the core sends and which relays it opens, and a small client
 * that builds requests with the codec, authenticated the RFC 5389 way (MD5
 * key, MESSAGE-INTEGRITY) or the RFC 8489 way (PASSWORD-ALGORITHM(S),
 * SHA-256 key, MESSAGE-INTEGRITY-SHA256, USERHASH).
 */
#ifndef LANTURN_TURN_TEST_ENV_H
#define LANTURN_TURN_TEST_ENV_H

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "turn/core.h"

#define MAX_SENT 64

struct sent {
    int handle;
    struct stun_addr to;
    uint8_t buf[2048];
    size_t len;
};

struct fake {
    struct sent sent[MAX_SENT];
    unsigned n_sent;
    int next_handle;
    unsigned opened, closed;
    void *owner[16];
    uint16_t port[16];
    uint64_t wall;
    uint32_t rnd;
    /* RFC 6062 TCP relays: listeners, connects, splices and closes. */
    unsigned tcp_listens;
    struct stun_addr connect_from, connect_to;
    int connects, connect_rc, last_connect;
    int bound_peer, bound_conn;
    void *bound_token;
    int tcp_closed[16];
    unsigned n_tcp_closed;
    /* Workers: datagrams handed to another worker (taken when handoff_on). */
    bool handoff_on;
    unsigned handoffs, handoff_worker;
    struct stun_addr handoff_from, handoff_to;
    size_t handoff_len;
};

struct t {
    struct fake f;
    struct turn_core_config cfg;
    struct turn_core *core;
    struct stun_addr local, client, peer;
    uint64_t now;
    char nonce[64];
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
    struct stun_msg resp;
    uint8_t tid_seed;
    int conn; /* requests go over this stream connection; 0 = UDP socket 1 */
};

/* How a request authenticates. user or userhash; alg 0 sends no
 * PASSWORD-ALGORITHM(S) (an RFC 5389 client). */
struct creds {
    const char *user;
    const uint8_t *userhash;
    const uint8_t *key;
    size_t key_len;
    uint16_t alg;
    bool sha256; /* MESSAGE-INTEGRITY-SHA256 instead of MESSAGE-INTEGRITY */
};

typedef void (*attrs_fn)(struct stun_builder *b, const void *arg);

/* Fill a fresh test state (users alice/wonderland and bob/builder, secret
 * "s3cret", relay 10.0.0.1:50000-50099) and let `tweak`, when not NULL,
 * change the config before the core starts. */
int turn_test_setup(void **state, void (*tweak)(struct turn_core_config *cfg));
int turn_test_setup_default(void **state);
/* Another core on the same fake env and config (a second worker). */
struct turn_core *turn_test_core_new(struct t *t);
int turn_test_teardown(void **state);

/* The last datagram the core sent, parsed into t->resp; its error code. */
int last_response(struct t *t);
/* Send a request; returns the response's error code (0 = success) or -1
 * when the core answered nothing. Learns the nonce from 401/438 and checks
 * the integrity of successes. cr NULL: unauthenticated. */
int request_with(struct t *t, const struct stun_addr *from, uint16_t method, attrs_fn add,
                 const void *arg, const struct creds *cr);
int request_from(struct t *t, const struct stun_addr *from, uint16_t method, attrs_fn add,
                 const void *arg, const char *user, const uint8_t *key);
int request(struct t *t, uint16_t method, attrs_fn add, const void *arg);
void allocate_ok(struct t *t);
/* The shared-secret password base64(HMAC-SHA1(secret, user)) (28 chars). */
void secret_password(const char *secret, const char *user, char out[32]);

/* A Send indication of len bytes of data to peer, built in buf; its length. */
size_t build_send_indication(uint8_t *buf, size_t cap, const struct stun_addr *peer,
                             const void *data, size_t len);

void add_udp(struct stun_builder *b, const void *arg); /* arg: NULL or a uint32_t lifetime */
void add_lifetime(struct stun_builder *b, const void *arg);
void add_peer(struct stun_builder *b, const void *arg); /* arg: struct stun_addr */
struct bind_arg {
    uint32_t channel;
    const struct stun_addr *peer;
};
void add_channel(struct stun_builder *b, const void *arg);

#endif
