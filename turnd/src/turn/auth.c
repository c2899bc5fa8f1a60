/*
 * auth.c - the long-term credential mechanism (RFC 8489 §9.2) for turnd.
 *
 * Nonces are stateless: the §9.2 nonce cookie "obMatJos2" and four base64
 * characters of security feature bits, then 8 hex digits of the server's
 * monotonic time and 16 of an HMAC over that time and the client's IP
 * address, keyed by a random per-process secret. A flood of unauthenticated
 * requests therefore costs no memory, a nonce is only good from the address
 * it was given to, and it goes stale after nonce_lifetime (438).
 *
 * The feature bits always announce password algorithms: 401s carry
 * PASSWORD-ALGORITHMS (SHA-256, MD5), and a client may pick SHA-256 keys and
 * MESSAGE-INTEGRITY-SHA256. A client that ignores all that (RFC 5389 stacks:
 * browsers, coturn's tools) sends neither PASSWORD-ALGORITHM(S) attribute
 * and gets MD5 keys and MESSAGE-INTEGRITY exactly as before (§9.2.4).
 * Username anonymity (USERHASH) is announced only when every user is a
 * static one: a shared-secret username cannot be found from its hash.
 *
 * Credentials come from static users (keys and user hash precomputed at
 * start) or from the shared-secret scheme: username "<unix-expiry>:<user>",
 * password base64(HMAC-SHA1(secret, username)), refused once the expiry has
 * passed.
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

/* §9.2: 24 feature bits, bit 0 the most significant, as 4 base64 digits:
 * 0x800000 (password algorithms) is "gAAA", 0xC00000 (and username
 * anonymity) "wAAA". */
static const char *nonce_features(const struct turn_core *c)
{
    return turn_userhash_offered(c->cfg) ? "wAAA" : "gAAA";
}

bool turn_userhash_offered(const struct turn_core_config *cfg)
{
    return cfg->n_users > 0 && !cfg->secret;
}

/* PASSWORD-ALGORITHMS as we send it (§14.11): SHA-256 first, then MD5, each
 * with no parameters. A request must echo these bytes exactly. */
const uint8_t turn_password_algorithms[8] = {0, STUN_PASSWORD_SHA256, 0, 0,
                                             0, STUN_PASSWORD_MD5,    0, 0};

void turn_nonce_make(const struct turn_core *c, const struct stun_addr *client, uint64_t now_ms,
                     char out[TURN_NONCE_LEN + 1])
{
    uint32_t stamp = (uint32_t)(now_ms / 1000);
    uint8_t raw[4] = {(uint8_t)(stamp >> 24), (uint8_t)(stamp >> 16), (uint8_t)(stamp >> 8),
                      (uint8_t)stamp};
    uint8_t mac[20];
    nonce_mac(c, stamp, client, mac);
    memcpy(out, TURN_NONCE_COOKIE, TURN_NONCE_PREFIX_LEN - 4);
    memcpy(out + TURN_NONCE_PREFIX_LEN - 4, nonce_features(c), 4);
    hex(raw, 4, out + TURN_NONCE_PREFIX_LEN);
    hex(mac, 8, out + TURN_NONCE_PREFIX_LEN + 8);
    out[TURN_NONCE_LEN] = '\0';
}

static bool nonce_valid(const struct turn_core *c, const struct stun_attr *attr,
                        const struct stun_addr *client, uint64_t now_ms)
{
    if (attr->len != TURN_NONCE_LEN || memcmp(attr->val, TURN_NONCE_COOKIE, 9) != 0 ||
        memcmp(attr->val + 9, nonce_features(c), 4) != 0)
        return false;
    const uint8_t *nonce = attr->val + TURN_NONCE_PREFIX_LEN;
    uint32_t stamp = 0;
    for (int i = 0; i < 8; i++) {
        char ch = (char)nonce[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return false;
        stamp = stamp << 4 | (uint32_t)v;
    }
    uint8_t mac[20];
    char expect[16];
    nonce_mac(c, stamp, client, mac);
    hex(mac, 8, expect);
    if (CRYPTO_memcmp(expect, nonce + 8, 16) != 0)
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
static int secret_key(struct turn_core *c, const char *user, uint16_t alg, uint8_t key[STUN_KEY_MAX],
                      size_t *key_len)
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
    *key_len = stun_password_key(alg, user, c->cfg->realm, password, key);
    OPENSSL_cleanse(password, sizeof(password));
    return *key_len ? 0 : STUN_ERR_SERVER_ERROR;
}

static bool attr_equals(const struct stun_attr *a, const char *s)
{
    size_t n = strlen(s);
    return a->len == n && memcmp(a->val, s, n) == 0;
}

static const struct turn_user *userhash_user(const struct turn_core_config *cfg,
                                             const struct stun_attr *hash)
{
    if (hash->len != STUN_USERHASH_LEN)
        return NULL;
    for (unsigned i = 0; i < cfg->n_users; i++)
        if (CRYPTO_memcmp(cfg->users[i].userhash, hash->val, STUN_USERHASH_LEN) == 0)
            return &cfg->users[i];
    return NULL;
}

/* §9.2.4, for a nonce with the password algorithms bit: no
 * PASSWORD-ALGORITHM(S) means MD5; otherwise both must be there, the list
 * must be the one we sent and the choice one of its entries. 0 or 400. */
static int password_algorithm(const struct stun_msg *m, uint16_t *alg)
{
    const struct stun_attr *list = stun_find(m, STUN_ATTR_PASSWORD_ALGORITHMS);
    const struct stun_attr *pick = stun_find(m, STUN_ATTR_PASSWORD_ALGORITHM);
    *alg = STUN_PASSWORD_MD5;
    if (!list && !pick)
        return 0;
    if (!list || !pick || list->len != sizeof(turn_password_algorithms) ||
        memcmp(list->val, turn_password_algorithms, sizeof(turn_password_algorithms)) != 0 ||
        pick->len != 4 || pick->val[2] != 0 || pick->val[3] != 0)
        return STUN_ERR_BAD_REQUEST;
    *alg = (uint16_t)(pick->val[0] << 8 | pick->val[1]);
    return *alg == STUN_PASSWORD_MD5 || *alg == STUN_PASSWORD_SHA256 ? 0 : STUN_ERR_BAD_REQUEST;
}

static void bad_credentials(struct turn_core *c, const struct stun_addr *client,
                            struct turn_auth *out)
{
    out->error = STUN_ERR_UNAUTHORIZED;
    out->failed = true;
    c->stats.auth_failures++;
    char who[64], name[128];
    stun_addr_format(client, true, who, sizeof(who));
    lt_log(LT_LOG_INFO, "auth", "bad_credentials", "user=%s client=%s",
           out->user[0] ? lt_log_token(out->user, name, sizeof(name)) : "<userhash>", who);
}

void turn_auth_check(struct turn_core *c, const struct stun_msg *m, const struct stun_addr *client,
                     uint64_t now_ms, struct turn_auth *out)
{
    out->error = 0;
    out->failed = false;
    out->user[0] = '\0';
    out->key_len = 0;
    out->sha256 = m->integrity_sha256 >= 0;
    if (m->integrity < 0 && m->integrity_sha256 < 0) {
        /* §9.2.4: no MESSAGE-INTEGRITY(-SHA256) -> 401 with REALM and NONCE,
         * the normal first round. */
        out->error = STUN_ERR_UNAUTHORIZED;
        return;
    }
    const struct stun_attr *user = stun_find(m, STUN_ATTR_USERNAME);
    const struct stun_attr *hash = user ? NULL : stun_find(m, STUN_ATTR_USERHASH);
    const struct stun_attr *realm = stun_find(m, STUN_ATTR_REALM);
    const struct stun_attr *nonce = stun_find(m, STUN_ATTR_NONCE);
    if ((!user && !hash) || !realm || !nonce ||
        (user && (user->len == 0 || user->len >= sizeof(out->user) ||
                  memchr(user->val, '\0', user->len)))) {
        out->error = STUN_ERR_BAD_REQUEST;
        return;
    }
    if (user) {
        memcpy(out->user, user->val, user->len);
        out->user[user->len] = '\0';
    }
    if (!nonce_valid(c, nonce, client, now_ms)) {
        out->error = STUN_ERR_STALE_NONCE;
        return;
    }
    uint16_t alg;
    out->error = password_algorithm(m, &alg);
    if (out->error)
        return;
    if (!attr_equals(realm, c->cfg->realm)) {
        bad_credentials(c, client, out);
        return;
    }
    const struct turn_user *u = user ? static_user(c->cfg, out->user) : userhash_user(c->cfg, hash);
    if (u) {
        if (!user)
            snprintf(out->user, sizeof(out->user), "%s", u->name);
        bool sha = alg == STUN_PASSWORD_SHA256;
        out->key_len = sha ? STUN_KEY_MAX : STUN_LONG_TERM_KEY_LEN;
        memcpy(out->key, sha ? u->key_sha256 : u->key, out->key_len);
    } else {
        int err = user ? secret_key(c, out->user, alg, out->key, &out->key_len)
                       : STUN_ERR_UNAUTHORIZED;
        if (err == STUN_ERR_UNAUTHORIZED)
            bad_credentials(c, client, out);
        if (err) {
            out->error = err;
            return;
        }
    }
    bool ok = out->sha256 ? stun_check_integrity_sha256(m, out->key, out->key_len)
                          : stun_check_integrity(m, out->key, out->key_len);
    if (!ok)
        bad_credentials(c, client, out);
}
