/*
 * sessions.c - login sessions. The bearer token is 32 random bytes from
 * OpenSSL's CSPRNG, given to the caller once; the database keeps only its
 * SHA-256, so a copy of the database (or a backup) lets nobody log in.
 */
#include "internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_COLS "id, user_id, created_at, expires_at, last_seen_at, revoked, user_agent"
#define USER_AGENT_MAX 512

static const char SQL_CREATE[] =
    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, user_agent) "
    "VALUES (?1, ?2, ?3, ?4, ?3, ?5)";
static const char SQL_GET[] =
    "SELECT s.id, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.revoked, "
    "s.user_agent, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.token_hash = ?1";
static const char SQL_LIVE[] =
    "SELECT s.revoked, s.expires_at, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.id = ?1";
static const char SQL_TOUCH[] =
    "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at <= ?2 - ?3";
static const char SQL_EXISTS[] = "SELECT 1 FROM sessions WHERE id = ?1";
static const char SQL_REVOKE[] = "UPDATE sessions SET revoked = 1 WHERE id = ?1";
static const char SQL_REVOKE_USER[] =
    "UPDATE sessions SET revoked = 1 WHERE user_id = ?1 AND id != ?2 AND revoked = 0";
static const char SQL_LIST[] = "SELECT " SESSION_COLS " FROM sessions "
                               "WHERE user_id = ?1 AND revoked = 0 AND expires_at > ?2 "
                               "ORDER BY id DESC LIMIT 1000";
static const char SQL_PRUNE[] = "DELETE FROM sessions WHERE revoked = 1 OR expires_at <= ?1";

static void base64url(const uint8_t *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
    }
    out[o] = '\0';
}

static int token_hash(struct sto_db *db, const char *token, uint8_t hash[32])
{
    if (sto_sha256(token, strlen(token), hash) < 0) return sto_fail(db, -EIO, "SHA-256 failed");
    return 0;
}

int sto_session_create(struct sto_db *db, int64_t user_id, int64_t ttl_ms, const char *user_agent,
                       char token[STO_TOKEN_LEN + 1], int64_t *session_id)
{
    uint8_t raw[32], hash[32];
    int err;
    token[0] = '\0';
    if (ttl_ms <= 0) return sto_fail(db, -EINVAL, "session lifetime must be positive");
    if (user_agent && !sto_utf8_valid(user_agent, 0))
        return sto_fail(db, -EINVAL, "user agent is not UTF-8");
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return sto_fail(db, -EIO, "no random bytes from OpenSSL");
    base64url(raw, sizeof(raw), token);
    OPENSSL_cleanse(raw, sizeof(raw));
    if ((err = token_hash(db, token, hash))) goto fail;

    /* Long user agents are cut at a character boundary, not refused. */
    char ua[USER_AGENT_MAX + 1];
    size_t len = user_agent ? strlen(user_agent) : 0;
    if (len > USER_AGENT_MAX) {
        len = USER_AGENT_MAX;
        while (len && ((unsigned char)user_agent[len] & 0xc0) == 0x80)
            len--;
    }
    if (len) memcpy(ua, user_agent, len);
    ua[len] = '\0';

    int64_t now = sto_now(db);
    sqlite3_stmt *st = sto_stmt(db, SQL_CREATE);
    if (!st) {
        err = sto_stmt_err(db);
        goto fail;
    }
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms);
    if ((err = sto_bind_blob(db, st, 1, hash, sizeof(hash))) ||
        (err = sto_bind_text(db, st, 5, ua))) {
        sto_stmt_done(st);
        goto fail;
    }
    if ((err = sto_exec_stmt(db, st))) {
        if (err == -EINVAL) sto_fail(db, err, "no such user");
        goto fail;
    }
    if (session_id) *session_id = sqlite3_last_insert_rowid(db->sql);
    return 0;
fail:
    OPENSSL_cleanse(token, STO_TOKEN_LEN + 1);
    return err;
}

static int session_from_row(sqlite3_stmt *st, struct sto_session *s)
{
    memset(s, 0, sizeof(*s));
    s->id = sqlite3_column_int64(st, 0);
    s->user_id = sqlite3_column_int64(st, 1);
    s->created_at = sqlite3_column_int64(st, 2);
    s->expires_at = sqlite3_column_int64(st, 3);
    s->last_seen_at = sqlite3_column_int64(st, 4);
    s->revoked = sqlite3_column_int(st, 5);
    s->user_agent = sto_col_strdup(st, 6);
    return s->user_agent ? 0 : -ENOMEM;
}

int sto_session_get(struct sto_db *db, const char *token, struct sto_session *out)
{
    uint8_t hash[32];
    int err;
    memset(out, 0, sizeof(*out));
    if (!token || strlen(token) != STO_TOKEN_LEN) return sto_fail(db, -ENOENT, "no such session");
    if ((err = token_hash(db, token, hash))) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_GET);
    if (!st) return sto_stmt_err(db);
    if ((err = sto_bind_blob(db, st, 1, hash, sizeof(hash)))) {
        sto_stmt_done(st);
        return err;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bool disabled = sqlite3_column_int(st, 7);
        if ((err = session_from_row(st, out)))
            sto_fail(db, err, "out of memory");
        else if (out->revoked)
            err = sto_fail(db, -EACCES, "session revoked");
        else if (out->expires_at <= sto_now(db))
            err = sto_fail(db, -EACCES, "session expired");
        else if (disabled)
            err = sto_fail(db, -EACCES, "user disabled");
    } else if (rc == SQLITE_DONE) {
        err = sto_fail(db, -ENOENT, "no such session");
    } else {
        err = sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

int sto_session_live(struct sto_db *db, int64_t session_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_LIVE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, session_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_int(st, 0))
            err = sto_fail(db, -EACCES, "session revoked");
        else if (sqlite3_column_int64(st, 1) <= sto_now(db))
            err = sto_fail(db, -EACCES, "session expired");
        else if (sqlite3_column_int(st, 2))
            err = sto_fail(db, -EACCES, "user disabled");
    } else {
        err = rc == SQLITE_DONE ? sto_fail(db, -ENOENT, "no such session") : sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

static int exists(struct sto_db *db, int64_t id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_EXISTS);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "no such session");
    else if (rc != SQLITE_ROW)
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_session_touch(struct sto_db *db, int64_t session_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_TOUCH);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, session_id);
    sqlite3_bind_int64(st, 2, sto_now(db));
    sqlite3_bind_int64(st, 3, STO_SESSION_TOUCH_MS);
    int err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0)
        err = exists(db, session_id); /* not written: too recent, or no such session */
    return err;
}

int sto_session_revoke(struct sto_db *db, int64_t session_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_REVOKE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, session_id);
    int err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0) err = sto_fail(db, -ENOENT, "no such session");
    return err;
}

int sto_session_revoke_user(struct sto_db *db, int64_t user_id, int64_t keep_id, int64_t *n)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_REVOKE_USER);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, keep_id);
    int err = sto_exec_stmt(db, st);
    if (err == 0 && n) *n = sqlite3_changes64(db->sql);
    return err;
}

int sto_session_list(struct sto_db *db, int64_t user_id, struct sto_session **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_LIST);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, sto_now(db));
    struct sto_session *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr))) ||
            (err = session_from_row(st, &arr[count])))
            break;
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_sessions_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

int sto_session_prune(struct sto_db *db, int64_t *n)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_PRUNE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, sto_now(db));
    int err = sto_exec_stmt(db, st);
    if (err == 0 && n) *n = sqlite3_changes64(db->sql);
    return err;
}

void sto_session_clear(struct sto_session *s)
{
    if (!s) return;
    free(s->user_agent);
    memset(s, 0, sizeof(*s));
}

void sto_sessions_free(struct sto_session *s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++)
        sto_session_clear(&s[i]);
    free(s);
}
