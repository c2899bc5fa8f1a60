/*
 * bench_seed.c - fills a data directory for tools/bench-signal, fast:
 *
 *   bench-seed DATA_DIR USERS MESSAGES OUT_FILE
 *
 * Users bench00000 ... with one password verifier ("bench password", scrypt
 * at the lowest cost signald accepts) hashed once and stored for all of them:
 * hashing 20,000 verifiers would take half an hour and measure nothing. Then
 * rooms: chat rooms of 10-500 members that partition the users, one room of
 * min(5000, USERS) members for fan-out, one room of 50 members holding
 * MESSAGES messages for history and search; a session per user. Everything
 * goes through liblanturn-storage (no SQL here), in batched transactions.
 *
 * OUT_FILE gets what the load generator needs, one record a line:
 *   user INDEX ID TOKEN
 *   room ID KIND FIRST COUNT      KIND is chat, fanout or history; its
 *                                 members are the users FIRST..FIRST+COUNT-1
 */
#include "auth/password.h"
#include "lanturn/storage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PASSWORD "bench password"
#define BATCH 5000
#define FANOUT_MAX 5000
#define HISTORY_MEMBERS 50

/* Chat room sizes, repeated until every user is in one: mean ~97 members. */
static const int CHAT_SIZES[] = {10, 10, 10, 20, 20, 50, 50, 100, 200, 500};

static const char *const WORDS[] = {
    "meeting", "deploy",  "review",  "lunch",   "budget", "release", "server", "network",
    "backup",  "storage", "call",    "screen",  "share",  "report",  "ticket", "urgent",
    "today",   "thanks",  "please",  "update",  "status", "design",  "customer", "会議",
    "資料",    "確認",    "お願い",  "明日",    "予定",   "共有",    "障害",   "進捗",
};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

static struct sto_db *db;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench-seed: %s: %s (%d)\n", what, sto_errmsg(db), rc);
        exit(1);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A group room owned by users[first] with users[first..first+count-1]. */
static int64_t make_room(const int64_t *ids, int users, int first, int count, const char *name)
{
    int64_t room;
    check(sto_room_create_group(db, ids[first % users], name, NULL, &room), "room");
    for (int k = 1; k < count; k++)
        check(sto_member_add(db, room, ids[(first + k) % users], STO_ROLE_MEMBER), "member");
    return room;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("bench-seed - fills a data directory for tools/bench-signal: USERS users with one\n"
               "session each, chat rooms of 10-500 members, a fan-out room of up to 5,000, and a\n"
               "50-member room holding MESSAGES messages; OUT_FILE gets the layout the load\n"
               "generator reads.\n\n"
               "usage: bench-seed DATA_DIR USERS MESSAGES OUT_FILE\n");
        return 0;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: bench-seed DATA_DIR USERS MESSAGES OUT_FILE\n");
        return 2;
    }
    int users = atoi(argv[2]);
    long messages = atol(argv[3]);
    if (users < HISTORY_MEMBERS || users > 1000000 || messages < 1) {
        fprintf(stderr, "bench-seed: USERS %d..1000000, MESSAGES >= 1\n", HISTORY_MEMBERS);
        return 2;
    }
    char err[STO_ERR_MAX];
    if (sto_open(argv[1], &db, err, sizeof err) != 0) {
        fprintf(stderr, "bench-seed: %s\n", err);
        return 1;
    }
    FILE *out = fopen(argv[4], "w");
    if (!out) {
        perror(argv[4]);
        return 1;
    }
    double t0 = now_s();
    struct sig_kdf kdf;
    sig_kdf_defaults(&kdf);
    kdf.n = SIG_KDF_MIN_N;
    struct sig_password_hash h;
    if (sig_password_hash(BENCH_PASSWORD, &kdf, &h) != 0) {
        fprintf(stderr, "bench-seed: cannot hash the password\n");
        return 1;
    }
    struct sto_password pw = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    int64_t *ids = calloc((size_t)users, sizeof *ids);
    if (!ids)
        return 1;
    char name[64];
    for (int i = 0; i < users; i++) {
        if (i % BATCH == 0)
            check(sto_begin(db), "begin");
        snprintf(name, sizeof name, "bench%05d", i);
        check(sto_user_create(db, name, NULL, false, &pw, &ids[i]), "user");
        if (i % BATCH == BATCH - 1 || i == users - 1)
            check(sto_commit(db), "commit");
    }

    check(sto_begin(db), "begin");
    int r = 0;
    for (int first = 0; first < users; r++) {
        int count = CHAT_SIZES[r % (sizeof CHAT_SIZES / sizeof CHAT_SIZES[0])];
        if (count > users - first)
            count = users - first;
        if (count < 2 && first > 0) /* a lone last user joins the room before */
            break;
        snprintf(name, sizeof name, "chat %d", r);
        int64_t room = make_room(ids, users, first, count, name);
        fprintf(out, "room %lld chat %d %d\n", (long long)room, first, count);
        first += count;
    }
    int fan = users < FANOUT_MAX ? users : FANOUT_MAX;
    int64_t fan_room = make_room(ids, users, 0, fan, "fan-out");
    fprintf(out, "room %lld fanout 0 %d\n", (long long)fan_room, fan);
    int64_t hist_room = make_room(ids, users, 0, HISTORY_MEMBERS, "history");
    fprintf(out, "room %lld history 0 %d\n", (long long)hist_room, HISTORY_MEMBERS);
    check(sto_commit(db), "commit");
    fprintf(stderr, "bench-seed: %d users, %d chat rooms in %.1f s\n", users, r, now_s() - t0);

    char body[512];
    for (long i = 0; i < messages; i++) {
        if (i % 10000 == 0)
            check(sto_begin(db), "begin");
        size_t len = 0;
        int nw = 3 + (int)(rnd() % 25);
        for (int w = 0; w < nw && len < sizeof body - 40; w++)
            len += (size_t)snprintf(body + len, sizeof body - len, "%s%s", w ? " " : "",
                                    WORDS[rnd() % N_WORDS]);
        struct sto_message_new m = {.room_id = hist_room,
                                    .sender_id = ids[i % HISTORY_MEMBERS],
                                    .body = body};
        check(sto_message_insert(db, &m, NULL, NULL), "message");
        if (i % 10000 == 9999 || i == messages - 1)
            check(sto_commit(db), "commit");
        if (i % 200000 == 199999)
            fprintf(stderr, "bench-seed: %ld messages, %.0f/s\n", i + 1, (i + 1) / (now_s() - t0));
    }

    char token[STO_TOKEN_LEN + 1];
    for (int i = 0; i < users; i++) {
        if (i % BATCH == 0)
            check(sto_begin(db), "begin");
        check(sto_session_create(db, ids[i], 30LL * 86400 * 1000, "bench-signal", token, NULL),
              "session");
        fprintf(out, "user %d %lld %s\n", i, (long long)ids[i], token);
        if (i % BATCH == BATCH - 1 || i == users - 1)
            check(sto_commit(db), "commit");
    }
    if (fclose(out) != 0) {
        perror(argv[4]);
        return 1;
    }
    fprintf(stderr, "bench-seed: done in %.1f s\n", now_s() - t0);
    free(ids);
    sto_close(db);
    return 0;
}
