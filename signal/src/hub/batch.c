/*
 * batch.c - group commit: the writes of every request handled in one turn
 * of the event loop share one transaction and one fsync.
 *
 * Each request writes inside a savepoint of the turn's transaction (so a
 * failing request is undone alone); its reply and the events it produced are
 * held back until the transaction commits (sig_hub_flush), then sent in the
 * order they were made. The promise stays: nothing is acknowledged, and no
 * event reaches anyone, before it is on disk. If the commit fails, every held
 * reply becomes an error and the held events are dropped with the data.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct held {
    struct sig_conn *conn; /* frames: the connection (NULL once it closed) */
    char *text;            /* a reply or error frame, or an event's payload */
    size_t len;
    json_t *id;            /* frames: the request's id, to turn into an error */
    int64_t seq;           /* events */
    const char *type;      /* events: a static string */
    int64_t *users;        /* events: who is owed it (one frame for all of them) */
    size_t n_users;
};

int hub_tx_begin(struct sig_hub *h)
{
    if (!h->batch_open) {
        int err = sto_begin(h->db);
        if (err)
            return err;
        h->batch_open = true;
    }
    return sto_savepoint(h->db);
}

int hub_tx_end(struct sig_hub *h, int rc)
{
    return sto_savepoint_end(h->db, rc);
}

static struct held *hold(struct sig_hub *h)
{
    if (h->n_held == h->cap_held) {
        size_t cap = h->cap_held ? h->cap_held * 2 : 64;
        struct held *v = realloc(h->held, cap * sizeof *v);
        if (!v)
            return NULL;
        h->held = v;
        h->cap_held = cap;
    }
    struct held *x = &h->held[h->n_held++];
    memset(x, 0, sizeof *x);
    return x;
}

bool hub_hold_frame(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len,
                    json_t *id)
{
    if (!h->batch_open)
        return false;
    struct held *x = hold(h);
    char *copy = malloc(len);
    if (!x || !copy) { /* out of memory: sending now is the lesser evil */
        if (x)
            h->n_held--;
        free(copy);
        return false;
    }
    memcpy(copy, text, len);
    x->conn = c;
    x->text = copy;
    x->len = len;
    x->id = id ? json_incref(id) : NULL;
    return true;
}

bool hub_hold_event(struct sig_hub *h, int64_t seq, const char *type, char *payload,
                    int64_t *users, size_t n_users)
{
    if (!h->batch_open)
        return false;
    struct held *x = hold(h);
    if (!x)
        return false;
    x->seq = seq;
    x->type = type;
    x->text = payload;
    x->users = users;
    x->n_users = n_users;
    return true;
}

void hub_forget_conn(struct sig_hub *h, struct sig_conn *c)
{
    for (size_t i = 0; i < h->n_held; i++)
        if (h->held[i].conn == c)
            h->held[i].conn = NULL;
}

void sig_hub_flush(struct sig_hub *h)
{
    if (!h->batch_open)
        return;
    h->batch_open = false;
    int err = sto_commit(h->db);
    if (err) {
        lt_log(LT_LOG_ERROR, "signal", "commit_failed", "requests=%zu err=%d msg=\"%s\"",
               h->n_held, err, sto_errmsg(h->db));
        sto_rollback(h->db);
    }
    h->stats.commits++;
    /* Delivery can overflow a connection and close it; nothing here frees
     * connections, so the held pointers stay valid through the loop. */
    for (size_t i = 0; i < h->n_held; i++) {
        struct held *x = &h->held[i];
        if (!x->conn && x->type) { /* an event */
            if (!err)
                deliver_event(h, x->seq, x->type, x->text, x->users, x->n_users);
            free(x->users);
        } else if (x->conn) {
            if (!err) {
                conn_send_text(h, x->conn, x->text, x->len);
            } else {
                json_t *f = json_pack("{ss s{ss ss}}", "type", "error", "error", "code",
                                      "unavailable", "message",
                                      err == -ENOSPC
                                          ? "the server's disk is full; nothing was stored"
                                          : "the server could not store this; try again");
                if (f && x->id)
                    json_object_set(f, "id", x->id);
                conn_send_json(h, x->conn, f);
            }
        }
        free(x->text);
        json_decref(x->id);
    }
    h->n_held = 0;
}

void hub_batch_free(struct sig_hub *h)
{
    sig_hub_flush(h);
    free(h->held);
    h->held = NULL;
    h->cap_held = 0;
}
