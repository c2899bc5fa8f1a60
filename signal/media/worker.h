/*
 * worker.h - mediad's worker threads: each one runs its own GLib main
 * context, and every session (its libnice agent, DTLS, SRTP, timers) and
 * every room lives on exactly one of them. A room and all its members share a
 * worker, so forwarding never crosses threads and needs no locks.
 *
 * The control socket stays on the main thread. To touch a worker's sessions
 * or rooms it takes the worker's lock (media_worker_lock): the worker holds
 * that lock all the time except while it waits in poll(), so the control
 * thread gets in between two loop iterations and never in the middle of one.
 */
#ifndef MEDIA_WORKER_H
#define MEDIA_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "cfg.h" /* MEDIA_MAX_WORKERS */

struct media_server;
struct media_session;
struct media_room;

struct media_worker {
    struct media_server *srv;
    unsigned index;
    GMainContext *ctx;
    GThread *thread;
    pthread_mutex_t lock; /* pthread, not GMutex: ThreadSanitizer understands it */
    pthread_cond_t cond;
    atomic_uint waiters;           /* control-thread callers queued for the lock */
    bool stopping;                 /* under lock */
    GSource *tick;
    /* Under lock: */
    struct media_session *sessions; /* newest first; session.c links and unlinks */
    struct media_room *rooms;       /* room.c links and unlinks */
    uint64_t started, failed, completed;
    /* Read without the lock to pick the least-loaded worker. */
    atomic_uint n_sessions, n_rooms;
};

/* Start n workers (srv->workers, srv->n_workers). 0 or a negative errno. */
int media_workers_start(struct media_server *srv, unsigned n);
/* Close every session, let each worker free them, join the threads. */
void media_workers_stop(struct media_server *srv);

/* From the control (main) thread only; never from a worker. */
void media_worker_lock(struct media_worker *w);
void media_worker_unlock(struct media_worker *w);
/* The worker with the fewest sessions (then rooms), for a new room or echo. */
struct media_worker *media_worker_least_loaded(struct media_server *srv);
/* Run fn(data) once from w's loop. */
void media_worker_defer(struct media_worker *w, GSourceFunc fn, void *data);
/* Run fn(data) once from the main (control) thread's loop: how a worker hands
 * anything to the control socket. */
void media_main_defer(GSourceFunc fn, void *data);

#endif
