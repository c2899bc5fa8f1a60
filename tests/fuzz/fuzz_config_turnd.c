/*
 * fuzz_config_turnd.c - turnd's config loader behind a plain function, so
 * fuzz_config.c can include signald's cfg.h without clashing with turnd's.
 */
#include <stddef.h>

#include "../../turnd/src/cfg.h"

int lanturn_fuzz_turnd_config(const char *text, char *err, size_t cap);

int lanturn_fuzz_turnd_config(const char *text, char *err, size_t cap)
{
    struct turnd_config c;
    int rc = turnd_config_from_string(&c, text, "fuzz.conf", err, cap);
    turnd_config_release(&c);
    return rc;
}
