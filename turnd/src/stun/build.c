/*
 * build.c - building STUN messages into a caller's buffer. The header's
 * length field is kept current after every attribute, so integrity and
 * fingerprint can be computed at any point (RFC 8489 §14.5, §14.7).
 */
#include "stun.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void set_length(struct stun_builder *b)
{
    wr16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_LEN));
}

void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                     enum stun_class cls, const uint8_t tid[STUN_TID_LEN])
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->err = 0;
    if (cap < STUN_HEADER_LEN) {
        b->err = -ENOSPC;
        return;
    }
    uint16_t type = (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) |
                               ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7));
    wr16(buf, type);
    wr32(buf + 4, STUN_MAGIC_COOKIE);
    memcpy(buf + 8, tid, STUN_TID_LEN);
    b->len = STUN_HEADER_LEN;
    set_length(b);
}

/* Reserve an attribute of value length len; returns a pointer to its value or NULL. */
static uint8_t *reserve(struct stun_builder *b, uint16_t type, size_t len)
{
    if (b->err) return NULL; /* keep the first error */
    size_t padded = (len + 3) & ~(size_t)3;
    if (len > 0xffff || b->len + 4 + padded > b->cap ||
        b->len + 4 + padded - STUN_HEADER_LEN > 0xffff) {
        b->err = -ENOSPC;
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    wr16(p, type);
    wr16(p + 2, (uint16_t)len);
    memset(p + 4 + len, 0, padded - len);
    b->len += 4 + padded;
    set_length(b);
    return p + 4;
}

void stun_put_attr(struct stun_builder *b, uint16_t type, const void *val, size_t len)
{
    uint8_t *p = reserve(b, type, len);
    if (p && len) memcpy(p, val, len);
}

void stun_put_u32(struct stun_builder *b, uint16_t type, uint32_t v)
{
    uint8_t *p = reserve(b, type, 4);
    if (p) wr32(p, v);
}

void stun_put_str(struct stun_builder *b, uint16_t type, const char *s)
{
    stun_put_attr(b, type, s, strlen(s));
}

void stun_put_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a, bool xor)
{
    if (a->family != AF_INET && a->family != AF_INET6) {
        if (!b->err) b->err = -EINVAL;
        return;
    }
    size_t iplen = a->family == AF_INET6 ? 16 : 4;
    uint8_t *p = reserve(b, type, 4 + iplen);
    if (!p) return;
    p[0] = 0;
    p[1] = a->family == AF_INET6 ? STUN_FAMILY_IPV6 : STUN_FAMILY_IPV4;
    uint16_t port = a->port;
    memcpy(p + 4, a->ip, iplen);
    if (xor) {
        port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
        for (size_t i = 0; i < iplen; i++)
            p[4 + i] ^= b->buf[4 + i]; /* cookie, then transaction id */
    }
    wr16(p + 2, port);
}

void stun_put_error(struct stun_builder *b, int code, const char *reason)
{
    if (code < 300 || code > 699) { /* §14.8: the class is 3..6 */
        if (!b->err) b->err = -EINVAL;
        return;
    }
    if (!reason) reason = stun_error_reason(code);
    size_t n = strlen(reason);
    if (n > 763) /* §14.8: fewer than 128 characters, at most 763 bytes */
        n = 763;
    uint8_t *p = reserve(b, STUN_ATTR_ERROR_CODE, 4 + n);
    if (!p) return;
    p[0] = 0;
    p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, n);
}

void stun_put_address_error(struct stun_builder *b, uint16_t af, int code)
{
    if (code < 300 || code > 699 || (af != AF_INET && af != AF_INET6)) {
        if (!b->err) b->err = -EINVAL;
        return;
    }
    const char *reason = stun_error_reason(code);
    size_t n = strlen(reason);
    uint8_t *p = reserve(b, STUN_ATTR_ADDRESS_ERROR_CODE, 4 + n);
    if (!p) return;
    p[0] = af == AF_INET ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6;
    p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, n);
}

void stun_put_unknown_attributes(struct stun_builder *b, const uint16_t *types, unsigned n)
{
    uint8_t *p = reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, (size_t)n * 2);
    for (unsigned i = 0; p && i < n; i++)
        wr16(p + 2 * (size_t)i, types[i]);
}

void stun_put_integrity(struct stun_builder *b, const uint8_t *key, size_t key_len)
{
    uint8_t *p = reserve(b, STUN_ATTR_MESSAGE_INTEGRITY, STUN_HMAC_SHA1_LEN);
    if (!p) return;
    /* The length field already counts this attribute, as §14.5 requires. */
    if (stun_hmac_sha1(key, key_len, b->buf, (size_t)(p - 4 - b->buf), p) != 0)
        b->err = -EIO; /* a zero MAC must never leave: finish() reports it */
}

void stun_put_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t key_len)
{
    uint8_t *p = reserve(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, STUN_HMAC_SHA256_LEN);
    if (!p) return;
    if (stun_hmac_sha256(key, key_len, b->buf, (size_t)(p - 4 - b->buf), p) != 0)
        b->err = -EIO;
}

void stun_put_fingerprint(struct stun_builder *b)
{
    uint8_t *p = reserve(b, STUN_ATTR_FINGERPRINT, 4);
    if (p) wr32(p, stun_crc32(b->buf, (size_t)(p - 4 - b->buf)) ^ 0x5354554eu);
}

int stun_build_finish(struct stun_builder *b, size_t *len)
{
    if (b->err) return b->err;
    *len = b->len;
    return 0;
}

const char *stun_error_reason(int code)
{
    switch (code) {
    case 300:
        return "Try Alternate";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 420:
        return "Unknown Attribute";
    case 437:
        return "Allocation Mismatch";
    case 438:
        return "Stale Nonce";
    case 440:
        return "Address Family not Supported";
    case 441:
        return "Wrong Credentials";
    case 442:
        return "Unsupported Transport Protocol";
    case 443:
        return "Peer Address Family Mismatch";
    case 446:
        return "Connection Already Exists";
    case 447:
        return "Connection Timeout or Failure";
    case 486:
        return "Allocation Quota Reached";
    case 500:
        return "Server Error";
    case 508:
        return "Insufficient Capacity";
    default:
        return "Error";
    }
}
