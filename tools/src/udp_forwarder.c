/*
 * udp_forwarder.c - udp-forwarder, the benchmark's baseline: the least work a
 * UDP relay can do, so tools/bench-turn can say how far turnd is from the
 * kernel's own per-datagram cost.
 *
 *   udp-forwarder --listen IP:PORT --to IP:PORT [--max-seconds S]
 *
 * Like a TURN relay it gives every client its own socket towards the target
 * (so answers find their way back), but it parses nothing, checks nothing
 * and keeps no timers: recvmmsg a batch, sendmmsg it on. One thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048
#define MAX_FLOWS 4096 /* power of two; open addressing */

struct flow {
    struct sockaddr_in client;
    int fd; /* connected to the target; 0 = empty slot */
};

static struct flow flows[MAX_FLOWS];
static struct flow *by_fd[65536];
static int front = -1, epfd = -1;
static struct sockaddr_in target;

static uint8_t bufs[BATCH][SLOT];
static struct mmsghdr msgs[BATCH];
static struct iovec iov[BATCH];
static struct sockaddr_in addrs[BATCH];

static int parse_addr(const char *s, struct sockaddr_in *out)
{
    char ip[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(ip))
        return -1;
    memcpy(ip, s, (size_t)(colon - s));
    ip[colon - s] = '\0';
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, ip, &out->sin_addr) == 1 ? 0 : -1;
}

static struct flow *flow_for(const struct sockaddr_in *c)
{
    uint32_t h = (c->sin_addr.s_addr ^ ((uint32_t)c->sin_port * 0x9e3779b1u)) * 2654435761u;
    for (unsigned i = 0; i < MAX_FLOWS; i++) {
        struct flow *f = &flows[(h + i) & (MAX_FLOWS - 1)];
        if (f->fd == 0) {
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0 || fd >= 65536 ||
                connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0) {
                if (fd >= 0)
                    close(fd);
                return NULL;
            }
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
                close(fd);
                return NULL;
            }
            f->client = *c;
            f->fd = fd;
            by_fd[fd] = f;
            return f;
        }
        if (f->client.sin_addr.s_addr == c->sin_addr.s_addr && f->client.sin_port == c->sin_port)
            return f;
    }
    return NULL;
}

static int receive(int fd)
{
    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], SLOT};
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &addrs[i], .msg_namelen = sizeof(addrs[i]), .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    return recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
}

/* Client datagrams: each goes out on its flow's socket; consecutive ones of
 * the same flow leave in one sendmmsg. */
static void from_clients(void)
{
    for (int round = 0; round < 8; round++) {
        int n = receive(front);
        if (n <= 0)
            return;
        int start = 0;
        struct flow *cur = NULL;
        for (int i = 0; i <= n; i++) {
            struct flow *f = i < n ? flow_for(&addrs[i]) : NULL;
            if (i < n)
                iov[i].iov_len = msgs[i].msg_len;
            if (f == cur && i < n)
                continue;
            if (cur && i > start) {
                for (int k = start; k < i; k++)
                    msgs[k].msg_hdr.msg_name = NULL, msgs[k].msg_hdr.msg_namelen = 0;
                sendmmsg(cur->fd, &msgs[start], (unsigned)(i - start), MSG_DONTWAIT);
            }
            cur = f;
            start = i;
        }
        if (n < BATCH)
            return;
    }
}

/* Target datagrams on a flow's socket: back to that flow's client, one sendmmsg. */
static void from_target(struct flow *f)
{
    for (int round = 0; round < 8; round++) {
        int n = receive(f->fd);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            iov[i].iov_len = msgs[i].msg_len;
            msgs[i].msg_hdr.msg_name = &f->client;
            msgs[i].msg_hdr.msg_namelen = sizeof(f->client);
        }
        sendmmsg(front, msgs, (unsigned)n, MSG_DONTWAIT);
        if (n < BATCH)
            return;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in listen_addr = {0};
    long max_seconds = 600;
    bool have_listen = false, have_target = false;
    bool help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            have_listen = parse_addr(argv[i + 1], &listen_addr) == 0;
        else if (strcmp(argv[i], "--to") == 0)
            have_target = parse_addr(argv[i + 1], &target) == 0;
        else if (strcmp(argv[i], "--max-seconds") == 0)
            max_seconds = atol(argv[i + 1]);
    }
    if (help) {
        printf("udp-forwarder - the baseline of tools/bench-turn: the least work a UDP relay can\n"
               "do (a socket per client towards the target, recvmmsg a batch, sendmmsg it on).\n\n"
               "usage: udp-forwarder --listen IP:PORT --to IP:PORT [--max-seconds S]\n");
        return 0;
    }
    if (!have_listen || !have_target || max_seconds <= 0) {
        fprintf(stderr, "usage: udp-forwarder --listen IP:PORT --to IP:PORT [--max-seconds S]\n");
        return 2;
    }
    front = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (front < 0 || epfd < 0 ||
        bind(front, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) != 0) {
        fprintf(stderr, "udp-forwarder: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = front};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, front, &ev) != 0) {
        fprintf(stderr, "udp-forwarder: epoll: %s\n", strerror(errno));
        return 1;
    }
    /* Bounded in time so a forgotten forwarder never outlives its benchmark. */
    time_t stop = time(NULL) + max_seconds;
    struct epoll_event events[64];
    while (time(NULL) < stop) {
        int n = epoll_wait(epfd, events, 64, 1000);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == front)
                from_clients();
            else if (by_fd[fd])
                from_target(by_fd[fd]);
        }
    }
    return 0;
}
