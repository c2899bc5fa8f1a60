/*
 * turn_auth_test.c - RFC 8489 authentication in the TURN core: the nonce
 * cookie and PASSWORD-ALGORITHMS, SHA-256 keys, MESSAGE-INTEGRITY-SHA256,
 * USERHASH, the downgrade checks of §9.2.4, and RFC 5389 clients that know
 * none of it. Checked against RFC 8489 Appendix B.1 (as corrected by
 * erratum 6268).
 */
#include "turn_test_env.h"

#include <stdlib.h>
#include <string.h>

/* RFC 8489 Appendix B.1 with erratum 6268 (message length 0x90 and the
 * HMAC recomputed): a Binding request with USERHASH, NONCE, REALM,
 * PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256. */
static const uint8_t b1_request[] = {
    0x00, 0x01, 0x00, 0x90, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
    0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x1e, 0x00, 0x20, 0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69,
    0x92, 0xbd, 0xa9, 0x52, 0xc6, 0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56,
    0x9e, 0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04, 0x00, 0x15, 0x00, 0x29,
    0x6f, 0x62, 0x4d, 0x61, 0x74, 0x4a, 0x6f, 0x73, 0x32, 0x41, 0x41, 0x41, 0x43, 0x66, 0x2f,
    0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34, 0x6f,
    0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00,
    0x00, 0x1d, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x20, 0xb5, 0xc7, 0xbf,
    0x00, 0x5b, 0x6c, 0x52, 0xa2, 0x1c, 0x51, 0xc5, 0xe8, 0x92, 0xf8, 0x19, 0x24, 0x13, 0x62,
    0x96, 0xcb, 0x92, 0x7c, 0x43, 0x14, 0x93, 0x09, 0x27, 0x8c, 0xc6, 0x51, 0x8e, 0x65,
};
/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 in UTF-8; "TheMatrIX" is the
 * password after OpaqueString. */
static const char b1_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                              "\xe3\x82\xb9";

static const uint8_t our_algorithms[8] = {0, 2, 0, 0, 0, 1, 0, 0}; /* SHA-256, MD5 */

static void rfc8489_b1_vector_userhash_and_sha256_integrity_verify(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, b1_request, sizeof(b1_request)), 0);
    const struct stun_attr *hash = stun_find(&m, STUN_ATTR_USERHASH);
    assert_non_null(hash);
    uint8_t want[STUN_USERHASH_LEN];
    assert_int_equal(stun_userhash(b1_user, "example.org", want), 0);
    assert_memory_equal(hash->val, want, STUN_USERHASH_LEN);

    uint8_t key[STUN_KEY_MAX];
    assert_int_equal(stun_password_key(STUN_PASSWORD_SHA256, b1_user, "example.org", "TheMatrIX",
                                       key),
                     32);
    assert_true(stun_check_integrity_sha256(&m, key, 32));
    /* The MD5 key of the same credentials, or another password, fails. */
    assert_int_equal(stun_password_key(STUN_PASSWORD_MD5, b1_user, "example.org", "TheMatrIX", key),
                     16);
    assert_false(stun_check_integrity_sha256(&m, key, 16));
    assert_int_equal(stun_password_key(STUN_PASSWORD_SHA256, b1_user, "example.org", "thematrix",
                                       key),
                     32);
    assert_false(stun_check_integrity_sha256(&m, key, 32));
    assert_int_equal(stun_password_key(0x0003, b1_user, "example.org", "TheMatrIX", key), 0);

    /* A static user configured with these credentials gets the same hash and key. */
    struct turn_core_config cfg;
    turn_core_config_defaults(&cfg);
    strcpy(cfg.realm, "example.org");
    assert_int_equal(turn_core_config_add_user(&cfg, b1_user, "TheMatrIX"), 0);
    assert_memory_equal(cfg.users[0].userhash, hash->val, STUN_USERHASH_LEN);
    assert_true(stun_check_integrity_sha256(&m, cfg.users[0].key_sha256, 32));
    turn_core_config_release(&cfg);
}

static void builder_writes_sha256_integrity_the_checker_accepts(void **state)
{
    (void)state;
    uint8_t buf[128], tid[STUN_TID_LEN] = {1}, key[32] = {7};
    struct stun_builder b;
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_put_str(&b, STUN_ATTR_USERNAME, "u");
    stun_put_integrity(&b, key, 32);
    stun_put_integrity_sha256(&b, key, 32);
    stun_put_fingerprint(&b);
    size_t len;
    assert_int_equal(stun_build_finish(&b, &len), 0);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, buf, len), 0);
    assert_true(stun_check_integrity(&m, key, 32)); /* SHA-1 covers up to itself */
    assert_true(stun_check_integrity_sha256(&m, key, 32));
    key[0] ^= 1;
    assert_false(stun_check_integrity_sha256(&m, key, 32));
}

static void first_401_carries_nonce_cookie_and_password_algorithms(void **state)
{
    struct t *t = *state;
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL), 401);
    /* A shared secret is configured: password algorithms only ("gAAA"). */
    assert_int_equal(strncmp(t->nonce, "obMatJos2gAAA", 13), 0);
    const struct stun_attr *algs = stun_find(&t->resp, STUN_ATTR_PASSWORD_ALGORITHMS);
    assert_non_null(algs);
    assert_int_equal(algs->len, sizeof(our_algorithms));
    assert_memory_equal(algs->val, our_algorithms, sizeof(our_algorithms));
    assert_null(stun_find(&t->resp, STUN_ATTR_MESSAGE_INTEGRITY));
}

static void sha256_client_allocates_and_refreshes_with_integrity_sha256(void **state)
{
    struct t *t = *state;
    uint8_t key[STUN_KEY_MAX];
    assert_int_equal(stun_password_key(STUN_PASSWORD_SHA256, "alice", "lanturn", "wonderland", key),
                     32);
    struct creds cr = {.user = "alice", .key = key, .key_len = 32, .alg = STUN_PASSWORD_SHA256,
                       .sha256 = true};
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 0);
    assert_non_null(stun_find(&t->resp, STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
    assert_null(stun_find(&t->resp, STUN_ATTR_MESSAGE_INTEGRITY));
    uint32_t lifetime = 900;
    assert_int_equal(request_with(t, &t->client, TURN_REFRESH, add_lifetime, &lifetime, &cr), 0);
    /* An error after authentication is signed the same way. */
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 437);
    assert_true(stun_check_integrity_sha256(&t->resp, key, 32));
    /* The SHA-256 key with SHA-1 integrity is a valid combination too. */
    cr.sha256 = false;
    assert_int_equal(request_with(t, &t->client, TURN_REFRESH, add_lifetime, &lifetime, &cr), 0);
    assert_non_null(stun_find(&t->resp, STUN_ATTR_MESSAGE_INTEGRITY));
}

static void md5_key_with_integrity_sha256_and_no_algorithms_is_accepted(void **state)
{
    struct t *t = *state;
    struct creds cr = {.user = "alice", .key = t->key, .key_len = 16, .sha256 = true};
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    /* Before the fix MESSAGE-INTEGRITY-SHA256 was an unknown attribute (420). */
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 0);
}

static void rfc5389_client_keeps_md5_and_message_integrity(void **state)
{
    struct t *t = *state;
    allocate_ok(t); /* no PASSWORD-ALGORITHM(S): MD5 key, as before */
    assert_non_null(stun_find(&t->resp, STUN_ATTR_MESSAGE_INTEGRITY));
    assert_null(stun_find(&t->resp, STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
}

static void add_pick_only(struct stun_builder *b, const void *arg)
{
    add_udp(b, NULL);
    const uint8_t *pick = arg;
    stun_put_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, pick, 4);
}

static void add_md5_only_list(struct stun_builder *b, const void *arg)
{
    (void)arg;
    add_udp(b, NULL);
    const uint8_t list[4] = {0, 1, 0, 0}, pick[4] = {0, 1, 0, 0};
    stun_put_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, list, 4);
    stun_put_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, pick, 4);
}

static void add_unknown_pick(struct stun_builder *b, const void *arg)
{
    (void)arg;
    add_udp(b, NULL);
    const uint8_t pick[4] = {0, 3, 0, 0};
    stun_put_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, our_algorithms, sizeof(our_algorithms));
    stun_put_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, pick, 4);
}

static void algorithm_mismatch_or_downgrade_gets_400(void **state)
{
    struct t *t = *state;
    struct creds cr = {.user = "alice", .key = t->key, .key_len = 16};
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    const uint8_t md5[4] = {0, 1, 0, 0};
    /* PASSWORD-ALGORITHM without the echoed list. */
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_pick_only, md5, &cr), 400);
    /* A list that is not the one we sent (an attacker stripped SHA-256). */
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_md5_only_list, NULL, &cr), 400);
    /* A choice that is not on the list. */
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_unknown_pick, NULL, &cr), 400);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
}

static void wrong_sha256_password_gets_401_and_counts(void **state)
{
    struct t *t = *state;
    uint8_t key[STUN_KEY_MAX];
    stun_password_key(STUN_PASSWORD_SHA256, "alice", "lanturn", "guess", key);
    struct creds cr = {.user = "alice", .key = key, .key_len = 32, .alg = STUN_PASSWORD_SHA256,
                       .sha256 = true};
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 401);
    assert_non_null(stun_find(&t->resp, STUN_ATTR_PASSWORD_ALGORITHMS));
    /* The MD5 key presented as the SHA-256 choice is wrong too. */
    cr.key = t->key;
    cr.key_len = 16;
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 401);
    assert_int_equal(turn_core_stats(t->core)->auth_failures, 2);
}

static void shared_secret_user_can_use_sha256(void **state)
{
    struct t *t = *state;
    const char *user = "1700000100:carol";
    char password[32];
    secret_password("s3cret", user, password);
    uint8_t key[STUN_KEY_MAX];
    stun_password_key(STUN_PASSWORD_SHA256, user, "lanturn", password, key);
    struct creds cr = {.user = user, .key = key, .key_len = 32, .alg = STUN_PASSWORD_SHA256,
                       .sha256 = true};
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 0);
}

/* Only static users: the server offers username anonymity. */
static void static_users_only(struct turn_core_config *cfg)
{
    free(cfg->secret);
    cfg->secret = NULL;
    cfg->max_allocations_per_user = 1;
}

static int setup_static_only(void **state)
{
    return turn_test_setup(state, static_users_only);
}

static void userhash_names_a_static_user_without_sending_the_name(void **state)
{
    struct t *t = *state;
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL), 401);
    assert_int_equal(strncmp(t->nonce, "obMatJos2wAAA", 13), 0); /* + username anonymity */
    uint8_t hash[STUN_USERHASH_LEN], key[STUN_KEY_MAX];
    stun_userhash("alice", "lanturn", hash);
    stun_password_key(STUN_PASSWORD_SHA256, "alice", "lanturn", "wonderland", key);
    struct creds cr = {.userhash = hash, .key = key, .key_len = 32, .alg = STUN_PASSWORD_SHA256,
                       .sha256 = true};
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, &cr), 0);
    /* The allocation counts as alice's: her quota of one is used up. */
    struct stun_addr second = t->client;
    second.port++;
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 486);
    /* An unknown hash is a failed authentication. */
    hash[0] ^= 1;
    assert_int_equal(request_with(t, &second, TURN_ALLOCATE, add_udp, NULL, &cr), 401);
    assert_int_equal(turn_core_stats(t->core)->auth_failures, 1);
}

static void old_style_nonce_is_stale(void **state)
{
    struct t *t = *state;
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    memmove(t->nonce, t->nonce + 13, strlen(t->nonce + 13) + 1); /* drop cookie + features */
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 438);
}

static void three_failures_a_minute(struct turn_core_config *cfg)
{
    cfg->auth_fail_limit = 3;
    cfg->auth_fail_window = 60;
}

static int setup_rate_limited(void **state)
{
    return turn_test_setup(state, three_failures_a_minute);
}

static void failed_logins_from_an_address_are_dropped_until_the_window_ends(void **state)
{
    struct t *t = *state;
    uint8_t bad[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("alice", "lanturn", "guess", bad);
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    /* A stale nonce or the unauthenticated first round are not failures. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL), 401);
    for (int i = 0; i < 3; i++)
        assert_int_equal(request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, "alice", bad),
                         401);
    /* Limit reached: even the right password from that address gets no answer,
     * from any port of it. */
    t->now += 59000;
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), -1);
    struct stun_addr other_port = t->client;
    other_port.port++;
    assert_int_equal(request_from(t, &other_port, TURN_ALLOCATE, add_udp, NULL, "alice", t->key),
                     -1);
    assert_int_equal(turn_core_stats(t->core)->auth_rate_limited, 2);
    assert_int_equal(turn_core_stats(t->core)->auth_failures, 3);
    /* Binding is not authenticated and still answered; other addresses work. */
    assert_int_equal(request_with(t, &t->client, STUN_BINDING, NULL, NULL, NULL), 0);
    struct stun_addr neighbour;
    stun_addr_parse("192.168.1.11:40000", &neighbour);
    request_with(t, &neighbour, TURN_ALLOCATE, add_udp, NULL, NULL);
    assert_int_equal(request_from(t, &neighbour, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 0);
    /* The window began with the first failure: a minute later the address is free. */
    t->now += 1000;
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL);
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 0);
}

static void failure_table_stays_bounded_under_many_addresses(void **state)
{
    struct t *t = *state;
    uint8_t bad[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("alice", "lanturn", "guess", bad);
    struct stun_addr from;
    stun_addr_parse("10.1.0.0:1000", &from);
    /* 20000 addresses into 4096 slots: old entries are replaced, nothing grows,
     * and an address being limited now is still limited. */
    for (unsigned i = 0; i < 20000; i++) {
        from.ip[2] = (uint8_t)(i >> 8);
        from.ip[3] = (uint8_t)i;
        t->f.n_sent = 0; /* the fake keeps 64 datagrams */
        request_with(t, &from, TURN_ALLOCATE, add_udp, NULL, NULL);
        assert_int_equal(request_from(t, &from, TURN_ALLOCATE, add_udp, NULL, "alice", bad), 401);
    }
    t->f.n_sent = 0;
    request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL); /* its own nonce */
    for (int i = 0; i < 3; i++)
        request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, "alice", bad);
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), -1);
}

static void five_unsigned_answers_per_ten_seconds(struct turn_core_config *cfg)
{
    cfg->unauth_answer_limit = 5;
    cfg->unauth_answer_window = 10;
}

static int setup_unauth_budget(void **state)
{
    return turn_test_setup(state, five_unsigned_answers_per_ten_seconds);
}

static void unsigned_udp_answers_stop_at_the_budget_until_the_window_ends(void **state)
{
    struct t *t = *state;
    /* One challenge (the nonce), four Bindings: the budget of five is spent. */
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL), 401);
    for (int i = 0; i < 4; i++)
        assert_int_equal(request_with(t, &t->client, STUN_BINDING, NULL, NULL, NULL), 0);
    /* From any port of the address: no Binding answer, no challenge, no 400. */
    struct stun_addr other_port = t->client;
    other_port.port++;
    assert_int_equal(request_with(t, &other_port, STUN_BINDING, NULL, NULL, NULL), -1);
    assert_int_equal(request_with(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL), -1);
    assert_int_equal(request_with(t, &t->client, TURN_REFRESH, NULL, NULL, NULL), -1);
    assert_int_equal(turn_core_stats(t->core)->unauth_dropped, 3);
    /* A signed answer needs the password: never limited. */
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 0);
    /* Other addresses have budgets of their own. */
    struct stun_addr neighbour;
    stun_addr_parse("192.168.1.11:40000", &neighbour);
    assert_int_equal(request_with(t, &neighbour, STUN_BINDING, NULL, NULL, NULL), 0);
    /* A stream's source is proven by its handshake: not limited. */
    t->conn = 7;
    assert_int_equal(request_with(t, &t->client, STUN_BINDING, NULL, NULL, NULL), 0);
    t->conn = 0;
    /* The window began with the first answer: ten seconds later, answered again. */
    t->now += 9999;
    assert_int_equal(request_with(t, &t->client, STUN_BINDING, NULL, NULL, NULL), -1);
    t->now += 1;
    assert_int_equal(request_with(t, &t->client, STUN_BINDING, NULL, NULL, NULL), 0);
    assert_int_equal(turn_core_stats(t->core)->unauth_dropped, 4);
}

static void no_unsigned_answer_budget_when_the_limit_is_zero(void **state)
{
    struct t *t = *state;
    for (int i = 0; i < 3000; i++) {
        t->f.n_sent = 0; /* the fake keeps 64 datagrams */
        assert_int_equal(request_with(t, &t->client, STUN_BINDING, NULL, NULL, NULL), 0);
    }
    assert_int_equal(turn_core_stats(t->core)->unauth_dropped, 0);
}

static void no_unsigned_answer_limit(struct turn_core_config *cfg)
{
    cfg->unauth_answer_limit = 0;
}

static int setup_no_unauth_limit(void **state)
{
    return turn_test_setup(state, no_unsigned_answer_limit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, turn_test_setup_default, turn_test_teardown)
        cmocka_unit_test(rfc8489_b1_vector_userhash_and_sha256_integrity_verify),
        cmocka_unit_test(builder_writes_sha256_integrity_the_checker_accepts),
        T(first_401_carries_nonce_cookie_and_password_algorithms),
        T(sha256_client_allocates_and_refreshes_with_integrity_sha256),
        T(md5_key_with_integrity_sha256_and_no_algorithms_is_accepted),
        T(rfc5389_client_keeps_md5_and_message_integrity),
        T(algorithm_mismatch_or_downgrade_gets_400),
        T(wrong_sha256_password_gets_401_and_counts),
        T(shared_secret_user_can_use_sha256),
        T(old_style_nonce_is_stale),
        cmocka_unit_test_setup_teardown(userhash_names_a_static_user_without_sending_the_name,
                                        setup_static_only, turn_test_teardown),
        cmocka_unit_test_setup_teardown(
            failed_logins_from_an_address_are_dropped_until_the_window_ends, setup_rate_limited,
            turn_test_teardown),
        cmocka_unit_test_setup_teardown(failure_table_stays_bounded_under_many_addresses,
                                        setup_rate_limited, turn_test_teardown),
        cmocka_unit_test_setup_teardown(
            unsigned_udp_answers_stop_at_the_budget_until_the_window_ends, setup_unauth_budget,
            turn_test_teardown),
        cmocka_unit_test_setup_teardown(no_unsigned_answer_budget_when_the_limit_is_zero,
                                        setup_no_unauth_limit, turn_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
