/*
 * media_speaker_test.c - the room's dominant speaker (speaker.h) driven with
 * synthetic audio levels on a synthetic clock: who takes the floor, that
 * silence never takes it, that turns shorter than the challenge do not flap
 * it, that changes are spaced, the voice flag, leaving, and RTP packets with
 * the RFC 6464 element fed in whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "speaker.h"

#define PTIME 20  /* ms between two audio packets, as Opus sends them */
#define MUTE 255  /* in levels[]: this participant sends nothing */
#define QUIET 127 /* RFC 6464: silence */

struct log {
    unsigned n;
    uint64_t at[64];
    int who[64];
};

/* Every participant i sends levels[i] every PTIME ms in [t0, t1), the voice
 * flag set when voice[i] (NULL: never); each change goes into lg. */
static void run(struct media_speaker *sp, uint64_t t0, uint64_t t1, const uint8_t *levels,
                const bool *voice, unsigned n, struct log *lg)
{
    for (uint64_t t = t0; t < t1; t += PTIME)
        for (unsigned i = 0; i < n; i++) {
            if (levels[i] == MUTE)
                continue;
            if (media_speaker_level(sp, i, t, voice && voice[i], levels[i])) {
                assert_true(lg->n < 64);
                lg->at[lg->n] = t;
                lg->who[lg->n++] = media_speaker_dominant(sp);
            }
        }
}

static struct media_speaker *make(unsigned n)
{
    struct media_speaker *sp;
    assert_int_equal(media_speaker_new(&sp, n), 0);
    assert_int_equal(media_speaker_dominant(sp), MEDIA_SPEAKER_NONE);
    return sp;
}

static void the_first_to_speak_takes_the_floor_and_silence_never_does(void **state)
{
    (void)state;
    struct media_speaker *sp = make(4);
    struct log lg = {0};
    /* all silent for two seconds: nobody */
    run(sp, 0, 2000, (uint8_t[]){QUIET, QUIET, QUIET}, NULL, 3, &lg);
    assert_int_equal(lg.n, 0);
    /* participant 1 speaks at -30 dBov: it takes the floor within 300 ms */
    run(sp, 2000, 3000, (uint8_t[]){QUIET, 30, QUIET}, NULL, 3, &lg);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.who[0], 1);
    assert_in_range(lg.at[0], 2000, 2300);
    /* 1 goes quiet and stays quiet for five seconds: it keeps the floor */
    run(sp, 3000, 8000, (uint8_t[]){QUIET, QUIET, QUIET}, NULL, 3, &lg);
    assert_int_equal(lg.n, 1);
    /* then 2 speaks: it takes over after the challenge (400 ms), not sooner, well before 1 s */
    run(sp, 8000, 9000, (uint8_t[]){QUIET, QUIET, 35}, NULL, 3, &lg);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.who[1], 2);
    assert_in_range(lg.at[1], 8000 + MEDIA_SPEAKER_CHALLENGE * MEDIA_SPEAKER_BUCKET_MS, 8800);
    /* background noise below the floor (-85 dBov) is silence too */
    run(sp, 9000, 12000, (uint8_t[]){85, 90, QUIET}, NULL, 3, &lg);
    assert_int_equal(lg.n, 2);
    media_speaker_free(sp);
}

static void short_turns_and_equal_voices_do_not_flap(void **state)
{
    (void)state;
    struct media_speaker *sp = make(2);
    struct log lg = {0};
    run(sp, 0, 1000, (uint8_t[]){30, QUIET}, NULL, 2, &lg);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.who[0], 0);
    /* interjections of 200 ms from 1 between 0's sentences: 0 keeps the floor */
    for (uint64_t t = 1000; t < 11000; t += 600) {
        run(sp, t, t + 200, (uint8_t[]){QUIET, 25}, NULL, 2, &lg);
        run(sp, t + 200, t + 600, (uint8_t[]){30, QUIET}, NULL, 2, &lg);
    }
    assert_int_equal(lg.n, 1);
    /* both talk at once, 1 a little (3 dB) louder, for ten seconds: still 0 */
    run(sp, 11000, 21000, (uint8_t[]){33, 30}, NULL, 2, &lg);
    assert_int_equal(lg.n, 1);
    /* 1 clearly louder (10 dB) and for long: now it is 1 */
    run(sp, 21000, 22000, (uint8_t[]){40, 30}, NULL, 2, &lg);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.who[1], 1);
    media_speaker_free(sp);
}

static void changes_are_spaced_even_when_turns_are_long_enough(void **state)
{
    (void)state;
    struct media_speaker *sp = make(3);
    struct log lg = {0};
    /* three people who each speak for 500 ms in turn, for 15 s */
    for (uint64_t t = 0; t < 15000; t += 1500) {
        run(sp, t, t + 500, (uint8_t[]){20, QUIET, QUIET}, NULL, 3, &lg);
        run(sp, t + 500, t + 1000, (uint8_t[]){QUIET, 20, QUIET}, NULL, 3, &lg);
        run(sp, t + 1000, t + 1500, (uint8_t[]){QUIET, QUIET, 20}, NULL, 3, &lg);
    }
    assert_true(lg.n >= 10); /* it does follow the conversation */
    for (unsigned i = 1; i < lg.n; i++) {
        assert_true(lg.at[i] - lg.at[i - 1] >= MEDIA_SPEAKER_GAP_MS);
        assert_int_not_equal(lg.who[i], lg.who[i - 1]);
    }
    /* at most a few per second over the whole run */
    assert_true(lg.n <= 15000 / MEDIA_SPEAKER_GAP_MS);
    media_speaker_free(sp);
}

static void a_speaker_leaving_gives_up_the_floor(void **state)
{
    (void)state;
    struct media_speaker *sp = make(3);
    struct log lg = {0};
    run(sp, 0, 1000, (uint8_t[]){QUIET, 30, QUIET}, NULL, 3, &lg);
    assert_int_equal(media_speaker_dominant(sp), 1);
    assert_false(media_speaker_leave(sp, 2)); /* not the speaker: nothing changes */
    assert_false(media_speaker_leave(sp, 7)); /* nobody */
    assert_int_equal(media_speaker_dominant(sp), 1);
    assert_true(media_speaker_leave(sp, 1));
    assert_int_equal(media_speaker_dominant(sp), MEDIA_SPEAKER_NONE);
    /* with 1 gone and only silence, nobody; 0 speaks and has the floor at once */
    lg.n = 0;
    run(sp, 1000, 2000, (uint8_t[]){QUIET, MUTE, MUTE}, NULL, 3, &lg);
    assert_int_equal(lg.n, 0);
    run(sp, 2000, 3000, (uint8_t[]){30, MUTE, MUTE}, NULL, 3, &lg);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.who[0], 0);
    assert_in_range(lg.at[0], 2000, 2300);
    /* 1 comes back (same endpoint id, a new member) with no history */
    run(sp, 3000, 3200, (uint8_t[]){30, 30, MUTE}, NULL, 3, &lg);
    assert_int_equal(media_speaker_dominant(sp), 0);
    media_speaker_free(sp);
}

static void a_publisher_that_sets_the_voice_flag_is_trusted_on_it(void **state)
{
    (void)state;
    struct media_speaker *sp = make(2);
    struct log lg = {0};
    /* 0 speaks with the voice flag and has the floor */
    run(sp, 0, 1000, (uint8_t[]){30, QUIET}, (bool[]){true, false}, 2, &lg);
    assert_int_equal(lg.who[0], 0);
    /* 1 once sends a voice-flagged packet, then loud packets its VAD calls noise: never the floor */
    assert_false(media_speaker_level(sp, 1, 1000, true, QUIET));
    run(sp, 1000, 4000, (uint8_t[]){QUIET, 10}, (bool[]){true, false}, 2, &lg);
    assert_int_equal(lg.n, 1);
    /* a publisher that never sets the flag is judged by its level alone */
    run(sp, 4000, 5000, (uint8_t[]){QUIET, 10}, (bool[]){true, true}, 2, &lg);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.who[1], 1);
    media_speaker_free(sp);
}

static void the_clock_going_back_starts_buckets_again(void **state)
{
    (void)state;
    struct media_speaker *sp = make(2);
    struct log lg = {0};
    run(sp, 100000, 101000, (uint8_t[]){30, QUIET}, NULL, 2, &lg);
    assert_int_equal(lg.n, 1);
    /* ten seconds back: buckets go on from there, and 1 can still take the floor */
    run(sp, 90000, 91000, (uint8_t[]){QUIET, 30}, NULL, 2, &lg);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.who[1], 1);
    media_speaker_free(sp);
    assert_int_equal(media_speaker_new(&sp, 0), -EINVAL);
    assert_null(sp);
    media_speaker_free(NULL);
}

/* RTP with a one-byte-form extension block holding the audio level as id. */
static size_t rtp_with_level(uint8_t *p, uint8_t id, uint8_t len_field, bool voice, uint8_t level)
{
    static const uint8_t hdr[12] = {0x90, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
    memcpy(p, hdr, 12);
    const uint8_t ext[8] = {0xBE, 0xDE, 0, 1, (uint8_t)(id << 4 | len_field),
                            (uint8_t)((voice ? 0x80 : 0) | level), 0, 0};
    memcpy(p + 12, ext, 8);
    memset(p + 20, 0xab, 40); /* the Opus payload */
    return 60;
}

static void rtp_packets_are_read_for_their_audio_level(void **state)
{
    (void)state;
    struct media_speaker *sp = make(2);
    uint8_t pkt[64];
    size_t len = rtp_with_level(pkt, 1, 0, true, 30);
    int changes = 0;
    uint64_t t = 0;
    for (; t < 1000; t += PTIME) {
        int rc = media_speaker_rtp(sp, 0, t, pkt, len, 1);
        assert_true(rc == 0 || rc == 1);
        changes += rc;
    }
    assert_int_equal(changes, 1);
    assert_int_equal(media_speaker_dominant(sp), 0);
    /* the level read is the one in the packet: 1, louder, takes the floor */
    size_t len1 = rtp_with_level(pkt, 1, 0, true, 5);
    for (; t < 2000; t += PTIME)
        changes += media_speaker_rtp(sp, 1, t, pkt, len1, 1);
    assert_int_equal(changes, 2);
    assert_int_equal(media_speaker_dominant(sp), 1);
    /* another id, no id negotiated, a two-byte level, and a packet that is not RTP */
    assert_int_equal(media_speaker_rtp(sp, 0, t, pkt, len, 2), -ENOENT);
    assert_int_equal(media_speaker_rtp(sp, 0, t, pkt, len, 0), -ENOENT);
    len = rtp_with_level(pkt, 1, 1, true, 5);
    assert_int_equal(media_speaker_rtp(sp, 0, t, pkt, len, 1), -EBADMSG);
    assert_int_equal(media_speaker_rtp(sp, 0, t, pkt, 8, 1), -EBADMSG);
    media_speaker_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_to_speak_takes_the_floor_and_silence_never_does),
        cmocka_unit_test(short_turns_and_equal_voices_do_not_flap),
        cmocka_unit_test(changes_are_spaced_even_when_turns_are_long_enough),
        cmocka_unit_test(a_speaker_leaving_gives_up_the_floor),
        cmocka_unit_test(a_publisher_that_sets_the_voice_flag_is_trusted_on_it),
        cmocka_unit_test(the_clock_going_back_starts_buckets_again),
        cmocka_unit_test(rtp_packets_are_read_for_their_audio_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
