/*
 * fuzz_turn_core.c - libFuzzer harness for the whole TURN core. The input is
 * a sequence of chunks (2-byte length, then bytes); each chunk's first byte
 * picks what happens: a raw datagram from a client, a datagram from a peer
 * to a live relay, an authenticated request whose attributes come from the
 * input (so the fuzzer reaches the handlers behind MESSAGE-INTEGRITY; bit 6
 * sends it over a stream connection, as RFC 6062 needs), the clock moving
 * on, or (bit 2 with the clock) an RFC 6062 event from the shell: a
 * connection to a peer up or failed, a peer connecting in, one closing.
 * Every input starts from a fresh core and must end with everything freed.
 */
#include "turn/core.h"
#include "util/log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RELAYS 64

struct fake {
    void *owner[MAX_RELAYS];
    int tcp_handles[8]; /* peer connections the core asked for or accepted */
    unsigned n_tcp;
    uint32_t conn_id; /* the last CONNECTION-ID the core sent, for ConnectionBind */
    uint64_t random_state;
    char nonce[64];
    size_t nonce_len;
};

static int relay_open(void *ctx, const struct stun_addr *addr, void *owner, bool df, int *handle)
{
    struct fake *f = ctx;
    (void)df;
    if (addr->port % 97 == 0)
        return -EADDRINUSE; /* exercise the retry path */
    for (int i = 0; i < MAX_RELAYS; i++) {
        if (!f->owner[i]) {
            f->owner[i] = owner ? owner : (void *)1;
            *handle = 100 + i;
            return 0;
        }
    }
    return -EMFILE;
}

static void relay_close(void *ctx, int handle)
{
    ((struct fake *)ctx)->owner[handle - 100] = NULL;
}

static void send_datagram(void *ctx, int handle, const struct stun_addr *to, const uint8_t *buf,
                          size_t len)
{
    struct fake *f = ctx;
    struct stun_msg m;
    (void)handle;
    (void)to;
    if (stun_parse(&m, buf, len) != 0)
        return;
    const struct stun_attr *n = stun_find(&m, STUN_ATTR_NONCE);
    if (n && n->len < sizeof(f->nonce)) {
        memcpy(f->nonce, n->val, n->len);
        f->nonce_len = n->len;
    }
    const struct stun_attr *id = stun_find(&m, STUN_ATTR_CONNECTION_ID);
    if (id)
        stun_attr_get_u32(id, &f->conn_id);
}

static int tcp_listen(void *ctx, const struct stun_addr *addr, void *owner, int *handle)
{
    return relay_open(ctx, addr, owner, false, handle);
}

static int tcp_connect(void *ctx, const struct stun_addr *from, const struct stun_addr *to,
                       int *handle)
{
    struct fake *f = ctx;
    (void)from;
    if (to->port % 89 == 0)
        return -ENETUNREACH; /* exercise the immediate 447 */
    *handle = 1000 + (int)f->n_tcp;
    f->tcp_handles[f->n_tcp++ % 8] = *handle;
    return 0;
}

static void tcp_bind(void *ctx, int peer, int conn, void *token)
{
    (void)ctx, (void)peer, (void)conn, (void)token;
}

static void tcp_close(void *ctx, int peer)
{
    (void)ctx, (void)peer;
}

static void random_bytes(void *ctx, uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    for (size_t i = 0; i < len; i++) {
        f->random_state = f->random_state * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(f->random_state >> 56);
    }
}

static uint64_t wall_clock(void *ctx)
{
    (void)ctx;
    return 1700000000;
}

static void authenticated(struct turn_core *core, struct fake *f, const struct stun_addr *local,
                          const struct stun_addr *client, int conn, const uint8_t *key,
                          const uint8_t *p, size_t n, uint64_t now)
{
    static const uint16_t methods[] = {TURN_ALLOCATE,     TURN_REFRESH,
                                       TURN_CREATE_PERMISSION, TURN_CHANNEL_BIND,
                                       TURN_CONNECT,      TURN_CONNECTION_BIND,
                                       TURN_ALLOCATE,     TURN_CREATE_PERMISSION};
    uint8_t buf[2048], tid[STUN_TID_LEN] = {0};
    struct stun_builder b;
    if (n < 2)
        return;
    tid[0] = p[1];
    stun_build_init(&b, buf, sizeof(buf), methods[p[0] & 7], STUN_REQUEST, tid);
    size_t raw = (n - 2) & ~(size_t)3; /* fuzzed attributes, copied as they are */
    if (b.len + raw < sizeof(buf)) {
        memcpy(buf + b.len, p + 2, raw);
        b.len += raw;
    }
    if (methods[p[0] & 7] == TURN_CONNECTION_BIND)
        stun_put_u32(&b, STUN_ATTR_CONNECTION_ID, f->conn_id); /* first one counts */
    stun_put_str(&b, STUN_ATTR_USERNAME, "fuzz");
    stun_put_str(&b, STUN_ATTR_REALM, "lanturn");
    stun_put_attr(&b, STUN_ATTR_NONCE, f->nonce, f->nonce_len);
    stun_put_integrity(&b, key, STUN_LONG_TERM_KEY_LEN);
    stun_put_fingerprint(&b);
    size_t len;
    if (stun_build_finish(&b, &len) != 0)
        return;
    if (conn)
        turn_core_on_stream(core, conn, local, client, buf, len, now);
    else
        turn_core_on_client(core, 1, local, client, buf, len, now);
}

/* What the shell reports about RFC 6062 peer connections. */
static void tcp_event(struct turn_core *core, struct fake *f, const uint8_t *p, size_t n,
                      const struct stun_addr *peer, uint64_t now)
{
    if (n < 2 || f->n_tcp == 0)
        return;
    int handle = f->tcp_handles[p[1] % (f->n_tcp < 8 ? f->n_tcp : 8)];
    switch (p[0] & 3) {
    case 0:
        turn_core_on_tcp_connected(core, handle, p[1] & 1, now);
        break;
    case 1:
        turn_core_on_tcp_closed(core, handle);
        break;
    default:
        for (int i = 0; i < MAX_RELAYS; i++) {
            if (f->owner[i] && f->owner[i] != (void *)1) {
                int in = 2000 + (int)f->n_tcp;
                if (turn_core_on_tcp_incoming(core, f->owner[i], in, peer, now))
                    f->tcp_handles[f->n_tcp++ % 8] = in;
                break;
            }
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct turn_core_config cfg;
    static bool configured;
    if (!configured) {
        lt_log_set_level(LT_LOG_ERROR);
        turn_core_config_defaults(&cfg);
        struct stun_addr relay;
        stun_addr_parse("10.0.0.1", &relay);
        cfg.relay_ip[cfg.n_relay_ip++] = relay;
        cfg.port_lo = 50000;
        cfg.port_hi = 50040;
        cfg.max_allocations_per_user = 8;
        turn_core_config_add_user(&cfg, "fuzz", "pass");
        turn_core_config_set_secret(&cfg, "secret");
        turn_policy_add_relay(&cfg.policy, &relay);
        stun_addr_parse("fd00::1", &relay); /* dual-stack allocations (RFC 8656 §7.2) */
        cfg.relay_ip[cfg.n_relay_ip++] = relay;
        turn_policy_add_relay(&cfg.policy, &relay);
        turn_policy_add_rule(&cfg.policy, "10.9.0.0/16", false);
        configured = true;
    }
    struct fake f = {.random_state = 1};
    struct turn_env env = {.ctx = &f,
                           .relay_open = relay_open,
                           .relay_close = relay_close,
                           .send = send_datagram,
                           .random = random_bytes,
                           .wall_clock = wall_clock,
                           .tcp_listen = tcp_listen,
                           .tcp_connect = tcp_connect,
                           .tcp_bind = tcp_bind,
                           .tcp_close = tcp_close};
    struct turn_core *core = turn_core_new(&cfg, &env);
    if (!core)
        return 0;
    struct stun_addr local, clients[2], peer;
    stun_addr_parse("10.0.0.1:3478", &local);
    stun_addr_parse("192.168.1.10:40000", &clients[0]);
    stun_addr_parse("[fd00::10]:40001", &clients[1]);
    stun_addr_parse("192.168.1.20:5000", &peer);
    uint64_t now = 1000000;

    /* Learn a nonce the way a client does: an unauthenticated request. */
    uint8_t probe[64], tid[STUN_TID_LEN] = {9};
    struct stun_builder b;
    size_t plen;
    stun_build_init(&b, probe, sizeof(probe), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_finish(&b, &plen);
    turn_core_on_client(core, 1, &local, &clients[0], probe, plen, now);
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("fuzz", "lanturn", "pass", key);

    uint8_t buf[TURN_HEADROOM + 4096 + TURN_TAILROOM];
    size_t off = 0;
    while (off + 2 <= size) {
        size_t n = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (n == 0 || n > size - off || n > 4096)
            break;
        const uint8_t *chunk = data + off;
        off += n;
        const struct stun_addr *client = &clients[chunk[0] >> 7];
        switch (chunk[0] & 3) {
        case 0:
            memcpy(buf, chunk + 1, n - 1);
            turn_core_on_client(core, 1, &local, client, buf, n - 1, now);
            break;
        case 1:
            for (int i = 0; i < MAX_RELAYS; i++) {
                if (f.owner[i] && f.owner[i] != (void *)1) {
                    memcpy(buf + TURN_HEADROOM, chunk + 1, n - 1);
                    turn_core_on_peer(core, f.owner[i], &peer, buf + TURN_HEADROOM, n - 1, now);
                    break;
                }
            }
            break;
        case 2:
            /* bit 6: over stream connection 7 or 8 (bit 5), else UDP */
            authenticated(core, &f, &local, client,
                          chunk[0] & 0x40 ? 7 + ((chunk[0] >> 5) & 1) : 0, key, chunk + 1,
                          n - 1, now);
            break;
        default:
            if (chunk[0] & 4) {
                tcp_event(core, &f, chunk + 1, n - 1, &peer, now);
                break;
            }
            now += (uint64_t)(n > 1 ? chunk[1] : 1) * 7000;
            turn_core_tick(core, now);
            break;
        }
    }
    turn_core_free(core);
    return 0;
}
