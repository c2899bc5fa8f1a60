/*
 * sto_bench.c - fills a data directory with a chat history of realistic shape
 * and measures the reads the chat service makes most: a history page, a
 * search (trigram index and short-query fallback), the unread counts, the
 * room list (room by room as before, and in two statements).
 *
 *   sto_bench DIR [MESSAGES [USERS [ROOMS]]]      defaults: 1000000 200 500
 *
 * Run it on an optimised build (not under sanitizers) to read the numbers;
 * it reuses DIR if it already holds the requested number of messages.
 */
#include "lanturn/storage.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const words[] = {
    "meeting", "deploy",   "review", "lunch",  "budget",     "release",  "server", "network",
    "backup",  "storage",  "call",   "screen", "share",      "report",   "ticket", "urgent",
    "today",   "tomorrow", "thanks", "please", "update",     "status",   "design", "customer",
    "会議",    "資料",     "確認",   "お願い", "明日",       "今日",     "予定",   "共有",
    "障害",    "対応",     "報告",   "連絡",   "ありがとう", "よろしく", "進捗",   "会議室",
};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int n)
{
    qsort(t, (size_t)n, sizeof(*t), cmp_double);
    printf("%-36s n=%-5d p50=%7.2f ms  p99=%7.2f ms  max=%7.2f ms\n", what, n, t[n / 2],
           t[(n * 99) / 100], t[n - 1]);
}

static void die(struct sto_db *db, const char *what, int rc)
{
    fprintf(stderr, "%s: %d %s\n", what, rc, sto_errmsg(db));
    exit(1);
}

static void fill(struct sto_db *db, long messages, int users, int rooms)
{
    char name[32], body[512];
    int rc;
    double t0 = now_ms();
    if ((rc = sto_begin(db))) die(db, "begin", rc);
    for (int u = 0; u < users; u++) {
        snprintf(name, sizeof(name), "user%d", u);
        if ((rc = sto_user_create(db, name, NULL, false, NULL, NULL))) die(db, "user", rc);
    }
    /* Each room has its creator and about 20 others. */
    for (int r = 0; r < rooms; r++) {
        snprintf(name, sizeof(name), "room%d", r);
        int64_t room;
        int64_t owner = 1 + r % users;
        if ((rc = sto_room_create_group(db, owner, name, NULL, &room))) die(db, "room", rc);
        for (int k = 0; k < 20; k++) {
            rc = sto_member_add(db, room, 1 + rnd() % (uint32_t)users, STO_ROLE_MEMBER);
            if (rc && rc != -EEXIST) die(db, "member", rc);
        }
    }
    if ((rc = sto_commit(db))) die(db, "commit", rc);

    for (long i = 0; i < messages; i++) {
        if (i % 10000 == 0 && (rc = sto_begin(db))) die(db, "begin", rc);
        int64_t room = 1 + rnd() % (uint32_t)rooms;
        size_t len = 0;
        int nw = 3 + (int)(rnd() % 25);
        for (int w = 0; w < nw && len < sizeof(body) - 40; w++)
            len += (size_t)snprintf(body + len, sizeof(body) - len, "%s%s", w ? " " : "",
                                    words[rnd() % N_WORDS]);
        /* Sent by the room's owner, who always is a member. */
        struct sto_message_new msg = {
            .room_id = room, .sender_id = 1 + (room - 1) % users, .body = body};
        if ((rc = sto_message_insert(db, &msg, NULL, NULL))) die(db, "message", rc);
        if (i % 10000 == 9999 || i == messages - 1) {
            if ((rc = sto_commit(db))) die(db, "commit", rc);
        }
        if (i % 100000 == 99999)
            fprintf(stderr, "  %ld messages, %.0f/s\n", i + 1, (i + 1) / ((now_ms() - t0) / 1e3));
    }
    printf("filled %ld messages in %.1f s\n", messages, (now_ms() - t0) / 1e3);
}

/* The room list as signald built it before sto_room_summaries(): a statement
 * for the rooms, the unread counts, then three per room. Kept to compare. */
static void room_list_per_room(struct sto_db *db, int64_t user)
{
    struct sto_room *rooms;
    struct sto_unread *u;
    size_t n, nu;
    int rc;
    if ((rc = sto_room_list_for_user(db, user, &rooms, &n))) die(db, "rooms", rc);
    if ((rc = sto_unread_counts(db, user, &u, &nu))) die(db, "unread", rc);
    for (size_t i = 0; i < n; i++) {
        struct sto_member *m;
        struct sto_message *last;
        size_t nm, nl;
        int64_t pos;
        if ((rc = sto_room_members(db, rooms[i].id, &m, &nm))) die(db, "members", rc);
        sto_members_free(m);
        sto_read_get(db, rooms[i].id, user, &pos);
        if ((rc = sto_message_page(db, rooms[i].id, 0, 1, &last, &nl))) die(db, "last", rc);
        sto_messages_free(last, nl);
    }
    free(u);
    sto_rooms_free(rooms, n);
}

static void bench_room_list(struct sto_db *db, int users, double *t, int runs, const char *when)
{
    for (int pass = 0; pass < 2; pass++) {
        uint64_t stmts = sto_statements_run(db);
        for (int i = 0; i < runs; i++) {
            int64_t user = 1 + rnd() % (uint32_t)users;
            double s = now_ms();
            if (pass) {
                struct sto_room_summary *r;
                size_t n;
                int rc = sto_room_summaries(db, user, &r, &n);
                if (rc) die(db, "room summaries", rc);
                sto_room_summaries_free(r, n);
            } else {
                room_list_per_room(db, user);
            }
            t[i] = now_ms() - s;
        }
        char what[64];
        snprintf(what, sizeof what, "room list, %s%s", pass ? "2 statements" : "per room", when);
        report(what, t, runs);
        printf("%-36s %.1f statements per list\n", "",
               (double)(sto_statements_run(db) - stmts) / runs);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sto_bench DIR [MESSAGES [USERS [ROOMS]]]\n");
        return 2;
    }
    long messages = argc > 2 ? atol(argv[2]) : 1000000;
    int users = argc > 3 ? atoi(argv[3]) : 200, rooms = argc > 4 ? atoi(argv[4]) : 500;
    struct sto_db *db;
    char err[STO_ERR_MAX];
    int rc = sto_open(argv[1], &db, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    struct sto_message *page;
    size_t n;
    if ((rc = sto_message_page(db, 1, 0, 1, &page, &n))) die(db, "page", rc);
    sto_messages_free(page, n);
    if (n == 0) fill(db, messages, users, rooms);

    enum { RUNS = 2000 };
    static double t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        int64_t room = 1 + rnd() % (uint32_t)rooms;
        int64_t before = i % 2 ? 0 : 1 + (int64_t)(rnd() % (uint32_t)messages);
        double s = now_ms();
        if ((rc = sto_message_page(db, room, before, 50, &page, &n))) die(db, "page", rc);
        t[i] = now_ms() - s;
        sto_messages_free(page, n);
    }
    report("history page (50)", t, RUNS);

    static const char *const long_q[] = {"meeting",       "deploy status", "会議室", "ありがとう",
                                         "budget report", "進捗 報告",     "urgent"};
    static const char *const short_q[] = {"会議", "資料", "明日", "予定"};
    for (int pass = 0; pass < 2; pass++) {
        int runs = 500;
        for (int i = 0; i < runs; i++) {
            int64_t user = 1 + rnd() % (uint32_t)users;
            const char *q = pass ? short_q[rnd() % 4] : long_q[rnd() % 7];
            struct sto_search_hit *h;
            double s = now_ms();
            if ((rc = sto_search(db, user, q, 0, 20, &h, &n))) die(db, "search", rc);
            t[i] = now_ms() - s;
            sto_search_free(h, n);
        }
        report(pass ? "search, 1-2 chars (LIKE)" : "search, trigram index", t, runs);
    }
    /* A rare word: the index answers from few rows; LIKE must scan. */
    for (int pass = 0; pass < 2; pass++) {
        int runs = 50;
        for (int i = 0; i < runs; i++) {
            struct sto_search_hit *h;
            double s = now_ms();
            if ((rc = sto_search(db, 1 + rnd() % (uint32_t)users, pass ? "zq" : "zqx", 0, 20, &h,
                                 &n)))
                die(db, "search", rc);
            t[i] = now_ms() - s;
            sto_search_free(h, n);
        }
        report(pass ? "search, no hit, 2 chars" : "search, no hit, 3 chars", t, runs);
    }
    for (int i = 0; i < 500; i++) {
        struct sto_unread *u;
        double s = now_ms();
        if ((rc = sto_unread_counts(db, 1 + rnd() % (uint32_t)users, &u, &n)))
            die(db, "unread", rc);
        t[i] = now_ms() - s;
        free(u);
    }
    report("unread counts (all rooms)", t, 500);
    bench_room_list(db, users, t, 500, "");
    /* Once everyone has read everything the unread counts cost little, and
     * what is left is the cost of the statements themselves. */
    if ((rc = sto_begin(db))) die(db, "begin", rc);
    for (int64_t u = 1; u <= users; u++) {
        struct sto_room *in;
        if ((rc = sto_room_list_for_user(db, u, &in, &n))) die(db, "rooms", rc);
        for (size_t i = 0; i < n; i++)
            sto_read_set(db, in[i].id, u, INT64_MAX);
        sto_rooms_free(in, n);
    }
    if ((rc = sto_commit(db))) die(db, "commit", rc);
    bench_room_list(db, users, t, 500, ", all read");
    sto_close(db);
    return 0;
}
