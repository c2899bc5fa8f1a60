/*
 * rooms.c - rooms on the database: every room (collected through its
 * members, since storage lists rooms per user), its members, and archiving.
 */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanturn/storage.h"

static const char *role_name(enum sto_role r)
{
    return r == STO_ROLE_OWNER ? "owner" : r == STO_ROLE_ADMIN ? "admin" : "member";
}

static json_t *member_names(struct console *c, int64_t room_id, size_t *count)
{
    struct sto_member *m = NULL;
    size_t n = 0;
    json_t *names = json_array();
    *count = 0;
    if (sto_room_members(c->db, room_id, &m, &n) != 0)
        return names;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        struct sto_user u = {0};
        if (sto_user_get(c->db, m[i].user_id, &u) == 0)
            json_array_append_new(names, json_string(u.name));
        sto_user_clear(&u);
    }
    sto_members_free(m);
    return names;
}

void con_rooms_list(struct console *c, const struct con_req *r, const struct con_admin *who,
                    json_t *body, struct con_reply *out)
{
    (void)r;
    (void)who;
    (void)body;
    json_t *seen = json_object(), *list = json_array();
    int64_t after = 0;
    for (;;) {
        struct sto_user *u = NULL;
        size_t n = 0;
        if (sto_user_list(c->db, after, 200, &u, &n) != 0)
            break;
        for (size_t i = 0; i < n; i++) {
            after = u[i].id;
            struct sto_room *rooms = NULL;
            size_t nr = 0;
            if (sto_room_list_for_user(c->db, u[i].id, &rooms, &nr) != 0)
                continue;
            for (size_t k = 0; k < nr; k++) {
                char key[24];
                snprintf(key, sizeof key, "%lld", (long long)rooms[k].id);
                if (json_object_get(seen, key))
                    continue;
                json_object_set_new(seen, key, json_true());
                size_t count;
                json_t *names = member_names(c, rooms[k].id, &count);
                struct sto_user creator = {0};
                sto_user_get(c->db, rooms[k].created_by, &creator);
                json_t *room = json_pack(
                    "{sI ss ss ss sb sI sI ss}", "id", (json_int_t)rooms[k].id, "kind",
                    rooms[k].kind == STO_ROOM_DIRECT ? "direct" : "group", "name",
                    rooms[k].name ? rooms[k].name : "", "topic", rooms[k].topic ? rooms[k].topic : "",
                    "archived", rooms[k].archived, "created_at", (json_int_t)rooms[k].created_at,
                    "member_count", (json_int_t)count, "created_by",
                    creator.name ? creator.name : "");
                /* a direct room is named by its two people */
                if (rooms[k].kind == STO_ROOM_DIRECT)
                    json_object_set(room, "members", names);
                json_decref(names);
                sto_user_clear(&creator);
                json_array_append_new(list, room);
            }
            sto_rooms_free(rooms, nr);
        }
        sto_users_free(u, n);
        if (n < 200)
            break;
    }
    json_decref(seen);
    con_json(out, 200, json_pack("{sb so}", "ok", 1, "rooms", list));
}

void con_rooms_members(struct console *c, const struct con_req *r, const struct con_admin *who,
                       json_t *body, struct con_reply *out)
{
    (void)who;
    (void)body;
    char buf[32];
    const char *id_s = con_query(r, "id", buf, sizeof buf);
    int64_t id = id_s ? strtoll(id_s, NULL, 10) : 0;
    struct sto_member *m = NULL;
    size_t n = 0;
    struct sto_room room = {0};
    if (id <= 0 || sto_room_get(c->db, id, &room) != 0) {
        con_error(out, 404, "not_found", "no such room");
        return;
    }
    sto_room_clear(&room);
    if (sto_room_members(c->db, id, &m, &n) != 0) {
        con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct sto_user u = {0};
        if (sto_user_get(c->db, m[i].user_id, &u) == 0)
            json_array_append_new(list, json_pack("{sI ss ss ss sI sb}", "id",
                                                  (json_int_t)u.id, "name", u.name, "display_name",
                                                  u.display_name, "role", role_name(m[i].role),
                                                  "joined_at", (json_int_t)m[i].joined_at,
                                                  "disabled", u.disabled));
        sto_user_clear(&u);
    }
    sto_members_free(m);
    con_json(out, 200, json_pack("{sb so}", "ok", 1, "members", list));
}

void con_rooms_archive(struct console *c, const struct con_req *r, const struct con_admin *who,
                       json_t *body, struct con_reply *out)
{
    (void)r;
    json_int_t id = json_integer_value(json_object_get(body, "id"));
    json_t *flag = json_object_get(body, "archived");
    struct sto_room room = {0};
    if (id <= 0 || !json_is_boolean(flag)) {
        con_error(out, 400, "bad_request", "\"id\" (a room id) and \"archived\" (true/false)");
        return;
    }
    if (sto_room_get(c->db, id, &room) != 0) {
        con_error(out, 404, "not_found", "no such room");
        return;
    }
    if (sto_room_set_archived(c->db, id, json_is_true(flag)) != 0) {
        con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
    } else {
        char target[STO_NAME_MAX + 32];
        snprintf(target, sizeof target, "room:%lld %s", (long long)id, room.name ? room.name : "");
        con_audit(c, who, json_is_true(flag) ? "room.archive" : "room.unarchive", target, NULL);
        con_ok(out);
    }
    sto_room_clear(&room);
}
