/*
 * util.c - the clock, text validation and hashing helpers the storage files
 * share.
 */
#include "internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <time.h>

int64_t sto_now(struct sto_db *db)
{
    if (db->now_ms) return db->now_ms(db->now_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sto_set_clock(struct sto_db *db, int64_t (*now_ms)(void *ctx), void *ctx)
{
    db->now_ms = now_ms;
    db->now_ctx = ctx;
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0 if it is not valid. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80) return c ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf) return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80) return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
        return 4;
    }
    return 0;
}

bool sto_utf8_valid(const char *s, size_t max_bytes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    while (*p) {
        size_t n = utf8_seq(p); /* stops at the NUL: continuation checks fail on it */
        if (!n) return false;
        p += n;
        used += n;
        if (max_bytes && used > max_bytes) return false;
    }
    return true;
}

bool sto_name_valid(const char *s, size_t max_bytes)
{
    if (!s || !*s || !sto_utf8_valid(s, max_bytes)) return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

size_t sto_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) n++;
    return n;
}

void sto_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int sto_sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) || len != 32) return -EIO;
    return 0;
}
