/*
 * turn_creds.c - shared-secret TURN credentials (see turn_creds.h).
 */
#include "turn_creds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int sig_turn_credentials(const char *secret, int64_t user_id, int64_t expires_unix,
                         char username[SIG_TURN_USERNAME_MAX],
                         char password[SIG_TURN_PASSWORD_MAX])
{
    if (!secret || !*secret || user_id <= 0 || expires_unix <= 0)
        return -EINVAL;
    int n = snprintf(username, SIG_TURN_USERNAME_MAX, "%" PRId64 ":%" PRId64, expires_unix,
                     user_id);
    if (n < 0 || n >= SIG_TURN_USERNAME_MAX)
        return -EINVAL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)username, (size_t)n, mac,
              &mac_len))
        return -EIO;
    if (EVP_EncodeBlock((unsigned char *)password, mac, (int)mac_len) >= SIG_TURN_PASSWORD_MAX)
        return -EIO;
    return 0;
}
