/*
 * hub.c - connections, request dispatch, replies and event delivery.
 *
 * Ordering is what makes reconnects exact: everything runs on one thread, an
 * event is stored (getting the user's next seq) before it is pushed, and a
 * connection's replay in hello is queued before any later push. So a device
 * sees every seq once, in order, whether it was online or catching up.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define LIMITED_IN_A_ROW_MAX 200 /* a client ignoring rate_limited is closed */

void sig_hub_config_defaults(struct sig_hub_config *c)
{
    memset(c, 0, sizeof *c);
    c->turn_ttl_s = 8 * 3600;
    c->relay_only = true;
    c->max_frame = 64 * 1024;
    c->rate_per_s = 20;
    c->rate_burst = 100;
    c->ring_timeout_ms = 45000;
    c->replay_max = 20000;
    c->max_connections = 10000;
    c->presence_broadcast_max = 1000;
    c->call_mesh_max = 4;
    c->broadcast_max = 200;
    c->call_sfu_max = 25;
}

struct sig_hub *sig_hub_new(const struct sig_hub_config *cfg, struct sto_db *db,
                            const struct sig_hub_env *env)
{
    struct sig_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = cfg;
    h->db = db;
    h->env = env;
    h->next_conn_id = 1;
    if (conn_index_init(&h->index) != 0) {
        free(h);
        return NULL;
    }
    return h;
}


void sig_hub_free(struct sig_hub *h)
{
    if (!h)
        return;
    hub_flush_touches(h);
    hub_batch_free(h);
    free(h->touch);
    calls_free(h);
    presence_free(h);
    while (h->conns) {
        struct sig_conn *c = h->conns;
        h->conns = c->next;
        free(c->subs);
        free(c);
    }
    conn_index_free(&h->index);
    free(h);
}

/* ---- connections ---- */

struct sig_conn *user_conns(struct sig_hub *h, int64_t user_id)
{
    return conn_index_user(&h->index, user_id);
}

struct sig_conn *conn_by_id(struct sig_hub *h, uint32_t id)
{
    return conn_index_id(&h->index, id);
}

enum presence user_presence(struct sig_hub *h, int64_t user_id)
{
    enum presence p = PRESENCE_OFFLINE;
    for (struct sig_conn *c = user_conns(h, user_id); c; c = c->user_next) {
        if (c->user_id != user_id || c->closing)
            continue;
        if (!c->away)
            return PRESENCE_ONLINE;
        p = PRESENCE_AWAY;
    }
    return p;
}

const char *presence_name(enum presence p)
{
    return p == PRESENCE_ONLINE ? "online" : p == PRESENCE_AWAY ? "away" : "offline";
}

struct sig_conn *sig_hub_open(struct sig_hub *h, void *handle, const char *peer_addr,
                              int64_t now)
{
    if (h->cfg->max_connections && h->stats.connections >= h->cfg->max_connections) {
        lt_log(LT_LOG_WARN, "signal", "conn_refused", "reason=limit connections=%" PRIu64,
               h->stats.connections);
        return NULL;
    }
    struct sig_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->handle = handle;
    c->id = h->next_conn_id++;
    if (h->next_conn_id == 0)
        h->next_conn_id = 1;
    lt_log_token(peer_addr ? peer_addr : "?", c->addr, sizeof c->addr);
    c->tokens = h->cfg->rate_burst;
    c->tokens_at = now;
    c->opened_at = now;
    c->last_rx = now;
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    conn_index_add(&h->index, c);
    h->stats.connections++;
    return c;
}

void sig_hub_closed(struct sig_hub *h, struct sig_conn *c, int64_t now)
{
    if (!c)
        return;
    calls_conn_closed(h, c, now);
    media_conn_closed(h, c);
    presence_unsubscribe_all(h, c);
    hub_forget_conn(h, c);
    if (c->user_id) {
        enum presence before = user_presence(h, c->user_id);
        conn_index_unlink_user(&h->index, c);
        h->stats.authenticated--;
        int64_t uid = c->user_id;
        c->user_id = 0;
        presence_changed(h, uid, before);
        if (!user_conns(h, uid))
            h->stats.users_online--;
        lt_log(LT_LOG_INFO, "signal", "ws_close", "conn=%u user=%" PRId64, c->id, uid);
    }
    conn_index_remove(&h->index, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->stats.connections--;
    free(c);
}

void conn_close(struct sig_hub *h, struct sig_conn *c, int code, const char *reason)
{
    if (c->closing)
        return;
    enum presence before = c->user_id ? user_presence(h, c->user_id) : PRESENCE_OFFLINE;
    c->closing = true;
    h->env->close(h->env->ctx, c->handle, code, reason);
    if (c->user_id) /* a closing device no longer counts: say so now, not at the TCP close */
        presence_changed(h, c->user_id, before);
}

/* ---- sending ---- */

static void conn_queue(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len,
                       bool event)
{
    if (c->closing)
        return;
    int (*send)(void *, void *, const char *, size_t) =
        event && c->batch && h->env->send_event ? h->env->send_event : h->env->send;
    if (send(h->env->ctx, c->handle, text, len) != 0) {
        lt_log(LT_LOG_WARN, "signal", "ws_overflow", "conn=%u user=%" PRId64, c->id, c->user_id);
        conn_close(h, c, 1008, "send queue full; reconnect with your last seq");
    }
}

void conn_send_text(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len)
{
    conn_queue(h, c, text, len, false);
}

void conn_send_event(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len)
{
    conn_queue(h, c, text, len, true);
}

void conn_send_json(struct sig_hub *h, struct sig_conn *c, json_t *frame)
{
    if (!frame)
        return;
    char *text = json_dumps(frame, JSON_COMPACT);
    json_decref(frame);
    if (text) {
        conn_send_text(h, c, text, strlen(text));
        free(text);
    }
}

void send_ephemeral(struct sig_hub *h, struct sig_conn *c, const char *event, json_t *data)
{
    json_t *frame = json_pack("{ss ss sO}", "type", "event", "event", event, "data", data);
    char *text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
    json_decref(frame);
    if (text)
        conn_send_event(h, c, text, strlen(text));
    free(text);
}

void user_send_ephemeral(struct sig_hub *h, int64_t user_id, const char *event, json_t *data,
                         const struct sig_conn *except)
{
    for (struct sig_conn *c = user_conns(h, user_id); c; c = c->user_next)
        if (c->user_id == user_id && c != except)
            send_ephemeral(h, c, event, data);
}

int hub_event_frame(char **out, int64_t seq, const char *type, const char *payload)
{
    return asprintf(out, "{\"type\":\"event\",\"seq\":%" PRId64 ",\"event\":\"%s\",\"data\":%s}",
                    seq, type, payload);
}

void deliver_event(struct sig_hub *h, int64_t seq, const char *type, const char *payload,
                   const int64_t *users, size_t n)
{
    char *frame = NULL;
    int len = 0;
    for (size_t i = 0; i < n; i++)
        for (struct sig_conn *c = user_conns(h, users[i]); c; c = c->user_next) {
            if (c->user_id != users[i])
                continue;
            if (!frame && (len = hub_event_frame(&frame, seq, type, payload)) < 0)
                return; /* out of memory: the clients catch up by seq */
            conn_send_event(h, c, frame, (size_t)len);
            h->stats.events_sent++;
        }
    free(frame);
}

/* Delivers after the commit when a batch is open, now otherwise. */
static void deliver_or_hold(struct sig_hub *h, int64_t seq, const char *type, char **payload,
                            int64_t **users, size_t n)
{
    if (hub_hold_event(h, seq, type, *payload, *users, n)) {
        *payload = NULL;
        *users = NULL;
        return;
    }
    deliver_event(h, seq, type, *payload, *users, n);
}

void sig_hub_deliver(struct sig_hub *h, int64_t user_id, int64_t seq, const char *type,
                     const char *payload)
{
    if (!user_conns(h, user_id))
        return;
    char *copy = strdup(payload);
    int64_t *users = malloc(sizeof *users);
    if (copy && users) {
        *users = user_id;
        deliver_or_hold(h, seq, type, &copy, &users, 1);
    } else {
        deliver_event(h, seq, type, payload, &user_id, 1);
    }
    free(copy);
    free(users);
}

int room_event_store(struct sig_hub *h, int64_t room_id, const char *event, json_t *data,
                     struct pending_event *pe)
{
    memset(pe, 0, sizeof *pe);
    pe->type = event;
    if (!(pe->payload = json_dumps(data, JSON_COMPACT)))
        return -ENOMEM;
    int err = sto_event_append_room(h->db, room_id, event, pe->payload, &pe->seq, &pe->members,
                                    &pe->n);
    if (err) {
        lt_log(LT_LOG_ERROR, "signal", "event_store", "room=%" PRId64 " err=%d", room_id, err);
        pending_event_drop(pe);
    }
    return err;
}

void pending_event_send(struct sig_hub *h, struct pending_event *pe)
{
    deliver_or_hold(h, pe->seq, pe->type, &pe->payload, &pe->members, pe->n);
    pending_event_drop(pe);
}

void pending_event_drop(struct pending_event *pe)
{
    free(pe->members);
    free(pe->payload);
    pe->members = NULL;
    pe->payload = NULL;
    pe->n = 0;
}

int room_event(struct sig_hub *h, int64_t room_id, const char *event, json_t *data)
{
    struct pending_event pe;
    int err = room_event_store(h, room_id, event, data, &pe);
    if (err == 0)
        pending_event_send(h, &pe);
    return err;
}

int user_event(struct sig_hub *h, int64_t user_id, const char *event, json_t *data)
{
    char *payload = json_dumps(data, JSON_COMPACT);
    if (!payload)
        return -ENOMEM;
    int64_t seq;
    int err = sto_event_append(h->db, user_id, event, payload, &seq);
    if (err == 0)
        sig_hub_deliver(h, user_id, seq, event, payload);
    free(payload);
    return err;
}

void sig_hub_session_revoked(struct sig_hub *h, int64_t user_id, int64_t session_id,
                             int64_t keep_session_id)
{
    for (struct sig_conn *c = h->conns; c; c = c->next)
        if (c->user_id && (session_id ? c->session_id == session_id : c->user_id == user_id) &&
            c->session_id != keep_session_id)
            conn_close(h, c, 4001, "session ended");
}

static const struct {
    const char *type;
    handler_fn fn;
} HANDLERS[] = {
    {"ping", h_ping},
    {"user.me", h_user_me},
    {"user.list", h_user_list},
    {"presence.set", h_presence_set},
    {"presence.list", h_presence_list},
    {"presence.subscribe", h_presence_subscribe},
    {"typing", h_typing},
    {"turn.credentials", h_turn_credentials},
    {"search", h_search},
    {"room.list", h_room_list},
    {"room.get", h_room_get},
    {"room.create", h_room_create},
    {"room.direct", h_room_direct},
    {"room.update", h_room_update},
    {"room.invite", h_room_invite},
    {"room.leave", h_room_leave},
    {"room.kick", h_room_kick},
    {"room.members", h_room_members},
    {"message.send", h_message_send},
    {"message.edit", h_message_edit},
    {"message.delete", h_message_delete},
    {"message.history", h_message_history},
    {"reaction.add", h_reaction_add},
    {"reaction.remove", h_reaction_remove},
    {"read.mark", h_read_mark},
    {"unread", h_unread},
    {"call.invite", h_call_invite},
    {"call.ringing", h_call_ringing},
    {"call.accept", h_call_accept},
    {"call.decline", h_call_decline},
    {"call.cancel", h_call_cancel},
    {"call.hangup", h_call_hangup},
    {"call.signal", h_call_signal},
    {"call.list", h_call_list},
    {"call.sfu.offer", h_call_sfu_offer},
    {"call.sfu.candidate", h_call_sfu_candidate},
    {"media.echo", h_media_echo},
    {"media.candidate", h_media_candidate},
    {"media.stats", h_media_stats},
    {"media.close", h_media_close},
};

static handler_fn find_handler(const char *type)
{
    for (size_t i = 0; i < sizeof HANDLERS / sizeof HANDLERS[0]; i++)
        if (strcmp(HANDLERS[i].type, type) == 0)
            return HANDLERS[i].fn;
    return NULL;
}

/* Token bucket per connection. */
static bool rate_ok(struct sig_hub *h, struct sig_conn *c, int64_t now)
{
    if (now > c->tokens_at) {
        c->tokens += (double)(now - c->tokens_at) * h->cfg->rate_per_s / 1000.0;
        if (c->tokens > h->cfg->rate_burst)
            c->tokens = h->cfg->rate_burst;
        c->tokens_at = now;
    }
    if (c->tokens < 1.0)
        return false;
    c->tokens -= 1.0;
    return true;
}

/* A reply or error: held while a batch is open, so it never overtakes the
 * commit of what it acknowledges (or of an earlier request's writes). */
static void send_answer(struct sig_hub *h, struct sig_conn *c, json_t *frame, json_t *id)
{
    if (!frame)
        return;
    if (id)
        json_object_set(frame, "id", id);
    char *text = json_dumps(frame, JSON_COMPACT);
    json_decref(frame);
    if (!text)
        return;
    size_t len = strlen(text);
    if (!hub_hold_frame(h, c, text, len, id))
        conn_send_text(h, c, text, len);
    free(text);
}

static void send_error(struct sig_hub *h, struct sig_conn *c, json_t *id, const char *code,
                       const char *message)
{
    h->stats.errors++;
    send_answer(h, c, json_pack("{ss s{ss ss}}", "type", "error", "error", "code", code, "message",
                                message),
                id);
}

static bool id_valid(json_t *id)
{
    if (json_is_integer(id))
        return true;
    return json_is_string(id) && json_string_length(id) <= 64;
}

void sig_hub_recv(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len,
                  int64_t now)
{
    if (c->closing)
        return;
    c->last_rx = now;
    c->pinged_at = 0;
    h->stats.requests++;
    if (h->n_held >= HUB_BATCH_MAX) /* a long turn: do not hold replies forever */
        sig_hub_flush(h);
    if (len > h->cfg->max_frame) {
        send_error(h, c, NULL, "too_large", "frame too large");
        conn_close(h, c, 1009, "frame too large");
        return;
    }
    /* Parsed before the rate check (the frame is bounded) so that a refusal
     * carries the request's id and the client's pending call can end. */
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!rate_ok(h, c, now)) {
        h->stats.rate_limited++;
        json_t *rid = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
        if (++c->limited_in_a_row > LIMITED_IN_A_ROW_MAX)
            conn_close(h, c, 1008, "rate limit");
        else
            send_error(h, c, rid && id_valid(rid) ? rid : NULL, "rate_limited",
                       "too many requests; slow down");
        json_decref(msg);
        return;
    }
    c->limited_in_a_row = 0;
    if (!msg || !json_is_object(msg)) {
        char m[200];
        if (msg)
            snprintf(m, sizeof m, "a request must be a JSON object");
        else
            snprintf(m, sizeof m, "bad JSON at byte %d: %s", jerr.position, jerr.text);
        send_error(h, c, NULL, "bad_request", m);
        json_decref(msg);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    if (id && !id_valid(id)) {
        send_error(h, c, NULL, "bad_request", "\"id\" must be an integer or a short string");
        json_decref(msg);
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    handler_fn fn = NULL;
    if (!type)
        send_error(h, c, id, "bad_request", "\"type\" is required");
    else if (strcmp(type, "hello") == 0)
        fn = h_hello;
    else if (!c->user_id)
        send_error(h, c, id, "unauthorized", "send hello with your token first");
    else if (!(fn = find_handler(type))) {
        char m[120];
        snprintf(m, sizeof m, "unknown type \"%.60s\"", type);
        send_error(h, c, id, "unknown_type", m);
    }
    if (fn) {
        struct req r = {.hub = h, .conn = c, .msg = msg, .now = now};
        int rc = fn(&r);
        if (rc > 0) { /* the handler replied itself */
            if (c->user_id && fn == h_hello)
                calls_on_hello(h, c);
        } else if (rc == 0) {
            send_answer(h, c,
                        json_pack("{ss so}", "type", "reply", "result",
                                  r.result ? r.result : json_object()),
                        id);
        } else {
            json_decref(r.result);
            send_error(h, c, id, r.err_code, r.err_msg);
        }
    }
    json_decref(msg);
}

int64_t sig_hub_next_deadline(const struct sig_hub *h)
{
    return calls_next_deadline(h);
}

void sig_hub_alive(struct sig_hub *h, struct sig_conn *c, int64_t now)
{
    (void)h;
    c->last_rx = now;
    c->pinged_at = 0;
}

/* Sessions can end outside signald (a user disabled from the console or
 * appliancectl writes the database directly): each connection's session is
 * looked up again every SESSION_RECHECK_MS, at most SESSION_RECHECKS per scan
 * so a large server spreads the reads out. */
#define SESSION_RECHECK_MS 60000
#define SESSION_RECHECKS 200

static bool session_ended(struct sig_hub *h, struct sig_conn *c, int64_t now, int *budget)
{
    if (!c->user_id || now - c->checked_at < SESSION_RECHECK_MS || *budget <= 0)
        return false;
    (*budget)--;
    c->checked_at = now;
    int err = sto_session_live(h->db, c->session_id);
    if (err == -EACCES || err == -ENOENT) {
        lt_log(LT_LOG_INFO, "signal", "session_gone", "conn=%u user=%" PRId64 " reason=\"%s\"",
               c->id, c->user_id, sto_errmsg(h->db));
        return true;
    }
    return false;
}

static void idle_scan(struct sig_hub *h, int64_t now)
{
    if (now < h->idle_scan_at)
        return;
    h->idle_scan_at = now + SIG_HUB_IDLE_SCAN_MS;
    int budget = SESSION_RECHECKS;
    for (struct sig_conn *c = h->conns; c; c = c->next) {
        int64_t quiet = now - c->last_rx;
        if (c->closing)
            continue;
        if (session_ended(h, c, now, &budget)) {
            conn_close(h, c, 4001, "session ended");
            continue;
        }
        if (quiet >= SIG_HUB_IDLE_CLOSE_MS) {
            lt_log(LT_LOG_INFO, "signal", "ws_idle", "conn=%u user=%" PRId64 " quiet_ms=%" PRId64,
                   c->id, c->user_id, quiet);
            conn_close(h, c, 1001, "no answer to pings");
        } else if (quiet >= SIG_HUB_PING_AFTER_MS && !c->pinged_at && h->env->ping) {
            c->pinged_at = now;
            h->env->ping(h->env->ctx, c->handle);
        }
    }
}

void sig_hub_tick(struct sig_hub *h, int64_t now)
{
    calls_tick(h, now);
    hub_flush_touches(h);
    sig_hub_flush(h);
    idle_scan(h, now);
}

void sig_hub_stats(const struct sig_hub *h, struct sig_hub_stats *out)
{
    *out = h->stats;
    out->calls = 0;
    for (const struct sig_call *k = h->calls; k; k = k->next)
        out->calls++;
}
