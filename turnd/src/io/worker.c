/*
 * worker.c - turnd's workers: n epoll loops in n threads, each with its own
 * UDP listening sockets (SO_REUSEPORT on the same addresses), its own TURN
 * core and the relay sockets of the allocations that core made. The kernel
 * hashes a client's address and port to one listener, so all of a client's
 * datagrams meet the core that holds its allocation, and the packet path
 * takes no lock: the cores share only what turn_shared holds (quotas, the
 * relay port map), locked on Allocate and delete, read atomically per
 * datagram.
 *
 * A client sending to a relay address another worker owns is handed over
 * like the shortcut inside one core: the datagram is copied into that
 * worker's inbox (a mutex-protected ring; the lock is taken only on this
 * path) and its eventfd is written when the inbox was empty, so a busy
 * worker takes many per wake-up. The receiving core checks its
 * allocation's permission and builds the same bytes as for a datagram its
 * relay socket received. A full inbox or a bigger datagram takes the
 * kernel's way (out of one relay socket, into the other): slower, same bytes.
 *
 * The first worker (the caller's thread) also owns signals, the control
 * socket, metrics, TCP, TLS and DTLS. When it must see or change the
 * others' state (stats, sessions, kill, reload), it pauses them: each other
 * worker, woken through its eventfd, parks between two of its events until
 * the first resumes it. The first then works on their cores and servers as
 * if it were their thread (the mutex orders the memory). Only the first
 * ever pauses, so two workers never wait for each other.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define INBOX_LEN 256
#define INBOX_SLOT 2048 /* bigger datagrams go through the kernel */

struct inbox_entry {
    struct stun_addr from, to;
    size_t len;
    uint8_t data[INBOX_SLOT];
};

struct tio_inbox {
    pthread_mutex_t mu;
    unsigned head, count;
    struct inbox_entry slots[INBOX_LEN];
    /* The receiver's copies, taken a batch per lock, with the headroom the
     * core writes its headers into. */
    struct stun_addr from[TIO_BATCH], to[TIO_BATCH];
    size_t len[TIO_BATCH];
    uint8_t stage[TIO_BATCH][TURN_HEADROOM + INBOX_SLOT + TURN_TAILROOM];
};

struct tio_group {
    unsigned n;
    struct tio_server **servers;
    pthread_t *threads;
    unsigned n_threads; /* started */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool pause, stop;
    unsigned paused, exited; /* workers parked now; workers whose loop ended */
};

static void wake(struct tio_server *s)
{
    uint64_t one = 1;
    if (write(s->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        lt_log(LT_LOG_ERROR, "io", "wake_failed", "error=\"%s\"", strerror(errno));
}

bool tio_relay_handoff(void *ctx, unsigned worker, const struct stun_addr *from,
                       const struct stun_addr *to, const uint8_t *buf, size_t len)
{
    struct tio_server *s = ctx;
    struct tio_group *g = s->group;
    if (!g || worker >= g->n || len > INBOX_SLOT)
        return false;
    struct tio_server *d = g->servers[worker];
    struct tio_inbox *in = d->inbox;
    pthread_mutex_lock(&in->mu);
    bool taken = in->count < INBOX_LEN, first = in->count == 0;
    if (taken) {
        struct inbox_entry *e = &in->slots[(in->head + in->count) % INBOX_LEN];
        e->from = *from;
        e->to = *to;
        e->len = len;
        memcpy(e->data, buf, len);
        in->count++;
    }
    pthread_mutex_unlock(&in->mu);
    if (taken && first)
        wake(d);
    return taken;
}

/* Deliver what other workers handed over, a batch per lock; at most one
 * ring's worth per wake-up, so a flood cannot starve this worker's sockets. */
static void inbox_drain(struct tio_server *s)
{
    struct tio_inbox *in = s->inbox;
    for (unsigned done = 0; done < INBOX_LEN;) {
        unsigned n = 0;
        pthread_mutex_lock(&in->mu);
        for (; n < TIO_BATCH && in->count; n++, in->count--) {
            struct inbox_entry *e = &in->slots[in->head];
            in->from[n] = e->from;
            in->to[n] = e->to;
            in->len[n] = e->len;
            memcpy(in->stage[n] + TURN_HEADROOM, e->data, e->len);
            in->head = (in->head + 1) % INBOX_LEN;
        }
        pthread_mutex_unlock(&in->mu);
        if (n == 0)
            return;
        uint64_t now = tio_now_ms();
        s->handoffs += n;
        for (unsigned i = 0; i < n; i++)
            turn_core_on_handoff(s->core, &in->from[i], &in->to[i], in->stage[i] + TURN_HEADROOM,
                                 in->len[i], now);
        done += n;
    }
    wake(s); /* more is waiting: after this batch's other events */
}

void tio_worker_wake(struct tio_server *s)
{
    uint64_t v;
    if (read(s->wake.fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    inbox_drain(s);
    if (s->worker == 0)
        return; /* the first worker is never paused or stopped this way */
    struct tio_group *g = s->group;
    pthread_mutex_lock(&g->mu);
    if (g->stop)
        s->stop = true;
    if (g->pause && !g->stop) {
        tio_sendq_flush(s); /* what this worker queued leaves before anyone else touches it */
        g->paused++;
        pthread_cond_broadcast(&g->cv);
        while (g->pause)
            pthread_cond_wait(&g->cv, &g->mu);
        g->paused--;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
}

void tio_workers_pause(struct tio_server *s)
{
    struct tio_group *g = s->group;
    if (!g || s->worker != 0 || s->pause_depth++ > 0)
        return;
    pthread_mutex_lock(&g->mu);
    g->pause = true;
    pthread_mutex_unlock(&g->mu);
    for (unsigned i = 1; i < g->n; i++)
        wake(g->servers[i]);
    pthread_mutex_lock(&g->mu);
    while (g->paused + g->exited < g->n_threads)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

void tio_workers_resume(struct tio_server *s)
{
    struct tio_group *g = s->group;
    if (!g || s->worker != 0 || --s->pause_depth > 0)
        return;
    /* Datagrams this thread queued on the others' sockets (a kill closing a
     * relay, say) leave now, while they are still parked. */
    for (unsigned i = 1; i < g->n; i++)
        tio_sendq_flush(g->servers[i]);
    pthread_mutex_lock(&g->mu);
    g->pause = false;
    pthread_cond_broadcast(&g->cv);
    while (g->paused > 0) /* so a next pause cannot meet a worker still parked */
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

unsigned tio_workers_list(const struct tio_server *s, struct tio_server *const **out)
{
    if (!s->group) {
        *out = &s->self;
        return 1;
    }
    *out = s->group->servers;
    return s->group->n;
}

void tio_workers_totals(const struct tio_server *s, struct turn_stats *st, uint64_t *send_errors,
                        uint64_t msgs[TIO_TRANSPORTS], uint64_t bytes[TIO_TRANSPORTS])
{
    memset(st, 0, sizeof(*st));
    *send_errors = 0;
    memset(msgs, 0, sizeof(uint64_t) * TIO_TRANSPORTS);
    memset(bytes, 0, sizeof(uint64_t) * TIO_TRANSPORTS);
    struct tio_server *const *list;
    unsigned n = tio_workers_list(s, &list);
    for (unsigned w = 0; w < n; w++) {
        const struct tio_server *x = list[w];
        if (!x->core)
            continue;
        turn_stats_add(st, turn_core_stats(x->core));
        *send_errors += x->send_errors;
        for (int t = 0; t < TIO_TRANSPORTS; t++) {
            msgs[t] += x->client_msgs[t];
            bytes[t] += x->client_bytes[t];
        }
    }
}

void tio_inbox_free(struct tio_inbox *in)
{
    pthread_mutex_destroy(&in->mu);
    free(in);
}

static void *worker_main(void *arg)
{
    struct tio_server *s = arg;
    struct tio_group *g = s->group;
    if (tio_server_run(s, s->core) != 0)
        lt_log(LT_LOG_ERROR, "io", "worker_failed", "worker=%u", s->worker);
    pthread_mutex_lock(&g->mu);
    g->exited++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

static void group_free(struct tio_group *g)
{
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g->threads);
    free(g);
}

struct tio_group *tio_group_start(struct tio_server **servers, struct turn_core **cores,
                                  unsigned n, char *err, size_t err_cap)
{
    struct tio_group *g = calloc(1, sizeof(*g));
    if (!g || !(g->threads = calloc(n, sizeof(*g->threads)))) {
        free(g);
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    g->n = n;
    g->servers = servers;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    for (unsigned i = 0; i < n; i++) {
        struct tio_server *s = servers[i];
        s->group = g;
        s->worker = i;
        s->core = cores[i];
        s->inbox = calloc(1, sizeof(*s->inbox));
        if (!s->inbox || pthread_mutex_init(&s->inbox->mu, NULL) != 0) {
            free(s->inbox);
            s->inbox = NULL;
            snprintf(err, err_cap, "out of memory");
            goto fail;
        }
        s->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s->wake.kind = SOCK_WAKE;
        if (s->wake.fd < 0 || tio_watch(s, &s->wake, EPOLLIN) != 0) {
            snprintf(err, err_cap, "cannot set up worker %u: %s", i, strerror(errno));
            goto fail;
        }
    }
    for (unsigned i = 1; i < n; i++) {
        int rc = pthread_create(&g->threads[i], NULL, worker_main, servers[i]);
        if (rc != 0) {
            snprintf(err, err_cap, "cannot start worker %u: %s", i, strerror(rc));
            goto fail;
        }
        g->n_threads++;
    }
    return g;
fail:
    tio_group_stop(g);
    return NULL;
}

void tio_group_stop(struct tio_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_mutex_unlock(&g->mu);
    for (unsigned i = 1; i <= g->n_threads; i++)
        wake(g->servers[i]);
    for (unsigned i = 1; i <= g->n_threads; i++)
        pthread_join(g->threads[i], NULL);
    for (unsigned i = 0; i < g->n; i++)
        g->servers[i]->group = NULL;
    group_free(g);
}
