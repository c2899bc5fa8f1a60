/*
 * bench_signal.c - the load generator behind tools/bench-signal: drives a
 * running signald through the scenarios of its sizing goal (connect storm,
 * idle hold with pings, steady chat, fan-out to a 5,000-member room, history
 * pages and search over a 1M-message room), reads signald's CPU and memory
 * from /proc, and prints one table (or JSON).
 *
 *   bench-signal --layout FILE --port WS_PORT --https-port PORT --pid PID
 *                [--workers N] [--hold S] [--chat S] [--senders N] [--fanout N]
 *                [--reads N] [--logins N] [--history-max-id N] [--json]
 *
 * Why epoll + OpenSSL rather than the libwebsockets client: a process may
 * hold at most RLIMIT_NOFILE connections (20,000 hard on the reference box,
 * and signald needs the same number), so the load is split over worker
 * processes, and each worker must keep thousands of mostly idle TLS
 * connections cheaply (released OpenSSL buffers, no per-frame allocation)
 * and read 10^8 presence frames as fast as signald sends them. A 400-line
 * client (wsc.c) does exactly that and nothing else; lws' client adds
 * per-connection vhost/retry machinery we would have to tune around.
 */
#include "bench.h"
#include "bench_login.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAMPLE_NS 200000000LL

struct opts {
    const char *layout;
    int port, https_port, pid, workers, sources;
    int hold_s, chat_s, senders, fanout, reads, logins, storm_timeout_s, max_rss_mb;
    int login_storm, login_storm_s;
    int presence_broadcast_max; /* signald's: past it, presence goes to subscribers only */
    long history_max_id;
    bool json;
};

struct result {
    const char *key, *label;
    double n, p50, p99, max, per_s, errors, lost, cpu, rss, seconds, load_cpu;
};

static struct bench_shared *sh;
static pid_t workers[BENCH_WORKERS_MAX];
static int n_workers;
static int sig_pid;
static long clk_tck;
static uint64_t presence_total, frames_total;
static int rss_exceeded;

/* ---- the layout file written by bench-seed ---- */

static int load_layout(const char *path, struct bench_layout *lay)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench-signal: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[256], kind[16], tok[64];
    int cap_chat = 64, max_user = -1;
    memset(lay, 0, sizeof *lay);
    lay->chat = malloc((size_t)cap_chat * sizeof *lay->chat);
    long long id;
    int a, b;
    /* Two passes: the number of users first. */
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "user %d %lld %63s", &a, &id, tok) == 3 && a > max_user)
            max_user = a;
    lay->users = max_user + 1;
    lay->user_id = calloc((size_t)lay->users, sizeof *lay->user_id);
    lay->token = calloc((size_t)lay->users, sizeof *lay->token);
    lay->chat_of = malloc((size_t)lay->users * sizeof *lay->chat_of);
    if (lay->users == 0 || !lay->user_id || !lay->token || !lay->chat_of || !lay->chat) {
        fprintf(stderr, "bench-signal: %s: no users\n", path);
        fclose(f);
        return -1;
    }
    for (int i = 0; i < lay->users; i++)
        lay->chat_of[i] = -1;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "user %d %lld %63s", &a, &id, tok) == 3) {
            lay->user_id[a] = id;
            snprintf(lay->token[a], sizeof lay->token[a], "%.47s", tok);
        } else if (sscanf(line, "room %lld %15s %d %d", &id, kind, &a, &b) == 4) {
            struct bench_room r = {.id = id, .first = a, .count = b};
            if (strcmp(kind, "fanout") == 0)
                lay->fanout = r;
            else if (strcmp(kind, "history") == 0)
                lay->history = r;
            else {
                if (lay->n_chat == cap_chat) {
                    cap_chat *= 2;
                    lay->chat = realloc(lay->chat, (size_t)cap_chat * sizeof *lay->chat);
                    if (!lay->chat)
                        return -1;
                }
                for (int i = a; i < a + b && i < lay->users; i++)
                    lay->chat_of[i] = lay->n_chat;
                lay->chat[lay->n_chat++] = r;
            }
        }
    }
    fclose(f);
    return lay->fanout.id && lay->history.id ? 0 : -1;
}

/* ---- signald's CPU and memory ---- */

static long proc_ticks(int pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

/* CPU ticks of the load generator's workers: is the generator the limit? */
static long load_ticks(void)
{
    char buf[2048];
    long sum = 0;
    for (int w = 0; w < n_workers; w++) {
        long t = workers[w] ? proc_ticks(workers[w], buf, sizeof buf) : -1;
        if (t > 0)
            sum += t;
    }
    return sum;
}

static int proc_sample(long *ticks, long *rss_kb)
{
    char path[64], buf[2048];
    if ((*ticks = proc_ticks(sig_pid, buf, sizeof buf)) < 0)
        return -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/status", sig_pid);
    if (!(f = fopen(path, "r")))
        return -1;
    *rss_kb = 0;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "VmRSS: %ld", rss_kb) == 1)
            break;
    fclose(f);
    return 0;
}

/* ---- phases ---- */

static void merged(struct bench_figures *out)
{
    memset(out, 0, sizeof *out);
    for (int w = 0; w < n_workers; w++) {
        const struct bench_figures *f = &sh->fig[w];
        out->open += f->open;
        out->conn_errors += f->conn_errors;
        out->closed += f->closed;
        out->sent += f->sent;
        out->acked += f->acked;
        out->req_errors += f->req_errors;
        out->expected += f->expected;
        out->received += f->received;
        out->gaps += f->gaps;
        out->presence += f->presence;
        out->frames += f->frames;
        hist_merge(&out->lat, &f->lat);
    }
}

static bool workers_alive(void)
{
    for (int w = 0; w < n_workers; w++) {
        int st;
        if (workers[w] && waitpid(workers[w], &st, WNOHANG) == workers[w]) {
            fprintf(stderr, "bench-signal: worker %d died (status %d)\n", w, st);
            workers[w] = 0;
            return false;
        }
    }
    return true;
}

/* After the workers: nothing more, the deliveries the acked messages owe,
 * or no frame received for a second (the server's queues are empty). */
enum wait_for { WAIT_WORKERS, WAIT_DRAIN, WAIT_QUIET };

/* Publishes a phase, waits for every worker and then for `wait`, sampling
 * signald meanwhile. */
static int run_phase(int phase, int64_t duration_ms, int64_t count, int64_t timeout_ms,
                     enum wait_for wait, struct bench_figures *fig, struct result *r)
{
    int64_t t0 = bench_now_ns();
    long load0 = load_ticks();
    uint64_t last_frames = 0;
    int64_t quiet_since = 0;
    long tick0 = 0, rss = 0, tick = 0, rss_max = 0;
    if (proc_sample(&tick0, &rss) != 0) {
        fprintf(stderr, "bench-signal: signald (pid %d) is gone\n", sig_pid);
        return -1;
    }
    rss_max = rss;
    sh->phase = phase;
    sh->duration_ms = duration_ms;
    sh->count = count;
    sh->deadline_ns = t0 + timeout_ms * 1000000LL;
    uint32_t gen = sh->gen + 1;
    __atomic_store_n(&sh->gen, gen, __ATOMIC_RELEASE);
    int64_t drain_until = 0;
    int rc = 0;
    for (;;) {
        usleep(20000);
        int64_t now = bench_now_ns();
        if (proc_sample(&tick, &rss) == 0 && rss > rss_max)
            rss_max = rss;
        if (rss_max / 1024 > 0 && rss_max / 1024 > (long)rss_exceeded && rss_exceeded) {
            fprintf(stderr, "bench-signal: signald RSS %ld MB over the limit: stopping\n",
                    rss_max / 1024);
            rc = -1;
            break;
        }
        if (!workers_alive() || kill(sig_pid, 0) != 0) {
            rc = -1;
            break;
        }
        bool all = true;
        for (int w = 0; w < n_workers; w++)
            all &= __atomic_load_n(&sh->done[w], __ATOMIC_ACQUIRE) == gen;
        if (all && wait == WAIT_DRAIN) {
            merged(fig);
            if (!drain_until)
                drain_until = now + 10000000000LL; /* late deliveries count as lost */
            all = fig->received >= fig->expected || now > drain_until;
        } else if (all && wait == WAIT_QUIET) {
            merged(fig);
            if (fig->frames != last_frames || !quiet_since) {
                last_frames = fig->frames;
                quiet_since = now;
            }
            all = now - quiet_since > 1000000000LL || now > sh->deadline_ns;
        }
        if (all)
            break;
        if (now > sh->deadline_ns + 30000000000LL) {
            fprintf(stderr, "bench-signal: phase %d: workers did not finish\n", phase);
            rc = -1;
            break;
        }
    }
    (void)SAMPLE_NS;
    int64_t t1 = bench_now_ns();
    merged(fig);
    presence_total += fig->presence;
    frames_total += fig->frames;
    r->seconds = (double)(t1 - t0) / 1e9;
    r->cpu = r->seconds > 0 ? 100.0 * (double)(tick - tick0) / (double)clk_tck / r->seconds : 0;
    r->rss = (double)rss_max / 1024.0;
    r->load_cpu = 100.0 * (double)(load_ticks() - load0) / (double)clk_tck / r->seconds;
    r->n = (double)fig->lat.n;
    r->p50 = hist_ms(&fig->lat, 0.5);
    r->p99 = hist_ms(&fig->lat, 0.99);
    r->max = hist_ms(&fig->lat, 1);
    r->errors = (double)(fig->conn_errors + fig->closed + fig->req_errors);
    if (rc)
        r->errors += 1;
    return rc;
}

/* ---- password logins over HTTPS, one at a time ---- */

static void logins(const struct opts *o, const struct bench_layout *lay, struct result *r)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* our own signald, our own certificate */
    struct hist *h = calloc(1, sizeof *h);
    long tick0 = 0, tick = 0, rss = 0;
    proc_sample(&tick0, &rss);
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < o->logins; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench%05d", (int)((i * 7919L) % lay->users));
        double ms;
        if (bench_login(ctx, o->https_port, name, &ms) != 200)
            r->errors++;
        else
            hist_add(h, (uint64_t)(ms * 1000));
    }
    r->seconds = (double)(bench_now_ns() - t0) / 1e9;
    proc_sample(&tick, &rss);
    r->cpu = 100.0 * (double)(tick - tick0) / (double)clk_tck / r->seconds;
    r->rss = (double)rss / 1024.0;
    r->n = (double)h->n;
    r->p50 = hist_ms(h, 0.5);
    r->p99 = hist_ms(h, 0.99);
    r->max = hist_ms(h, 1);
    r->per_s = (double)h->n / r->seconds;
    free(h);
    SSL_CTX_free(ctx);
}

/* ---- report ---- */

static void print_table(const struct opts *o, const struct bench_layout *lay, uint64_t open,
                        struct result *res, int n)
{
    printf("signald: %d users, %llu connected over %d source addresses, %d load processes\n",
           lay->users, (unsigned long long)open, o->sources, n_workers);
    printf("%-22s %8s %8s %8s %8s %9s %6s %6s %6s %7s %7s %6s\n", "scenario", "n", "p50 ms",
           "p99 ms", "max ms", "per s", "errors", "lost", "cpu %", "rss MB", "seconds", "load %");
    for (int i = 0; i < n; i++) {
        struct result *r = &res[i];
        printf("%-22s %8.0f %8.2f %8.2f %8.2f %9.1f %6.0f %6.0f %6.1f %7.0f %7.1f %6.1f\n",
               r->label, r->n, r->p50, r->p99, r->max, r->per_s, r->errors, r->lost, r->cpu,
               r->rss, r->seconds, r->load_cpu);
    }
    printf("presence events received: %llu; frames received: %llu\n",
           (unsigned long long)presence_total, (unsigned long long)frames_total);
}

static void print_json(const struct bench_layout *lay, uint64_t open, struct result *res, int n)
{
    double errors = 0;
    for (int i = 0; i < n; i++)
        errors += res[i].errors + res[i].lost;
    printf("{\"users\":%d,\"connected\":%llu,\"workers\":%d,\"presence_events\":%llu,"
           "\"errors_total\":%.0f,\"scenarios\":{",
           lay->users, (unsigned long long)open, n_workers, (unsigned long long)presence_total,
           errors);
    for (int i = 0; i < n; i++) {
        struct result *r = &res[i];
        printf("%s\"%s\":{\"n\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
               "\"per_s\":%.2f,\"errors\":%.0f,\"lost\":%.0f,\"cpu_pct\":%.1f,\"rss_mb\":%.1f,"
               "\"seconds\":%.2f,\"load_cpu_pct\":%.1f}",
               i ? "," : "", r->key, r->n, r->p50, r->p99, r->max, r->per_s, r->errors, r->lost,
               r->cpu, r->rss, r->seconds, r->load_cpu);
    }
    printf("}}\n");
}

static void usage(FILE *f)
{
    fputs("bench-signal - the load generator behind tools/bench-signal (run that script: it\n"
          "seeds the data, starts signald and passes these options): connect storm, idle\n"
          "hold, chat, fan-out, history and search against a running signald.\n\n"
          "usage: bench-signal --layout FILE --port WS_PORT --https-port PORT --pid PID\n"
          "       [--workers N] [--sources N] [--hold S] [--chat S] [--senders N] [--fanout N]\n"
          "       [--reads N] [--logins N] [--history-max-id N] [--storm-timeout S]\n"
          "       [--max-rss-mb MB] [--login-storm N] [--login-storm-s S]\n"
          "       [--presence-broadcast-max N] [--json]\n",
          f);
}

int main(int argc, char **argv)
{
    struct opts o = {.workers = 0, .sources = 8, .hold_s = 600, .chat_s = 120, .senders = 2000,
                     .fanout = 10, .reads = 1000, .logins = 20, .storm_timeout_s = 300,
                     .max_rss_mb = 12000, .history_max_id = 1000000, .login_storm = 0,
                     .login_storm_s = 30, .presence_broadcast_max = 1000};
    static const struct option lo[] = {
        {"layout", 1, NULL, 'L'},      {"port", 1, NULL, 'p'},        {"https-port", 1, NULL, 'H'},
        {"pid", 1, NULL, 'P'},         {"workers", 1, NULL, 'w'},     {"sources", 1, NULL, 's'},
        {"hold", 1, NULL, 'i'},        {"chat", 1, NULL, 'c'},        {"senders", 1, NULL, 'S'},
        {"fanout", 1, NULL, 'f'},      {"reads", 1, NULL, 'r'},       {"logins", 1, NULL, 'l'},
        {"history-max-id", 1, NULL, 'm'}, {"storm-timeout", 1, NULL, 't'},
        {"max-rss-mb", 1, NULL, 'R'},  {"json", 0, NULL, 'j'},
        {"login-storm", 1, NULL, 'G'}, {"login-storm-s", 1, NULL, 'g'},
        {"presence-broadcast-max", 1, NULL, 'B'}, {"help", 0, NULL, 'h'}, {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'L': o.layout = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 'H': o.https_port = atoi(optarg); break;
        case 'P': o.pid = atoi(optarg); break;
        case 'w': o.workers = atoi(optarg); break;
        case 's': o.sources = atoi(optarg); break;
        case 'i': o.hold_s = atoi(optarg); break;
        case 'c': o.chat_s = atoi(optarg); break;
        case 'S': o.senders = atoi(optarg); break;
        case 'f': o.fanout = atoi(optarg); break;
        case 'r': o.reads = atoi(optarg); break;
        case 'l': o.logins = atoi(optarg); break;
        case 'm': o.history_max_id = atol(optarg); break;
        case 't': o.storm_timeout_s = atoi(optarg); break;
        case 'R': o.max_rss_mb = atoi(optarg); break;
        case 'j': o.json = true; break;
        case 'G': o.login_storm = atoi(optarg); break;
        case 'g': o.login_storm_s = atoi(optarg); break;
        case 'B': o.presence_broadcast_max = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.layout || !o.port || !o.https_port || !o.pid || o.sources < 1 || o.sources > 200) {
        usage(stderr);
        return 2;
    }
    struct bench_layout lay;
    if (load_layout(o.layout, &lay) != 0)
        return 1;
    sig_pid = o.pid;
    clk_tck = sysconf(_SC_CLK_TCK);
    rss_exceeded = o.max_rss_mb;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Each worker holds at most ~80 % of the descriptor limit. */
    n_workers = o.workers;
    if (n_workers <= 0)
        n_workers = (int)(lay.users / (long)(rl.rlim_cur * 8 / 10)) + 1;
    if (n_workers < 1 || n_workers > BENCH_WORKERS_MAX) {
        fprintf(stderr, "bench-signal: --workers 1..%d\n", BENCH_WORKERS_MAX);
        return 2;
    }
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    sh->senders_stride = o.senders > 0 && o.senders < lay.users ? lay.users / o.senders : 1;
    sh->concurrency = 200;
    struct bench_target t = {.dst_addr = htonl(INADDR_LOOPBACK), .dst_port = (uint16_t)o.port,
                             .n_sources = o.sources, .history_max_id = o.history_max_id};
    signal(SIGPIPE, SIG_IGN);
    fflush(NULL);
    for (int w = 0; w < n_workers; w++) {
        pid_t p = fork();
        if (p < 0)
            return 1;
        if (p == 0)
            _exit(bench_worker_main(w, n_workers, &lay, &t, sh));
        workers[w] = p;
    }

    struct result res[12];
    memset(res, 0, sizeof res);
    struct bench_figures *fig = calloc(1, sizeof *fig);
    int n = 0, rc = 0;
    struct result *r = &res[n++];
    r->key = "storm", r->label = "connect storm (hello)";
    rc |= run_phase(PH_STORM, 0, 0, o.storm_timeout_s * 1000LL, WAIT_WORKERS, fig, r);
    uint64_t open = fig->open;
    r->per_s = (double)fig->open / r->seconds;
    if (open < (uint64_t)lay.users)
        r->lost = (double)(lay.users - open);

    /* While at most presence_broadcast_max are online, every hello tells every
     * connection: m^2/2 presence events to deliver for the first m hellos. */
    r = &res[n++];
    r->key = "presence", r->label = "storm presence drain";
    if (!rc) {
        rc |= run_phase(PH_SETTLE, 0, 0, o.storm_timeout_s * 1000LL, WAIT_QUIET, fig, r);
        r->seconds -= 1; /* the quiet second that ends it */
        r->n = (double)fig->presence;
        r->per_s = (double)fig->presence / r->seconds;
        r->p50 = r->p99 = r->max = 0;
        uint64_t m = open < (uint64_t)o.presence_broadcast_max ? open
                                                               : (uint64_t)o.presence_broadcast_max;
        uint64_t owed = m ? m * (m - 1) / 2 : 0;
        r->lost = presence_total < owed ? (double)(owed - presence_total) : 0;
    }

    r = &res[n++];
    r->key = "login", r->label = "password login (HTTP)";
    if (!rc)
        logins(&o, &lay, r);

    r = &res[n++];
    r->key = "idle", r->label = "idle hold (ping RTT)";
    if (!rc) {
        rc |= run_phase(PH_IDLE, o.hold_s * 1000LL, 0, o.hold_s * 1000LL, WAIT_WORKERS, fig, r);
        r->per_s = (double)fig->acked / r->seconds;
        r->lost = (double)fig->gaps;
    }

    /* N password logins at once while every connection pings: the pings show
     * whether the storm stalls the users already connected. */
    if (o.login_storm > 0) {
        struct login_stats *ls = calloc(1, sizeof *ls);
        struct result *ping = &res[n++], *lr = &res[n++];
        ping->key = "storm_ping", ping->label = "login storm: ping RTT";
        lr->key = "storm_login", lr->label = "login storm: logins";
        if (!rc && ls) {
            int64_t t0 = bench_now_ns(), hold = o.login_storm_s * 1000LL;
            struct bench_login_storm *storm = bench_login_storm_start(
                o.https_port, (int)lay.users, o.login_storm, 200, t0 + hold * 1000000LL, ls);
            rc |= run_phase(PH_IDLE, hold, 0, hold, WAIT_WORKERS, fig, ping);
            ping->per_s = (double)fig->acked / ping->seconds;
            ping->lost = (double)fig->gaps;
            bench_login_storm_join(storm);
            lr->seconds = (double)(bench_now_ns() - t0) / 1e9;
            lr->n = (double)ls->ok;
            lr->p50 = hist_ms(&ls->lat, 0.5);
            lr->p99 = hist_ms(&ls->lat, 0.99);
            lr->max = hist_ms(&ls->lat, 1);
            lr->per_s = (double)ls->ok / lr->seconds;
            lr->errors = (double)ls->failed;
            lr->cpu = ping->cpu, lr->rss = ping->rss, lr->load_cpu = ping->load_cpu;
            if (!o.json)
                fprintf(stderr, "login storm: %d logins, %llu ok, %llu busy answers (503, "
                        "retried), %llu failed\n", o.login_storm, (unsigned long long)ls->ok,
                        (unsigned long long)ls->busy, (unsigned long long)ls->failed);
        }
        free(ls);
    }

    r = &res[n++];
    r->key = "chat", r->label = "steady chat (delivery)";
    if (!rc) {
        rc |= run_phase(PH_CHAT, o.chat_s * 1000LL, 0, o.chat_s * 1000LL + 60000, WAIT_DRAIN, fig, r);
        r->per_s = (double)fig->received / r->seconds;
        r->lost = (double)(fig->expected > fig->received ? fig->expected - fig->received : 0) +
                  (double)fig->gaps;
        if (!o.json)
            fprintf(stderr, "chat: %llu sent, %llu acked, %llu deliveries owed, %llu received\n",
                    (unsigned long long)fig->sent, (unsigned long long)fig->acked,
                    (unsigned long long)fig->expected, (unsigned long long)fig->received);
    }

    r = &res[n++];
    r->key = "fanout", r->label = "fan-out (delivery)";
    if (!rc) {
        rc |= run_phase(PH_FANOUT, 0, o.fanout, o.fanout * 1000LL + 60000, WAIT_DRAIN, fig, r);
        r->per_s = (double)fig->received / r->seconds;
        r->lost = (double)(fig->expected > fig->received ? fig->expected - fig->received : 0) +
                  (double)fig->gaps;
    }

    r = &res[n++];
    r->key = "history", r->label = "history page of 50";
    if (!rc) {
        rc |= run_phase(PH_HISTORY, 0, o.reads, 300000, WAIT_WORKERS, fig, r);
        r->per_s = (double)fig->acked / r->seconds;
    }

    r = &res[n++];
    r->key = "search", r->label = "search";
    if (!rc) {
        rc |= run_phase(PH_SEARCH, 0, o.reads, 300000, WAIT_WORKERS, fig, r);
        r->per_s = (double)fig->acked / r->seconds;
    }

    sh->phase = PH_QUIT;
    __atomic_store_n(&sh->gen, sh->gen + 1, __ATOMIC_RELEASE);
    for (int w = 0; w < n_workers; w++)
        if (workers[w])
            waitpid(workers[w], NULL, 0);
    if (rc) /* a phase that could not run is an error, not a figure */
        res[n - 1].errors += 1;
    if (o.json)
        print_json(&lay, open, res, n);
    else
        print_table(&o, &lay, open, res, n);
    free(fig);
    free(lay.user_id);
    free(lay.token);
    free(lay.chat_of);
    free(lay.chat);
    return rc ? 1 : 0;
}
