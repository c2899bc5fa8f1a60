/* ifaddrs.c - this host's own IP addresses, which the peer policy protects. */
#include "io.h"

#include <errno.h>
#include <ifaddrs.h>
#include <sys/socket.h>

int tio_add_interface_addresses(struct turn_policy *p)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) != 0)
        return -errno;
    int rc = 0;
    for (struct ifaddrs *i = list; i && rc == 0; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)
            continue;
        struct stun_addr a;
        tio_addr_from_sockaddr(i->ifa_addr, &a);
        rc = turn_policy_add_own(p, &a);
    }
    freeifaddrs(list);
    return rc;
}
