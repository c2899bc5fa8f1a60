/*
 * acfg.c - applianced's view of the config file (see acfg.h).
 */
#include "acfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static char *dup_or(const char *s, const char *dflt)
{
    return s ? strdup(s) : dflt ? strdup(dflt) : NULL;
}

static const char *const KEYS[] = {"control_socket", "turnd", "signald", "hostname",
                                   "admin_password_file", "state_dir", "console", "mediad", NULL};

int app_config_load(struct app_config *c, const char *path, char *err, size_t cap)
{
    memset(c, 0, sizeof *c);
    config_t lc;
    config_init(&lc);
    int rc = 0;
    if (config_read_file(&lc, path) != CONFIG_TRUE) {
        rc = config_error_type(&lc) == CONFIG_ERR_FILE_IO
                 ? fail(err, cap, "%s: cannot read: %s", path, strerror(errno))
                 : fail(err, cap, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
        config_destroy(&lc);
        return rc;
    }
    const char *v[8] = {0};
    config_setting_t *g = config_lookup(&lc, "appliance");
    if (g && !config_setting_is_group(g))
        rc = fail(err, cap, "%s:%d: appliance must be a group { ... }", path,
                  config_setting_source_line(g));
    for (int i = 0; g && !rc && i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        int k = 0;
        while (KEYS[k] && strcmp(KEYS[k], config_setting_name(s)) != 0)
            k++;
        if (!KEYS[k])
            rc = fail(err, cap, "%s:%d: unknown setting '%s' in appliance", path,
                      config_setting_source_line(s), config_setting_name(s));
        else if (!(v[k] = config_setting_get_string(s)))
            rc = fail(err, cap, "%s:%d: appliance.%s: expected a string", path,
                      config_setting_source_line(s), KEYS[k]);
    }
    if (rc) {
        config_destroy(&lc);
        return rc;
    }
    char host[256] = "lanturn";
    gethostname(host, sizeof host - 1);
    c->config_path = strdup(path);
    c->control_socket = dup_or(v[0], "/run/lanturn/applianced.sock");
    c->turnd_bin = dup_or(v[1], "/usr/sbin/turnd");
    c->signald_bin = dup_or(v[2], "/usr/sbin/signald");
    c->hostname = dup_or(v[3], host);
    c->admin_password_file = dup_or(v[4], NULL);
    c->state_dir = dup_or(v[5], "/var/lib/lanturn");
    c->console_bin = dup_or(v[6], "/usr/sbin/lanturn-console");
    c->console = config_lookup(&lc, "console") != NULL;
    c->mediad_bin = dup_or(v[7], "/usr/sbin/mediad");
    c->media = config_lookup(&lc, "media") != NULL;
    const char *s = NULL;
    config_lookup_string(&lc, "signal.data_dir", &s);
    c->signal_data_dir = dup_or(s, "/var/lib/lanturn");
    s = NULL;
    config_lookup_string(&lc, "signal.tls_cert", &s);
    c->tls_cert = dup_or(s, NULL);
    s = NULL;
    config_lookup_string(&lc, "signal.tls_key", &s);
    c->tls_key = dup_or(s, NULL);
    s = NULL;
    config_lookup_string(&lc, "turnd.secret_file", &s);
    const char *s2 = NULL;
    config_lookup_string(&lc, "signal.turn_secret_file", &s2);
    if (s && s2 && strcmp(s, s2) != 0)
        rc = fail(err, cap, "%s: turnd.secret_file and signal.turn_secret_file differ; signald's "
                  "credentials would not work on turnd", path);
    c->turn_secret_file = dup_or(s ? s : s2, NULL);
    s = NULL;
    config_lookup_string(&lc, "signal.control_socket", &s);
    c->signal_control = dup_or(s, "/run/lanturn/signald.sock");
    s = NULL;
    config_lookup_string(&lc, "turnd.control_socket", &s);
    c->turnd_control = dup_or(s, "/run/lanturn/turnd.sock");
    config_destroy(&lc);
    return rc;
}

void app_config_release(struct app_config *c)
{
    free(c->config_path);
    free(c->control_socket);
    free(c->turnd_bin);
    free(c->signald_bin);
    free(c->console_bin);
    free(c->mediad_bin);
    free(c->hostname);
    free(c->admin_password_file);
    free(c->state_dir);
    free(c->signal_data_dir);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->turn_secret_file);
    free(c->signal_control);
    free(c->turnd_control);
    memset(c, 0, sizeof *c);
}
