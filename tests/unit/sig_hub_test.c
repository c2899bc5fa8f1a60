/*
 * sig_hub_test.c - the WebSocket protocol engine driven directly: frames in,
 * frames out, time chosen by the test, a real database in a temporary
 * directory. What the protocol tests show over a network, shown here at the
 * level where every branch is reachable: replay exactness, durability order,
 * rate limits, queue overflow, ring timeouts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"
#include "hub/hub.h"

#define MAX_FRAMES 4096

/* A fake connection: what the hub sent it and how it closed it. */
struct peer {
    char *frames[MAX_FRAMES];
    bool event[MAX_FRAMES]; /* came through send_event (may be batched) */
    size_t n, read;
    int close_code;
    int refuse_after; /* >0: the send queue is "full" after this many frames */
    int pings;
    struct sig_conn *conn;
};

static int fake_send(void *ctx, void *handle, const char *text, size_t len)
{
    (void)ctx;
    struct peer *p = handle;
    if (p->refuse_after && (int)p->n >= p->refuse_after)
        return -ENOBUFS;
    assert_true(p->n < MAX_FRAMES);
    p->frames[p->n] = strndup(text, len);
    p->n++;
    return 0;
}

static int fake_send_event(void *ctx, void *handle, const char *text, size_t len)
{
    struct peer *p = handle;
    int err = fake_send(ctx, handle, text, len);
    if (err == 0)
        p->event[p->n - 1] = true;
    return err;
}

static void fake_close(void *ctx, void *handle, int code, const char *reason)
{
    (void)ctx;
    (void)reason;
    ((struct peer *)handle)->close_code = code;
}

static void fake_ping(void *ctx, void *handle)
{
    (void)ctx;
    ((struct peer *)handle)->pings++;
}

struct world {
    struct fx *fx;
    struct sig_hub_config cfg;
    struct sig_hub_env env;
    struct sig_hub *hub;
    int64_t now;
    int64_t alice, bob, carol;
    char ta[STO_TOKEN_LEN + 1], tb[STO_TOKEN_LEN + 1], tc[STO_TOKEN_LEN + 1];
};

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    void *fxs = NULL;
    fx_setup(&fxs);
    w->fx = fxs;
    sig_hub_config_defaults(&w->cfg);
    w->cfg.ring_timeout_ms = 30000;
    w->env = (struct sig_hub_env){
        .send = fake_send, .send_event = fake_send_event, .close = fake_close, .ping = fake_ping};
    w->hub = sig_hub_new(&w->cfg, w->fx->db, &w->env);
    w->now = 1000;
    w->alice = fx_user(w->fx, "alice");
    w->bob = fx_user(w->fx, "bob");
    w->carol = fx_user(w->fx, "carol");
    int64_t sid;
    assert_int_equal(sto_session_create(w->fx->db, w->alice, 3600000, "t", w->ta, &sid), 0);
    assert_int_equal(sto_session_create(w->fx->db, w->bob, 3600000, "t", w->tb, &sid), 0);
    assert_int_equal(sto_session_create(w->fx->db, w->carol, 3600000, "t", w->tc, &sid), 0);
    *state = w;
    return 0;
}

static void peer_free(struct peer *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->frames[i]);
    memset(p, 0, sizeof *p);
}

static int teardown(void **state)
{
    struct world *w = *state;
    sig_hub_free(w->hub);
    void *fxs = w->fx;
    fx_teardown(&fxs);
    free(w);
    return 0;
}

static void send_text(struct world *w, struct peer *p, const char *text)
{
    sig_hub_recv(w->hub, p->conn, text, strlen(text), w->now);
    sig_hub_flush(w->hub); /* the end of the event-loop turn */
}

/* The next frame the peer has not looked at, parsed. */
static json_t *next_frame(struct peer *p)
{
    assert_true(p->read < p->n);
    json_t *j = json_loads(p->frames[p->read++], 0, NULL);
    assert_non_null(j);
    return j;
}

/* The next reply or error, skipping events. */
static json_t *next_answer(struct peer *p)
{
    for (;;) {
        json_t *f = next_frame(p);
        if (strcmp(json_string_value(json_object_get(f, "type")), "event") != 0)
            return f;
        json_decref(f);
    }
}

/* Sends a request and returns the reply's result (asserting success). */
static json_t *call_ok(struct world *w, struct peer *p, const char *json)
{
    send_text(w, p, json);
    json_t *f = next_answer(p);
    if (strcmp(json_string_value(json_object_get(f, "type")), "reply") != 0)
        fail_msg("expected a reply to %s, got %s", json, p->frames[p->read - 1]);
    json_t *r = json_incref(json_object_get(f, "result"));
    json_decref(f);
    return r;
}

static void expect_error(struct world *w, struct peer *p, const char *json, const char *code)
{
    send_text(w, p, json);
    json_t *f = next_answer(p);
    assert_string_equal(json_string_value(json_object_get(f, "type")), "error");
    const char *got = json_string_value(json_object_get(json_object_get(f, "error"), "code"));
    if (strcmp(got, code) != 0)
        fail_msg("%s: expected %s, got %s", json, code, p->frames[p->read - 1]);
    json_decref(f);
}

static void connect_as(struct world *w, struct peer *p, const char *token, int64_t since)
{
    p->conn = sig_hub_open(w->hub, p, "127.0.0.1", w->now);
    assert_non_null(p->conn);
    char buf[160];
    if (since >= 0)
        snprintf(buf, sizeof buf, "{\"id\":1,\"type\":\"hello\",\"token\":\"%s\",\"since\":%lld}",
                 token, (long long)since);
    else
        snprintf(buf, sizeof buf, "{\"id\":1,\"type\":\"hello\",\"token\":\"%s\"}", token);
    json_decref(call_ok(w, p, buf));
}

/* Skips ephemeral frames; returns the next durable event's seq and its name. */
static int64_t next_seq(struct peer *p, char *event, size_t cap)
{
    while (p->read < p->n) {
        json_t *f = next_frame(p);
        json_t *seq = json_object_get(f, "seq");
        if (seq) {
            int64_t s = json_integer_value(seq);
            snprintf(event, cap, "%s", json_string_value(json_object_get(f, "event")));
            json_decref(f);
            return s;
        }
        json_decref(f);
    }
    return 0;
}

static int64_t make_room(struct world *w, struct peer *owner, const char *members)
{
    char buf[200];
    snprintf(buf, sizeof buf, "{\"type\":\"room.create\",\"name\":\"r\",\"members\":%s}", members);
    json_t *r = call_ok(w, owner, buf);
    int64_t id = json_integer_value(json_object_get(json_object_get(r, "room"), "id"));
    json_decref(r);
    return id;
}

static void test_nothing_before_hello_and_bad_tokens(void **state)
{
    struct world *w = *state;
    struct peer p = {0};
    p.conn = sig_hub_open(w->hub, &p, "127.0.0.1", w->now);
    expect_error(w, &p, "{\"id\":1,\"type\":\"room.list\"}", "unauthorized");
    expect_error(w, &p, "{\"type\":\"hello\",\"token\":\"nope\"}", "unauthorized");
    expect_error(w, &p, "{\"type\":\"hello\"}", "bad_request");
    expect_error(w, &p, "{\"type\":\"hello\",\"token\":\"x\",\"since\":-1}", "bad_request");
    expect_error(w, &p, "not json", "bad_request");
    expect_error(w, &p, "{\"type\":1}", "bad_request");
    expect_error(w, &p, "{\"id\":{\"a\":1},\"type\":\"ping\"}", "bad_request");
    expect_error(w, &p, "{\"type\":\"ping\",\"type\":\"ping\"}", "bad_request"); /* duplicate key */
    sig_hub_closed(w->hub, p.conn, w->now);
    peer_free(&p);
}

/* Every member's stream gets the messages with increasing seqs; a reconnect
 * from any of them replays exactly the rest, in order, and nothing else. */
static void test_replay_from_every_seq_is_exact(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &b, w->tb, -1);
    char buf[200];
    snprintf(buf, sizeof buf, "[%lld]", (long long)w->bob);
    int64_t room = make_room(w, &a, buf);
    int64_t other = make_room(w, &a, "[]"); /* alice's alone: in her stream, not bob's */
    for (int i = 0; i < 20; i++) {
        snprintf(buf, sizeof buf, "{\"type\":\"message.send\",\"room\":%lld,\"body\":\"m%d\"}",
                 (long long)(i % 4 == 3 ? other : room), i);
        json_decref(call_ok(w, &a, buf));
    }
    char ev[64];
    int64_t seqs[32], s;
    size_t n = 0;
    while ((s = next_seq(&b, ev, sizeof ev)) != 0) {
        assert_true(n < 32);
        assert_true(n == 0 || s > seqs[n - 1]);
        seqs[n++] = s;
    }
    assert_int_equal(n, 16); /* room.joined + 15 messages */
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&b);
    for (size_t from = 0; from <= n; from += 3) {
        struct peer r = {0};
        connect_as(w, &r, w->tb, from ? seqs[from - 1] : 0);
        size_t next = from;
        while ((s = next_seq(&r, ev, sizeof ev)) != 0) {
            assert_true(next < n);
            assert_int_equal(s, seqs[next++]);
        }
        assert_int_equal(next, n);
        sig_hub_closed(w->hub, r.conn, w->now);
        peer_free(&r);
    }
    sig_hub_closed(w->hub, a.conn, w->now);
    peer_free(&a);
}

static void test_resync_when_since_is_from_the_future(void **state)
{
    struct world *w = *state;
    struct peer b = {0};
    b.conn = sig_hub_open(w->hub, &b, "127.0.0.1", w->now);
    char buf[160];
    snprintf(buf, sizeof buf, "{\"type\":\"hello\",\"token\":\"%s\",\"since\":99}", w->tb);
    json_t *r = call_ok(w, &b, buf);
    assert_true(json_is_true(json_object_get(r, "resync")));
    json_decref(r);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&b);
}

static void test_outsiders_cannot_act_in_a_room(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, c = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &c, w->tc, -1);
    int64_t room = make_room(w, &a, "[]");
    const char *types[] = {"message.send", "message.history", "typing", "room.members",
                           "call.invite", "room.invite"};
    char buf[200];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"room\":%lld,\"body\":\"x\",\"user\":1}",
                 types[i], (long long)room);
        expect_error(w, &c, buf, "forbidden");
    }
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, c.conn, w->now);
    peer_free(&a);
    peer_free(&c);
}

static void test_rate_limit_then_recovery(void **state)
{
    struct world *w = *state;
    struct peer a = {0};
    connect_as(w, &a, w->ta, -1);
    int limited = 0;
    for (unsigned i = 0; i < w->cfg.rate_burst + 10; i++) {
        char req[64];
        snprintf(req, sizeof req, "{\"id\":%u,\"type\":\"ping\"}", 100 + i);
        send_text(w, &a, req);
        json_t *f = next_answer(&a);
        /* every answer, a refusal too, names its request so the caller's wait ends */
        assert_int_equal(json_integer_value(json_object_get(f, "id")), 100 + i);
        limited += strcmp(json_string_value(json_object_get(f, "type")), "error") == 0;
        json_decref(f);
    }
    assert_true(limited >= 10);
    w->now += 1000; /* a second refills rate_per_s tokens */
    json_decref(call_ok(w, &a, "{\"type\":\"ping\"}"));
    assert_int_equal(a.close_code, 0);
    sig_hub_closed(w->hub, a.conn, w->now);
    peer_free(&a);
}

static void test_oversized_frame_and_full_queue_close_only_that_connection(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &b, w->tb, -1);
    char *big = malloc(w->cfg.max_frame + 2);
    memset(big, ' ', w->cfg.max_frame + 1);
    big[w->cfg.max_frame + 1] = '\0';
    send_text(w, &a, big);
    free(big);
    assert_int_equal(a.close_code, 1009);

    char buf[200];
    snprintf(buf, sizeof buf, "[%lld]", (long long)w->alice);
    int64_t room = make_room(w, &b, buf);
    b.refuse_after = (int)b.n; /* b stops reading */
    snprintf(buf, sizeof buf, "{\"type\":\"message.send\",\"room\":%lld,\"body\":\"x\"}",
             (long long)room);
    send_text(w, &b, buf); /* the reply cannot be queued */
    assert_int_equal(b.close_code, 1008);
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

/* The call rings until the deadline the hub reports, then ends with "timeout". */
static void test_unanswered_call_times_out_at_its_deadline(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &b, w->tb, -1);
    char buf[200];
    snprintf(buf, sizeof buf, "[%lld]", (long long)w->bob);
    int64_t room = make_room(w, &a, buf);
    snprintf(buf, sizeof buf, "{\"type\":\"call.invite\",\"room\":%lld}", (long long)room);
    json_decref(call_ok(w, &a, buf));
    assert_int_equal(sig_hub_next_deadline(w->hub), w->now + w->cfg.ring_timeout_ms);
    size_t before = a.n;
    sig_hub_tick(w->hub, w->now + w->cfg.ring_timeout_ms - 1);
    assert_int_equal(a.n, before);
    sig_hub_tick(w->hub, w->now + w->cfg.ring_timeout_ms);
    assert_int_equal(a.n, before + 1);
    assert_non_null(strstr(a.frames[a.n - 1], "\"reason\":\"timeout\""));
    assert_int_equal(sig_hub_next_deadline(w->hub), INT64_MAX);
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

static void test_stats_follow_connections(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, a2 = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &a2, w->ta, -1);
    struct sig_hub_stats st;
    sig_hub_stats(w->hub, &st);
    assert_int_equal(st.connections, 2);
    assert_int_equal(st.authenticated, 2);
    assert_int_equal(st.users_online, 1);
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, a2.conn, w->now);
    sig_hub_stats(w->hub, &st);
    assert_int_equal(st.connections, 0);
    assert_int_equal(st.users_online, 0);
    peer_free(&a);
    peer_free(&a2);
}

/* Quiet connections are pinged, a pong keeps them, silence closes them. */
static void test_idle_connections_are_pinged_then_closed(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &b, w->tb, -1);
    int64_t t0 = w->now;
    sig_hub_tick(w->hub, t0 + SIG_HUB_PING_AFTER_MS - 1);
    assert_int_equal(a.pings + b.pings, 0);
    sig_hub_tick(w->hub, t0 + SIG_HUB_PING_AFTER_MS + SIG_HUB_IDLE_SCAN_MS);
    assert_int_equal(a.pings, 1);
    assert_int_equal(b.pings, 1);
    sig_hub_alive(w->hub, a.conn, t0 + SIG_HUB_PING_AFTER_MS + SIG_HUB_IDLE_SCAN_MS + 1);
    sig_hub_tick(w->hub, t0 + SIG_HUB_IDLE_CLOSE_MS + 2 * SIG_HUB_IDLE_SCAN_MS);
    assert_int_equal(b.close_code, 1001); /* never answered */
    assert_int_equal(a.close_code, 0);    /* answered the ping */
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

/* A user disabled outside signald loses open connections within a minute. */
static void test_sessions_ended_elsewhere_are_closed(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &b, w->tb, -1);
    assert_int_equal(sto_user_set_disabled(w->fx->db, w->bob, true), 0);
    int64_t t = w->now + 60000 + SIG_HUB_IDLE_SCAN_MS;
    sig_hub_alive(w->hub, a.conn, t - 1);
    sig_hub_alive(w->hub, b.conn, t - 1);
    sig_hub_tick(w->hub, t);
    assert_int_equal(b.close_code, 4001);
    assert_int_equal(a.close_code, 0);
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

/* Missing more than the send queue can hold means resync, not a connection
 * that is closed by its own replay on every reconnect. */
static void test_huge_backlog_means_resync(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    char buf[200];
    snprintf(buf, sizeof buf, "[%lld]", (long long)w->bob);
    int64_t room = make_room(w, &a, buf);
    char *msg = malloc(70000);
    int len = snprintf(msg, 70000, "{\"type\":\"message.send\",\"room\":%lld,\"body\":\"",
                       (long long)room);
    memset(msg + len, 'x', 60000);
    strcpy(msg + len + 60000, "\"}");
    for (int i = 0; i < 90; i++) { /* 90 x 60 KB > 4 MiB */
        w->now += 1000;
        json_decref(call_ok(w, &a, msg));
    }
    free(msg);
    connect_as(w, &b, w->tb, 0);
    int resync = 0, events = 0;
    while (b.read < b.n) {
        json_t *f = next_frame(&b);
        const char *ev = json_string_value(json_object_get(f, "event"));
        resync += ev && strcmp(ev, "resync") == 0;
        events += json_object_get(f, "seq") != NULL;
        json_decref(f);
    }
    assert_int_equal(resync, 1);
    assert_true(events < 90);
    assert_int_equal(b.close_code, 0);
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

/* Requests of one turn share a commit: nothing is acknowledged and no event
 * goes out before it, then everything does, in order. */
static void test_replies_wait_for_the_turns_commit(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    connect_as(w, &b, w->tb, -1);
    char buf[200];
    snprintf(buf, sizeof buf, "[%lld]", (long long)w->bob);
    int64_t room = make_room(w, &a, buf);
    size_t a0 = a.n, b0 = b.n;
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "{\"id\":%d,\"type\":\"message.send\",\"room\":%lld,\"body\":\"m%d\"}",
                 i, (long long)room, i);
        sig_hub_recv(w->hub, a.conn, buf, strlen(buf), w->now); /* one turn, no flush */
    }
    assert_int_equal(a.n, a0); /* held */
    assert_int_equal(b.n, b0);
    sig_hub_flush(w->hub);
    assert_int_equal(b.n - b0, 3); /* bob: three message.new, in order */
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(b.frames[b0 + (size_t)i], "\"body\":\"m"));
    assert_true(strstr(b.frames[b0], "m0") && strstr(b.frames[b0 + 2], "m2"));
    /* alice: each message's event, then its reply */
    assert_int_equal(a.n - a0, 6);
    assert_non_null(strstr(a.frames[a0 + 1], "\"type\":\"reply\""));
    assert_non_null(strstr(a.frames[a0 + 1], "\"id\":0"));
    assert_non_null(strstr(a.frames[a0 + 5], "\"id\":2"));
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

/* Only a client that said "batch": true gets events through send_event
 * (which the glue may batch), live and replayed; replies and errors always
 * go through send, in their place. */
static void test_only_batch_clients_get_batchable_events(void **state)
{
    struct world *w = *state;
    struct peer a = {0}, b = {0};
    connect_as(w, &a, w->ta, -1);
    b.conn = sig_hub_open(w->hub, &b, "127.0.0.1", w->now);
    char buf[200];
    snprintf(buf, sizeof buf, "{\"id\":1,\"type\":\"hello\",\"token\":\"%s\",\"batch\":true}",
             w->tb);
    json_decref(call_ok(w, &b, buf));
    snprintf(buf, sizeof buf, "[%lld]", (long long)w->bob);
    int64_t room = make_room(w, &a, buf);
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "{\"type\":\"message.send\",\"room\":%lld,\"body\":\"m%d\"}",
                 (long long)room, i);
        json_decref(call_ok(w, &a, buf));
    }
    json_decref(call_ok(w, &b, "{\"id\":2,\"type\":\"ping\"}"));
    expect_error(w, &b, "{\"id\":3,\"type\":\"nope\"}", "unknown_type");
    size_t events = 0;
    for (size_t i = 0; i < b.n; i++) {
        bool is_event = strstr(b.frames[i], "{\"type\":\"event\"") == b.frames[i];
        assert_int_equal(b.event[i], is_event);
        events += is_event;
    }
    assert_true(events >= 4); /* room.joined and three messages */
    for (size_t i = 0; i < a.n; i++)
        assert_false(a.event[i]);
    /* the replay of a batching client too */
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&b);
    b.conn = sig_hub_open(w->hub, &b, "127.0.0.1", w->now);
    snprintf(buf, sizeof buf,
             "{\"id\":1,\"type\":\"hello\",\"token\":\"%s\",\"since\":0,\"batch\":true}", w->tb);
    json_decref(call_ok(w, &b, buf));
    assert_false(b.event[0]); /* the hello reply */
    assert_true(b.n >= 5);
    for (size_t i = 1; i < b.n; i++)
        assert_true(b.event[i]);
    sig_hub_closed(w->hub, a.conn, w->now);
    sig_hub_closed(w->hub, b.conn, w->now);
    peer_free(&a);
    peer_free(&b);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_nothing_before_hello_and_bad_tokens),
        T(test_replay_from_every_seq_is_exact),
        T(test_resync_when_since_is_from_the_future),
        T(test_outsiders_cannot_act_in_a_room),
        T(test_rate_limit_then_recovery),
        T(test_oversized_frame_and_full_queue_close_only_that_connection),
        T(test_unanswered_call_times_out_at_its_deadline),
        T(test_stats_follow_connections),
        T(test_idle_connections_are_pinged_then_closed),
        T(test_sessions_ended_elsewhere_are_closed),
        T(test_huge_backlog_means_resync),
        T(test_replies_wait_for_the_turns_commit),
        T(test_only_batch_clients_get_batchable_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
