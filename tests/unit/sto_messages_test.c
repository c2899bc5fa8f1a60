/*
 * sto_messages_test.c - messages (insert, edit, tombstone delete, history
 * paging), reactions, mentions, read positions and unread counts.
 */
#include "fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct world {
    int64_t alice, bob, carol, room;
};

static struct world make_world(struct fx *f)
{
    struct world w;
    w.alice = fx_user(f, "alice");
    w.bob = fx_user(f, "bob");
    w.carol = fx_user(f, "carol"); /* not in the room */
    w.room = fx_group(f, w.alice, "team");
    assert_int_equal(sto_member_add(f->db, w.room, w.bob, STO_ROLE_MEMBER), 0);
    return w;
}

static void test_insert_returns_id_and_time_and_get_reads_it_back(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    struct sto_message_new m = {.room_id = w.room, .sender_id = w.bob, .body = "hello"};
    int64_t id = 0, at = 0;
    f->now += 5;
    assert_int_equal(sto_message_insert(f->db, &m, &id, &at), 0);
    assert_true(id > 0);
    assert_int_equal(at, FX_START_MS + 5);
    int64_t id2 = fx_msg(f, w.room, w.alice, "second");
    assert_true(id2 > id);

    struct sto_message got;
    assert_int_equal(sto_message_get(f->db, id, &got), 0);
    assert_int_equal(got.room_id, w.room);
    assert_int_equal(got.sender_id, w.bob);
    assert_string_equal(got.body, "hello");
    assert_int_equal(got.created_at, at);
    assert_int_equal(got.edited_at, 0);
    assert_false(got.deleted);
    sto_message_clear(&got);
    assert_int_equal(sto_message_get(f->db, id2 + 1, &got), -ENOENT);
}

static void test_insert_checks_sender_body_and_parents(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    struct sto_message_new m = {.room_id = w.room, .sender_id = w.carol, .body = "intruder"};
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EACCES);
    m.sender_id = w.bob;
    m.body = "";
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EINVAL);
    m.body = "\xc3\x28"; /* broken UTF-8 */
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EINVAL);
    char *big = malloc(STO_BODY_MAX + 2);
    memset(big, 'a', STO_BODY_MAX + 1);
    big[STO_BODY_MAX + 1] = '\0';
    m.body = big;
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EMSGSIZE);
    big[STO_BODY_MAX] = '\0';
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), 0); /* exactly the limit */
    free(big);

    /* Threads and replies stay inside their room. */
    int64_t other_room = fx_group(f, w.carol, "elsewhere");
    int64_t foreign = fx_msg(f, other_room, w.carol, "not yours");
    int64_t root = fx_msg(f, w.room, w.alice, "root");
    m.body = "reply";
    m.thread_id = foreign;
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EINVAL);
    m.thread_id = root;
    m.reply_to = foreign;
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EINVAL);
    m.reply_to = 99999;
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EINVAL);
    m.reply_to = root;
    int64_t id;
    assert_int_equal(sto_message_insert(f->db, &m, &id, NULL), 0);
    struct sto_message got;
    assert_int_equal(sto_message_get(f->db, id, &got), 0);
    assert_int_equal(got.thread_id, root);
    assert_int_equal(got.reply_to, root);
    sto_message_clear(&got);
}

static void test_edit_only_by_sender_and_marks_time(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t id = fx_msg(f, w.room, w.bob, "typo");
    f->now += 1000;
    assert_int_equal(sto_message_edit(f->db, id, w.alice, "hijack", NULL, 0), -EACCES);
    assert_int_equal(sto_message_edit(f->db, id, w.bob, "fixed", NULL, 0), 0);
    struct sto_message got;
    assert_int_equal(sto_message_get(f->db, id, &got), 0);
    assert_string_equal(got.body, "fixed");
    assert_int_equal(got.edited_at, FX_START_MS + 1000);
    assert_int_equal(got.created_at, FX_START_MS);
    sto_message_clear(&got);
    assert_int_equal(sto_message_edit(f->db, 99999, w.bob, "x", NULL, 0), -ENOENT);
    assert_int_equal(sto_message_edit(f->db, id, w.bob, "", NULL, 0), -EINVAL);
}

static void test_delete_leaves_a_tombstone(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t id = fx_msg(f, w.room, w.bob, "regrettable");
    struct sto_message_new r = {
        .room_id = w.room, .sender_id = w.alice, .body = "what?", .reply_to = id};
    int64_t reply;
    assert_int_equal(sto_message_insert(f->db, &r, &reply, NULL), 0);
    assert_int_equal(sto_reaction_add(f->db, id, w.alice, "👍"), 0);
    int64_t mention[] = {w.alice};
    assert_int_equal(sto_message_edit(f->db, id, w.bob, "regrettable @alice", mention, 1), 0);

    assert_int_equal(sto_message_delete(f->db, id, w.carol), -EACCES); /* not even a member */
    assert_int_equal(sto_message_delete(f->db, id, w.bob), 0);

    struct sto_message got;
    assert_int_equal(sto_message_get(f->db, id, &got), 0);
    assert_true(got.deleted);
    assert_string_equal(got.body, "");
    assert_int_equal(got.room_id, w.room);
    sto_message_clear(&got);
    /* The reply still points at the tombstone. */
    assert_int_equal(sto_message_get(f->db, reply, &got), 0);
    assert_int_equal(got.reply_to, id);
    sto_message_clear(&got);
    /* Reactions and mentions went with the text. */
    struct sto_reaction *re;
    size_t n;
    assert_int_equal(sto_reaction_list(f->db, id, &re, &n), 0);
    assert_int_equal(n, 0);
    sto_reactions_free(re, n);
    int64_t *users;
    assert_int_equal(sto_mention_list(f->db, id, &users, &n), 0);
    assert_int_equal(n, 0);
    free(users);

    assert_int_equal(sto_message_edit(f->db, id, w.bob, "undo", NULL, 0), -ENOENT);
    assert_int_equal(sto_reaction_add(f->db, id, w.alice, "👍"), -ENOENT);
    assert_int_equal(sto_message_delete(f->db, id, w.bob), 0); /* again: no-op */
    assert_int_equal(sto_message_delete(f->db, 99999, w.bob), -ENOENT);
}

static void test_delete_by_room_admin_and_site_admin(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t m1 = fx_msg(f, w.room, w.bob, "one"), m2 = fx_msg(f, w.room, w.bob, "two");
    int64_t m3 = fx_msg(f, w.room, w.alice, "three");
    assert_int_equal(sto_message_delete(f->db, m3, w.bob), -EACCES); /* plain member */
    assert_int_equal(sto_message_delete(f->db, m1, w.alice), 0);     /* room owner */
    assert_int_equal(sto_user_set_admin(f->db, w.carol, true), 0);
    assert_int_equal(sto_message_delete(f->db, m2, w.carol), 0); /* site admin, not a member */
}

static void test_history_pages_newest_first_without_gaps(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t other = fx_group(f, w.alice, "other");
    int64_t ids[57];
    for (int i = 0; i < 57; i++) {
        char body[16];
        snprintf(body, sizeof(body), "m%d", i);
        ids[i] = fx_msg(f, w.room, i % 2 ? w.alice : w.bob, body);
        fx_msg(f, other, w.alice, "noise");
    }
    assert_int_equal(sto_message_delete(f->db, ids[10], w.bob), 0);

    int64_t before = 0;
    int next = 56;
    for (;;) {
        struct sto_message *page;
        size_t n;
        assert_int_equal(sto_message_page(f->db, w.room, before, 20, &page, &n), 0);
        if (n == 0) {
            sto_messages_free(page, n);
            break;
        }
        assert_true(n <= 20);
        for (size_t i = 0; i < n; i++, next--) {
            assert_int_equal(page[i].id, ids[next]);
            assert_int_equal(page[i].room_id, w.room);
            assert_int_equal(page[i].deleted, next == 10); /* tombstones are in history */
        }
        before = page[n - 1].id;
        sto_messages_free(page, n);
    }
    assert_int_equal(next, -1);

    struct sto_message *after;
    size_t n;
    assert_int_equal(sto_message_after(f->db, w.room, ids[50], 100, &after, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(after[0].id, ids[51]);
    assert_int_equal(after[5].id, ids[56]);
    sto_messages_free(after, n);
    assert_int_equal(sto_message_page(f->db, w.room, 0, 0, &after, &n), -EINVAL);
}

static void test_reactions_are_unique_per_user_and_emoji(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t id = fx_msg(f, w.room, w.alice, "lunch?");
    assert_int_equal(sto_reaction_add(f->db, id, w.bob, "👍"), 0);
    f->now++;
    assert_int_equal(sto_reaction_add(f->db, id, w.alice, "👍"), 0);
    f->now++;
    assert_int_equal(sto_reaction_add(f->db, id, w.bob, "🍣"), 0);
    assert_int_equal(sto_reaction_add(f->db, id, w.bob, "👍"), -EEXIST);
    assert_int_equal(sto_reaction_add(f->db, id, w.carol, "👍"), -EACCES);
    assert_int_equal(sto_reaction_add(f->db, 99999, w.bob, "👍"), -ENOENT);
    assert_int_equal(sto_reaction_add(f->db, id, w.bob, ""), -EINVAL);

    struct sto_reaction *r;
    size_t n;
    assert_int_equal(sto_reaction_list(f->db, id, &r, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(r[0].user_id, w.bob);
    assert_string_equal(r[0].emoji, "👍");
    assert_int_equal(r[1].user_id, w.alice);
    assert_string_equal(r[2].emoji, "🍣");
    sto_reactions_free(r, n);

    assert_int_equal(sto_reaction_remove(f->db, id, w.bob, "👍"), 0);
    assert_int_equal(sto_reaction_remove(f->db, id, w.bob, "👍"), -ENOENT);
    assert_int_equal(sto_reaction_list(f->db, id, &r, &n), 0);
    assert_int_equal(n, 2);
    sto_reactions_free(r, n);
}

static void test_mentions_only_members_and_edit_replaces_them(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t who[] = {w.bob, w.bob};
    struct sto_message_new m = {.room_id = w.room,
                                .sender_id = w.alice,
                                .body = "@bob look",
                                .mentions = who,
                                .n_mentions = 2};
    int64_t id;
    assert_int_equal(sto_message_insert(f->db, &m, &id, NULL), 0);
    int64_t *users;
    size_t n;
    assert_int_equal(sto_mention_list(f->db, id, &users, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(users[0], w.bob);
    free(users);

    int64_t outsider[] = {w.carol};
    m.mentions = outsider;
    m.n_mentions = 1;
    assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EINVAL);

    int64_t alice_only[] = {w.alice};
    assert_int_equal(sto_message_edit(f->db, id, w.alice, "@alice me", alice_only, 1), 0);
    assert_int_equal(sto_mention_list(f->db, id, &users, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(users[0], w.alice);
    free(users);

    /* The inbox: newest first, only rooms the user is still in. */
    m.mentions = who;
    int64_t later;
    assert_int_equal(sto_message_insert(f->db, &m, &later, NULL), 0);
    struct sto_message *inbox;
    assert_int_equal(sto_mention_inbox(f->db, w.bob, 0, 10, &inbox, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inbox[0].id, later);
    sto_messages_free(inbox, n);
    assert_int_equal(sto_member_remove(f->db, w.room, w.bob), 0);
    assert_int_equal(sto_mention_inbox(f->db, w.bob, 0, 10, &inbox, &n), 0);
    assert_int_equal(n, 0);
    sto_messages_free(inbox, n);
}

static struct sto_unread unread_for(struct fx *f, int64_t user, int64_t room)
{
    struct sto_unread *u, found = {0};
    size_t n;
    assert_int_equal(sto_unread_counts(f->db, user, &u, &n), 0);
    bool ok = false;
    for (size_t i = 0; i < n; i++)
        if (u[i].room_id == room) {
            found = u[i];
            ok = true;
        }
    free(u);
    assert_true(ok);
    return found;
}

static void test_read_positions_and_unread_counts(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t first = fx_msg(f, w.room, w.alice, "1");
    fx_msg(f, w.room, w.alice, "2");
    int64_t bob_mention[] = {w.bob};
    struct sto_message_new m = {.room_id = w.room,
                                .sender_id = w.alice,
                                .body = "3 @bob",
                                .mentions = bob_mention,
                                .n_mentions = 1};
    int64_t third;
    assert_int_equal(sto_message_insert(f->db, &m, &third, NULL), 0);
    int64_t gone = fx_msg(f, w.room, w.alice, "4, deleted");
    assert_int_equal(sto_message_delete(f->db, gone, w.alice), 0);
    fx_msg(f, w.room, w.bob, "bob's own");

    struct sto_unread u = unread_for(f, w.bob, w.room);
    assert_int_equal(u.last_read_id, 0);
    assert_int_equal(u.unread, 3); /* not bob's own, not the tombstone */
    assert_int_equal(u.mentions, 1);

    assert_int_equal(sto_read_set(f->db, w.room, w.bob, first), 0);
    u = unread_for(f, w.bob, w.room);
    assert_int_equal(u.last_read_id, first);
    assert_int_equal(u.unread, 2);
    assert_int_equal(u.mentions, 1);

    assert_int_equal(sto_read_set(f->db, w.room, w.bob, third), 0);
    /* Going back (a stale device) changes nothing. */
    assert_int_equal(sto_read_set(f->db, w.room, w.bob, first), 0);
    int64_t pos;
    assert_int_equal(sto_read_get(f->db, w.room, w.bob, &pos), 0);
    assert_int_equal(pos, third);
    u = unread_for(f, w.bob, w.room);
    assert_int_equal(u.unread, 0);
    assert_int_equal(u.mentions, 0);

    /* A position past the newest message is clamped: later messages count. */
    assert_int_equal(sto_read_set(f->db, w.room, w.bob, 1000000), 0);
    fx_msg(f, w.room, w.alice, "new");
    u = unread_for(f, w.bob, w.room);
    assert_int_equal(u.unread, 1);

    assert_int_equal(sto_read_set(f->db, w.room, w.carol, third), -EACCES);
    assert_int_equal(sto_read_get(f->db, w.room, w.carol, &pos), -ENOENT);
}

static void test_unread_count_stops_at_the_cap(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    assert_int_equal(sto_begin(f->db), 0);
    for (int i = 0; i < STO_UNREAD_CAP + 5; i++)
        fx_msg(f, w.room, w.alice, "spam");
    assert_int_equal(sto_commit(f->db), 0);
    struct sto_unread u = unread_for(f, w.bob, w.room);
    assert_int_equal(u.unread, STO_UNREAD_CAP);
}

/* A history page's mentions, reactions and files read for the whole page must
 * be what the per-message functions give, in three statements. */
static void test_page_extras_match_per_message_reads_in_three_statements(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t mention[] = {w.bob};
    struct sto_message_new nm = {w.room, w.alice, "hey bob", 0, 0, mention, 1};
    int64_t with_mention = 0, plain = fx_msg(f, w.room, w.bob, "plain");
    assert_int_equal(sto_message_insert(f->db, &nm, &with_mention, NULL), 0);
    int64_t reacted = fx_msg(f, w.room, w.bob, "react to me");
    assert_int_equal(sto_reaction_add(f->db, reacted, w.alice, "+1"), 0);
    f->now += 5;
    assert_int_equal(sto_reaction_add(f->db, reacted, w.bob, "party"), 0);
    assert_int_equal(sto_reaction_add(f->db, reacted, w.bob, "+1"), 0);
    char id1[STO_FILE_ID_LEN + 1], id2[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, w.alice, w.room, "a.txt", "text/plain", "aaa", 3, id1), 0);
    assert_int_equal(sto_file_put_buf(f->db, w.alice, w.room, "b.png", "image/png", "bbbb", 4, id2), 0);
    int64_t with_files = fx_msg(f, w.room, w.alice, "two files");
    const char *ids[] = {id2, id1};
    assert_int_equal(sto_message_attach(f->db, with_files, w.alice, ids, 2), 0);
    int64_t gone = fx_msg(f, w.room, w.alice, "deleted");
    assert_int_equal(sto_reaction_add(f->db, gone, w.bob, "+1"), 0);
    assert_int_equal(sto_message_delete(f->db, gone, w.alice), 0);
    (void)plain;

    struct sto_message *page;
    size_t n;
    assert_int_equal(sto_message_page(f->db, w.room, 0, 50, &page, &n), 0);
    assert_int_equal(n, 5);
    struct sto_message_extras *x;
    uint64_t before = sto_statements_run(f->db);
    assert_int_equal(sto_message_extras(f->db, page, n, &x), 0);
    assert_int_equal(sto_statements_run(f->db) - before, 3);
    size_t seen_mentions = 0, seen_reactions = 0, seen_files = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t *m;
        size_t nm2;
        assert_int_equal(sto_mention_list(f->db, page[i].id, &m, &nm2), 0);
        assert_int_equal(x[i].n_mentions, nm2);
        for (size_t k = 0; k < nm2; k++)
            assert_int_equal(x[i].mentions[k], m[k]);
        free(m);
        struct sto_reaction *r;
        size_t nr;
        assert_int_equal(sto_reaction_list(f->db, page[i].id, &r, &nr), 0);
        assert_int_equal(x[i].n_reactions, nr);
        for (size_t k = 0; k < nr; k++) {
            assert_int_equal(x[i].reactions[k].user_id, r[k].user_id);
            assert_string_equal(x[i].reactions[k].emoji, r[k].emoji);
            assert_int_equal(x[i].reactions[k].created_at, r[k].created_at);
        }
        sto_reactions_free(r, nr);
        struct sto_file *fl;
        size_t nf;
        assert_int_equal(sto_message_files(f->db, page[i].id, &fl, &nf), 0);
        assert_int_equal(x[i].n_files, nf);
        for (size_t k = 0; k < nf; k++) {
            assert_string_equal(x[i].files[k].id, fl[k].id);
            assert_string_equal(x[i].files[k].name, fl[k].name);
            assert_string_equal(x[i].files[k].mime, fl[k].mime);
            assert_int_equal(x[i].files[k].size, fl[k].size);
        }
        sto_files_free(fl, nf);
        seen_mentions += nm2;
        seen_reactions += nr;
        seen_files += nf;
    }
    /* The page really held each kind, so the comparison covered them. */
    assert_int_equal(seen_mentions, 1);
    assert_int_equal(seen_reactions, 3);
    assert_int_equal(seen_files, 2);
    assert_int_equal(x[1].n_files, 2); /* newest first: [0] is the tombstone */
    assert_string_equal(x[1].files[0].id, id2);
    sto_message_extras_free(x, n);
    sto_messages_free(page, n);
    assert_int_equal(sto_message_extras(f->db, NULL, 0, &x), 0);
    assert_null(x);
}

/* room.get's "seen by": every member's position in one statement, the same
 * as asking member by member. */
static void test_read_positions_of_a_room_match_each_members(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    int64_t first = fx_msg(f, w.room, w.alice, "one");
    fx_msg(f, w.room, w.alice, "two");
    assert_int_equal(sto_member_add(f->db, w.room, w.carol, STO_ROLE_MEMBER), 0);
    assert_int_equal(sto_read_set(f->db, w.room, w.bob, first), 0);
    struct sto_read_position *p;
    size_t n;
    uint64_t before = sto_statements_run(f->db);
    assert_int_equal(sto_read_positions(f->db, w.room, &p, &n), 0);
    assert_int_equal(sto_statements_run(f->db) - before, 1);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        int64_t pos = -1;
        assert_int_equal(sto_read_get(f->db, w.room, p[i].user_id, &pos), 0);
        assert_int_equal(p[i].last_read_id, pos);
    }
    assert_int_equal(p[0].user_id, w.alice);
    assert_int_equal(p[1].user_id, w.bob);
    assert_int_equal(p[1].last_read_id, first);
    free(p);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_insert_returns_id_and_time_and_get_reads_it_back),
        T(test_insert_checks_sender_body_and_parents),
        T(test_edit_only_by_sender_and_marks_time),
        T(test_delete_leaves_a_tombstone),
        T(test_delete_by_room_admin_and_site_admin),
        T(test_history_pages_newest_first_without_gaps),
        T(test_reactions_are_unique_per_user_and_emoji),
        T(test_mentions_only_members_and_edit_replaces_them),
        T(test_read_positions_and_unread_counts),
        T(test_unread_count_stops_at_the_cap),
        T(test_page_extras_match_per_message_reads_in_three_statements),
        T(test_read_positions_of_a_room_match_each_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
