/*
 * sig_auth_test.c - signald's auth building blocks: scrypt verifiers (RFC 7914
 * vector), password rules, login back-off, TURN credentials in the
 * shared-secret scheme turnd verifies, and the derivation worker pool.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/kdf_pool.h"
#include "auth/limiter.h"
#include "auth/password.h"
#include "auth/turn_creds.h"

static void unhex(const char *hex, uint8_t *out)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* RFC 7914 §12, second vector: scrypt("password", "NaCl", N=1024, r=8, p=16).
 * The first 32 bytes of its 64-byte output are the 32-byte output. */
static void test_verify_matches_rfc7914_vector(void **state)
{
    (void)state;
    uint8_t hash[32];
    unhex("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162", hash);
    const char *params = "scrypt:N=1024,r=8,p=16";
    assert_int_equal(sig_password_verify("password", hash, 32, (const uint8_t *)"NaCl", 4, params), 0);
    assert_int_equal(sig_password_verify("passwore", hash, 32, (const uint8_t *)"NaCl", 4, params),
                     -EACCES);
    hash[31] ^= 1;
    assert_int_equal(sig_password_verify("password", hash, 32, (const uint8_t *)"NaCl", 4, params),
                     -EACCES);
}

static void test_hash_then_verify_with_fresh_salts(void **state)
{
    (void)state;
    struct sig_kdf kdf = {.n = SIG_KDF_MIN_N, .r = 8, .p = 1};
    struct sig_password_hash a, b;
    assert_int_equal(sig_password_hash("hunter2 hunter2", &kdf, &a), 0);
    assert_int_equal(sig_password_hash("hunter2 hunter2", &kdf, &b), 0);
    assert_memory_not_equal(a.salt, b.salt, sizeof a.salt);
    assert_memory_not_equal(a.hash, b.hash, sizeof a.hash);
    assert_string_equal(a.params, "scrypt:N=16384,r=8,p=1");
    assert_int_equal(sig_password_verify("hunter2 hunter2", a.hash, sizeof a.hash, a.salt,
                                         sizeof a.salt, a.params), 0);
    assert_int_equal(sig_password_verify("hunter2 hunter3", a.hash, sizeof a.hash, a.salt,
                                         sizeof a.salt, a.params), -EACCES);
}

static void test_bad_or_costly_params_are_refused(void **state)
{
    (void)state;
    uint8_t h[32] = {0}, s[16] = {0};
    const char *bad[] = {"", "bcrypt:12", "scrypt:N=1000,r=8,p=1", "scrypt:N=1024,r=8,p=1x",
                         "scrypt:N=1073741824,r=8,p=1", "scrypt:N=1024,r=0,p=1",
                         "scrypt:N=1024,r=8,p=99", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(sig_password_verify("x", h, 32, s, 16, bad[i]), -EINVAL);
    assert_int_equal(sig_password_verify("x", h, 31, s, 16, "scrypt:N=1024,r=8,p=1"), -EINVAL);
    struct sig_kdf weak = {.n = 8192, .r = 8, .p = 1}, odd = {.n = 20000, .r = 8, .p = 1};
    struct sig_password_hash out;
    assert_int_equal(sig_password_hash("x", &weak, &out), -EINVAL);
    assert_int_equal(sig_password_hash("x", &odd, &out), -EINVAL);
}

static void test_rehash_when_weaker_than_policy(void **state)
{
    (void)state;
    struct sig_kdf kdf;
    sig_kdf_defaults(&kdf);
    assert_true(sig_password_needs_rehash("scrypt:N=16384,r=8,p=1", &kdf));
    assert_false(sig_password_needs_rehash("scrypt:N=32768,r=8,p=1", &kdf));
    assert_false(sig_password_needs_rehash("scrypt:N=65536,r=8,p=1", &kdf));
    assert_true(sig_password_needs_rehash("junk", &kdf));
}

static void test_password_rules(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(sig_password_acceptable("short", &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(sig_password_acceptable("long enough", &why), 0);
    assert_int_equal(sig_password_acceptable("パスワードです", &why), 0);
    assert_int_equal(sig_password_acceptable("bad \xff\xfe utf8", &why), -EINVAL);
    char big[1100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sig_password_acceptable(big, &why), -EINVAL);
}

static void test_backoff_after_five_failures_doubles_and_resets(void **state)
{
    (void)state;
    struct sig_limiter *l = sig_limiter_new(64);
    int64_t t = 1000000;
    for (int i = 0; i < SIG_LIMIT_FREE_FAILURES - 1; i++) {
        assert_int_equal(sig_limiter_check(l, "Alice", "10.0.0.1", t), 0);
        sig_limiter_failed(l, "Alice", "10.0.0.1", t);
    }
    assert_int_equal(sig_limiter_check(l, "alice", "10.0.0.1", t), 0);
    sig_limiter_failed(l, "alice", "10.0.0.1", t); /* the fifth */
    assert_int_equal(sig_limiter_check(l, "ALICE", "10.0.0.2", t), 1000);
    assert_int_equal(sig_limiter_check(l, "bob", "10.0.0.2", t), 0); /* others unaffected */
    t += 1000;
    assert_int_equal(sig_limiter_check(l, "alice", "10.0.0.1", t), 0);
    sig_limiter_failed(l, "alice", "10.0.0.1", t);
    assert_int_equal(sig_limiter_check(l, "alice", "10.0.0.1", t), 2000);
    sig_limiter_succeeded(l, "alice", t + 2000);
    assert_int_equal(sig_limiter_check(l, "alice", "10.0.0.3", t + 2000), 0);
    sig_limiter_free(l);
}

static void test_one_address_trying_many_names_is_throttled(void **state)
{
    (void)state;
    struct sig_limiter *l = sig_limiter_new(256);
    char name[16];
    int64_t t = 5000;
    for (int i = 0; i < SIG_LIMIT_FREE_FAILURES * SIG_LIMIT_ADDR_FACTOR; i++) {
        snprintf(name, sizeof name, "user%d", i);
        sig_limiter_failed(l, name, "192.0.2.9", t);
    }
    assert_true(sig_limiter_check(l, "someone-new", "192.0.2.9", t) > 0);
    assert_int_equal(sig_limiter_check(l, "someone-new", "192.0.2.10", t), 0);
    sig_limiter_free(l);
}

static void test_full_table_reuses_the_quietest_entry(void **state)
{
    (void)state;
    struct sig_limiter *l = sig_limiter_new(4);
    char name[16];
    for (int i = 0; i < 100; i++) { /* many names from many addresses: bounded */
        snprintf(name, sizeof name, "n%d", i);
        sig_limiter_failed(l, name, name, i);
    }
    assert_int_equal(sig_limiter_check(l, "n0", "n0", 100), 0);
    sig_limiter_free(l);
}

/* The same value as `printf 1700000000:42 | openssl dgst -sha1 -hmac s3cret -binary | base64`. */
static void test_turn_credentials_match_the_rest_scheme(void **state)
{
    (void)state;
    char user[SIG_TURN_USERNAME_MAX], pass[SIG_TURN_PASSWORD_MAX];
    assert_int_equal(sig_turn_credentials("s3cret", 42, 1700000000, user, pass), 0);
    assert_string_equal(user, "1700000000:42");
    assert_string_equal(pass, "pkGfLzidB0U1T2lLkxNy/vgk7ZE=");
    assert_int_equal(sig_turn_credentials("", 42, 1700000000, user, pass), -EINVAL);
    assert_int_equal(sig_turn_credentials("s", 0, 1700000000, user, pass), -EINVAL);
}

/* A pool job that waits for a byte on a pipe, so a test decides when the
 * work ends, and records which threads ran it. */
struct gate_job {
    struct sig_kdf_job job;
    int gate;
    pthread_t worked_on, done_on;
    bool done, cancelled;
};

static void gate_work(struct sig_kdf_job *j)
{
    struct gate_job *g = (struct gate_job *)j;
    char c;
    assert_int_equal(read(g->gate, &c, 1), 1);
    g->worked_on = pthread_self();
}

static void gate_done(struct sig_kdf_job *j)
{
    struct gate_job *g = (struct gate_job *)j;
    g->done = true;
    g->cancelled = j->cancelled;
    g->done_on = pthread_self();
}

static void open_gates(int fd, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(write(fd, "x", 1), 1);
}

/* Waits on the pool's fd (no deadline is asserted) until n jobs came back. */
static void drain_n(struct sig_kdf_pool *p, unsigned n)
{
    unsigned got = 0;
    while (got < n) {
        struct pollfd f = {sig_kdf_pool_fd(p), POLLIN, 0};
        assert_true(poll(&f, 1, 60000) >= 0);
        got += sig_kdf_pool_drain(p);
    }
}

static void test_pool_works_on_its_threads_and_finishes_on_the_callers(void **state)
{
    (void)state;
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    struct sig_kdf_pool *p = sig_kdf_pool_new(2, 8);
    assert_non_null(p);
    struct gate_job g[3];
    for (int i = 0; i < 3; i++) {
        g[i] = (struct gate_job){.job = {.work = gate_work, .done = gate_done}, .gate = gate[0]};
        assert_int_equal(sig_kdf_pool_submit(p, &g[i].job), 0);
    }
    /* Nothing is finished before the work may end. */
    assert_int_equal(sig_kdf_pool_drain(p), 0);
    open_gates(gate[1], 3);
    drain_n(p, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(g[i].done);
        assert_false(g[i].cancelled);
        assert_false(pthread_equal(g[i].worked_on, pthread_self()));
        assert_true(pthread_equal(g[i].done_on, pthread_self()));
    }
    assert_int_equal(sig_kdf_pool_outstanding(p), 0);
    sig_kdf_pool_free(p);
    close(gate[0]);
    close(gate[1]);
}

static void test_pool_refuses_jobs_past_its_bound_until_drained(void **state)
{
    (void)state;
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    struct sig_kdf_pool *p = sig_kdf_pool_new(1, 2);
    struct gate_job g[4];
    for (int i = 0; i < 4; i++)
        g[i] = (struct gate_job){.job = {.work = gate_work, .done = gate_done}, .gate = gate[0]};
    assert_int_equal(sig_kdf_pool_submit(p, &g[0].job), 0);
    assert_int_equal(sig_kdf_pool_submit(p, &g[1].job), 0);
    assert_int_equal(sig_kdf_pool_submit(p, &g[2].job), -EBUSY);
    assert_int_equal(sig_kdf_pool_outstanding(p), 2);
    /* Finished but not yet drained still counts: the loop has not had it back. */
    open_gates(gate[1], 1);
    struct pollfd f = {sig_kdf_pool_fd(p), POLLIN, 0};
    assert_int_equal(poll(&f, 1, 60000), 1);
    assert_int_equal(sig_kdf_pool_submit(p, &g[2].job), -EBUSY);
    drain_n(p, 1);
    assert_true(g[0].done);
    assert_int_equal(sig_kdf_pool_submit(p, &g[2].job), 0);
    assert_int_equal(sig_kdf_pool_submit(p, &g[3].job), -EBUSY);
    open_gates(gate[1], 2);
    drain_n(p, 2);
    assert_true(g[1].done && g[2].done);
    assert_false(g[3].done);
    sig_kdf_pool_free(p);
    close(gate[0]);
    close(gate[1]);
}

static void test_pool_free_hands_back_every_job_cancelled(void **state)
{
    (void)state;
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    struct sig_kdf_pool *p = sig_kdf_pool_new(1, 4);
    struct gate_job g[3];
    for (int i = 0; i < 3; i++) {
        g[i] = (struct gate_job){.job = {.work = gate_work, .done = gate_done}, .gate = gate[0]};
        assert_int_equal(sig_kdf_pool_submit(p, &g[i].job), 0);
    }
    open_gates(gate[1], 3); /* the running one can end; the waiting ones never start */
    sig_kdf_pool_free(p);
    for (int i = 0; i < 3; i++) {
        assert_true(g[i].done);
        assert_true(g[i].cancelled);
    }
    close(gate[0]);
    close(gate[1]);
    assert_null(sig_kdf_pool_new(0, 4));
    assert_null(sig_kdf_pool_new(1, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_matches_rfc7914_vector),
        cmocka_unit_test(test_hash_then_verify_with_fresh_salts),
        cmocka_unit_test(test_bad_or_costly_params_are_refused),
        cmocka_unit_test(test_rehash_when_weaker_than_policy),
        cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_backoff_after_five_failures_doubles_and_resets),
        cmocka_unit_test(test_one_address_trying_many_names_is_throttled),
        cmocka_unit_test(test_full_table_reuses_the_quietest_entry),
        cmocka_unit_test(test_turn_credentials_match_the_rest_scheme),
        cmocka_unit_test(test_pool_works_on_its_threads_and_finishes_on_the_callers),
        cmocka_unit_test(test_pool_refuses_jobs_past_its_bound_until_drained),
        cmocka_unit_test(test_pool_free_hands_back_every_job_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
