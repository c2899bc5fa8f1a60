/*
 * sto_search_test.c - full-text search: English and Japanese through the
 * trigram index, 1-2 character queries through the LIKE fallback, the index
 * following edits and deletes, membership restriction, query text taken
 * literally, and the snippet helper.
 */
#include "fixture.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct world {
    int64_t alice, bob, mallory, room, secret;
};

static struct world make_world(struct fx *f)
{
    struct world w;
    w.alice = fx_user(f, "alice");
    w.bob = fx_user(f, "bob");
    w.mallory = fx_user(f, "mallory");
    w.room = fx_group(f, w.alice, "team");
    w.secret = fx_group(f, w.bob, "secret");
    assert_int_equal(sto_member_add(f->db, w.room, w.bob, STO_ROLE_MEMBER), 0);
    assert_int_equal(sto_member_add(f->db, w.room, w.mallory, STO_ROLE_MEMBER), 0);
    return w;
}

/* The ids found for user/query, newest first, in ids[] (at most 16). */
static size_t find(struct fx *f, int64_t user, const char *query, int64_t *ids)
{
    struct sto_search_hit *h;
    size_t n;
    int rc = sto_search(f->db, user, query, 0, 16, &h, &n);
    if (rc != 0) fail_msg("search \"%s\": %d %s", query, rc, sto_errmsg(f->db));
    for (size_t i = 0; i < n; i++) {
        ids[i] = h[i].message_id;
        if (i > 0) assert_true(ids[i] < ids[i - 1]);
    }
    sto_search_free(h, n);
    return n;
}

static void test_english_word_is_found(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t fox = fx_msg(f, w.room, w.alice, "the quick brown fox");
    fx_msg(f, w.room, w.alice, "a lazy dog");
    int64_t ids[16];
    assert_int_equal(find(f, w.bob, "brown", ids), 1);
    assert_int_equal(ids[0], fox);
    assert_int_equal(find(f, w.bob, "BROWN", ids), 1);     /* case-insensitive */
    assert_int_equal(find(f, w.bob, "quick fox", ids), 1); /* every term, any order */
    assert_int_equal(find(f, w.bob, "fox quick", ids), 1);
    assert_int_equal(find(f, w.bob, "quick cat", ids), 0);
    assert_int_equal(find(f, w.bob, "row", ids), 1); /* substrings match */
}

static void test_japanese_without_spaces_is_found(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t jp = fx_msg(f, w.room, w.alice, "今日は会議があります");
    fx_msg(f, w.room, w.alice, "明日は休みです");
    int64_t ids[16];
    assert_int_equal(find(f, w.bob, "会議があ", ids), 1); /* trigram index */
    assert_int_equal(ids[0], jp);
    /* 2 characters: no trigram exists, the fallback must still find it. */
    assert_int_equal(find(f, w.bob, "会議", ids), 1);
    assert_int_equal(ids[0], jp);
    assert_int_equal(find(f, w.bob, "は", ids), 2);             /* 1 character */
    assert_int_equal(find(f, w.bob, "会議\u3000今日", ids), 1); /* ideographic space splits */
    assert_int_equal(find(f, w.bob, "会議 明日", ids), 0);
}

static void test_mixed_short_and_long_terms(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t a = fx_msg(f, w.room, w.alice, "deploy to db2 tonight");
    fx_msg(f, w.room, w.alice, "deploy tomorrow");
    int64_t ids[16];
    assert_int_equal(find(f, w.bob, "deploy 2", ids), 1);
    assert_int_equal(ids[0], a);
    assert_int_equal(find(f, w.bob, "to deploy", ids), 2);
    assert_int_equal(find(f, w.bob, "DB", ids), 1);
}

static void test_search_never_crosses_membership(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t open = fx_msg(f, w.room, w.alice, "budget draft for the team");
    int64_t hidden = fx_msg(f, w.secret, w.bob, "budget cuts: mallory is out");
    fx_msg(f, w.secret, w.bob, "秘密");
    int64_t ids[16];
    assert_int_equal(find(f, w.bob, "budget", ids), 2);
    assert_int_equal(ids[0], hidden);
    assert_int_equal(find(f, w.mallory, "budget", ids), 1); /* trigram path */
    assert_int_equal(ids[0], open);
    assert_int_equal(find(f, w.mallory, "cuts", ids), 0);
    assert_int_equal(find(f, w.mallory, "秘密", ids), 0); /* fallback path */
    assert_int_equal(find(f, w.bob, "秘密", ids), 1);
    /* Leaving a room takes its messages out of one's results. */
    assert_int_equal(sto_member_remove(f->db, w.room, w.mallory), 0);
    assert_int_equal(find(f, w.mallory, "budget", ids), 0);
    assert_int_equal(find(f, w.mallory, "bu", ids), 0);
}

static void test_index_follows_edit_and_delete(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t id = fx_msg(f, w.room, w.alice, "meeting at noon");
    int64_t ids[16];
    assert_int_equal(sto_message_edit(f->db, id, w.alice, "meeting at three", NULL, 0), 0);
    assert_int_equal(find(f, w.bob, "noon", ids), 0);
    assert_int_equal(find(f, w.bob, "three", ids), 1);
    assert_int_equal(sto_message_delete(f->db, id, w.alice), 0);
    assert_int_equal(find(f, w.bob, "meeting", ids), 0);
    assert_int_equal(find(f, w.bob, "at", ids), 0);
    /* The index agrees with the table. */
    sqlite3 *raw = NULL;
    char path[256];
    fx_path(f, STO_DB_FILE, path, sizeof(path));
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "INSERT INTO messages_fts(messages_fts, rank) "
                                  "VALUES ('integrity-check', 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
}

static void test_query_text_is_taken_literally(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t pct = fx_msg(f, w.room, w.alice, "CPU at 100% now");
    int64_t quote = fx_msg(f, w.room, w.alice, "he said \"hello\" AND left");
    fx_msg(f, w.room, w.alice, "nothing special here");
    int64_t ids[16];
    assert_int_equal(find(f, w.bob, "%", ids), 1); /* not a wildcard */
    assert_int_equal(ids[0], pct);
    assert_int_equal(find(f, w.bob, "_", ids), 0);
    assert_int_equal(find(f, w.bob, "\"hello\"", ids), 1);
    assert_int_equal(ids[0], quote);
    assert_int_equal(find(f, w.bob, "AND", ids), 1); /* not an FTS operator */
    assert_int_equal(find(f, w.bob, "NEAR(", ids), 0);
    assert_int_equal(find(f, w.bob, "spec*", ids), 0); /* not a prefix query */
    assert_int_equal(find(f, w.bob, "') OR 1=1 --", ids), 0);

    struct sto_search_hit *h;
    size_t n;
    assert_int_equal(sto_search(f->db, w.bob, "", 0, 10, &h, &n), -EINVAL);
    assert_int_equal(sto_search(f->db, w.bob, "   ", 0, 10, &h, &n), -EINVAL);
    assert_int_equal(sto_search(f->db, w.bob, "a b c d e f g h i", 0, 10, &h, &n), -EINVAL);
}

static void test_results_page_newest_first(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t ids[30];
    for (int i = 0; i < 30; i++)
        ids[i] = fx_msg(f, w.room, w.alice, i % 2 ? "report ready" : "ready");
    for (int pass = 0; pass < 2; pass++) {
        const char *q = pass ? "ready" : "re"; /* index, then fallback */
        int64_t before = 0;
        int next = 29;
        for (;;) {
            struct sto_search_hit *h;
            size_t n;
            assert_int_equal(sto_search(f->db, w.bob, q, before, 7, &h, &n), 0);
            if (n == 0) {
                sto_search_free(h, n);
                break;
            }
            for (size_t i = 0; i < n; i++)
                assert_int_equal(h[i].message_id, ids[next--]);
            before = h[n - 1].message_id;
            sto_search_free(h, n);
        }
        assert_int_equal(next, -1);
    }
}

static void test_short_query_scan_is_bounded_by_the_window(void **state)
{
    struct fx *f = *state;
    sto_close(f->db);
    struct sto_config cfg;
    sto_config_init(&cfg, f->dir);
    cfg.search_short_window = 10;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open_config(&cfg, &f->db, err, sizeof(err)), 0);
    struct world w = make_world(f);
    int64_t old = fx_msg(f, w.room, w.alice, "会議 notes");
    for (int i = 0; i < 20; i++)
        fx_msg(f, w.room, w.alice, "filler");
    int64_t ids[16];
    assert_int_equal(find(f, w.bob, "会議", ids), 0);       /* older than the 10 newest */
    assert_int_equal(find(f, w.bob, "会議 notes", ids), 1); /* a long term: the index */
    /* Paging back moves the window with it. */
    struct sto_search_hit *h;
    size_t n;
    assert_int_equal(sto_search(f->db, w.bob, "会議", old + 5, 10, &h, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].message_id, old);
    sto_search_free(h, n);
}

static void test_snippet_marks_matches_and_escapes(void **state)
{
    (void)state;
    char *s;
    assert_int_equal(sto_snippet("the quick brown fox", "BROWN", "<b>", "</b>", 0, 0, &s), 0);
    assert_string_equal(s, "the quick <b>brown</b> fox");
    free(s);
    assert_int_equal(sto_snippet("今日は会議があります", "会議", "[", "]", 0, 0, &s), 0);
    assert_string_equal(s, "今日は[会議]があります");
    free(s);
    assert_int_equal(sto_snippet("a <b> & b", "b", "<mark>", "</mark>", 0, STO_SNIPPET_HTML, &s),
                     0);
    assert_string_equal(s, "a &lt;<mark>b</mark>&gt; &amp; <mark>b</mark>");
    free(s);
    /* A window around the first match of a long text, with ellipses. */
    char body[400] = "";
    for (int i = 0; i < 20; i++)
        strcat(body, "lorem ipsum ");
    strcat(body, "NEEDLE");
    for (int i = 0; i < 10; i++)
        strcat(body, " dolor sit");
    assert_int_equal(sto_snippet(body, "needle", "[", "]", 30, 0, &s), 0);
    assert_non_null(strstr(s, "[NEEDLE]"));
    assert_true(strncmp(s, "\u2026", 3) == 0);
    assert_true(strcmp(s + strlen(s) - 3, "\u2026") == 0);
    assert_true(strlen(s) <= 30 + 2 + 6);
    free(s);
    /* No match: the start of the text. */
    assert_int_equal(sto_snippet("日本語のテキストです", "zzz", "[", "]", 4, 0, &s), 0);
    assert_string_equal(s, "日本語の\u2026");
    free(s);
    assert_int_equal(sto_snippet("\xff", "a", "[", "]", 0, 0, &s), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_english_word_is_found),
        T(test_japanese_without_spaces_is_found),
        T(test_mixed_short_and_long_terms),
        T(test_search_never_crosses_membership),
        T(test_index_follows_edit_and_delete),
        T(test_query_text_is_taken_literally),
        T(test_results_page_newest_first),
        T(test_short_query_scan_is_bounded_by_the_window),
        cmocka_unit_test(test_snippet_marks_matches_and_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
