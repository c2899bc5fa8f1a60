/*
 * con_upd_check_test.c - the console's checks of an uploaded update
 * (appliance/console/src/upd_check.c): names that could mean a path, or that
 * no bundle has, are refused; a file must start like a SquashFS image and end
 * with a plausible signature size.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"

static void names(void **state)
{
    (void)state;
    const char *why = NULL;
    const char *good[] = {"lanturn-1.2.raucb", "lanturn-1.2 (1).raucb", "x_y+z~.raucb"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(con_update_name_check(good[i], &why), 0);
    const char *bad[] = {NULL, "", ".raucb", "../x.raucb", "/etc/x.raucb", "a/b.raucb", "a\\b.raucb",
                         ".hidden.raucb", "a..b.raucb", "x\n.raucb", "x;rm.raucb", "x.tar.gz",
                         "x.raucb.sh", "x%2F.raucb"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        assert_int_equal(con_update_name_check(bad[i], &why), -EINVAL);
        assert_non_null(why);
    }
    char longname[CON_UPDATE_NAME_MAX + 10];
    memset(longname, 'a', sizeof longname);
    strcpy(longname + sizeof longname - 7, ".raucb");
    assert_int_equal(con_update_name_check(longname, &why), -EINVAL);
    assert_string_equal(why, "the file name is too long");
    assert_int_equal(con_update_name_check("/x.raucb", &why), -EINVAL);
    assert_string_equal(why, "the file name must not contain a path");
}

static void bundles(void **state)
{
    (void)state;
    const char *why = NULL;
    const uint8_t sq[4] = {'h', 's', 'q', 's'}, gz[4] = {0x1f, 0x8b, 8, 0};
    const uint8_t sig[8] = {0, 0, 0, 0, 0, 0, 0x06, 0x00}, none[8] = {0};
    const uint8_t huge[8] = {0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(con_update_bundle_check(sq, sig, 1 << 20, &why), 0);
    assert_int_equal(con_update_bundle_check(gz, sig, 1 << 20, &why), -EINVAL);
    assert_non_null(strstr(why, "not a lanturn update bundle"));
    assert_int_equal(con_update_bundle_check(sq, sig, 100, &why), -EINVAL); /* too small */
    assert_int_equal(con_update_bundle_check(sq, none, 1 << 20, &why), -EINVAL);
    assert_non_null(strstr(why, "no signature"));
    assert_int_equal(con_update_bundle_check(sq, huge, 1 << 20, &why), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(bundles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
