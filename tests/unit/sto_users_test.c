/*
 * sto_users_test.c - accounts, password verifiers, sessions (tokens stored
 * only as hashes, expiry, revocation, disabled users) and the audit log.
 */
#include "fixture.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void test_user_create_get_and_case_insensitive_name(void **state)
{
    struct fx *f = *state;
    int64_t id = 0;
    assert_int_equal(sto_user_create(f->db, "Alice", "Alice Liddell", true, NULL, &id), 0);
    assert_true(id > 0);
    struct sto_user u;
    assert_int_equal(sto_user_by_name(f->db, "aLiCe", &u), 0);
    assert_int_equal(u.id, id);
    assert_string_equal(u.name, "Alice");
    assert_string_equal(u.display_name, "Alice Liddell");
    assert_true(u.is_admin);
    assert_false(u.disabled);
    assert_int_equal(u.created_at, FX_START_MS);
    sto_user_clear(&u);
    assert_int_equal(sto_user_get(f->db, id + 1, &u), -ENOENT);
    assert_int_equal(sto_user_by_name(f->db, "bob", &u), -ENOENT);
    /* Without a display name the name is shown. */
    int64_t jp = fx_user(f, "山田");
    assert_int_equal(sto_user_get(f->db, jp, &u), 0);
    assert_string_equal(u.display_name, "山田");
    sto_user_clear(&u);
}

static void test_user_list_pages_by_id(void **state)
{
    struct fx *f = *state;
    char name[16];
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "user%02d", i);
        fx_user(f, name);
    }
    int64_t after = 0;
    int seen = 0;
    for (;;) {
        struct sto_user *list;
        size_t n;
        assert_int_equal(sto_user_list(f->db, after, 10, &list, &n), 0);
        if (n == 0) {
            sto_users_free(list, n);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "user%02d", seen++);
            assert_string_equal(list[i].name, name);
            assert_true(list[i].id > after);
            after = list[i].id;
        }
        sto_users_free(list, n);
    }
    assert_int_equal(seen, 25);
    struct sto_user *list;
    size_t n;
    assert_int_equal(sto_user_list(f->db, 0, 0, &list, &n), -EINVAL);
    assert_int_equal(sto_user_list(f->db, 0, STO_LIMIT_MAX + 1, &list, &n), -EINVAL);
}

static void test_password_verifier_round_trips_as_opaque_bytes(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    struct sto_password_buf got;
    assert_int_equal(sto_user_password(f->db, alice, &got), -ENOENT); /* never set */

    const uint8_t hash[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 0x7f};
    const uint8_t salt[] = {0xde, 0xad, 0x00, 0xbe, 0xef};
    struct sto_password pw = {hash, sizeof(hash), salt, sizeof(salt), "scrypt:N=16384,r=8,p=1"};
    assert_int_equal(sto_user_set_password(f->db, alice, &pw), 0);
    assert_int_equal(sto_user_password(f->db, alice, &got), 0);
    assert_int_equal(got.hash_len, sizeof(hash));
    assert_memory_equal(got.hash, hash, sizeof(hash));
    assert_int_equal(got.salt_len, sizeof(salt));
    assert_memory_equal(got.salt, salt, sizeof(salt));
    assert_string_equal(got.params, "scrypt:N=16384,r=8,p=1");
    sto_password_clear(&got);
    assert_null(got.hash);

    struct sto_password incomplete = {hash, sizeof(hash), NULL, 0, "x"};
    assert_int_equal(sto_user_set_password(f->db, alice, &incomplete), -EINVAL);
    assert_int_equal(sto_user_set_password(f->db, 9999, &pw), -ENOENT);

    int64_t bob = 0;
    assert_int_equal(sto_user_create(f->db, "bob", NULL, false, &pw, &bob), 0);
    assert_int_equal(sto_user_password(f->db, bob, &got), 0);
    assert_memory_equal(got.salt, salt, sizeof(salt));
    sto_password_clear(&got);
}

static void test_user_flags_and_display_name(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    assert_int_equal(sto_user_set_display_name(f->db, alice, "Alice A."), 0);
    assert_int_equal(sto_user_set_admin(f->db, alice, true), 0);
    struct sto_user u;
    assert_int_equal(sto_user_get(f->db, alice, &u), 0);
    assert_string_equal(u.display_name, "Alice A.");
    assert_true(u.is_admin);
    sto_user_clear(&u);
    assert_int_equal(sto_user_set_admin(f->db, 9999, true), -ENOENT);
    assert_int_equal(sto_user_set_disabled(f->db, 9999, true), -ENOENT);
}

static void test_session_token_is_stored_only_as_hash(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    char token[STO_TOKEN_LEN + 1];
    int64_t sid = 0;
    assert_int_equal(sto_session_create(f->db, alice, 3600000, "Firefox/120", token, &sid), 0);
    assert_int_equal(strlen(token), STO_TOKEN_LEN);
    assert_int_equal(
        strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        STO_TOKEN_LEN);

    /* The stored value is SHA-256(token), and the token itself is nowhere. */
    uint8_t want[32];
    assert_int_equal(sto_sha256(token, strlen(token), want), 0);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db->sql, "SELECT token_hash FROM sessions WHERE id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, sid);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(st, 0), 32);
    assert_memory_equal(sqlite3_column_blob(st, 0), want, 32);
    sqlite3_finalize(st);

    struct sto_session s;
    assert_int_equal(sto_session_get(f->db, token, &s), 0);
    assert_int_equal(s.id, sid);
    assert_int_equal(s.user_id, alice);
    assert_int_equal(s.expires_at, FX_START_MS + 3600000);
    assert_string_equal(s.user_agent, "Firefox/120");
    sto_session_clear(&s);

    /* Two sessions never share a token. */
    char other[STO_TOKEN_LEN + 1];
    assert_int_equal(sto_session_create(f->db, alice, 1000, NULL, other, NULL), 0);
    assert_string_not_equal(token, other);

    token[0] = token[0] == 'A' ? 'B' : 'A';
    assert_int_equal(sto_session_get(f->db, token, &s), -ENOENT);
    assert_int_equal(sto_session_get(f->db, "short", &s), -ENOENT);
}

static void test_session_expiry_revocation_and_disabled_user(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    char t1[STO_TOKEN_LEN + 1], t2[STO_TOKEN_LEN + 1], t3[STO_TOKEN_LEN + 1];
    int64_t s1, s2, s3;
    assert_int_equal(sto_session_create(f->db, alice, 1000, "a", t1, &s1), 0);
    assert_int_equal(sto_session_create(f->db, alice, 100000, "b", t2, &s2), 0);
    assert_int_equal(sto_session_create(f->db, alice, 100000, "c", t3, &s3), 0);
    struct sto_session s;

    f->now += 1000; /* s1 expires exactly now */
    assert_int_equal(sto_session_get(f->db, t1, &s), -EACCES);
    assert_int_equal(s.id, s1); /* still filled in, for the log */
    sto_session_clear(&s);

    assert_int_equal(sto_session_revoke(f->db, s2), 0);
    assert_int_equal(sto_session_get(f->db, t2, &s), -EACCES);
    sto_session_clear(&s);
    assert_int_equal(sto_session_revoke(f->db, 9999), -ENOENT);

    struct sto_session *list;
    size_t n;
    assert_int_equal(sto_session_list(f->db, alice, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, s3);
    sto_sessions_free(list, n);

    /* Disabling the user locks out its live session at once. */
    assert_int_equal(sto_user_set_disabled(f->db, alice, true), 0);
    assert_int_equal(sto_session_get(f->db, t3, &s), -EACCES);
    assert_true(s.revoked);
    sto_session_clear(&s);
    assert_int_equal(sto_user_set_disabled(f->db, alice, false), 0);
    assert_int_equal(sto_session_get(f->db, t3, &s), -EACCES); /* revoked stays revoked */
    sto_session_clear(&s);

    int64_t pruned = 0;
    assert_int_equal(sto_session_prune(f->db, &pruned), 0);
    assert_int_equal(pruned, 3);
    assert_int_equal(sto_session_get(f->db, t3, &s), -ENOENT);
}

static void test_session_revoke_user_keeps_the_current_one(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    char tok[4][STO_TOKEN_LEN + 1];
    int64_t sid[4];
    for (int i = 0; i < 3; i++)
        assert_int_equal(sto_session_create(f->db, alice, 100000, "x", tok[i], &sid[i]), 0);
    assert_int_equal(sto_session_create(f->db, bob, 100000, "x", tok[3], &sid[3]), 0);
    int64_t n = 0;
    assert_int_equal(sto_session_revoke_user(f->db, alice, sid[1], &n), 0);
    assert_int_equal(n, 2);
    struct sto_session s;
    assert_int_equal(sto_session_get(f->db, tok[0], &s), -EACCES);
    sto_session_clear(&s);
    assert_int_equal(sto_session_get(f->db, tok[1], &s), 0);
    sto_session_clear(&s);
    assert_int_equal(sto_session_get(f->db, tok[3], &s), 0); /* other users untouched */
    sto_session_clear(&s);
}

static void test_session_touch_writes_at_most_once_a_minute(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    char token[STO_TOKEN_LEN + 1];
    int64_t sid;
    assert_int_equal(sto_session_create(f->db, alice, 3600000, "x", token, &sid), 0);
    struct sto_session s;

    f->now += STO_SESSION_TOUCH_MS - 1;
    assert_int_equal(sto_session_touch(f->db, sid), 0);
    assert_int_equal(sto_session_get(f->db, token, &s), 0);
    assert_int_equal(s.last_seen_at, FX_START_MS); /* too soon: not written */
    sto_session_clear(&s);

    f->now += 1;
    assert_int_equal(sto_session_touch(f->db, sid), 0);
    assert_int_equal(sto_session_get(f->db, token, &s), 0);
    assert_int_equal(s.last_seen_at, f->now);
    sto_session_clear(&s);
    assert_int_equal(sto_session_touch(f->db, 9999), -ENOENT);
}

static void test_long_user_agent_is_cut_at_a_character(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    char ua[2000] = "";
    while (strlen(ua) + 3 < sizeof(ua))
        strcat(ua, "日");
    char token[STO_TOKEN_LEN + 1];
    assert_int_equal(sto_session_create(f->db, alice, 1000, ua, token, NULL), 0);
    struct sto_session s;
    assert_int_equal(sto_session_get(f->db, token, &s), 0);
    assert_true(strlen(s.user_agent) <= 512);
    assert_true(sto_utf8_valid(s.user_agent, 0));
    sto_session_clear(&s);
}

static void test_audit_log_appends_and_lists_newest_first(void **state)
{
    struct fx *f = *state;
    int64_t admin = fx_user(f, "admin");
    assert_int_equal(sto_audit_append(f->db, 0, "system.start", "", ""), 0);
    for (int i = 0; i < 5; i++) {
        f->now += 10;
        char target[32];
        snprintf(target, sizeof(target), "user:%d", i);
        assert_int_equal(sto_audit_append(f->db, admin, "user.disable", target, "{\"why\":1}"), 0);
    }
    struct sto_audit *a;
    size_t n;
    assert_int_equal(sto_audit_list(f->db, 0, 3, &a, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(a[0].target, "user:4");
    assert_string_equal(a[2].target, "user:2");
    assert_int_equal(a[0].actor_id, admin);
    assert_int_equal(a[0].at, FX_START_MS + 50);
    int64_t before = a[2].id;
    sto_audit_free(a, n);
    assert_int_equal(sto_audit_list(f->db, before, 10, &a, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(a[2].action, "system.start");
    assert_int_equal(a[2].actor_id, 0);
    sto_audit_free(a, n);
    assert_int_equal(sto_audit_append(f->db, admin, "", "", ""), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_user_create_get_and_case_insensitive_name),
        T(test_user_list_pages_by_id),
        T(test_password_verifier_round_trips_as_opaque_bytes),
        T(test_user_flags_and_display_name),
        T(test_session_token_is_stored_only_as_hash),
        T(test_session_expiry_revocation_and_disabled_user),
        T(test_session_revoke_user_keeps_the_current_one),
        T(test_session_touch_writes_at_most_once_a_minute),
        T(test_long_user_agent_is_cut_at_a_character),
        T(test_audit_log_appends_and_lists_newest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
