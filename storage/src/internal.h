/*
 * internal.h - what the storage files share: the connection struct, the
 * prepared-statement cache, transactions, error mapping and small helpers.
 * Nothing here is visible to users of the library.
 */
#ifndef STO_INTERNAL_H
#define STO_INTERNAL_H

#include "lanturn/storage.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sto_stmt_slot {
    const char *sql; /* the key: the address of a static SQL string */
    sqlite3_stmt *stmt;
};

struct sto_db {
    sqlite3 *sql;
    char *data_dir;
    char *files_dir;
    char *db_path;
    uint64_t file_max_bytes;
    int busy_timeout_ms;
    int64_t search_window;
    int64_t (*now_ms)(void *ctx);
    void *now_ctx;
    /* Prepared statements, keyed by the address of their SQL text: each file
     * keeps its SQL next to the code that runs it. Open addressing, power of 2. */
    struct sto_stmt_slot *stmts;
    unsigned n_stmts, cap_stmts;
    int stmt_err;  /* why the last sto_stmt() returned NULL */
    uint64_t n_run; /* sto_stmt() calls: statements run */
    int tx_depth;  /* sto_tx_begin nesting */
    bool tx_outer; /* the outermost sto_tx_begin issued BEGIN (not a savepoint) */
    bool user_tx;  /* inside sto_begin ... sto_commit */
    /* After out-of-memory, I/O errors or corruption SQLite rolls back, but
     * FTS5 (3.40) can keep stale in-memory index state on the connection, and
     * a later write through it corrupts the index on disk. Such an error sets
     * this; the next operation starts on a fresh connection. */
    bool reconnect;
    char errmsg[STO_ERR_MAX];
};

/* ---- db.c ---- */

/* Replaces the SQLite connection with a new one (same file, same pragmas). */
int sto_reconnect(struct sto_db *db);

/* ---- sql.c ---- */

/* The cached statement for sql (prepared on first use), reset and unbound.
 * NULL on error (message in db->errmsg); sto_stmt_err() then gives the code.
 * Statements are never used re-entrantly: no caller code runs while one is held. */
sqlite3_stmt *sto_stmt(struct sto_db *db, const char *sql);
int sto_stmt_err(struct sto_db *db);
/* Resets st so the next sto_stmt() finds it clean, and releases its read lock. */
void sto_stmt_done(sqlite3_stmt *st);
void sto_stmt_cache_clear(struct sto_db *db);

/* Maps a SQLite result code to a negative errno and records the message. */
int sto_sqlite_err(struct sto_db *db, int rc);
/* Records a message of our own and returns err. */
int sto_fail(struct sto_db *db, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Steps a statement expected to finish without rows (INSERT/UPDATE/DELETE
 * without RETURNING); resets it. */
int sto_exec_stmt(struct sto_db *db, sqlite3_stmt *st);
/* Runs a fixed statement (no user data) with sqlite3_exec. */
int sto_exec(struct sto_db *db, const char *sql);

/* Bind helpers: return a negative errno like everything else. */
int sto_bind_i64(struct sto_db *db, sqlite3_stmt *st, int i, int64_t v);
int sto_bind_text(struct sto_db *db, sqlite3_stmt *st, int i, const char *s);
int sto_bind_blob(struct sto_db *db, sqlite3_stmt *st, int i, const void *p, size_t n);
/* An id or NULL when 0. */
int sto_bind_id(struct sto_db *db, sqlite3_stmt *st, int i, int64_t id);

/* A writing transaction that nests: BEGIN IMMEDIATE at the outermost level
 * (so a writer never has to upgrade a read lock), SAVEPOINT inside. End it with
 * sto_tx_end(db, rc): commits (or releases) when rc == 0, rolls back otherwise,
 * and returns rc or the commit's error. */
int sto_tx_begin(struct sto_db *db);
int sto_tx_end(struct sto_db *db, int rc);

/* Column helpers: malloc'd copies ("" for NULL); NULL only on allocation failure. */
char *sto_col_strdup(sqlite3_stmt *st, int col);
/* rooms.c: a room from columns 0..6 in ROOM_COLS order (id, kind, name, topic,
 * created_by, created_at, archived); -ENOMEM. */
int sto_room_from_row(sqlite3_stmt *st, struct sto_room *r);

/* Grows *arr (of elem bytes each) so that index *n fits; -ENOMEM on failure. */
int sto_grow(void *arr, size_t *cap, size_t n, size_t elem);
/* Steps st to its end, appending one elem-sized item per row to the array at
 * *(T **)out (count in *n, both as the caller left them) filled by row();
 * resets st. On error the items counted so far stay for the caller to free. */
int sto_rows(struct sto_db *db, sqlite3_stmt *st, size_t elem,
             int (*row)(sqlite3_stmt *st, void *item), void *out, size_t *n);

/* ---- util.c ---- */

int64_t sto_now(struct sto_db *db);

/* ---- files.c ---- */

/* A files row (id, size, mime, name, uploader_id, room_id, created_at) -> out. 0 or -ENOMEM. */
int sto_file_from_row(sqlite3_stmt *st, struct sto_file *out);
/* Valid UTF-8 without NUL, of at most max_bytes (0: no limit) bytes. */
bool sto_utf8_valid(const char *s, size_t max_bytes);
/* Valid UTF-8, no control characters, 1..max_bytes bytes. */
bool sto_name_valid(const char *s, size_t max_bytes);
size_t sto_utf8_chars(const char *s, size_t len);
/* Hex of a SHA-256 digest into out[65]. */
void sto_hex(const uint8_t *in, size_t n, char *out);
int sto_sha256(const void *p, size_t n, uint8_t out[32]);

/* ---- files.c ---- */

/* Creates <data>/files and removes temporary files a crash left behind. */
int sto_files_init(struct sto_db *db);

/* ---- migrate.c ---- */

/* Applies every migration above the current user_version, each in its own
 * transaction. */
int sto_migrate(struct sto_db *db);
/* Is this a database we may touch? Checks application_id and that the schema
 * is not newer than this build. "what" names the file in messages. */
int sto_check_identity(struct sto_db *db, sqlite3 *sql, const char *what);
/* Is other's schema exactly what migrations 1..version create? */
int sto_schema_matches(struct sto_db *db, sqlite3 *other, int version, const char *what);
/* For tests: apply migrations up to and including version. */
int sto_migrate_to(struct sto_db *db, int version);

#define STO_APPLICATION_ID 1280201810 /* 'LNTR' */

/* ---- shared by rooms.c, messages.c and friends ---- */

const char *sto_role_name(enum sto_role role);
int sto_role_parse(const char *s, enum sto_role *role);
/* 0 if a member (role may be NULL), -EACCES if not, negative errno on error. */
int sto_require_member(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role *role);
/* The columns sto_message_from_row reads, with a table prefix ("" or "m."). */
#define STO_MESSAGE_COLS(p)                                                                        \
    p "id, " p "room_id, " p "sender_id, " p "body, " p "created_at, " p "edited_at, " p           \
      "deleted, " p "thread_id, " p "reply_to"
/* Reads a row whose first columns are STO_MESSAGE_COLS; -ENOMEM. */
int sto_message_from_row(sqlite3_stmt *st, struct sto_message *m);
/* Steps st to the end collecting messages; resets st. */
int sto_message_rows(struct sto_db *db, sqlite3_stmt *st, struct sto_message **out, size_t *n);
/* Checks that every user in ids is a member of the room (-EINVAL if not) and
 * records them as mentioned by the message. */
int sto_mentions_insert(struct sto_db *db, int64_t message_id, int64_t room_id, const int64_t *ids,
                        size_t n);

/* ---- search.c: a query split into terms ---- */

struct sto_term {
    const char *p; /* into the query, not NUL-terminated */
    size_t len;    /* bytes */
    size_t chars;  /* code points */
};

struct sto_terms {
    size_t n;
    struct sto_term t[STO_QUERY_TERMS_MAX];
};

/* Splits on ASCII whitespace, U+00A0 and U+3000 (the ideographic space of
 * Japanese input). -EINVAL: empty, too long, too many terms, not UTF-8. */
int sto_query_terms(const char *query, struct sto_terms *out);

/* Caps the limit arguments of list functions. */
#define STO_LIMIT_MAX 1000
int sto_check_limit(struct sto_db *db, int limit);

#endif
