/*
 * fuzz_config.c - libFuzzer harness for the config loaders: the same text is
 * given to turnd's and signald's (each reads its own group of the one file).
 * Beyond "no crash": a text either loads or gets an error message, and every
 * loaded configuration releases cleanly (ASan/LSan check the rest).
 */
#include <stdint.h>
#include "fuzz_check.h"
#include <stdlib.h>
#include <string.h>

#include "../../signal/src/cfg.h" /* by path: turnd's config header is also cfg.h */
#include "util/log.h"

/* turnd's loader, in fuzz_config_turnd.c (its own cfg.h). */
int lanturn_fuzz_turnd_config(const char *text, char *err, size_t cap);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks parser buffers when a syntax error
 * interrupts a string or a token (strbuf_append, libconfig_yylex); those
 * leaks are in the library, not in our loaders, and inputs that hit them stay
 * in the corpus so the rest of their path is run. */
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\nleak:libconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    lt_log_set_level(LT_LOG_ERROR);
    char err[512];
    err[0] = '\0';
    struct sig_config c;
    int rc = sig_config_from_string(&c, text, "fuzz.conf", err, sizeof err);
    CHECK(rc == 0 || (rc < 0 && err[0]));
    sig_config_release(&c);
    err[0] = '\0';
    rc = lanturn_fuzz_turnd_config(text, err, sizeof err);
    CHECK(rc == 0 || (rc < 0 && err[0]));
    free(text);
    return 0;
}
