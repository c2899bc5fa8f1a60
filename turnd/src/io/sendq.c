/*
 * sendq.c - the UDP send queue: the core's datagrams are copied into slots
 * and leave with one sendmmsg per socket when the batch that caused them is
 * done, instead of one sendto each. Datagrams to the same socket keep their
 * order; a datagram too big for a slot flushes the queue and goes alone.
 * A full socket buffer drops what does not fit, as the wire would.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

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
        for (unsigned off = 0; off < k;) {
            int n = sendmmsg(fd, q->run + off, k - off, MSG_DONTWAIT);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                s->send_errors += k - off; /* the socket buffer is full: dropped */
                break;
            }
            off += (unsigned)n;
        }
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
