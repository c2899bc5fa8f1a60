/*
 * turnc.c - the console's TURN client messages (see turnc.h). The first
 * Allocate goes without credentials; turnd's 401 names the realm and a nonce,
 * and every later request carries USERNAME, REALM, NONCE and
 * MESSAGE-INTEGRITY (RFC 8489 §9.2, MD5 long-term key).
 */
#include "turnc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TRANSPORT_UDP (17u << 24) /* REQUESTED-TRANSPORT: protocol, then RFFU */

int con_turnc_credential(struct con_turnc *t, const char *secret, uint64_t expiry,
                         const char *name)
{
    uint8_t mac[20];
    unsigned mac_len = sizeof mac;
    snprintf(t->user, sizeof t->user, "%llu:%s", (unsigned long long)expiry, name);
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)t->user, strlen(t->user),
              mac, &mac_len))
        return -EIO;
    EVP_EncodeBlock((unsigned char *)t->pass, mac, (int)mac_len); /* 28 chars */
    OPENSSL_cleanse(mac, sizeof mac);
    t->have_key = false;
    return 0;
}

static void start(struct con_turnc *t, struct stun_builder *b, uint16_t method,
                  enum stun_class cls, const uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t cap)
{
    stun_build_init(b, buf, cap, method, cls, tid);
    if (cls == STUN_REQUEST) {
        memcpy(t->tid, tid, STUN_TID_LEN);
        t->method = method;
    }
}

/* The credentials and integrity, once a challenge told us realm and nonce. */
static int finish(const struct con_turnc *t, struct stun_builder *b, size_t *len)
{
    if (t->have_key) {
        stun_put_str(b, STUN_ATTR_USERNAME, t->user);
        stun_put_str(b, STUN_ATTR_REALM, t->realm);
        stun_put_str(b, STUN_ATTR_NONCE, t->nonce);
        stun_put_integrity(b, t->key, sizeof t->key);
    }
    stun_put_fingerprint(b);
    return stun_build_finish(b, len);
}

int con_turnc_allocate(struct con_turnc *t, const uint8_t tid[STUN_TID_LEN], uint8_t *buf,
                       size_t cap, size_t *len)
{
    struct stun_builder b;
    start(t, &b, TURN_ALLOCATE, STUN_REQUEST, tid, buf, cap);
    stun_put_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, TRANSPORT_UDP);
    return finish(t, &b, len);
}

int con_turnc_permission(struct con_turnc *t, const uint8_t tid[STUN_TID_LEN],
                         const struct stun_addr *peer, uint8_t *buf, size_t cap, size_t *len)
{
    struct stun_builder b;
    start(t, &b, TURN_CREATE_PERMISSION, STUN_REQUEST, tid, buf, cap);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer, true);
    return finish(t, &b, len);
}

int con_turnc_refresh(struct con_turnc *t, const uint8_t tid[STUN_TID_LEN], uint32_t lifetime,
                      uint8_t *buf, size_t cap, size_t *len)
{
    struct stun_builder b;
    start(t, &b, TURN_REFRESH, STUN_REQUEST, tid, buf, cap);
    stun_put_u32(&b, STUN_ATTR_LIFETIME, lifetime);
    return finish(t, &b, len);
}

int con_turnc_send(const struct con_turnc *t, const uint8_t tid[STUN_TID_LEN],
                   const struct stun_addr *peer, const void *data, size_t dlen, uint8_t *buf,
                   size_t cap, size_t *len)
{
    (void)t; /* RFC 8656 §11.1: indications carry no integrity */
    struct stun_builder b;
    stun_build_init(&b, buf, cap, TURN_SEND, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer, true);
    stun_put_attr(&b, STUN_ATTR_DATA, data, dlen);
    stun_put_fingerprint(&b);
    return stun_build_finish(&b, len);
}

static void copy_attr(const struct stun_attr *a, char *out, size_t cap)
{
    size_t n = a->len < cap - 1 ? a->len : cap - 1;
    memcpy(out, a->val, n);
    out[n] = '\0';
}

enum con_turnc_answer con_turnc_answer(struct con_turnc *t, const uint8_t *pkt, size_t n,
                                       int *code, char *reason, size_t cap)
{
    struct stun_msg m;
    if (stun_parse(&m, pkt, n) != 0 || !m.has_cookie || m.method != t->method ||
        memcmp(m.tid, t->tid, STUN_TID_LEN) != 0 ||
        (m.cls != STUN_SUCCESS && m.cls != STUN_ERROR))
        return CON_TURNC_NOT_OURS;
    /* §9.2.5: an answer to an authenticated request must prove it knows the
     * key too (401 excepted: it is the answer to wrong credentials) */
    const struct stun_attr *err = stun_find(&m, STUN_ATTR_ERROR_CODE);
    int ec = 0;
    const char *why = "";
    size_t why_len = 0;
    if (m.cls == STUN_ERROR && (!err || stun_attr_get_error(err, &ec, &why, &why_len) != 0)) {
        ec = 500;
        why = "malformed error response";
        why_len = strlen(why);
    }
    if (t->have_key && ec != STUN_ERR_UNAUTHORIZED && ec != STUN_ERR_STALE_NONCE &&
        !stun_check_integrity(&m, t->key, sizeof t->key)) {
        *code = 0;
        snprintf(reason, cap, "the answer's MESSAGE-INTEGRITY does not match our key");
        return CON_TURNC_REFUSED;
    }
    if (m.cls == STUN_SUCCESS) {
        const struct stun_attr *a;
        if ((a = stun_find(&m, STUN_ATTR_XOR_RELAYED_ADDRESS)))
            stun_attr_get_addr(&m, a, true, &t->relayed);
        if ((a = stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS)))
            stun_attr_get_addr(&m, a, true, &t->mapped);
        if ((a = stun_find(&m, STUN_ATTR_LIFETIME)))
            stun_attr_get_u32(a, &t->lifetime);
        if (t->method == TURN_ALLOCATE && t->relayed.family == 0) {
            *code = 0;
            snprintf(reason, cap, "the Allocate success carries no XOR-RELAYED-ADDRESS");
            return CON_TURNC_REFUSED;
        }
        return CON_TURNC_DONE;
    }
    const struct stun_attr *realm = stun_find(&m, STUN_ATTR_REALM);
    const struct stun_attr *nonce = stun_find(&m, STUN_ATTR_NONCE);
    /* a first 401, or a 438 (the nonce went stale): learn and go again; a
     * 401 to credentials already sent means they are wrong */
    bool first = ec == STUN_ERR_UNAUTHORIZED && !t->have_key;
    if ((first || ec == STUN_ERR_STALE_NONCE) && realm && nonce) {
        copy_attr(realm, t->realm, sizeof t->realm);
        copy_attr(nonce, t->nonce, sizeof t->nonce);
        stun_long_term_key(t->user, t->realm, t->pass, t->key);
        t->have_key = true;
        return CON_TURNC_CHALLENGE;
    }
    *code = ec;
    snprintf(reason, cap, "%.*s", (int)why_len, why);
    return CON_TURNC_REFUSED;
}

int con_turnc_data(const uint8_t *pkt, size_t n, struct stun_addr *peer, const uint8_t **data,
                   size_t *dlen)
{
    struct stun_msg m;
    if (stun_parse(&m, pkt, n) != 0 || m.method != TURN_DATA || m.cls != STUN_INDICATION)
        return -EBADMSG;
    const struct stun_attr *p = stun_find(&m, STUN_ATTR_XOR_PEER_ADDRESS);
    const struct stun_attr *d = stun_find(&m, STUN_ATTR_DATA);
    if (!p || !d || stun_attr_get_addr(&m, p, true, peer) != 0)
        return -EBADMSG;
    *data = d->val;
    *dlen = d->len;
    return 0;
}
