/*
 * media_cfg_test.c - the `media { }` group: defaults, values, and errors with
 * file:line; flags over the file; --print-config.
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

static void group_values_override_defaults(void **state)
{
    (void)state;
    struct media_config c;
    char err[256];
    const char *text = "turnd: { listen = \"x\"; };\n"
                       "media: {\n"
                       "  control_socket = \"/tmp/m.sock\";\n"
                       "  ice_addresses = [\"127.0.0.1\", \"::1\"];\n"
                       "  ports = \"50000-50100\";\n"
                       "  turn_urls = [\"turn:127.0.0.1:3478?transport=udp\"];\n"
                       "  turn_secret = \"s\";\n"
                       "  max_sessions = 4;\n"
                       "  workers = 3;\n"
                       "  echo_ssrc = \"own\";\n"
                       "  ice_tcp = false;\n"
                       "};\n";
    assert_int_equal(media_config_from_string(&c, text, "t.conf", err, sizeof err), 0);
    assert_string_equal(c.control_socket, "/tmp/m.sock");
    assert_int_equal(c.n_ice_addresses, 2);
    assert_int_equal(c.port_min, 50000);
    assert_int_equal(c.port_max, 50100);
    assert_int_equal(c.n_turn_urls, 1);
    assert_int_equal(c.max_sessions, 4);
    assert_int_equal(c.workers, 3);
    assert_false(c.echo_same_ssrc);
    assert_false(c.ice_tcp);
    assert_int_equal(c.idle_timeout_s, 20);
    media_config_release(&c);
    /* Without the key: one worker per online CPU. */
    assert_int_equal(media_config_from_string(&c, "media: { };", "t.conf", err, sizeof err), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(c.workers, cpus < 1 ? 1 : cpus > MEDIA_MAX_WORKERS ? MEDIA_MAX_WORKERS : cpus);
    assert_true(c.ice_tcp); /* ICE-TCP is on unless switched off */
    media_config_release(&c);
}

static void errors_name_the_file_and_line(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"media: {\n  colour = 1;\n};", "t.conf:2: unknown setting 'colour' in media"},
        {"media: {\n\n  ports = \"9-1\";\n};", "t.conf:3: media.ports"},
        {"media: {\n  max_sessions = 0;\n};", "t.conf:2: media.max_sessions: 0 is outside"},
        {"media: {\n  workers = 0;\n};", "t.conf:2: media.workers: 0 is outside"},
        {"media: {\n  workers = 65;\n};", "t.conf:2: media.workers: 65 is outside"},
        {"media: {\n  max_sessions = \"4\";\n};", "t.conf:2: media.max_sessions: expected an integer"},
        {"media: {\n  control_socket = 4;\n};", "t.conf:2: media.control_socket: expected a string"},
        {"media: {\n  turn_urls = [\"stun:1.2.3.4\"];\n};", "t.conf:2: media.turn_urls"},
        {"media: {\n  turn_urls = [\"turn:example.org\"];\n};", "t.conf:2: media.turn_urls"},
        {"media: {\n  ice_addresses = [\"eth0\"];\n};", "t.conf:2: media.ice_addresses"},
        {"media: {\n  echo_ssrc = \"other\";\n};", "t.conf:2: media.echo_ssrc"},
        {"media: {\n  ice_tcp = 1;\n};", "t.conf:2: media.ice_tcp: true or false"},
        {"media = 5;", "t.conf:1: media must be a group"},
        {"media: {\n  x = ;\n};", "t.conf:2: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct media_config c;
        char err[256] = "";
        assert_int_equal(media_config_from_string(&c, cases[i].text, "t.conf", err, sizeof err),
                         -EINVAL);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
        media_config_release(&c);
    }
}

static void turn_urls_parse(void **state)
{
    (void)state;
    char host[64];
    int port;
    bool tcp;
    assert_int_equal(media_parse_turn_url("turn:10.0.0.1:3479?transport=tcp", host, sizeof host,
                                          &port, &tcp), 0);
    assert_string_equal(host, "10.0.0.1");
    assert_int_equal(port, 3479);
    assert_true(tcp);
    assert_int_equal(media_parse_turn_url("turn:[::1]", host, sizeof host, &port, &tcp), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 3478);
    assert_false(tcp);
    assert_int_equal(media_parse_turn_url("turns:10.0.0.1", host, sizeof host, &port, &tcp), -EINVAL);
    assert_int_equal(media_parse_turn_url("turn:10.0.0.1:0", host, sizeof host, &port, &tcp), -EINVAL);
    assert_int_equal(media_parse_turn_url("turn:10.0.0.1?transport=sctp", host, sizeof host, &port,
                                          &tcp), -EINVAL);
}

static void flags_win_over_the_file_and_print_config_redacts(void **state)
{
    (void)state;
    char path[] = "/tmp/media_cfg_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "media: { max_sessions = 3; turn_secret = \"hunter2\";\n"
                       "  turn_urls = [\"turn:127.0.0.1\"]; ice_addresses = [\"10.0.0.1\"]; };\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char *argv[] = {"mediad", "--max-sessions", "9", "-c", path, "--ice-address", "127.0.0.1",
                    "--print-config", NULL};
    struct media_config c;
    enum media_cfg_action act;
    char err[256] = "";
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_int_equal(media_config_from_args(&c, 8, argv, f, &act, err, sizeof err), 0);
    fclose(f);
    assert_int_equal(act, MEDIA_EXIT_OK);
    assert_int_equal(c.max_sessions, 9);
    assert_int_equal(c.n_ice_addresses, 1);
    assert_string_equal(c.ice_addresses[0], "127.0.0.1");
    assert_non_null(strstr(out, "max_sessions = 9;"));
    assert_non_null(strstr(out, "ice_tcp = true;"));
    assert_non_null(strstr(out, "(redacted)"));
    assert_null(strstr(out, "hunter2"));
    free(out);
    media_config_release(&c);

    char *bad[] = {"mediad", "--ports", "x", NULL};
    assert_int_equal(media_config_from_args(&c, 3, bad, stdout, &act, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "--ports"));
    media_config_release(&c);
    char *notcp[] = {"mediad", "--no-ice-tcp", NULL};
    assert_int_equal(media_config_from_args(&c, 2, notcp, stdout, &act, err, sizeof err), 0);
    assert_false(c.ice_tcp);
    media_config_release(&c);
    char *nosecret[] = {"mediad", "--turn-url", "turn:127.0.0.1", NULL};
    assert_int_equal(media_config_from_args(&c, 3, nosecret, stdout, &act, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "turn_secret"));
    media_config_release(&c);
    unlink(path);
}

static void max_video_kbps_caps_the_rembs(void **state)
{
    (void)state;
    struct media_config c;
    char err[256];
    assert_int_equal(media_config_from_string(&c, "media: { };", "t.conf", err, sizeof err), 0);
    assert_int_equal(c.max_video_kbps, 2500);
    media_config_release(&c);
    assert_int_equal(media_config_from_string(&c, "media: { max_video_kbps = 800; };", "t.conf", err,
                                              sizeof err),
                     0);
    assert_int_equal(c.max_video_kbps, 800);
    media_config_release(&c);
    /* below the floor of 100 kbit/s it would contradict it */
    assert_int_equal(media_config_from_string(&c, "media: {\n  max_video_kbps = 99;\n};", "t.conf",
                                              err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "t.conf:2: media.max_video_kbps: 99 is outside"));
    media_config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_video_kbps_caps_the_rembs),
        cmocka_unit_test(group_values_override_defaults),
        cmocka_unit_test(errors_name_the_file_and_line),
        cmocka_unit_test(turn_urls_parse),
        cmocka_unit_test(flags_win_over_the_file_and_print_config_redacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
