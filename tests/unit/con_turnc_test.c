/*
 * con_turnc_test.c - the console's TURN client messages (appliance/console/
 * src/turnc.c) against answers built with lanturn's STUN codec: the
 * shared-secret credential, the 401 challenge, an authenticated Allocate and
 * its relayed address, answers that are not ours or lack integrity, wrong
 * credentials, a stale nonce, and Data indications.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "turnc.h"

static const uint8_t TID[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* An answer of class cls to the request in flight. */
static size_t answer(const struct con_turnc *t, enum stun_class cls, int code, bool with_realm,
                     const uint8_t *key, const struct stun_addr *relayed, uint8_t *buf, size_t cap)
{
    struct stun_builder b;
    stun_build_init(&b, buf, cap, t->method, cls, t->tid);
    if (code)
        stun_put_error(&b, code, NULL);
    if (with_realm) {
        stun_put_str(&b, STUN_ATTR_REALM, "lanturn");
        stun_put_str(&b, STUN_ATTR_NONCE, code == 438 ? "fresh-nonce" : "first-nonce");
    }
    if (relayed) {
        stun_put_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, relayed, true);
        stun_put_u32(&b, STUN_ATTR_LIFETIME, 600);
    }
    if (key)
        stun_put_integrity(&b, key, STUN_LONG_TERM_KEY_LEN);
    stun_put_fingerprint(&b);
    size_t len = 0;
    assert_int_equal(stun_build_finish(&b, &len), 0);
    return len;
}

static void challenged(struct con_turnc *t)
{
    uint8_t req[600], ans[600];
    size_t len;
    int code = 0;
    char why[100];
    assert_int_equal(con_turnc_credential(t, "test secret", 1700000000, "console-selftest"), 0);
    assert_int_equal(con_turnc_allocate(t, TID, req, sizeof req, &len), 0);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, req, len), 0);
    assert_null(stun_find(&m, STUN_ATTR_USERNAME)); /* the first try goes without */
    size_t n = answer(t, STUN_ERROR, 401, true, NULL, NULL, ans, sizeof ans);
    assert_int_equal(con_turnc_answer(t, ans, n, &code, why, sizeof why), CON_TURNC_CHALLENGE);
}

static void credential_is_the_shared_secret_scheme(void **state)
{
    (void)state;
    struct con_turnc t = {0};
    assert_int_equal(con_turnc_credential(&t, "test secret", 1700000000, "console-selftest"), 0);
    assert_string_equal(t.user, "1700000000:console-selftest");
    /* printf %s 1700000000:console-selftest | openssl dgst -sha1 -hmac 'test secret' -binary | base64 */
    assert_string_equal(t.pass, "WJq2SYx5JHN0rY47K+pu0zYeDLM=");
}

static void allocate_after_challenge_yields_relayed_address(void **state)
{
    (void)state;
    struct con_turnc t = {0};
    challenged(&t);
    uint8_t req[600], ans[600];
    size_t len;
    assert_int_equal(con_turnc_allocate(&t, TID, req, sizeof req, &len), 0);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, req, len), 0);
    assert_non_null(stun_find(&m, STUN_ATTR_USERNAME));
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("1700000000:console-selftest", "lanturn", "WJq2SYx5JHN0rY47K+pu0zYeDLM=", key);
    assert_true(stun_check_integrity(&m, key, sizeof key));

    struct stun_addr relayed;
    assert_int_equal(stun_addr_parse("192.0.2.7:50000", &relayed), 0);
    int code = 0;
    char why[100];
    /* an answer to another transaction is not ours */
    uint8_t other[STUN_TID_LEN];
    memcpy(other, t.tid, sizeof other);
    t.tid[0] ^= 0xff;
    size_t n = answer(&t, STUN_SUCCESS, 0, false, key, &relayed, ans, sizeof ans);
    memcpy(t.tid, other, sizeof other);
    assert_int_equal(con_turnc_answer(&t, ans, n, &code, why, sizeof why), CON_TURNC_NOT_OURS);
    /* a success without integrity is refused */
    n = answer(&t, STUN_SUCCESS, 0, false, NULL, &relayed, ans, sizeof ans);
    assert_int_equal(con_turnc_answer(&t, ans, n, &code, why, sizeof why), CON_TURNC_REFUSED);
    assert_non_null(strstr(why, "MESSAGE-INTEGRITY"));
    n = answer(&t, STUN_SUCCESS, 0, false, key, &relayed, ans, sizeof ans);
    assert_int_equal(con_turnc_answer(&t, ans, n, &code, why, sizeof why), CON_TURNC_DONE);
    assert_true(stun_addr_equal(&t.relayed, &relayed));
    assert_int_equal(t.lifetime, 600);
}

static void wrong_credentials_and_stale_nonce(void **state)
{
    (void)state;
    struct con_turnc t = {0};
    challenged(&t);
    uint8_t req[600], ans[600];
    size_t len, n;
    int code = 0;
    char why[100];
    /* a stale nonce: learn the new one and go again */
    assert_int_equal(con_turnc_allocate(&t, TID, req, sizeof req, &len), 0);
    n = answer(&t, STUN_ERROR, 438, true, NULL, NULL, ans, sizeof ans);
    assert_int_equal(con_turnc_answer(&t, ans, n, &code, why, sizeof why), CON_TURNC_CHALLENGE);
    assert_string_equal(t.nonce, "fresh-nonce");
    /* a 401 to credentials already sent: they are wrong */
    assert_int_equal(con_turnc_allocate(&t, TID, req, sizeof req, &len), 0);
    n = answer(&t, STUN_ERROR, 401, true, NULL, NULL, ans, sizeof ans);
    assert_int_equal(con_turnc_answer(&t, ans, n, &code, why, sizeof why), CON_TURNC_REFUSED);
    assert_int_equal(code, 401);
    assert_string_equal(why, "Unauthorized");
}

static void data_indication(void **state)
{
    (void)state;
    uint8_t buf[200];
    struct stun_builder b;
    struct stun_addr peer, got;
    assert_int_equal(stun_addr_parse("198.51.100.1:40000", &peer), 0);
    stun_build_init(&b, buf, sizeof buf, TURN_DATA, STUN_INDICATION, TID);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer, true);
    stun_put_attr(&b, STUN_ATTR_DATA, "hello", 5);
    size_t len;
    assert_int_equal(stun_build_finish(&b, &len), 0);
    const uint8_t *data;
    size_t dlen;
    assert_int_equal(con_turnc_data(buf, len, &got, &data, &dlen), 0);
    assert_true(stun_addr_equal(&got, &peer));
    assert_int_equal(dlen, 5);
    assert_memory_equal(data, "hello", 5);
    /* a Send indication is not a Data indication */
    struct con_turnc t = {0};
    assert_int_equal(con_turnc_send(&t, TID, &peer, "hello", 5, buf, sizeof buf, &len), 0);
    assert_int_equal(con_turnc_data(buf, len, &got, &data, &dlen), -EBADMSG);
    assert_int_equal(con_turnc_data(buf, 10, &got, &data, &dlen), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credential_is_the_shared_secret_scheme),
        cmocka_unit_test(allocate_after_challenge_yields_relayed_address),
        cmocka_unit_test(wrong_credentials_and_stale_nonce),
        cmocka_unit_test(data_indication),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
