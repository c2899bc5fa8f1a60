/*
 * turn_load.c - turn-load, the benchmark's closed-loop load generator for
 * rates, latency and allocation counts that turnutils_uclient cannot reach.
 *
 *   turn-load rate   --server IP:PORT [--user U:P | --raw] --flows N --size B --rate PPS
 *                    --seconds S [--pid PID]
 *   turn-load sweep  --server IP:PORT [--user U:P | --raw] --flows N --size B --step-seconds S
 *                    [--max-steps N] [--start PPS] [--pid PID]
 *   turn-load allocs --server IP:PORT --user U:P --count N [--parallel W] [--pid PID]
 *
 * --server and --pid may each be given up to MAX_SERVERS times: flow i then
 * goes to server i mod n (each with its own nonce), and CPU and memory are
 * the sum over the processes. That measures several independent servers
 * sharing one load, the ceiling of a server split into as many workers.
 *
 * Every flow is one UDP socket on 127.0.0.1. With --user each flow makes an
 * authenticated allocation and binds a channel to the built-in echo peer
 * (--peer-port, default 127.0.0.1:any), then sends ChannelData; with --raw
 * payloads go straight to --server (the trivial forwarder, started with
 * --to the peer port). Each payload carries a sequence number and the send
 * time; the peer echoes it back through the server, so loss and round-trip
 * time are measured end to end. Sends are paced in 1 ms ticks with sendmmsg.
 *
 * With --pid the server's CPU time (utime+stime, /proc/PID/stat) and
 * resident memory (/proc/PID/status) are read before and after. Results go
 * to stdout as one JSON object. Every loop is bounded in count and time.
 */
#include "stun/stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048
#define MAX_SAMPLES (4u << 20)
#define SETUP_TIMEOUT_NS (30ull * 1000000000ull)
#define RTO_NS 500000000ull
#define MAX_TRIES 6
#define MAX_SERVERS 4

enum flow_state { F_IDLE, F_ALLOC1, F_ALLOC2, F_BIND, F_READY, F_FAILED };

struct flow {
    int fd;
    unsigned srv; /* index in g.srv */
    enum flow_state state;
    uint8_t tid[STUN_TID_LEN];
    uint64_t sent_ns; /* last request */
    unsigned tries;
    uint8_t req[512];
    size_t req_len;
};

/* One server under load, with what its 401 taught us. */
struct server {
    struct stun_addr addr;
    struct sockaddr_in sa;
    char realm[128], nonce[256];
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
};

static struct {
    struct server srv[MAX_SERVERS];
    unsigned n_srv;
    struct stun_addr peer;
    bool raw;
    char user[128], pass[128];
    int peer_fd, epfd;
    struct flow *flows;
    unsigned n_flows;
    size_t size;
    int pid[MAX_SERVERS];
    unsigned n_pid;
    /* counters of the current measurement */
    uint64_t sent, peer_rx, client_rx;
    uint32_t *samples; /* RTT in microseconds */
    size_t n_samples;
    uint64_t seq;
} g;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "turn-load: %s\n", what);
    exit(1);
}

/* One process's CPU in microseconds (utime+stime of all threads), or -1. */
static long long pid_cpu_us(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* fields after ")": state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)((ut + st) * 1000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static long long pid_rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long long kib = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %lld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Sum of fn over the --pid processes; -1 without --pid or when one fails. */
static long long servers_sum(long long (*fn)(int pid))
{
    long long sum = g.n_pid ? 0 : -1;
    for (unsigned i = 0; i < g.n_pid && sum >= 0; i++) {
        long long v = fn(g.pid[i]);
        sum = v < 0 ? -1 : sum + v;
    }
    return sum;
}

static long long proc_cpu_us(void)
{
    return servers_sum(pid_cpu_us);
}

static long long proc_rss_kib(void)
{
    return servers_sum(pid_rss_kib);
}

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket failed (raise the descriptor limit)");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die("bind failed");
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    return fd;
}

static void to_sa(const struct stun_addr *a, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(a->port);
    memcpy(&sa->sin_addr, a->ip, 4);
}

/* ---- setup: Allocate (401, then authenticated), ChannelBind ---- */

static void flow_request(struct flow *f, uint16_t method)
{
    const struct server *sv = &g.srv[f->srv];
    for (unsigned i = 0; i < STUN_TID_LEN; i++)
        f->tid[i] = (uint8_t)rand();
    struct stun_builder b;
    stun_build_init(&b, f->req, sizeof(f->req), method, STUN_REQUEST, f->tid);
    if (method == TURN_ALLOCATE) {
        const uint8_t udp[4] = {17, 0, 0, 0};
        stun_put_attr(&b, STUN_ATTR_REQUESTED_TRANSPORT, udp, 4);
    } else {
        stun_put_u32(&b, STUN_ATTR_CHANNEL_NUMBER, 0x4000u << 16);
        stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &g.peer, true);
    }
    if (f->state != F_ALLOC1) {
        stun_put_str(&b, STUN_ATTR_USERNAME, g.user);
        stun_put_str(&b, STUN_ATTR_REALM, sv->realm);
        stun_put_str(&b, STUN_ATTR_NONCE, sv->nonce);
        stun_put_integrity(&b, sv->key, sizeof(sv->key));
    }
    if (stun_build_finish(&b, &f->req_len) != 0)
        die("cannot build a request");
    f->tries = 0;
}

static void flow_transmit(struct flow *f, uint64_t now)
{
    f->tries++;
    f->sent_ns = now;
    const struct sockaddr_in *sa = &g.srv[f->srv].sa;
    sendto(f->fd, f->req, f->req_len, 0, (const struct sockaddr *)sa, sizeof(*sa));
}

static void flow_start(struct flow *f, uint64_t now)
{
    f->state = g.srv[f->srv].nonce[0] ? F_ALLOC2 : F_ALLOC1; /* reuse the nonce once known */
    flow_request(f, TURN_ALLOCATE);
    flow_transmit(f, now);
}

static void copy_attr(const struct stun_msg *m, uint16_t type, char *out, size_t cap)
{
    const struct stun_attr *a = stun_find(m, type);
    if (a && a->len < cap) {
        memcpy(out, a->val, a->len);
        out[a->len] = '\0';
    }
}

/* One response for a flow in setup; stop_after_alloc for the allocs mode. */
static void flow_response(struct flow *f, const uint8_t *buf, size_t len, bool stop_after_alloc,
                          uint64_t now)
{
    struct stun_msg m;
    if (stun_parse(&m, buf, len) != 0 || memcmp(m.tid, f->tid, STUN_TID_LEN) != 0)
        return;
    int code = 0;
    if (m.cls == STUN_ERROR) {
        const struct stun_attr *e = stun_find(&m, STUN_ATTR_ERROR_CODE);
        const char *reason;
        size_t rlen;
        if (!e || stun_attr_get_error(e, &code, &reason, &rlen) != 0)
            code = 500;
    }
    if ((code == 401 && f->state == F_ALLOC1) || code == 438) {
        struct server *sv = &g.srv[f->srv];
        copy_attr(&m, STUN_ATTR_REALM, sv->realm, sizeof(sv->realm));
        copy_attr(&m, STUN_ATTR_NONCE, sv->nonce, sizeof(sv->nonce));
        stun_long_term_key(g.user, sv->realm, g.pass, sv->key);
        if (f->state == F_ALLOC1)
            f->state = F_ALLOC2;
        flow_request(f, m.method);
        flow_transmit(f, now);
        return;
    }
    if (code != 0) {
        f->state = F_FAILED;
        return;
    }
    if (f->state == F_ALLOC2 && m.cls == STUN_SUCCESS) {
        if (stop_after_alloc) {
            f->state = F_READY;
            return;
        }
        f->state = F_BIND;
        flow_request(f, TURN_CHANNEL_BIND);
        flow_transmit(f, now);
    } else if (f->state == F_BIND && m.cls == STUN_SUCCESS) {
        f->state = F_READY;
    }
}

/* Set up flows [0, n) with at most `parallel` in flight. Returns the
 * number that became ready; *elapsed_ns the time it took. */
static unsigned setup_flows(unsigned n, unsigned parallel, bool stop_after_alloc,
                            uint64_t *elapsed_ns)
{
    uint64_t t0 = now_ns(), last_scan = t0;
    unsigned next = 0, done = 0, ready = 0, inflight = 0;
    uint8_t buf[SLOT];
    struct epoll_event ev[256];
    while (done < n && now_ns() - t0 < SETUP_TIMEOUT_NS) {
        uint64_t now = now_ns();
        while (inflight < parallel && next < n) {
            flow_start(&g.flows[next++], now);
            inflight++;
        }
        int k = epoll_wait(g.epfd, ev, 256, 10);
        now = now_ns();
        for (int i = 0; i < k; i++) {
            if (ev[i].data.u32 == UINT32_MAX)
                continue;
            struct flow *f = &g.flows[ev[i].data.u32];
            for (int r = 0; r < 4; r++) {
                ssize_t len = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (len <= 0)
                    break;
                enum flow_state before = f->state;
                flow_response(f, buf, (size_t)len, stop_after_alloc, now);
                if (before != f->state && (f->state == F_READY || f->state == F_FAILED)) {
                    inflight--;
                    done++;
                    ready += f->state == F_READY;
                }
            }
        }
        if (now - last_scan > 50000000ull) { /* retransmit (RFC 8489 §6.2.1, simplified) */
            last_scan = now;
            for (unsigned i = 0; i < next; i++) {
                struct flow *f = &g.flows[i];
                if (f->state == F_READY || f->state == F_FAILED || now - f->sent_ns < RTO_NS)
                    continue;
                if (f->tries >= MAX_TRIES) {
                    f->state = F_FAILED;
                    inflight--;
                    done++;
                } else {
                    flow_transmit(f, now);
                }
            }
        }
    }
    *elapsed_ns = now_ns() - t0;
    return ready;
}

static void open_flows(unsigned n)
{
    g.flows = calloc(n, sizeof(*g.flows));
    if (!g.flows)
        die("out of memory");
    g.n_flows = n;
    for (unsigned i = 0; i < n; i++) {
        g.flows[i].fd = udp_socket();
        g.flows[i].srv = i % g.n_srv;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, g.flows[i].fd, &ev) != 0)
            die("epoll_ctl failed");
    }
}

/* ---- the data phase ---- */

static uint8_t rx[BATCH][SLOT];
static uint8_t tx[BATCH][SLOT];
static struct mmsghdr msgs[BATCH];
static struct iovec iov[BATCH];
static struct sockaddr_in addrs[BATCH];

static int receive_batch(int fd)
{
    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){rx[i], SLOT};
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &addrs[i], .msg_namelen = sizeof(addrs[i]), .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    return recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
}

/* The echo peer sends every datagram back where it came from. */
static void peer_echo(void)
{
    for (int round = 0; round < 16; round++) {
        int n = receive_batch(g.peer_fd);
        if (n <= 0)
            return;
        g.peer_rx += (uint64_t)n;
        for (int i = 0; i < n; i++)
            iov[i].iov_len = msgs[i].msg_len;
        sendmmsg(g.peer_fd, msgs, (unsigned)n, MSG_DONTWAIT);
        if (n < BATCH)
            return;
    }
}

static void client_receive(struct flow *f, uint64_t now)
{
    size_t hdr = g.raw ? 0 : STUN_CHANDATA_HEADER_LEN;
    for (int round = 0; round < 16; round++) {
        int n = receive_batch(f->fd);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_len < hdr + 16)
                continue;
            g.client_rx++;
            uint64_t t;
            memcpy(&t, rx[i] + hdr + 8, 8);
            if (g.n_samples < MAX_SAMPLES && now > t)
                g.samples[g.n_samples++] = (uint32_t)((now - t) / 1000);
        }
        if (n < BATCH)
            return;
    }
}

static void drain(uint64_t until)
{
    struct epoll_event ev[256];
    while (now_ns() < until) {
        int k = epoll_wait(g.epfd, ev, 256, 1);
        uint64_t now = now_ns();
        for (int i = 0; i < k; i++) {
            if (ev[i].data.u32 == UINT32_MAX)
                peer_echo();
            else
                client_receive(&g.flows[ev[i].data.u32], now);
        }
    }
}

/* Send `count` payloads on flow f in one sendmmsg. */
static void send_burst(struct flow *f, unsigned count, uint64_t now)
{
    size_t hdr = g.raw ? 0 : STUN_CHANDATA_HEADER_LEN;
    for (unsigned i = 0; i < count; i++) {
        uint64_t seq = ++g.seq;
        memcpy(tx[i] + hdr, &seq, 8);
        memcpy(tx[i] + hdr + 8, &now, 8);
        iov[i] = (struct iovec){tx[i], hdr + g.size};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &g.srv[f->srv].sa,
                                          .msg_namelen = sizeof(g.srv[f->srv].sa),
                                          .msg_iov = &iov[i],
                                          .msg_iovlen = 1};
    }
    int n = sendmmsg(f->fd, msgs, count, MSG_DONTWAIT);
    if (n > 0)
        g.sent += (uint64_t)n;
}

struct result {
    double rate, seconds;
    uint64_t sent, peer_rx, client_rx;
    double loss;
    double p50_us, p99_us;
    long long cpu_us;
    double cpu_per_datagram_us; /* server CPU / datagrams it relayed */
    bool generator_limited;     /* could not offer the asked rate */
    long long generator_cpu_us; /* this process, to see when it is the limit */
};

static long long self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void run_rate(double rate, double seconds, struct result *r)
{
    g.sent = g.peer_rx = g.client_rx = 0;
    g.n_samples = 0;
    unsigned hdr = g.raw ? 0 : STUN_CHANDATA_HEADER_LEN;
    for (unsigned i = 0; i < BATCH; i++) {
        memset(tx[i], 0xab, SLOT);
        if (!g.raw)
            stun_chandata_put_header(tx[i], 0x4000, (uint16_t)g.size);
    }
    (void)hdr;
    long long cpu0 = proc_cpu_us(), self0 = self_cpu_us();
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
    uint64_t next_tick = t0;
    unsigned rr = 0;
    struct epoll_event ev[256];
    while (now_ns() < end) {
        uint64_t now = now_ns();
        if (now >= next_tick) {
            /* The burst due by now, spread over flows in round robin. */
            uint64_t due = (uint64_t)((double)(now - t0) / 1e9 * rate);
            uint64_t behind = due > g.sent ? due - g.sent : 0;
            unsigned guard = 0;
            while (behind > 0 && guard++ < g.n_flows * 4) {
                unsigned per = (unsigned)(behind / g.n_flows + 1);
                if (per > BATCH)
                    per = BATCH;
                if (per > behind)
                    per = (unsigned)behind;
                send_burst(&g.flows[rr], per, now);
                rr = (rr + 1) % g.n_flows;
                behind -= per;
            }
            next_tick += 1000000; /* 1 ms */
            if (next_tick < now)
                next_tick = now + 1000000;
        }
        struct timespec ts = {0, 0};
        uint64_t left = next_tick > now_ns() ? next_tick - now_ns() : 0;
        ts.tv_nsec = (long)left;
        int k = epoll_pwait2(g.epfd, ev, 256, &ts, NULL);
        now = now_ns();
        for (int i = 0; i < k; i++) {
            if (ev[i].data.u32 == UINT32_MAX)
                peer_echo();
            else
                client_receive(&g.flows[ev[i].data.u32], now);
        }
    }
    drain(now_ns() + 300000000ull);
    long long cpu1 = proc_cpu_us();
    r->rate = rate;
    r->seconds = seconds;
    r->sent = g.sent;
    r->peer_rx = g.peer_rx;
    r->client_rx = g.client_rx;
    r->loss = g.sent ? 1.0 - (double)g.client_rx / (double)g.sent : 1.0;
    if (r->loss < 0)
        r->loss = 0;
    r->generator_limited = (double)g.sent < 0.97 * rate * seconds;
    r->cpu_us = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    r->generator_cpu_us = self_cpu_us() - self0;
    uint64_t relayed = g.peer_rx + g.client_rx;
    r->cpu_per_datagram_us = r->cpu_us >= 0 && relayed ? (double)r->cpu_us / (double)relayed : -1;
    qsort(g.samples, g.n_samples, sizeof(*g.samples), cmp_u32);
    r->p50_us = g.n_samples ? (double)g.samples[g.n_samples / 2] : -1.0;
    r->p99_us = g.n_samples ? (double)g.samples[g.n_samples * 99 / 100] : -1.0;
}

static void print_result(const char *key, const struct result *r)
{
    printf("\"%s\":{\"offered_pps\":%.0f,\"seconds\":%.2f,\"sent\":%llu,\"peer_received\":%llu,"
           "\"received\":%llu,\"loss\":%.6f,\"rtt_p50_us\":%.0f,\"rtt_p99_us\":%.0f,"
           "\"server_cpu_us\":%lld,\"cpu_per_datagram_us\":%.3f,\"generator_limited\":%s,"
           "\"generator_cpu_us\":%lld}",
           key, r->rate, r->seconds, (unsigned long long)r->sent, (unsigned long long)r->peer_rx,
           (unsigned long long)r->client_rx, r->loss, r->p50_us, r->p99_us, r->cpu_us,
           r->cpu_per_datagram_us, r->generator_limited ? "true" : "false", r->generator_cpu_us);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void usage_to(FILE *f, int code)
{
    fprintf(f,
            "turn-load - the load generator of tools/bench-turn: closed-loop rates, a sweep for the\n"
            "highest lossless rate, and authenticated allocations per second, against a TURN\n"
            "server (or, with --raw, the udp-forwarder baseline) on loopback. One JSON object\n"
            "on stdout; see docs/PERFORMANCE.md.\n\n"
            "usage: turn-load rate|sweep|allocs --server IP:PORT [--user U:P | --raw]\n"
            "       [--flows N] [--size B] [--rate PPS] [--seconds S] [--step-seconds S]\n"
            "       [--max-steps N] [--start PPS] [--count N] [--parallel W]\n"
            "       [--peer-port P] [--pid PID]\n"
            "       (--server and --pid up to %d times each)\n",
            MAX_SERVERS);
    exit(code);
}

static void usage(void)
{
    usage_to(stderr, 2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        usage_to(stdout, 0);
    const char *mode = argv[1];
    unsigned flows = 50, count = 10000, parallel = 32, max_steps = 16, peer_port = 0;
    double rate = 10000, seconds = 5, step_seconds = 2, start = 10000;
    g.size = 100;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--raw") == 0) {
            g.raw = true;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--server") == 0) {
            if (g.n_srv == MAX_SERVERS || stun_addr_parse(v, &g.srv[g.n_srv].addr) != 0 ||
                g.srv[g.n_srv].addr.family != AF_INET)
                usage();
            to_sa(&g.srv[g.n_srv].addr, &g.srv[g.n_srv].sa);
            g.n_srv++;
        }
        else if (strcmp(a, "--user") == 0) {
            const char *colon = strchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof(g.user) || strlen(colon + 1) >= sizeof(g.pass))
                usage();
            memcpy(g.user, v, (size_t)(colon - v));
            strcpy(g.pass, colon + 1);
        } else if (strcmp(a, "--flows") == 0)
            flows = (unsigned)atoi(v);
        else if (strcmp(a, "--size") == 0)
            g.size = (size_t)atoi(v);
        else if (strcmp(a, "--rate") == 0)
            rate = atof(v);
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--step-seconds") == 0)
            step_seconds = atof(v);
        else if (strcmp(a, "--max-steps") == 0)
            max_steps = (unsigned)atoi(v);
        else if (strcmp(a, "--start") == 0)
            start = atof(v);
        else if (strcmp(a, "--count") == 0)
            count = (unsigned)atoi(v);
        else if (strcmp(a, "--parallel") == 0)
            parallel = (unsigned)atoi(v);
        else if (strcmp(a, "--peer-port") == 0)
            peer_port = (unsigned)atoi(v);
        else if (strcmp(a, "--pid") == 0) {
            if (g.n_pid == MAX_SERVERS || atoi(v) <= 0)
                usage();
            g.pid[g.n_pid++] = atoi(v);
        }
        else
            usage();
    }
    if (g.n_srv == 0 || (!g.raw && !g.user[0]) || flows == 0 || flows > 4096 || g.size < 16 ||
        g.size > 1400 || rate <= 0 || seconds <= 0 || seconds > 120 || step_seconds <= 0 ||
        step_seconds > 30 || max_steps == 0 || max_steps > 40 || count == 0 || count > 60000 ||
        parallel == 0 || peer_port > 65535)
        usage();
    raise_nofile();
    srand((unsigned)now_ns());
    g.samples = malloc(MAX_SAMPLES * sizeof(*g.samples));
    g.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!g.samples || g.epfd < 0)
        die("out of memory");
    g.peer_fd = udp_socket();
    if (peer_port) {
        close(g.peer_fd);
        g.peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)peer_port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int buf = 4 << 20;
        setsockopt(g.peer_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        if (g.peer_fd < 0 || bind(g.peer_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            die("cannot bind the peer port");
    }
    struct sockaddr_in psa;
    socklen_t pl = sizeof(psa);
    getsockname(g.peer_fd, (struct sockaddr *)&psa, &pl);
    g.peer.family = AF_INET;
    g.peer.port = ntohs(psa.sin_port);
    memcpy(g.peer.ip, &psa.sin_addr, 4);
    struct epoll_event pev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, g.peer_fd, &pev) != 0)
        die("epoll_ctl failed");

    if (strcmp(mode, "allocs") == 0) {
        if (g.raw)
            usage();
        long long rss0 = proc_rss_kib();
        long long cpu0 = proc_cpu_us();
        open_flows(count);
        uint64_t elapsed;
        unsigned ready = setup_flows(count, parallel, true, &elapsed);
        long long cpu1 = proc_cpu_us();
        usleep(200000); /* let the server settle before reading its memory */
        long long rss1 = proc_rss_kib();
        double secs = (double)elapsed / 1e9;
        printf("{\"allocations\":%u,\"requested\":%u,\"seconds\":%.3f,\"per_second\":%.0f,"
               "\"rss_before_kib\":%lld,\"rss_after_kib\":%lld,\"bytes_per_allocation\":%.0f,"
               "\"server_cpu_us\":%lld}\n",
               ready, count, secs, ready / secs, rss0, rss1,
               ready && rss0 >= 0 ? (double)(rss1 - rss0) * 1024.0 / ready : -1, cpu1 - cpu0);
        return ready == count ? 0 : 1;
    }

    open_flows(flows);
    if (!g.raw) {
        uint64_t elapsed;
        unsigned ready = setup_flows(flows, parallel, false, &elapsed);
        if (ready != flows) {
            fprintf(stderr, "turn-load: only %u of %u flows could allocate and bind\n", ready,
                    flows);
            return 1;
        }
    }
    drain(now_ns() + 100000000ull);
    if (strcmp(mode, "rate") == 0) {
        struct result r;
        run_rate(rate, seconds, &r);
        printf("{");
        print_result("rate", &r);
        printf("}\n");
        return 0;
    }
    if (strcmp(mode, "sweep") != 0)
        usage();
    /* Raise the rate by 1.4x until loss reaches 0.1 %, then bisect to 8 %. */
    struct result best = {0}, r;
    double lo = 0, hi = 0, cur = start;
    bool generator_limited = false;
    for (unsigned step = 0; step < max_steps; step++) {
        run_rate(cur, step_seconds, &r);
        fprintf(stderr, "turn-load: %.0f pps loss %.4f%%%s\n", cur, r.loss * 100,
                r.generator_limited ? " (generator limited)" : "");
        bool ok = r.loss < 0.001 && !r.generator_limited;
        if (r.generator_limited)
            generator_limited = true;
        if (ok) {
            lo = cur;
            best = r;
        } else {
            hi = cur;
        }
        if (hi == 0)
            cur *= 1.4;
        else if (lo == 0)
            cur /= 2; /* lossy from the start: come down */
        else if (hi / lo < 1.08)
            break;
        else
            cur = (lo + hi) / 2;
        drain(now_ns() + 200000000ull);
    }
    struct result half = {0};
    if (lo > 0)
        run_rate(lo / 2, step_seconds, &half);
    printf("{\"lossless_pps\":%.0f,\"generator_limited\":%s,", lo,
           generator_limited ? "true" : "false");
    print_result("at_max", &best);
    printf(",");
    print_result("at_half", &half);
    printf("}\n");
    return 0;
}
