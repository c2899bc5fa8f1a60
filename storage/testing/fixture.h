/*
 * fixture.h - what the storage unit tests share: a real database in a fresh
 * temporary directory, a clock the test controls, and shortcuts for the users,
 * rooms and messages most tests need.
 */
#ifndef STO_FIXTURE_H
#define STO_FIXTURE_H

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lanturn/storage.h"

struct fx {
    char dir[64];
    struct sto_db *db;
    int64_t now; /* what the database's clock says, in ms */
};

#define FX_START_MS 1700000000000LL

/* cmocka setup/teardown: *state becomes a struct fx with an open database. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Close and open the same data directory again (the clock is kept). */
void fx_reopen(struct fx *f);
/* Path of a file inside the test's directory (static buffer per call site). */
void fx_path(const struct fx *f, const char *name, char *out, size_t len);
void fx_rm_rf(const char *dir);
/* Number of entries in a directory, "." and ".." left out. */
int fx_count_entries(const char *dir);

/* A data directory "<test dir>/old" whose database went through the first
 * `version` migrations only, then ran sql (the old data, PRAGMA user_version
 * included); its path into dir. Not opened: sto_open() migrates it. */
void fx_old_database(const struct fx *f, int version, const char *sql, char *dir, size_t len);

int64_t fx_user(struct fx *f, const char *name);
int64_t fx_group(struct fx *f, int64_t owner, const char *name);
int64_t fx_msg(struct fx *f, int64_t room, int64_t sender, const char *body);

#endif
