/*
 * sendq.c - the UDP send queue: the core's datagrams are copied into slots
 * and leave with one sendmmsg per socket when the batch that caused them is
 * done, instead of one sendto each. Datagrams to the same socket keep their
 * order; a datagram too big for a slot flushes the queue and goes alone.
 * A full socket buffer drops what does not fit, as the wire would.
 *
 * Consecutive datagrams of one socket to one address with one size (the last
 * may be shorter) leave as one UDP GSO message (UDP_SEGMENT, Linux 4.18+):
 * the kernel routes and builds them once and cuts them into the same
 * datagrams below the IP layer. A kernel or device that refuses GSO gets the
 * datagrams one by one.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#define GSO_MAX_SEGS 64     /* the kernel's UDP_MAX_SEGMENTS on every version */
#define GSO_MAX_BYTES 60000 /* under the 65,507 bytes one IPv4 UDP message can carry */

/* Sends k datagrams one message each; what does not go out is dropped. */
static void send_plain(struct tio_server *s, int fd, struct mmsghdr *msgs, unsigned k)
{
    for (unsigned off = 0; off < k;) {
        int n = sendmmsg(fd, msgs + off, k - off, MSG_DONTWAIT);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            s->send_errors += k - off; /* the socket buffer is full: dropped */
            break;
        }
        off += (unsigned)n;
    }
}

/* A socket's only datagram goes with sendto: the kernel then copies one
 * address and one buffer range instead of an mmsghdr, a msghdr and an iovec. */
static void send_one(struct tio_server *s, int fd, const struct msghdr *h)
{
    ssize_t n;
    do
        n = sendto(fd, h->msg_iov->iov_base, h->msg_iov->iov_len, MSG_DONTWAIT, h->msg_name,
                   h->msg_namelen);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        s->send_errors++; /* the socket buffer is full: dropped */
}

static bool same_dest(const struct msghdr *a, const struct msghdr *b)
{
    /* tio_addr_to_sockaddr() zeroes the padding: bytes compare as addresses. */
    return a->msg_namelen == b->msg_namelen &&
           memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0;
}

/* How many datagrams from run[i] on can share one GSO message. */
static unsigned gso_count(const struct tio_sendq *q, unsigned i, unsigned k)
{
    if (q->gso < 0)
        return 1;
    const struct msghdr *h = &q->run[i].msg_hdr;
    size_t size = h->msg_iov->iov_len, total = size;
    if (size == 0)
        return 1; /* a GSO size of 0 would merge them into one datagram */
    unsigned g = 1;
    while (i + g < k && g < GSO_MAX_SEGS) {
        const struct msghdr *n = &q->run[i + g].msg_hdr;
        size_t len = n->msg_iov->iov_len;
        if (len == 0 || len > size || total + len > GSO_MAX_BYTES || !same_dest(h, n))
            break;
        total += len;
        g++;
        if (len < size)
            break; /* only the last segment may be shorter */
    }
    return g;
}

/* Turns run[i..i+g) into one GSO message at out[m]. */
static void gso_build(struct tio_sendq *q, unsigned m, unsigned i, unsigned g)
{
    for (unsigned j = i; j < i + g; j++)
        q->giov[j] = *q->run[j].msg_hdr.msg_iov;
    struct msghdr *h = &q->out[m].msg_hdr;
    *h = q->run[i].msg_hdr;
    h->msg_iov = &q->giov[i];
    h->msg_iovlen = g;
    h->msg_control = q->ctl[m].buf;
    h->msg_controllen = sizeof(q->ctl[m].buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(h);
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t size = (uint16_t)q->giov[i].iov_len;
    memcpy(CMSG_DATA(c), &size, sizeof(size));
}

/* Sends one socket's datagrams, run[0..k), in order. */
static void send_run(struct tio_server *s, int fd, unsigned k)
{
    struct tio_sendq *q = &s->sendq;
    if (k == 1) {
        send_one(s, fd, &q->run[0].msg_hdr);
        return;
    }
    if (q->gso == 0) {
        /* Kernels without UDP GSO ignore the cmsg and would send one big
         * datagram: use it only where the option is known. */
        int v;
        socklen_t len = sizeof(v);
        q->gso = getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &v, &len) == 0 ? 1 : -1;
    }
    unsigned m = 0;
    for (unsigned i = 0; i < k; m++) {
        unsigned g = gso_count(q, i, k);
        q->out_first[m] = i;
        q->out_n[m] = g;
        if (g > 1)
            gso_build(q, m, i, g);
        else
            q->out[m] = q->run[i];
        i += g;
    }
    for (unsigned off = 0; off < m;) {
        int n = sendmmsg(fd, q->out + off, m - off, MSG_DONTWAIT);
        if (n > 0) {
            off += (unsigned)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        int err = n < 0 ? errno : EAGAIN;
        if (q->out_n[off] > 1 && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
            /* GSO refused (no checksum offload, a path MTU under the
             * segment size): these datagrams go one by one. */
            if (err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP)
                q->gso = -1;
            send_plain(s, fd, q->run + q->out_first[off], q->out_n[off]);
            off++;
            continue;
        }
        s->send_errors += k - q->out_first[off]; /* the socket buffer is full: dropped */
        break;
    }
}

void tio_sendq_flush(struct tio_server *s)
{
    struct tio_sendq *q = &s->sendq;
    unsigned done = 0;
    bool sent[TIO_SENDQ_LEN] = {false};
    while (done < q->n) {
        /* Gather every queued datagram of the first unsent one's socket. */
        unsigned first = 0;
        while (sent[first])
            first++;
        int fd = q->fd[first];
        unsigned k = 0;
        for (unsigned i = first; i < q->n; i++) {
            if (sent[i] || q->fd[i] != fd)
                continue;
            sent[i] = true;
            q->run[k++] = q->msgs[i];
        }
        done += k;
        send_run(s, fd, k);
    }
    q->n = 0;
}

void tio_sendq_push(struct tio_server *s, int fd, const struct stun_addr *to, const uint8_t *buf,
                    size_t len)
{
    struct tio_sendq *q = &s->sendq;
    struct sockaddr_storage ss;
    unsigned sl;
    if (tio_addr_to_sockaddr(to, &ss, &sl) != 0)
        return;
    if (len > TIO_SENDQ_SLOT) {
        tio_sendq_flush(s);
        if (sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0)
            s->send_errors++;
        return;
    }
    if (q->n == TIO_SENDQ_LEN)
        tio_sendq_flush(s);
    unsigned i = q->n++;
    memcpy(q->bufs[i], buf, len);
    q->addrs[i] = ss;
    q->iov[i] = (struct iovec){q->bufs[i], len};
    q->fd[i] = fd;
    q->msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &q->addrs[i],
                                              .msg_namelen = sl,
                                              .msg_iov = &q->iov[i],
                                              .msg_iovlen = 1}};
}
