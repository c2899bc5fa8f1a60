/*
 * search.c - full-text search over message bodies for one user.
 *
 * The FTS5 trigram index (migration 002) finds any substring of 3 or more
 * characters, in Japanese as in English, ignoring case. A shorter term has no
 * trigram to look up, so such terms are matched with LIKE on the messages of
 * the user's rooms instead: alongside the index when the query also has a long
 * term, as a scan (newest first, stopping at the limit) when it has none. That
 * scan reads at most search_window (STO_SEARCH_SHORT_WINDOW) messages: a rare
 * two-character word costs tens of milliseconds, not a pass over the history.
 *
 * Either way only rooms the user is a member of are searched, tombstones never
 * match, and the user's text reaches SQLite only as bound parameters: an FTS5
 * phrase per term ("..." with quotes doubled) and LIKE patterns with \ escapes.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HIT_COLS "m.id, m.room_id, m.sender_id, m.created_at, m.body"
#define MEMBER_ROOMS "m.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?3)"
/* Up to STO_QUERY_TERMS_MAX short-term patterns in ?5..?12; NULL when unused. */
#define LIKE_TERM(i) " AND (?" #i " IS NULL OR m.body LIKE ?" #i " ESCAPE '\\')"
// clang-format off
#define LIKE_TERMS \
    LIKE_TERM(5) LIKE_TERM(6) LIKE_TERM(7) LIKE_TERM(8) \
    LIKE_TERM(9) LIKE_TERM(10) LIKE_TERM(11) LIKE_TERM(12)
// clang-format on
#define FIRST_LIKE 5
_Static_assert(STO_QUERY_TERMS_MAX == 8, "LIKE_TERMS has one slot per term");

static const char SQL_FTS[] = "SELECT " HIT_COLS " FROM messages_fts "
                              "JOIN messages m ON m.id = messages_fts.rowid "
                              "WHERE messages_fts MATCH ?1 AND messages_fts.rowid < ?2 "
                              "AND " MEMBER_ROOMS " AND m.deleted = 0" LIKE_TERMS
                              " ORDER BY messages_fts.rowid DESC LIMIT ?4";
/* Walks the primary key down from before_id through at most ?13 ids. The +
 * keeps the planner off messages_room, which would collect every message of
 * the user's rooms before sorting them. */
static const char SQL_SCAN[] =
    "SELECT " HIT_COLS " FROM messages m "
    "WHERE m.id < ?2 AND m.id > (SELECT coalesce(max(id), 0) FROM messages WHERE id < ?2) - ?13 "
    "AND +" MEMBER_ROOMS " AND m.deleted = 0" LIKE_TERMS " ORDER BY m.id DESC LIMIT ?4";

/* Length of the whitespace character at p, 0 if p is not whitespace. */
static size_t space_at(const unsigned char *p)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r')) return 1;
    if (p[0] == 0xc2 && p[1] == 0xa0) return 2;                 /* U+00A0 no-break space */
    if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) return 3; /* U+3000 ideographic space */
    return 0;
}

int sto_query_terms(const char *query, struct sto_terms *out)
{
    memset(out, 0, sizeof(*out));
    if (!query || !sto_utf8_valid(query, STO_QUERY_MAX)) return -EINVAL;
    const unsigned char *p = (const unsigned char *)query;
    while (*p) {
        size_t s = space_at(p);
        if (s) {
            p += s;
            continue;
        }
        const unsigned char *start = p;
        while (*p && !space_at(p))
            p++;
        if (out->n == STO_QUERY_TERMS_MAX) return -EINVAL;
        struct sto_term *t = &out->t[out->n++];
        t->p = (const char *)start;
        t->len = (size_t)(p - start);
        t->chars = sto_utf8_chars(t->p, t->len);
    }
    return out->n ? 0 : -EINVAL;
}

/* "term" with embedded quotes doubled: an FTS5 string, matched as a substring
 * by the trigram tokenizer. */
static char *fts_expr(const struct sto_terms *q)
{
    size_t cap = 1;
    for (size_t i = 0; i < q->n; i++)
        cap += q->t[i].len * 2 + 3;
    char *e = malloc(cap), *o = e;
    if (!e) return NULL;
    for (size_t i = 0; i < q->n; i++) {
        const struct sto_term *t = &q->t[i];
        if (t->chars < 3) continue;
        if (o != e) *o++ = ' '; /* implicit AND */
        *o++ = '"';
        for (size_t k = 0; k < t->len; k++) {
            if (t->p[k] == '"') *o++ = '"';
            *o++ = t->p[k];
        }
        *o++ = '"';
    }
    *o = '\0';
    return e;
}

/* %term% with the LIKE wildcards in the term escaped. */
static char *like_pattern(const struct sto_term *t)
{
    char *e = malloc(t->len * 2 + 3), *o = e;
    if (!e) return NULL;
    *o++ = '%';
    for (size_t k = 0; k < t->len; k++) {
        if (t->p[k] == '%' || t->p[k] == '_' || t->p[k] == '\\') *o++ = '\\';
        *o++ = t->p[k];
    }
    *o++ = '%';
    *o = '\0';
    return e;
}

static bool has_long_term(const struct sto_terms *q)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->t[i].chars >= 3) return true;
    return false;
}

static int bind_terms(struct sto_db *db, sqlite3_stmt *st, const struct sto_terms *q)
{
    int slot = FIRST_LIKE, err = 0;
    for (size_t i = 0; i < q->n && !err; i++) {
        if (q->t[i].chars >= 3) continue;
        char *pat = like_pattern(&q->t[i]);
        err = pat ? sto_bind_text(db, st, slot++, pat) : sto_fail(db, -ENOMEM, "out of memory");
        free(pat);
    }
    if (err || !has_long_term(q)) return err;
    char *expr = fts_expr(q);
    err = expr ? sto_bind_text(db, st, 1, expr) : sto_fail(db, -ENOMEM, "out of memory");
    free(expr);
    return err;
}

int sto_search(struct sto_db *db, int64_t user_id, const char *query, int64_t before_id, int limit,
               struct sto_search_hit **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct sto_terms q;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    if (sto_query_terms(query, &q) < 0)
        return sto_fail(db, -EINVAL, "query must be 1..%d bytes of text in at most %d words",
                        STO_QUERY_MAX, STO_QUERY_TERMS_MAX);
    bool scan = !has_long_term(&q);
    sqlite3_stmt *st = sto_stmt(db, scan ? SQL_SCAN : SQL_FTS);
    if (!st) return sto_stmt_err(db);
    if ((err = bind_terms(db, st, &q))) {
        sto_stmt_done(st);
        return err;
    }
    sqlite3_bind_int64(st, 2, before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int64(st, 3, user_id);
    sqlite3_bind_int(st, 4, limit);
    if (scan) sqlite3_bind_int64(st, 13, db->search_window);

    struct sto_search_hit *arr = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        struct sto_search_hit *h = &arr[count];
        h->message_id = sqlite3_column_int64(st, 0);
        h->room_id = sqlite3_column_int64(st, 1);
        h->sender_id = sqlite3_column_int64(st, 2);
        h->created_at = sqlite3_column_int64(st, 3);
        if (!(h->body = sto_col_strdup(st, 4))) {
            err = -ENOMEM;
            break;
        }
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_search_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

void sto_search_free(struct sto_search_hit *h, size_t n)
{
    if (!h) return;
    for (size_t i = 0; i < n; i++)
        free(h[i].body);
    free(h);
}
