/*
 * retention.c - signald's pruning of the event stream (see retention.h).
 */
#include "retention.h"

#include <inttypes.h>

#include "lanturn/storage.h"
#include "util/log.h"

void sig_retention_init(struct sig_retention *r, int64_t keep_ms, int64_t now)
{
    *r = (struct sig_retention){.keep_ms = keep_ms, .chunk = SIG_RETENTION_CHUNK,
                                .next_at = now, .started = -1};
}

int sig_retention_step(struct sig_retention *r, struct sto_db *db, int64_t now, int64_t wall_ms)
{
    if (r->keep_ms <= 0)
        return 0;
    if (r->started < 0) {
        if (now < r->next_at)
            return 0;
        /* One cutoff for the whole run, so that it ends even while new
         * events keep coming. */
        r->started = now;
        r->cutoff = wall_ms - r->keep_ms;
        r->removed = 0;
        r->steps = 0;
    }
    int64_t n = 0;
    int err = sto_event_prune(db, r->cutoff, r->chunk, &n);
    if (err) {
        lt_log(LT_LOG_WARN, "signal", "events_prune_failed", "removed=%" PRId64 " err=\"%s\"",
               r->removed, sto_errmsg(db));
        r->next_at = now + SIG_RETENTION_RETRY_MS;
        r->started = -1;
        return 0;
    }
    r->removed += n;
    r->steps++;
    if (n == r->chunk)
        return 1; /* maybe more: the next call goes on */
    lt_log(LT_LOG_INFO, "signal", "events_pruned",
           "removed=%" PRId64 " steps=%u older_than_h=%" PRId64, r->removed, r->steps,
           r->keep_ms / 3600000);
    r->next_at = r->started + SIG_RETENTION_EVERY_MS;
    r->started = -1;
    return 0;
}
