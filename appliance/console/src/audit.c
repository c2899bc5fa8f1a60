/*
 * audit.c - the audit log, newest first, a page at a time, with actor names.
 */
#include "console.h"

#include <stdlib.h>

#include "lanturn/storage.h"

void con_audit_list(struct console *c, const struct con_req *r, const struct con_admin *who,
                    json_t *body, struct con_reply *out)
{
    (void)who;
    (void)body;
    char buf[32];
    const char *b = con_query(r, "before", buf, sizeof buf);
    int64_t before = b ? strtoll(b, NULL, 10) : 0;
    struct sto_audit *a = NULL;
    size_t n = 0;
    if (sto_audit_list(c->db, before > 0 ? before : 0, 100, &a, &n) != 0) {
        con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
        return;
    }
    json_t *list = json_array(), *names = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *actor = "system";
        if (a[i].actor_id) {
            char key[24];
            snprintf(key, sizeof key, "%lld", (long long)a[i].actor_id);
            if (!json_object_get(names, key)) {
                struct sto_user u = {0};
                json_object_set_new(names, key, json_string(sto_user_get(c->db, a[i].actor_id,
                                                                         &u) == 0
                                                                ? u.name
                                                                : key));
                sto_user_clear(&u);
            }
            actor = json_string_value(json_object_get(names, key));
        }
        json_array_append_new(list, json_pack("{sI sI ss ss ss ss}", "id", (json_int_t)a[i].id,
                                              "at", (json_int_t)a[i].at, "actor", actor, "action",
                                              a[i].action, "target", a[i].target ? a[i].target : "",
                                              "detail", a[i].detail ? a[i].detail : ""));
    }
    sto_audit_free(a, n);
    json_decref(names);
    con_json(out, 200, json_pack("{sb so sb}", "ok", 1, "entries", list, "more", n == 100));
}
