/*
 * diag_turn.c - the TURN self-test: what a browser forced to relay does, done
 * by the console against turnd's first UDP listen address with a short-lived
 * credential derived from the appliance's shared secret.
 *
 * turnd relays only to peers its policy allows, and the appliance's own
 * addresses are allowed only as live relay addresses, so the console's second
 * UDP socket takes an allocation of its own and is the peer: a datagram goes
 * client -> relay A -> relay B -> the console's peer socket, and back the same
 * way, as between two callers who both relay. Each step reports its time and,
 * when it fails, a reason an administrator can act on. The messages come from
 * turnc.c; this file owns the sockets and the clock.
 */
#include "console.h"
#include "turnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define CRED_TTL_S 300
#define RTO_MS 250       /* first retransmission; doubles (RFC 8489 §6.2.1) */
#define STEP_TIMEOUT_MS 2000
#define PAYLOAD "lanturn console TURN self-test"

struct side {
    int fd;
    struct con_turnc t;
};

struct run {
    json_t *steps;
    char server[80];
    char why[300]; /* the failed step's reason */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* t0 from mono_us(); the time is shown in ms with one decimal: on loopback a
 * step takes well under a millisecond. */
static void step(struct run *run, const char *name, int64_t t0, bool ok, const char *detail)
{
    double ms = (double)((mono_us() - t0) / 100) / 10.0;
    json_t *s = json_pack("{ss sb sf}", "step", name, "ok", ok, "ms", ms);
    json_object_set_new(s, ok ? "detail" : "error", json_string(detail));
    json_array_append_new(run->steps, s);
    if (!ok)
        snprintf(run->why, sizeof run->why, "%s", detail);
}

static const char *explain(int code, const char *reason)
{
    switch (code) {
    case STUN_ERR_UNAUTHORIZED:
        return "turnd refused the credentials: the shared secret the console derived them from "
               "is not turnd's (turnd.secret / secret_file), or the clocks disagree";
    case STUN_ERR_FORBIDDEN:
        return "turnd's peer policy refused the peer address";
    case STUN_ERR_ALLOCATION_QUOTA_REACHED:
        return "the allocation quota is reached (turnd.quota)";
    case STUN_ERR_INSUFFICIENT_CAPACITY:
        return "no relay port is free (turnd.relay_ports)";
    default:
        return reason;
    }
}

/* Builds a request, sends it and waits for the answer, retransmitting; a
 * challenge (or a stale nonce) builds it again with the credentials. */
typedef int build_fn(struct side *s, const void *arg, uint8_t *buf, size_t cap, size_t *len);

static int transact(struct side *s, build_fn *build, const void *arg, char *err, size_t cap)
{
    uint8_t req[600], buf[1500];
    size_t len;
    for (int attempt = 0; attempt < 3; attempt++) { /* a challenge, a stale nonce */
        if (build(s, arg, req, sizeof req, &len) != 0) {
            snprintf(err, cap, "cannot build the request");
            return -EINVAL;
        }
        int64_t t0 = mono_ms(), next = t0, rto = RTO_MS;
        for (;;) {
            int64_t now = mono_ms();
            if (now >= t0 + STEP_TIMEOUT_MS) {
                snprintf(err, cap, "no answer within %d s: turnd is not running there, or a "
                         "firewall drops it", STEP_TIMEOUT_MS / 1000);
                return -ETIMEDOUT;
            }
            if (now >= next) {
                if (send(s->fd, req, len, 0) < 0 && errno != ECONNREFUSED) {
                    snprintf(err, cap, "send failed: %s", strerror(errno));
                    return -errno;
                }
                next = now + rto;
                rto *= 2;
            }
            int64_t until = next < t0 + STEP_TIMEOUT_MS ? next : t0 + STEP_TIMEOUT_MS;
            struct pollfd p = {.fd = s->fd, .events = POLLIN};
            if (poll(&p, 1, (int)(until - mono_ms() > 0 ? until - mono_ms() : 0)) != 1)
                continue;
            ssize_t n = recv(s->fd, buf, sizeof buf, 0);
            if (n < 0) /* ICMP port unreachable: nobody listens; keep trying until the deadline */
                continue;
            int code = 0;
            char reason[200];
            enum con_turnc_answer a = con_turnc_answer(&s->t, buf, (size_t)n, &code, reason,
                                                       sizeof reason);
            if (a == CON_TURNC_NOT_OURS)
                continue;
            if (a == CON_TURNC_DONE)
                return 0;
            if (a == CON_TURNC_CHALLENGE)
                break;
            if (code)
                snprintf(err, cap, "%d %s: %s", code, reason, explain(code, reason));
            else
                snprintf(err, cap, "%s", reason);
            return -EACCES;
        }
    }
    snprintf(err, cap, "turnd keeps answering with a new challenge");
    return -EPROTO;
}

static int tid(uint8_t out[STUN_TID_LEN])
{
    return RAND_bytes(out, STUN_TID_LEN) == 1 ? 0 : -EIO;
}

static int build_allocate(struct side *s, const void *arg, uint8_t *buf, size_t cap, size_t *len)
{
    (void)arg;
    uint8_t id[STUN_TID_LEN];
    return tid(id) != 0 ? -EIO : con_turnc_allocate(&s->t, id, buf, cap, len);
}

static int build_permission(struct side *s, const void *arg, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t id[STUN_TID_LEN];
    return tid(id) != 0 ? -EIO : con_turnc_permission(&s->t, id, arg, buf, cap, len);
}

static int build_release(struct side *s, const void *arg, uint8_t *buf, size_t cap, size_t *len)
{
    (void)arg;
    uint8_t id[STUN_TID_LEN];
    return tid(id) != 0 ? -EIO : con_turnc_refresh(&s->t, id, 0, buf, cap, len);
}

/* from sends PAYLOAD to to's relayed address; to must get it as a Data
 * indication from from's relayed address. */
static int relay(struct side *from, struct side *to, char *err, size_t cap)
{
    uint8_t id[STUN_TID_LEN], buf[1500];
    size_t len;
    if (tid(id) || con_turnc_send(&from->t, id, &to->t.relayed, PAYLOAD, strlen(PAYLOAD), buf,
                                  sizeof buf, &len) != 0 ||
        send(from->fd, buf, len, 0) < 0) {
        snprintf(err, cap, "cannot send the Send indication: %s", strerror(errno));
        return -EIO;
    }
    int64_t deadline = mono_ms() + STEP_TIMEOUT_MS;
    for (;;) {
        int left = (int)(deadline - mono_ms());
        struct pollfd p = {.fd = to->fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) != 1) {
            snprintf(err, cap, "the datagram did not arrive within %d s (relay ports blocked, "
                     "or turnd dropped it: see its log)", STEP_TIMEOUT_MS / 1000);
            return -ETIMEDOUT;
        }
        ssize_t n = recv(to->fd, buf, sizeof buf, 0);
        struct stun_addr peer;
        const uint8_t *data;
        size_t dlen;
        if (n <= 0 || con_turnc_data(buf, (size_t)n, &peer, &data, &dlen) != 0)
            continue;
        if (!stun_addr_equal(&peer, &from->t.relayed) || dlen != strlen(PAYLOAD) ||
            memcmp(data, PAYLOAD, dlen) != 0) {
            snprintf(err, cap, "a different datagram arrived");
            return -EBADMSG;
        }
        return 0;
    }
}

static int open_socket(const struct sockaddr_in *server, int *fd)
{
    *fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (*fd < 0 || connect(*fd, (const struct sockaddr *)server, sizeof *server) != 0)
        return -errno;
    return 0;
}

static void fmt(const struct stun_addr *a, char *out, size_t cap)
{
    if (stun_addr_format(a, true, out, cap) != 0)
        snprintf(out, cap, "?");
}

static void run_test(struct run *run, const struct sockaddr_in *server, const char *secret)
{
    struct side a = {.fd = -1}, b = {.fd = -1};
    char err[512], d[300], ra[64], rb[64];
    uint64_t expiry = (uint64_t)time(NULL) + CRED_TTL_S;
    int64_t t0 = mono_us();
    if (open_socket(server, &a.fd) || open_socket(server, &b.fd)) {
        snprintf(err, sizeof err, "cannot open a UDP socket: %s", strerror(errno));
        step(run, "allocate", t0, false, err);
        goto out;
    }
    if (con_turnc_credential(&a.t, secret, expiry, "console-selftest") ||
        con_turnc_credential(&b.t, secret, expiry, "console-selftest-peer")) {
        step(run, "allocate", t0, false, "cannot derive the credential (crypto library)");
        goto out;
    }
    if (transact(&a, build_allocate, NULL, err, sizeof err) != 0) {
        step(run, "allocate", t0, false, err);
        goto out;
    }
    fmt(&a.t.relayed, ra, sizeof ra);
    snprintf(d, sizeof d, "relayed address %s, lifetime %u s, user %s", ra, a.t.lifetime, a.t.user);
    step(run, "allocate", t0, true, d);

    t0 = mono_us();
    if (transact(&b, build_allocate, NULL, err, sizeof err) != 0) {
        step(run, "peer allocation", t0, false, err);
        goto release;
    }
    fmt(&b.t.relayed, rb, sizeof rb);
    snprintf(d, sizeof d, "the console's peer socket relays at %s", rb);
    step(run, "peer allocation", t0, true, d);

    t0 = mono_us();
    if (transact(&a, build_permission, &b.t.relayed, err, sizeof err) != 0 ||
        transact(&b, build_permission, &a.t.relayed, err, sizeof err) != 0) {
        step(run, "permission", t0, false, err);
        goto release;
    }
    snprintf(d, sizeof d, "%s may reach %s and back", ra, rb);
    step(run, "permission", t0, true, d);

    t0 = mono_us();
    if (relay(&a, &b, err, sizeof err) != 0) {
        step(run, "relay to peer", t0, false, err);
        goto release;
    }
    snprintf(d, sizeof d, "%zu bytes through %s arrived at the peer socket", strlen(PAYLOAD), ra);
    step(run, "relay to peer", t0, true, d);

    t0 = mono_us();
    if (relay(&b, &a, err, sizeof err) != 0) {
        step(run, "relay back", t0, false, err);
        goto release;
    }
    step(run, "relay back", t0, true, "the peer's answer came back through both relays");
release:
    t0 = mono_us();
    {
        /* give the allocations back rather than let them time out */
        char e2[512] = "";
        bool ok = transact(&a, build_release, NULL, err, sizeof err) == 0;
        if (b.t.relayed.family && transact(&b, build_release, NULL, e2, sizeof e2) != 0) {
            ok = false;
            snprintf(err, sizeof err, "%s", e2);
        }
        step(run, "release", t0, ok, ok ? "both allocations deleted" : err);
    }
out:
    if (a.fd >= 0)
        close(a.fd);
    if (b.fd >= 0)
        close(b.fd);
    OPENSSL_cleanse(&a.t, sizeof a.t);
    OPENSSL_cleanse(&b.t, sizeof b.t);
}

/* turnd's first listen address (0.0.0.0 tried on loopback) and its shared
 * secret, from the appliance's config file. */
static int read_config(const struct console *c, struct sockaddr_in *server, char *addr,
                       size_t acap, char *secret, size_t scap, char *err, size_t ecap)
{
    config_t lc;
    config_init(&lc);
    int rc = -EINVAL;
    struct con_listen li = {.host = "127.0.0.1", .port = 3478};
    if (!c->cfg->config_path || config_read_file(&lc, c->cfg->config_path) != CONFIG_TRUE) {
        snprintf(err, ecap, "the configuration file cannot be read");
        goto out;
    }
    const config_setting_t *l = config_lookup(&lc, "turnd.listen");
    const char *first = !l ? NULL : config_setting_is_scalar(l) ? config_setting_get_string(l)
                                                                : config_setting_get_string_elem(l, 0);
    if (first && con_parse_listen(first, &li) != 0) {
        snprintf(err, ecap, "turnd.listen '%s' is not IP:PORT", first);
        goto out;
    }
    if (strcmp(li.host, "0.0.0.0") == 0)
        snprintf(li.host, sizeof li.host, "127.0.0.1");
    *server = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)li.port)};
    snprintf(addr, acap, "%s:%d", li.host, li.port);
    if (inet_pton(AF_INET, li.host, &server->sin_addr) != 1) {
        snprintf(err, ecap, "turnd listens on %s: only IPv4 is tested", addr);
        goto out;
    }
    const char *s = NULL, *file = NULL;
    if (config_lookup_string(&lc, "turnd.secret", &s) != CONFIG_TRUE &&
        config_lookup_string(&lc, "turnd.secret_file", &file) != CONFIG_TRUE &&
        config_lookup_string(&lc, "signal.turn_secret_file", &file) != CONFIG_TRUE) {
        snprintf(err, ecap, "turnd has no shared secret (turnd.secret_file) to derive a "
                 "credential from");
        goto out;
    }
    if (file) {
        FILE *f = fopen(file, "r");
        size_t n = f ? fread(secret, 1, scap - 1, f) : 0;
        if (f)
            fclose(f);
        secret[n] = '\0';
        while (n > 0 && strchr("\r\n ", secret[n - 1]))
            secret[--n] = '\0';
        if (n == 0) {
            snprintf(err, ecap, "the shared secret file %s cannot be read or is empty", file);
            goto out;
        }
    } else {
        snprintf(secret, scap, "%s", s);
    }
    rc = 0;
out:
    config_destroy(&lc);
    return rc;
}

void con_diag_turn(struct console *c, const struct con_req *r, const struct con_admin *who,
                   json_t *body, struct con_reply *out)
{
    (void)r;
    (void)body;
    struct run run = {.steps = json_array()};
    struct sockaddr_in server;
    char secret[512], err[300];
    int64_t t0 = mono_us();
    if (read_config(c, &server, run.server, sizeof run.server, secret, sizeof secret, err,
                    sizeof err) != 0)
        step(&run, "configuration", t0, false, err);
    else
        run_test(&run, &server, secret);
    OPENSSL_cleanse(secret, sizeof secret);
    bool ok = !run.why[0];
    con_audit(c, who, "diag.turn", run.server[0] ? run.server : "turnd", "%s%s",
              ok ? "passed" : "failed: ", ok ? "" : run.why);
    json_t *res = json_pack("{sb sb ss sI so}", "ok", 1, "passed", ok, "server", run.server,
                            "total_ms", (json_int_t)((mono_us() - t0) / 1000), "steps", run.steps);
    if (!ok)
        json_object_set_new(res, "error", json_string(run.why));
    con_json(out, 200, res);
}
