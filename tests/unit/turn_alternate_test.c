/*
 * turn_alternate_test.c - ALTERNATE-SERVER (RFC 8489 §10, RFC 8656 §7.2):
 * a full or draining server answers Allocate with 300 Try Alternate naming
 * the other server, signed; without an alternate it stays 508.
 */
#include "turn_test_env.h"

#include <string.h>
#include <sys/socket.h>

static void one_allocation_and_an_alternate(struct turn_core_config *cfg)
{
    cfg->max_allocations = 1;
    assert_int_equal(stun_addr_parse("10.0.0.2:3478", &cfg->alternate_server), 0);
    strcpy(cfg->alternate_domain, "turn2.example.org");
}

static int setup_alternate(void **state)
{
    return turn_test_setup(state, one_allocation_and_an_alternate);
}

static void assert_try_alternate(struct t *t, const char *domain)
{
    struct stun_addr alt;
    const struct stun_attr *a = stun_find(&t->resp, STUN_ATTR_ALTERNATE_SERVER);
    assert_non_null(a);
    assert_int_equal(stun_attr_get_addr(&t->resp, a, false, &alt), 0);
    assert_true(stun_addr_equal(&alt, &t->cfg.alternate_server));
    const struct stun_attr *d = stun_find(&t->resp, STUN_ATTR_ALTERNATE_DOMAIN);
    if (domain) {
        assert_non_null(d);
        assert_int_equal(d->len, strlen(domain));
        assert_memory_equal(d->val, domain, d->len);
    } else {
        assert_null(d);
    }
    /* the client may trust it: the request was authenticated, so is the answer */
    assert_true(stun_check_integrity(&t->resp, t->key, sizeof(t->key)));
}

/* An Allocate from another port of alice's address; its answer's code. */
static int allocate_again(struct t *t)
{
    struct stun_addr second = t->client;
    second.port++;
    return request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key);
}

static void full_server_answers_300_with_the_alternate_server(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(allocate_again(t), STUN_ERR_TRY_ALTERNATE);
    assert_try_alternate(t, "turn2.example.org");
    const struct turn_stats *st = turn_core_stats(t->core);
    assert_int_equal(st->alternate_redirects, 1);
    assert_int_equal(st->allocations, 1);
    /* the first client's allocation is untouched and refreshes as usual */
    uint32_t lifetime = 600;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &lifetime), 0);
}

static void draining_redirects_new_allocations_but_keeps_existing_ones(void **state)
{
    struct t *t = *state;
    t->cfg.max_allocations = 0;
    t->cfg.alternate_domain[0] = '\0';
    allocate_ok(t);
    t->cfg.draining = true; /* as a reload would set it */
    assert_int_equal(allocate_again(t), STUN_ERR_TRY_ALTERNATE);
    assert_try_alternate(t, NULL);
    uint32_t lifetime = 600;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &lifetime), 0);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
    t->cfg.draining = false;
    assert_int_equal(allocate_again(t), 0);
}

static void without_an_alternate_full_and_draining_stay_508(void **state)
{
    struct t *t = *state;
    t->cfg.max_allocations = 1;
    allocate_ok(t);
    assert_int_equal(allocate_again(t), STUN_ERR_INSUFFICIENT_CAPACITY);
    assert_null(stun_find(&t->resp, STUN_ATTR_ALTERNATE_SERVER));
    t->cfg.max_allocations = 0;
    t->cfg.draining = true;
    assert_int_equal(allocate_again(t), STUN_ERR_INSUFFICIENT_CAPACITY);
    const struct turn_stats *st = turn_core_stats(t->core);
    assert_int_equal(st->quota_rejections, 2);
    assert_int_equal(st->alternate_redirects, 0);
}

static void one_relay_port_and_an_alternate(struct turn_core_config *cfg)
{
    cfg->port_hi = cfg->port_lo;
    assert_int_equal(stun_addr_parse("[fd00::2]:3479", &cfg->alternate_server), 0);
}

static int setup_one_port(void **state)
{
    return turn_test_setup(state, one_relay_port_and_an_alternate);
}

static void exhausted_relay_ports_redirect_too(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(allocate_again(t), STUN_ERR_TRY_ALTERNATE);
    assert_try_alternate(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_server_answers_300_with_the_alternate_server,
                                        setup_alternate, turn_test_teardown),
        cmocka_unit_test_setup_teardown(draining_redirects_new_allocations_but_keeps_existing_ones,
                                        setup_alternate, turn_test_teardown),
        cmocka_unit_test_setup_teardown(without_an_alternate_full_and_draining_stay_508,
                                        turn_test_setup_default, turn_test_teardown),
        cmocka_unit_test_setup_teardown(exhausted_relay_ports_redirect_too, setup_one_port,
                                        turn_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
