/*
 * storage.h - liblanturn-storage: everything signald and applianced keep on disk.
 *
 * One SQLite database (<data>/lanturn.db, WAL mode, synchronous=FULL) and a
 * content-addressed file store (<data>/files/). A function that returned 0 after
 * a write has committed it durably: the caller may acknowledge to the client.
 *
 * Conventions:
 *  - Functions return 0 or a negative errno: -ENOENT not found, -EEXIST unique
 *    violation, -EINVAL bad argument or broken reference, -EACCES not allowed
 *    (not a member, not the author, revoked session), -EBUSY database locked past
 *    the busy timeout, -ENOMEM, -ENOSPC, -EIO anything else. After an error,
 *    sto_errmsg() says what happened (SQLite's own text when it came from SQLite).
 *  - Results go through out-parameters. A struct filled by a get function is
 *    released with its _clear function; an array from a list function with its
 *    _free function. Both accept NULL / zeroed values.
 *  - Times are milliseconds since the Unix epoch. Ids are positive; 0 means none.
 *  - Text is UTF-8 and validated; invalid UTF-8 is -EINVAL.
 *  - A struct sto_db is one connection: use it from one thread at a time. Several
 *    processes or threads may open the same data directory.
 */
#ifndef LANTURN_STORAGE_H
#define LANTURN_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sto_db;

/* ---- open, close, transactions ---- */

#define STO_DB_FILE "lanturn.db" /* inside the data directory */
#define STO_ERR_MAX 256          /* room for any message sto_open writes */

struct sto_config {
    const char *data_dir;        /* created (0700) if missing */
    uint64_t file_max_bytes;     /* largest file sto_file_put accepts */
    int busy_timeout_ms;         /* how long a write waits for another writer */
    int64_t search_short_window; /* see sto_search */
};
#define STO_FILE_MAX_DEFAULT (100u << 20)
#define STO_BUSY_TIMEOUT_DEFAULT 5000
#define STO_SEARCH_SHORT_WINDOW 100000

void sto_config_init(struct sto_config *cfg, const char *data_dir);

/* Opens (creating if needed) the database in data_dir, sets the pragmas and
 * applies pending migrations. Refuses a database that is not lanturn's or whose
 * schema is newer than this build (-ENOTSUP). On failure *db is NULL and err
 * (if not NULL) holds a message. */
int sto_open(const char *data_dir, struct sto_db **db, char *err, size_t err_len);
int sto_open_config(const struct sto_config *cfg, struct sto_db **db, char *err, size_t err_len);
void sto_close(struct sto_db *db);

const char *sto_errmsg(const struct sto_db *db);
/* SQL statements run on this connection so far: shows what a call costs. */
uint64_t sto_statements_run(const struct sto_db *db);
int sto_schema_version(struct sto_db *db, int *version); /* PRAGMA user_version */
int sto_schema_latest(void);                             /* what this build migrates to */

/* One transaction around many calls (bulk loading, multi-step changes). Every
 * function below also works inside it; nothing is durable before sto_commit. */
int sto_begin(struct sto_db *db);
int sto_commit(struct sto_db *db);
int sto_rollback(struct sto_db *db);
/* Inside sto_begin ... sto_commit: a part that can be undone alone (group
 * commit: many requests, one durable commit). sto_savepoint_end keeps the
 * part when rc is 0 and undoes it otherwise; it returns rc, or the error of
 * keeping it. Savepoints nest. */
int sto_savepoint(struct sto_db *db);
int sto_savepoint_end(struct sto_db *db, int rc);

/* Where "now" comes from; the default is CLOCK_REALTIME. For tests and load
 * generators that need chosen times. */
void sto_set_clock(struct sto_db *db, int64_t (*now_ms)(void *ctx), void *ctx);

/* ---- backup and restore ---- */

/* Called after each step; return non-zero to cancel (-ECANCELED). */
struct sto_progress {
    int (*fn)(void *ctx, int pages_done, int pages_total);
    void *ctx;
};

/* Online copy of the database to dest_path while others keep reading and
 * writing. Written to a temporary file, synced, then renamed: dest_path is
 * either absent/unchanged or a complete backup. The file store is not copied
 * (its files are immutable; copy <data>/files/ as it is). progress may be NULL. */
int sto_backup(struct sto_db *db, const char *dest_path, const struct sto_progress *progress);

/* Replaces the whole database with a backup, in one transaction: readers see
 * the old data or the new, never a mix. The file must be a lanturn database that
 * passes an integrity check and whose schema this build knows (older schemas are
 * migrated afterwards); otherwise -EINVAL / -ENOTSUP and nothing changes. */
int sto_restore(struct sto_db *db, const char *src_path, const struct sto_progress *progress);

/* ---- users ---- */

#define STO_NAME_MAX 64          /* bytes, user and room names */
#define STO_DISPLAY_NAME_MAX 128 /* bytes */

struct sto_user {
    int64_t id;
    char *name; /* unique, compared without ASCII case */
    char *display_name;
    bool is_admin;
    bool disabled;
    int64_t created_at;
};

/* The password verifier, opaque to storage: the auth module decides the KDF. */
struct sto_password {
    const void *hash;
    size_t hash_len;
    const void *salt;
    size_t salt_len;
    const char *params; /* e.g. "scrypt:N=32768,r=8,p=1" */
};

/* What sto_user_password returns; owned by the caller. */
struct sto_password_buf {
    uint8_t *hash;
    size_t hash_len;
    uint8_t *salt;
    size_t salt_len;
    char *params;
};

/* pw may be NULL: the user cannot log in until a password is set. */
int sto_user_create(struct sto_db *db, const char *name, const char *display_name, bool is_admin,
                    const struct sto_password *pw, int64_t *id);
int sto_user_get(struct sto_db *db, int64_t id, struct sto_user *out);
int sto_user_by_name(struct sto_db *db, const char *name, struct sto_user *out);
/* Users with id > after_id in id order, at most limit. */
int sto_user_list(struct sto_db *db, int64_t after_id, int limit, struct sto_user **out, size_t *n);
int sto_user_set_password(struct sto_db *db, int64_t id, const struct sto_password *pw);
/* -ENOENT also when no password was ever set. */
int sto_user_password(struct sto_db *db, int64_t id, struct sto_password_buf *out);
int sto_user_set_display_name(struct sto_db *db, int64_t id, const char *display_name);
int sto_user_set_admin(struct sto_db *db, int64_t id, bool is_admin);
/* Disabling also revokes every session of the user, in the same transaction. */
int sto_user_set_disabled(struct sto_db *db, int64_t id, bool disabled);
void sto_user_clear(struct sto_user *u);
void sto_users_free(struct sto_user *u, size_t n);
void sto_password_clear(struct sto_password_buf *p); /* wipes, then frees */

/* ---- sessions ---- */

#define STO_TOKEN_LEN 43 /* base64url of 32 random bytes, no padding */
#define STO_SESSION_TOUCH_MS 60000

struct sto_session {
    int64_t id;
    int64_t user_id;
    int64_t created_at;
    int64_t expires_at;
    int64_t last_seen_at;
    bool revoked;
    char *user_agent;
};

/* Makes a random bearer token (written to token, NUL-terminated); only its
 * SHA-256 is stored. */
int sto_session_create(struct sto_db *db, int64_t user_id, int64_t ttl_ms, const char *user_agent,
                       char token[STO_TOKEN_LEN + 1], int64_t *session_id);
/* -ENOENT unknown token; -EACCES revoked, expired, or the user is disabled
 * (out is still filled in that case, for logging). */
int sto_session_get(struct sto_db *db, const char *token, struct sto_session *out);
/* 0 while the session may still be used; -EACCES revoked, expired or the user
 * disabled; -ENOENT gone (pruned). For servers that hold sessions open. */
int sto_session_live(struct sto_db *db, int64_t session_id);
/* Records activity; writes at most once per STO_SESSION_TOUCH_MS per session. */
int sto_session_touch(struct sto_db *db, int64_t session_id);
int sto_session_revoke(struct sto_db *db, int64_t session_id);
/* Revokes all of a user's sessions except keep_id (0: all); *n may be NULL. */
int sto_session_revoke_user(struct sto_db *db, int64_t user_id, int64_t keep_id, int64_t *n);
/* A user's live sessions, newest first ("signed-in devices"). */
int sto_session_list(struct sto_db *db, int64_t user_id, struct sto_session **out, size_t *n);
/* Deletes expired and revoked sessions; *n (may be NULL) gets how many. */
int sto_session_prune(struct sto_db *db, int64_t *n);
void sto_session_clear(struct sto_session *s);
void sto_sessions_free(struct sto_session *s, size_t n);

/* ---- rooms and members ---- */

enum sto_room_kind { STO_ROOM_DIRECT, STO_ROOM_GROUP };
enum sto_role { STO_ROLE_MEMBER, STO_ROLE_ADMIN, STO_ROLE_OWNER };

struct sto_room {
    int64_t id;
    enum sto_room_kind kind;
    char *name;
    char *topic;
    int64_t created_by;
    int64_t created_at;
    bool archived;
};

struct sto_member {
    int64_t user_id;
    enum sto_role role;
    int64_t joined_at;
};

/* The creator becomes the owner. */
int sto_room_create_group(struct sto_db *db, int64_t creator_id, const char *name,
                          const char *topic, int64_t *room_id);
/* The one direct room of a pair: created with both as members, or the existing
 * one returned (*created false). a == b is a room with oneself. */
int sto_room_create_direct(struct sto_db *db, int64_t a, int64_t b, int64_t *room_id,
                           bool *created);
int sto_room_get(struct sto_db *db, int64_t room_id, struct sto_room *out);
/* Rooms the user is a member of, archived ones included, by id. */
int sto_room_list_for_user(struct sto_db *db, int64_t user_id, struct sto_room **out, size_t *n);
/* NULL leaves a field unchanged. -EINVAL on a direct room. */
int sto_room_update(struct sto_db *db, int64_t room_id, const char *name, const char *topic);
int sto_room_set_archived(struct sto_db *db, int64_t room_id, bool archived);

int sto_room_members(struct sto_db *db, int64_t room_id, struct sto_member **out, size_t *n);

/* A room as the viewer's room list shows it. */
struct sto_room_summary {
    struct sto_room room;
    enum sto_role role;      /* the viewer's */
    int64_t last_read_id;    /* as sto_read_get() */
    int64_t last_message_id; /* the newest message, tombstones included; 0: none */
    int64_t last_sender_id;
    int64_t last_created_at;
    int64_t unread, mentions; /* as sto_unread_counts() */
    struct sto_member *members; /* by user id, as sto_room_members() */
    size_t n_members;
};
/* Every room the user is in, by id, in two statements however many rooms. */
int sto_room_summaries(struct sto_db *db, int64_t user_id, struct sto_room_summary **out,
                       size_t *n);
void sto_room_summaries_free(struct sto_room_summary *s, size_t n);
/* -EEXIST already a member, -EINVAL direct room or unknown user/room. A new
 * member's read position starts at the room's latest message. */
int sto_member_add(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role role);
/* -ENOENT not a member, -EINVAL direct room. */
int sto_member_remove(struct sto_db *db, int64_t room_id, int64_t user_id);
int sto_member_set_role(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role role);
/* -ENOENT: not a member. role may be NULL (just the check). */
int sto_member_get(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role *role);
void sto_room_clear(struct sto_room *r);
void sto_rooms_free(struct sto_room *r, size_t n);
void sto_members_free(struct sto_member *m);

/* ---- messages ---- */

#define STO_BODY_MAX 65536 /* bytes */

struct sto_message {
    int64_t id; /* increasing in insertion order, never reused */
    int64_t room_id;
    int64_t sender_id;
    char *body; /* "" for a tombstone */
    int64_t created_at;
    int64_t edited_at; /* 0: never edited */
    bool deleted;
    int64_t thread_id; /* thread root, 0: none */
    int64_t reply_to;  /* 0: none */
};

struct sto_message_new {
    int64_t room_id;
    int64_t sender_id;
    const char *body;        /* 1..STO_BODY_MAX bytes */
    int64_t thread_id;       /* 0 or a message of the same room */
    int64_t reply_to;        /* 0 or a message of the same room */
    const int64_t *mentions; /* users mentioned (members of the room) */
    size_t n_mentions;
};

/* -EACCES: sender not a member; -EINVAL: thread/reply not in the room, a
 * mentioned user not a member; -EMSGSIZE: body too long. created_at may be NULL. */
int sto_message_insert(struct sto_db *db, const struct sto_message_new *m, int64_t *id,
                       int64_t *created_at);
/* Only the sender edits. mentions non-NULL replaces the message's mentions.
 * -ENOENT: no such message or a tombstone. */
int sto_message_edit(struct sto_db *db, int64_t id, int64_t actor_id, const char *body,
                     const int64_t *mentions, size_t n_mentions);
/* Leaves a tombstone: body emptied, reactions and mentions dropped, the row kept
 * so replies and threads still point somewhere. Allowed to the sender, the
 * room's owner/admins and site admins. Deleting a tombstone again is 0. */
int sto_message_delete(struct sto_db *db, int64_t id, int64_t actor_id);
int sto_message_get(struct sto_db *db, int64_t id, struct sto_message *out);
/* History: messages of the room with id < before_id (0: from the newest),
 * newest first, at most limit. Tombstones included. */
int sto_message_page(struct sto_db *db, int64_t room_id, int64_t before_id, int limit,
                     struct sto_message **out, size_t *n);
/* Catch-up: id > after_id, oldest first. */
int sto_message_after(struct sto_db *db, int64_t room_id, int64_t after_id, int limit,
                      struct sto_message **out, size_t *n);
void sto_message_clear(struct sto_message *m);
void sto_messages_free(struct sto_message *m, size_t n);

/* ---- reactions and mentions ---- */

#define STO_EMOJI_MAX 64 /* bytes */

struct sto_reaction {
    int64_t user_id;
    char *emoji;
    int64_t created_at;
};

/* -EEXIST: the user already reacted so; -EACCES: not a member; -ENOENT: no
 * such message or a tombstone. */
int sto_reaction_add(struct sto_db *db, int64_t message_id, int64_t user_id, const char *emoji);
int sto_reaction_remove(struct sto_db *db, int64_t message_id, int64_t user_id, const char *emoji);
/* In the order they were added. */
int sto_reaction_list(struct sto_db *db, int64_t message_id, struct sto_reaction **out, size_t *n);
void sto_reactions_free(struct sto_reaction *r, size_t n);

int sto_mention_list(struct sto_db *db, int64_t message_id, int64_t **user_ids, size_t *n);
/* Messages mentioning the user with id < before_id (0: newest), newest first:
 * the "mentions" inbox. Tombstones left out. */
int sto_mention_inbox(struct sto_db *db, int64_t user_id, int64_t before_id, int limit,
                      struct sto_message **out, size_t *n);

/* ---- read positions and unread counts ---- */

#define STO_UNREAD_CAP 999 /* counts stop here ("999+") to bound the work */

struct sto_unread {
    int64_t room_id;
    int64_t last_read_id;
    int64_t unread;   /* others' messages after last_read_id, tombstones left out */
    int64_t mentions; /* of those, how many mention the user */
};

/* Moves forward only: an older id (another device catching up) is ignored.
 * -EACCES: not a member. */
int sto_read_set(struct sto_db *db, int64_t room_id, int64_t user_id, int64_t message_id);
/* -ENOENT: not a member. */
int sto_read_get(struct sto_db *db, int64_t room_id, int64_t user_id, int64_t *message_id);
/* Every member's read position (0: none yet), by user id, in one statement. */
struct sto_read_position {
    int64_t user_id;
    int64_t last_read_id;
};
int sto_read_positions(struct sto_db *db, int64_t room_id, struct sto_read_position **out,
                       size_t *n);
/* One entry per room the user is in, by room id. */
int sto_unread_counts(struct sto_db *db, int64_t user_id, struct sto_unread **out, size_t *n);

/* ---- events: what each user's connections must see, in order ----
 *
 * One stream for the whole database: every event takes the next seq and is
 * addressed to one user or to one room. A user's events are their own plus
 * those of each room while they were in it; their seqs only go up, with gaps
 * (other users' and other rooms' events) in between. */

struct sto_event {
    int64_t seq; /* in the one stream: increasing, never reused, not consecutive per user */
    char *type;
    char *payload; /* JSON */
    int64_t created_at;
};

/* payload must be valid JSON (-EINVAL). */
int sto_event_append(struct sto_db *db, int64_t user_id, const char *type, const char *payload,
                     int64_t *seq);
/* One event for a room (one row whatever its size), and *members: the user ids
 * in the room at that point of the stream, who are owed it (caller frees with
 * free()). seq may be NULL. */
int sto_event_append_room(struct sto_db *db, int64_t room_id, const char *type, const char *payload,
                          int64_t *seq, int64_t **members, size_t *n);
/* Exactly the user's events with seq > after_seq, in order, at most limit.
 * after_seq may also be a per-user seq from before migration 004 (translated).
 * -ERANGE: some of the stream after it was pruned (the client must resync);
 * -EINVAL: after_seq is beyond the last seq handed out. */
int sto_event_since(struct sto_db *db, int64_t user_id, int64_t after_seq, int limit,
                    struct sto_event **out, size_t *n);
/* The last seq handed out (the same for every user: a valid cursor for any of
 * them); 0: none yet. */
int sto_event_last_seq(struct sto_db *db, int64_t user_id, int64_t *seq);
/* Deletes the stream's oldest events, up to the newest created before
 * cutoff_ms, at most limit (>= 1) of them; *n (may be NULL) = events deleted.
 * *n == limit: there may be more, call again (a server spreads a large
 * backlog over several turns of its loop this way). */
int sto_event_prune(struct sto_db *db, int64_t cutoff_ms, int64_t limit, int64_t *n);
void sto_events_free(struct sto_event *e, size_t n);

/* ---- files ---- */

#define STO_FILE_ID_LEN 64 /* lowercase hex SHA-256 */
#define STO_FILE_NAME_MAX 255
#define STO_MIME_MAX 127

struct sto_file {
    char id[STO_FILE_ID_LEN + 1];
    int64_t size;
    char *mime;
    char *name;
    int64_t uploader_id;
    int64_t room_id; /* room of the first upload; 0: none */
    int64_t created_at;
};

/* Where the bytes come from: returns bytes read, 0 at the end, negative errno. */
struct sto_reader {
    ssize_t (*read)(void *ctx, void *buf, size_t len);
    void *ctx;
};

/* Stores a file shared in room_id (0: none, e.g. an avatar) by uploader_id.
 * The same content is stored once and gets the same id. -EFBIG past the size
 * limit, -EACCES: the uploader is not a member of the room. No partial file is
 * ever visible under its final name. */
int sto_file_put(struct sto_db *db, int64_t uploader_id, int64_t room_id, const char *name,
                 const char *mime, const struct sto_reader *src, char id[STO_FILE_ID_LEN + 1]);
int sto_file_put_buf(struct sto_db *db, int64_t uploader_id, int64_t room_id, const char *name,
                     const char *mime, const void *buf, size_t len, char id[STO_FILE_ID_LEN + 1]);
int sto_file_get(struct sto_db *db, const char *id, struct sto_file *out);
/* The path of the stored bytes; -ENOENT if unknown or missing on disk. */
int sto_file_path(struct sto_db *db, const char *id, char *path, size_t path_len);
/* 0 if the user uploaded it or is a member of a room it was shared in. */
int sto_file_can_read(struct sto_db *db, int64_t user_id, const char *id);
void sto_file_clear(struct sto_file *f);
void sto_files_free(struct sto_file *f, size_t n);

/* ---- attachments ---- */

#define STO_ATTACH_MAX 10 /* files per message */

/* Attaches files (in this order) to a message and shares them into its room.
 * Only the sender attaches, once per message, and only files they can read:
 * -EACCES otherwise; -ENOENT unknown file or message; -EEXIST already has
 * attachments; -EINVAL too many or a duplicate. A deleted message drops them. */
int sto_message_attach(struct sto_db *db, int64_t message_id, int64_t actor_id,
                       const char *const *file_ids, size_t n);
/* The message's files in order (metadata; sto_file_path gives the bytes). */
int sto_message_files(struct sto_db *db, int64_t message_id, struct sto_file **out, size_t *n);

/* What a page of messages shows besides the messages: per message, what
 * sto_mention_list(), sto_reaction_list() and sto_message_files() give, in
 * three statements for the whole page. (*out)[i] belongs to m[i]. */
struct sto_message_extras {
    int64_t *mentions;
    size_t n_mentions;
    struct sto_reaction *reactions;
    size_t n_reactions;
    struct sto_file *files;
    size_t n_files;
};
int sto_message_extras(struct sto_db *db, const struct sto_message *m, size_t n,
                       struct sto_message_extras **out);
void sto_message_extras_free(struct sto_message_extras *x, size_t n);

/* ---- audit log ---- */

struct sto_audit {
    int64_t id;
    int64_t at;
    int64_t actor_id; /* 0: the system */
    char *action;     /* e.g. "user.disable" */
    char *target;     /* e.g. "user:42" */
    char *detail;     /* free text or JSON; never secrets */
};

int sto_audit_append(struct sto_db *db, int64_t actor_id, const char *action, const char *target,
                     const char *detail);
/* Entries with id < before_id (0: newest), newest first. */
int sto_audit_list(struct sto_db *db, int64_t before_id, int limit, struct sto_audit **out,
                   size_t *n);
void sto_audit_free(struct sto_audit *a, size_t n);

/* ---- search ---- */

#define STO_QUERY_MAX 256 /* bytes */
#define STO_QUERY_TERMS_MAX 8

struct sto_search_hit {
    int64_t message_id;
    int64_t room_id;
    int64_t sender_id;
    int64_t created_at;
    char *body;
};

/* Messages containing every whitespace-separated term of query (case-insensitive
 * substrings), only in rooms the user is a member of, newest first, with
 * message id < before_id (0: newest). Terms of 3+ characters use the trigram
 * index; 1-2 character terms are matched with LIKE, and a query made only of
 * such terms looks at the search_short_window newest messages (below
 * before_id) of the whole store, so its cost stays bounded. */
int sto_search(struct sto_db *db, int64_t user_id, const char *query, int64_t before_id, int limit,
               struct sto_search_hit **out, size_t *n);
void sto_search_free(struct sto_search_hit *h, size_t n);

#define STO_SNIPPET_HTML 1u /* escape & < > " ' outside the markers */

/* An excerpt of body of about max_chars characters around the first match of the
 * query's terms, each match wrapped in open ... close. Matching ignores ASCII
 * case. *out is malloc'd. */
int sto_snippet(const char *body, const char *query, const char *open, const char *close,
                size_t max_chars, unsigned flags, char **out);

#ifdef __cplusplus
}
#endif
#endif
