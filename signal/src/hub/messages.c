/*
 * messages.c - sending, editing and deleting messages, history pages,
 * reactions, read positions.
 *
 * Every change and the event that announces it are written in one
 * transaction, and the reply goes out only after the commit: a message the
 * sender saw acknowledged is on disk, and every member's event stream has it.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MENTIONS_MAX 50

static int read_mentions(struct req *r, int64_t **out, size_t *n, bool *given)
{
    json_t *a = json_object_get(r->msg, "mentions");
    *out = NULL;
    *n = 0;
    *given = a != NULL;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > MENTIONS_MAX)
        return req_fail(r, "bad_request", "\"mentions\" must be a list of at most %d user ids",
                        MENTIONS_MAX);
    if (json_array_size(a) == 0)
        return 0;
    *out = calloc(json_array_size(a), sizeof **out);
    if (!*out)
        return req_fail(r, "internal", "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            free(*out);
            *out = NULL;
            return req_fail(r, "bad_request", "\"mentions\" must hold user ids");
        }
        (*out)[(*n)++] = json_integer_value(v);
    }
    return 0;
}

/* "files": ids of uploaded files to attach, borrowed from the request. */
static int read_files(struct req *r, const char **out, size_t *n)
{
    json_t *a = json_object_get(r->msg, "files");
    *n = 0;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > STO_ATTACH_MAX)
        return req_fail(r, "bad_request", "\"files\" must be a list of at most %d file ids",
                        STO_ATTACH_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) != STO_FILE_ID_LEN)
            return req_fail(r, "bad_request", "\"files\" must hold file ids");
        out[(*n)++] = json_string_value(v);
    }
    return 0;
}

/* The change is made inside an open transaction; store its event in the same
 * one, commit, and only then push the event out. */
static int commit_with_event(struct req *r, int64_t room, const char *event, json_t *data)
{
    struct pending_event pe;
    int err = room_event_store(r->hub, room, event, data, &pe);
    if (!err && (err = hub_tx_end(r->hub, 0)) != 0)
        pending_event_drop(&pe);
    if (err) {
        hub_tx_end(r->hub, -ECANCELED);
        return req_fail_sto(r, err, event);
    }
    pending_event_send(r->hub, &pe);
    return 0;
}

/* Inside the open transaction: read the message back, store its event,
 * commit, push the event, and reply with the message. */
static int finish_message(struct req *r, int64_t id, const char *event, const char *client_id)
{
    struct sto_message m = {0};
    int err = sto_message_get(r->hub->db, id, &m);
    if (err) {
        hub_tx_end(r->hub, -ECANCELED);
        return req_fail_sto(r, err, "message");
    }
    json_t *msg = json_message(r->hub, &m);
    int64_t room = m.room_id;
    sto_message_clear(&m);
    json_t *data = json_pack("{sO}", "message", msg);
    if (client_id)
        json_object_set_new(data, "client_id", json_string(client_id));
    err = commit_with_event(r, room, event, data);
    json_decref(data);
    if (err) {
        json_decref(msg);
        return -1;
    }
    r->result = json_pack("{so}", "message", msg);
    return 0;
}

int h_message_send(struct req *r)
{
    struct sig_hub *h = r->hub;
    struct sto_message_new m = {0};
    const char *client_id;
    int64_t *mentions;
    bool given;
    if (req_id(r, "room", &m.room_id) || req_str(r, "body", &m.body) ||
        req_id_opt(r, "thread", &m.thread_id) || req_id_opt(r, "reply_to", &m.reply_to) ||
        req_str_opt(r, "client_id", &client_id) || req_member(r, m.room_id, NULL))
        return -1;
    if (!*m.body)
        return req_fail(r, "bad_request", "\"body\" must not be empty");
    if (strlen(m.body) > STO_BODY_MAX)
        return req_fail(r, "too_large", "a message is at most %d bytes", STO_BODY_MAX);
    if (client_id && strlen(client_id) > 64)
        return req_fail(r, "bad_request", "\"client_id\" is at most 64 bytes");
    if (read_mentions(r, &mentions, &m.n_mentions, &given))
        return -1;
    m.sender_id = r->conn->user_id;
    m.mentions = mentions;
    struct sto_room room = {0};
    int err = sto_room_get(h->db, m.room_id, &room);
    bool archived = room.archived;
    sto_room_clear(&room);
    if (err || archived) {
        free(mentions);
        return err ? req_fail_sto(r, err, "room")
                   : req_fail(r, "forbidden", "the room is archived: it is read-only");
    }
    const char *files[STO_ATTACH_MAX];
    size_t n_files = 0;
    if (read_files(r, files, &n_files)) {
        free(mentions);
        return -1;
    }
    int64_t id;
    if ((err = hub_tx_begin(h)) || (err = sto_message_insert(h->db, &m, &id, NULL)) ||
        (n_files && (err = sto_message_attach(h->db, id, m.sender_id, files, n_files)))) {
        free(mentions);
        hub_tx_end(h, -ECANCELED);
        return req_fail_sto(r, err, n_files ? "attach" : "message");
    }
    free(mentions);
    return finish_message(r, id, "message.new", client_id);
}

int h_message_edit(struct req *r)
{
    struct sig_hub *h = r->hub;
    int64_t id, *mentions;
    const char *body;
    size_t n;
    bool given;
    if (req_id(r, "message", &id) || req_str(r, "body", &body))
        return -1;
    if (!*body || strlen(body) > STO_BODY_MAX)
        return req_fail(r, "bad_request", "\"body\" must be 1..%d bytes", STO_BODY_MAX);
    if (read_mentions(r, &mentions, &n, &given))
        return -1;
    int err = hub_tx_begin(h);
    if (!err) {
        int64_t none = 0;
        err = sto_message_edit(h->db, id, r->conn->user_id, body,
                               given ? (mentions ? mentions : &none) : NULL, n);
    }
    free(mentions);
    if (err) {
        hub_tx_end(h, -ECANCELED);
        return req_fail_sto(r, err, "edit");
    }
    return finish_message(r, id, "message.edited", NULL);
}

int h_message_delete(struct req *r)
{
    struct sig_hub *h = r->hub;
    int64_t id;
    if (req_id(r, "message", &id))
        return -1;
    struct sto_message m = {0};
    int err = sto_message_get(h->db, id, &m);
    int64_t room = m.room_id;
    bool was_deleted = m.deleted;
    sto_message_clear(&m);
    if (err)
        return req_fail_sto(r, err, "message");
    if (req_member(r, room, NULL))
        return -1;
    if (was_deleted)
        return 0;
    if ((err = hub_tx_begin(h)) || (err = sto_message_delete(h->db, id, r->conn->user_id))) {
        hub_tx_end(h, -ECANCELED);
        return req_fail_sto(r, err, "delete");
    }
    json_t *data = json_pack("{sI sI sI}", "room", (json_int_t)room, "message", (json_int_t)id,
                             "by", (json_int_t)r->conn->user_id);
    err = commit_with_event(r, room, "message.deleted", data);
    json_decref(data);
    return err;
}

int h_message_history(struct req *r)
{
    int64_t room, before;
    int limit;
    if (req_id(r, "room", &room) || req_id_opt(r, "before", &before) ||
        req_limit(r, 50, 200, &limit) || req_member(r, room, NULL))
        return -1;
    struct sto_message *m = NULL;
    size_t n = 0;
    int err = sto_message_page(r->hub->db, room, before, limit, &m, &n);
    if (err)
        return req_fail_sto(r, err, "history");
    struct sto_message_extras *x = NULL;
    if ((err = sto_message_extras(r->hub->db, m, n, &x))) {
        sto_messages_free(m, n);
        return req_fail_sto(r, err, "history");
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_message_with(&m[i], &x[i]));
    sto_message_extras_free(x, n);
    sto_messages_free(m, n);
    r->result = json_pack("{so sb}", "messages", list, "more", n == (size_t)limit);
    return 0;
}

static int reaction(struct req *r, bool add)
{
    struct sig_hub *h = r->hub;
    int64_t id;
    const char *emoji;
    if (req_id(r, "message", &id) || req_str(r, "emoji", &emoji))
        return -1;
    if (!*emoji || strlen(emoji) > STO_EMOJI_MAX)
        return req_fail(r, "bad_request", "\"emoji\" must be 1..%d bytes", STO_EMOJI_MAX);
    struct sto_message m = {0};
    int err = sto_message_get(h->db, id, &m);
    int64_t room = m.room_id;
    sto_message_clear(&m);
    if (err)
        return req_fail_sto(r, err, "message");
    if (req_member(r, room, NULL))
        return -1;
    if (!(err = hub_tx_begin(h)))
        err = add ? sto_reaction_add(h->db, id, r->conn->user_id, emoji)
                  : sto_reaction_remove(h->db, id, r->conn->user_id, emoji);
    if (err) {
        hub_tx_end(h, -ECANCELED);
        return req_fail_sto(r, err, "reaction");
    }
    json_t *data = json_pack("{sI sI sI ss}", "room", (json_int_t)room, "message", (json_int_t)id,
                             "user", (json_int_t)r->conn->user_id, "emoji", emoji);
    err = commit_with_event(r, room, add ? "reaction.added" : "reaction.removed", data);
    json_decref(data);
    return err;
}

int h_reaction_add(struct req *r)
{
    return reaction(r, true);
}

int h_reaction_remove(struct req *r)
{
    return reaction(r, false);
}

/* A read receipt: the reader's devices and the other members all learn the
 * new position. Positions only move forward. */
int h_read_mark(struct req *r)
{
    struct sig_hub *h = r->hub;
    int64_t room, id, before = 0, after = 0;
    if (req_id(r, "room", &room) || req_id(r, "message", &id) || req_member(r, room, NULL))
        return -1;
    struct sto_message m = {0};
    int err = sto_message_get(h->db, id, &m);
    int64_t msg_room = m.room_id;
    sto_message_clear(&m);
    if (err || msg_room != room)
        return req_fail(r, "not_found", "message %" PRId64 " is not in room %" PRId64, id, room);
    if ((err = hub_tx_begin(h)) || (err = sto_read_get(h->db, room, r->conn->user_id, &before)) ||
        (err = sto_read_set(h->db, room, r->conn->user_id, id)) ||
        (err = sto_read_get(h->db, room, r->conn->user_id, &after))) {
        hub_tx_end(h, -ECANCELED);
        return req_fail_sto(r, err, "read position");
    }
    r->result = json_pack("{sI}", "last_read", (json_int_t)after);
    if (after == before) {
        hub_tx_end(h, -ECANCELED);
        return 0;
    }
    json_t *data = json_pack("{sI sI sI}", "room", (json_int_t)room, "user",
                             (json_int_t)r->conn->user_id, "message", (json_int_t)after);
    err = commit_with_event(r, room, "read", data);
    json_decref(data);
    return err;
}

int h_unread(struct req *r)
{
    struct sto_unread *u = NULL;
    size_t n = 0;
    int err = sto_unread_counts(r->hub->db, r->conn->user_id, &u, &n);
    if (err)
        return req_fail_sto(r, err, "unread counts");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{sI sI sI sI}", "room", (json_int_t)u[i].room_id,
                                              "last_read", (json_int_t)u[i].last_read_id, "unread",
                                              (json_int_t)u[i].unread, "mentions",
                                              (json_int_t)u[i].mentions));
    free(u);
    r->result = json_pack("{so si}", "rooms", list, "cap", STO_UNREAD_CAP);
    return 0;
}
