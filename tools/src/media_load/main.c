/*
 * media-load - load generator for mediad's room mode. It connects P
 * publishers and S subscribers to one room over loopback (libnice ICE, and
 * mediad's own DTLS-SRTP code for the client side), waits until all are
 * connected, has each publisher send synthetic RTP at a given bitrate for a
 * bounded time, and reports per-subscriber loss, forwarded packets per second
 * and mediad's CPU per forwarded packet (utime+stime from /proc/PID/stat).
 *
 * Every payload carries its publisher's index and counter, so a subscriber
 * knows exactly what it should have got: every packet of every publisher
 * (each subscriber has one recvonly m-line per publisher, and mediad binds one
 * publisher to each). Packets are counted from the moment all peers are up.
 *
 * --switch checks a source switch instead (two publishers at least): each
 * subscriber has one slot, switched with room.switch from publisher 0 to
 * publisher 1 halfway through; its stream must go on +1 in sequence and
 * forward in time, and loss is counted from gaps in mediad's numbering.
 *
 *   media-load --control SOCK [--mediad-pid PID] [--publishers P] [--subscribers S]
 *              [--kbps K] [--seconds T] [--room NAME] [--quick] [--switch] [--json] [--keep]
 *
 * --keep leaves the sessions open at the end (mediad ends them when they go idle).
 *
 * --report-loss PCT has every subscriber claim PCT % lost in its receiver
 * reports, for the first --loss-seconds T of publishing (all of it without):
 * mediad's REMBs to the publishers (listed with --json) must fall, then rise.
 *
 * --speak LEVEL is one audio speaker instead, its offer and answer passed
 * through stdout and stdin (speak.h): a test hands them to signald.
 *   media-load --speak LEVEL [--seconds T]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "peer.h"
#include "speak.h"

struct opts {
    const char *control, *room;
    int mediad_pid;
    unsigned publishers, subscribers, kbps, seconds, connect_timeout;
    unsigned report_loss, loss_seconds; /* --report-loss PCT for the first T s (0: all) */
    int speak; /* -1, or --speak's level */
    bool json, switch_check, keep; /* keep: leave the sessions to mediad's idle timeout */
};

struct run {
    struct opts o;
    struct ml_peer *peers;
    unsigned n;
    bool publishing;
    uint64_t start_us, interval_us, t0_us; /* t0: publishing began (monotonic) */
};

static uint64_t mono_us(void)
{
    return (uint64_t)g_get_monotonic_time();
}

/* ---- mediad's control socket ---- */

static int ctl_open(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 15};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* One request, one reply line (the caller frees it), or NULL. */
static json_t *ctl_call(int fd, json_t *req)
{
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    bool ok =
        send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len && send(fd, "\n", 1, MSG_NOSIGNAL) == 1;
    free(text);
    static char buf[1 << 20];
    size_t have = 0;
    while (ok && have < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + have, 1, 0); /* one byte at a time: never read past the line */
        if (n <= 0)
            return NULL;
        if (buf[have] != '\n') {
            have++;
            continue;
        }
        json_t *line = json_loadb(buf, have, 0, NULL);
        if (!json_object_get(line, "event") || json_object_get(line, "req"))
            return line;
        json_decref(line); /* mediad's news (room.speaker), not our reply */
        have = 0;
    }
    return NULL;
}

/* One number from room.stats ("sent", "members"), 0 when there is no such room. */
static json_int_t room_stat(int fd, const char *room, const char *key)
{
    json_t *r = ctl_call(fd, json_pack("{ss ss}", "cmd", "room.stats", "room", room));
    json_t *first = json_array_get(json_object_get(r, "rooms"), 0);
    json_int_t v = json_integer_value(json_object_get(first, key));
    json_decref(r);
    return v;
}

/* utime + stime of pid in seconds, or -1. */
static double cpu_seconds(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, pid ? "/proc/%d/stat" : "/proc/self/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- the run ---- */

static gboolean on_send_tick(gpointer data)
{
    struct run *r = data;
    if (!r->publishing)
        return G_SOURCE_CONTINUE;
    uint64_t now = mono_us();
    for (unsigned i = 0; i < r->o.publishers; i++) {
        struct ml_peer *p = &r->peers[i];
        for (int burst = 0; burst < 8 && now >= p->next_us; burst++) {
            ml_peer_send_rtp(p, (uint64_t)g_get_real_time(), r->start_us);
            p->next_us += r->interval_us;
        }
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_poll_tick(gpointer data)
{
    struct run *r = data;
    uint64_t now = mono_us();
    bool lossy = r->publishing && r->o.report_loss &&
                 (!r->o.loss_seconds || now - r->t0_us < r->o.loss_seconds * 1000000ull);
    for (unsigned i = 0; i < r->n; i++) {
        r->peers[i].report_loss = lossy ? (uint8_t)(r->o.report_loss * 256 / 100) : 0;
        ml_peer_poll(&r->peers[i], now);
    }
    return G_SOURCE_CONTINUE;
}

static void run_for(uint64_t us)
{
    uint64_t end = mono_us() + us;
    while (mono_us() < end)
        g_main_context_iteration(NULL, TRUE);
}

static unsigned count_connected(const struct run *r)
{
    unsigned c = 0;
    for (unsigned i = 0; i < r->n; i++)
        c += ml_peer_connected(&r->peers[i]);
    return c;
}

static int join_all(struct run *r, int ctl, const struct media_dtls_cert *cert)
{
    for (unsigned i = 0; i < r->n; i++) {
        struct ml_peer *p = &r->peers[i];
        bool pub = i < r->o.publishers;
        if (ml_peer_start(p, i, pub, r->o.switch_check ? 1 : r->o.publishers) != 0)
            goto bad;
        uint64_t until = mono_us() + 5000000;
        while (!p->gathered && mono_us() < until)
            g_main_context_iteration(NULL, TRUE);
        char *offer = p->gathered ? ml_peer_offer(p, cert) : NULL;
        if (!offer) {
            snprintf(p->why, sizeof p->why, "no local candidates");
            goto bad;
        }
        json_t *rep = ctl_call(
            ctl, json_pack("{ss ss ss}", "cmd", "room.offer", "room", r->o.room, "sdp", offer));
        free(offer);
        const char *sdp = json_string_value(json_object_get(rep, "sdp"));
        const char *id = json_string_value(json_object_get(rep, "id"));
        if (!sdp || !id) {
            const char *err = json_string_value(json_object_get(rep, "error"));
            snprintf(p->why, sizeof p->why, "room.offer: %s", err ? err : "no reply");
            json_decref(rep);
            goto bad;
        }
        snprintf(p->id, sizeof p->id, "%s", id);
        int rc = ml_peer_answer(p, cert, sdp);
        json_decref(rep);
        if (rc)
            goto bad;
        g_main_context_iteration(NULL, FALSE);
        continue;
    bad:
        fprintf(stderr, "media-load: peer %u: %s\n", i, p->why);
        return -1;
    }
    return 0;
}

/* room.switch every subscriber's one slot to publisher 1, and the control
 * socket's answers to a bad switch and to room.stats. Failures counted. */
static int switch_all(struct run *r, int ctl)
{
    int bad = 0;
    uint32_t to = r->peers[1].ssrc;
    for (unsigned i = r->o.publishers; i < r->n; i++) {
        json_t *rep = ctl_call(ctl, json_pack("{ss ss si sI}", "cmd", "room.switch", "id",
                                              r->peers[i].id, "slot", 0, "ssrc", (json_int_t)to));
        if (!json_is_true(json_object_get(rep, "ok"))) {
            fprintf(stderr, "media-load: room.switch of %s refused\n", r->peers[i].id);
            bad++;
        }
        json_decref(rep);
    }
    json_t *rep =
        ctl_call(ctl, json_pack("{ss ss si sI}", "cmd", "room.switch", "id", r->peers[r->n - 1].id,
                                "slot", 0, "ssrc", (json_int_t)0xdeadbeef));
    const char *err = json_string_value(json_object_get(rep, "error"));
    if (json_is_true(json_object_get(rep, "ok")) || !err || !strstr(err, "no such source")) {
        fprintf(stderr, "media-load: a switch to an unknown SSRC was not refused as such\n");
        bad++;
    }
    json_decref(rep);
    rep = ctl_call(ctl, json_pack("{ss ss}", "cmd", "room.stats", "room", r->o.room));
    json_t *room = json_array_get(json_object_get(rep, "rooms"), 0);
    if (json_integer_value(json_object_get(room, "members")) != (json_int_t)r->n) {
        fprintf(stderr, "media-load: room.stats does not count %u members\n", r->n);
        bad++;
    }
    json_decref(rep);
    return bad;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: media-load --control SOCK [--mediad-pid PID] [--publishers P (1-%d)]\n"
            "       [--subscribers S] [--kbps K] [--seconds T] [--room NAME] [--quick] [--switch]\n"
            "       [--json] [--keep] [--report-loss PCT [--loss-seconds T]]\n"
            "       media-load --speak LEVEL (0-127 -dBov) [--seconds T]\n",
            ML_MAX_PUBLISHERS);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.room = "bench",
                       .publishers = 2,
                       .subscribers = 10,
                       .kbps = 500,
                       .seconds = 10,
                       .speak = -1,
                       .connect_timeout = 60};
    static const struct option longs[] = {
        {"control", 1, 0, 'c'},     {"mediad-pid", 1, 0, 'p'}, {"publishers", 1, 0, 'P'},
        {"subscribers", 1, 0, 'S'}, {"kbps", 1, 0, 'k'},       {"seconds", 1, 0, 't'},
        {"room", 1, 0, 'r'},        {"quick", 0, 0, 'q'},      {"json", 0, 0, 'j'},
        {"help", 0, 0, 'h'},        {"switch", 0, 0, 'w'},     {"keep", 0, 0, 'K'},
        {"speak", 1, 0, 'a'},       {"report-loss", 1, 0, 'L'}, {"loss-seconds", 1, 0, 'T'},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->control = optarg;
            break;
        case 'p':
            o->mediad_pid = atoi(optarg);
            break;
        case 'P':
            o->publishers = (unsigned)atoi(optarg);
            break;
        case 'S':
            o->subscribers = (unsigned)atoi(optarg);
            break;
        case 'k':
            o->kbps = (unsigned)atoi(optarg);
            break;
        case 't':
            o->seconds = (unsigned)atoi(optarg);
            break;
        case 'r':
            o->room = optarg;
            break;
        case 'q':
            o->publishers = 1, o->subscribers = 3, o->seconds = 3, o->connect_timeout = 15;
            break;
        case 'j':
            o->json = true;
            break;
        case 'w':
            o->switch_check = true;
            break;
        case 'K':
            o->keep = true;
            break;
        case 'a':
            o->speak = atoi(optarg);
            break;
        case 'L':
            o->report_loss = (unsigned)atoi(optarg);
            break;
        case 'T':
            o->loss_seconds = (unsigned)atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (o->switch_check && o->publishers < 2)
        o->publishers = 2;
    if (o->speak > 127 || (o->speak >= 0 && (o->seconds < 1 || o->seconds > 600))) {
        usage(stderr);
        return -1;
    }
    if (o->speak >= 0)
        return 0;
    if (!o->control || o->publishers < 1 || o->publishers > ML_MAX_PUBLISHERS ||
        o->subscribers < 1 || o->subscribers > 5000 || o->kbps < 8 || o->kbps > 100000 ||
        o->seconds < 1 || o->seconds > 600 || o->report_loss > 99) {
        usage(stderr);
        return -1;
    }
    return 0;
}

struct figures {
    unsigned connected, lossy, starved, switch_ok;
    json_int_t room_rembs; /* room.stats: REMBs mediad sent the room's publishers */
    uint64_t sent, received, expected, srtp_errors, plis, nacks;
    double idle_cpu_pct; /* mediad with every peer connected and only RTCP flowing */
    double seconds, loss_min, loss_max, loss_mean, fwd, fwd_pps, mediad_cpu, own_cpu,
        cpu_per_fwd_us;
};

static void measure(const struct run *r, struct figures *f)
{
    const struct opts *o = &r->o;
    f->loss_min = 1e9;
    for (unsigned i = 0; i < o->publishers; i++) {
        f->sent += r->peers[i].sent;
        f->plis += r->peers[i].plis;
        f->nacks += r->peers[i].nacks;
    }
    for (unsigned i = o->publishers; i < r->n; i++) {
        const struct ml_peer *p = &r->peers[i];
        uint64_t got = 0, expected = f->sent;
        for (unsigned k = 0; k < o->publishers; k++) {
            uint64_t g = p->received[k] < r->peers[k].sent ? p->received[k] : r->peers[k].sent;
            got += g;
            f->starved += p->received[k] == 0 && (!o->switch_check || k < 2);
        }
        if (o->switch_check) {
            /* Which packets were due is known only from mediad's numbering: a
             * seamless switch steps by 1 (a few more when packets were lost
             * right there on a starved machine; without rewriting it would
             * jump by the publishers' distance, 7,919 here) and moves time
             * forward by less than the 10 s a stalled loop might take. */
            expected = got + p->seq_lost;
            f->switch_ok += p->switches == 1 && p->switch_seq_step >= 1 &&
                            p->switch_seq_step <= 50 && p->switch_ts_step >= 1 &&
                            p->switch_ts_step <= 10 * 90000;
        }
        f->received += got;
        f->expected += expected;
        f->srtp_errors += p->srtp_errors;
        double loss = expected ? 100.0 * (double)(expected - got) / (double)expected : 100.0;
        f->loss_min = loss < f->loss_min ? loss : f->loss_min;
        f->loss_max = loss > f->loss_max ? loss : f->loss_max;
        f->loss_mean += loss / o->subscribers;
        f->lossy += loss >= 0.5;
    }
}

static void report(const struct run *r, const struct figures *f)
{
    const struct opts *o = &r->o;
    printf("media-load: %u publishers x %u kbps, %u subscribers, %u s, room \"%s\"\n",
           o->publishers, o->kbps, o->subscribers, o->seconds, o->room);
    printf("  connected          %u of %u\n", f->connected, r->n);
    printf("  published          %llu packets (%.0f/s)\n", (unsigned long long)f->sent,
           (double)f->sent / f->seconds);
    printf("  forwarded (mediad) %.0f packets, %.0f/s\n", f->fwd, f->fwd_pps);
    printf("  received           %llu of %llu expected\n", (unsigned long long)f->received,
           (unsigned long long)f->expected);
    if (o->switch_check)
        printf("  switched           %u of %u subscribers seamlessly (sequence +1, time forward)\n",
               f->switch_ok, o->subscribers);
    printf("  loss/subscriber    min %.3f %%  mean %.3f %%  max %.3f %%  (%u of %u at >= 0.5 %%)\n",
           f->loss_min, f->loss_mean, f->loss_max, f->lossy, o->subscribers);
    if (f->idle_cpu_pct >= 0)
        printf("  mediad CPU idle    %.1f %% of a core with every session up and no media\n",
               f->idle_cpu_pct);
    if (f->mediad_cpu >= 0)
        printf("  mediad CPU         %.2f s = %.1f %% of a core; %.2f us per forwarded packet\n",
               f->mediad_cpu, 100 * f->mediad_cpu / f->seconds, f->cpu_per_fwd_us);
    printf("  media-load CPU     %.2f s = %.1f %% of a core\n", f->own_cpu,
           100 * f->own_cpu / f->seconds);
    if (r->peers[0].n_remb)
        printf("  REMBs              %u to publisher 0: first %llu, last %llu kbit/s\n",
               r->peers[0].n_remb, (unsigned long long)r->peers[0].remb_bps[0] / 1000,
               (unsigned long long)r->peers[0].remb_bps[r->peers[0].n_remb - 1] / 1000);
    printf("  keyframe requests  %llu, NACKs %llu at the publishers; SRTP errors %llu\n",
           (unsigned long long)f->plis, (unsigned long long)f->nacks,
           (unsigned long long)f->srtp_errors);
    if (o->subscribers <= 20)
        for (unsigned i = o->publishers; i < r->n; i++) {
            const struct ml_peer *p = &r->peers[i];
            printf("  subscriber %-4u %s", i - o->publishers, p->id);
            for (unsigned k = 0; k < o->publishers; k++)
                printf("  from %u: %llu/%llu", k, (unsigned long long)p->received[k],
                       (unsigned long long)r->peers[k].sent);
            printf("\n");
        }
    if (!o->json)
        return;
    json_t *subs = json_array();
    for (unsigned i = o->publishers; i < r->n; i++) {
        uint64_t got = 0;
        for (unsigned k = 0; k < o->publishers; k++)
            got += r->peers[i].received[k];
        json_array_append_new(subs, json_integer((json_int_t)got));
    }
    json_t *j = json_pack(
        "{sI sI sI sI sI sI sI sI sf sf sf sf sf sf sf sf sI sI sI so}", "publishers",
        (json_int_t)o->publishers, "subscribers", (json_int_t)o->subscribers, "kbps",
        (json_int_t)o->kbps, "seconds", (json_int_t)o->seconds, "connected",
        (json_int_t)f->connected, "published", (json_int_t)f->sent, "received",
        (json_int_t)f->received, "expected", (json_int_t)f->expected, "forwarded", f->fwd,
        "forwarded_per_s", f->fwd_pps, "loss_min_pct", f->loss_min, "loss_mean_pct", f->loss_mean,
        "loss_max_pct", f->loss_max, "mediad_cpu_s", f->mediad_cpu, "mediad_cpu_per_forwarded_us",
        f->cpu_per_fwd_us, "load_cpu_s", f->own_cpu, "subscribers_over_half_pct",
        (json_int_t)f->lossy, "keyframe_requests", (json_int_t)f->plis, "srtp_errors",
        (json_int_t)f->srtp_errors, "received_each", subs);
    json_object_set_new(j, "mediad_idle_cpu_pct", json_real(f->idle_cpu_pct));
    json_t *rembs = json_array(); /* publisher 0's, in kbit/s */
    for (unsigned i = 0; i < r->peers[0].n_remb; i++)
        json_array_append_new(rembs, json_integer((json_int_t)(r->peers[0].remb_bps[i] / 1000)));
    json_object_set_new(j, "remb_kbps", rembs);
    json_object_set_new(j, "room_rembs_out", json_integer(f->room_rembs));
    if (o->switch_check)
        json_object_set_new(j, "switched_seamlessly", json_integer(f->switch_ok));
    char *text = json_dumps(j, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(j);
}

int main(int argc, char **argv)
{
    struct run r = {0};
    if (parse_opts(argc, argv, &r.o) != 0)
        return 2;
    if (r.o.speak >= 0)
        return ml_speak((unsigned)r.o.speak, r.o.seconds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* a socket or two per peer */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char err[256];
    struct media_dtls_cert *cert;
    if (media_dtls_cert_new(&cert, err, sizeof err) != 0) {
        fprintf(stderr, "media-load: %s\n", err);
        return 1;
    }
    int ctl = ctl_open(r.o.control);
    if (ctl < 0) {
        fprintf(stderr, "media-load: cannot connect to %s: %s\n", r.o.control, strerror(errno));
        return 1;
    }
    r.n = r.o.publishers + r.o.subscribers;
    r.peers = calloc(r.n, sizeof *r.peers);
    r.interval_us = (uint64_t)(12 + ML_PAYLOAD) * 8 * 1000 / r.o.kbps; /* bits / (kbit/ms) */
    g_timeout_add(2, on_send_tick, &r);
    g_timeout_add(50, on_poll_tick, &r);
    int rc = 1;
    struct figures f = {0};
    if (!r.peers || join_all(&r, ctl, cert) != 0)
        goto out;
    uint64_t until = mono_us() + r.o.connect_timeout * 1000000ull;
    while (count_connected(&r) < r.n && mono_us() < until)
        g_main_context_iteration(NULL, TRUE);
    f.connected = count_connected(&r);
    if (f.connected < r.n) {
        for (unsigned i = 0; i < r.n; i++)
            if (!ml_peer_connected(&r.peers[i]))
                fprintf(stderr, "media-load: peer %u (%s) not connected: %s\n", i, r.peers[i].id,
                        r.peers[i].why[0] ? r.peers[i].why : "timeout");
        goto out;
    }
    run_for(500000); /* let the keyframe requests of the joins settle */
    json_int_t members = room_stat(ctl, r.o.room, "members");
    if (members != (json_int_t)r.n) {
        fprintf(stderr, "media-load: the room has %lld members, not %u (see mediad's log)\n",
                (long long)members, r.n);
        goto out;
    }
    for (unsigned i = r.o.publishers; i < r.n; i++)
        memset(r.peers[i].received, 0, sizeof r.peers[i].received);
    /* What the sessions cost mediad before any media: timers, RTCP, ICE keepalives. */
    double idle0 = r.o.mediad_pid ? cpu_seconds(r.o.mediad_pid) : -1;
    uint64_t ti = mono_us();
    run_for(2000000);
    double idle1 = r.o.mediad_pid ? cpu_seconds(r.o.mediad_pid) : -1;
    f.idle_cpu_pct =
        idle0 >= 0 && idle1 >= 0 ? 100 * (idle1 - idle0) * 1e6 / (double)(mono_us() - ti) : -1;
    double cpu0 = r.o.mediad_pid ? cpu_seconds(r.o.mediad_pid) : -1, own0 = cpu_seconds(0);
    json_int_t sent0 = room_stat(ctl, r.o.room, "sent");
    uint64_t t0 = mono_us();
    r.t0_us = t0;
    r.start_us = (uint64_t)g_get_real_time();
    for (unsigned i = 0; i < r.o.publishers; i++) /* spread the publishers over one interval */
        r.peers[i].next_us = t0 + r.interval_us * i / r.o.publishers;
    r.publishing = true;
    int bad_switch = 0;
    if (r.o.switch_check) {
        run_for(r.o.seconds * 500000ull);
        bad_switch = switch_all(&r, ctl);
        run_for(r.o.seconds * 500000ull);
    } else {
        run_for(r.o.seconds * 1000000ull);
    }
    r.publishing = false;
    uint64_t t1 = mono_us();
    run_for(1000000); /* what is still on its way */
    double cpu1 = r.o.mediad_pid ? cpu_seconds(r.o.mediad_pid) : -1, own1 = cpu_seconds(0);
    f.seconds = (double)(t1 - t0) / 1e6;
    f.fwd = (double)(room_stat(ctl, r.o.room, "sent") - sent0);
    json_int_t members_after = room_stat(ctl, r.o.room, "members");
    f.room_rembs = room_stat(ctl, r.o.room, "rembs_out");
    f.fwd_pps = f.fwd / f.seconds;
    f.mediad_cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    f.cpu_per_fwd_us = f.fwd > 0 && f.mediad_cpu >= 0 ? f.mediad_cpu * 1e6 / f.fwd : 0;
    f.own_cpu = own1 - own0;
    measure(&r, &f);
    report(&r, &f);
    rc = f.starved == 0 && f.received > 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "media-load: %u subscriber streams got nothing\n", f.starved);
    if (members_after != (json_int_t)r.n) {
        fprintf(stderr, "media-load: mediad ended %lld of %u sessions during the run\n",
                (long long)(r.n - members_after), r.n);
        rc = 1;
    }
    if (r.o.switch_check && (bad_switch || f.switch_ok != r.o.subscribers)) {
        fprintf(stderr, "media-load: %u of %u subscribers switched seamlessly\n", f.switch_ok,
                r.o.subscribers);
        rc = 1;
    }
out:
    for (unsigned i = 0; r.peers && i < r.n; i++) {
        if (r.peers[i].id[0] && !r.o.keep)
            json_decref(ctl_call(ctl, json_pack("{ss ss}", "cmd", "close", "id", r.peers[i].id)));
        ml_peer_free(&r.peers[i]);
    }
    free(r.peers);
    close(ctl);
    media_dtls_cert_free(cert);
    return rc;
}
