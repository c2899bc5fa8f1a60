/*
 * auth.c - the long-term credential mechanism (RFC 8489 §9.2) for turnd.
 *
 * Nonces are stateless: 8 hex digits of the server's monotonic time and 16 of
 * an HMAC over that time and the client's IP address, keyed by a random
 * per-process secret. A flood of unauthenticated requests therefore costs no
 * memory, a nonce is only good from the address it was given to, and it goes
 * stale after nonce_lifetime (438).
 *
 * Credentials come from static users (key precomputed at start) or from the
 * shared-secret scheme: username "<unix-expiry>:<user>", password
 * base64(HMAC-SHA1(secret, username)), refused once the expiry has passed.
 */
#include "internal.h"
#include "../util/log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void nonce_mac(const struct turn_core *c, uint32_t stamp, const struct stun_addr *client,
                      uint8_t mac[20])
{
    uint8_t data[4 + 2 + 16];
    data[0] = (uint8_t)(stamp >> 24);
    data[1] = (uint8_t)(stamp >> 16);
    data[2] = (uint8_t)(stamp >> 8);
    data[3] = (uint8_t)stamp;
    data[4] = (uint8_t)(client->family >> 8);
    data[5] = (uint8_t)client->family;
    memcpy(data + 6, client->ip, 16);
    unsigned int len = 20;
    HMAC(EVP_sha1(), c->nonce_key, sizeof(c->nonce_key), data, sizeof(data), mac, &len);
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

void turn_nonce_make(const struct turn_core *c, const struct stun_addr *client, uint64_t now_ms,
                     char out[TURN_NONCE_LEN + 1])
{
    uint32_t stamp = (uint32_t)(now_ms / 1000);
    uint8_t raw[4] = {(uint8_t)(stamp >> 24), (uint8_t)(stamp >> 16), (uint8_t)(stamp >> 8),
                      (uint8_t)stamp};
    uint8_t mac[20];
    nonce_mac(c, stamp, client, mac);
    hex(raw, 4, out);
    hex(mac, 8, out + 8);
    out[TURN_NONCE_LEN] = '\0';
}

static bool nonce_valid(const struct turn_core *c, const struct stun_attr *nonce,
                        const struct stun_addr *client, uint64_t now_ms)
{
    if (nonce->len != TURN_NONCE_LEN)
        return false;
    uint32_t stamp = 0;
    for (int i = 0; i < 8; i++) {
        char ch = (char)nonce->val[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return false;
        stamp = stamp << 4 | (uint32_t)v;
    }
    uint8_t mac[20];
    char expect[16];
    nonce_mac(c, stamp, client, mac);
    hex(mac, 8, expect);
    if (CRYPTO_memcmp(expect, nonce->val + 8, 16) != 0)
        return false;
    uint64_t now_s = now_ms / 1000;
    return stamp <= now_s && now_s - stamp < c->cfg->nonce_lifetime;
}

static const struct turn_user *static_user(const struct turn_core_config *cfg, const char *name)
{
    for (unsigned i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].name, name) == 0)
            return &cfg->users[i];
    return NULL;
}

/* Shared-secret credentials: 0 with the key, or a STUN error. */
static int secret_key(struct turn_core *c, const char *user, uint8_t key[STUN_LONG_TERM_KEY_LEN])
{
    const char *colon = strchr(user, ':');
    if (!c->cfg->secret || !colon || colon == user || colon - user > 20)
        return STUN_ERR_UNAUTHORIZED;
    uint64_t expiry = 0;
    for (const char *p = user; p < colon; p++) {
        if (*p < '0' || *p > '9')
            return STUN_ERR_UNAUTHORIZED;
        expiry = expiry * 10 + (uint64_t)(*p - '0');
    }
    if (expiry < c->env.wall_clock(c->env.ctx)) {
        char who[128];
        lt_log(LT_LOG_INFO, "auth", "credential_expired", "user=%s",
               lt_log_token(user, who, sizeof(who)));
        return STUN_ERR_UNAUTHORIZED;
    }
    uint8_t mac[20];
    unsigned int mac_len = sizeof(mac);
    const char *secret = c->cfg->secret;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)user, strlen(user), mac,
              &mac_len))
        return STUN_ERR_SERVER_ERROR;
    char password[32];
    EVP_EncodeBlock((unsigned char *)password, mac, (int)mac_len);
    stun_long_term_key(user, c->cfg->realm, password, key);
    OPENSSL_cleanse(password, sizeof(password));
    return 0;
}

static bool attr_equals(const struct stun_attr *a, const char *s)
{
    size_t n = strlen(s);
    return a->len == n && memcmp(a->val, s, n) == 0;
}

void turn_auth_check(struct turn_core *c, const struct stun_msg *m, const struct stun_addr *client,
                     uint64_t now_ms, struct turn_auth *out)
{
    out->error = 0;
    out->user[0] = '\0';
    if (m->integrity < 0) {
        /* §9.2.4: no MESSAGE-INTEGRITY -> 401 with REALM and NONCE, the normal first round. */
        out->error = STUN_ERR_UNAUTHORIZED;
        return;
    }
    const struct stun_attr *user = stun_find(m, STUN_ATTR_USERNAME);
    const struct stun_attr *realm = stun_find(m, STUN_ATTR_REALM);
    const struct stun_attr *nonce = stun_find(m, STUN_ATTR_NONCE);
    if (!user || !realm || !nonce || user->len == 0 || user->len >= sizeof(out->user) ||
        memchr(user->val, '\0', user->len)) {
        out->error = STUN_ERR_BAD_REQUEST;
        return;
    }
    memcpy(out->user, user->val, user->len);
    out->user[user->len] = '\0';
    if (!nonce_valid(c, nonce, client, now_ms)) {
        out->error = STUN_ERR_STALE_NONCE;
        return;
    }
    if (!attr_equals(realm, c->cfg->realm)) {
        out->error = STUN_ERR_UNAUTHORIZED;
        c->stats.auth_failures++;
        return;
    }
    const struct turn_user *u = static_user(c->cfg, out->user);
    if (u) {
        memcpy(out->key, u->key, sizeof(out->key));
    } else {
        out->error = secret_key(c, out->user, out->key);
        if (out->error) {
            c->stats.auth_failures++;
            return;
        }
    }
    if (!stun_check_integrity(m, out->key, sizeof(out->key))) {
        out->error = STUN_ERR_UNAUTHORIZED;
        c->stats.auth_failures++;
        char who[64], name[128];
        stun_addr_format(client, true, who, sizeof(who));
        lt_log(LT_LOG_INFO, "auth", "bad_credentials", "user=%s client=%s",
               lt_log_token(out->user, name, sizeof(name)), who);
    }
}
