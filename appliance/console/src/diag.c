/*
 * diag.c - "can a client reach me": a STUN Binding request (RFC 8489) from
 * this server to each of turnd's listen addresses, over UDP and TCP, with the
 * round-trip time and the mapped address turnd saw. The message codec is
 * sans-I/O (build_request, parse_response); probe() owns the socket.
 */
#include "console.h"

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
#include <openssl/rand.h>

#define STUN_MAGIC 0x2112A442u
#define PROBE_TIMEOUT_MS 1500

static void build_request(uint8_t req[20], const uint8_t txid[12])
{
    req[0] = 0x00, req[1] = 0x01; /* Binding request */
    req[2] = 0, req[3] = 0;       /* no attributes */
    req[4] = 0x21, req[5] = 0x12, req[6] = 0xA4, req[7] = 0x42;
    memcpy(req + 8, txid, 12);
}

/* 0 and the mapped address / SOFTWARE, or -EBADMSG. RFC 8489 §14.2: the
 * XOR-MAPPED-ADDRESS port is xored with the magic cookie's top 16 bits. */
static int parse_response(const uint8_t *m, size_t n, const uint8_t txid[12], char *mapped,
                          size_t mcap, char *software, size_t scap, int *cls)
{
    if (n < 20 || (m[0] & 0xC0) || memcmp(m + 4, "\x21\x12\xA4\x42", 4) ||
        memcmp(m + 8, txid, 12))
        return -EBADMSG;
    size_t len = (size_t)m[2] << 8 | m[3];
    if (20 + len > n)
        return -EBADMSG;
    unsigned type = (unsigned)m[0] << 8 | m[1];
    *cls = type == 0x0101 ? 2 : type == 0x0111 ? 4 : 0; /* success / error response */
    mapped[0] = software[0] = '\0';
    for (size_t p = 20; p + 4 <= 20 + len;) {
        unsigned at = (unsigned)m[p] << 8 | m[p + 1], alen = (unsigned)m[p + 2] << 8 | m[p + 3];
        const uint8_t *v = m + p + 4;
        if (p + 4 + alen > 20 + len)
            return -EBADMSG;
        if ((at == 0x0020 || (at == 0x0001 && !mapped[0])) && alen >= 8 && v[1] == 0x01) {
            bool x = at == 0x0020;
            unsigned port = ((unsigned)v[2] << 8 | v[3]) ^ (x ? 0x2112 : 0);
            uint8_t a[4];
            for (int i = 0; i < 4; i++)
                a[i] = v[4 + i] ^ (x ? m[4 + i] : 0);
            snprintf(mapped, mcap, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
        } else if (at == 0x8022) {
            snprintf(software, scap, "%.*s", (int)(alen < 120 ? alen : 120), (const char *)v);
        }
        p += 4 + ((alen + 3u) & ~3u);
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *probe(const char *host, int port, bool tcp)
{
    json_t *res = json_pack("{ss si ss}", "address", host, "port", port, "transport",
                            tcp ? "tcp" : "udp");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        json_object_set_new(res, "error", json_string("only IPv4 listen addresses are probed"));
        return res;
    }
    uint8_t txid[12], req[20], buf[1500];
    if (RAND_bytes(txid, sizeof txid) != 1) {
        json_object_set_new(res, "error", json_string("no random numbers"));
        return res;
    }
    build_request(req, txid);
    int64_t t0 = mono_ms();
    int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const char *err = NULL;
    char errbuf[160];
    size_t got = 0;
    if (fd < 0 || ((connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) && errno != EINPROGRESS)) {
        snprintf(errbuf, sizeof errbuf, "cannot connect: %s", strerror(errno));
        err = errbuf;
        goto out;
    }
    if (tcp) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (poll(&p, 1, PROBE_TIMEOUT_MS) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ||
            soerr) {
            snprintf(errbuf, sizeof errbuf, "TCP connect failed: %s",
                     soerr ? strerror(soerr) : "timed out");
            err = errbuf;
            goto out;
        }
    }
    if (send(fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req) {
        snprintf(errbuf, sizeof errbuf, "send failed: %s", strerror(errno));
        err = errbuf;
        goto out;
    }
    for (;;) {
        int left = (int)(t0 + PROBE_TIMEOUT_MS - mono_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) != 1) {
            err = "no answer within 1.5 s (turnd not running, or a firewall drops it)";
            goto out;
        }
        ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
        if (n <= 0) {
            snprintf(errbuf, sizeof errbuf, "%s", n == 0 ? "connection closed" : strerror(errno));
            err = errbuf;
            goto out;
        }
        got = tcp ? got + (size_t)n : (size_t)n;
        /* TCP: wait for the whole message (RFC 8489 §6.2.2: STUN framing by its length) */
        if (!tcp || (got >= 20 && got >= 20 + ((size_t)buf[2] << 8 | buf[3])))
            break;
    }
    char mapped[64], software[128];
    int cls = 0;
    if (parse_response(buf, got, txid, mapped, sizeof mapped, software, sizeof software, &cls) != 0)
        err = "the answer is not a STUN response to our request";
    else if (cls != 2)
        err = "turnd answered with an error response";
    else {
        json_object_set_new(res, "ok", json_true());
        json_object_set_new(res, "rtt_ms", json_integer(mono_ms() - t0));
        json_object_set_new(res, "mapped", json_string(mapped));
        json_object_set_new(res, "software", json_string(software));
    }
out:
    if (fd >= 0)
        close(fd);
    if (err) {
        json_object_set_new(res, "ok", json_false());
        json_object_set_new(res, "error", json_string(err));
    }
    return res;
}

void con_diag_stun(struct console *c, const struct con_req *r, const struct con_admin *who,
                   json_t *body, struct con_reply *out)
{
    (void)r;
    (void)body;
    json_t *results = json_array();
    config_t lc;
    config_init(&lc);
    const config_setting_t *l = NULL;
    bool tcp = true;
    if (c->cfg->config_path && config_read_file(&lc, c->cfg->config_path) == CONFIG_TRUE) {
        l = config_lookup(&lc, "turnd.listen");
        int b;
        if (config_lookup_bool(&lc, "turnd.tcp", &b) == CONFIG_TRUE)
            tcp = b;
    }
    int n = l ? (config_setting_is_array(l) || config_setting_is_list(l) ? config_setting_length(l)
                                                                         : 1)
              : 0;
    for (int i = 0; i < n; i++) {
        const char *a = config_setting_is_scalar(l) ? config_setting_get_string(l)
                                                    : config_setting_get_string_elem(l, i);
        struct con_listen li;
        if (!a || con_parse_listen(a, &li) != 0)
            continue;
        if (strcmp(li.host, "0.0.0.0") == 0)
            snprintf(li.host, sizeof li.host, "127.0.0.1");
        json_array_append_new(results, probe(li.host, li.port, false));
        if (tcp)
            json_array_append_new(results, probe(li.host, li.port, true));
    }
    if (n == 0) /* turnd's own default */
        json_array_append_new(results, probe("127.0.0.1", 3478, false));
    config_destroy(&lc);
    size_t i, good = 0;
    json_t *e;
    json_array_foreach(results, i, e) good += json_is_true(json_object_get(e, "ok"));
    con_audit(c, who, "diag.stun", "turnd", "%zu of %zu probes answered", good,
              json_array_size(results));
    con_json(out, 200, json_pack("{sb so}", "ok", 1, "results", results));
}
