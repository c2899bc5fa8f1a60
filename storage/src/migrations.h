/*
 * migrations.h - the SQL migrations compiled into the library (the table is
 * generated from storage/migrations/NNN_name.sql at build time).
 */
#ifndef STO_MIGRATIONS_H
#define STO_MIGRATIONS_H

#include <stddef.h>

struct sto_migration {
    int version;      /* NNN: user_version after it ran */
    const char *name; /* file name, for messages */
    const char *sql;  /* NUL-terminated */
    size_t len;
};

extern const struct sto_migration sto_migrations[];
extern const unsigned sto_migrations_count;

#endif
