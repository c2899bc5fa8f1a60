/*
 * turn_probe.c - turn-probe, a small TURN client for operators and tests.
 *
 *   turn-probe binding SERVER:PORT
 *   turn-probe permission SERVER:PORT --user U:P [--family 4|6] [--channel]
 *              [--expect CODE] PEER...
 *   turn-probe send SERVER:PORT --user U:P --peer IP:PORT... [--count N] [--channel] [--force]
 *              [--dual]
 *   turn-probe allocate SERVER:PORT --user U:P [--family 4|6] [--dual] [--hold S] [--permit IP]
 *              [--follow]
 *   turn-probe sink IP:PORT [--seconds S]
 *
 * It answers the questions an administrator asks of a TURN server: does it
 * answer, do my credentials work, which peers will it relay to. Requests
 * are retransmitted as RFC 8489 §6.2.1 says (500 ms, doubling, 6 tries).
 * A 300 Try Alternate to Allocate is reported (exit 3), or followed with
 * --follow (RFC 8489 §10). --dual asks for a dual-stack allocation
 * (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 §7.2) and prints each relayed address,
 * or the ADDRESS-ERROR-CODE of the family the server did not grant.
 */
#include "stun/stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
    int fd;
    struct stun_addr server;
    const char *user, *pass;
    char realm[128], nonce[256];
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
    bool have_nonce;
    uint8_t resp[2048];
    struct stun_msg msg; /* the last response */
    long data_received;  /* Data indications and ChannelData seen */
    bool count_all;      /* sink: every datagram counts */
    bool follow;         /* follow 300 Try Alternate to the ALTERNATE-SERVER */
};

#define EXIT_ALTERNATE 3 /* Allocate got 300 Try Alternate and did not follow it */

static int to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(a->port);
        memcpy(&s->sin_addr, a->ip, 4);
        *len = sizeof(*s);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(a->port);
        memcpy(&s->sin6_addr, a->ip, 16);
        *len = sizeof(*s);
    }
    return 0;
}

static int open_socket(const struct stun_addr *server, bool do_connect)
{
    int fd = socket(server->family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len;
    to_sockaddr(server, &ss, &len);
    if (do_connect ? connect(fd, (struct sockaddr *)&ss, len) : bind(fd, (struct sockaddr *)&ss, len)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void random_tid(uint8_t tid[STUN_TID_LEN])
{
    if (getentropy(tid, STUN_TID_LEN) != 0)
        exit(1);
}

/* Count relayed data that arrives while we wait for responses or hold. */
static void note_data(struct client *c, const uint8_t *buf, size_t n)
{
    struct stun_msg m;
    if (c->count_all || stun_looks_like_chandata(buf, n) ||
        (stun_parse(&m, buf, n) == 0 && m.cls == STUN_INDICATION && m.method == TURN_DATA))
        c->data_received++;
}

/* Send the request in b and wait for the response with its transaction id:
 * 0 with c->msg set, or -ETIMEDOUT. */
static int transact(struct client *c, struct stun_builder *b)
{
    size_t len;
    if (stun_build_finish(b, &len) != 0)
        return -ENOSPC;
    int rto = 500;
    for (int attempt = 0; attempt < 6; attempt++, rto *= 2) {
        if (send(c->fd, b->buf, len, 0) < 0)
            return -errno;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        while (poll(&p, 1, rto) > 0) {
            ssize_t n = recv(c->fd, c->resp, sizeof(c->resp), 0);
            if (n <= 0)
                break;
            note_data(c, c->resp, (size_t)n);
            if (stun_parse(&c->msg, c->resp, (size_t)n) == 0 && c->msg.cls != STUN_INDICATION &&
                memcmp(c->msg.tid, b->buf + 8, STUN_TID_LEN) == 0)
                return 0;
        }
    }
    return -ETIMEDOUT;
}

static int response_code(const struct client *c)
{
    if (c->msg.cls == STUN_SUCCESS)
        return 0;
    const struct stun_attr *e = stun_find(&c->msg, STUN_ATTR_ERROR_CODE);
    int code;
    const char *reason;
    size_t rlen;
    if (!e || stun_attr_get_error(e, &code, &reason, &rlen) != 0)
        return 500;
    return code;
}

static void copy_attr(const struct stun_msg *m, uint16_t type, char *out, size_t cap)
{
    const struct stun_attr *a = stun_find(m, type);
    size_t n = a ? (a->len < cap - 1 ? a->len : cap - 1) : 0;
    if (a)
        memcpy(out, a->val, n);
    out[n] = '\0';
}

typedef void (*add_attrs_fn)(struct stun_builder *b, const void *arg);

/* An authenticated request: learns realm and nonce from 401/438 and retries. */
static int request(struct client *c, uint16_t method, add_attrs_fn add, const void *arg)
{
    for (int round = 0; round < 3; round++) {
        uint8_t buf[1024], tid[STUN_TID_LEN];
        struct stun_builder b;
        random_tid(tid);
        stun_build_init(&b, buf, sizeof(buf), method, STUN_REQUEST, tid);
        if (add)
            add(&b, arg);
        if (c->have_nonce) {
            stun_put_str(&b, STUN_ATTR_USERNAME, c->user);
            stun_put_str(&b, STUN_ATTR_REALM, c->realm);
            stun_put_str(&b, STUN_ATTR_NONCE, c->nonce);
            stun_put_integrity(&b, c->key, sizeof(c->key));
        }
        stun_put_fingerprint(&b);
        int rc = transact(c, &b);
        if (rc)
            return rc;
        int code = response_code(c);
        if ((code == 401 && !c->have_nonce) || code == 438) {
            copy_attr(&c->msg, STUN_ATTR_REALM, c->realm, sizeof(c->realm));
            copy_attr(&c->msg, STUN_ATTR_NONCE, c->nonce, sizeof(c->nonce));
            stun_long_term_key(c->user, c->realm, c->pass, c->key);
            c->have_nonce = true;
            continue;
        }
        if (code == 0 && !stun_check_integrity(&c->msg, c->key, sizeof(c->key))) {
            fprintf(stderr, "turn-probe: response failed its integrity check\n");
            return -EBADMSG;
        }
        return code;
    }
    return 401;
}

#define FAMILY_DUAL 46 /* --dual: IPv4 plus ADDITIONAL-ADDRESS-FAMILY IPv6 */

/* A dual-stack answer: "relay ADDR" per XOR-RELAYED-ADDRESS, and
 * "address-error 4|6 CODE" for a family the server did not grant. */
static void print_relays(struct client *c)
{
    for (unsigned i = 0; i < c->msg.n_attrs; i++) {
        const struct stun_attr *a = &c->msg.attrs[i];
        struct stun_addr relay;
        char text[64];
        if (a->type == STUN_ATTR_XOR_RELAYED_ADDRESS &&
            stun_attr_get_addr(&c->msg, a, true, &relay) == 0) {
            stun_addr_format(&relay, true, text, sizeof(text));
            printf("relay %s\n", text);
        } else if (a->type == STUN_ATTR_ADDRESS_ERROR_CODE && a->len >= 4) {
            printf("address-error %d %d\n", a->val[0] == STUN_FAMILY_IPV6 ? 6 : 4,
                   (a->val[2] & 7) * 100 + a->val[3]);
        }
    }
    fflush(stdout);
}

static void add_allocate(struct stun_builder *b, const void *arg)
{
    const int *family = arg;
    uint8_t transport[4] = {17, 0, 0, 0};
    stun_put_attr(b, STUN_ATTR_REQUESTED_TRANSPORT, transport, 4);
    uint8_t fam[4] = {STUN_FAMILY_IPV6, 0, 0, 0};
    if (*family == 6)
        stun_put_attr(b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, fam, 4);
    else if (*family == FAMILY_DUAL)
        stun_put_attr(b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, fam, 4);
}

struct peer_arg {
    const struct stun_addr *peer;
    uint16_t channel;
};

static void add_peer(struct stun_builder *b, const void *arg)
{
    const struct peer_arg *p = arg;
    if (p->channel)
        stun_put_u32(b, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)p->channel << 16);
    stun_put_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, p->peer, true);
}

/* RFC 8489 §10: a 300 to an authenticated request counts only when signed;
 * prints "alternate ADDR" (and "alternate-domain NAME"); 0 with *alt, or -1. */
static int read_alternate(struct client *c, struct stun_addr *alt)
{
    const struct stun_attr *a = stun_find(&c->msg, STUN_ATTR_ALTERNATE_SERVER);
    if (!a || stun_attr_get_addr(&c->msg, a, false, alt) != 0) {
        fprintf(stderr, "turn-probe: 300 Try Alternate without an ALTERNATE-SERVER\n");
        return -1;
    }
    if (!stun_check_integrity(&c->msg, c->key, sizeof(c->key))) {
        fprintf(stderr, "turn-probe: 300 Try Alternate failed its integrity check\n");
        return -1;
    }
    char text[64], domain[256];
    stun_addr_format(alt, true, text, sizeof(text));
    printf("alternate %s\n", text);
    copy_attr(&c->msg, STUN_ATTR_ALTERNATE_DOMAIN, domain, sizeof(domain));
    if (domain[0])
        printf("alternate-domain %s\n", domain);
    fflush(stdout);
    return 0;
}

/* Move the client to another server: new socket, new realm and nonce. */
static int switch_server(struct client *c, const struct stun_addr *to)
{
    int fd = open_socket(to, true);
    if (fd < 0) {
        fprintf(stderr, "turn-probe: cannot reach the alternate server: %s\n", strerror(errno));
        return -1;
    }
    close(c->fd);
    c->fd = fd;
    c->server = *to;
    c->have_nonce = false;
    return 0;
}

static int allocate(struct client *c, int family, struct stun_addr *relay)
{
    int code = request(c, TURN_ALLOCATE, add_allocate, &family);
    /* RFC 8656 §7.4: 437 means our 5-tuple is taken, typically by an earlier
     * run that the kernel gave the same ephemeral port; try another port. */
    for (int tries = 0; code == STUN_ERR_ALLOCATION_MISMATCH && tries < 3; tries++) {
        struct stun_addr same = c->server;
        if (switch_server(c, &same) != 0)
            return 1;
        code = request(c, TURN_ALLOCATE, add_allocate, &family);
    }
    /* Follow at most two redirections, never back to the server that sent one. */
    for (int hops = 0; code == STUN_ERR_TRY_ALTERNATE; hops++) {
        struct stun_addr alt;
        if (read_alternate(c, &alt) != 0)
            return 1;
        if (!c->follow)
            return EXIT_ALTERNATE;
        if (hops == 2 || stun_addr_equal(&alt, &c->server)) {
            fprintf(stderr, "turn-probe: too many redirections\n");
            return 1;
        }
        if (switch_server(c, &alt) != 0)
            return 1;
        code = request(c, TURN_ALLOCATE, add_allocate, &family);
    }
    if (code != 0) {
        fprintf(stderr, "turn-probe: Allocate failed: %d %s\n", code, stun_error_reason(code));
        return code < 0 ? 1 : code;
    }
    const struct stun_attr *r = stun_find(&c->msg, STUN_ATTR_XOR_RELAYED_ADDRESS);
    if (!r || stun_attr_get_addr(&c->msg, r, true, relay) != 0) {
        fprintf(stderr, "turn-probe: Allocate response without a relayed address\n");
        return 1;
    }
    if (family == FAMILY_DUAL)
        print_relays(c);
    return 0;
}

static void add_zero_lifetime(struct stun_builder *b, const void *arg)
{
    (void)arg;
    stun_put_u32(b, STUN_ATTR_LIFETIME, 0);
}

/* Give the allocation back (Refresh, LIFETIME 0) so the server frees it now
 * rather than when it expires; a failure here changes no result. */
static void release(struct client *c)
{
    (void)request(c, TURN_REFRESH, add_zero_lifetime, NULL);
}

static int parse_addr_or_die(const char *s, struct stun_addr *a)
{
    if (stun_addr_parse(s, a) != 0) {
        fprintf(stderr, "turn-probe: bad address '%s'\n", s);
        exit(2);
    }
    return 0;
}

static void usage(FILE *out)
{
    fputs("Usage:\n"
          "  turn-probe binding SERVER:PORT\n"
          "  turn-probe permission SERVER:PORT --user U:P [--family 4|6] [--channel]\n"
          "             [--expect CODE] PEER...\n"
          "  turn-probe send SERVER:PORT --user U:P --peer IP:PORT... [--count N] [--channel]\n"
          "             [--force] [--dual]\n"
          "  turn-probe allocate SERVER:PORT --user U:P [--family 4|6] [--dual] [--hold S]\n"
          "             [--permit IP] [--follow]\n"
          "  turn-probe sink IP:PORT [--seconds S]\n"
          "A TURN client for checking a server: answers, credentials, peer policy.\n"
          "permission: one CreatePermission (or ChannelBind with --channel) per PEER; prints\n"
          "  'PEER ok' or 'PEER CODE Reason'; exit 0 when all succeed, or with --expect when\n"
          "  every PEER got CODE. send: N Send indications to PEER (ChannelData with\n"
          "  --channel); --force sends even when the permission or channel is refused, to\n"
          "  check that the server drops them; each --peer (up to 4) gets its own permission or\n"
          "  channel. --dual: a dual-stack allocation (ADDITIONAL-ADDRESS-FAMILY IPv6); prints\n"
          "  'relay ADDR' per relayed address and 'address-error 4|6 CODE' for one refused.\n"
          "  allocate: prints the\n"
          "  relayed address, holds it S seconds and reports relayed data received.\n"
          "  sink: counts UDP datagrams arriving at IP:PORT for S seconds.\n"
          "A 300 Try Alternate to Allocate prints 'alternate ADDR' and exits 3; with\n"
          "--follow the probe allocates on that server instead.\n"
          "Exit status: 0 as described, 1 otherwise, 2 for bad usage, 3 redirected.\n",
          out);
}

struct options {
    const char *user;
    int family, expect, count, hold, seconds;
    bool channel, force, follow;
    const char *peers[4], *permit;
    int n_peers;
    bool dual;
};

static int cmd_binding(struct client *c)
{
    uint8_t buf[64], tid[STUN_TID_LEN];
    struct stun_builder b;
    random_tid(tid);
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_put_fingerprint(&b);
    if (transact(c, &b) != 0) {
        fprintf(stderr, "turn-probe: no answer\n");
        return 1;
    }
    const struct stun_attr *a = stun_find(&c->msg, STUN_ATTR_XOR_MAPPED_ADDRESS);
    struct stun_addr mapped;
    char text[64];
    if (!a || stun_attr_get_addr(&c->msg, a, true, &mapped) != 0)
        return 1;
    stun_addr_format(&mapped, true, text, sizeof(text));
    printf("mapped %s\n", text);
    return 0;
}

static int cmd_permission(struct client *c, const struct options *o, char **peers, int n)
{
    struct stun_addr relay;
    int rc = allocate(c, o->family, &relay);
    if (rc)
        return 1;
    int all_ok = 1, all_expected = 1;
    for (int i = 0; i < n; i++) {
        struct stun_addr peer;
        parse_addr_or_die(peers[i], &peer);
        if (peer.port == 0)
            peer.port = 9;
        struct peer_arg arg = {.peer = &peer, .channel = o->channel ? (uint16_t)(0x4000 + i) : 0};
        int code = request(c, o->channel ? TURN_CHANNEL_BIND : TURN_CREATE_PERMISSION, add_peer,
                           &arg);
        if (code == 0)
            printf("%s ok\n", peers[i]);
        else
            printf("%s %d %s\n", peers[i], code, code > 0 ? stun_error_reason(code) : "no answer");
        all_ok &= code == 0;
        all_expected &= code == o->expect;
    }
    release(c);
    return o->expect ? !all_expected : !all_ok;
}

/* One datagram of `payload` to peer: ChannelData on `channel`, or a Send
 * indication when channel is 0. 0 or -1. */
static int send_one(struct client *c, const struct stun_addr *peer, uint16_t channel,
                    const char *payload, int plen)
{
    uint8_t buf[256], tid[STUN_TID_LEN];
    struct stun_builder b;
    size_t len = 0;
    if (channel) {
        /* RFC 8656 §12.4: channel number, length, data padded to 4 bytes
         * (the padding matters on streams only; UDP ignores it). */
        buf[0] = channel >> 8;
        buf[1] = channel & 0xff;
        buf[2] = 0;
        buf[3] = (uint8_t)plen;
        memcpy(buf + 4, payload, (size_t)plen);
        len = 4 + (size_t)plen;
    } else {
        random_tid(tid);
        stun_build_init(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
        stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer, true);
        stun_put_attr(&b, STUN_ATTR_DATA, payload, (size_t)plen);
        if (stun_build_finish(&b, &len) != 0)
            return -1;
    }
    return send(c->fd, buf, len, 0) < 0 ? -1 : 0;
}

static int cmd_send(struct client *c, const struct options *o)
{
    struct stun_addr relay, peers[4];
    uint16_t channels[4];
    for (int p = 0; p < o->n_peers; p++)
        parse_addr_or_die(o->peers[p], &peers[p]);
    int family = o->dual ? FAMILY_DUAL : peers[0].family == AF_INET6 ? 6 : 4;
    if (allocate(c, family, &relay))
        return 1;
    for (int p = 0; p < o->n_peers; p++) {
        channels[p] = o->channel ? (uint16_t)(0x4000 + p) : 0;
        struct peer_arg arg = {.peer = &peers[p], .channel = channels[p]};
        int code =
            request(c, o->channel ? TURN_CHANNEL_BIND : TURN_CREATE_PERMISSION, add_peer, &arg);
        if (code != 0) {
            printf("%s %s: %d %s\n", o->channel ? "ChannelBind" : "CreatePermission",
                   o->peers[p], code, code > 0 ? stun_error_reason(code) : "no answer");
            if (!o->force)
                return 1;
        }
    }
    for (int i = 0; i < o->count; i++) {
        char payload[32];
        int plen = snprintf(payload, sizeof(payload), "turn-probe %d", i);
        for (int p = 0; p < o->n_peers; p++)
            if (send_one(c, &peers[p], channels[p], payload, plen) != 0)
                return 1;
        usleep(10000);
    }
    for (int p = 0; p < o->n_peers; p++)
        printf("sent %d to %s\n", o->count, o->peers[p]);
    release(c);
    return 0;
}

static void wait_counting(struct client *c, int ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0)
            return;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) > 0) {
            ssize_t n = recv(c->fd, c->resp, sizeof(c->resp), 0);
            if (n > 0)
                note_data(c, c->resp, (size_t)n);
        }
    }
}

static int cmd_allocate(struct client *c, const struct options *o)
{
    struct stun_addr relay;
    char text[64];
    int rc = allocate(c, o->dual ? FAMILY_DUAL : o->family, &relay);
    if (rc)
        return rc == EXIT_ALTERNATE ? EXIT_ALTERNATE : 1;
    if (!o->dual) { /* --dual printed every relayed address */
        stun_addr_format(&relay, true, text, sizeof(text));
        printf("relay %s\n", text);
        fflush(stdout);
    }
    if (o->permit) {
        struct stun_addr peer;
        parse_addr_or_die(o->permit, &peer);
        struct peer_arg arg = {.peer = &peer};
        int code = request(c, TURN_CREATE_PERMISSION, add_peer, &arg);
        if (code != 0) {
            printf("CreatePermission %s: %d %s\n", o->permit, code, stun_error_reason(code));
            release(c);
            return 1;
        }
    }
    if (o->hold > 0) {
        wait_counting(c, o->hold * 1000);
        printf("received %ld\n", c->data_received);
    }
    release(c);
    return 0;
}

static int cmd_sink(const char *addr, int seconds)
{
    struct stun_addr a;
    parse_addr_or_die(addr, &a);
    int fd = open_socket(&a, false);
    if (fd < 0) {
        fprintf(stderr, "turn-probe: cannot bind %s: %s\n", addr, strerror(errno));
        return 1;
    }
    printf("listening %s\n", addr);
    fflush(stdout);
    struct client c = {.fd = fd, .count_all = true};
    wait_counting(&c, seconds * 1000);
    printf("received %ld\n", c.data_received);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"user", required_argument, NULL, 'u'},    {"family", required_argument, NULL, 'f'},
        {"channel", no_argument, NULL, 'C'},       {"expect", required_argument, NULL, 'e'},
        {"peer", required_argument, NULL, 'p'},    {"count", required_argument, NULL, 'n'},
        {"hold", required_argument, NULL, 'H'},    {"permit", required_argument, NULL, 'P'},
        {"seconds", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {"force", no_argument, NULL, 'F'},         {"follow", no_argument, NULL, 'A'},
        {"dual", no_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    struct options o = {.family = 4, .count = 10, .seconds = 3};
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': o.user = optarg; break;
        case 'f': o.family = atoi(optarg); break;
        case 'C': o.channel = true; break;
        case 'e': o.expect = atoi(optarg); break;
        case 'p':
            if (o.n_peers == 4) {
                fprintf(stderr, "turn-probe: at most 4 --peer\n");
                return 2;
            }
            o.peers[o.n_peers++] = optarg;
            break;
        case 'D': o.dual = true; break;
        case 'n': o.count = atoi(optarg); break;
        case 'H': o.hold = atoi(optarg); break;
        case 'P': o.permit = optarg; break;
        case 's': o.seconds = atoi(optarg); break;
        case 'F': o.force = true; break;
        case 'A': o.follow = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind], *target = argv[optind + 1];
    if (!strcmp(cmd, "sink"))
        return cmd_sink(target, o.seconds);
    struct client c = {0};
    parse_addr_or_die(target, &c.server);
    if (c.server.port == 0)
        c.server.port = 3478;
    c.fd = open_socket(&c.server, true);
    if (c.fd < 0) {
        fprintf(stderr, "turn-probe: cannot reach %s: %s\n", target, strerror(errno));
        return 1;
    }
    if (!strcmp(cmd, "binding"))
        return cmd_binding(&c);
    if (!o.user || !strchr(o.user, ':')) {
        fprintf(stderr, "turn-probe: %s needs --user NAME:PASSWORD\n", cmd);
        return 2;
    }
    static char user[256];
    snprintf(user, sizeof(user), "%s", o.user);
    /* At the last colon: shared-secret user names carry one ("<expiry>:<user>"),
     * their base64 passwords never do. */
    *strrchr(user, ':') = '\0';
    c.user = user;
    c.pass = user + strlen(user) + 1;
    c.follow = o.follow;
    if (!strcmp(cmd, "permission"))
        return cmd_permission(&c, &o, argv + optind + 2, argc - optind - 2);
    if (!strcmp(cmd, "send") && o.n_peers > 0)
        return cmd_send(&c, &o);
    if (!strcmp(cmd, "allocate"))
        return cmd_allocate(&c, &o);
    usage(stderr);
    return 2;
}
