/*
 * media_sendq_test.c - the ring between two workers: order, full, barriers,
 * oversize packets, and a producer and a consumer thread that hand over many
 * numbered packets, all of which arrive in order and intact.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sendq.h"

static void items_come_out_in_order_until_full(void **state)
{
    (void)state;
    struct media_sendq *q;
    assert_int_equal(media_sendq_new(&q, 3), -EINVAL); /* not a power of two */
    assert_int_equal(media_sendq_new(&q, 4), 0);
    uint8_t pkt[MEDIA_FWD_PKT_MAX + 1];
    memset(pkt, 0, sizeof pkt);
    int who[4] = {0};
    for (int i = 0; i < 4; i++) {
        pkt[0] = (uint8_t)i;
        assert_int_equal(media_sendq_push(q, &who[i], i == 1, i == 3 ? NULL : pkt, 10 + i), 0);
    }
    assert_int_equal(media_sendq_push(q, &who[0], false, pkt, 10), -ENOBUFS);
    for (int i = 0; i < 4; i++) {
        struct media_sendq_item *it = media_sendq_peek(q);
        assert_non_null(it);
        assert_ptr_equal(it->session, &who[i]);
        assert_int_equal(it->rtcp, i == 1);
        assert_int_equal(it->barrier, i == 3);
        if (i < 3) {
            assert_int_equal(it->len, 10 + i);
            assert_int_equal(it->pkt[0], i);
        }
        media_sendq_pop(q);
    }
    assert_null(media_sendq_peek(q));
    assert_int_equal(media_sendq_push(q, who, false, pkt, sizeof pkt), -EMSGSIZE);
    assert_int_equal(media_sendq_push(q, who, false, pkt, MEDIA_FWD_PKT_MAX), 0);
    media_sendq_free(q);
    media_sendq_free(NULL);
}

#define N_PACKETS 200000u

static void *produce(void *arg)
{
    struct media_sendq *q = arg;
    uint8_t pkt[64];
    for (uint32_t i = 0; i < N_PACKETS;) {
        memset(pkt, (int)(i & 0xff), sizeof pkt);
        memcpy(pkt, &i, sizeof i);
        if (media_sendq_push(q, NULL, false, pkt, 8 + i % 56) == 0)
            i++;
    }
    return NULL;
}

static void two_threads_hand_over_every_packet_in_order(void **state)
{
    (void)state;
    struct media_sendq *q;
    assert_int_equal(media_sendq_new(&q, 64), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, produce, q), 0);
    uint32_t want = 0, bad = 0;
    while (want < N_PACKETS) {
        struct media_sendq_item *it = media_sendq_peek(q);
        if (!it)
            continue;
        uint32_t got;
        memcpy(&got, it->pkt, sizeof got);
        if (got != want || it->len != 8 + want % 56 || it->pkt[it->len - 1] != (want & 0xff))
            bad++;
        media_sendq_pop(q);
        want++;
    }
    pthread_join(t, NULL);
    assert_int_equal(bad, 0);
    assert_null(media_sendq_peek(q));
    media_sendq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(items_come_out_in_order_until_full),
        cmocka_unit_test(two_threads_hand_over_every_packet_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
