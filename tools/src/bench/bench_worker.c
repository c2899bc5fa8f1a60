/*
 * bench_worker.c - one load-generating process: the users with index % n ==
 * w, each one WebSocket connection to signald. It says hello with the user's
 * seeded token (taking events in batches, as the browser does), answers pings, checks every durable event's seq follows the
 * last one (a gap is a lost event), times the receipts of benchmark messages
 * from the send time carried in their body, and drives the coordinator's
 * phases (see bench.h). One epoll loop; everything is bounded by the phase's
 * deadline.
 */
#include "bench.h"
#include "wsc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PING_EVERY_NS (25 * 1000000000LL) /* the hello reply's ping_interval_s */
#define CHAT_EVERY_NS (10 * 1000000000LL) /* 1 message / 10 s per sender */
#define REQ_TIMEOUT_NS (30 * 1000000000LL)
#define REQ_SPACING_NS (100 * 1000000LL) /* history/search: <= 10 requests/s per connection */

enum pending { P_NONE, P_HELLO, P_PING, P_SEND, P_READ };

struct user {
    struct wsc ws; /* first: a struct wsc * is a struct user * */
    int index;
    bool hello_ok;
    enum pending pending;
    int64_t pending_ns; /* when the request (or the connect, for hello) started */
    int64_t next_ns;    /* when this user next sends */
    int64_t last_seq;
    int room_size;      /* of the room the pending message went to */
    int pending_phase;  /* replies that arrive in a later phase are not its figures */
    uint32_t req_id;
};

struct worker {
    int w, n;
    const struct bench_layout *lay;
    const struct bench_target *t;
    struct bench_shared *sh;
    struct bench_figures *fig;
    struct wsc_loop *loop;
    struct user *u;
    int n_users;
    int phase;
    int storm_next, in_flight;
    int64_t fan_sent;
    long reads_done;
    int read_cursor;
    uint64_t rng;
    int errors_shown;
};

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t rnd(struct worker *k)
{
    k->rng ^= k->rng << 13;
    k->rng ^= k->rng >> 7;
    k->rng ^= k->rng << 17;
    return (uint32_t)k->rng;
}

/* The value after "key": in a compact JSON text, or NULL. The first match
 * wins: callers only ask for keys that come before any nested object. */
static const char *value_of(const char *text, size_t len, const char *key)
{
    char pat[40];
    int pl = snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = memmem(text, len, pat, (size_t)pl);
    return p ? p + pl : NULL;
}

static void show_error(struct worker *k, const char *what, const char *text, size_t len)
{
    if (k->errors_shown++ < 5)
        fprintf(stderr, "bench-signal[%d]: %s: %.*s\n", k->w, what, (int)(len > 300 ? 300 : len),
                text);
}

static void request(struct worker *k, struct user *u, enum pending kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void request(struct worker *k, struct user *u, enum pending kind, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    u->pending = kind;
    u->pending_phase = k->phase;
    u->pending_ns = bench_now_ns();
    k->fig->sent++;
    if (wsc_send_text(k->loop, &u->ws, buf, (size_t)len) != 0) {
        u->pending = P_NONE;
        k->fig->req_errors++;
    }
}

static void on_open(struct wsc *c, void *user)
{
    struct worker *k = user;
    struct user *u = (struct user *)c;
    char buf[256];
    int len = snprintf(buf, sizeof buf,
                       "{\"id\":%u,\"type\":\"hello\",\"token\":\"%s\",\"batch\":true}",
                       ++u->req_id, k->lay->token[u->index]);
    u->pending = P_HELLO; /* pending_ns stays the connect's start */
    wsc_send_text(k->loop, c, buf, (size_t)len);
}

static void on_reply(struct worker *k, struct user *u, bool ok, const char *text, size_t len)
{
    int64_t now = bench_now_ns();
    uint64_t us = (uint64_t)(now - u->pending_ns) / 1000;
    enum pending kind = u->pending;
    u->pending = P_NONE;
    if (kind == P_NONE) {
        show_error(k, "reply without a request", text, len);
        k->fig->req_errors++;
        return;
    }
    if (kind == P_HELLO) {
        const char *v = ok ? value_of(text, len, "last_seq") : NULL;
        if (!v) { /* on_close counts it */
            show_error(k, "hello refused", text, len);
            wsc_close(k->loop, &u->ws, "hello refused");
            return;
        }
        k->in_flight--;
        u->last_seq = strtoll(v, NULL, 10);
        u->hello_ok = true;
        k->fig->open++;
        hist_add(&k->fig->lat, us);
        return;
    }
    if (u->pending_phase != k->phase)
        return;
    if (!ok) {
        show_error(k, "request failed", text, len);
        k->fig->req_errors++;
        return;
    }
    k->fig->acked++;
    if (kind == P_SEND)
        k->fig->expected += (uint64_t)u->room_size;
    else /* ping, history, search: the round trip is the figure */
        hist_add(&k->fig->lat, us);
}

static void on_event(struct worker *k, struct user *u, const char *text, size_t len)
{
    const char *v = value_of(text, len, "seq");
    if (v) {
        /* seqs are positions in the server's one stream: they skip other
         * users' events, so only a seq that fails to go up is wrong (losses
         * show as deliveries owed but not received). */
        int64_t seq = strtoll(v, NULL, 10);
        if (seq <= u->last_seq)
            k->fig->gaps++;
        else
            u->last_seq = seq;
    }
    const char *ev = value_of(text, len, "event");
    if (!ev)
        return;
    if (strncmp(ev, "\"presence\"", 10) == 0) {
        k->fig->presence++;
        return;
    }
    if (strncmp(ev, "\"message.new\"", 13) != 0)
        return;
    const char *b = value_of(text, len, "body");
    if (!b || strncmp(b, "\"bench ", 7) != 0)
        return;
    char tag = b[7];
    if ((tag == 'c' && k->phase == PH_CHAT) || (tag == 'f' && k->phase == PH_FANOUT)) {
        int64_t sent = strtoll(b + 9, NULL, 10);
        int64_t d = bench_now_ns() - sent;
        k->fig->received++;
        hist_add(&k->fig->lat, d > 0 ? (uint64_t)d / 1000 : 0);
    }
}

/* A batch, {"type":"batch","events":[{...},{...}]}: each event in order.
 * Splits at the array's top-level commas, skipping strings. */
static void on_batch(struct worker *k, struct user *u, const char *text, size_t len)
{
    const char *p = value_of(text, len, "events"), *end = text + len;
    if (!p || p >= end || *p != '[')
        return;
    const char *start = NULL;
    int depth = 0;
    bool in_str = false;
    for (p++; p < end; p++) {
        char ch = *p;
        if (in_str) {
            if (ch == '\\')
                p++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (depth++ == 0)
                start = p;
        } else if ((ch == '}' || ch == ']') && depth > 0 && --depth == 0) {
            on_event(k, u, start, (size_t)(p + 1 - start));
        }
    }
}

static void on_text(struct wsc *c, const char *text, size_t len, void *user)
{
    struct worker *k = user;
    struct user *u = (struct user *)c;
    k->fig->frames++;
    const char *type = value_of(text, len, "type");
    if (!type)
        return;
    if (strncmp(type, "\"event\"", 7) == 0)
        on_event(k, u, text, len);
    else if (strncmp(type, "\"batch\"", 7) == 0)
        on_batch(k, u, text, len);
    else if (strncmp(type, "\"reply\"", 7) == 0)
        on_reply(k, u, true, text, len);
    else if (strncmp(type, "\"error\"", 7) == 0)
        on_reply(k, u, false, text, len);
}

static void on_close(struct wsc *c, const char *why, void *user)
{
    struct worker *k = user;
    struct user *u = (struct user *)c;
    if (k->phase == PH_QUIT)
        return;
    if (u->hello_ok) {
        if (k->fig->closed++ < 5)
            fprintf(stderr, "bench-signal[%d]: user %d closed: %s\n", k->w, u->index, why);
        u->hello_ok = false;
    } else {
        if (k->fig->conn_errors < 5)
            fprintf(stderr, "bench-signal[%d]: user %d connect: %s\n", k->w, u->index, why);
        k->fig->conn_errors++;
        k->in_flight--;
    }
    u->pending = P_NONE;
}

/* ---- phases: each step returns true when this worker's part is done ---- */

static bool storm_step(struct worker *k, int64_t now)
{
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(k->t->dst_port),
                              .sin_addr.s_addr = k->t->dst_addr};
    while (k->storm_next < k->n_users && k->in_flight < k->sh->concurrency) {
        struct user *u = &k->u[k->storm_next++];
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f00000a + (uint32_t)(u->index % k->t->n_sources));
        k->in_flight++;
        u->pending_ns = now;
        int err = wsc_connect(k->loop, &u->ws, &src, &dst);
        if (err) {
            if (k->fig->conn_errors++ < 5)
                fprintf(stderr, "bench-signal[%d]: connect: %s\n", k->w, strerror(-err));
            k->in_flight--;
        }
    }
    if (k->storm_next >= k->n_users && k->in_flight == 0)
        return true;
    if (now > k->sh->deadline_ns) { /* the rest count as failed */
        for (int i = 0; i < k->n_users; i++)
            if (!k->u[i].hello_ok && k->u[i].ws.state != WSC_CLOSED)
                wsc_close(k->loop, &k->u[i].ws, "storm deadline");
        k->storm_next = k->n_users;
        return true;
    }
    return false;
}

static bool idle_step(struct worker *k, int64_t now)
{
    for (int i = 0; i < k->n_users; i++) {
        struct user *u = &k->u[i];
        if (u->hello_ok && u->pending == P_NONE && now >= u->next_ns) {
            request(k, u, P_PING, "{\"id\":%u,\"type\":\"ping\"}", ++u->req_id);
            u->next_ns = now + PING_EVERY_NS;
        }
    }
    return now >= k->sh->deadline_ns;
}

/* Requests still unanswered past REQ_TIMEOUT_NS count as errors. */
static int pending_left(struct worker *k, int64_t now)
{
    int left = 0;
    for (int i = 0; i < k->n_users; i++) {
        struct user *u = &k->u[i];
        if (u->pending == P_NONE || u->pending == P_HELLO)
            continue;
        if (now - u->pending_ns > REQ_TIMEOUT_NS || !u->hello_ok) {
            u->pending = P_NONE;
            k->fig->req_errors++;
        } else
            left++;
    }
    return left;
}

/* Whether every worker has begun the current phase: until then a delivery
 * to a worker still in the previous phase would go uncounted, as lost. */
static bool all_started(const struct worker *k)
{
    uint32_t gen = __atomic_load_n(&k->sh->gen, __ATOMIC_ACQUIRE);
    for (int w = 0; w < k->n; w++)
        if (__atomic_load_n(&k->sh->started[w], __ATOMIC_ACQUIRE) != gen)
            return false;
    return true;
}

static bool chat_step(struct worker *k, int64_t now, int64_t end)
{
    if (!all_started(k))
        return false;
    if (now < end) {
        for (int i = 0; i < k->n_users; i++) {
            struct user *u = &k->u[i];
            int r = k->lay->chat_of[u->index];
            if (u->index % k->sh->senders_stride || r < 0 || !u->hello_ok || now < u->next_ns)
                continue;
            u->next_ns = now + CHAT_EVERY_NS;
            if (u->pending != P_NONE) { /* the last one is still unanswered */
                k->fig->req_errors++;
                continue;
            }
            u->room_size = k->lay->chat[r].count;
            request(k, u, P_SEND,
                    "{\"id\":%u,\"type\":\"message.send\",\"room\":%lld,\"body\":\"bench c %lld\"}",
                    ++u->req_id, (long long)k->lay->chat[r].id, (long long)bench_now_ns());
        }
        return false;
    }
    return pending_left(k, now) == 0;
}

static bool fanout_step(struct worker *k, int64_t now)
{
    struct user *u = k->w == 0 ? &k->u[0] : NULL; /* user 0 is in the fan-out room */
    if (u && u->hello_ok && k->fan_sent < k->sh->count && u->pending == P_NONE &&
        now >= u->next_ns && all_started(k)) {
        u->next_ns = now + 1000000000LL;
        u->room_size = k->lay->fanout.count;
        k->fan_sent++;
        request(k, u, P_SEND,
                "{\"id\":%u,\"type\":\"message.send\",\"room\":%lld,\"body\":\"bench f %lld\"}",
                ++u->req_id, (long long)k->lay->fanout.id, (long long)bench_now_ns());
    }
    if (now > k->sh->deadline_ns) {
        pending_left(k, INT64_MAX);
        return true;
    }
    return (!u || !u->hello_ok || k->fan_sent >= k->sh->count) && pending_left(k, now) == 0;
}

static const char *const QUERIES[] = {"meeting", "deploy status", "会議",   "budget report",
                                      "進捗",    "urgent ticket", "review", "お願い 確認"};

static bool read_step(struct worker *k, int64_t now)
{
    /* Worker 0's members of the history room take turns, one request in flight. */
    if (k->w != 0)
        return true;
    for (int i = 0; i < k->n_users; i++)
        if (k->u[i].pending == P_READ) {
            if (now - k->u[i].pending_ns > REQ_TIMEOUT_NS) {
                k->u[i].pending = P_NONE;
                k->fig->req_errors++;
            }
            return false;
        }
    if (k->reads_done >= k->sh->count || now > k->sh->deadline_ns)
        return true;
    for (int tries = 0; tries < k->n_users; tries++) {
        struct user *u = &k->u[k->read_cursor];
        k->read_cursor = (k->read_cursor + 1) % k->n_users;
        if (u->index >= k->lay->history.count || !u->hello_ok || now < u->next_ns)
            continue;
        u->next_ns = now + REQ_SPACING_NS;
        k->reads_done++;
        if (k->phase == PH_HISTORY) {
            /* Half the pages are the newest, half from anywhere in the room. */
            char before[40] = "";
            if (rnd(k) % 2)
                snprintf(before, sizeof before, ",\"before\":%llu",
                         1 + rnd(k) % (unsigned long long)k->t->history_max_id);
            request(k, u, P_READ,
                    "{\"id\":%u,\"type\":\"message.history\",\"room\":%lld,\"limit\":50%s}",
                    ++u->req_id, (long long)k->lay->history.id, before);
        } else {
            request(k, u, P_READ, "{\"id\":%u,\"type\":\"search\",\"query\":\"%s\",\"limit\":20}",
                    ++u->req_id, QUERIES[rnd(k) % (sizeof QUERIES / sizeof QUERIES[0])]);
        }
        return false;
    }
    return false;
}

static void start_phase(struct worker *k, int phase, int64_t now)
{
    k->phase = phase;
    memset(k->fig, 0, sizeof *k->fig);
    k->fan_sent = 0;
    k->reads_done = 0;
    for (int i = 0; i < k->n_users; i++) {
        struct user *u = &k->u[i];
        /* Spread the first ping / message over the period. */
        int64_t period = phase == PH_IDLE ? PING_EVERY_NS : CHAT_EVERY_NS;
        u->next_ns = now + (int64_t)(rnd(k) % (uint64_t)(period / 1000000)) * 1000000;
        if (phase == PH_FANOUT || phase == PH_HISTORY || phase == PH_SEARCH)
            u->next_ns = now;
    }
}

int bench_worker_main(int w, int n, const struct bench_layout *lay, const struct bench_target *t,
                      struct bench_shared *sh)
{
    struct worker k = {.w = w, .n = n, .lay = lay, .t = t, .sh = sh, .fig = &sh->fig[w]};
    k.rng = 0x9e3779b97f4a7c15ull + (uint64_t)w * 7919;
    k.n_users = (lay->users - w + n - 1) / n;
    k.u = calloc((size_t)k.n_users, sizeof *k.u);
    struct wsc_config cfg = {.host_header = "localhost", .path = "/",
                             .subprotocol = "lanturn.v1", .max_message = 16u << 20};
    struct wsc_handler h = {.on_open = on_open, .on_text = on_text, .on_close = on_close};
    if (!k.u || wsc_loop_new(&cfg, &h, &k, &k.loop) != 0)
        return 1;
    for (int i = 0; i < k.n_users; i++) {
        k.u[i].index = w + i * n;
        k.u[i].ws.state = WSC_IDLE;
        k.u[i].ws.fd = -1;
    }
    uint32_t seen = 0;
    bool done = true;
    int64_t end = 0;
    for (;;) {
        if (wsc_loop_poll(k.loop, 5) < 0)
            return 1;
        int64_t now = bench_now_ns();
        uint32_t gen = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
        if (gen != seen) {
            seen = gen;
            if (sh->phase == PH_QUIT)
                break;
            start_phase(&k, sh->phase, now);
            __atomic_store_n(&sh->started[w], gen, __ATOMIC_RELEASE);
            end = now + sh->duration_ms * 1000000LL;
            done = false;
        }
        if (done)
            continue;
        switch (k.phase) {
        case PH_STORM: done = storm_step(&k, now); break;
        case PH_SETTLE: done = true; break;
        case PH_IDLE: done = idle_step(&k, now); break;
        case PH_CHAT: done = chat_step(&k, now, end) || now > sh->deadline_ns; break;
        case PH_FANOUT: done = fanout_step(&k, now); break;
        case PH_HISTORY:
        case PH_SEARCH: done = read_step(&k, now); break;
        default: done = true;
        }
        if (done) {
            uint64_t open = 0;
            for (int i = 0; i < k.n_users; i++)
                open += k.u[i].hello_ok;
            k.fig->open = open;
            __atomic_store_n(&sh->done[w], gen, __ATOMIC_RELEASE);
        }
    }
    k.phase = PH_QUIT;
    for (int i = 0; i < k.n_users; i++)
        wsc_close(k.loop, &k.u[i].ws, "quit");
    wsc_loop_free(k.loop);
    free(k.u);
    return 0;
}
