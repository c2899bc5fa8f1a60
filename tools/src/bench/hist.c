/*
 * hist.c - see hist.h.
 */
#include "hist.h"

#include <math.h>

static const double LOG_STEP = 0.00995033085316809; /* log(1.01) */

void hist_add(struct hist *h, uint64_t us)
{
    unsigned i = us <= 1 ? 0 : (unsigned)(log((double)us) / LOG_STEP);
    if (i >= HIST_BUCKETS)
        i = HIST_BUCKETS - 1;
    h->bucket[i]++;
    h->n++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    into->n += from->n;
    into->sum_us += from->sum_us;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
}

double hist_ms(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0;
    if (q >= 1)
        return (double)h->max_us / 1000.0;
    uint64_t want = (uint64_t)ceil(q * (double)h->n), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= want) {
            double us = exp((i + 0.5) * LOG_STEP); /* the bucket's middle */
            return (us > (double)h->max_us ? (double)h->max_us : us) / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}
