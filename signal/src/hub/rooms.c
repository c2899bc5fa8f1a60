/*
 * rooms.c - listing, creating and changing rooms and who is in them.
 *
 * Roles: the owner and admins of a group room invite, kick and rename; anyone
 * may leave, except the last owner while others remain (the room would be
 * left without anyone able to manage it). Direct rooms have fixed members.
 */
#include "internal.h"

#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ROOM_CREATE_MEMBERS_MAX 200

static int room_reply(struct req *r, int64_t room_id, const char *key)
{
    struct sto_room room = {0};
    int err = sto_room_get(r->hub->db, room_id, &room);
    if (err)
        return req_fail_sto(r, err, "room");
    r->result = json_pack("{so}", key, json_room(r->hub, &room, r->conn->user_id));
    sto_room_clear(&room);
    return 0;
}

/* Tell a user (all devices, durably) that they are now in a room. */
static void announce_joined(struct sig_hub *h, int64_t room_id, int64_t user_id)
{
    struct sto_room room = {0};
    if (sto_room_get(h->db, room_id, &room) != 0)
        return;
    json_t *data = json_pack("{so}", "room", json_room(h, &room, user_id));
    user_event(h, user_id, "room.joined", data);
    json_decref(data);
    sto_room_clear(&room);
}

static void announce_member(struct sig_hub *h, int64_t room_id, int64_t user_id,
                            const char *action, int64_t by)
{
    json_t *data = json_pack("{sI sI ss sI}", "room", (json_int_t)room_id, "user",
                             (json_int_t)user_id, "action", action, "by", (json_int_t)by);
    room_event(h, room_id, "room.member", data);
    json_decref(data);
}

int h_room_list(struct req *r)
{
    struct sto_room_summary *rooms = NULL;
    size_t n = 0;
    int err = sto_room_summaries(r->hub->db, r->conn->user_id, &rooms, &n);
    if (err)
        return req_fail_sto(r, err, "room list");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_room_summary(&rooms[i], r->conn->user_id));
    sto_room_summaries_free(rooms, n);
    r->result = json_pack("{so}", "rooms", list);
    return 0;
}

#define READS_MEMBERS_MAX 200

/* Every member's read position ("seen by"), for rooms small enough to list. */
static json_t *read_positions(struct sig_hub *h, int64_t room)
{
    struct sto_read_position *p = NULL;
    size_t n = 0;
    json_t *reads = json_array();
    if (sto_read_positions(h->db, room, &p, &n) == 0 && n <= READS_MEMBERS_MAX)
        for (size_t i = 0; i < n; i++)
            if (p[i].last_read_id > 0)
                json_array_append_new(reads, json_pack("{sI sI}", "user", (json_int_t)p[i].user_id,
                                                       "message", (json_int_t)p[i].last_read_id));
    free(p);
    return reads;
}

int h_room_get(struct req *r)
{
    int64_t room;
    if (req_id(r, "room", &room) || req_member(r, room, NULL) || room_reply(r, room, "room"))
        return -1;
    json_object_set_new(json_object_get(r->result, "room"), "reads", read_positions(r->hub, room));
    return 0;
}

int h_room_members(struct req *r)
{
    int64_t room;
    if (req_id(r, "room", &room) || req_member(r, room, NULL))
        return -1;
    if (room_reply(r, room, "room"))
        return -1;
    json_t *members = json_incref(json_object_get(json_object_get(r->result, "room"), "members"));
    json_decref(r->result);
    r->result = json_pack("{so}", "members", members);
    return 0;
}

static bool name_ok(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len > max)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

int h_room_create(struct req *r)
{
    struct sig_hub *h = r->hub;
    const char *name, *topic;
    if (req_str(r, "name", &name) || req_str_opt(r, "topic", &topic))
        return -1;
    if (!name_ok(name, STO_NAME_MAX))
        return req_fail(r, "bad_request", "\"name\" must be 1..%d bytes of text", STO_NAME_MAX);
    json_t *members = json_object_get(r->msg, "members");
    if (members && (!json_is_array(members) || json_array_size(members) > ROOM_CREATE_MEMBERS_MAX))
        return req_fail(r, "bad_request", "\"members\" must be a list of at most %d user ids",
                        ROOM_CREATE_MEMBERS_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(members, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return req_fail(r, "bad_request", "\"members\" must hold user ids");
    }
    int64_t room;
    int err = hub_tx_begin(h);
    if (err)
        return req_fail_sto(r, err, "room");
    if ((err = sto_room_create_group(h->db, r->conn->user_id, name, topic ? topic : "", &room)))
        goto fail;
    json_array_foreach(members, i, v)
    {
        int64_t uid = json_integer_value(v);
        if (uid == r->conn->user_id)
            continue;
        struct sto_user u = {0};
        if ((err = sto_user_get(h->db, uid, &u)) == 0 && u.disabled)
            err = -EINVAL;
        sto_user_clear(&u);
        if (err == -ENOENT)
            err = -EINVAL;
        if (!err)
            err = sto_member_add(h->db, room, uid, STO_ROLE_MEMBER);
        if (err == -EEXIST) /* listed twice */
            err = 0;
        if (err) {
            hub_tx_end(h, -ECANCELED);
            return req_fail(r, "bad_request", "user %" PRId64 " cannot join this room", uid);
        }
    }
    if ((err = hub_tx_end(h, 0)))
        goto fail;
    lt_log(LT_LOG_INFO, "signal", "room_create", "room=%" PRId64 " user=%" PRId64, room,
           r->conn->user_id);
    announce_joined(h, room, r->conn->user_id);
    json_array_foreach(members, i, v)
    {
        if (json_integer_value(v) != r->conn->user_id)
            announce_joined(h, room, json_integer_value(v));
    }
    return room_reply(r, room, "room");
fail:
    hub_tx_end(h, -ECANCELED);
    return req_fail_sto(r, err, "room");
}

/* 0 when the user exists and is not disabled. */
static int require_active_user(struct req *r, int64_t user_id)
{
    struct sto_user u = {0};
    int err = sto_user_get(r->hub->db, user_id, &u);
    bool disabled = u.disabled;
    sto_user_clear(&u);
    if (err)
        return req_fail_sto(r, err, "user");
    return disabled ? req_fail(r, "forbidden", "that user is disabled") : 0;
}

int h_room_direct(struct req *r)
{
    int64_t other, room;
    bool created = false;
    if (req_id(r, "user", &other))
        return -1;
    if (require_active_user(r, other))
        return -1;
    int err;
    if ((err = sto_room_create_direct(r->hub->db, r->conn->user_id, other, &room, &created)))
        return req_fail_sto(r, err, "direct room");
    if (created) {
        announce_joined(r->hub, room, r->conn->user_id);
        if (other != r->conn->user_id)
            announce_joined(r->hub, room, other);
    }
    if (room_reply(r, room, "room"))
        return -1;
    json_object_set_new(r->result, "created", json_boolean(created));
    return 0;
}

static int need_manager(struct req *r, int64_t room, enum sto_role *role)
{
    if (req_member(r, room, role))
        return -1;
    if (*role == STO_ROLE_MEMBER)
        return req_fail(r, "forbidden", "only the room's owner and admins may do that");
    return 0;
}

int h_room_update(struct req *r)
{
    int64_t room;
    const char *name, *topic;
    enum sto_role role;
    if (req_id(r, "room", &room) || req_str_opt(r, "name", &name) ||
        req_str_opt(r, "topic", &topic) || need_manager(r, room, &role))
        return -1;
    if (name && !name_ok(name, STO_NAME_MAX))
        return req_fail(r, "bad_request", "\"name\" must be 1..%d bytes of text", STO_NAME_MAX);
    int err = sto_room_update(r->hub->db, room, name, topic);
    if (err)
        return req_fail_sto(r, err, "room");
    if (room_reply(r, room, "room"))
        return -1;
    json_t *data = json_pack("{sO sI}", "room", json_object_get(r->result, "room"), "by",
                             (json_int_t)r->conn->user_id);
    json_object_del(json_object_get(data, "room"), "role"); /* the viewer's, not everyone's */
    room_event(r->hub, room, "room.updated", data);
    json_decref(data);
    return 0;
}

int h_room_invite(struct req *r)
{
    int64_t room, user;
    enum sto_role role;
    if (req_id(r, "room", &room) || req_id(r, "user", &user) || need_manager(r, room, &role))
        return -1;
    if (require_active_user(r, user))
        return -1;
    int err;
    if ((err = sto_member_add(r->hub->db, room, user, STO_ROLE_MEMBER)))
        return req_fail_sto(r, err, "invite");
    announce_member(r->hub, room, user, "joined", r->conn->user_id);
    announce_joined(r->hub, room, user);
    return room_reply(r, room, "room");
}

/* Whether removing user would leave members behind with no owner. */
static bool last_owner(struct sig_hub *h, int64_t room, int64_t user)
{
    struct sto_member *m = NULL;
    size_t n = 0;
    if (sto_room_members(h->db, room, &m, &n) != 0)
        return false;
    size_t owners = 0;
    bool is_owner = false;
    for (size_t i = 0; i < n; i++)
        if (m[i].role == STO_ROLE_OWNER) {
            owners++;
            is_owner |= m[i].user_id == user;
        }
    sto_members_free(m);
    return is_owner && owners == 1 && n > 1;
}

static int remove_member(struct req *r, int64_t room, int64_t user, const char *action)
{
    if (last_owner(r->hub, room, user))
        return req_fail(r, "conflict", "the last owner cannot leave; make someone else owner first");
    int err = sto_member_remove(r->hub->db, room, user);
    if (err)
        return req_fail_sto(r, err, action);
    /* The others hear it through the room; the one who left through their own
     * stream, since they no longer receive the room's events. */
    announce_member(r->hub, room, user, action, r->conn->user_id);
    json_t *data = json_pack("{sI ss sI}", "room", (json_int_t)room, "reason", action, "by",
                             (json_int_t)r->conn->user_id);
    user_event(r->hub, user, "room.left", data);
    json_decref(data);
    return 0;
}

int h_room_leave(struct req *r)
{
    int64_t room;
    if (req_id(r, "room", &room) || req_member(r, room, NULL))
        return -1;
    return remove_member(r, room, r->conn->user_id, "left");
}

int h_room_kick(struct req *r)
{
    int64_t room, user;
    enum sto_role role, theirs;
    if (req_id(r, "room", &room) || req_id(r, "user", &user) || need_manager(r, room, &role))
        return -1;
    int err = sto_member_get(r->hub->db, room, user, &theirs);
    if (err)
        return req_fail_sto(r, err, "member");
    if (theirs == STO_ROLE_OWNER || (theirs == STO_ROLE_ADMIN && role != STO_ROLE_OWNER))
        return req_fail(r, "forbidden", "you cannot remove a member whose role is equal or higher");
    return remove_member(r, room, user, "kicked");
}
