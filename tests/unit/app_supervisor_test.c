/*
 * app_supervisor_test.c - the supervisor's decisions with fake processes and
 * chosen times: start, crash and immediate restart, back-off for services
 * that keep failing, stop with SIGTERM then SIGKILL, restart, shutdown.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "supervisor.h"

struct fake {
    pid_t next_pid;
    int spawns;
    int fail_spawn;
    pid_t last_signalled;
    int last_signal;
};

static int fake_spawn(void *ctx, const struct app_service *svc, pid_t *pid)
{
    (void)svc;
    struct fake *f = ctx;
    if (f->fail_spawn)
        return -ENOENT;
    f->spawns++;
    *pid = ++f->next_pid;
    return 0;
}

static void fake_signal(void *ctx, pid_t pid, int sig)
{
    struct fake *f = ctx;
    f->last_signalled = pid;
    f->last_signal = sig;
}

static void fake_event(void *ctx, const struct app_service *svc, const char *what, int status)
{
    (void)ctx;
    (void)svc;
    (void)what;
    (void)status;
}

static struct fake fk;
static const struct app_sup_env ENV = {&fk, fake_spawn, fake_signal, fake_event};
static char *ARGV[] = {"/bin/true", NULL};

static struct app_sup setup_sup(void)
{
    memset(&fk, 0, sizeof fk);
    fk.next_pid = 100;
    struct app_sup s;
    app_sup_init(&s, &ENV);
    assert_non_null(app_sup_add(&s, "turnd", ARGV));
    assert_non_null(app_sup_add(&s, "signald", ARGV));
    return s;
}

#define CRASH (SIGKILL) /* a waitpid status: killed by signal 9 */

static void test_start_all_and_restart_a_crash_at_once(void **state)
{
    (void)state;
    struct app_sup s = setup_sup();
    app_sup_start_all(&s, 0);
    assert_int_equal(fk.spawns, 2);
    struct app_service *t = app_sup_find(&s, "turnd");
    assert_int_equal(t->state, APP_SVC_RUNNING);
    pid_t old = t->pid;
    /* ran a minute, then killed -9: back at once */
    app_sup_exited(&s, old, CRASH, 60000);
    assert_int_equal(t->state, APP_SVC_RUNNING);
    assert_int_not_equal(t->pid, old);
    assert_int_equal(t->restarts, 1);
    assert_int_equal(fk.spawns, 3);
}

static void test_quick_crashes_back_off_doubling_to_a_cap(void **state)
{
    (void)state;
    struct app_sup s = setup_sup();
    app_sup_start(&s, "signald", 0);
    struct app_service *v = app_sup_find(&s, "signald");
    int64_t now = 0, expect = APP_BACKOFF_FIRST_MS;
    for (int i = 0; i < 10; i++) {
        app_sup_exited(&s, v->pid, 1 << 8 /* exit 1 */, now + 100);
        now += 100;
        assert_int_equal(v->state, APP_SVC_BACKOFF);
        assert_int_equal(app_sup_next_deadline(&s), now + expect);
        app_sup_tick(&s, now + expect - 1);
        assert_int_equal(v->state, APP_SVC_BACKOFF);
        now += expect;
        app_sup_tick(&s, now);
        assert_int_equal(v->state, APP_SVC_RUNNING);
        expect = expect * 2 > APP_BACKOFF_MAX_MS ? APP_BACKOFF_MAX_MS : expect * 2;
    }
    /* a stable run resets the back-off */
    app_sup_exited(&s, v->pid, CRASH, now + APP_STABLE_MS);
    assert_int_equal(v->state, APP_SVC_RUNNING);
}

static void test_stop_sends_term_then_kill_and_does_not_restart(void **state)
{
    (void)state;
    struct app_sup s = setup_sup();
    app_sup_start_all(&s, 0);
    struct app_service *t = app_sup_find(&s, "turnd");
    pid_t pid = t->pid;
    assert_int_equal(app_sup_stop(&s, "turnd", 1000), 0);
    assert_int_equal(fk.last_signal, SIGTERM);
    assert_int_equal(fk.last_signalled, pid);
    assert_int_equal(t->state, APP_SVC_STOPPING);
    app_sup_tick(&s, 1000 + APP_STOP_GRACE_MS);
    assert_int_equal(fk.last_signal, SIGKILL);
    app_sup_exited(&s, pid, CRASH, 1000 + APP_STOP_GRACE_MS + 5);
    assert_int_equal(t->state, APP_SVC_STOPPED);
    app_sup_tick(&s, 100000);
    assert_int_equal(t->state, APP_SVC_STOPPED);
    assert_int_equal(app_sup_stop(&s, "nope", 0), -ENOENT);
}

static void test_restart_starts_again_after_the_exit(void **state)
{
    (void)state;
    struct app_sup s = setup_sup();
    app_sup_start_all(&s, 0);
    struct app_service *v = app_sup_find(&s, "signald");
    pid_t old = v->pid;
    app_sup_restart(&s, "signald", 5000);
    assert_int_equal(v->state, APP_SVC_STOPPING);
    app_sup_exited(&s, old, 0, 5100);
    assert_int_equal(v->state, APP_SVC_RUNNING);
    assert_int_not_equal(v->pid, old);
}

static void test_shutdown_stops_everything_and_starts_nothing(void **state)
{
    (void)state;
    struct app_sup s = setup_sup();
    app_sup_start_all(&s, 0);
    pid_t a = s.svc[0].pid, b = s.svc[1].pid;
    app_sup_shutdown(&s, 100);
    assert_false(app_sup_idle(&s));
    app_sup_exited(&s, a, 0, 200);
    app_sup_exited(&s, b, CRASH, 200);
    assert_true(app_sup_idle(&s));
    assert_int_equal(app_sup_start(&s, "turnd", 300), -ESHUTDOWN);
    assert_int_equal(fk.spawns, 2);
}

static void test_spawn_failure_backs_off(void **state)
{
    (void)state;
    struct app_sup s = setup_sup();
    fk.fail_spawn = 1;
    app_sup_start(&s, "turnd", 0);
    struct app_service *t = app_sup_find(&s, "turnd");
    assert_int_equal(t->state, APP_SVC_BACKOFF);
    fk.fail_spawn = 0;
    app_sup_tick(&s, APP_BACKOFF_FIRST_MS);
    assert_int_equal(t->state, APP_SVC_RUNNING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_all_and_restart_a_crash_at_once),
        cmocka_unit_test(test_quick_crashes_back_off_doubling_to_a_cap),
        cmocka_unit_test(test_stop_sends_term_then_kill_and_does_not_restart),
        cmocka_unit_test(test_restart_starts_again_after_the_exit),
        cmocka_unit_test(test_shutdown_stops_everything_and_starts_nothing),
        cmocka_unit_test(test_spawn_failure_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
