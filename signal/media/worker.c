/*
 * worker.c - mediad's worker threads and their locks (see worker.h).
 *
 * The lock is handed over in the poll function: a worker drops its lock just
 * before poll() and takes it back right after, so its sources are always
 * dispatched with the lock held. A control-thread caller announces itself in
 * `waiters` first; a worker that finds one waiting lets it go ahead (the
 * condition variable) instead of taking the lock straight back, so a busy
 * worker cannot starve the control socket.
 */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <glib-unix.h>

#include "sendq.h"
#include "session.h"
#include "util/log.h"

#define TICK_MS 50
/* 14 MB per ring, made only for a room that spreads: about 16 packets of a
 * 1,000-member room, so a sending worker descheduled for a while drops nothing. */
#define SENDQ_SLOTS 8192
#define DRAIN_BUDGET 4096

static _Thread_local struct media_worker *current;

static void take(struct media_worker *w)
{
    pthread_mutex_lock(&w->lock);
    while (atomic_load(&w->waiters) > 0)
        pthread_cond_wait(&w->cond, &w->lock);
}

static gint poll_unlocked(GPollFD *fds, guint n, gint timeout)
{
    struct media_worker *w = current;
    pthread_mutex_unlock(&w->lock);
    gint rc = g_poll(fds, n, timeout);
    take(w);
    return rc;
}

void media_worker_lock(struct media_worker *w)
{
    atomic_fetch_add(&w->waiters, 1);
    pthread_mutex_lock(&w->lock);
    atomic_fetch_sub(&w->waiters, 1);
}

void media_worker_unlock(struct media_worker *w)
{
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* One timer per worker for all its sessions (not one GLib source each): the
 * loop then walks a short source list on every iteration. */
static gboolean on_tick(gpointer data)
{
    media_sessions_tick(data);
    return G_SOURCE_CONTINUE;
}

static gpointer run(gpointer data)
{
    struct media_worker *w = data;
    current = w;
    g_main_context_push_thread_default(w->ctx);
    take(w);
    while (!(w->stopping && atomic_load(&w->n_sessions) == 0 && atomic_load(&w->n_far) == 0))
        g_main_context_iteration(w->ctx, TRUE);
    pthread_mutex_unlock(&w->lock);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

static void attach(GMainContext *ctx, GSource *src, GSourceFunc fn, void *data)
{
    g_source_set_callback(src, fn, data, NULL);
    g_source_attach(src, ctx);
    g_source_unref(src);
}

int media_worker_link(struct media_worker *w, struct media_worker *to)
{
    if (atomic_load(&w->out[to->index]))
        return 0;
    struct media_sendq *q;
    int rc = media_sendq_new(&q, SENDQ_SLOTS);
    if (rc == 0)
        atomic_store(&w->out[to->index], q);
    return rc;
}

int media_worker_send_far(struct media_worker *w, struct media_worker *to, void *session,
                          bool rtcp, const uint8_t *pkt, size_t len)
{
    int rc = media_sendq_push(atomic_load(&w->out[to->index]), session, rtcp, pkt, len);
    if (rc)
        return rc;
    /* Pairs with the fence in on_kick(): either it sees this packet or we see it asleep. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_exchange(&to->asleep, false)) {
        uint64_t one = 1;
        if (write(to->kick_fd, &one, sizeof one) != sizeof one)
            lt_log(LT_LOG_WARN, "media", "kick", "worker=%u error=\"eventfd write\"", to->index);
    }
    return 0;
}

/* Take what other workers left in their rings to w; false once the budget is spent. */
static bool drain(struct media_worker *w, unsigned *budget)
{
    struct media_server *srv = w->srv;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_sendq *q = atomic_load(&srv->workers[i].out[w->index]);
        struct media_sendq_item *it;
        while (q && *budget && (it = media_sendq_peek(q)) != NULL) {
            if (it->barrier) {
                atomic_fetch_sub(&w->n_far, 1);
                media_session_far_done(it->session);
            } else {
                media_session_far_send(it->session, it->rtcp, it->pkt, it->len, sizeof it->pkt);
            }
            media_sendq_pop(q);
            --*budget;
        }
    }
    return *budget > 0;
}

static bool rings_empty(struct media_worker *w)
{
    struct media_server *srv = w->srv;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_sendq *q = atomic_load(&srv->workers[i].out[w->index]);
        if (q && media_sendq_peek(q))
            return false;
    }
    return true;
}

static gboolean on_kick(gint fd, GIOCondition cond, gpointer data)
{
    struct media_worker *w = data;
    (void)cond;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return G_SOURCE_CONTINUE;
    unsigned budget = DRAIN_BUDGET;
    for (;;) {
        if (!drain(w, &budget)) { /* more later: let this loop's own sockets have a turn */
            uint64_t one = 1;
            if (write(w->kick_fd, &one, sizeof one) != sizeof one)
                break;
            return G_SOURCE_CONTINUE;
        }
        atomic_store(&w->asleep, true);
        atomic_thread_fence(memory_order_seq_cst);
        if (rings_empty(w))
            break;
        atomic_store(&w->asleep, false);
    }
    return G_SOURCE_CONTINUE;
}

void media_worker_defer(struct media_worker *w, GSourceFunc fn, void *data)
{
    attach(w->ctx, g_idle_source_new(), fn, data);
}

void media_main_defer(GSourceFunc fn, void *data)
{
    attach(g_main_context_default(), g_idle_source_new(), fn, data);
}

int media_workers_start(struct media_server *srv, unsigned n)
{
    if (n == 0 || n > MEDIA_MAX_WORKERS)
        return -EINVAL;
    srv->workers = calloc(n, sizeof *srv->workers);
    if (!srv->workers)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        struct media_worker *w = &srv->workers[i];
        w->srv = srv;
        w->index = i;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->ctx = g_main_context_new();
        g_main_context_set_poll_func(w->ctx, poll_unlocked);
        w->tick = g_timeout_source_new(TICK_MS);
        g_source_set_callback(w->tick, on_tick, w, NULL);
        g_source_attach(w->tick, w->ctx);
        atomic_store(&w->asleep, true);
        w->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->kick_fd >= 0) {
            w->kick = g_unix_fd_source_new(w->kick_fd, G_IO_IN);
            g_source_set_callback(w->kick, G_SOURCE_FUNC(on_kick), w, NULL);
            g_source_attach(w->kick, w->ctx);
        }
        char name[16];
        snprintf(name, sizeof name, "mediad-w%u", i);
        w->thread = w->kick_fd >= 0 ? g_thread_try_new(name, run, w, NULL) : NULL;
        if (!w->thread) {
            if (w->kick) {
                g_source_destroy(w->kick);
                g_source_unref(w->kick);
            }
            if (w->kick_fd >= 0)
                close(w->kick_fd);
            g_source_destroy(w->tick);
            g_source_unref(w->tick);
            g_main_context_unref(w->ctx);
            pthread_mutex_destroy(&w->lock);
            pthread_cond_destroy(&w->cond);
            srv->n_workers = i;
            media_workers_stop(srv);
            return -EAGAIN;
        }
    }
    srv->n_workers = n;
    return 0;
}

void media_workers_stop(struct media_server *srv)
{
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_worker *w = &srv->workers[i];
        media_worker_lock(w);
        w->stopping = true;
        media_sessions_close_all(w, "mediad stopping");
        media_worker_unlock(w);
        g_main_context_wakeup(w->ctx);
    }
    for (unsigned i = 0; i < srv->n_workers; i++)
        g_thread_join(srv->workers[i].thread);
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_worker *w = &srv->workers[i];
        g_source_destroy(w->tick);
        g_source_unref(w->tick);
        g_source_destroy(w->kick);
        g_source_unref(w->kick);
        close(w->kick_fd);
        for (unsigned j = 0; j < srv->n_workers; j++)
            media_sendq_free(atomic_load(&w->out[j]));
        g_main_context_unref(w->ctx);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
    }
    free(srv->workers);
    srv->workers = NULL;
    srv->n_workers = 0;
}

struct media_worker *media_worker_least_loaded(struct media_server *srv)
{
    struct media_worker *best = &srv->workers[0];
    for (unsigned i = 1; i < srv->n_workers; i++) {
        struct media_worker *w = &srv->workers[i];
        unsigned s = atomic_load(&w->n_sessions), bs = atomic_load(&best->n_sessions);
        if (s < bs || (s == bs && atomic_load(&w->n_rooms) < atomic_load(&best->n_rooms)))
            best = w;
    }
    return best;
}
