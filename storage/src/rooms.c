/*
 * rooms.c - direct and group rooms and who is in them.
 *
 * A direct room belongs to a pair of users and is found again by its
 * direct_key ("low:high"), so two people never end up with two direct rooms.
 * Its membership is fixed. Group rooms have an owner (the creator) and members
 * with roles; the role rules beyond that are signald's.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOM_COLS "r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.archived"
#define TOPIC_MAX 1024

static const char SQL_INSERT[] =
    "INSERT INTO rooms (kind, name, topic, created_by, created_at, direct_key) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_BY_KEY[] = "SELECT id FROM rooms WHERE direct_key = ?1";
static const char SQL_GET[] = "SELECT " ROOM_COLS " FROM rooms r WHERE r.id = ?1";
static const char SQL_FOR_USER[] = "SELECT " ROOM_COLS " FROM memberships m "
                                   "JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ?1 "
                                   "ORDER BY r.id";
static const char SQL_UPDATE[] = "UPDATE rooms SET name = coalesce(?2, name), "
                                 "topic = coalesce(?3, topic) WHERE id = ?1 AND kind = 'group'";
static const char SQL_KIND[] = "SELECT kind = 'direct' FROM rooms WHERE id = ?1";
static const char SQL_ARCHIVE[] = "UPDATE rooms SET archived = ?2 WHERE id = ?1";
static const char SQL_MEMBERS[] =
    "SELECT user_id, role, joined_at FROM memberships WHERE room_id = ?1 ORDER BY user_id";
static const char SQL_MEMBER_INSERT[] =
    "INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)";
/* New members start with everything already there marked read. */
static const char SQL_READ_INIT[] =
    "INSERT INTO read_positions (room_id, user_id, last_read_id, updated_at) "
    "VALUES (?1, ?2, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?1), ?3)";
static const char SQL_MEMBER_DELETE[] =
    "DELETE FROM memberships WHERE room_id = ?1 AND user_id = ?2";
static const char SQL_MEMBER_ROLE[] =
    "UPDATE memberships SET role = ?3 WHERE room_id = ?1 AND user_id = ?2";
static const char SQL_MEMBER_GET[] =
    "SELECT role FROM memberships WHERE room_id = ?1 AND user_id = ?2";

static const char *const role_names[] = {
    [STO_ROLE_MEMBER] = "member",
    [STO_ROLE_ADMIN] = "admin",
    [STO_ROLE_OWNER] = "owner",
};

const char *sto_role_name(enum sto_role role)
{
    return (unsigned)role <= STO_ROLE_OWNER ? role_names[role] : NULL;
}

int sto_role_parse(const char *s, enum sto_role *role)
{
    for (unsigned i = 0; i <= STO_ROLE_OWNER; i++)
        if (s && strcmp(s, role_names[i]) == 0) {
            *role = (enum sto_role)i;
            return 0;
        }
    return -EIO; /* the CHECK constraint makes this a corrupt database */
}

int sto_require_member(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role *role)
{
    int err = sto_member_get(db, room_id, user_id, role);
    if (err == -ENOENT)
        return sto_fail(db, -EACCES, "user %lld is not a member of room %lld", (long long)user_id,
                        (long long)room_id);
    return err;
}

static int add_member(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role role,
                      int64_t now)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBER_INSERT);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 4, now);
    int err = sto_bind_text(db, st, 3, sto_role_name(role));
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    if ((err = sto_exec_stmt(db, st))) {
        if (err == -EEXIST) return sto_fail(db, err, "already a member");
        if (err == -EINVAL) return sto_fail(db, err, "no such user or room");
        return err;
    }
    if (!(st = sto_stmt(db, SQL_READ_INIT))) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, now);
    return sto_exec_stmt(db, st);
}

static int insert_room(struct sto_db *db, const char *kind, const char *name, const char *topic,
                       int64_t creator, const char *direct_key, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_INSERT);
    if (!st) return sto_stmt_err(db);
    int err;
    sqlite3_bind_int64(st, 4, creator);
    sqlite3_bind_int64(st, 5, now);
    if ((err = sto_bind_text(db, st, 1, kind)) || (err = sto_bind_text(db, st, 2, name)) ||
        (err = sto_bind_text(db, st, 3, topic)) ||
        (err = direct_key ? sto_bind_text(db, st, 6, direct_key) : 0)) {
        sto_stmt_done(st);
        return err;
    }
    if ((err = sto_exec_stmt(db, st))) {
        if (err == -EINVAL) sto_fail(db, err, "no such user");
        return err;
    }
    *id = sqlite3_last_insert_rowid(db->sql);
    return 0;
}

int sto_room_create_group(struct sto_db *db, int64_t creator_id, const char *name,
                          const char *topic, int64_t *room_id)
{
    if (!sto_name_valid(name, STO_NAME_MAX))
        return sto_fail(db, -EINVAL, "room name must be 1..%d bytes of text", STO_NAME_MAX);
    if (topic && !sto_utf8_valid(topic, TOPIC_MAX))
        return sto_fail(db, -EINVAL, "topic too long or not UTF-8");
    int64_t now = sto_now(db), id = 0;
    int err = sto_tx_begin(db);
    if (err) return err;
    if ((err = insert_room(db, "group", name, topic, creator_id, NULL, now, &id)) == 0)
        err = add_member(db, id, creator_id, STO_ROLE_OWNER, now);
    if ((err = sto_tx_end(db, err)) == 0 && room_id) *room_id = id;
    return err;
}

static int find_direct(struct sto_db *db, const char *key, int64_t *id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_BY_KEY);
    if (!st) return sto_stmt_err(db);
    int err = sto_bind_text(db, st, 1, key);
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        err = rc == SQLITE_DONE ? -ENOENT : sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_room_create_direct(struct sto_db *db, int64_t a, int64_t b, int64_t *room_id, bool *created)
{
    char key[48];
    int64_t lo = a < b ? a : b, hi = a < b ? b : a, id = 0, now = sto_now(db);
    snprintf(key, sizeof(key), "%lld:%lld", (long long)lo, (long long)hi);
    if (created) *created = false;
    int err = sto_tx_begin(db);
    if (err) return err;
    bool made = false;
    err = find_direct(db, key, &id);
    if (err == -ENOENT) {
        made = true;
        if ((err = insert_room(db, "direct", "", "", a, key, now, &id)) == 0 &&
            (err = add_member(db, id, lo, STO_ROLE_MEMBER, now)) == 0 && hi != lo)
            err = add_member(db, id, hi, STO_ROLE_MEMBER, now);
    }
    if ((err = sto_tx_end(db, err)) == 0) {
        if (room_id) *room_id = id;
        if (created) *created = made;
    }
    return err;
}

int sto_room_from_row(sqlite3_stmt *st, struct sto_room *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    r->kind = strcmp((const char *)sqlite3_column_text(st, 1), "direct") == 0 ? STO_ROOM_DIRECT
                                                                              : STO_ROOM_GROUP;
    r->name = sto_col_strdup(st, 2);
    r->topic = sto_col_strdup(st, 3);
    r->created_by = sqlite3_column_int64(st, 4);
    r->created_at = sqlite3_column_int64(st, 5);
    r->archived = sqlite3_column_int(st, 6);
    if (!r->name || !r->topic) {
        sto_room_clear(r);
        return -ENOMEM;
    }
    return 0;
}

int sto_room_get(struct sto_db *db, int64_t room_id, struct sto_room *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = sto_stmt(db, SQL_GET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    int rc = sqlite3_step(st), err;
    if (rc == SQLITE_ROW)
        err = sto_room_from_row(st, out);
    else if (rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "no such room");
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
}

int sto_room_list_for_user(struct sto_db *db, int64_t user_id, struct sto_room **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_FOR_USER);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    struct sto_room *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr))) ||
            (err = sto_room_from_row(st, &arr[count])))
            break;
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_rooms_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

/* 1 if direct, 0 if group, negative errno (-ENOENT: no such room). */
static int is_direct(struct sto_db *db, int64_t room_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_KIND);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW)
        ret = sqlite3_column_int(st, 0);
    else if (rc == SQLITE_DONE)
        ret = sto_fail(db, -ENOENT, "no such room");
    else
        ret = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return ret;
}

int sto_room_update(struct sto_db *db, int64_t room_id, const char *name, const char *topic)
{
    if (name && !sto_name_valid(name, STO_NAME_MAX))
        return sto_fail(db, -EINVAL, "room name must be 1..%d bytes of text", STO_NAME_MAX);
    if (topic && !sto_utf8_valid(topic, TOPIC_MAX))
        return sto_fail(db, -EINVAL, "topic too long or not UTF-8");
    sqlite3_stmt *st = sto_stmt(db, SQL_UPDATE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    int err = 0;
    if ((name && (err = sto_bind_text(db, st, 2, name))) ||
        (topic && (err = sto_bind_text(db, st, 3, topic)))) {
        sto_stmt_done(st);
        return err;
    }
    if ((err = sto_exec_stmt(db, st))) return err;
    if (sqlite3_changes(db->sql) == 0) {
        int d = is_direct(db, room_id);
        return d < 0 ? d : sto_fail(db, -EINVAL, "a direct room has no name or topic");
    }
    return 0;
}

int sto_room_set_archived(struct sto_db *db, int64_t room_id, bool archived)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_ARCHIVE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int(st, 2, archived);
    int err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0) err = sto_fail(db, -ENOENT, "no such room");
    return err;
}

int sto_room_members(struct sto_db *db, int64_t room_id, struct sto_member **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBERS);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    struct sto_member *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        arr[count].user_id = sqlite3_column_int64(st, 0);
        if ((err = sto_role_parse((const char *)sqlite3_column_text(st, 1), &arr[count].role)))
            break;
        arr[count].joined_at = sqlite3_column_int64(st, 2);
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        free(arr);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

int sto_member_add(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role role)
{
    if (!sto_role_name(role)) return sto_fail(db, -EINVAL, "bad role");
    int err = sto_tx_begin(db);
    if (err) return err;
    int d = is_direct(db, room_id);
    if (d < 0)
        err = d == -ENOENT ? sto_fail(db, -EINVAL, "no such room") : d;
    else if (d)
        err = sto_fail(db, -EINVAL, "the members of a direct room are fixed");
    else
        err = add_member(db, room_id, user_id, role, sto_now(db));
    return sto_tx_end(db, err);
}

int sto_member_remove(struct sto_db *db, int64_t room_id, int64_t user_id)
{
    int d = is_direct(db, room_id);
    if (d < 0) return d;
    if (d) return sto_fail(db, -EINVAL, "the members of a direct room are fixed");
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBER_DELETE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    int err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0) err = sto_fail(db, -ENOENT, "not a member");
    return err;
}

int sto_member_set_role(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role role)
{
    if (!sto_role_name(role)) return sto_fail(db, -EINVAL, "bad role");
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBER_ROLE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    int err = sto_bind_text(db, st, 3, sto_role_name(role));
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0) err = sto_fail(db, -ENOENT, "not a member");
    return err;
}

int sto_member_get(struct sto_db *db, int64_t room_id, int64_t user_id, enum sto_role *role)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBER_GET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        enum sto_role r;
        err = sto_role_parse((const char *)sqlite3_column_text(st, 0), &r);
        if (err == 0 && role) *role = r;
    } else if (rc == SQLITE_DONE) {
        err = sto_fail(db, -ENOENT, "not a member");
    } else {
        err = sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

void sto_room_clear(struct sto_room *r)
{
    if (!r) return;
    free(r->name);
    free(r->topic);
    memset(r, 0, sizeof(*r));
}

void sto_rooms_free(struct sto_room *r, size_t n)
{
    if (!r) return;
    for (size_t i = 0; i < n; i++)
        sto_room_clear(&r[i]);
    free(r);
}

void sto_members_free(struct sto_member *m)
{
    free(m);
}
