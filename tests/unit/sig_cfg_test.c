/*
 * sig_cfg_test.c - signald's configuration: defaults, the `signal { }` group
 * with its checks and file:line errors, and flags over the file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"

static void test_defaults_are_safe(void **state)
{
    (void)state;
    struct sig_config c;
    sig_config_defaults(&c);
    assert_string_equal(c.listen.host, "127.0.0.1");
    assert_int_equal(c.listen.port, 443);
    assert_int_equal(c.ws_listen.port, 3000);
    assert_true(c.hub.relay_only);
    assert_int_equal(c.hub.call_mesh_max, 4);
    assert_int_equal(c.hub.call_sfu_max, 25);
    assert_false(c.api.self_registration);
    assert_int_equal(c.api.kdf.n, SIG_KDF_DEFAULT_N);
    sig_config_release(&c);
}

static void test_group_values_are_read(void **state)
{
    (void)state;
    struct sig_config c;
    char err[256] = "";
    const char *text = "turnd: { listen = [\"1.2.3.4:3478\"]; };\n"
                       "signal: {\n"
                       "  listen = \"[::1]:8443\";\n"
                       "  turn_urls = [\"turn:10.0.0.5:3478?transport=udp\", \"turns:10.0.0.5:443\"];\n"
                       "  ice_transport_policy = \"all\";\n"
                       "  file_max_mb = 5;\n"
                       "  ring_timeout = 20;\n"
                       "  call_mesh_max = 0;\n"
                       "  call_sfu_max = 9;\n"
                       "  self_registration = true;\n"
                       "  password_scrypt_n = 65536;\n"
                       "};\n";
    assert_int_equal(sig_config_from_string(&c, text, "t.conf", err, sizeof err), 0);
    assert_string_equal(c.listen.host, "::1");
    assert_int_equal(c.listen.port, 8443);
    assert_int_equal(c.n_turn_urls, 2);
    assert_false(c.hub.relay_only);
    assert_int_equal(c.file_max_bytes, 5u << 20);
    assert_int_equal(c.hub.ring_timeout_ms, 20000);
    assert_int_equal(c.hub.call_mesh_max, 0);
    assert_int_equal(c.hub.call_sfu_max, 9);
    assert_true(c.api.self_registration);
    assert_int_equal(c.api.kdf.n, 65536);
    sig_config_release(&c);
}

static void expect_error(const char *text, const char *want)
{
    struct sig_config c;
    char err[256] = "";
    assert_int_equal(sig_config_from_string(&c, text, "t.conf", err, sizeof err), -EINVAL);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    sig_config_release(&c);
}

static void test_bad_values_name_file_and_line(void **state)
{
    (void)state;
    expect_error("signal: {\n  bogus = 1;\n};", "t.conf:2: unknown setting 'bogus'");
    expect_error("signal: {\n\n  listen = \"localhost:80\";\n};", "t.conf:3: signal.listen");
    expect_error("signal: { file_max_mb = 0; };", "outside 1..4096");
    expect_error("signal: { call_mesh_max = 9; };", "signal.call_mesh_max: 9 is outside 0..8");
    expect_error("signal: {\n  call_sfu_max = 33;\n};", "t.conf:2: signal.call_sfu_max: 33 is outside 2..32");
    expect_error("signal: { turn_urls = [\"http://x\"]; };", "not a turn:");
    expect_error("signal: { ice_transport_policy = \"p2p\"; };", "ice_transport_policy");
    expect_error("signal: { password_scrypt_n = 20000; };", "power of two");
    expect_error("signal: { password_scrypt_n = 1024; };", "outside");
    expect_error("signal: { self_registration = 1; };", "true or false");
    expect_error("signal: { data_dir = 5; };", "expected a string");
    expect_error("signal = 5;", "must be a group");
    expect_error("signal: { listen = ", "t.conf:1:");
}

static void test_flags_override_the_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sig_cfg_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "signal: { listen = \"127.0.0.1:1443\"; turn_urls = [\"turn:a:1\"]; };\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char *argv[] = {"signald", "--listen", "127.0.0.2:2443", "--config", path, "--turn-url",
                    "turn:b:2", NULL};
    struct sig_config c;
    enum sig_cfg_action action;
    char err[256] = "";
    assert_int_equal(sig_config_from_args(&c, 7, argv, stdout, &action, err, sizeof err), 0);
    assert_int_equal(action, SIG_RUN);
    assert_string_equal(c.listen.host, "127.0.0.2");
    assert_int_equal(c.n_turn_urls, 1);
    assert_string_equal(c.turn_urls[0], "turn:b:2");
    sig_config_release(&c);
    char *bad[] = {"signald", "--scrypt-n", "1000", NULL};
    assert_int_equal(sig_config_from_args(&c, 3, bad, stdout, &action, err, sizeof err), -EINVAL);
    sig_config_release(&c);
    char *lone[] = {"signald", "--tls-cert", "c.pem", NULL};
    assert_int_equal(sig_config_from_args(&c, 3, lone, stdout, &action, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "go together"));
    sig_config_release(&c);
    unlink(path);
}

static void test_event_retention_days_range_default_and_print(void **state)
{
    (void)state;
    struct sig_config c;
    sig_config_defaults(&c);
    assert_int_equal(c.event_retention_ms, 7 * 86400 * 1000LL);
    sig_config_release(&c);
    expect_error("signal: {\n  event_retention_days = 3651;\n};",
                 "t.conf:2: signal.event_retention_days: 3651 is outside 0..3650");
    expect_error("signal: { event_retention_days = -1; };", "outside 0..3650");
    expect_error("signal: { event_retention_days = \"7d\"; };", "expected an integer");
    char err[256] = "";
    assert_int_equal(sig_config_from_string(&c, "signal: { event_retention_days = 0; };", "t.conf",
                                            err, sizeof err),
                     0);
    assert_int_equal(c.event_retention_ms, 0); /* kept forever */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sig_config_print(&c, out);
    fclose(out);
    assert_non_null(strstr(text, "\n  event_retention_days = 0;\n"));
    free(text);
    sig_config_release(&c);
    assert_int_equal(sig_config_from_string(&c, "signal: { event_retention_days = 30; };", "t.conf",
                                            err, sizeof err),
                     0);
    assert_int_equal(c.event_retention_ms, 30 * 86400 * 1000LL);
    sig_config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_safe),
        cmocka_unit_test(test_group_values_are_read),
        cmocka_unit_test(test_bad_values_name_file_and_line),
        cmocka_unit_test(test_flags_override_the_file),
        cmocka_unit_test(test_event_retention_days_range_default_and_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
