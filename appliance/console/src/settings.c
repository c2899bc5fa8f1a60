/*
 * settings.c - the config file's groups with help text, and editing one
 * setting. An edit changes only that setting's text (comments and layout
 * stay), is written to a temporary file next to the config, checked by this
 * console's own loader and by `applianced --config TEMP --check` (which asks
 * every service), and only then renamed over the config; the old text is kept
 * as <config>.previous. The affected service is then restarted by applianced.
 */
#include "console.h"
#include "settings_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

static bool is_secret(const char *key)
{
    return strstr(key, "secret") && !strstr(key, "_file");
}

static json_t *setting_json(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: return json_integer(config_setting_get_int(s));
    case CONFIG_TYPE_INT64: return json_integer(config_setting_get_int64(s));
    case CONFIG_TYPE_FLOAT: return json_real(config_setting_get_float(s));
    case CONFIG_TYPE_BOOL: return json_boolean(config_setting_get_bool(s));
    case CONFIG_TYPE_STRING: return json_string(config_setting_get_string(s));
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        json_t *a = json_array();
        for (int i = 0; i < config_setting_length(s); i++)
            json_array_append_new(a, setting_json(config_setting_get_elem(s, (unsigned)i)));
        return a;
    }
    case CONFIG_TYPE_GROUP: {
        json_t *o = json_object();
        for (int i = 0; i < config_setting_length(s); i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            json_object_set_new(o, config_setting_name(e),
                                strstr(config_setting_name(e), "password")
                                    ? json_string("(hidden)")
                                    : setting_json(e));
        }
        return o;
    }
    default: return json_null();
    }
}

static const char *type_name(enum con_stype t)
{
    return t == CON_S_INT ? "int" : t == CON_S_BOOL ? "bool" : t == CON_S_LIST ? "list" : "string";
}

static int read_config(const struct console *c, config_t *lc, char *err, size_t cap)
{
    config_init(lc);
    if (config_read_file(lc, c->cfg->config_path) == CONFIG_TRUE)
        return 0;
    if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
        snprintf(err, cap, "%s: cannot read: %s", c->cfg->config_path, strerror(errno));
    else
        snprintf(err, cap, "%s:%d: %s", c->cfg->config_path, config_error_line(lc),
                 config_error_text(lc));
    config_destroy(lc);
    return -EINVAL;
}

void con_settings_get(struct console *c, const struct con_req *r, const struct con_admin *who,
                      json_t *body, struct con_reply *out)
{
    (void)r;
    (void)who;
    (void)body;
    if (!c->cfg->config_path) {
        con_error(out, 409, "no_config", "lanturn-console was started without --config");
        return;
    }
    config_t lc;
    char err[600];
    if (read_config(c, &lc, err, sizeof err)) {
        con_error(out, 500, "config", "%s", err);
        return;
    }
    json_t *groups = json_array();
    for (const struct con_group_doc *g = CON_GROUPS; g->name; g++) {
        json_t *list = json_array();
        const config_setting_t *gs = config_lookup(&lc, g->name);
        for (const struct con_setting_doc *d = CON_SETTINGS; d->key; d++) {
            if (strcmp(d->group, g->name) != 0)
                continue;
            const config_setting_t *s = gs ? config_setting_get_member(gs, d->key) : NULL;
            json_array_append_new(list, json_pack("{ss ss ss sb so sb}", "key", d->key, "type",
                                                  type_name(d->type), "help", d->help, "set",
                                                  s != NULL, "value",
                                                  s ? setting_json(s) : json_null(), "editable",
                                                  1));
        }
        /* settings in the file the schema does not describe: shown, read-only */
        for (int i = 0; gs && config_setting_is_group(gs) && i < config_setting_length(gs); i++) {
            const config_setting_t *s = config_setting_get_elem(gs, (unsigned)i);
            const struct con_setting_doc *d = CON_SETTINGS;
            while (d->key && !(strcmp(d->group, g->name) == 0 &&
                               strcmp(d->key, config_setting_name(s)) == 0))
                d++;
            if (d->key)
                continue;
            bool secret = is_secret(config_setting_name(s));
            json_array_append_new(list, json_pack("{ss ss ss sb so sb}", "key",
                                                  config_setting_name(s), "type", "other", "help",
                                                  secret ? "A secret: edit it in the file." : "",
                                                  "set", 1, "value",
                                                  secret ? json_string("(hidden)") : setting_json(s),
                                                  "editable", 0));
        }
        json_array_append_new(groups, json_pack("{ss ss ss* ss so}", "name", g->name, "title",
                                                g->title, "service", g->service, "help", g->help,
                                                "settings", list));
    }
    config_destroy(&lc);
    con_json(out, 200, json_pack("{sb ss so}", "ok", 1, "path", c->cfg->config_path, "groups",
                                 groups));
}

/* ---- rendering a value as libconfig text ---- */

static void put_string(char *out, size_t cap, size_t *n, const char *s)
{
    *n += (size_t)snprintf(out + *n, *n < cap ? cap - *n : 0, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *n += (size_t)snprintf(out + *n, *n < cap ? cap - *n : 0, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            continue; /* no control characters in a config value */
        else
            *n += (size_t)snprintf(out + *n, *n < cap ? cap - *n : 0, "%c", *s);
    }
    *n += (size_t)snprintf(out + *n, *n < cap ? cap - *n : 0, "\"");
}

/* 0 with the literal in out, or -EINVAL with a message. */
static int render(enum con_stype t, json_t *v, char *out, size_t cap, char *err, size_t ecap)
{
    size_t n = 0;
    out[0] = '\0';
    switch (t) {
    case CON_S_STRING:
        if (!json_is_string(v))
            goto bad;
        put_string(out, cap, &n, json_string_value(v));
        break;
    case CON_S_INT: {
        long long x;
        char *end;
        if (json_is_integer(v))
            x = json_integer_value(v);
        else if (json_is_string(v) && (x = strtoll(json_string_value(v), &end, 10), !*end) &&
                 json_string_value(v)[0])
            ;
        else
            goto bad;
        n = (size_t)snprintf(out, cap, "%lld", x);
        break;
    }
    case CON_S_BOOL:
        if (!json_is_boolean(v))
            goto bad;
        n = (size_t)snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
        break;
    case CON_S_LIST: {
        if (!json_is_array(v))
            goto bad;
        n = (size_t)snprintf(out, cap, "[");
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!json_is_string(e))
                goto bad;
            if (i)
                n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, ", ");
            put_string(out, cap, &n, json_string_value(e));
        }
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "]");
        break;
    }
    }
    if (n >= cap) {
        snprintf(err, ecap, "the value is too long");
        return -EINVAL;
    }
    return 0;
bad:
    snprintf(err, ecap, "expected %s",
             t == CON_S_STRING ? "a string" : t == CON_S_INT ? "an integer"
             : t == CON_S_BOOL ? "true or false" : "a list of strings");
    return -EINVAL;
}

/* ---- editing the text ---- */

static size_t line_start(const char *text, int line)
{
    size_t pos = 0;
    for (int l = 1; l < line && text[pos]; pos++)
        if (text[pos] == '\n')
            l++;
    return pos;
}

/* End of the value starting at pos: the ';' or ',' ending it at depth 0
 * (returned position is that terminator or where the value stops). */
static size_t value_end(const char *t, size_t pos, bool *has_term)
{
    int depth = 0;
    bool quote = false, content = false;
    for (; t[pos]; pos++) {
        char ch = t[pos];
        if (quote) {
            if (ch == '\\' && t[pos + 1])
                pos++;
            else if (ch == '"')
                quote = false;
            continue;
        }
        if (ch == '"')
            quote = content = true;
        else if (ch == '[' || ch == '(' || ch == '{')
            depth++, content = true;
        else if (ch == ']' || ch == ')' || ch == '}') {
            if (depth == 0)
                break;
            depth--;
        } else if (depth == 0 && (ch == ';' || ch == ',')) {
            *has_term = true;
            return pos;
        } else if (depth == 0 && ch == '\n' && content)
            break;
        else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            content = true;
    }
    *has_term = false;
    while (pos > 0 && (t[pos - 1] == ' ' || t[pos - 1] == '\t' || t[pos - 1] == '\r' ||
                       t[pos - 1] == '\n'))
        pos--;
    return pos;
}

static bool ident_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '*';
}

/* The new text with group.key set to literal (NULL: removed); malloc'd. */
static char *edit(const char *text, config_t *lc, const char *group, const char *key,
                  const char *literal, char *err, size_t cap)
{
    char path[160];
    snprintf(path, sizeof path, "%s.%s", group, key);
    const config_setting_t *s = config_lookup(lc, path);
    const config_setting_t *g = config_lookup(lc, group);
    size_t len = strlen(text);
    char *out = malloc(len + strlen(literal ? literal : "") + strlen(group) + strlen(key) + 64);
    if (!out)
        return NULL;
    if (s) {
        size_t ls = line_start(text, config_setting_source_line(s)), k = ls, klen = strlen(key);
        for (; text[k] && text[k] != '\n'; k++)
            if (strncmp(text + k, key, klen) == 0 && (k == 0 || !ident_char(text[k - 1])) &&
                !ident_char(text[k + klen]))
                break;
        size_t v = k + klen;
        while (text[v] == ' ' || text[v] == '\t')
            v++;
        if (strncmp(text + k, key, klen) != 0 || (text[v] != '=' && text[v] != ':')) {
            snprintf(err, cap, "cannot find %s in the file's text; edit it by hand", path);
            free(out);
            return NULL;
        }
        v++;
        bool term;
        size_t e = value_end(text, v, &term);
        if (literal)
            sprintf(out, "%.*s %s%s", (int)v, text, literal, text + e);
        else /* drop "key = value;" */
            sprintf(out, "%.*s%s", (int)k, text, text + e + (term ? 1 : 0));
        return out;
    }
    if (!literal) {
        memcpy(out, text, len + 1);
        return out;
    }
    if (g) {
        size_t p = line_start(text, config_setting_source_line(g));
        while (text[p] && text[p] != '{')
            p++;
        if (text[p] != '{') {
            snprintf(err, cap, "cannot find the group %s in the file's text", group);
            free(out);
            return NULL;
        }
        sprintf(out, "%.*s\n  %s = %s;%s", (int)(p + 1), text, key, literal, text + p + 1);
        return out;
    }
    sprintf(out, "%s%s\n%s:\n{\n  %s = %s;\n};\n", text, len && text[len - 1] != '\n' ? "\n" : "",
            group, key, literal);
    return out;
}

static char *slurp(const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    char tmp[4096];
    size_t k;
    while (m && (k = fread(tmp, 1, sizeof tmp, f)) > 0)
        fwrite(tmp, 1, k, m);
    fclose(f);
    if (m)
        fclose(m);
    return buf;
}

static int write_file(const char *path, const char *text, mode_t mode, char *err, size_t cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    size_t len = strlen(text);
    if (fd < 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        return -errno;
    }
    bool ok = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

/* Replaces every occurrence of from in s by to (messages name the real file). */
static void replace_all(char *s, size_t cap, const char *from, const char *to)
{
    char tmp[4096];
    size_t o = 0, fl = strlen(from);
    for (const char *p = s; *p && o + 1 < sizeof tmp;) {
        if (fl && strncmp(p, from, fl) == 0) {
            o += (size_t)snprintf(tmp + o, sizeof tmp - o, "%s", to);
            p += fl;
        } else {
            tmp[o++] = *p++;
        }
    }
    tmp[o < sizeof tmp ? o : sizeof tmp - 1] = '\0';
    snprintf(s, cap, "%s", tmp);
}

void con_settings_set(struct console *c, const struct con_req *r, const struct con_admin *who,
                      json_t *body, struct con_reply *out)
{
    (void)r;
    const char *group = json_string_value(json_object_get(body, "group"));
    const char *key = json_string_value(json_object_get(body, "key"));
    json_t *value = json_object_get(body, "value");
    bool reset = json_is_true(json_object_get(body, "reset"));
    const char *path = c->cfg->config_path;
    if (!path) {
        con_error(out, 409, "no_config", "lanturn-console was started without --config");
        return;
    }
    const struct con_setting_doc *d = CON_SETTINGS;
    while (d->key && !(group && key && strcmp(d->group, group) == 0 && strcmp(d->key, key) == 0))
        d++;
    if (!d->key) {
        con_error(out, 400, "bad_request", "unknown setting %s.%s", group ? group : "?",
                  key ? key : "?");
        return;
    }
    char literal[4096], err[4096];
    if (!reset && render(d->type, value, literal, sizeof literal, err, sizeof err) != 0) {
        con_error(out, 400, "invalid", "%s.%s: %s", group, key, err);
        return;
    }
    config_t lc;
    if (read_config(c, &lc, err, sizeof err)) {
        con_error(out, 500, "config", "%s", err);
        return;
    }
    char *text = slurp(path, err, sizeof err);
    char *edited = text ? edit(text, &lc, group, key, reset ? NULL : literal, err, sizeof err)
                        : NULL;
    config_destroy(&lc);
    char tmp[4200] = "";
    struct stat st;
    if (!edited) {
        con_error(out, 500, "edit", "%s", err);
        goto out;
    }
    if (stat(path, &st) != 0)
        st.st_mode = 0640;
    snprintf(tmp, sizeof tmp, "%s.console-XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        con_error(out, 500, "write", "cannot write next to %s: %s (is its directory writable by "
                  "the console?)", path, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    close(fd);
    if (write_file(tmp, edited, st.st_mode & 0777, err, sizeof err) != 0) {
        con_error(out, 500, "write", "%s", err);
        goto out;
    }
    /* the console's own group, then every service's through applianced */
    struct con_config check;
    con_config_defaults(&check);
    int bad = con_config_load_file(&check, tmp, err, sizeof err);
    con_config_release(&check);
    if (!bad) {
        char *argv[] = {c->cfg->applianced_bin, "--config", tmp, "--check", NULL};
        bad = con_run(argv, err, sizeof err) != 0;
    }
    if (bad) {
        replace_all(err, sizeof err, tmp, path);
        con_error(out, 422, "invalid", "%s", err);
        goto out;
    }
    char prev[4200];
    snprintf(prev, sizeof prev, "%s.previous", path);
    write_file(prev, text, st.st_mode & 0777, err, sizeof err);
    if (rename(tmp, path) != 0) {
        con_error(out, 500, "write", "cannot replace %s: %s", path, strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
    con_audit(c, who, "settings.change", group, "%s = %s", key,
              reset ? "(default)" : is_secret(key) ? "(hidden)" : literal);
    json_t *res = json_pack("{sb ss}", "ok", 1, "setting", key);
    const struct con_group_doc *g = CON_GROUPS;
    while (g->name && strcmp(g->name, group) != 0)
        g++;
    if (g->service) {
        char aerr[512];
        json_t *req = json_pack("{ss ss}", "cmd", "restart", "service", g->service);
        json_t *rep = con_actl(c, req, 10000, aerr, sizeof aerr);
        json_decref(req);
        bool restarted = rep && json_is_true(json_object_get(rep, "ok"));
        json_object_set_new(res, "restarted", json_string(restarted ? g->service : ""));
        const char *why = rep ? json_string_value(json_object_get(rep, "error")) : aerr;
        if (!restarted)
            json_object_set_new(res, "note", json_sprintf("saved, but %s was not restarted: %s",
                                                          g->service, why ? why : "no reason"));
        con_audit(c, who, "service.restart", g->service, "after a settings change%s",
                  restarted ? "" : " (refused)");
        json_decref(rep);
    } else {
        json_object_set_new(res, "note", json_string(g->help));
    }
    con_json(out, 200, res);
out:
    if (tmp[0])
        unlink(tmp);
    free(text);
    free(edited);
}
