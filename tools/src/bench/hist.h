/*
 * hist.h - latency histograms that can live in shared memory and be merged:
 * logarithmic buckets 1 % wide from 1 us to about 20 minutes, so a
 * percentile is exact to within 1 % and a histogram is a fixed 17 KB with no
 * pointers (workers fill theirs in a MAP_SHARED block, the coordinator adds
 * them up).
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define HIST_BUCKETS 2100 /* 1.01^2100 us ~ 1.2e9 us */

struct hist {
    uint64_t n;
    uint64_t max_us;
    uint64_t sum_us;
    uint64_t bucket[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t us);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q (0..1) in milliseconds; 0 when empty. */
double hist_ms(const struct hist *h, double q);

#endif
