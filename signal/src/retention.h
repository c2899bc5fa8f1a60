/*
 * retention.h - signald's pruning of the event stream (prefix sig_retention_).
 *
 * Events older than the retention go once at start and then once an hour,
 * SIG_RETENTION_CHUNK at a time, one chunk per call: a large backlog (the
 * first prune of a busy server, or a shorter retention) is spread over
 * several turns of the event loop instead of holding it for one long
 * transaction. Resume stays exact throughout: storage only ever removes a
 * prefix of the stream and records where it ends (docs/STORAGE.md).
 */
#ifndef SIG_RETENTION_H
#define SIG_RETENTION_H

#include <stdint.h>

struct sto_db;

#define SIG_RETENTION_CHUNK 10000            /* events deleted per call */
#define SIG_RETENTION_EVERY_MS (3600 * 1000) /* from the start of one run to the next */
#define SIG_RETENTION_RETRY_MS (60 * 1000)   /* after a failed chunk */

struct sig_retention {
    int64_t keep_ms; /* events older than this go; 0: kept forever */
    int64_t chunk;   /* events deleted per call */
    int64_t next_at; /* when the next run starts (the caller's clock) */
    int64_t started; /* the run in progress: when it started; -1: none */
    int64_t cutoff;  /* the run in progress: wall-clock ms, fixed for the run */
    int64_t removed; /* the run in progress: events deleted so far */
    unsigned steps;  /* the run in progress: chunks so far */
};

/* The first run starts at now. */
void sig_retention_init(struct sig_retention *r, int64_t keep_ms, int64_t now);
/* Call on every tick: does at most one chunk, and logs one line with the
 * count when a run ends. now is a monotonic clock in ms, wall_ms the wall
 * clock events are stamped with. 1 while a run is in progress, else 0. */
int sig_retention_step(struct sig_retention *r, struct sto_db *db, int64_t now, int64_t wall_ms);

#endif
