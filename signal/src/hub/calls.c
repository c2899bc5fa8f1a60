/*
 * calls.c - call signalling: invite, ringing, accept, decline, cancel, hang
 * up, busy and timeout, and the relay of SDP offers/answers and ICE
 * candidates between the devices in a call.
 *
 * Calls live in memory only: a call is as old as the connections in it. A
 * device takes part through one connection; signalling is addressed to a
 * connection id (a user may have a phone and a laptop online, and only the
 * one that answered is in the call). Group calls are a mesh: when a device
 * joins, the devices already in the call send it their offers; a call of
 * more members than call_mesh_max (or asked for with "sfu") goes through
 * mediad instead (call_sfu.c).
 */
#include "internal.h"

#include "util/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define CALL_JOINED_MAX 8 /* a mesh beyond this would overload the browsers */
#define CALLS_MAX 10000

static const char *state_name(int s)
{
    static const char *names[] = {"invited", "ringing", "joined", "declined", "left"};
    return names[s];
}

static json_t *call_json(const struct sig_call *k)
{
    json_t *members = json_array();
    for (size_t i = 0; i < k->n; i++) {
        json_t *m = json_pack("{sI ss}", "user", (json_int_t)k->m[i].user_id, "state",
                              state_name(k->m[i].state));
        if (k->m[i].state == CM_JOINED)
            json_object_set_new(m, "conn", json_integer(k->m[i].conn_id));
        json_array_append_new(members, m);
    }
    json_t *call = json_pack("{ss sI ss sb sI sI so ss}", "id", k->id, "room",
                             (json_int_t)k->room_id, "media", k->video ? "video" : "audio",
                             "active", k->active, "caller", (json_int_t)k->m[0].user_id,
                             "created_at", (json_int_t)k->created_at, "members", members, "mode",
                             k->sfu ? "sfu" : "mesh");
    if (call && k->sfu)
        json_object_set_new(call, "pairs", json_integer(CALL_SFU_PAIRS));
    if (call && k->broadcast)
        json_object_set_new(call, "broadcast", json_true());
    return call;
}

struct sig_call *call_find(struct sig_hub *h, const char *id)
{
    for (struct sig_call *k = h->calls; k; k = k->next)
        if (strcmp(k->id, id) == 0)
            return k;
    return NULL;
}

struct call_member *call_member_of(struct sig_call *k, int64_t user_id)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->m[i].user_id == user_id)
            return &k->m[i];
    return NULL;
}

static size_t joined_count(const struct sig_call *k)
{
    size_t n = 0;
    for (size_t i = 0; i < k->n; i++)
        n += k->m[i].state == CM_JOINED;
    return n;
}

/* An event to the devices in the call (except one). */
static void to_joined(struct sig_hub *h, struct sig_call *k, const char *event, json_t *data,
                      uint32_t except_conn)
{
    for (size_t i = 0; i < k->n; i++) {
        if (k->m[i].state != CM_JOINED || k->m[i].conn_id == except_conn)
            continue;
        struct sig_conn *c = conn_by_id(h, k->m[i].conn_id);
        if (c)
            send_ephemeral(h, c, event, data);
    }
}

/* Who hears of a member ringing, joining, declining or leaving: the call's
 * devices, except in a broadcast, where only the presenter does, with the
 * number of viewers. A viewer needs nothing of the others, and each of 200
 * viewers hearing of every other would be 40,000 frames. */
static void to_audience(struct sig_hub *h, struct sig_call *k, const char *event, json_t *data,
                        uint32_t except_conn)
{
    if (!k->broadcast) {
        to_joined(h, k, event, data, except_conn);
        return;
    }
    struct sig_conn *c = k->m[0].state == CM_JOINED && k->m[0].conn_id != except_conn
                             ? conn_by_id(h, k->m[0].conn_id)
                             : NULL;
    if (!c)
        return;
    json_object_set_new(data, "viewers", json_integer((json_int_t)joined_count(k) - 1));
    send_ephemeral(h, c, event, data);
}

/* An event to every device of every member (ringing ones included). */
static void to_everyone(struct sig_hub *h, struct sig_call *k, const char *event, json_t *data)
{
    for (size_t i = 0; i < k->n; i++)
        user_send_ephemeral(h, k->m[i].user_id, event, data, NULL);
}

static void end_call(struct sig_hub *h, struct sig_call *k, const char *reason)
{
    json_t *data = json_pack("{ss ss}", "call", k->id, "reason", reason);
    to_everyone(h, k, "call.ended", data);
    json_decref(data);
    call_sfu_end(h, k);
    for (struct sig_conn *c = h->conns; c; c = c->next)
        if (c->call == k)
            c->call = NULL;
    for (struct sig_call **p = &h->calls; *p; p = &(*p)->next)
        if (*p == k) {
            *p = k->next;
            break;
        }
    lt_log(LT_LOG_INFO, "signal", "call_end", "call=%s room=%" PRId64 " reason=%s", k->id,
           k->room_id, reason);
    free(k->m);
    free(k);
}

static int get_call(struct req *r, struct sig_call **out, struct call_member **me)
{
    const char *id;
    if (req_str(r, "call", &id))
        return -1;
    *out = call_find(r->hub, id);
    if (!*out || !(*me = call_member_of(*out, r->conn->user_id)))
        return req_fail(r, "not_found", "no such call (it may have ended)");
    return 0;
}

static bool user_busy(struct sig_hub *h, int64_t user_id)
{
    for (struct sig_conn *c = user_conns(h, user_id); c; c = c->user_next)
        if (c->user_id == user_id && c->call)
            return true;
    return false;
}

int h_call_invite(struct req *r)
{
    struct sig_hub *h = r->hub;
    struct sig_conn *c = r->conn;
    int64_t room;
    const char *media;
    bool sfu = false, broadcast = false;
    if (req_id(r, "room", &room) || req_str_opt(r, "media", &media) ||
        req_bool_opt(r, "sfu", &sfu) || req_bool_opt(r, "broadcast", &broadcast) ||
        req_member(r, room, NULL))
        return -1;
    if (media && strcmp(media, "audio") != 0 && strcmp(media, "video") != 0)
        return req_fail(r, "bad_request", "\"media\" must be \"audio\" or \"video\"");
    if ((sfu || broadcast) && !h->env->media)
        return req_fail(r, "unavailable", "the media service is not running on this server");
    if (c->call)
        return req_fail(r, "conflict", "this device is already in a call");
    size_t live = 0;
    for (struct sig_call *k = h->calls; k; k = k->next) {
        live++;
        if (k->room_id == room)
            return req_fail(r, "conflict", "a call is already going on in this room: %s", k->id);
    }
    if (live >= CALLS_MAX)
        return req_fail(r, "unavailable", "too many calls on this server");
    struct sto_member *mm = NULL;
    size_t n = 0;
    int err = sto_room_members(h->db, room, &mm, &n);
    if (err)
        return req_fail_sto(r, err, "members");
    struct sig_call *k = calloc(1, sizeof *k);
    if (k)
        k->m = calloc(n + 1, sizeof *k->m);
    uint8_t rnd[16];
    if (!k || !k->m || RAND_bytes(rnd, sizeof rnd) != 1) {
        sto_members_free(mm);
        if (k)
            free(k->m);
        free(k);
        return req_fail(r, "internal", "out of memory");
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(k->id + 2 * i, 3, "%02x", rnd[i]);
    k->room_id = room;
    k->video = media && strcmp(media, "video") == 0;
    /* The mode is chosen once, from the invitation: a mesh call never has
     * more joined devices than members, so it never outgrows call_mesh_max. */
    k->sfu = h->env->media && (sfu || broadcast || n > h->cfg->call_mesh_max);
    /* A broadcast runs from the start: viewers come and go whenever they
     * like, and it lasts as long as its presenter (leave()). */
    k->broadcast = broadcast;
    k->active = broadcast;
    k->created_at = r->now;
    k->ring_deadline = r->now + h->cfg->ring_timeout_ms;
    k->m[0] = (struct call_member){.user_id = c->user_id, .conn_id = c->id, .state = CM_JOINED};
    k->n = 1;
    size_t busy = 0;
    for (size_t i = 0; i < n; i++) {
        if (mm[i].user_id == c->user_id)
            continue;
        bool b = user_busy(h, mm[i].user_id);
        busy += b;
        k->m[k->n++] = (struct call_member){.user_id = mm[i].user_id,
                                            .state = b ? CM_DECLINED : CM_INVITED};
    }
    sto_members_free(mm);
    if (k->n == 1) {
        free(k->m);
        free(k);
        return req_fail(r, "bad_request", "there is nobody else in this room to call");
    }
    k->next = h->calls;
    h->calls = k;
    c->call = k;
    lt_log(LT_LOG_INFO, "signal", "call_invite", "call=%s room=%" PRId64 " user=%" PRId64
           " invited=%zu busy=%zu mode=%s", k->id, room, c->user_id, k->n - 1, busy,
           k->sfu ? "sfu" : "mesh");
    json_t *call = call_json(k);
    json_t *data = json_pack("{sO sI}", "call", call, "from_conn", (json_int_t)c->id);
    for (size_t i = 1; i < k->n; i++)
        if (k->m[i].state == CM_INVITED)
            user_send_ephemeral(h, k->m[i].user_id, "call.incoming", data, NULL);
    json_decref(data);
    r->result = json_pack("{so}", "call", call);
    if (busy == k->n - 1) /* everyone is in another call: tell the caller at once */
        k->ring_deadline = r->now;
    return 0;
}

int h_call_ringing(struct req *r)
{
    struct sig_call *k;
    struct call_member *me;
    if (get_call(r, &k, &me))
        return -1;
    if (me->state != CM_INVITED && me->state != CM_RINGING)
        return req_fail(r, "conflict", "this call is not ringing for you");
    me->state = CM_RINGING;
    json_t *data = json_pack("{ss sI}", "call", k->id, "user", (json_int_t)r->conn->user_id);
    to_audience(r->hub, k, "call.ringing", data, 0);
    json_decref(data);
    return 0;
}

int h_call_accept(struct req *r)
{
    struct sig_hub *h = r->hub;
    struct sig_call *k;
    struct call_member *me;
    if (get_call(r, &k, &me) || req_member(r, k->room_id, NULL))
        return -1;
    if (r->conn->call)
        return req_fail(r, "conflict", "this device is already in a call");
    if (me->state == CM_JOINED)
        return req_fail(r, "conflict", "you are in this call on another device");
    unsigned max = k->broadcast ? h->cfg->broadcast_max + 1
                   : k->sfu     ? h->cfg->call_sfu_max
                                : CALL_JOINED_MAX;
    if (joined_count(k) >= max && k->sfu && !k->broadcast)
        return req_fail(r, "unavailable", "the call is full (call_sfu_max = %u devices)", max);
    if (joined_count(k) >= max)
        return req_fail(r, "unavailable", "the %s is full (%u devices)",
                        k->broadcast ? "broadcast" : "call", max);
    me->state = CM_JOINED;
    memset(&me->sfu, 0, sizeof me->sfu); /* a device that rejoins offers mediad anew */
    me->conn_id = r->conn->id;
    r->conn->call = k;
    k->active = true;
    json_t *data = json_pack("{ss sI sI}", "call", k->id, "user", (json_int_t)me->user_id, "conn",
                             (json_int_t)r->conn->id);
    to_audience(h, k, "call.joined", data, r->conn->id);
    json_decref(data);
    data = json_pack("{ss ss}", "call", k->id, "reason", "answered_elsewhere");
    user_send_ephemeral(h, me->user_id, "call.ended", data, r->conn);
    json_decref(data);
    r->result = json_pack("{so}", "call", call_json(k));
    return 0;
}

static bool nobody_left_to_answer(const struct sig_call *k)
{
    for (size_t i = 1; i < k->n; i++)
        if (k->m[i].state == CM_INVITED || k->m[i].state == CM_RINGING)
            return false;
    return true;
}

int h_call_decline(struct req *r)
{
    struct sig_call *k;
    struct call_member *me;
    const char *reason;
    if (get_call(r, &k, &me) || req_str_opt(r, "reason", &reason))
        return -1;
    if (!reason)
        reason = "declined";
    if (strcmp(reason, "declined") != 0 && strcmp(reason, "busy") != 0)
        return req_fail(r, "bad_request", "\"reason\" must be \"declined\" or \"busy\"");
    if (me->state != CM_INVITED && me->state != CM_RINGING)
        return req_fail(r, "conflict", "this call is not ringing for you");
    me->state = CM_DECLINED;
    json_t *data = json_pack("{ss sI ss}", "call", k->id, "user", (json_int_t)me->user_id,
                             "reason", reason);
    to_audience(r->hub, k, "call.declined", data, 0);
    json_decref(data);
    data = json_pack("{ss ss}", "call", k->id, "reason", "declined_elsewhere");
    user_send_ephemeral(r->hub, me->user_id, "call.ended", data, r->conn);
    json_decref(data);
    if (!k->active && nobody_left_to_answer(k))
        end_call(r->hub, k, reason);
    return 0;
}

int h_call_cancel(struct req *r)
{
    struct sig_call *k;
    struct call_member *me;
    if (get_call(r, &k, &me))
        return -1;
    if (me != &k->m[0] || me->conn_id != r->conn->id)
        return req_fail(r, "forbidden", "only the caller's device can cancel");
    if (k->active)
        return req_fail(r, "conflict", "the call was answered; hang up instead");
    end_call(r->hub, k, "cancelled");
    return 0;
}

static void leave(struct sig_hub *h, struct sig_call *k, struct sig_conn *c)
{
    struct call_member *me = call_member_of(k, c->user_id);
    if (!me || me->state != CM_JOINED || me->conn_id != c->id)
        return;
    if (!k->active) { /* the caller gave up before anyone answered */
        end_call(h, k, "cancelled");
        return;
    }
    me->state = CM_LEFT;
    c->call = NULL;
    if (k->sfu)
        call_sfu_left(h, k, me);
    json_t *data = json_pack("{ss sI sI}", "call", k->id, "user", (json_int_t)c->user_id, "conn",
                             (json_int_t)c->id);
    to_audience(h, k, "call.left", data, 0);
    json_decref(data);
    if (k->broadcast ? me == &k->m[0] : joined_count(k) <= 1)
        end_call(h, k, "hangup"); /* a broadcast without its last viewer goes on */
}

int h_call_hangup(struct req *r)
{
    struct sig_call *k;
    struct call_member *me;
    if (get_call(r, &k, &me))
        return -1;
    if (r->conn->call != k)
        return req_fail(r, "conflict", "this device is not in that call");
    leave(r->hub, k, r->conn);
    return 0;
}

int h_call_signal(struct req *r)
{
    struct sig_call *k;
    struct call_member *me;
    int64_t to;
    if (get_call(r, &k, &me) || req_id(r, "to", &to))
        return -1;
    json_t *data = json_object_get(r->msg, "data");
    if (!json_is_object(data))
        return req_fail(r, "bad_request", "\"data\" must be an object (sdp or candidate)");
    if (r->conn->call != k)
        return req_fail(r, "forbidden", "this device is not in that call");
    struct sig_conn *target = to <= UINT32_MAX ? conn_by_id(r->hub, (uint32_t)to) : NULL;
    if (!target || target->call != k || target == r->conn)
        return req_fail(r, "not_found", "connection %" PRId64 " is not in this call", to);
    json_t *ev = json_pack("{ss sI sI sO}", "call", k->id, "from_user",
                           (json_int_t)r->conn->user_id, "from_conn", (json_int_t)r->conn->id,
                           "data", data);
    send_ephemeral(r->hub, target, "call.signal", ev);
    json_decref(ev);
    return 0;
}

int h_call_list(struct req *r)
{
    json_t *list = json_array();
    for (struct sig_call *k = r->hub->calls; k; k = k->next)
        if (call_member_of(k, r->conn->user_id))
            json_array_append_new(list, call_json(k));
    r->result = json_pack("{so}", "calls", list);
    return 0;
}

void calls_conn_closed(struct sig_hub *h, struct sig_conn *c, int64_t now)
{
    (void)now;
    if (c->call)
        leave(h, c->call, c);
}

/* A device that comes back while a call still rings for its user hears the
 * ring again; one that comes while a broadcast runs that its user is not
 * watching (or presenting) hears of it too, whenever it started. */
void calls_on_hello(struct sig_hub *h, struct sig_conn *c)
{
    for (struct sig_call *k = h->calls; k; k = k->next) {
        struct call_member *m = call_member_of(k, c->user_id);
        bool rings = m && !k->active && (m->state == CM_INVITED || m->state == CM_RINGING);
        bool watchable = m && k->broadcast && m != &k->m[0] && m->state != CM_JOINED;
        if (!rings && !watchable)
            continue;
        json_t *data = json_pack("{so sI}", "call", call_json(k), "from_conn",
                                 (json_int_t)k->m[0].conn_id);
        send_ephemeral(h, c, "call.incoming", data);
        json_decref(data);
    }
}

void calls_tick(struct sig_hub *h, int64_t now)
{
    struct sig_call *k = h->calls;
    while (k) {
        struct sig_call *next = k->next;
        if (!k->active && k->ring_deadline <= now)
            end_call(h, k, nobody_left_to_answer(k) ? "busy" : "timeout");
        k = next;
    }
}

int64_t calls_next_deadline(const struct sig_hub *h)
{
    int64_t t = INT64_MAX;
    for (const struct sig_call *k = h->calls; k; k = k->next)
        if (!k->active && k->ring_deadline < t)
            t = k->ring_deadline;
    return t;
}

void calls_free(struct sig_hub *h)
{
    while (h->calls) {
        struct sig_call *k = h->calls;
        h->calls = k->next;
        free(k->m);
        free(k);
    }
}
