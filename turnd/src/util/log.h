/*
 * log.h - one logging module: a level, a module name, an event name and
 * key=value fields, one line per event on stderr (journald adds the time under
 * systemd). Never pass passwords, secrets or payloads to it.
 */
#ifndef LANTURN_LOG_H
#define LANTURN_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum lt_log_level {
    LT_LOG_ERROR = 0,
    LT_LOG_WARN = 1,
    LT_LOG_INFO = 2,
    LT_LOG_DEBUG = 3,
};

void lt_log_set_level(enum lt_log_level level);
enum lt_log_level lt_log_get_level(void);
/* Add a wall-clock timestamp to each line (for runs outside systemd). */
void lt_log_set_timestamps(bool on);
/* "error", "warn", "info", "debug" -> level; 0 or -EINVAL. */
int lt_log_level_parse(const char *s, enum lt_log_level *out);
const char *lt_log_level_name(enum lt_log_level level);
bool lt_log_enabled(enum lt_log_level level);

/* Copy untrusted text (a user name from the wire) into buf as one log token:
 * printable ASCII is kept, anything else (spaces, quotes, '=', control bytes,
 * UTF-8) becomes \xHH, so a client cannot forge fields or lines. Returns buf. */
const char *lt_log_token(const char *s, char *buf, size_t cap);

/* Writes "level=L module=M event=E <fields>" where fields is printf-formatted
 * text of key=value pairs, e.g. lt_log(LT_LOG_INFO, "turn", "alloc", "user=%s", u). */
void lt_log(enum lt_log_level level, const char *module, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* At most one line per period for an event that can repeat thousands of times
 * a second (a refused connection, accept() out of descriptors). */
struct lt_log_limit {
    long long last_ms; /* when the last line went out; 0: never */
    unsigned long long suppressed; /* events since then that were not logged */
};
/* True when a line may go out at now_ms; then *suppressed says how many events
 * were left unlogged since the previous line, and the count starts again. */
bool lt_log_limit_pass(struct lt_log_limit *l, long long now_ms, long long period_ms,
                       unsigned long long *suppressed);

#endif
