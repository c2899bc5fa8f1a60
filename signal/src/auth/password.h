/*
 * password.h - password verifiers with scrypt (RFC 7914) through OpenSSL 3's
 * EVP_KDF, a fresh random salt per password. The cost parameters are stored
 * with each verifier ("scrypt:N=32768,r=8,p=1"), so raising the default later
 * keeps old passwords working; sig_password_needs_rehash() tells when a
 * successful login should store a stronger verifier.
 */
#ifndef SIG_PASSWORD_H
#define SIG_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_PASSWORD_HASH_LEN 32
#define SIG_PASSWORD_SALT_LEN 16
#define SIG_PASSWORD_PARAMS_MAX 64
#define SIG_PASSWORD_MIN_LEN 8
#define SIG_PASSWORD_MAX_LEN 1024

struct sig_kdf {
    uint64_t n; /* CPU/memory cost, a power of two: 128 * r * n bytes of memory */
    uint32_t r;
    uint32_t p;
};

/* N=2^15, r=8, p=1: 32 MiB and roughly 100 ms per login on one core. */
#define SIG_KDF_DEFAULT_N 32768
#define SIG_KDF_MIN_N 16384 /* the floor any configuration may choose */

struct sig_password_hash {
    uint8_t hash[SIG_PASSWORD_HASH_LEN];
    uint8_t salt[SIG_PASSWORD_SALT_LEN];
    char params[SIG_PASSWORD_PARAMS_MAX];
};

void sig_kdf_defaults(struct sig_kdf *kdf);
/* -EINVAL unless n is a power of two >= SIG_KDF_MIN_N and r, p are sane. */
int sig_kdf_check(const struct sig_kdf *kdf);

/* Whether a password is acceptable as a new password: -EINVAL with a reason
 * in *why (static text) when it is too short, too long or not UTF-8. */
int sig_password_acceptable(const char *password, const char **why);

/* A new verifier for password. 0, -EINVAL (bad kdf), -ENOMEM or -EIO. */
int sig_password_hash(const char *password, const struct sig_kdf *kdf,
                      struct sig_password_hash *out);

/* 0 when password matches; -EACCES when it does not; -EINVAL when the stored
 * verifier is unreadable. The comparison takes the same time either way. */
int sig_password_verify(const char *password, const uint8_t *hash, size_t hash_len,
                        const uint8_t *salt, size_t salt_len, const char *params);

/* true when params are weaker than kdf. */
bool sig_password_needs_rehash(const char *params, const struct sig_kdf *kdf);

#endif
