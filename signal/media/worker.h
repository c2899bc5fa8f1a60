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
 *
 * A large room may hand the SRTP protection and sending of some members'
 * packets to other workers (sendq.h), its one cross-thread path: the room's
 * worker copies each such packet into a ring, the sending worker empties it.
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
struct media_sendq;

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
    /* Sending for other workers' sessions: */
    _Atomic(struct media_sendq *) out[MEDIA_MAX_WORKERS]; /* rings to each worker, made on first use */
    int kick_fd;        /* eventfd: a ring to this worker has packets */
    GSource *kick;
    atomic_bool asleep; /* this worker found its rings empty: wake it with kick_fd */
    atomic_uint n_far;  /* sessions of other workers it sends for; it stays up while any are left */
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
/* Control thread, w locked: make the ring from w to `to`. 0 or -ENOMEM. */
int media_worker_link(struct media_worker *w, struct media_worker *to);
/* On w's thread: hand session's packet (or, pkt NULL, its barrier) to `to`,
 * which calls media_session_far_send() (or media_session_far_done()) for it.
 * 0, or -ENOBUFS when the ring is full. */
int media_worker_send_far(struct media_worker *w, struct media_worker *to, void *session,
                          bool rtcp, const uint8_t *pkt, size_t len);
/* Run fn(data) once from w's loop. */
void media_worker_defer(struct media_worker *w, GSourceFunc fn, void *data);
/* Run fn(data) once from the main (control) thread's loop: how a worker hands
 * anything to the control socket. */
void media_main_defer(GSourceFunc fn, void *data);

#endif
