/*
 * media_bwe_test.c - the loss-based path estimate (signal/media/bwe.c) driven
 * by synthetic receiver report sequences: one report a second, as browsers
 * send them, with a chosen fraction lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bwe.h"

static const struct media_bwe_config cfg = {.min_bps = 100000, .max_bps = 2500000};
#define SEC 1000000ull
#define PCT(x) ((uint8_t)((x) * 256 / 100)) /* fraction lost in 1/256 */

static void a_path_has_no_say_before_its_first_report_or_once_stale(void **state)
{
    (void)state;
    struct media_bwe b;
    media_bwe_init(&b, &cfg);
    assert_int_equal(media_bwe_limit(&b, &cfg, 10 * SEC), 0);
    media_bwe_on_loss(&b, &cfg, 10 * SEC, 0, 0);
    assert_int_equal(media_bwe_limit(&b, &cfg, 10 * SEC), cfg.max_bps); /* starts at the cap */
    assert_int_equal(media_bwe_limit(&b, &cfg, 10 * SEC + MEDIA_BWE_STALE_US), cfg.max_bps);
    assert_int_equal(media_bwe_limit(&b, &cfg, 10 * SEC + MEDIA_BWE_STALE_US + 1), 0);
}

static void heavy_loss_multiplies_by_one_minus_half_the_loss_from_the_arrival_rate(void **state)
{
    (void)state;
    struct media_bwe b;
    media_bwe_init(&b, &cfg);
    /* 20 % lost while the stream arrives at 1 Mbit/s: 1 M * (1 - 0.1) */
    media_bwe_on_loss(&b, &cfg, 1 * SEC, 51, 1000000);
    assert_int_equal(b.bps, 1000000ull * (512 - 51) / 512);
    uint32_t prev = b.bps;
    /* the arrival rate above the estimate does not raise it */
    media_bwe_on_loss(&b, &cfg, 2 * SEC, 51, 2000000);
    assert_int_equal(b.bps, (uint64_t)prev * (512 - 51) / 512);
    /* sustained 50 % loss ends at the floor, never below */
    for (unsigned i = 3; i < 30; i++)
        media_bwe_on_loss(&b, &cfg, i * SEC, 128, 0);
    assert_int_equal(media_bwe_limit(&b, &cfg, 30 * SEC), cfg.min_bps);
}

static void moderate_loss_holds_and_low_loss_grows_eight_percent_a_second(void **state)
{
    (void)state;
    struct media_bwe b;
    media_bwe_init(&b, &cfg);
    media_bwe_on_loss(&b, &cfg, 1 * SEC, 128, 1000000); /* 1 M * 0.75 */
    assert_int_equal(b.bps, 750000);
    for (unsigned i = 2; i < 6; i++) { /* 2 %, 5 %, 10 %: hold */
        media_bwe_on_loss(&b, &cfg, i * SEC, i == 2 ? PCT(2) + 1 : i == 3 ? PCT(5) : 26, 0);
        assert_int_equal(b.bps, 750000);
    }
    media_bwe_on_loss(&b, &cfg, 6 * SEC, PCT(1), 0); /* one second at < 2 %: + 8 % */
    assert_int_equal(b.bps, 810000);
    media_bwe_on_loss(&b, &cfg, 6 * SEC + SEC / 2, 0, 0); /* half a second: + 4 % */
    assert_int_equal(b.bps, 842400);
    media_bwe_on_loss(&b, &cfg, 16 * SEC, 0, 0); /* a long gap counts as one second */
    assert_int_equal(b.bps, 909792);
    for (unsigned i = 17; i < 60; i++)
        media_bwe_on_loss(&b, &cfg, i * SEC, 0, 0);
    assert_int_equal(b.bps, cfg.max_bps); /* capped */
}

static void the_subscribers_remb_caps_the_path(void **state)
{
    (void)state;
    struct media_bwe b;
    media_bwe_init(&b, &cfg);
    media_bwe_on_remb(&b, 1 * SEC, 600000); /* a REMB alone gives the path a say */
    assert_int_equal(media_bwe_limit(&b, &cfg, 1 * SEC), 600000);
    media_bwe_on_loss(&b, &cfg, 2 * SEC, 0, 0);
    assert_int_equal(media_bwe_limit(&b, &cfg, 2 * SEC), 600000);
    media_bwe_on_remb(&b, 3 * SEC, 20000); /* below the floor: the floor */
    assert_int_equal(media_bwe_limit(&b, &cfg, 3 * SEC), cfg.min_bps);
    media_bwe_on_remb(&b, 4 * SEC, 1ull << 40); /* above the cap: the cap */
    assert_int_equal(media_bwe_limit(&b, &cfg, 4 * SEC), cfg.max_bps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_path_has_no_say_before_its_first_report_or_once_stale),
        cmocka_unit_test(heavy_loss_multiplies_by_one_minus_half_the_loss_from_the_arrival_rate),
        cmocka_unit_test(moderate_loss_holds_and_low_loss_grows_eight_percent_a_second),
        cmocka_unit_test(the_subscribers_remb_caps_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
