/*
 * bench_login.c - password logins over HTTPS for bench-signal: one at a time
 * (the cost of one login), and a storm of many at once from threads while the
 * WebSocket workers ping (does a login storm stall the users already
 * connected?). A storm's client does what a browser does with 503 "busy":
 * waits the Retry-After and tries again, until its deadline.
 */
#include "bench_login.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int bench_login(SSL_CTX *ctx, int port, const char *name, double *ms)
{
    int64_t t0 = bench_now_ns();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 20};
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    SSL *ssl = SSL_new(ctx);
    int status = -1;
    char body[128], req[512], resp[4096];
    int bl = snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"bench password\"}", name);
    int rl = snprintf(req, sizeof req,
                      "POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      "application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                      bl, body);
    if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1 && SSL_write(ssl, req, rl) == rl) {
        int n = SSL_read(ssl, resp, sizeof resp - 1);
        if (n > 12) {
            resp[n] = '\0';
            if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
                status = -1;
            if (status != 200 && status != 503)
                fprintf(stderr, "bench-signal: login %s: %.60s\n", name, resp);
        }
    }
    SSL_free(ssl);
    close(fd);
    *ms = (double)(bench_now_ns() - t0) / 1e6;
    return status;
}

#define STORM_THREADS_MAX 256

struct bench_login_storm {
    SSL_CTX *ctx;
    int port, n, users;
    int64_t deadline_ns;
    int next; /* the next login to start, under lock */
    pthread_mutex_t lock;
    pthread_t threads[STORM_THREADS_MAX];
    int n_threads;
    struct login_stats *st; /* under lock */
};

static void *storm_thread(void *arg)
{
    struct bench_login_storm *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int i = s->next < s->n ? s->next++ : -1;
        pthread_mutex_unlock(&s->lock);
        if (i < 0)
            return NULL;
        char name[32];
        snprintf(name, sizeof name, "bench%05d", (int)((i * 7919L) % s->users));
        int64_t start = bench_now_ns();
        int status = -1, busy = 0;
        double ms;
        while (bench_now_ns() < s->deadline_ns) {
            status = bench_login(s->ctx, s->port, name, &ms);
            if (status != 503)
                break;
            busy++;
            usleep(1000000); /* the Retry-After signald sends with a 503 */
        }
        pthread_mutex_lock(&s->lock);
        s->st->busy += (uint64_t)busy;
        if (status == 200) {
            s->st->ok++;
            hist_add(&s->st->lat, (uint64_t)((bench_now_ns() - start) / 1000));
        } else {
            s->st->failed++;
        }
        pthread_mutex_unlock(&s->lock);
    }
}

struct bench_login_storm *bench_login_storm_start(int port, int users, int n, int threads,
                                                  int64_t deadline_ns, struct login_stats *st)
{
    struct bench_login_storm *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, NULL); /* our own signald and certificate */
    s->port = port;
    s->users = users;
    s->n = n;
    s->deadline_ns = deadline_ns;
    s->st = st;
    pthread_mutex_init(&s->lock, NULL);
    if (threads > STORM_THREADS_MAX)
        threads = STORM_THREADS_MAX;
    for (; s->n_threads < threads; s->n_threads++)
        if (pthread_create(&s->threads[s->n_threads], NULL, storm_thread, s) != 0)
            break;
    return s;
}

void bench_login_storm_join(struct bench_login_storm *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    pthread_mutex_destroy(&s->lock);
    SSL_CTX_free(s->ctx);
    free(s);
}
