/*
 * bench.h - what the coordinator (bench_signal.c) and its worker processes
 * (bench_worker.c) share: the seeded layout and a MAP_SHARED control block.
 *
 * The coordinator publishes a phase by filling the parameters and bumping
 * `gen`; each worker zeroes its own figures, runs its part and stores `gen`
 * in its `done`. Figures are plain counters written by one worker and read
 * by the coordinator (a torn read only shows a progress figure late).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

#include "hist.h"

#define BENCH_WORKERS_MAX 16

enum bench_phase { PH_NONE, PH_STORM, PH_SETTLE, PH_IDLE, PH_CHAT, PH_FANOUT, PH_HISTORY, PH_SEARCH, PH_QUIT };

struct bench_room {
    int64_t id;
    int first, count; /* members are user indexes first..first+count-1 */
};

struct bench_layout {
    int users;
    int64_t *user_id;
    char (*token)[48];
    int *chat_of; /* user index -> index in chat[], -1 for none */
    struct bench_room *chat;
    int n_chat;
    struct bench_room fanout, history;
};

struct bench_figures {
    uint64_t open;           /* connections with a hello reply, at the end of the phase */
    uint64_t conn_errors;    /* connects, TLS, upgrades or hellos that failed */
    uint64_t closed;         /* open connections the server closed */
    uint64_t sent, acked;    /* requests of the phase and their replies */
    uint64_t req_errors;     /* error replies and requests that timed out */
    uint64_t expected;       /* deliveries the acked messages owe (room sizes) */
    uint64_t received;       /* deliveries of this phase's messages */
    uint64_t gaps;           /* seqs that did not go up (repeated or reordered events) */
    uint64_t presence;       /* presence events received */
    uint64_t frames;         /* every text frame received */
    struct hist lat;         /* the phase's latency (hello, RTT, or send->receipt) */
};

struct bench_shared {
    volatile uint32_t gen;
    volatile int phase;
    int64_t duration_ms;    /* how long to drive load */
    int64_t count;          /* requests or messages to send */
    int64_t deadline_ns;    /* CLOCK_MONOTONIC: give up after */
    int senders_stride;     /* chat: every stride-th user sends */
    int concurrency;        /* storm: handshakes in flight per worker */
    volatile uint32_t done[BENCH_WORKERS_MAX];
    volatile uint32_t started[BENCH_WORKERS_MAX]; /* the gen each worker has begun */
    struct bench_figures fig[BENCH_WORKERS_MAX];
};

struct bench_target {
    uint32_t dst_addr; /* network order */
    uint16_t dst_port;
    int n_sources;     /* 127.0.0.10 ... */
    int64_t history_max_id;
};

int64_t bench_now_ns(void);
/* Runs worker `w` of `n` until PH_QUIT; returns the exit status. */
int bench_worker_main(int w, int n, const struct bench_layout *lay, const struct bench_target *t,
                      struct bench_shared *sh);

#endif
