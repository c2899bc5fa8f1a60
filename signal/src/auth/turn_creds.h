/*
 * turn_creds.h - short-lived TURN credentials in the shared-secret scheme
 * that turnd (and every WebRTC stack) understands: username
 * "<unix-expiry>:<user id>", password base64(HMAC-SHA1(secret, username)).
 * turnd checks them without asking signald anything.
 */
#ifndef SIG_TURN_CREDS_H
#define SIG_TURN_CREDS_H

#include <stddef.h>
#include <stdint.h>

#define SIG_TURN_USERNAME_MAX 48
#define SIG_TURN_PASSWORD_MAX 32 /* base64 of 20 bytes is 28 */

/* 0, or -EINVAL (empty secret) / -EIO. */
int sig_turn_credentials(const char *secret, int64_t user_id, int64_t expires_unix,
                         char username[SIG_TURN_USERNAME_MAX],
                         char password[SIG_TURN_PASSWORD_MAX]);

#endif
