/*
 * turn_test_env.c - the fake env and test client shared by the TURN core's
 * unit tests (see turn_test_env.h).
 */
#include "turn_test_env.h"

#include "util/log.h"

#include <string.h>
#include <sys/socket.h>

static int fake_open(void *ctx, const struct stun_addr *addr, void *owner, bool df, int *handle)
{
    struct fake *f = ctx;
    (void)df;
    int i = f->next_handle++;
    f->owner[i % 16] = owner;
    f->port[i % 16] = addr->port;
    f->opened++;
    *handle = 100 + i;
    return 0;
}

static void fake_close(void *ctx, int handle)
{
    struct fake *f = ctx;
    f->owner[(handle - 100) % 16] = NULL;
    f->closed++;
}

static void fake_send(void *ctx, int handle, const struct stun_addr *to, const uint8_t *buf,
                      size_t len)
{
    struct fake *f = ctx;
    if (f->n_sent >= MAX_SENT || len > sizeof(f->sent[0].buf))
        return;
    struct sent *s = &f->sent[f->n_sent++];
    s->handle = handle;
    s->to = *to;
    memcpy(s->buf, buf, len);
    s->len = len;
}

static void fake_random(void *ctx, uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(f->rnd = f->rnd * 1103515245u + 12345u) >> 3;
}

static uint64_t fake_wall(void *ctx)
{
    return ((struct fake *)ctx)->wall;
}

static int fake_tcp_listen(void *ctx, const struct stun_addr *addr, void *owner, int *handle)
{
    struct fake *f = ctx;
    f->tcp_listens++;
    return fake_open(ctx, addr, owner, false, handle);
}

static int fake_tcp_connect(void *ctx, const struct stun_addr *from, const struct stun_addr *to,
                            int *handle)
{
    struct fake *f = ctx;
    if (f->connect_rc)
        return f->connect_rc;
    f->connect_from = *from;
    f->connect_to = *to;
    *handle = f->last_connect = 300 + f->connects++;
    return 0;
}

static void fake_tcp_bind(void *ctx, int peer, int conn, void *token)
{
    struct fake *f = ctx;
    f->bound_peer = peer;
    f->bound_conn = conn;
    f->bound_token = token;
}

static void fake_tcp_close(void *ctx, int peer)
{
    struct fake *f = ctx;
    f->tcp_closed[f->n_tcp_closed++ % 16] = peer;
}

static bool fake_handoff(void *ctx, unsigned worker, const struct stun_addr *from,
                         const struct stun_addr *to, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    (void)buf;
    if (!f->handoff_on)
        return false;
    f->handoffs++;
    f->handoff_worker = worker;
    f->handoff_from = *from;
    f->handoff_to = *to;
    f->handoff_len = len;
    return true;
}

struct turn_core *turn_test_core_new(struct t *t)
{
    struct turn_env env = {&t->f,        fake_open,        fake_close,    fake_send,
                           fake_random, fake_wall,        fake_tcp_listen, fake_tcp_connect,
                           fake_tcp_bind, fake_tcp_close, fake_handoff};
    return turn_core_new(&t->cfg, &env);
}

int turn_test_setup(void **state, void (*tweak)(struct turn_core_config *cfg))
{
    static struct t t;
    memset(&t, 0, sizeof(t));
    lt_log_set_level(LT_LOG_ERROR);
    turn_core_config_defaults(&t.cfg);
    stun_addr_parse("10.0.0.1", &t.cfg.relay_ip[0]);
    t.cfg.n_relay_ip = 1;
    t.cfg.port_lo = 50000;
    t.cfg.port_hi = 50099;
    turn_policy_add_relay(&t.cfg.policy, &t.cfg.relay_ip[0]);
    turn_core_config_add_user(&t.cfg, "alice", "wonderland");
    turn_core_config_add_user(&t.cfg, "bob", "builder");
    turn_core_config_set_secret(&t.cfg, "s3cret");
    if (tweak)
        tweak(&t.cfg);
    t.f.wall = 1700000000;
    t.core = turn_test_core_new(&t);
    stun_addr_parse("10.0.0.1:3478", &t.local);
    stun_addr_parse("192.168.1.10:40000", &t.client);
    stun_addr_parse("192.168.1.20:5000", &t.peer);
    t.now = 1000000;
    stun_long_term_key("alice", "lanturn", "wonderland", t.key);
    *state = &t;
    return 0;
}

int turn_test_setup_default(void **state)
{
    return turn_test_setup(state, NULL);
}

int turn_test_teardown(void **state)
{
    struct t *t = *state;
    turn_core_free(t->core);
    turn_core_config_release(&t->cfg);
    return 0;
}

int last_response(struct t *t)
{
    assert_true(t->f.n_sent > 0);
    struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(stun_parse(&t->resp, s->buf, s->len), 0);
    if (t->resp.cls == STUN_SUCCESS)
        return 0;
    int code;
    const char *reason;
    size_t rlen;
    assert_int_equal(
        stun_attr_get_error(stun_find(&t->resp, STUN_ATTR_ERROR_CODE), &code, &reason, &rlen), 0);
    return code;
}

int request_with(struct t *t, const struct stun_addr *from, uint16_t method, attrs_fn add,
                 const void *arg, const struct creds *cr)
{
    uint8_t buf[1024], tid[STUN_TID_LEN] = {0};
    struct stun_builder b;
    tid[0] = ++t->tid_seed;
    tid[1] = (uint8_t)(t->now >> 10);
    stun_build_init(&b, buf, sizeof(buf), method, STUN_REQUEST, tid);
    if (add)
        add(&b, arg);
    if (cr) {
        if (cr->user)
            stun_put_str(&b, STUN_ATTR_USERNAME, cr->user);
        else
            stun_put_attr(&b, STUN_ATTR_USERHASH, cr->userhash, STUN_USERHASH_LEN);
        stun_put_str(&b, STUN_ATTR_REALM, t->cfg.realm);
        stun_put_str(&b, STUN_ATTR_NONCE, t->nonce);
        if (cr->alg) {
            const uint8_t algs[8] = {0, STUN_PASSWORD_SHA256, 0, 0, 0, STUN_PASSWORD_MD5, 0, 0};
            const uint8_t pick[4] = {(uint8_t)(cr->alg >> 8), (uint8_t)cr->alg, 0, 0};
            stun_put_attr(&b, STUN_ATTR_PASSWORD_ALGORITHMS, algs, sizeof(algs));
            stun_put_attr(&b, STUN_ATTR_PASSWORD_ALGORITHM, pick, sizeof(pick));
        }
        if (cr->sha256)
            stun_put_integrity_sha256(&b, cr->key, cr->key_len);
        else
            stun_put_integrity(&b, cr->key, cr->key_len);
    }
    stun_put_fingerprint(&b);
    size_t len;
    assert_int_equal(stun_build_finish(&b, &len), 0);
    unsigned before = t->f.n_sent;
    if (t->conn)
        turn_core_on_stream(t->core, t->conn, &t->local, from, buf, len, t->now);
    else
        turn_core_on_client(t->core, 1, &t->local, from, buf, len, t->now);
    if (t->f.n_sent == before)
        return -1;
    assert_int_equal(t->f.n_sent, before + 1);
    int code = last_response(t);
    const struct stun_attr *n = stun_find(&t->resp, STUN_ATTR_NONCE);
    if (n) {
        memcpy(t->nonce, n->val, n->len);
        t->nonce[n->len] = '\0';
    }
    if (code == 0 && cr && cr->sha256)
        assert_true(stun_check_integrity_sha256(&t->resp, cr->key, cr->key_len));
    else if (code == 0 && cr)
        assert_true(stun_check_integrity(&t->resp, cr->key, cr->key_len));
    return code;
}

int request_from(struct t *t, const struct stun_addr *from, uint16_t method, attrs_fn add,
                 const void *arg, const char *user, const uint8_t *key)
{
    struct creds cr = {.user = user, .key = key, .key_len = STUN_LONG_TERM_KEY_LEN};
    return request_with(t, from, method, add, arg, key ? &cr : NULL);
}

void add_udp(struct stun_builder *b, const void *arg)
{
    const uint32_t *lifetime = arg;
    uint8_t transport[4] = {17, 0, 0, 0};
    stun_put_attr(b, STUN_ATTR_REQUESTED_TRANSPORT, transport, 4);
    if (lifetime)
        stun_put_u32(b, STUN_ATTR_LIFETIME, *lifetime);
}

void add_lifetime(struct stun_builder *b, const void *arg)
{
    stun_put_u32(b, STUN_ATTR_LIFETIME, *(const uint32_t *)arg);
}

void add_peer(struct stun_builder *b, const void *arg)
{
    stun_put_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, arg, true);
}

size_t build_send_indication(uint8_t *buf, size_t cap, const struct stun_addr *peer,
                             const void *data, size_t len)
{
    uint8_t tid[STUN_TID_LEN] = {9};
    struct stun_builder b;
    size_t n;
    stun_build_init(&b, buf, cap, TURN_SEND, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer, true);
    stun_put_attr(&b, STUN_ATTR_DATA, data, len);
    assert_int_equal(stun_build_finish(&b, &n), 0);
    return n;
}


void add_channel(struct stun_builder *b, const void *arg)
{
    const struct bind_arg *a = arg;
    stun_put_u32(b, STUN_ATTR_CHANNEL_NUMBER, a->channel << 16);
    stun_put_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, a->peer, true);
}

int request(struct t *t, uint16_t method, attrs_fn add, const void *arg)
{
    return request_from(t, &t->client, method, add, arg, "alice", t->key);
}

void allocate_ok(struct t *t)
{
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL); /* learn nonce */
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 0);
}


void secret_password(const char *secret, const char *user, char out[32])
{
    uint8_t mac[20];
    assert_int_equal(stun_hmac_sha1((const uint8_t *)secret, strlen(secret),
                                    (const uint8_t *)user, strlen(user), mac),
                     0);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < 20; i += 3) {
        uint32_t v = (uint32_t)mac[i] << 16 | (i + 1 < 20 ? mac[i + 1] << 8 : 0) |
                     (i + 2 < 20 ? mac[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < 20 ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < 20 ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}
