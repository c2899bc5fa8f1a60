/*
 * bench_login.h - password logins over HTTPS for bench-signal (bench_login.c).
 */
#ifndef BENCH_LOGIN_H
#define BENCH_LOGIN_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "bench.h"

/* One login of user `name` with the seeded password: the HTTP status (-1: no
 * answer) and the time it took. */
int bench_login(SSL_CTX *ctx, int port, const char *name, double *ms);

struct login_stats {
    struct hist lat; /* first try to success, retries included */
    uint64_t ok, busy, failed; /* busy: 503 answers, each retried */
};

/* n logins of the seeded users from `threads` threads at once, each retrying
 * a 503 after a second until deadline_ns. Runs beside the caller. */
struct bench_login_storm;
struct bench_login_storm *bench_login_storm_start(int port, int users, int n, int threads,
                                                  int64_t deadline_ns, struct login_stats *st);
void bench_login_storm_join(struct bench_login_storm *s);

#endif
