/*
 * msg.c - recognising and parsing STUN messages (RFC 8489 §5, §14).
 *
 * One pass validates the header and every attribute's bounds and records
 * where each attribute is; getters in attr.c then decode values on demand.
 * Every read is bounds-checked first; anything malformed is -EBADMSG.
 */
#include "stun.h"

#include <errno.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool stun_looks_like_stun(const uint8_t *buf, size_t len)
{
    if (len < STUN_HEADER_LEN || (buf[0] & 0xc0) != 0) return false;
    size_t body = rd16(buf + 2);
    return (body & 3) == 0 && STUN_HEADER_LEN + body <= len && rd32(buf + 4) == STUN_MAGIC_COOKIE;
}

/* RFC 8489 §5: the method's 12 bits are interleaved with the 2 class bits. */
static void split_type(uint16_t type, uint16_t *method, enum stun_class *cls)
{
    *method = (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
    *cls = (enum stun_class)(((type & 0x0010) >> 4) | ((type & 0x0100) >> 7));
}

static bool integrity_len_ok(uint16_t type, uint16_t len)
{
    if (type == STUN_ATTR_MESSAGE_INTEGRITY) return len == STUN_HMAC_SHA1_LEN;
    if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        return len >= 16 && len <= 32 && (len & 3) == 0; /* §14.6 */
    return true;
}

int stun_parse(struct stun_msg *m, const uint8_t *buf, size_t len)
{
    if (len < STUN_HEADER_LEN || (buf[0] & 0xc0) != 0) return -EBADMSG;
    size_t body = rd16(buf + 2);
    if ((body & 3) != 0 || STUN_HEADER_LEN + body != len) return -EBADMSG;
    m->buf = buf;
    m->len = len;
    split_type(rd16(buf), &m->method, &m->cls);
    m->has_cookie = rd32(buf + 4) == STUN_MAGIC_COOKIE;
    memcpy(m->tid, buf + 8, STUN_TID_LEN);
    m->has_fingerprint = false;
    m->n_attrs = 0;
    m->integrity = -1;
    m->integrity_sha256 = -1;

    /* §14.5, §14.6: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
     * FINGERPRINT count; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT. */
    bool after_sha1 = false, after_sha256 = false;
    size_t off = STUN_HEADER_LEN;
    while (off < len) {
        if (len - off < 4) return -EBADMSG;
        uint16_t type = rd16(buf + off), alen = rd16(buf + off + 2);
        size_t padded = ((size_t)alen + 3) & ~(size_t)3;
        if (padded > len - off - 4) return -EBADMSG;
        if (m->has_fingerprint) return -EBADMSG; /* §14.7: FINGERPRINT is last */
        if (type == STUN_ATTR_FINGERPRINT) {
            if (alen != 4 || off + 8 != len) return -EBADMSG;
            uint32_t want = stun_crc32(buf, off) ^ 0x5354554eu;
            if (rd32(buf + off + 4) != want) return -EBADMSG;
            m->has_fingerprint = true;
        } else if (!integrity_len_ok(type, alen)) {
            return -EBADMSG;
        } else if (!after_sha256 && (!after_sha1 || type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)) {
            if (m->n_attrs >= STUN_MAX_ATTRS) return -EBADMSG;
            struct stun_attr *a = &m->attrs[m->n_attrs];
            a->type = type;
            a->len = alen;
            a->offset = (uint32_t)off;
            a->val = buf + off + 4;
            if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
                m->integrity = (int)m->n_attrs;
                after_sha1 = true;
            } else if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
                m->integrity_sha256 = (int)m->n_attrs;
                after_sha256 = true;
            }
            m->n_attrs++;
        }
        off += 4 + padded;
    }
    return 0;
}

const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type)
{
    for (unsigned i = 0; i < m->n_attrs; i++)
        if (m->attrs[i].type == type) return &m->attrs[i];
    return NULL;
}

unsigned stun_unknown_required(const struct stun_msg *m, const uint16_t *known, unsigned n_known,
                               uint16_t *out, unsigned max)
{
    unsigned count = 0;
    for (unsigned i = 0; i < m->n_attrs; i++) {
        uint16_t type = m->attrs[i].type;
        /* §14: 0x8000-0xFFFF are comprehension-optional; the codec itself
         * handles MESSAGE-INTEGRITY (and FINGERPRINT, never recorded). */
        if (type >= 0x8000 || type == STUN_ATTR_MESSAGE_INTEGRITY) continue;
        bool found = false;
        for (unsigned k = 0; k < n_known && !found; k++)
            found = known[k] == type;
        if (found) continue;
        if (count < max) out[count] = type;
        count++;
    }
    return count;
}
