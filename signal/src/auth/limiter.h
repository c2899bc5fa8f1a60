/*
 * limiter.h - back-off for failed logins, sans-I/O (the caller passes the
 * time). Keyed by user name and, separately, by client address: after
 * SIG_LIMIT_FREE_FAILURES consecutive failures every further attempt must wait,
 * and each new failure doubles the wait up to SIG_LIMIT_MAX_DELAY_MS. A success
 * forgets the name's failures. The table is bounded; when it is full the entry
 * that was quiet longest is reused, so a flood of made-up names cannot grow it.
 */
#ifndef SIG_LIMITER_H
#define SIG_LIMITER_H

#include <stdint.h>

#define SIG_LIMIT_FREE_FAILURES 5
#define SIG_LIMIT_BASE_DELAY_MS 1000
#define SIG_LIMIT_MAX_DELAY_MS (15 * 60 * 1000)
#define SIG_LIMIT_FORGET_MS (60 * 60 * 1000) /* a quiet hour clears an entry */
#define SIG_LIMIT_ADDR_FACTOR 4              /* an address may fail 4x as often as a name */

struct sig_limiter;

/* capacity: entries kept (names and addresses together). NULL on -ENOMEM. */
struct sig_limiter *sig_limiter_new(unsigned capacity);
void sig_limiter_free(struct sig_limiter *l);

/* 0 when an attempt for (name, addr) may go ahead now; otherwise the number
 * of milliseconds to wait. name is compared without ASCII case. */
int64_t sig_limiter_check(struct sig_limiter *l, const char *name, const char *addr, int64_t now);
void sig_limiter_failed(struct sig_limiter *l, const char *name, const char *addr, int64_t now);
void sig_limiter_succeeded(struct sig_limiter *l, const char *name, int64_t now);

#endif
