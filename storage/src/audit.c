/*
 * audit.c - the administrators' audit log: who did what to whom, when.
 * Append-only through this API. The target is text ("user:42", "room:7") so
 * an entry keeps its meaning whatever later happens to its subject.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ACTION_MAX 64
#define TARGET_MAX 256
#define DETAIL_MAX 4096

static const char SQL_APPEND[] = "INSERT INTO audit_log (at, actor_id, action, target, detail) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_LIST[] = "SELECT id, at, coalesce(actor_id, 0), action, target, detail "
                               "FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2";

int sto_audit_append(struct sto_db *db, int64_t actor_id, const char *action, const char *target,
                     const char *detail)
{
    if (!sto_name_valid(action, ACTION_MAX))
        return sto_fail(db, -EINVAL, "audit action must be 1..%d bytes", ACTION_MAX);
    if ((target && !sto_utf8_valid(target, TARGET_MAX)) ||
        (detail && !sto_utf8_valid(detail, DETAIL_MAX)))
        return sto_fail(db, -EINVAL, "audit target or detail too long or not UTF-8");
    sqlite3_stmt *st = sto_stmt(db, SQL_APPEND);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, sto_now(db));
    int err;
    if ((err = sto_bind_id(db, st, 2, actor_id)) || (err = sto_bind_text(db, st, 3, action)) ||
        (err = sto_bind_text(db, st, 4, target)) || (err = sto_bind_text(db, st, 5, detail))) {
        sto_stmt_done(st);
        return err;
    }
    if ((err = sto_exec_stmt(db, st)) == -EINVAL) sto_fail(db, err, "no such actor");
    return err;
}

int sto_audit_list(struct sto_db *db, int64_t before_id, int limit, struct sto_audit **out,
                   size_t *n)
{
    *out = NULL;
    *n = 0;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_LIST);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int(st, 2, limit);
    struct sto_audit *arr = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        struct sto_audit *a = &arr[count++];
        a->id = sqlite3_column_int64(st, 0);
        a->at = sqlite3_column_int64(st, 1);
        a->actor_id = sqlite3_column_int64(st, 2);
        a->action = sto_col_strdup(st, 3);
        a->target = sto_col_strdup(st, 4);
        a->detail = sto_col_strdup(st, 5);
        if (!a->action || !a->target || !a->detail) {
            err = -ENOMEM;
            break;
        }
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_audit_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

void sto_audit_free(struct sto_audit *a, size_t n)
{
    if (!a) return;
    for (size_t i = 0; i < n; i++) {
        free(a[i].action);
        free(a[i].target);
        free(a[i].detail);
    }
    free(a);
}
