/*
 * api.h - signald's HTTP API (prefix sig_api_), sans-I/O: logins, logouts,
 * password changes, admin user creation, and the authorization of file
 * uploads and downloads. The network glue parses HTTP and calls these with
 * the request body and the bearer token; they answer with a status and a JSON
 * body. docs/PROTOCOL.md lists the routes.
 */
#ifndef SIG_API_H
#define SIG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../auth/password.h"

struct sto_db;
struct sig_hub;
struct sig_api;

#define SIG_API_BODY_MAX 16384 /* JSON request bodies */
#define SIG_SESSION_COOKIE "lanturn_session"

struct sig_api_config {
    struct sig_kdf kdf;
    int64_t session_ttl_ms;
    bool self_registration;
    /* Wall-clock ms, read after a failed password check: a back-off window
     * starts when the (slow) check ends, not when the request arrived. */
    int64_t (*clock)(void);
};

void sig_api_config_defaults(struct sig_api_config *c);

struct sig_http_reply {
    int status;
    char *body;        /* JSON, malloc'd; NULL: "{}" */
    char *set_cookie;  /* a Set-Cookie value, malloc'd, or NULL */
    int retry_after_s; /* > 0: send Retry-After */
};
void sig_http_reply_clear(struct sig_http_reply *r);

struct sig_api *sig_api_new(const struct sig_api_config *cfg, struct sto_db *db,
                            struct sig_hub *hub);
void sig_api_free(struct sig_api *a);

/* Route one JSON request. method "GET"/"POST", path without the query,
 * token from "Authorization: Bearer" (or NULL), addr the client's address. */
void sig_api_handle(struct sig_api *a, const char *method, const char *path, const char *token,
                    const char *body, size_t body_len, const char *addr, const char *user_agent,
                    int64_t now, struct sig_http_reply *out);

/* Who holds this token: 0 and the ids, or -EACCES. */
int sig_api_authenticate(struct sig_api *a, const char *token, int64_t *user_id,
                         int64_t *session_id);

/* The JSON error body every route uses: {"error":{"code":..,"message":..}}. */
void sig_api_error(struct sig_http_reply *out, int status, const char *code, const char *message);

/* File names as users give them, made safe to store and to put in a
 * Content-Disposition header: the last path component, control characters
 * dropped, at most 255 bytes, never "", "." or "..". out has room for 256. */
void sig_api_clean_file_name(const char *in, char *out, size_t cap);
/* The MIME type the first bytes show (PNG, JPEG, GIF, WebP, PDF), else NULL. */
const char *sig_api_sniff_mime(const uint8_t *head, size_t len);

#endif
