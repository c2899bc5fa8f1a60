/*
 * sto_rooms_test.c - group and direct rooms, membership and roles.
 */
#include "fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_group_room_creator_is_owner(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    int64_t room = 0;
    assert_int_equal(sto_room_create_group(f->db, alice, "general", "everything", &room), 0);
    struct sto_room r;
    assert_int_equal(sto_room_get(f->db, room, &r), 0);
    assert_int_equal(r.kind, STO_ROOM_GROUP);
    assert_string_equal(r.name, "general");
    assert_string_equal(r.topic, "everything");
    assert_int_equal(r.created_by, alice);
    assert_false(r.archived);
    sto_room_clear(&r);
    enum sto_role role;
    assert_int_equal(sto_member_get(f->db, room, alice, &role), 0);
    assert_int_equal(role, STO_ROLE_OWNER);
    assert_int_equal(sto_room_get(f->db, room + 100, &r), -ENOENT);
    assert_int_equal(sto_room_create_group(f->db, alice, "", NULL, &room), -EINVAL);
}

static void test_direct_room_is_one_per_pair(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    int64_t r1 = 0, r2 = 0, self = 0;
    bool created = false;
    assert_int_equal(sto_room_create_direct(f->db, alice, bob, &r1, &created), 0);
    assert_true(created);
    assert_int_equal(sto_room_create_direct(f->db, bob, alice, &r2, &created), 0);
    assert_false(created);
    assert_int_equal(r1, r2);

    struct sto_member *m;
    size_t n;
    assert_int_equal(sto_room_members(f->db, r1, &m, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(m[0].user_id, alice);
    assert_int_equal(m[1].user_id, bob);
    assert_int_equal(m[0].role, STO_ROLE_MEMBER);
    sto_members_free(m);

    /* Fixed membership, no name or topic. */
    int64_t carol = fx_user(f, "carol");
    assert_int_equal(sto_member_add(f->db, r1, carol, STO_ROLE_MEMBER), -EINVAL);
    assert_int_equal(sto_member_remove(f->db, r1, bob), -EINVAL);
    assert_int_equal(sto_room_update(f->db, r1, "renamed", NULL), -EINVAL);

    assert_int_equal(sto_room_create_direct(f->db, alice, alice, &self, &created), 0);
    assert_true(created);
    assert_int_not_equal(self, r1);
    assert_int_equal(sto_room_members(f->db, self, &m, &n), 0);
    assert_int_equal(n, 1);
    sto_members_free(m);

    assert_int_equal(sto_room_create_direct(f->db, alice, 9999, &r2, &created), -EINVAL);
}

static void test_room_list_for_user_shows_only_their_rooms(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    int64_t a = fx_group(f, alice, "a"), b = fx_group(f, bob, "b"), dm = 0;
    assert_int_equal(sto_room_create_direct(f->db, alice, bob, &dm, NULL), 0);
    assert_int_equal(sto_room_set_archived(f->db, a, true), 0);
    struct sto_room *rooms;
    size_t n;
    assert_int_equal(sto_room_list_for_user(f->db, alice, &rooms, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rooms[0].id, a);
    assert_true(rooms[0].archived);
    assert_int_equal(rooms[1].id, dm);
    assert_int_equal(rooms[1].kind, STO_ROOM_DIRECT);
    sto_rooms_free(rooms, n);
    assert_int_equal(sto_room_list_for_user(f->db, bob, &rooms, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rooms[0].id, b);
    sto_rooms_free(rooms, n);
    assert_int_equal(sto_room_set_archived(f->db, 9999, true), -ENOENT);
}

static void test_room_update_changes_only_given_fields(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    int64_t room = 0;
    assert_int_equal(sto_room_create_group(f->db, alice, "old", "topic", &room), 0);
    assert_int_equal(sto_room_update(f->db, room, NULL, "新しい話題"), 0);
    struct sto_room r;
    assert_int_equal(sto_room_get(f->db, room, &r), 0);
    assert_string_equal(r.name, "old");
    assert_string_equal(r.topic, "新しい話題");
    sto_room_clear(&r);
    assert_int_equal(sto_room_update(f->db, room, "new", NULL), 0);
    assert_int_equal(sto_room_get(f->db, room, &r), 0);
    assert_string_equal(r.name, "new");
    assert_string_equal(r.topic, "新しい話題");
    sto_room_clear(&r);
    assert_int_equal(sto_room_update(f->db, 9999, "x", NULL), -ENOENT);
}

static void test_members_add_remove_and_roles(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob"), carol = fx_user(f, "carol");
    int64_t room = fx_group(f, alice, "team");
    assert_int_equal(sto_member_add(f->db, room, bob, STO_ROLE_MEMBER), 0);
    assert_int_equal(sto_member_add(f->db, room, carol, STO_ROLE_ADMIN), 0);
    assert_int_equal(sto_member_add(f->db, room, bob, STO_ROLE_MEMBER), -EEXIST);
    assert_int_equal(sto_member_add(f->db, room, bob, (enum sto_role)7), -EINVAL);

    assert_int_equal(sto_member_set_role(f->db, room, bob, STO_ROLE_ADMIN), 0);
    enum sto_role role;
    assert_int_equal(sto_member_get(f->db, room, bob, &role), 0);
    assert_int_equal(role, STO_ROLE_ADMIN);

    assert_int_equal(sto_member_remove(f->db, room, carol), 0);
    assert_int_equal(sto_member_remove(f->db, room, carol), -ENOENT);
    assert_int_equal(sto_member_get(f->db, room, carol, NULL), -ENOENT);
    assert_int_equal(sto_member_set_role(f->db, room, carol, STO_ROLE_MEMBER), -ENOENT);

    struct sto_member *m;
    size_t n;
    assert_int_equal(sto_room_members(f->db, room, &m, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(m[0].user_id, alice);
    assert_int_equal(m[0].role, STO_ROLE_OWNER);
    assert_int_equal(m[1].user_id, bob);
    assert_int_equal(m[1].joined_at, FX_START_MS);
    sto_members_free(m);
}

static void test_new_member_starts_with_history_read(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    int64_t room = fx_group(f, alice, "team");
    fx_msg(f, room, alice, "one");
    int64_t last = fx_msg(f, room, alice, "two");
    assert_int_equal(sto_member_add(f->db, room, bob, STO_ROLE_MEMBER), 0);
    int64_t pos = -1;
    assert_int_equal(sto_read_get(f->db, room, bob, &pos), 0);
    assert_int_equal(pos, last);
    /* Leaving drops the read position with the membership. */
    assert_int_equal(sto_member_remove(f->db, room, bob), 0);
    assert_int_equal(sto_read_get(f->db, room, bob, &pos), -ENOENT);
}

/* What room.list showed when it asked room by room: the reference that the
 * two-statement sto_room_summaries() must reproduce exactly. */
static void assert_summary_matches_per_room_calls(struct fx *f, int64_t viewer,
                                                  const struct sto_room_summary *s)
{
    struct sto_room r;
    assert_int_equal(sto_room_get(f->db, s->room.id, &r), 0);
    assert_int_equal(s->room.kind, r.kind);
    assert_string_equal(s->room.name, r.name);
    assert_string_equal(s->room.topic, r.topic);
    assert_int_equal(s->room.created_by, r.created_by);
    assert_int_equal(s->room.created_at, r.created_at);
    assert_int_equal(s->room.archived, r.archived);
    sto_room_clear(&r);
    struct sto_member *m;
    size_t n;
    assert_int_equal(sto_room_members(f->db, s->room.id, &m, &n), 0);
    assert_int_equal(s->n_members, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s->members[i].user_id, m[i].user_id);
        assert_int_equal(s->members[i].role, m[i].role);
        assert_int_equal(s->members[i].joined_at, m[i].joined_at);
    }
    sto_members_free(m);
    enum sto_role role;
    assert_int_equal(sto_member_get(f->db, s->room.id, viewer, &role), 0);
    assert_int_equal(s->role, role);
    int64_t pos = -1;
    assert_int_equal(sto_read_get(f->db, s->room.id, viewer, &pos), 0);
    assert_int_equal(s->last_read_id, pos);
    struct sto_message *last;
    size_t nl;
    assert_int_equal(sto_message_page(f->db, s->room.id, 0, 1, &last, &nl), 0);
    assert_int_equal(s->last_message_id, nl ? last[0].id : 0);
    assert_int_equal(s->last_sender_id, nl ? last[0].sender_id : 0);
    assert_int_equal(s->last_created_at, nl ? last[0].created_at : 0);
    sto_messages_free(last, nl);
    struct sto_unread *u;
    size_t nu;
    assert_int_equal(sto_unread_counts(f->db, viewer, &u, &nu), 0);
    bool found = false;
    for (size_t i = 0; i < nu; i++)
        if (u[i].room_id == s->room.id) {
            found = true;
            assert_int_equal(s->unread, u[i].unread);
            assert_int_equal(s->mentions, u[i].mentions);
        }
    free(u);
    assert_true(found);
}

static void test_room_summaries_match_per_room_queries_in_two_statements(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob"), carol = fx_user(f, "carol");
    /* Rooms that differ in every way the list shows: kinds, roles, archived,
     * no messages, tombstones last, mentions, read positions behind. */
    int64_t quiet = fx_group(f, alice, "quiet"), busy = fx_group(f, bob, "busy"), dm = 0, self = 0;
    int64_t other = fx_group(f, carol, "not alice's");
    assert_int_equal(sto_room_update(f->db, busy, NULL, "a topic"), 0);
    assert_int_equal(sto_member_add(f->db, busy, alice, STO_ROLE_ADMIN), 0);
    assert_int_equal(sto_member_add(f->db, busy, carol, STO_ROLE_MEMBER), 0);
    assert_int_equal(sto_room_create_direct(f->db, alice, bob, &dm, NULL), 0);
    assert_int_equal(sto_room_create_direct(f->db, alice, alice, &self, NULL), 0);
    assert_int_equal(sto_room_set_archived(f->db, quiet, true), 0);
    int64_t first = fx_msg(f, busy, bob, "one");
    for (int i = 0; i < 5; i++)
        fx_msg(f, busy, carol, "chatter");
    int64_t mention[] = {alice};
    struct sto_message_new nm = {busy, bob, "hey alice", 0, 0, mention, 1};
    assert_int_equal(sto_message_insert(f->db, &nm, NULL, NULL), 0);
    fx_msg(f, busy, alice, "my own");
    int64_t gone = fx_msg(f, busy, carol, "deleted last");
    assert_int_equal(sto_message_delete(f->db, gone, carol), 0);
    assert_int_equal(sto_read_set(f->db, busy, alice, first), 0);
    fx_msg(f, dm, bob, "direct");
    fx_msg(f, other, carol, "elsewhere");

    struct sto_room_summary *s;
    size_t n;
    uint64_t before = sto_statements_run(f->db);
    assert_int_equal(sto_room_summaries(f->db, alice, &s, &n), 0);
    assert_int_equal(sto_statements_run(f->db) - before, 2);
    int64_t want[] = {quiet, busy, dm, self};
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].room.id, want[i]);
        assert_summary_matches_per_room_calls(f, alice, &s[i]);
    }
    /* The cases above really occurred, so the comparison covered them. */
    assert_int_equal(s[0].last_message_id, 0);
    assert_int_equal(s[1].last_message_id, gone);
    assert_int_equal(s[1].unread, 6);
    assert_int_equal(s[1].mentions, 1);
    assert_int_equal(s[1].n_members, 3);
    assert_int_equal(s[3].n_members, 1);
    sto_room_summaries_free(s, n);

    /* Ten more rooms: still two statements. */
    for (int i = 0; i < 10; i++) {
        int64_t room = fx_group(f, bob, "more");
        assert_int_equal(sto_member_add(f->db, room, alice, STO_ROLE_MEMBER), 0);
        fx_msg(f, room, bob, "hello");
    }
    before = sto_statements_run(f->db);
    assert_int_equal(sto_room_summaries(f->db, alice, &s, &n), 0);
    assert_int_equal(sto_statements_run(f->db) - before, 2);
    assert_int_equal(n, 14);
    for (size_t i = 0; i < n; i++)
        assert_summary_matches_per_room_calls(f, alice, &s[i]);
    sto_room_summaries_free(s, n);

    /* Someone in no room. */
    int64_t dave = fx_user(f, "dave");
    assert_int_equal(sto_room_summaries(f->db, dave, &s, &n), 0);
    assert_int_equal(n, 0);
    assert_null(s);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_group_room_creator_is_owner),
        T(test_direct_room_is_one_per_pair),
        T(test_room_list_for_user_shows_only_their_rooms),
        T(test_room_update_changes_only_given_fields),
        T(test_members_add_remove_and_roles),
        T(test_new_member_starts_with_history_read),
        T(test_room_summaries_match_per_room_queries_in_two_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
