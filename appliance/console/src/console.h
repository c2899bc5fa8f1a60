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
#define CON_UPDATE_MAX (4ull << 30) /* an update bundle: a root file system and more */
#define CON_UPDATE_NAME_MAX 200

struct sto_db;
struct sig_limiter;
struct con_upd;

struct con_cpu {
    uint64_t busy, total;
};

struct console {
    const struct con_config *cfg;
    struct sto_db *db;
    struct sig_limiter *limiter;
    char tmp_dir[512]; /* <data_dir>/console-tmp: backups and uploads in flight */
    char spool_dir[512]; /* <data_dir>/update-spool: update bundles until installed */
    struct con_cpu cpu_prev;
    struct con_upd *upd; /* update.c */
    /* server.c: wakes the loop from another thread (an install finished) */
    void (*wake)(void *ctx);
    void *wake_ctx;
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
/* Where a POST streams its body to a file instead of parsing JSON. */
struct con_upload_plan {
    const char *dir;    /* a directory of ours */
    const char *prefix; /* the spooled file is <dir>/<prefix>XXXXXX<suffix> */
    const char *suffix;
    uint64_t max; /* bytes; more is refused with 413 */
};
/* Whether a POST to this path takes its body as a file (restore, update);
 * fills plan when it does. */
bool con_route_upload(const struct console *c, const char *path, struct con_upload_plan *plan);
/* Before any byte of an upload is read: true with out filled when the request
 * is refused already (e.g. a file name that could mean a path). */
bool con_upload_refused(struct console *c, const struct con_req *r, const struct con_admin *who,
                        struct con_reply *out);
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
con_handler con_diag_turn;                                                       /* diag_turn.c */
con_handler con_update_status, con_update_upload, con_update_restart;              /* update.c */

/* ---- update.c: the install in the background ---- */
int con_update_init(struct console *c);
/* Removes bundles a crash left in the spool directory. */
void con_update_clear_spool(const char *dir);
/* On the loop's thread: audit an install that finished. */
void con_update_poll(struct console *c);
/* Before the loop's context goes: an install finishing later wakes nothing. */
void con_update_stop_waking(struct console *c);
void con_update_free(struct console *c);
/* Refuses (true, out filled) a bundle name that could mean a path (audited:
 * someone tried), or an upload while an install runs. */
bool con_update_precheck(struct console *c, const struct con_req *r, const struct con_admin *who,
                         struct con_reply *out);
/* An uploaded bundle's name (shown and logged, never a path): 0, or -EINVAL
 * and why. */
int con_update_name_check(const char *name, const char **why);
/* Whether a file of size bytes with these first 4 and last 8 bytes can be a
 * signed RAUC bundle: 0, or -EINVAL and why. */
int con_update_bundle_check(const uint8_t head[4], const uint8_t tail[8], uint64_t size,
                            const char **why);

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
