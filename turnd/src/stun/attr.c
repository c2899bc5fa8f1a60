/* attr.c - decoding attribute values (RFC 8489 §14, RFC 8656 §18). */
#include "stun.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

int stun_attr_get_addr(const struct stun_msg *m, const struct stun_attr *a, bool xor,
                       struct stun_addr *out)
{
    if (a->len < 4) return -EBADMSG;
    const uint8_t *v = a->val;
    uint8_t family = v[1];
    uint16_t port = rd16(v + 2);
    memset(out, 0, sizeof(*out));
    if (family == STUN_FAMILY_IPV4 && a->len == 8) {
        out->family = AF_INET;
        memcpy(out->ip, v + 4, 4);
    } else if (family == STUN_FAMILY_IPV6 && a->len == 20) {
        out->family = AF_INET6;
        memcpy(out->ip, v + 4, 16);
    } else {
        return -EBADMSG;
    }
    if (xor) {
        /* §14.2: XOR with the magic cookie, then (IPv6) the transaction id. */
        const uint8_t *cookie = m->buf + 4;
        port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
        for (int i = 0; i < 4; i++)
            out->ip[i] ^= cookie[i];
        if (out->family == AF_INET6)
            for (int i = 0; i < 12; i++)
                out->ip[4 + i] ^= m->tid[i];
    }
    out->port = port;
    return 0;
}

int stun_attr_get_u32(const struct stun_attr *a, uint32_t *out)
{
    if (a->len != 4) return -EBADMSG;
    *out = (uint32_t)a->val[0] << 24 | (uint32_t)a->val[1] << 16 | (uint32_t)a->val[2] << 8 |
           a->val[3];
    return 0;
}

int stun_attr_get_error(const struct stun_attr *a, int *code, const char **reason,
                        size_t *reason_len)
{
    if (a->len < 4) return -EBADMSG;
    int cls = a->val[2] & 0x07, num = a->val[3];
    if (cls < 3 || cls > 6 || num > 99) return -EBADMSG;
    *code = cls * 100 + num;
    *reason = (const char *)a->val + 4;
    *reason_len = a->len - 4u;
    return 0;
}

int stun_attr_get_channel(const struct stun_attr *a, uint16_t *chan)
{
    if (a->len != 4) return -EBADMSG;
    *chan = rd16(a->val);
    return 0;
}

int stun_attr_get_transport(const struct stun_attr *a, uint8_t *proto)
{
    if (a->len != 4) return -EBADMSG;
    *proto = a->val[0];
    return 0;
}

int stun_attr_get_family(const struct stun_attr *a, uint16_t *af)
{
    if (a->len != 4) return -EBADMSG;
    if (a->val[0] == STUN_FAMILY_IPV4)
        *af = AF_INET;
    else if (a->val[0] == STUN_FAMILY_IPV6)
        *af = AF_INET6;
    else
        return -EAFNOSUPPORT;
    return 0;
}

int stun_attr_get_even_port(const struct stun_attr *a, bool *reserve_next)
{
    if (a->len != 1 && a->len != 4) /* one byte; some clients pad the length to 4 */
        return -EBADMSG;
    *reserve_next = (a->val[0] & 0x80) != 0;
    return 0;
}
