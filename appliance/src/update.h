/*
 * update.h - appliance updates through RAUC (prefix app_upd_): install a
 * signed update bundle into the root slot that is not running, and report
 * which slot and version run and what the other slot holds. applianced runs
 * the `rauc` command line, which asks RAUC's service over D-Bus; RAUC checks
 * the signature against the image's keyring, the compatible string and the
 * payload, and makes the new slot the one GRUB tries next.
 */
#ifndef APP_UPDATE_H
#define APP_UPDATE_H

#include <jansson.h>
#include <stddef.h>

/* The file with the image's version (VERSION=...), absent outside the image. */
#define APP_UPD_RELEASE_FILE "/usr/lib/lanturn-image/release"

/* Control commands "update" {"path"}, "update_status" and "update_reboot"
 * (restart into the slot RAUC boots next; refused outside the image). */
json_t *app_upd_handle(const char *cmd, json_t *req);

/* ---- parsing, separate for tests ---- */

/* A clear message for a failed `rauc install` from its output (the last
 * error line, stripped of GLib's prefixes, after a plain-words reason). */
void app_upd_explain(const char *rauc_output, char *msg, size_t cap);

/* `rauc status --detailed --output-format=json` to {"booted", "primary", "compatible",
 * "slots": [{"name", "bootname", "state", "boot_status", "version",
 * "installed"}]} (missing fields left out); NULL if the text is not RAUC's
 * status. */
json_t *app_upd_parse_status(const char *json_text);

/* The VERSION= value of a release file's text into out; -1 if there is none. */
int app_upd_release_version(const char *text, char *out, size_t cap);

#endif
