/*
 * app_job_test.c - backup and restore run in a real child process and are
 * answered through the control connection: a backup's reply names the file
 * and its size, a restore restarts signald only when it succeeded, a second
 * request while one runs is refused at once, a relative path is refused, and
 * cancelling a job that is stuck (tar reading a FIFO nobody writes) answers
 * its client and leaves neither its tar nor its working directory behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "appliance.h"
#include "backup.h"
#include "lanturn/storage.h"

/* The supervisor's side, faked: signald "runs" as pid 4242, and what is done
 * to it is only recorded. */
struct fake {
    pid_t last_signalled;
    int last_signal;
    const char *last_event;
};

static int fake_spawn(void *ctx, const struct app_service *svc, pid_t *pid)
{
    (void)ctx;
    (void)svc;
    *pid = 4242;
    return 0;
}

static void fake_signal(void *ctx, pid_t pid, int sig)
{
    ((struct fake *)ctx)->last_signalled = pid;
    ((struct fake *)ctx)->last_signal = sig;
}

static void fake_event(void *ctx, const struct app_service *svc, const char *what, int status)
{
    (void)svc;
    (void)status;
    ((struct fake *)ctx)->last_event = what;
}

static struct fake fk;
static const struct app_sup_env ENV = {&fk, fake_spawn, fake_signal, fake_event};
static char *ARGV[] = {"/bin/true", NULL};
static struct appliance A;
static char base[64], data[128], conf[128], tmp[128];

static int setup(void **state)
{
    (void)state;
    memset(&A, 0, sizeof A);
    memset(&fk, 0, sizeof fk);
    snprintf(base, sizeof base, "/tmp/app_job_test-XXXXXX");
    if (!mkdtemp(base))
        return -1;
    snprintf(data, sizeof data, "%s/data", base);
    snprintf(conf, sizeof conf, "%s/lanturn.conf", base);
    snprintf(tmp, sizeof tmp, "%s/tmp", base);
    mkdir(data, 0700);
    mkdir(tmp, 0700);
    setenv("TMPDIR", tmp, 1);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fputs("appliance: {};\n", f);
    fclose(f);
    struct sto_db *db = NULL;
    char err[STO_ERR_MAX];
    if (sto_open(data, &db, err, sizeof err) != 0) /* creates the schema */
        return -1;
    sto_close(db);
    A.cfg.signal_data_dir = data;
    A.cfg.config_path = conf;
    A.epfd = epoll_create1(EPOLL_CLOEXEC);
    app_sup_init(&A.sup, &ENV);
    app_sup_add(&A.sup, "signald", ARGV);
    app_sup_start_all(&A.sup, 0);
    app_job_init(&A.job);
    return A.epfd < 0 || !fk.last_event || strcmp(fk.last_event, "started") != 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    close(A.epfd);
    app_remove_tree(base);
    return 0;
}

/* applianced's loop, for the job alone: until it has answered and is reaped */
static void run_job(void)
{
    for (int i = 0; i < 600 && app_job_busy(&A.job); i++) {
        struct epoll_event ev;
        if (epoll_wait(A.epfd, &ev, 1, 100) == 1)
            app_job_readable(&A, 0);
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            assert_true(app_job_reaped(&A, p, st));
    }
    assert_false(app_job_busy(&A.job));
}

/* Starts a request; returns the client's end of its connection. */
static int start(const char *cmd, const char *path)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    json_t *req = json_pack("{ss ss}", "cmd", cmd, "path", path);
    app_job_start(&A, req, sv[0], 0);
    json_decref(req);
    return sv[1];
}

/* The reply line, once applianced has closed the connection. */
static json_t *reply_of(int fd)
{
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) > 0)
        n += (size_t)r;
    close(fd);
    assert_true(n > 0 && buf[n - 1] == '\n');
    json_error_t je;
    json_t *j = json_loadb(buf, n, 0, &je);
    assert_non_null(j);
    return j;
}

static const char *error_of(json_t *r)
{
    assert_false(json_is_true(json_object_get(r, "ok")));
    return json_string_value(json_object_get(r, "error"));
}

static void assert_tmp_empty(void)
{
    char *argv[] = {"find", tmp, "-mindepth", "1", NULL};
    char out[256];
    assert_int_equal(app_run(argv, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void backup_to(const char *path)
{
    int fd = start("backup", path);
    run_job();
    json_t *r = reply_of(fd);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
}

static void test_backup_replies_with_the_file_and_its_size(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "%s/b.tar.gz", base);
    int fd = start("backup", path);
    assert_true(app_job_busy(&A.job));
    run_job();
    json_t *r = reply_of(fd);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_string_equal(json_string_value(json_object_get(r, "path")), path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "bytes")), st.st_size);
    json_decref(r);
    char *argv[] = {"tar", "tzf", path, "lanturn.db", "lanturn.conf", NULL};
    char out[256];
    assert_int_equal(app_run(argv, out, sizeof out), 0);
    assert_tmp_empty();
    assert_int_equal(fk.last_signal, 0); /* a backup restarts nothing */
}

static void test_restore_restarts_signald_only_when_it_succeeded(void **state)
{
    (void)state;
    char path[160], junk[160];
    snprintf(path, sizeof path, "%s/b.tar.gz", base);
    snprintf(junk, sizeof junk, "%s/junk.tar.gz", base);
    backup_to(path);
    FILE *f = fopen(junk, "w");
    fputs("not a backup", f);
    fclose(f);
    int fd = start("restore", junk);
    run_job();
    json_t *r = reply_of(fd);
    assert_non_null(strstr(error_of(r), "not a lanturn backup"));
    json_decref(r);
    assert_int_equal(fk.last_signal, 0);
    assert_int_equal(app_sup_find(&A.sup, "signald")->state, APP_SVC_RUNNING);

    fd = start("restore", path);
    run_job();
    r = reply_of(fd);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_int_equal(json_object_size(r), 1); /* {"ok": true}, as before */
    json_decref(r);
    assert_int_equal(fk.last_signal, SIGTERM);
    assert_int_equal(fk.last_signalled, 4242);
    assert_int_equal(app_sup_find(&A.sup, "signald")->state, APP_SVC_STOPPING);
    assert_tmp_empty();
}

static void test_a_second_job_is_refused_and_cancel_answers_the_first(void **state)
{
    (void)state;
    char fifo[160], other[160];
    snprintf(fifo, sizeof fifo, "%s/stuck.tar.gz", base);
    snprintf(other, sizeof other, "%s/other.tar.gz", base);
    assert_int_equal(mkfifo(fifo, 0600), 0); /* tar waits for a writer that never comes */
    int first = start("restore", fifo);
    assert_true(app_job_busy(&A.job));

    json_t *r = reply_of(start("backup", other)); /* answered at once */
    assert_string_equal(error_of(r), "a restore is running; try again when it has finished");
    json_decref(r);
    r = reply_of(start("restore", other));
    assert_string_equal(error_of(r), "a restore is running; try again when it has finished");
    json_decref(r);
    assert_int_equal(access(other, F_OK), -1);

    app_job_cancel(&A);
    run_job();
    r = reply_of(first);
    assert_string_equal(error_of(r), "the restore stopped before it finished: applianced is stopping");
    json_decref(r);
    assert_int_equal(fk.last_signal, 0);
    assert_tmp_empty(); /* the killed child's working directory is removed */
    /* and so is its tar, which would otherwise wait on the FIFO for ever */
    char *pgrep[] = {"pgrep", "-f", fifo, NULL};
    char out[256];
    int running = 0;
    for (int i = 0; i < 100 && (running = (app_run(pgrep, out, sizeof out) == 0)); i++)
        usleep(50000); /* SIGKILL is sent; the kernel may take a moment to finish it */
    assert_false(running);
}

static void test_a_relative_path_is_refused(void **state)
{
    (void)state;
    json_t *r = reply_of(start("backup", "b.tar.gz"));
    assert_string_equal(error_of(r), "\"path\" must be an absolute file name");
    json_decref(r);
    assert_false(app_job_busy(&A.job));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_replies_with_the_file_and_its_size, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore_restarts_signald_only_when_it_succeeded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_second_job_is_refused_and_cancel_answers_the_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_relative_path_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
