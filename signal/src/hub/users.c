/*
 * users.c - who is here: the user directory, presence, typing indicators,
 * TURN credentials and search. Presence and typing are ephemeral (no seq):
 * a reconnecting client asks for the current state instead of a history.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth/turn_creds.h"

int h_ping(struct req *r)
{
    r->result = json_pack("{sI}", "now", (json_int_t)r->now);
    return 0;
}

int h_user_me(struct req *r)
{
    struct sto_user u = {0};
    int err = sto_user_get(r->hub->db, r->conn->user_id, &u);
    if (err)
        return req_fail_sto(r, err, "user");
    r->result = json_pack("{so}", "user", json_user(&u, user_presence(r->hub, u.id)));
    sto_user_clear(&u);
    return 0;
}

int h_user_list(struct req *r)
{
    int64_t after;
    int limit;
    if (req_id_opt(r, "after", &after) || req_limit(r, 200, 1000, &limit))
        return -1;
    struct sto_user *u = NULL;
    size_t n = 0;
    int err = sto_user_list(r->hub->db, after, limit, &u, &n);
    if (err)
        return req_fail_sto(r, err, "user list");
    json_t *users = json_array();
    for (size_t i = 0; i < n; i++)
        if (!u[i].disabled)
            json_array_append_new(users, json_user(&u[i], user_presence(r->hub, u[i].id)));
    r->result = json_pack("{so sb}", "users", users, "more", n == (size_t)limit);
    sto_users_free(u, n);
    return 0;
}

int h_presence_set(struct req *r)
{
    const char *status;
    if (req_str(r, "status", &status))
        return -1;
    bool away;
    if (strcmp(status, "online") == 0)
        away = false;
    else if (strcmp(status, "away") == 0)
        away = true;
    else
        return req_fail(r, "bad_request", "\"status\" must be \"online\" or \"away\"");
    enum presence before = user_presence(r->hub, r->conn->user_id);
    r->conn->away = away;
    presence_changed(r->hub, r->conn->user_id, before);
    r->result = json_pack("{ss}", "presence", presence_name(user_presence(r->hub, r->conn->user_id)));
    return 0;
}

int h_presence_list(struct req *r)
{
    json_t *list = json_array();
    for (struct sig_conn *c = r->hub->conns; c; c = c->next) {
        if (!c->user_id || user_conns(r->hub, c->user_id) != c)
            continue; /* each user once: at their first connection in the index */
        json_array_append_new(list, json_pack("{sI ss}", "user", (json_int_t)c->user_id, "status",
                                              presence_name(user_presence(r->hub, c->user_id))));
    }
    r->result = json_pack("{so}", "online", list);
    return 0;
}

int h_typing(struct req *r)
{
    int64_t room;
    bool active = true;
    if (req_id(r, "room", &room) || req_bool_opt(r, "active", &active) || req_member(r, room, NULL))
        return -1;
    struct sto_member *m = NULL;
    size_t n = 0;
    int err = sto_room_members(r->hub->db, room, &m, &n);
    if (err)
        return req_fail_sto(r, err, "members");
    json_t *data = json_pack("{sI sI sb}", "room", (json_int_t)room, "user",
                             (json_int_t)r->conn->user_id, "active", active);
    for (size_t i = 0; i < n; i++)
        user_send_ephemeral(r->hub, m[i].user_id, "typing", data, r->conn);
    json_decref(data);
    sto_members_free(m);
    return 0;
}

int h_turn_credentials(struct req *r)
{
    const struct sig_hub_config *cfg = r->hub->cfg;
    if (!cfg->turn_secret || !*cfg->turn_secret || cfg->n_turn_urls == 0)
        return req_fail(r, "unavailable", "this server has no TURN service configured");
    int64_t expires = (int64_t)time(NULL) + cfg->turn_ttl_s;
    char user[SIG_TURN_USERNAME_MAX], pass[SIG_TURN_PASSWORD_MAX];
    if (sig_turn_credentials(cfg->turn_secret, r->conn->user_id, expires, user, pass) != 0)
        return req_fail(r, "internal", "could not make TURN credentials");
    json_t *urls = json_array();
    for (size_t i = 0; i < cfg->n_turn_urls; i++)
        json_array_append_new(urls, json_string(cfg->turn_urls[i]));
    r->result = json_pack("{s[{so ss ss}] ss sI sI}", "iceServers", "urls", urls, "username", user,
                          "credential", pass, "iceTransportPolicy",
                          cfg->relay_only ? "relay" : "all", "ttl", (json_int_t)cfg->turn_ttl_s,
                          "expires_at", (json_int_t)expires);
    return 0;
}

int h_search(struct req *r)
{
    const char *query;
    int64_t before;
    int limit;
    if (req_str(r, "query", &query) || req_id_opt(r, "before", &before) ||
        req_limit(r, 20, 100, &limit))
        return -1;
    if (!*query || strlen(query) > STO_QUERY_MAX)
        return req_fail(r, "bad_request", "\"query\" must be 1..%d bytes", STO_QUERY_MAX);
    struct sto_search_hit *hits = NULL;
    size_t n = 0;
    int err = sto_search(r->hub->db, r->conn->user_id, query, before, limit, &hits, &n);
    if (err)
        return req_fail_sto(r, err, "search");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        char *snippet = NULL;
        sto_snippet(hits[i].body, query, "<mark>", "</mark>", 160, STO_SNIPPET_HTML, &snippet);
        json_array_append_new(list, json_pack("{sI sI sI sI ss}", "message",
                                              (json_int_t)hits[i].message_id, "room",
                                              (json_int_t)hits[i].room_id, "sender",
                                              (json_int_t)hits[i].sender_id, "created_at",
                                              (json_int_t)hits[i].created_at, "snippet_html",
                                              snippet ? snippet : ""));
        free(snippet);
    }
    r->result = json_pack("{so sb}", "hits", list, "more", n == (size_t)limit);
    sto_search_free(hits, n);
    return 0;
}
