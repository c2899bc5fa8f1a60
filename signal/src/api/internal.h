/*
 * internal.h - what api.c (routes) and passwords.c (the routes that derive a
 * password) share. Not for outside use.
 */
#ifndef SIG_API_INTERNAL_H
#define SIG_API_INTERNAL_H

#include "api.h"

#include <jansson.h>

#include "../auth/kdf_pool.h"
#include "lanturn/storage.h"

struct password_call;

struct sig_api {
    const struct sig_api_config *cfg;
    struct sto_db *db;
    struct sig_hub *hub;
    struct sig_limiter *limiter;
    struct sig_password_hash dummy; /* verified against when the name is unknown */
    struct sig_kdf_pool *pool;      /* NULL: derive on the caller's thread */
    struct password_call *calls;    /* in the pool, for the per-name check */
};

void reply_json(struct sig_http_reply *out, int status, json_t *body);
json_t *user_json(const struct sto_user *u);
/* A string member without embedded NULs, or NULL. */
const char *str_field(json_t *o, const char *k);

/* passwords.c. Each answers at once (0, out filled) or later through waiter
 * (SIG_API_PENDING); waiter NULL: always at once. */
int api_login(struct sig_api *a, json_t *req, const char *addr, const char *ua, int64_t now,
              struct sig_api_waiter *waiter, struct sig_http_reply *out);
int api_change_password(struct sig_api *a, json_t *req, int64_t uid, int64_t sid,
                        const char *addr, int64_t now, struct sig_api_waiter *waiter,
                        struct sig_http_reply *out);
int api_create_user(struct sig_api *a, json_t *req, int64_t actor, bool allow_admin,
                    struct sig_api_waiter *waiter, struct sig_http_reply *out);

#endif
