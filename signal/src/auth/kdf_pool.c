/*
 * kdf_pool.c - the password derivation workers (see kdf_pool.h).
 */
#include "kdf_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKER_NICE 10

struct job_list {
    struct sig_kdf_job *head, *tail;
};

struct sig_kdf_pool {
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    struct job_list todo, finished; /* under lock */
    bool stopping;                  /* under lock */
    int efd;
    unsigned max_jobs;
    unsigned outstanding; /* the loop's thread only: submit and drain */
    void (*wake)(void *arg);
    void *wake_arg;
    pthread_t *threads;
    unsigned n_threads;
};

static void list_push(struct job_list *l, struct sig_kdf_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct sig_kdf_job *list_take_all(struct job_list *l)
{
    struct sig_kdf_job *all = l->head;
    l->head = l->tail = NULL;
    return all;
}

static void *worker(void *arg)
{
    struct sig_kdf_pool *p = arg;
    /* Below the event loop: on a box with as many cores as workers, the loop
     * (every connected user) must win the CPU over a queue of logins. Linux
     * applies a thread id's nice value to that thread alone. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) != 0) {
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->todo.head && !p->stopping)
            pthread_cond_wait(&p->work_ready, &p->lock);
        if (p->stopping)
            break;
        struct sig_kdf_job *j = p->todo.head;
        p->todo.head = j->next;
        if (!p->todo.head)
            p->todo.tail = NULL;
        pthread_mutex_unlock(&p->lock);
        j->work(j);
        pthread_mutex_lock(&p->lock);
        list_push(&p->finished, j);
        pthread_mutex_unlock(&p->lock);
        uint64_t one = 1;
        /* Cannot fail short of a counter overflow (2^64 - 1 unread wake-ups). */
        if (write(p->efd, &one, sizeof one) != sizeof one) {
        }
        if (p->wake)
            p->wake(p->wake_arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct sig_kdf_pool *sig_kdf_pool_new(unsigned threads, unsigned max_jobs)
{
    if (threads < 1 || max_jobs < 1) {
        errno = EINVAL;
        return NULL;
    }
    struct sig_kdf_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->max_jobs = max_jobs;
    p->threads = calloc(threads, sizeof *p->threads);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!p->threads || p->efd < 0 || pthread_mutex_init(&p->lock, NULL) != 0) {
        if (p->efd >= 0)
            close(p->efd);
        free(p->threads);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->work_ready, NULL);
    for (; p->n_threads < threads; p->n_threads++) {
        int rc = pthread_create(&p->threads[p->n_threads], NULL, worker, p);
        if (rc != 0) {
            sig_kdf_pool_free(p);
            errno = rc;
            return NULL;
        }
    }
    return p;
}

static void cancel_all(struct sig_kdf_job *j)
{
    while (j) {
        struct sig_kdf_job *next = j->next;
        j->cancelled = true;
        j->done(j);
        j = next;
    }
}

void sig_kdf_pool_free(struct sig_kdf_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work_ready);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    cancel_all(list_take_all(&p->finished));
    cancel_all(list_take_all(&p->todo));
    pthread_cond_destroy(&p->work_ready);
    pthread_mutex_destroy(&p->lock);
    close(p->efd);
    free(p->threads);
    free(p);
}

int sig_kdf_pool_submit(struct sig_kdf_pool *p, struct sig_kdf_job *job)
{
    if (p->outstanding >= p->max_jobs)
        return -EBUSY;
    p->outstanding++;
    job->cancelled = false;
    pthread_mutex_lock(&p->lock);
    list_push(&p->todo, job);
    pthread_cond_signal(&p->work_ready);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

unsigned sig_kdf_pool_drain(struct sig_kdf_pool *p)
{
    uint64_t count;
    /* Read before taking the list: a job finished after this read signals again. */
    if (read(p->efd, &count, sizeof count) < 0 && errno != EAGAIN) {
    }
    pthread_mutex_lock(&p->lock);
    struct sig_kdf_job *j = list_take_all(&p->finished);
    pthread_mutex_unlock(&p->lock);
    unsigned n = 0;
    while (j) {
        struct sig_kdf_job *next = j->next;
        p->outstanding--;
        j->done(j);
        n++;
        j = next;
    }
    return n;
}

int sig_kdf_pool_fd(const struct sig_kdf_pool *p)
{
    return p->efd;
}

unsigned sig_kdf_pool_outstanding(const struct sig_kdf_pool *p)
{
    return p->outstanding;
}

void sig_kdf_pool_set_wake(struct sig_kdf_pool *p, void (*wake)(void *arg), void *arg)
{
    p->wake = wake;
    p->wake_arg = arg;
}
