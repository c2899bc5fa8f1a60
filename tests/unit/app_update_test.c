/*
 * app_update_test.c - the update module's parsing: RAUC's error output to a
 * plain reason (wrong signer, other product, damaged file, unreadable file),
 * `rauc status --output-format=json` to slots and versions, and the image's
 * release file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "update.h"

static void explain_has(const char *out, const char *want_reason, const char *want_detail)
{
    char msg[700];
    app_upd_explain(out, msg, sizeof msg);
    if (!strstr(msg, want_reason) || (want_detail && !strstr(msg, want_detail)))
        fail_msg("for\n%s\ngot: %s\nwanted: %s / %s", out, msg, want_reason,
                 want_detail ? want_detail : "");
}

static void explain_signature(void **state)
{
    (void)state;
    explain_has("installing\n"
                "rauc-Message: 10:01:02.345: installing /data/updates/x.raucb: started\n"
                "LastError: signature verification failed: Verify error:unable to get local issuer certificate\n"
                "Installing `/data/updates/x.raucb` failed\n",
                "not signed by a key this appliance trusts", "unable to get local issuer certificate");
}

static void explain_compatible(void **state)
{
    (void)state;
    explain_has("LastError: Compatible mismatch: Expected 'lanturn-x86_64' but bundle manifest has 'other-arm'\n"
                "Installing `/x.raucb` failed\n",
                "for a different product", "Expected 'lanturn-x86_64'");
}

static void explain_damaged(void **state)
{
    (void)state;
    explain_has("(rauc:42): rauc-WARNING **: 10:00:00.000: Failed to check bundle payload: "
                "hash mismatch in block 12\n",
                "damaged or was modified", "hash mismatch in block 12");
    explain_has("LastError: Failed mounting bundle: failed to read verity superblock\n"
                "Installing `/x.raucb` failed\n",
                "damaged or was modified", NULL);
}

static void explain_other(void **state)
{
    (void)state;
    explain_has("LastError: Failed to open bundle: No such file or directory\n", "cannot be read", NULL);
    explain_has("cannot run rauc: No such file or directory", "not available on this system", NULL);
    /* rauc installed but its service not running (a developer's machine) */
    explain_has("Error retrieving slot status via D-Bus: error creating proxy: Could not connect: "
                "No such file or directory\nError creating proxy: Could not connect: No such file "
                "or directory\n",
                "not available on this system", NULL);
    explain_has("Error creating proxy: Could not connect: No such file or directory\n"
                "D-Bus error while installing `/data/x.raucb`\n",
                "not available on this system", NULL);
    explain_has("something odd happened\n", "the update failed", "something odd happened");
    explain_has("", "the update failed", "no output");
}

static const char STATUS[] =
    "{\"compatible\":\"lanturn-x86_64\",\"variant\":\"\",\"booted\":\"A\",\"boot_primary\":\"rootfs.1\","
    "\"slots\":[{\"rootfs.0\":{\"class\":\"rootfs\",\"device\":\"/dev/disk/by-partlabel/rootfs-a\","
    "\"type\":\"raw\",\"bootname\":\"A\",\"state\":\"booted\",\"parent\":null,\"mountpoint\":null,"
    "\"boot_status\":\"good\",\"slot_status\":{\"bundle\":{\"compatible\":\"lanturn-x86_64\","
    "\"version\":\"1.0\"}}}},"
    "{\"rootfs.1\":{\"class\":\"rootfs\",\"device\":\"/dev/disk/by-partlabel/rootfs-b\",\"type\":\"raw\","
    "\"bootname\":\"B\",\"state\":\"inactive\",\"boot_status\":\"good\",\"slot_status\":{\"bundle\":"
    "{\"compatible\":\"lanturn-x86_64\",\"version\":\"1.1\"},\"installed\":{\"timestamp\":"
    "\"2024-01-01T00:00:00Z\",\"count\":1}}}}]}";

static void status_parsed(void **state)
{
    (void)state;
    json_t *st = app_upd_parse_status(STATUS);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "booted")), "A");
    assert_string_equal(json_string_value(json_object_get(st, "primary")), "rootfs.1");
    json_t *slots = json_object_get(st, "slots");
    assert_int_equal(json_array_size(slots), 2);
    json_t *b = json_array_get(slots, 1);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "rootfs.1");
    assert_string_equal(json_string_value(json_object_get(b, "bootname")), "B");
    assert_string_equal(json_string_value(json_object_get(b, "version")), "1.1");
    assert_string_equal(json_string_value(json_object_get(b, "installed")), "2024-01-01T00:00:00Z");
    json_t *a = json_array_get(slots, 0);
    assert_null(json_object_get(a, "installed"));
    assert_string_equal(json_string_value(json_object_get(a, "state")), "booted");
    json_decref(st);
}

static void status_refused(void **state)
{
    (void)state;
    assert_null(app_upd_parse_status("not json"));
    assert_null(app_upd_parse_status("{\"booted\":\"A\"}"));
    assert_null(app_upd_parse_status(NULL));
    /* slots without details still parse */
    json_t *st = app_upd_parse_status("{\"slots\":[{\"rootfs.0\":{}} , 3]}");
    assert_non_null(st);
    assert_int_equal(json_array_size(json_object_get(st, "slots")), 1);
    json_decref(st);
}

static void release_version(void **state)
{
    (void)state;
    char v[32];
    assert_int_equal(app_upd_release_version("LANTURN_VERSION=0.1.0\nVERSION=0.1.0+2\r\n", v, sizeof v), 0);
    assert_string_equal(v, "0.1.0+2");
    assert_int_equal(app_upd_release_version("COMPATIBLE=x\n", v, sizeof v), -1);
    assert_int_equal(app_upd_release_version("VERSION=\n", v, sizeof v), -1);
    assert_int_equal(app_upd_release_version("VERSION=0123456789012345678901234567890123456789\n", v, sizeof v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explain_signature), cmocka_unit_test(explain_compatible),
        cmocka_unit_test(explain_damaged),   cmocka_unit_test(explain_other),
        cmocka_unit_test(status_parsed),     cmocka_unit_test(status_refused),
        cmocka_unit_test(release_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
