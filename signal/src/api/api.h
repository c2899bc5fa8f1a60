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
    /* Password derivations run on this many threads (0: on the caller's), with
     * at most password_jobs handed over at once; past that a login is answered
     * 503 "busy" with Retry-After. */
    unsigned password_threads;
    unsigned password_jobs;
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
 * token from "Authorization: Bearer" (or NULL), addr the client's address.
 * Password routes derive on the caller's thread here. */
void sig_api_handle(struct sig_api *a, const char *method, const char *path, const char *token,
                    const char *body, size_t body_len, const char *addr, const char *user_agent,
                    int64_t now, struct sig_http_reply *out);

/* The same, but a route that derives a password (login, password change, user
 * creation) may answer later: it returns SIG_API_PENDING and calls
 * waiter->reply from sig_api_drain() once the worker is done; otherwise 0 with
 * out filled. The waiter must stay valid until then or sig_api_forget(). */
#define SIG_API_PENDING 1
struct sig_api_waiter {
    void (*reply)(struct sig_api_waiter *w, struct sig_http_reply *r); /* r is the callee's */
    struct password_call *call; /* the API's, while pending */
};
int sig_api_handle_async(struct sig_api *a, const char *method, const char *path,
                         const char *token, const char *body, size_t body_len, const char *addr,
                         const char *user_agent, int64_t now, struct sig_api_waiter *waiter,
                         struct sig_http_reply *out);
/* The client went away: no reply. The check still finishes, and a wrong
 * password still counts towards the back-off. */
void sig_api_forget(struct sig_api *a, struct sig_api_waiter *waiter);
/* Readable while finished derivations wait (-1: no workers); then call
 * sig_api_drain() on the loop's thread. */
int sig_api_async_fd(const struct sig_api *a);
void sig_api_drain(struct sig_api *a);
/* For loops that cannot watch the fd: called from a worker thread. */
void sig_api_set_wake(struct sig_api *a, void (*wake)(void *arg), void *arg);

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
