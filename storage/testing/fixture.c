/*
 * fixture.c - the storage tests' temporary data directory, clock and
 * shortcuts (see fixture.h).
 */
#include "fixture.h"
#include "migrations.h"

#include <dirent.h>
#include <sqlite3.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fx_clock(void *ctx)
{
    return ((struct fx *)ctx)->now;
}

static void fx_open(struct fx *f)
{
    char err[STO_ERR_MAX] = "";
    int rc = sto_open(f->dir, &f->db, err, sizeof(err));
    if (rc != 0) fail_msg("sto_open %s: %d %s", f->dir, rc, err);
    sto_set_clock(f->db, fx_clock, f);
}

int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sto-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->now = FX_START_MS;
    fx_open(f);
    *state = f;
    return 0;
}

int fx_teardown(void **state)
{
    struct fx *f = *state;
    sto_close(f->db);
    fx_rm_rf(f->dir);
    free(f);
    return 0;
}

void fx_reopen(struct fx *f)
{
    sto_close(f->db);
    f->db = NULL;
    fx_open(f);
}

void fx_path(const struct fx *f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->dir, name);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void fx_rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fx_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

void fx_old_database(const struct fx *f, int version, const char *sql, char *dir, size_t len)
{
    char path[512];
    fx_path(f, "old", dir, len);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, STO_DB_FILE);
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    for (int i = 0; i < version; i++)
        assert_int_equal(sqlite3_exec(s, sto_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
    if (sqlite3_exec(s, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("old data: %s", sqlite3_errmsg(s));
    sqlite3_close(s);
}

int64_t fx_user(struct fx *f, const char *name)
{
    int64_t id = 0;
    int rc = sto_user_create(f->db, name, NULL, false, NULL, &id);
    if (rc != 0) fail_msg("user %s: %d %s", name, rc, sto_errmsg(f->db));
    return id;
}

int64_t fx_group(struct fx *f, int64_t owner, const char *name)
{
    int64_t id = 0;
    int rc = sto_room_create_group(f->db, owner, name, NULL, &id);
    if (rc != 0) fail_msg("room %s: %d %s", name, rc, sto_errmsg(f->db));
    return id;
}

int64_t fx_msg(struct fx *f, int64_t room, int64_t sender, const char *body)
{
    struct sto_message_new m = {.room_id = room, .sender_id = sender, .body = body};
    int64_t id = 0;
    int rc = sto_message_insert(f->db, &m, &id, NULL);
    if (rc != 0) fail_msg("message: %d %s", rc, sto_errmsg(f->db));
    return id;
}
