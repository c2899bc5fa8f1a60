/*
 * password.c - scrypt password verifiers (see password.h).
 */
#include "password.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define MAX_N (1u << 20)

void sig_kdf_defaults(struct sig_kdf *kdf)
{
    kdf->n = SIG_KDF_DEFAULT_N;
    kdf->r = 8;
    kdf->p = 1;
}

int sig_kdf_check(const struct sig_kdf *kdf)
{
    if (kdf->n < SIG_KDF_MIN_N || kdf->n > MAX_N || (kdf->n & (kdf->n - 1)) != 0)
        return -EINVAL;
    if (kdf->r < 1 || kdf->r > 32 || kdf->p < 1 || kdf->p > 16)
        return -EINVAL;
    return 0;
}

static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, n;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3;
        else
            return false;
        for (unsigned i = 1; i <= n; i++)
            if ((s[i] & 0xC0) != 0x80)
                return false;
        s += n + 1;
    }
    return true;
}

int sig_password_acceptable(const char *password, const char **why)
{
    size_t len = strlen(password);
    if (len < SIG_PASSWORD_MIN_LEN) {
        *why = "password must be at least 8 characters";
        return -EINVAL;
    }
    if (len > SIG_PASSWORD_MAX_LEN) {
        *why = "password must be at most 1024 bytes";
        return -EINVAL;
    }
    if (!utf8_valid((const unsigned char *)password)) {
        *why = "password must be UTF-8 text";
        return -EINVAL;
    }
    return 0;
}

static int derive(const char *password, const uint8_t *salt, size_t salt_len,
                  const struct sig_kdf *kdf, uint8_t *out, size_t out_len)
{
    EVP_KDF *alg = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SCRYPT, NULL);
    if (!alg)
        return -EIO;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(alg);
    EVP_KDF_free(alg);
    if (!ctx)
        return -ENOMEM;
    uint64_t n = kdf->n;
    uint32_t r = kdf->r, p = kdf->p;
    /* The memory scrypt needs, plus slack: OpenSSL refuses anything above
     * maxmem, and its default is lower than N=2^15, r=8 needs. */
    uint64_t maxmem = 128ull * r * n * 2 + (1u << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password,
                                          strlen(password)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    int rc = EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : -EIO;
    EVP_KDF_CTX_free(ctx);
    return rc;
}

static int params_format(const struct sig_kdf *kdf, char *out, size_t cap)
{
    int n = snprintf(out, cap, "scrypt:N=%" PRIu64 ",r=%u,p=%u", kdf->n, kdf->r, kdf->p);
    return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

static int params_parse(const char *s, struct sig_kdf *kdf)
{
    unsigned long long n;
    unsigned r, p;
    int end = 0;
    if (!s || sscanf(s, "scrypt:N=%llu,r=%u,p=%u%n", &n, &r, &p, &end) != 3 || s[end] != '\0')
        return -EINVAL;
    kdf->n = n;
    kdf->r = r;
    kdf->p = p;
    /* Verifiers made with a lower floor (tests) still verify; only the upper
     * bounds protect the server from a planted verifier that costs gigabytes. */
    if (n < 2 || n > MAX_N || (n & (n - 1)) != 0 || r < 1 || r > 32 || p < 1 || p > 16)
        return -EINVAL;
    return 0;
}

int sig_password_hash(const char *password, const struct sig_kdf *kdf,
                      struct sig_password_hash *out)
{
    if (sig_kdf_check(kdf) != 0)
        return -EINVAL;
    if (RAND_bytes(out->salt, sizeof out->salt) != 1)
        return -EIO;
    int rc = params_format(kdf, out->params, sizeof out->params);
    if (rc == 0)
        rc = derive(password, out->salt, sizeof out->salt, kdf, out->hash, sizeof out->hash);
    return rc;
}

int sig_password_verify(const char *password, const uint8_t *hash, size_t hash_len,
                        const uint8_t *salt, size_t salt_len, const char *params)
{
    struct sig_kdf kdf;
    uint8_t got[SIG_PASSWORD_HASH_LEN];
    if (params_parse(params, &kdf) != 0 || hash_len != sizeof got || salt_len == 0)
        return -EINVAL;
    int rc = derive(password, salt, salt_len, &kdf, got, sizeof got);
    if (rc != 0)
        return rc;
    rc = CRYPTO_memcmp(got, hash, sizeof got) == 0 ? 0 : -EACCES;
    OPENSSL_cleanse(got, sizeof got);
    return rc;
}

bool sig_password_needs_rehash(const char *params, const struct sig_kdf *kdf)
{
    struct sig_kdf have;
    if (params_parse(params, &have) != 0)
        return true;
    return have.n < kdf->n || have.r < kdf->r || have.p < kdf->p;
}
