/*
 * presence.c - who hears about whose presence.
 *
 * A connection names the users it shows (presence.subscribe: the member list
 * on screen, direct-message partners) and hears only about them, so a status
 * change costs one frame per interested device, not one per connection on the
 * server. A connection that never subscribed hears everyone's changes while
 * at most presence_broadcast_max connections are online: small sites and
 * simple clients need no bookkeeping, and large ones stay linear.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define SUBSCRIBE_MAX 2000

struct watchers {
    struct watchers *next;
    int64_t user_id;
    struct sig_conn **conns;
    size_t n, cap;
};

static struct watchers **slot(struct sig_hub *h, int64_t user_id)
{
    struct watchers **w = &h->watch[(uint64_t)user_id % WATCH_BUCKETS];
    while (*w && (*w)->user_id != user_id)
        w = &(*w)->next;
    return w;
}

static int watch_add(struct sig_hub *h, int64_t user_id, struct sig_conn *c)
{
    struct watchers **s = slot(h, user_id);
    if (!*s) {
        if (!(*s = calloc(1, sizeof **s)))
            return -1;
        (*s)->user_id = user_id;
    }
    struct watchers *w = *s;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4;
        struct sig_conn **v = realloc(w->conns, cap * sizeof *v);
        if (!v)
            return -1;
        w->conns = v;
        w->cap = cap;
    }
    w->conns[w->n++] = c;
    return 0;
}

static void watch_remove(struct sig_hub *h, int64_t user_id, struct sig_conn *c)
{
    struct watchers **s = slot(h, user_id), *w = *s;
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        if (w->conns[i] == c) {
            w->conns[i] = w->conns[--w->n];
            break;
        }
    if (w->n == 0) {
        *s = w->next;
        free(w->conns);
        free(w);
    }
}

void presence_unsubscribe_all(struct sig_hub *h, struct sig_conn *c)
{
    for (size_t i = 0; i < c->n_subs; i++)
        watch_remove(h, c->subs[i], c);
    free(c->subs);
    c->subs = NULL;
    c->n_subs = 0;
}

void presence_free(struct sig_hub *h)
{
    for (size_t b = 0; b < WATCH_BUCKETS; b++)
        while (h->watch[b]) {
            struct watchers *w = h->watch[b];
            h->watch[b] = w->next;
            free(w->conns);
            free(w);
        }
}

void presence_changed(struct sig_hub *h, int64_t user_id, enum presence before)
{
    enum presence now = user_presence(h, user_id);
    if (now == before)
        return;
    json_t *data = json_pack("{sI ss}", "user", (json_int_t)user_id, "status", presence_name(now));
    if (!data)
        return;
    struct watchers *w = *slot(h, user_id);
    for (size_t i = 0; w && i < w->n; i++)
        if (!w->conns[i]->closing)
            send_ephemeral(h, w->conns[i], "presence", data);
    if (h->stats.authenticated <= h->cfg->presence_broadcast_max)
        for (struct sig_conn *c = h->conns; c; c = c->next)
            if (c->user_id && !c->closing && !c->subscribed)
                send_ephemeral(h, c, "presence", data);
    json_decref(data);
}

int h_presence_subscribe(struct req *r)
{
    json_t *users = json_object_get(r->msg, "users");
    if (!json_is_array(users) || json_array_size(users) > SUBSCRIBE_MAX)
        return req_fail(r, "bad_request", "\"users\" must be a list of at most %d user ids",
                        SUBSCRIBE_MAX);
    size_t n = json_array_size(users), i;
    json_t *v;
    int64_t *ids = n ? calloc(n, sizeof *ids) : NULL;
    if (n && !ids)
        return req_fail(r, "internal", "out of memory");
    size_t k = 0;
    json_array_foreach(users, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            free(ids);
            return req_fail(r, "bad_request", "\"users\" must hold user ids");
        }
        int64_t id = json_integer_value(v);
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = ids[j] == id;
        if (!dup)
            ids[k++] = id;
    }
    struct sig_conn *c = r->conn;
    presence_unsubscribe_all(r->hub, c);
    c->subscribed = true;
    json_t *list = json_array();
    for (size_t j = 0; j < k; j++) {
        if (watch_add(r->hub, ids[j], c) != 0) {
            k = j;
            break;
        }
        json_array_append_new(list, json_pack("{sI ss}", "user", (json_int_t)ids[j], "status",
                                              presence_name(user_presence(r->hub, ids[j]))));
    }
    c->subs = ids;
    c->n_subs = k;
    r->result = json_pack("{so}", "presence", list);
    return 0;
}
