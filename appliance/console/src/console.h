/*
 * console.h - what lanturn-console's files share (prefix con_): the state, one
 * HTTP request and its reply as plain data, and the handlers of each area.
 * Only http.c and server.c see libwebsockets; the areas get a struct con_req
 * and fill a struct con_reply, so they never touch a socket.
 *
 * The console is one thread. Calls to applianced and scrypt verification block
 * the loop for their duration (a backup can take seconds); a console has a
 * handful of administrators, so a simple loop wins over a worker pool here.
 */
#ifndef CON_CONSOLE_H
#define CON_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ccfg.h"

#define CON_COOKIE "lanturn_console"
#define CON_CSRF_HEADER "x-requested-with"
#define CON_CSRF_VALUE "lanturn-console"
#define CON_UA_PREFIX "lanturn-console/" /* marks our sessions among signald's */
#define CON_BODY_MAX (2u << 20)          /* JSON bodies; restores stream to a file */
#define CON_UPLOAD_MAX (64ull << 30)

struct sto_db;
struct sig_limiter;

struct con_cpu {
    uint64_t busy, total;
};

struct console {
    const struct con_config *cfg;
    struct sto_db *db;
    struct sig_limiter *limiter;
    char tmp_dir[512]; /* <data_dir>/console-tmp: backups and uploads in flight */
    struct con_cpu cpu_prev;
};

/* The signed-in administrator of a request. */
struct con_admin {
    int64_t user_id;
    int64_t session_id;
    char name[72];
};

struct con_req {
    const char *method; /* "GET" or "POST" */
    const char *path;   /* without the query */
    const char *query;  /* after '?', "" when none */
    const char *body;   /* JSON, NUL-terminated; NULL when none */
    size_t body_len;
    const char *upload; /* the body streamed to this file (restore) */
    const char *token;  /* from our cookie; "" when none */
    bool csrf_ok;       /* the header a cross-site form cannot send, and no foreign Origin */
    const char *peer;
    const char *user_agent;
    int64_t now; /* wall clock, ms */
};

struct con_reply {
    int status;
    char *body;               /* JSON unless content_type says otherwise */
    const char *content_type; /* NULL: application/json */
    char *set_cookie;
    int retry_after_s;
    char *file;        /* stream this file instead of body */
    char *disposition; /* Content-Disposition for file */
    bool unlink_file;  /* a temporary: remove once opened */
};

/* ---- router.c ---- */
void con_handle(struct console *c, const struct con_req *r, struct con_reply *out);
/* Whether a POST to this path takes its body as a file (restore). */
bool con_route_is_upload(const char *path);
void con_reply_clear(struct con_reply *r);
/* Replies: json is consumed. */
void con_json(struct con_reply *out, int status, json_t *json);
void con_error(struct con_reply *out, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void con_ok(struct con_reply *out);
/* A query parameter (URL-decoded) into buf, or NULL. */
const char *con_query(const struct con_req *r, const char *name, char *buf, size_t cap);
/* Audit log entry for an admin action; detail may be NULL. */
void con_audit(struct console *c, const struct con_admin *who, const char *action,
               const char *target, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- auth.c ---- */
void con_auth_login(struct console *c, const struct con_req *r, json_t *body, struct con_reply *out);
void con_auth_logout(struct console *c, const struct con_req *r, const struct con_admin *who,
                     struct con_reply *out);
/* 0 with *who filled when the request carries a live console session of an
 * administrator; otherwise -EACCES. */
int con_auth_check(struct console *c, const struct con_req *r, struct con_admin *who);

/* An area's handler: body is the parsed JSON object of a POST (NULL for GET). */
typedef void con_handler(struct console *c, const struct con_req *r, const struct con_admin *who,
                         json_t *body, struct con_reply *out);

con_handler con_me, con_dashboard;                                                     /* dash.c */
con_handler con_users_list, con_users_create, con_users_set_disabled_h, con_users_password,
    con_users_admin, con_users_import, con_users_delete;                              /* users.c */
con_handler con_rooms_list, con_rooms_members, con_rooms_archive;                     /* rooms.c */
con_handler con_turn_sessions, con_turn_kill, con_logs, con_service_action;   /* services.c */
con_handler con_settings_get, con_settings_set;                                    /* settings.c */
con_handler con_certs_get, con_certs_upload, con_certs_selfsigned;                   /* certs.c */
con_handler con_backup_download, con_backup_restore;                                /* backup.c */
con_handler con_audit_list;                                                          /* audit.c */
con_handler con_diag_stun;                                                            /* diag.c */

/* ---- actl.c: applianced's control socket ---- */
/* Sends one request, waits up to timeout_ms for the reply object. On failure
 * returns NULL and err says why (applianced not running, timeout...). A reply
 * with "ok": false is returned as it is. */
json_t *con_actl(const struct console *c, json_t *req, int timeout_ms, char *err, size_t cap);
/* The same with {"cmd": cmd}; the reply or an {"ok":false,"error":...} object. */
json_t *con_actl_cmd(const struct console *c, const char *cmd, int timeout_ms);
/* Runs argv, waits: its exit status or a negative errno; output to out. */
int con_run(char *const argv[], char *out, size_t cap);

#endif
