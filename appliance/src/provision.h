/*
 * provision.h - what the first start of an appliance creates when it is
 * missing (prefix app_prov_): the TURN shared secret, a self-signed TLS
 * certificate for the host, and the first administrator. Existing files and
 * users are never touched.
 */
#ifndef APP_PROVISION_H
#define APP_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#define APP_ADMIN_NAME "admin"
#define APP_INITIAL_PASSWORD_FILE "initial-admin-password"

/* A random base64 secret in path (0600), unless path exists. *created tells. */
int app_prov_secret(const char *path, bool *created, char *err, size_t cap);
/* A P-256 key and a self-signed certificate for hostname (also localhost and
 * 127.0.0.1), valid 825 days, unless both files exist. */
int app_prov_certificate(const char *cert, const char *key, const char *hostname, bool *created,
                         char *err, size_t cap);
/* Checks that key belongs to cert and cert is a parsable X.509 PEM. */
int app_prov_check_certificate(const char *cert, const char *key, char *err, size_t cap);
/* When the database in data_dir has no users: creates APP_ADMIN_NAME with the
 * password in password_file, or a generated one written to
 * state_dir/initial-admin-password (0600). password (if not NULL, cap >= 64)
 * receives it when it was generated; *created tells whether anything happened. */
int app_prov_admin(const char *data_dir, const char *password_file, const char *state_dir,
                   bool *created, char *password, char *err, size_t cap);

#endif
