/* addr.c - transport address helpers: text forms, comparison, hashing. */
#include "stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int stun_addr_format(const struct stun_addr *a, bool with_port, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if ((a->family != AF_INET && a->family != AF_INET6) ||
        !inet_ntop(a->family, a->ip, ip, sizeof(ip))) {
        snprintf(out, cap, "?");
        return -EINVAL;
    }
    int n;
    if (!with_port)
        n = snprintf(out, cap, "%s", ip);
    else if (a->family == AF_INET6)
        n = snprintf(out, cap, "[%s]:%u", ip, a->port);
    else
        n = snprintf(out, cap, "%s:%u", ip, a->port);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    if (*s < '0' || *s > '9') return -EINVAL;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > 65535) return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

int stun_addr_parse(const char *s, struct stun_addr *out)
{
    char buf[INET6_ADDRSTRLEN + 16];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf)) return -EINVAL;
    memcpy(buf, s, n + 1);
    memset(out, 0, sizeof(*out));
    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close) return -EINVAL;
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
    } else {
        char *colon = strchr(buf, ':');
        if (colon && !strchr(colon + 1, ':')) { /* one colon: IPv4:port */
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (port && parse_port(port, &out->port) != 0) return -EINVAL;
    if (host != buf && inet_pton(AF_INET6, host, out->ip) != 1)
        return -EINVAL; /* brackets are for IPv6 only (RFC 3986 §3.2.2) */
    if (inet_pton(AF_INET, host, out->ip) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, host, out->ip) == 1)
        out->family = AF_INET6;
    else
        return -EINVAL;
    return 0;
}

bool stun_addr_ip_equal(const struct stun_addr *a, const struct stun_addr *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0;
}

bool stun_addr_is_any(const struct stun_addr *a)
{
    static const uint8_t zero[16];
    return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

bool stun_addr_equal(const struct stun_addr *a, const struct stun_addr *b)
{
    return a->port == b->port && stun_addr_ip_equal(a, b);
}

uint32_t stun_addr_hash(const struct stun_addr *a)
{
    uint32_t h = 2166136261u; /* FNV-1a over the bytes that identify the address */
    unsigned n = a->family == AF_INET ? 4 : 16;
    for (unsigned i = 0; i < n; i++)
        h = (h ^ a->ip[i]) * 16777619u;
    h = (h ^ (a->port & 0xff)) * 16777619u;
    h = (h ^ (a->port >> 8)) * 16777619u;
    return h ^ (h >> 15);
}
