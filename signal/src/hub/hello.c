/*
 * hello.c - a connection's first request: the session token authenticates it,
 * then the events it missed since its last seq are replayed (or it is told to
 * resync) before anything newer is pushed, which keeps every device's stream
 * exact across reconnects. Session "last seen" updates are deferred into the
 * turn's group commit.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "util/log.h"

#define REPLAY_BATCH 500

static void defer_touch(struct sig_hub *h, int64_t session_id)
{
    if (h->n_touch == h->cap_touch) {
        size_t cap = h->cap_touch ? h->cap_touch * 2 : 64;
        int64_t *t = realloc(h->touch, cap * sizeof *t);
        if (!t) {
            sto_session_touch(h->db, session_id); /* at once, then */
            return;
        }
        h->touch = t;
        h->cap_touch = cap;
    }
    h->touch[h->n_touch++] = session_id;
}

void hub_flush_touches(struct sig_hub *h)
{
    if (!h->n_touch)
        return;
    if (hub_tx_begin(h) == 0) { /* part of the turn's group commit */
        int err = 0;
        for (size_t i = 0; i < h->n_touch && !err; i++)
            err = sto_session_touch(h->db, h->touch[i]);
        hub_tx_end(h, err);
    }
    h->n_touch = 0;
}

/* More than this many bytes of missed events would fill the connection's
 * send queue (and close it, again on every reconnect): the client reloads
 * its state instead (resync). */
#define REPLAY_BYTES_MAX (4u << 20)

static int replay(struct sig_hub *h, struct sig_conn *c, int64_t since, int64_t *count)
{
    size_t bytes = 0;
    *count = 0;
    for (;;) {
        struct sto_event *e = NULL;
        size_t n = 0;
        int err = sto_event_since(h->db, c->user_id, since, REPLAY_BATCH, &e, &n);
        if (err)
            return err;
        for (size_t i = 0; i < n; i++) {
            char *frame;
            int len = hub_event_frame(&frame, e[i].seq, e[i].type, e[i].payload);
            if (len >= 0) {
                bytes += (size_t)len;
                if (bytes > REPLAY_BYTES_MAX) {
                    free(frame);
                    sto_events_free(e, n);
                    return -EFBIG;
                }
                conn_send_event(h, c, frame, (size_t)len);
                free(frame);
            }
            since = e[i].seq;
        }
        sto_events_free(e, n);
        *count += (int64_t)n;
        if (*count > h->cfg->replay_max)
            return -EFBIG;
        if (n < REPLAY_BATCH || c->closing)
            return 0;
    }
}

int h_hello(struct req *r)
{
    struct sig_hub *h = r->hub;
    struct sig_conn *c = r->conn;
    const char *token;
    int64_t since = -1;
    if (c->user_id)
        return req_fail(r, "bad_request", "already said hello on this connection");
    /* The replay reads the database: it must not see (and send) events whose
     * commit, and whose held delivery, are still to come. */
    sig_hub_flush(h);
    if (req_str(r, "token", &token) != 0)
        return -1;
    json_t *s = json_object_get(r->msg, "since");
    if (s && !json_is_null(s)) {
        if (!json_is_integer(s) || json_integer_value(s) < 0)
            return req_fail(r, "bad_request", "\"since\" must be a seq (an integer >= 0)");
        since = json_integer_value(s);
    }
    bool away = false, batch = false;
    if (req_bool_opt(r, "away", &away) != 0 || req_bool_opt(r, "batch", &batch) != 0)
        return -1;

    struct sto_session sess = {0};
    int err = sto_session_get(h->db, token, &sess);
    int64_t session_id = sess.id, user_id = sess.user_id;
    sto_session_clear(&sess);
    if (err == -ENOENT || err == -EACCES) {
        lt_log(LT_LOG_INFO, "signal", "hello_refused", "conn=%u addr=%s", c->id, c->addr);
        return req_fail(r, "unauthorized", "the token is unknown, expired or revoked; log in again");
    }
    if (err)
        return req_fail_sto(r, err, "session");
    struct sto_user u = {0};
    if ((err = sto_user_get(h->db, user_id, &u)) != 0)
        return req_fail_sto(r, err, "user");
    defer_touch(h, session_id);

    int64_t last = 0;
    if ((err = sto_event_last_seq(h->db, u.id, &last)) != 0) {
        sto_user_clear(&u);
        return req_fail_sto(r, err, "events");
    }
    /* seqs are positions in the whole server's stream, so last - since says
     * nothing about how many of them are this user's: replay() counts. */
    bool resync = since > last;

    enum presence before = user_presence(h, u.id);
    if (!user_conns(h, u.id))
        h->stats.users_online++;
    c->user_id = u.id;
    c->session_id = session_id;
    c->checked_at = r->now;
    c->is_admin = u.is_admin;
    c->away = away;
    c->batch = batch;
    conn_index_link_user(&h->index, c);
    h->stats.authenticated++;

    r->result = json_pack("{so sI sI sb si}", "user", json_user(&u, PRESENCE_ONLINE), "conn",
                          (json_int_t)c->id, "last_seq", (json_int_t)last, "resync", resync,
                          "ping_interval_s", 25);
    lt_log(LT_LOG_INFO, "signal", "hello", "conn=%u user=%" PRId64 " addr=%s since=%" PRId64
           " last_seq=%" PRId64, c->id, u.id, c->addr, since, last);
    sto_user_clear(&u);

    /* The reply must go before the replayed events: the glue sends frames in
     * queue order, so queue it now and hand back nothing. */
    json_t *frame = json_pack("{ss sO}", "type", "reply", "result", r->result);
    json_t *id = json_object_get(r->msg, "id");
    if (frame && id)
        json_object_set(frame, "id", id);
    conn_send_json(h, c, frame);
    json_decref(r->result);
    r->result = NULL;
    if (since >= 0 && !resync) {
        int64_t n = 0;
        if ((err = replay(h, c, since, &n)) == -ERANGE || err == -EFBIG) {
            /* pruned, or too much to send: the client reloads its state and
             * carries on from last_seq */
            json_t *data = json_pack("{sI ss}", "last_seq", (json_int_t)last, "reason",
                                     err == -EFBIG ? "too_many_missed" : "pruned");
            send_ephemeral(h, c, "resync", data);
            json_decref(data);
        } else if (err) {
            lt_log(LT_LOG_ERROR, "signal", "replay_failed", "conn=%u err=%d", c->id, err);
            conn_close(h, c, 1011, "could not read missed events");
        }
        h->stats.events_replayed += (uint64_t)n;
    }
    presence_changed(h, c->user_id, before);
    return 1; /* replied already */
}
