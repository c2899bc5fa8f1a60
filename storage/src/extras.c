/*
 * extras.c - what a page of messages shows besides the messages themselves:
 * mentions, reactions and attached files, for the whole page in three
 * statements (one per kind) instead of three per message.
 *
 * The page's ids go in as one JSON array bound to json_each(), so each
 * statement is a primary-key lookup per message whatever rooms the ids come
 * from. Rows come back ordered by message and then as the per-message
 * functions order them (sto_mention_list, sto_reaction_list,
 * sto_message_files), so the results are the same.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_MENTIONS[] =
    "SELECT message_id, user_id FROM mentions "
    "WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY message_id, user_id";
static const char SQL_REACTIONS[] =
    "SELECT message_id, user_id, emoji, created_at FROM reactions "
    "WHERE message_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY message_id, created_at, user_id, emoji";
/* The file columns first, in sto_file_from_row()'s order. */
static const char SQL_FILES[] =
    "SELECT f.id, f.size, f.mime, f.name, f.uploader_id, coalesce(f.room_id, 0), f.created_at, "
    " mf.message_id FROM message_files mf JOIN files f ON f.id = mf.file_id "
    "WHERE mf.message_id IN (SELECT value FROM json_each(?1)) ORDER BY mf.message_id, mf.position";

/* Page position by message id: the page sorted by id, searched by halving. */
struct slot {
    int64_t id;
    size_t index;
};

static int cmp_slot(const void *a, const void *b)
{
    int64_t x = ((const struct slot *)a)->id, y = ((const struct slot *)b)->id;
    return x < y ? -1 : x > y;
}

static struct sto_message_extras *find(const struct slot *s, size_t n, int64_t id,
                                       struct sto_message_extras *x)
{
    struct slot key = {id, 0};
    const struct slot *hit = bsearch(&key, s, n, sizeof *s, cmp_slot);
    return hit ? &x[hit->index] : NULL;
}

struct cursor {
    size_t cap_mentions, cap_reactions, cap_files; /* of the message last appended to */
    struct sto_message_extras *last;
};

static int add_mention(sqlite3_stmt *st, struct sto_message_extras *e, struct cursor *c)
{
    int err = sto_grow(&e->mentions, &c->cap_mentions, e->n_mentions, sizeof *e->mentions);
    if (!err) e->mentions[e->n_mentions++] = sqlite3_column_int64(st, 1);
    return err;
}

static int add_reaction(sqlite3_stmt *st, struct sto_message_extras *e, struct cursor *c)
{
    int err = sto_grow(&e->reactions, &c->cap_reactions, e->n_reactions, sizeof *e->reactions);
    if (err) return err;
    struct sto_reaction *r = &e->reactions[e->n_reactions];
    r->user_id = sqlite3_column_int64(st, 1);
    r->created_at = sqlite3_column_int64(st, 3);
    if (!(r->emoji = sto_col_strdup(st, 2))) return -ENOMEM;
    e->n_reactions++;
    return 0;
}

static int add_file(sqlite3_stmt *st, struct sto_message_extras *e, struct cursor *c)
{
    int err = sto_grow(&e->files, &c->cap_files, e->n_files, sizeof *e->files);
    if (!err && !(err = sto_file_from_row(st, &e->files[e->n_files]))) e->n_files++;
    return err;
}

/* Runs one of the statements and hands each row to add. id_col: the message id. */
static int collect(struct sto_db *db, const char *sql, const char *ids, int id_col,
                   int (*add)(sqlite3_stmt *, struct sto_message_extras *, struct cursor *),
                   const struct slot *s, size_t n, struct sto_message_extras *x)
{
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    int err = sto_bind_text(db, st, 1, ids);
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    struct cursor c = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sto_message_extras *e = find(s, n, sqlite3_column_int64(st, id_col), x);
        if (!e) continue;
        if (e != c.last) /* rows come grouped by message: a new one starts empty */
            c = (struct cursor){.last = e};
        if ((err = add(st, e, &c))) break;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

static char *ids_json(const struct slot *s, size_t n)
{
    size_t cap = 2 + n * 21, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "", (long long)s[i].id);
    snprintf(out + len, cap - len, "]");
    return out;
}

int sto_message_extras(struct sto_db *db, const struct sto_message *m, size_t n,
                       struct sto_message_extras **out)
{
    *out = NULL;
    if (n == 0) return 0;
    struct sto_message_extras *x = calloc(n, sizeof *x);
    struct slot *s = malloc(n * sizeof *s);
    char *ids = NULL;
    int err = -ENOMEM;
    if (x && s) {
        for (size_t i = 0; i < n; i++) s[i] = (struct slot){m[i].id, i};
        qsort(s, n, sizeof *s, cmp_slot);
        ids = ids_json(s, n);
    }
    if (ids && !(err = collect(db, SQL_MENTIONS, ids, 0, add_mention, s, n, x)) &&
        !(err = collect(db, SQL_REACTIONS, ids, 0, add_reaction, s, n, x)))
        err = collect(db, SQL_FILES, ids, 7, add_file, s, n, x);
    free(ids);
    free(s);
    if (err) {
        sto_message_extras_free(x, x ? n : 0);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = x;
    return 0;
}

void sto_message_extras_free(struct sto_message_extras *x, size_t n)
{
    if (!x) return;
    for (size_t i = 0; i < n; i++) {
        free(x[i].mentions);
        sto_reactions_free(x[i].reactions, x[i].n_reactions);
        sto_files_free(x[i].files, x[i].n_files);
    }
    free(x);
}
