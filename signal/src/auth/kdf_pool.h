/*
 * kdf_pool.h - a few threads that run password derivations (scrypt, ~50-100 ms
 * each) away from the event loop, so a storm of logins does not stall every
 * connected user.
 *
 * The loop submits a job and goes on; a worker runs job->work; finished jobs
 * wait in the pool until the loop calls sig_kdf_pool_drain(), which runs each
 * job->done on the loop's thread. The pool's fd (an eventfd) is readable while
 * finished jobs wait, so the loop can watch it. A job's work touches only the
 * job: nothing the loop owns is shared with a worker, and the only lock is the
 * pool's own.
 *
 * The bound counts every job the loop has handed over and not yet had back
 * (waiting, running or finished): past it, submit says -EBUSY at once, so a
 * flood of logins is answered "busy" instead of queueing without limit.
 */
#ifndef SIG_KDF_POOL_H
#define SIG_KDF_POOL_H

#include <stdbool.h>

struct sig_kdf_job {
    void (*work)(struct sig_kdf_job *job); /* on a worker thread */
    void (*done)(struct sig_kdf_job *job); /* on the loop's thread, from drain or free */
    bool cancelled;                        /* set before done when the pool is freed first */
    struct sig_kdf_job *next;              /* the pool's */
};

struct sig_kdf_pool;

/* threads >= 1, max_jobs >= 1. NULL on failure (errno says why). */
struct sig_kdf_pool *sig_kdf_pool_new(unsigned threads, unsigned max_jobs);
/* Stops and joins the workers; every job not yet drained gets done() with
 * cancelled set (whether or not its work ran). */
void sig_kdf_pool_free(struct sig_kdf_pool *p);

/* 0: the job is the pool's until its done(); -EBUSY: max_jobs are already out. */
int sig_kdf_pool_submit(struct sig_kdf_pool *p, struct sig_kdf_job *job);
/* Runs done() for every finished job; returns how many. Never blocks. */
unsigned sig_kdf_pool_drain(struct sig_kdf_pool *p);
/* Readable while finished jobs wait for drain. */
int sig_kdf_pool_fd(const struct sig_kdf_pool *p);
/* Jobs handed over and not yet drained. */
unsigned sig_kdf_pool_outstanding(const struct sig_kdf_pool *p);
/* Called by a worker after each finished job (after the fd is signalled), for
 * loops that cannot watch the fd (libwebsockets' poll(): lws_cancel_service).
 * Set before the first submit. */
void sig_kdf_pool_set_wake(struct sig_kdf_pool *p, void (*wake)(void *arg), void *arg);

#endif
