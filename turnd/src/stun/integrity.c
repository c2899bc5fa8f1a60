/*
 * integrity.c - MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5), the long-term
 * credential key (§9.2.2) and the CRC-32 behind FINGERPRINT (§14.7).
 */
#include "stun.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

int stun_hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                   uint8_t out[STUN_HMAC_SHA1_LEN])
{
    unsigned int out_len = STUN_HMAC_SHA1_LEN;
    return HMAC(EVP_sha1(), key, (int)key_len, data, len, out, &out_len) ? 0 : -1;
}

void stun_long_term_key(const char *username, const char *realm, const char *password,
                        uint8_t key[STUN_LONG_TERM_KEY_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = STUN_LONG_TERM_KEY_LEN;
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ||
        !EVP_DigestUpdate(ctx, username, strlen(username)) || !EVP_DigestUpdate(ctx, ":", 1) ||
        !EVP_DigestUpdate(ctx, realm, strlen(realm)) || !EVP_DigestUpdate(ctx, ":", 1) ||
        !EVP_DigestUpdate(ctx, password, strlen(password)) || !EVP_DigestFinal_ex(ctx, key, &n))
        memset(key, 0, STUN_LONG_TERM_KEY_LEN); /* matches nothing a client can send */
    EVP_MD_CTX_free(ctx);
}

bool stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len)
{
    if (m->integrity < 0)
        return false;
    const struct stun_attr *mi = &m->attrs[m->integrity];
    size_t covered = mi->offset; /* header + attributes before MI */
    /* §14.5: the length field must count up to and including MI. */
    uint8_t header[STUN_HEADER_LEN];
    memcpy(header, m->buf, STUN_HEADER_LEN);
    size_t adjusted = covered + 4 + STUN_HMAC_SHA1_LEN - STUN_HEADER_LEN;
    header[2] = (uint8_t)(adjusted >> 8);
    header[3] = (uint8_t)adjusted;

    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    bool ok = false;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA1", 0),
                           OSSL_PARAM_construct_end()};
    if (ctx && EVP_MAC_init(ctx, key, key_len, params) &&
        EVP_MAC_update(ctx, header, sizeof(header)) &&
        EVP_MAC_update(ctx, m->buf + STUN_HEADER_LEN, covered - STUN_HEADER_LEN) &&
        EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)))
        ok = mac_len == STUN_HMAC_SHA1_LEN && CRYPTO_memcmp(mac, mi->val, mac_len) == 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    return ok;
}

static uint32_t crc_table[256];
static bool crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = true;
}

uint32_t stun_crc32(const uint8_t *buf, size_t len)
{
    if (!crc_ready)
        crc_init();
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        c = crc_table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}
