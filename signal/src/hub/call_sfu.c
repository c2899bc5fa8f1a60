/*
 * call_sfu.c - group calls through mediad's room mode (docs/mediad.md).
 *
 * Each joined device sends one offer (call.sfu.offer): its own audio and
 * video sendrecv, then recvonly audio+video pairs up to CALL_SFU_PAIRS. It
 * joins mediad's room named after the call id. signald decides which
 * device's streams each pair carries and tells mediad (room.switch) and the
 * device (call.sfu.pairs); when a device leaves, its session is closed and
 * the pairs that carried it are switched to nothing.
 *
 * Last-N: a call may have more other devices than a device has pairs (up to
 * call_sfu_max devices). Its pairs then carry the latest speakers: a free
 * pair takes the publisher that spoke last (in the call's order among those
 * that never did), and when mediad names a speaker that is not on a device's
 * pairs, the pair whose device spoke longest ago (or never) is switched to
 * it. A device's audio travels with its pair, so one that is not on it is
 * heard once it becomes the speaker (docs/PROTOCOL.md).
 *
 * The SSRCs a device publishes are read from its offer, the way mediad reads
 * them (the first of an FID group, else the first a=ssrc of each sending
 * m-line): they are known before mediad answers, so others' pairs can be
 * switched at once. mediad answers commands in order on signald's one
 * connection, and binds a free slot to a new stream by itself (the first free
 * slot of its kind): signald gives a newcomer each device's lowest free pair,
 * which is where mediad put it already, so the switch only confirms it. A
 * device that mediad has just answered gets all its slots cleared and set
 * again; a refused switch does the same (at most RESYNC_MAX times).
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define SDP_MAX 60000 /* Chromium's offer of 8 m-lines is about 24 KB; a frame is 64 KB at most */
#define RESYNC_MAX 3

enum { KIND_AUDIO, KIND_VIDEO };

/* ---- the offer: what a device publishes and where its slots are ---- */

struct mline {
    int kind; /* -1: not audio or video */
    bool sends, receives, rejected;
    uint32_t ssrc, fid;
};

static void mline_done(const struct mline *m, struct call_sfu_dev *d, unsigned *slot,
                       unsigned n_kind[2])
{
    if (m->kind < 0 || m->rejected)
        return;
    uint32_t ssrc = m->fid ? m->fid : m->ssrc;
    if (m->sends && ssrc && !d->ssrc[m->kind])
        d->ssrc[m->kind] = ssrc;
    if (!m->receives)
        return;
    if (n_kind[m->kind] < CALL_SFU_PAIRS)
        d->slot[n_kind[m->kind]++][m->kind] = (int8_t)*slot;
    (*slot)++; /* mediad counts every receiving m-line it accepts */
}

/* Fills d->ssrc and d->slot from an SDP offer. 0, or -EINVAL with nothing to receive on. */
static int read_offer(const char *sdp, struct call_sfu_dev *d)
{
    memset(d->slot, -1, sizeof d->slot);
    memset(d->ssrc, 0, sizeof d->ssrc);
    struct mline m = {.kind = -1};
    unsigned slot = 0, n_kind[2] = {0, 0};
    for (const char *p = sdp; *p;) {
        size_t len = strcspn(p, "\r\n");
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        p += len;
        p += strspn(p, "\r\n");
        unsigned long a, b;
        if (strncmp(line, "m=", 2) == 0) {
            mline_done(&m, d, &slot, n_kind);
            m = (struct mline){.kind = strncmp(line, "m=audio ", 8) == 0   ? KIND_AUDIO
                                       : strncmp(line, "m=video ", 8) == 0 ? KIND_VIDEO
                                                                           : -1,
                               .sends = true, .receives = true};
            m.rejected = m.kind >= 0 && strncmp(line + 8, "0 ", 2) == 0;
        } else if (strcmp(line, "a=sendonly") == 0) {
            m.sends = true, m.receives = false;
        } else if (strcmp(line, "a=recvonly") == 0) {
            m.sends = false, m.receives = true;
        } else if (strcmp(line, "a=inactive") == 0) {
            m.sends = false, m.receives = false;
        } else if (strcmp(line, "a=sendrecv") == 0) {
            m.sends = true, m.receives = true;
        } else if (!m.fid && sscanf(line, "a=ssrc-group:FID %lu %lu", &a, &b) == 2) {
            m.fid = (uint32_t)a;
        } else if (!m.ssrc && sscanf(line, "a=ssrc:%lu ", &a) == 1) {
            m.ssrc = (uint32_t)a;
        }
    }
    mline_done(&m, d, &slot, n_kind);
    return slot ? 0 : -EINVAL;
}

/* ---- commands to mediad ---- */

/* id routes mediad's answer back to call_sfu_reply(); conn_id 0: nobody waits. */
static void to_mediad(struct sig_hub *h, const struct sig_call *k, uint32_t conn_id, uint32_t gen,
                      const char *op, json_t *client_id, json_t *cmd)
{
    json_t *id = conn_id ? json_pack("{ss ss sI sI}", "sfu", op, "call", k->id, "conn",
                                     (json_int_t)conn_id, "gen", (json_int_t)gen)
                         : NULL;
    if (id && client_id)
        json_object_set(id, "id", client_id);
    int err = h->env->media ? h->env->media(h->env->ctx, conn_id, id, cmd) : -ENOTSUP;
    if (err)
        lt_log(LT_LOG_WARN, "signal", "call_sfu_unsent", "call=%s cmd=%s error=%d", k->id, op, err);
    /* A device waits for its offer's or candidate's answer; a switch that
     * could not be sent is not retried from here (that would recurse). */
    if (err && conn_id && strcmp(op, "switch") != 0) {
        json_t *fail = json_pack("{sb ss}", "ok", 0, "error", "the media service is not reachable");
        call_sfu_reply(h, conn_id, id, fail);
        json_decref(fail);
    }
    json_decref(id);
    json_decref(cmd);
}

static void switch_slot(struct sig_hub *h, const struct sig_call *k, const struct call_member *m,
                        int slot, uint32_t ssrc)
{
    if (slot < 0)
        return;
    to_mediad(h, k, m->conn_id, m->sfu.gen, "switch", NULL,
              json_pack("{ss ss si sI}", "cmd", "room.switch", "id", m->sfu.session, "slot", slot,
                        "ssrc", (json_int_t)ssrc));
}

static void close_session(struct sig_hub *h, const struct sig_call *k, const char *session)
{
    to_mediad(h, k, 0, 0, "close", NULL, json_pack("{ss ss}", "cmd", "close", "id", session));
}

/* ---- which pair carries whom ---- */

static struct call_member *by_conn(struct sig_call *k, uint32_t conn_id)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->m[i].state == CM_JOINED && k->m[i].conn_id == conn_id)
            return &k->m[i];
    return NULL;
}

/* In a broadcast only the presenter (m[0]) publishes. */
static bool publisher(const struct sig_call *k, const struct call_member *m)
{
    return !k->broadcast || m == &k->m[0];
}

static bool publishes(const struct sig_call *k, const struct call_member *m)
{
    return m && m->state == CM_JOINED && m->sfu.offered && publisher(k, m);
}

static void tell_pairs(struct sig_hub *h, struct sig_call *k, struct call_member *m)
{
    struct sig_conn *c = conn_by_id(h, m->conn_id);
    if (!c)
        return;
    json_t *pairs = json_array();
    for (int j = 0; j < CALL_SFU_PAIRS; j++) {
        struct call_member *o = m->sfu.pair_conn[j] ? by_conn(k, m->sfu.pair_conn[j]) : NULL;
        if (o)
            json_array_append_new(pairs, json_pack("{si sI sI}", "pair", j, "user",
                                                   (json_int_t)o->user_id, "conn",
                                                   (json_int_t)o->conn_id));
    }
    json_t *data = json_pack("{ss so}", "call", k->id, "pairs", pairs);
    send_ephemeral(h, c, "call.sfu.pairs", data);
    json_decref(data);
}

static bool on_pairs(const struct call_sfu_dev *d, uint32_t conn_id)
{
    for (int j = 0; j < CALL_SFU_PAIRS; j++)
        if (d->pair_conn[j] == conn_id)
            return true;
    return false;
}

static bool usable(const struct call_sfu_dev *d, int j)
{
    return d->slot[j][KIND_AUDIO] >= 0 || d->slot[j][KIND_VIDEO] >= 0;
}

static int lowest_free_pair(const struct call_sfu_dev *d)
{
    for (int j = 0; j < CALL_SFU_PAIRS; j++)
        if (!d->pair_conn[j] && usable(d, j))
            return j;
    return -1;
}

/* The publisher m should see next: the one that spoke last, else the first
 * in the call's order; NULL when every publisher is on m's pairs. */
static struct call_member *next_unshown(struct sig_call *k, const struct call_member *m)
{
    struct call_member *best = NULL;
    for (size_t i = 0; i < k->n; i++) {
        struct call_member *o = &k->m[i];
        if (o != m && publishes(k, o) && !on_pairs(&m->sfu, o->conn_id) &&
            (!best || o->sfu.spoke > best->sfu.spoke))
            best = o;
    }
    return best;
}

/* m's pair j carries o from now on; a pair that carried someone else has
 * its slot of a kind o does not send cleared. */
static void put_on_pair(struct sig_hub *h, const struct sig_call *k, struct call_member *m, int j,
                        const struct call_member *o)
{
    bool held = m->sfu.pair_conn[j] != 0;
    m->sfu.pair_conn[j] = o->conn_id;
    for (int kind = KIND_AUDIO; kind <= KIND_VIDEO; kind++)
        if (o->sfu.ssrc[kind] || held)
            switch_slot(h, k, m, m->sfu.slot[j][kind], o->sfu.ssrc[kind]);
}

/* Frees m's pairs whose device stopped publishing and fills its free pairs
 * (lowest first) with the publishers it should see next; switches what
 * changed. A newcomer thus gets each device's lowest free pair. */
static bool arrange(struct sig_hub *h, struct sig_call *k, struct call_member *m)
{
    if (!m->sfu.session[0] || m->state != CM_JOINED)
        return false; /* arranged in full when mediad answers its offer */
    struct call_sfu_dev *d = &m->sfu;
    bool changed = false;
    for (int j = 0; j < CALL_SFU_PAIRS; j++) {
        if (!d->pair_conn[j] || publishes(k, by_conn(k, d->pair_conn[j])))
            continue;
        d->pair_conn[j] = 0;
        switch_slot(h, k, m, d->slot[j][KIND_AUDIO], 0);
        switch_slot(h, k, m, d->slot[j][KIND_VIDEO], 0);
        changed = true;
    }
    for (int j; (j = lowest_free_pair(d)) >= 0;) {
        const struct call_member *o = next_unshown(k, m);
        if (!o)
            break;
        put_on_pair(h, k, m, j, o);
        changed = true;
    }
    return changed;
}

/* Puts the speaker who on one of m's pairs if it is not on one: a free
 * pair, else the one whose device spoke longest ago. */
static bool bring_on(struct sig_hub *h, struct sig_call *k, struct call_member *m,
                     const struct call_member *who)
{
    if (m == who || !m->sfu.session[0] || m->state != CM_JOINED || on_pairs(&m->sfu, who->conn_id))
        return false;
    int j = lowest_free_pair(&m->sfu);
    bool full = j < 0;
    uint32_t oldest = UINT32_MAX;
    for (int i = 0; full && i < CALL_SFU_PAIRS; i++) {
        const struct call_member *o = usable(&m->sfu, i) ? by_conn(k, m->sfu.pair_conn[i]) : NULL;
        if (o && o->sfu.spoke < oldest)
            oldest = o->sfu.spoke, j = i;
    }
    if (j < 0)
        return false; /* m receives nothing */
    lt_log(LT_LOG_DEBUG, "signal", "call_sfu_last_n", "call=%s conn=%u pair=%d from=%u to=%u",
           k->id, m->conn_id, j, m->sfu.pair_conn[j], who->conn_id);
    put_on_pair(h, k, m, j, who);
    return true;
}

static void arrange_all(struct sig_hub *h, struct sig_call *k, const struct call_member *except)
{
    for (size_t i = 0; i < k->n; i++)
        if (&k->m[i] != except && arrange(h, k, &k->m[i]))
            tell_pairs(h, k, &k->m[i]);
}

/* Every slot of m to nothing, then arranged from scratch: no switch can then
 * meet a stream mediad bound by itself to another slot of m. */
static void rearrange(struct sig_hub *h, struct sig_call *k, struct call_member *m)
{
    for (int j = 0; j < CALL_SFU_PAIRS; j++) {
        switch_slot(h, k, m, m->sfu.slot[j][KIND_AUDIO], 0);
        switch_slot(h, k, m, m->sfu.slot[j][KIND_VIDEO], 0);
        m->sfu.pair_conn[j] = 0;
    }
    arrange(h, k, m);
    tell_pairs(h, k, m);
}

/* ---- requests ---- */

static int sfu_device(struct req *r, struct sig_call **k, struct call_member **me)
{
    const char *id;
    if (req_str(r, "call", &id))
        return -1;
    *k = call_find(r->hub, id);
    *me = *k ? call_member_of(*k, r->conn->user_id) : NULL;
    if (!*me || r->conn->call != *k || (*me)->conn_id != r->conn->id)
        return req_fail(r, "not_found", "this device is not in that call");
    if (!(*k)->sfu)
        return req_fail(r, "conflict", "this call is a mesh: send offers to the other devices");
    return 0;
}

int h_call_sfu_offer(struct req *r)
{
    struct sig_hub *h = r->hub;
    struct sig_call *k;
    struct call_member *me;
    const char *sdp;
    if (sfu_device(r, &k, &me) || req_str(r, "sdp", &sdp))
        return -1;
    if (strlen(sdp) > SDP_MAX || strncmp(sdp, "v=0", 3) != 0)
        return req_fail(r, "bad_request", "\"sdp\" must be an SDP offer");
    if (me->sfu.offered)
        return req_fail(r, "conflict", "this device sent its offer already");
    struct call_sfu_dev d = {0};
    bool presenter = k->broadcast && me == &k->m[0];
    if (read_offer(sdp, &d) && !presenter) /* a presenter may only send */
        return req_fail(r, "bad_request", "the offer has no audio or video m-line to receive on");
    if (!publisher(k, me) && (d.ssrc[KIND_AUDIO] || d.ssrc[KIND_VIDEO]))
        return req_fail(r, "bad_request", "a broadcast's viewer sends nothing: offer recvonly");
    me->sfu = d;
    me->sfu.offered = true;
    me->sfu.gen = ++k->sfu_offers;
    to_mediad(h, k, me->conn_id, me->sfu.gen, "offer", json_object_get(r->msg, "id"),
              json_pack("{ss ss ss sb}", "cmd", "room.offer", "room", k->id, "sdp", sdp,
                        "relay_only", h->cfg->relay_only));
    /* mediad publishes its streams when it reads the offer: the others' free
     * pairs take them now (commands after this one wait for its answer). */
    if (me->sfu.offered && publisher(k, me))
        arrange_all(h, k, me);
    return 1; /* mediad answers later */
}

int h_call_sfu_candidate(struct req *r)
{
    struct sig_call *k;
    struct call_member *me;
    const char *candidate;
    if (sfu_device(r, &k, &me) || req_str(r, "candidate", &candidate))
        return -1;
    if (!me->sfu.session[0])
        return req_fail(r, "conflict", "mediad has not answered this device's offer yet");
    to_mediad(r->hub, k, me->conn_id, me->sfu.gen, "candidate", json_object_get(r->msg, "id"),
              json_pack("{ss ss ss}", "cmd", "room.candidate", "id", me->sfu.session,
                        "candidate", candidate));
    return 1;
}

/* ---- answers ---- */

static void reply_to_device(struct sig_hub *h, uint32_t conn_id, json_t *client_id, json_t *reply,
                            const char *session)
{
    struct sig_conn *c = conn_by_id(h, conn_id);
    if (!c || c->closing)
        return;
    json_t *frame;
    if (json_is_true(json_object_get(reply, "ok"))) {
        json_t *result = json_object();
        if (session)
            json_object_set_new(result, "sdp", json_string(json_string_value(
                                                   json_object_get(reply, "sdp"))));
        frame = json_pack("{ss so}", "type", "reply", "result", result);
    } else {
        frame = media_error_frame(reply);
    }
    if (frame && client_id)
        json_object_set(frame, "id", client_id);
    conn_send_json(h, c, frame);
}

static void tell_speaker(struct sig_hub *h, struct sig_call *k, const struct call_member *m);

void call_sfu_reply(struct sig_hub *h, uint32_t conn_id, json_t *id, json_t *reply)
{
    const char *op = json_string_value(json_object_get(id, "sfu"));
    const char *call = json_string_value(json_object_get(id, "call"));
    struct sig_call *k = call ? call_find(h, call) : NULL;
    struct call_member *m = k ? by_conn(k, conn_id) : NULL;
    if (m && m->sfu.gen != (uint32_t)json_integer_value(json_object_get(id, "gen")))
        m = NULL; /* about an offer of before the device left and came back */
    bool ok = json_is_true(json_object_get(reply, "ok"));
    const char *session = json_string_value(json_object_get(reply, "id"));
    if (strcmp(op, "offer") == 0) {
        if (ok && session && (!m || !m->sfu.offered || m->sfu.session[0])) {
            json_t *cmd = json_pack("{ss ss}", "cmd", "close", "id", session);
            if (h->env->media) /* the device left while mediad gathered */
                h->env->media(h->env->ctx, 0, NULL, cmd);
            json_decref(cmd);
            return;
        }
        if (m && ok && session) {
            snprintf(m->sfu.session, sizeof m->sfu.session, "%s", session);
            lt_log(LT_LOG_INFO, "signal", "call_sfu_join", "call=%s conn=%u session=%s", k->id,
                   conn_id, session);
            reply_to_device(h, conn_id, json_object_get(id, "id"), reply, session);
            rearrange(h, k, m);
            if (k->sfu_speaker) /* chosen before it came: it would not hear until the next change */
                tell_speaker(h, k, m);
        } else if (m) {
            lt_log(LT_LOG_WARN, "signal", "call_sfu_offer_failed", "call=%s conn=%u error=\"%s\"",
                   k->id, conn_id, json_string_value(json_object_get(reply, "error")));
            memset(&m->sfu, 0, sizeof m->sfu);
            reply_to_device(h, conn_id, json_object_get(id, "id"), reply, NULL);
            arrange_all(h, k, m); /* what the others' pairs held for it goes */
        }
    } else if (strcmp(op, "candidate") == 0) {
        reply_to_device(h, conn_id, json_object_get(id, "id"), reply, NULL);
    } else if (strcmp(op, "switch") == 0 && !ok && m && m->sfu.session[0]) {
        lt_log(LT_LOG_WARN, "signal", "call_sfu_switch_refused", "call=%s conn=%u error=\"%s\"",
               k->id, conn_id, json_string_value(json_object_get(reply, "error")));
        if (m->sfu.resyncs++ < RESYNC_MAX)
            rearrange(h, k, m);
    }
}

/* ---- who speaks ---- */

/* call.speaker about k's current speaker to m's device, or to every device (m NULL). */
static void tell_speaker(struct sig_hub *h, struct sig_call *k, const struct call_member *m)
{
    const struct call_member *who = k->sfu_speaker ? by_conn(k, k->sfu_speaker) : NULL;
    json_t *data = json_pack("{ss so? so?}", "call", k->id, "user",
                             who ? json_integer(who->user_id) : NULL, "conn",
                             who ? json_integer(who->conn_id) : NULL);
    for (size_t i = 0; i < k->n; i++) {
        struct sig_conn *c = k->m[i].state == CM_JOINED && (!m || m == &k->m[i])
                                 ? conn_by_id(h, k->m[i].conn_id)
                                 : NULL;
        if (c)
            send_ephemeral(h, c, "call.speaker", data);
    }
    json_decref(data);
}

/* mediad spaces its changes (300 ms at least per room), so this is a few per second at most. */
void call_sfu_speaker(struct sig_hub *h, const char *room, const char *session)
{
    struct sig_call *k = call_find(h, room);
    if (!k || !k->sfu)
        return;
    struct call_member *who = NULL;
    for (size_t i = 0; i < k->n && session; i++)
        if (k->m[i].state == CM_JOINED && strcmp(k->m[i].sfu.session, session) == 0)
            who = &k->m[i];
    if (session && !who)
        return; /* a session that has left the call already */
    k->sfu_speaker = who ? who->conn_id : 0;
    if (who && publishes(k, who)) { /* its tile and its voice before the news that it speaks */
        who->sfu.spoke = ++k->sfu_turns;
        for (size_t i = 0; i < k->n; i++)
            if (bring_on(h, k, &k->m[i], who))
                tell_pairs(h, k, &k->m[i]);
    }
    tell_speaker(h, k, NULL);
}

/* ---- leaving ---- */

void call_sfu_left(struct sig_hub *h, struct sig_call *k, struct call_member *m)
{
    if (m->sfu.session[0])
        close_session(h, k, m->sfu.session);
    bool published = m->sfu.offered && publisher(k, m);
    memset(&m->sfu, 0, sizeof m->sfu); /* an answer still on its way is closed when it comes */
    if (published)
        arrange_all(h, k, m);
}

void call_sfu_end(struct sig_hub *h, struct sig_call *k)
{
    if (!k->sfu)
        return;
    for (size_t i = 0; i < k->n; i++)
        if (k->m[i].sfu.session[0]) {
            close_session(h, k, k->m[i].sfu.session);
            k->m[i].sfu.session[0] = '\0';
        }
}
