/*
 * views.c - the JSON shapes of users, rooms and messages on the wire
 * (docs/PROTOCOL.md, "Objects").
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *role_name(enum sto_role r)
{
    return r == STO_ROLE_OWNER ? "owner" : r == STO_ROLE_ADMIN ? "admin" : "member";
}

json_t *json_user(const struct sto_user *u, enum presence p)
{
    return json_pack("{sI ss ss sb sb ss}", "id", (json_int_t)u->id, "name", u->name,
                     "display_name", u->display_name ? u->display_name : u->name, "is_admin",
                     u->is_admin, "disabled", u->disabled, "presence", presence_name(p));
}

/* The wire shape of a room, whichever way its parts were read. */
static json_t *room_object(const struct sto_room *room, const struct sto_member *m, size_t n,
                           int64_t viewer_id, int64_t last_read, json_t *last_message)
{
    json_t *members = json_array();
    json_t *role = NULL;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(members, json_pack("{sI ss}", "user", (json_int_t)m[i].user_id,
                                                 "role", role_name(m[i].role)));
        if (m[i].user_id == viewer_id)
            role = json_string(role_name(m[i].role));
    }
    return json_pack("{sI ss ss ss sI sI sb so so sI so}", "id", (json_int_t)room->id, "kind",
                     room->kind == STO_ROOM_DIRECT ? "direct" : "group", "name",
                     room->name ? room->name : "", "topic", room->topic ? room->topic : "",
                     "created_by", (json_int_t)room->created_by, "created_at",
                     (json_int_t)room->created_at, "archived", room->archived, "members", members,
                     "role", role ? role : json_null(), "last_read", (json_int_t)last_read,
                     "last_message", last_message);
}

static json_t *last_message(int64_t id, int64_t sender, int64_t created_at)
{
    return json_pack("{sI sI sI}", "id", (json_int_t)id, "sender", (json_int_t)sender,
                     "created_at", (json_int_t)created_at);
}

json_t *json_room(struct sig_hub *h, const struct sto_room *room, int64_t viewer_id)
{
    struct sto_member *m = NULL;
    size_t n = 0;
    if (sto_room_members(h->db, room->id, &m, &n) != 0)
        n = 0;
    int64_t last_read = 0;
    sto_read_get(h->db, room->id, viewer_id, &last_read);
    /* The newest message, so clients can order rooms by activity. */
    struct sto_message *last = NULL;
    size_t nl = 0;
    json_t *last_json = json_null();
    if (sto_message_page(h->db, room->id, 0, 1, &last, &nl) == 0 && nl == 1)
        last_json = last_message(last[0].id, last[0].sender_id, last[0].created_at);
    sto_messages_free(last, nl);
    json_t *j = room_object(room, m, n, viewer_id, last_read, last_json);
    sto_members_free(m);
    return j;
}

json_t *json_room_summary(const struct sto_room_summary *s, int64_t viewer_id)
{
    json_t *last = s->last_message_id
                       ? last_message(s->last_message_id, s->last_sender_id, s->last_created_at)
                       : json_null();
    json_t *j = room_object(&s->room, s->members, s->n_members, viewer_id, s->last_read_id, last);
    json_object_set_new(j, "unread", json_integer(s->unread));
    json_object_set_new(j, "unread_mentions", json_integer(s->mentions));
    return j;
}

/* Reactions grouped by emoji, in the order each emoji first appeared. */
static json_t *json_reactions(const struct sto_reaction *rx, size_t n)
{
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *group = NULL;
        size_t k;
        json_t *g;
        json_array_foreach(out, k, g)
        {
            if (strcmp(json_string_value(json_object_get(g, "emoji")), rx[i].emoji) == 0) {
                group = g;
                break;
            }
        }
        if (!group) {
            group = json_pack("{ss s[]}", "emoji", rx[i].emoji, "users");
            json_array_append_new(out, group);
        }
        json_array_append_new(json_object_get(group, "users"), json_integer(rx[i].user_id));
    }
    return out;
}

json_t *json_message_with(const struct sto_message *m, const struct sto_message_extras *x)
{
    json_t *mentions = json_array();
    for (size_t i = 0; !m->deleted && i < x->n_mentions; i++)
        json_array_append_new(mentions, json_integer(x->mentions[i]));
    json_t *j = json_pack("{sI sI sI ss sI sb so so}", "id", (json_int_t)m->id, "room",
                          (json_int_t)m->room_id, "sender", (json_int_t)m->sender_id, "body",
                          m->body ? m->body : "", "created_at", (json_int_t)m->created_at,
                          "deleted", m->deleted, "mentions", mentions, "reactions",
                          m->deleted ? json_array() : json_reactions(x->reactions, x->n_reactions));
    if (j && !m->deleted && x->n_files) {
        json_t *files = json_array();
        for (size_t i = 0; i < x->n_files; i++) {
            const struct sto_file *f = &x->files[i];
            char url[96];
            snprintf(url, sizeof url, "/api/files/%s", f->id);
            json_array_append_new(files, json_pack("{ss ss ss sI ss}", "id", f->id, "name",
                                                   f->name, "mime", f->mime, "size",
                                                   (json_int_t)f->size, "url", url));
        }
        json_object_set_new(j, "files", files);
    }
    if (j && m->edited_at)
        json_object_set_new(j, "edited_at", json_integer(m->edited_at));
    if (j && m->thread_id)
        json_object_set_new(j, "thread", json_integer(m->thread_id));
    if (j && m->reply_to)
        json_object_set_new(j, "reply_to", json_integer(m->reply_to));
    return j;
}

json_t *json_message(struct sig_hub *h, const struct sto_message *m)
{
    struct sto_message_extras *x = NULL, none = {0};
    sto_message_extras(h->db, m, 1, &x);
    json_t *j = json_message_with(m, x ? x : &none);
    sto_message_extras_free(x, 1);
    return j;
}
