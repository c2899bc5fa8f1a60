/*
 * acfg.h - what applianced needs from the one config file (prefix app_cfg_):
 * its own `appliance { }` group, and the few paths of the other groups it
 * provisions on first start (certificate, TURN secret, data directory). The
 * services validate their own groups; applianced asks them to
 * (`--print-config`) before starting anything.
 */
#ifndef APP_ACFG_H
#define APP_ACFG_H

#include <stdbool.h>
#include <stddef.h>

struct app_config {
    char *config_path;
    char *control_socket;      /* appliance.control_socket */
    char *turnd_bin, *signald_bin, *console_bin, *mediad_bin;
    bool console; /* the file has a console { } group: run the admin console */
    bool media;   /* the file has a media { } group: run mediad */
    char *hostname;            /* certificate subject; default: this host's name */
    char *admin_password_file; /* first admin's password; default: generated */
    char *state_dir;           /* appliance.state_dir: initial-admin-password and such */
    /* read from the other groups */
    char *signal_data_dir;     /* signal.data_dir */
    char *tls_cert, *tls_key;  /* signal.tls_cert / tls_key */
    char *turn_secret_file;    /* turnd.secret_file (signal.turn_secret_file must match) */
    char *signal_control;      /* signal.control_socket */
    char *turnd_control;       /* turnd.control_socket */
};

/* 0, or -EINVAL with "file:line: message" in err. */
int app_config_load(struct app_config *c, const char *path, char *err, size_t err_cap);
void app_config_release(struct app_config *c);

#endif
