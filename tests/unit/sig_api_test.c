/*
 * sig_api_test.c - the HTTP API's password routes with the derivation worker
 * pool: logins answered later from the pool, wrong passwords still counted by
 * the back-off limiter (also when the client went away), the bound on jobs
 * answered 503 "busy", and the token routes answered at once while the pool is
 * full. A real database in a temporary directory; the pool's real threads.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"
#include "auth/limiter.h"
#include "fixture.h"
#include "hub/hub.h"

struct answer {
    struct sig_api_waiter w;
    bool got;
    int status;
    int retry_after;
    char body[512];
};

static void on_reply(struct sig_api_waiter *w, struct sig_http_reply *r)
{
    struct answer *a = (struct answer *)w;
    a->got = true;
    a->status = r->status;
    a->retry_after = r->retry_after_s;
    snprintf(a->body, sizeof a->body, "%s", r->body ? r->body : "{}");
}

static int fake_send(void *ctx, void *handle, const char *text, size_t len)
{
    (void)ctx, (void)handle, (void)text, (void)len;
    return 0;
}

static void fake_close(void *ctx, void *handle, int code, const char *reason)
{
    (void)ctx, (void)handle, (void)code, (void)reason;
}

static void fake_ping(void *ctx, void *handle)
{
    (void)ctx, (void)handle;
}

static int64_t fixed_clock(void)
{
    return 5000000;
}

struct world {
    struct fx *fx;
    struct sig_hub_config hub_cfg;
    struct sig_hub_env env;
    struct sig_hub *hub;
    struct sig_api_config cfg;
    struct sig_api *api;
};

static int64_t add_user(struct world *w, const char *name, const char *password)
{
    struct sig_password_hash h;
    struct sig_kdf kdf = {SIG_KDF_MIN_N, 8, 1};
    assert_int_equal(sig_password_hash(password, &kdf, &h), 0);
    struct sto_password pw = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    int64_t id = 0;
    assert_int_equal(sto_user_create(w->fx->db, name, name, false, &pw, &id), 0);
    return id;
}

/* One worker, at most two jobs out: small enough to fill from a test. */
static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    void *fxs = NULL;
    fx_setup(&fxs);
    w->fx = fxs;
    sig_hub_config_defaults(&w->hub_cfg);
    w->env = (struct sig_hub_env){.send = fake_send, .close = fake_close, .ping = fake_ping};
    w->hub = sig_hub_new(&w->hub_cfg, w->fx->db, &w->env);
    sig_api_config_defaults(&w->cfg);
    w->cfg.kdf.n = SIG_KDF_MIN_N;
    w->cfg.clock = fixed_clock;
    w->cfg.password_threads = 1;
    w->cfg.password_jobs = 2;
    w->api = sig_api_new(&w->cfg, w->fx->db, w->hub);
    assert_non_null(w->api);
    add_user(w, "alice", "correct horse");
    add_user(w, "bob", "battery staple");
    add_user(w, "carol", "carol's secret");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    sig_api_free(w->api);
    sig_hub_free(w->hub);
    void *fxs = w->fx;
    fx_teardown(&fxs);
    free(w);
    return 0;
}

static int login(struct world *w, const char *name, const char *password, struct answer *a,
                 struct sig_http_reply *now)
{
    char body[200];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}", name, password);
    memset(a, 0, sizeof *a);
    a->w.reply = on_reply;
    memset(now, 0, sizeof *now);
    return sig_api_handle_async(w->api, "POST", "/api/login", NULL, body, strlen(body),
                                "192.0.2.1", "test", fixed_clock(), &a->w, now);
}

/* Waits on the pool's fd (no deadline is asserted) until n answers came. */
static void drain_until(struct world *w, struct answer **a, size_t n)
{
    for (;;) {
        size_t got = 0;
        for (size_t i = 0; i < n; i++)
            got += a[i]->got;
        if (got == n)
            return;
        struct pollfd p = {sig_api_async_fd(w->api), POLLIN, 0};
        assert_true(poll(&p, 1, 60000) >= 0);
        sig_api_drain(w->api);
    }
}

/* Logs in (through the pool) and copies the session token. */
static void login_token(struct world *w, const char *name, const char *password, char *token)
{
    struct answer a;
    struct sig_http_reply r;
    assert_int_equal(login(w, name, password, &a, &r), SIG_API_PENDING);
    struct answer *list[] = {&a};
    drain_until(w, list, 1);
    assert_int_equal(a.status, 200);
    json_t *j = json_loads(a.body, 0, NULL);
    snprintf(token, STO_TOKEN_LEN + 1, "%s", json_string_value(json_object_get(j, "token")));
    json_decref(j);
}

static void test_login_is_answered_from_the_pool_with_a_working_token(void **state)
{
    struct world *w = *state;
    struct answer a;
    struct sig_http_reply r;
    assert_true(sig_api_async_fd(w->api) >= 0);
    assert_int_equal(login(w, "alice", "correct horse", &a, &r), SIG_API_PENDING);
    assert_int_equal(r.status, 0); /* nothing yet */
    struct answer *list[] = {&a};
    drain_until(w, list, 1);
    assert_int_equal(a.status, 200);
    json_t *j = json_loads(a.body, 0, NULL);
    const char *token = json_string_value(json_object_get(j, "token"));
    assert_non_null(token);
    int64_t uid = 0, sid = 0;
    assert_int_equal(sig_api_authenticate(w->api, token, &uid, &sid), 0);
    assert_true(uid > 0);
    json_decref(j);
}

static void test_wrong_password_fails_and_counts_toward_the_backoff(void **state)
{
    struct world *w = *state;
    struct answer a;
    struct sig_http_reply r;
    for (int i = 0; i < SIG_LIMIT_FREE_FAILURES; i++) {
        assert_int_equal(login(w, "alice", "wrong guess", &a, &r), SIG_API_PENDING);
        struct answer *list[] = {&a};
        drain_until(w, list, 1);
        assert_int_equal(a.status, 401);
    }
    /* Now even the right password waits: the failures reached the limiter. */
    assert_int_equal(login(w, "alice", "correct horse", &a, &r), 0);
    assert_int_equal(r.status, 429);
    assert_true(r.retry_after_s > 0);
    assert_false(a.got);
    sig_http_reply_clear(&r);
    /* An unknown name fails the same way. */
    assert_int_equal(login(w, "nobody", "whatever1", &a, &r), SIG_API_PENDING);
    struct answer *list[] = {&a};
    drain_until(w, list, 1);
    assert_int_equal(a.status, 401);
}

static void test_a_client_that_left_still_pays_for_wrong_guesses(void **state)
{
    struct world *w = *state;
    struct answer a;
    struct sig_http_reply r;
    for (int i = 0; i < SIG_LIMIT_FREE_FAILURES; i++) {
        assert_int_equal(login(w, "bob", "wrong guess", &a, &r), SIG_API_PENDING);
        sig_api_forget(w->api, &a.w);
        struct pollfd p = {sig_api_async_fd(w->api), POLLIN, 0};
        assert_true(poll(&p, 1, 60000) == 1);
        sig_api_drain(w->api);
        assert_false(a.got);
    }
    assert_int_equal(login(w, "bob", "battery staple", &a, &r), 0);
    assert_int_equal(r.status, 429);
    sig_http_reply_clear(&r);
}

static void test_past_the_job_bound_a_login_is_told_busy(void **state)
{
    struct world *w = *state;
    struct answer a, b, c, d;
    struct sig_http_reply r;
    assert_int_equal(login(w, "alice", "correct horse", &a, &r), SIG_API_PENDING);
    assert_int_equal(login(w, "bob", "battery staple", &b, &r), SIG_API_PENDING);
    /* Two jobs are out (password_jobs = 2): the third is refused at once. */
    assert_int_equal(login(w, "carol", "carol's secret", &c, &r), 0);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.retry_after_s, 1);
    assert_non_null(strstr(r.body, "\"busy\""));
    sig_http_reply_clear(&r);
    struct answer *list[] = {&a, &b};
    drain_until(w, list, 2);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_false(c.got);
    /* Room again once they were answered; a busy answer cost no back-off. */
    assert_int_equal(login(w, "carol", "carol's secret", &d, &r), SIG_API_PENDING);
    struct answer *one[] = {&d};
    drain_until(w, one, 1);
    assert_int_equal(d.status, 200);
}

static void test_one_login_per_name_at_a_time(void **state)
{
    struct world *w = *state;
    struct answer a, b;
    struct sig_http_reply r;
    assert_int_equal(login(w, "alice", "guess one", &a, &r), SIG_API_PENDING);
    assert_int_equal(login(w, "ALICE", "guess two", &b, &r), 0);
    assert_int_equal(r.status, 429);
    sig_http_reply_clear(&r);
    struct answer *list[] = {&a};
    drain_until(w, list, 1);
    assert_int_equal(a.status, 401);
}

static void test_token_routes_answer_at_once_while_the_pool_is_full(void **state)
{
    struct world *w = *state;
    struct answer b, c;
    struct sig_http_reply r;
    char token[STO_TOKEN_LEN + 1];
    login_token(w, "alice", "correct horse", token);
    assert_int_equal(login(w, "bob", "battery staple", &b, &r), SIG_API_PENDING);
    assert_int_equal(login(w, "carol", "carol's secret", &c, &r), SIG_API_PENDING);
    struct answer me = {.w.reply = on_reply};
    assert_int_equal(sig_api_handle_async(w->api, "GET", "/api/me", token, NULL, 0, "192.0.2.1",
                                          "test", fixed_clock(), &me.w, &r), 0);
    assert_int_equal(r.status, 200);
    sig_http_reply_clear(&r);
    assert_int_equal(sig_api_handle_async(w->api, "POST", "/api/logout", token, "{}", 2,
                                          "192.0.2.1", "test", fixed_clock(), &me.w, &r), 0);
    assert_int_equal(r.status, 200);
    sig_http_reply_clear(&r);
    int64_t uid, sid;
    assert_int_equal(sig_api_authenticate(w->api, token, &uid, &sid), -EACCES);
    struct answer *rest[] = {&b, &c};
    drain_until(w, rest, 2);
}

static void test_password_change_runs_in_the_pool(void **state)
{
    struct world *w = *state;
    struct answer ch;
    struct sig_http_reply r;
    char token[STO_TOKEN_LEN + 1];
    login_token(w, "carol", "carol's secret", token);
    const char *body = "{\"old_password\":\"carol's secret\",\"new_password\":\"a new secret\"}";
    memset(&ch, 0, sizeof ch);
    ch.w.reply = on_reply;
    assert_int_equal(sig_api_handle_async(w->api, "POST", "/api/password", token, body,
                                          strlen(body), "192.0.2.1", "test", fixed_clock(), &ch.w,
                                          &r), SIG_API_PENDING);
    struct answer *one[] = {&ch};
    drain_until(w, one, 1);
    assert_int_equal(ch.status, 200);
    login_token(w, "carol", "a new secret", token);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_login_is_answered_from_the_pool_with_a_working_token),
        T(test_wrong_password_fails_and_counts_toward_the_backoff),
        T(test_a_client_that_left_still_pays_for_wrong_guesses),
        T(test_past_the_job_bound_a_login_is_told_busy),
        T(test_one_login_per_name_at_a_time),
        T(test_token_routes_answer_at_once_while_the_pool_is_full),
        T(test_password_change_runs_in_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
