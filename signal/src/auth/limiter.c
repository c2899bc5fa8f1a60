/*
 * limiter.c - failed-login back-off (see limiter.h). A linear table: it is
 * consulted once per login attempt, which costs a scrypt derivation anyway.
 */
#include "limiter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_MAX 80

struct entry {
    char key[KEY_MAX]; /* "n:<name>" or "a:<addr>"; "" = free */
    unsigned failures;
    int64_t last;      /* time of the last failure */
    int64_t not_before;
};

struct sig_limiter {
    struct entry *e;
    unsigned cap;
};

struct sig_limiter *sig_limiter_new(unsigned capacity)
{
    struct sig_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cap = capacity ? capacity : 1;
    l->e = calloc(l->cap, sizeof *l->e);
    if (!l->e) {
        free(l);
        return NULL;
    }
    return l;
}

void sig_limiter_free(struct sig_limiter *l)
{
    if (l) {
        free(l->e);
        free(l);
    }
}

static void make_key(char out[KEY_MAX], char kind, const char *s)
{
    out[0] = kind;
    out[1] = ':';
    size_t i = 2;
    for (; *s && i < KEY_MAX - 1; s++)
        out[i++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
    out[i] = '\0';
}

static struct entry *find(struct sig_limiter *l, const char *key, int64_t now, bool create)
{
    struct entry *oldest = NULL, *free_slot = NULL;
    for (unsigned i = 0; i < l->cap; i++) {
        struct entry *e = &l->e[i];
        if (e->key[0] && now - e->last > SIG_LIMIT_FORGET_MS && now >= e->not_before)
            e->key[0] = '\0';
        if (!e->key[0]) {
            if (!free_slot)
                free_slot = e;
            continue;
        }
        if (strcmp(e->key, key) == 0)
            return e;
        if (!oldest || e->last < oldest->last)
            oldest = e;
    }
    if (!create)
        return NULL;
    struct entry *e = free_slot ? free_slot : oldest;
    memset(e, 0, sizeof *e);
    strcpy(e->key, key);
    return e;
}

static int64_t wait_for(const struct entry *e, int64_t now)
{
    return e && e->not_before > now ? e->not_before - now : 0;
}

int64_t sig_limiter_check(struct sig_limiter *l, const char *name, const char *addr, int64_t now)
{
    char key[KEY_MAX];
    make_key(key, 'n', name);
    int64_t w = wait_for(find(l, key, now, false), now);
    make_key(key, 'a', addr);
    int64_t wa = wait_for(find(l, key, now, false), now);
    return w > wa ? w : wa;
}

static void note_failure(struct entry *e, unsigned free_failures, int64_t now)
{
    e->failures++;
    e->last = now;
    if (e->failures < free_failures)
        return;
    unsigned shift = e->failures - free_failures;
    int64_t delay = SIG_LIMIT_MAX_DELAY_MS;
    if (shift < 20) {
        delay = (int64_t)SIG_LIMIT_BASE_DELAY_MS << shift;
        if (delay > SIG_LIMIT_MAX_DELAY_MS)
            delay = SIG_LIMIT_MAX_DELAY_MS;
    }
    e->not_before = now + delay;
}

void sig_limiter_failed(struct sig_limiter *l, const char *name, const char *addr, int64_t now)
{
    char key[KEY_MAX];
    make_key(key, 'n', name);
    note_failure(find(l, key, now, true), SIG_LIMIT_FREE_FAILURES, now);
    make_key(key, 'a', addr);
    note_failure(find(l, key, now, true), SIG_LIMIT_FREE_FAILURES * SIG_LIMIT_ADDR_FACTOR, now);
}

void sig_limiter_succeeded(struct sig_limiter *l, const char *name, int64_t now)
{
    char key[KEY_MAX];
    make_key(key, 'n', name);
    struct entry *e = find(l, key, now, false);
    if (e)
        e->key[0] = '\0';
}
