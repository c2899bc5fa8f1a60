/* udp.c - UDP socket helpers and address conversions for the I/O shell. */
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tio_addr_to_sockaddr(const struct stun_addr *a, void *ss, unsigned *len)
{
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = ss;
        memset(sin, 0, sizeof(*sin));
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->ip, 4);
        *len = sizeof(*sin);
        return 0;
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = ss;
        memset(sin6, 0, sizeof(*sin6));
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        memcpy(&sin6->sin6_addr, a->ip, 16);
        *len = sizeof(*sin6);
        return 0;
    }
    return -EAFNOSUPPORT;
}

void tio_addr_from_sockaddr(const void *sa, struct stun_addr *out)
{
    const struct sockaddr *s = sa;
    memset(out, 0, sizeof(*out));
    if (s->sa_family == AF_INET) {
        const struct sockaddr_in *sin = sa;
        out->family = AF_INET;
        out->port = ntohs(sin->sin_port);
        memcpy(out->ip, &sin->sin_addr, 4);
    } else if (s->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = sa;
        out->family = AF_INET6;
        out->port = ntohs(sin6->sin6_port);
        memcpy(out->ip, &sin6->sin6_addr, 16);
    }
}

int tio_udp_set_buffers(int fd, unsigned bytes, unsigned *rcv, unsigned *snd)
{
    /* The kernel doubles what it grants (bookkeeping overhead) and reports
     * the doubled value; halve it back to compare with the request. */
    int want = (int)bytes, got;
    socklen_t len = sizeof(got);
    if (bytes && (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) != 0 ||
                  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) != 0))
        return -errno;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0)
        return -errno;
    *rcv = (unsigned)got / 2;
    len = sizeof(got);
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) != 0)
        return -errno;
    *snd = (unsigned)got / 2;
    return 0;
}

static int udp_bind(const struct stun_addr *addr, bool dont_fragment, bool reuseport)
{
    struct sockaddr_storage ss;
    unsigned len;
    if (tio_addr_to_sockaddr(addr, &ss, &len) != 0)
        return -EAFNOSUPPORT;
    int fd = socket(addr->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (addr->family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
        goto fail;
    if (dont_fragment) {
        /* RFC 8656 §7.2: DONT-FRAGMENT asks for the DF bit on relayed packets. */
        int pmtu = IP_PMTUDISC_DO;
        int rc = addr->family == AF_INET
                     ? setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu))
                     : setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one));
        if (rc != 0)
            goto fail;
    }
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        goto fail;
    return fd;
fail:;
    int err = -errno;
    close(fd);
    return err;
}

int tio_udp_bind(const struct stun_addr *addr, bool dont_fragment)
{
    return udp_bind(addr, dont_fragment, false);
}

int tio_udp_bind_shared(const struct stun_addr *addr)
{
    return udp_bind(addr, false, true);
}
