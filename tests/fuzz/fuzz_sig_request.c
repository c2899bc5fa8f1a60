/*
 * fuzz_sig_request.c - libFuzzer harness for signald's WebSocket protocol
 * engine (the hub) and its HTTP API routes.
 *
 * One database (in /dev/shm when there is one) with two users, a shared room
 * and sessions is made on the first call. Each input is split at newlines:
 * the first line picks an HTTP route and is its body; the other lines are
 * WebSocket frames from a connection that already said hello. Beyond "no
 * crash": every frame the hub sends must be a JSON object with a "type", and
 * the connection must still answer a ping afterwards unless it was closed.
 */
#include <stdint.h>
#include "fuzz_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "hub/hub.h"
#include "lanturn/storage.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct peer {
    int closed;
    int replies;
};

static int check_send(void *ctx, void *handle, const char *text, size_t len)
{
    (void)ctx;
    json_t *j = json_loadb(text, len, 0, NULL);
    CHECK(j && json_is_object(j) && json_is_string(json_object_get(j, "type")));
    if (strcmp(json_string_value(json_object_get(j, "type")), "event") != 0)
        ((struct peer *)handle)->replies++;
    json_decref(j);
    return 0;
}

static void note_close(void *ctx, void *handle, int code, const char *reason)
{
    (void)ctx;
    (void)code;
    (void)reason;
    ((struct peer *)handle)->closed = 1;
}

static struct sto_db *db;
static struct sig_hub *hub;
static struct sig_api *api;
static struct sig_hub_config hub_cfg;
static struct sig_api_config api_cfg;
static const struct sig_hub_env env = {.send = check_send, .close = note_close};
static char token[STO_TOKEN_LEN + 1];
static int64_t now = 1000;

static char dir[] = "/dev/shm/lanturn-fuzz-XXXXXX";

static void remove_dir(void)
{
    sto_close(db);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void init(void)
{
    char *d = mkdtemp(dir);
    if (!d) {
        memcpy(dir, "/tmp/lanturn-fuzz-XXXXXX", sizeof "/tmp/lanturn-fuzz-XXXXXX");
        d = mkdtemp(dir);
    }
    CHECK(d);
    atexit(remove_dir);
    lt_log_set_level(LT_LOG_ERROR);
    char err[STO_ERR_MAX];
    CHECK(sto_open(d, &db, err, sizeof err) == 0);
    int64_t alice, bob, room, sid;
    CHECK(sto_user_create(db, "alice", "Alice", true, NULL, &alice) == 0);
    CHECK(sto_user_create(db, "bob", "Bob", false, NULL, &bob) == 0);
    CHECK(sto_room_create_group(db, alice, "room", "", &room) == 0);
    CHECK(sto_member_add(db, room, bob, STO_ROLE_MEMBER) == 0);
    CHECK(sto_session_create(db, alice, 86400000, "fuzz", token, &sid) == 0);
    sig_hub_config_defaults(&hub_cfg);
    hub_cfg.rate_burst = 1000000; /* the fuzzer sends fast on purpose */
    static const char *const urls[] = {"turn:127.0.0.1:3478"};
    hub_cfg.turn_urls = urls;
    hub_cfg.n_turn_urls = 1;
    hub_cfg.turn_secret = "fuzz";
    sig_api_config_defaults(&api_cfg);
    api_cfg.kdf.n = SIG_KDF_MIN_N;
    hub = sig_hub_new(&hub_cfg, db, &env);
    api = sig_api_new(&api_cfg, db, hub);
    CHECK(hub && api);
}

static const char *const ROUTES[] = {"/api/login", "/api/password", "/api/users", "/api/logout",
                                     "/api/register", "/api/me", "/nope"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        init();
    now += 1000;
    const char *p = (const char *)data, *end = p + size;
    const char *nl = memchr(p, '\n', size);
    size_t first = nl ? (size_t)(nl - p) : size;
    /* The HTTP route: by the first byte; logins are left out (scrypt is slow
     * and its input is only a name and a password). */
    if (first > 0 && (uint8_t)p[0] % 8 != 0) {
        const char *route = ROUTES[(uint8_t)p[0] % 7];
        if (strcmp(route, "/api/login") != 0) {
            struct sig_http_reply r;
            sig_api_handle(api, "POST", route, token, p + 1, first - 1, "127.0.0.1", "fuzz", now, &r);
            CHECK(r.status >= 200 && r.status < 600);
            sig_http_reply_clear(&r);
        }
    }
    struct sto_session s;
    if (sto_session_get(db, token, &s) != 0) { /* logged out by the route above */
        int64_t sid;
        CHECK(sto_session_create(db, 1, 86400000, "fuzz", token, &sid) == 0);
    }
    sto_session_clear(&s);
    struct peer peer = {0};
    struct sig_conn *c = sig_hub_open(hub, &peer, "127.0.0.1", now);
    CHECK(c);
    char hello[128];
    snprintf(hello, sizeof hello, "{\"type\":\"hello\",\"token\":\"%s\"}", token);
    sig_hub_recv(hub, c, hello, strlen(hello), now);
    sig_hub_flush(hub);
    for (p += first + (nl ? 1 : 0); p < end && !peer.closed;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t len = e ? (size_t)(e - p) : (size_t)(end - p);
        int before = peer.replies;
        sig_hub_recv(hub, c, p, len, now);
        sig_hub_flush(hub); /* the end of the event-loop turn: held replies go out */
        CHECK(peer.closed || peer.replies > before); /* every frame is answered */
        sig_hub_tick(hub, now);
        p += len + (e ? 1 : 0);
    }
    if (!peer.closed) {
        int before = peer.replies;
        sig_hub_recv(hub, c, "{\"type\":\"ping\"}", 15, now);
        sig_hub_flush(hub);
        CHECK(peer.replies == before + 1);
    }
    sig_hub_closed(hub, c, now);
    sig_hub_tick(hub, now + 3600000); /* ends any call left ringing */
    return 0;
}
