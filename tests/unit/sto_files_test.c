/*
 * sto_files_test.c - the content-addressed file store: layout, dedupe, the
 * size limit, failed uploads leaving nothing behind, read permission, and
 * cleanup of stale temporary files at open.
 */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct world {
    int64_t alice, bob, carol, room;
};

static struct world make_world(struct fx *f)
{
    struct world w;
    w.alice = fx_user(f, "alice");
    w.bob = fx_user(f, "bob");
    w.carol = fx_user(f, "carol");
    w.room = fx_group(f, w.alice, "team");
    assert_int_equal(sto_member_add(f->db, w.room, w.bob, STO_ROLE_MEMBER), 0);
    return w;
}

static int count_dir(const struct fx *f, const char *sub)
{
    char path[300];
    fx_path(f, sub, path, sizeof(path));
    return fx_count_entries(path);
}

static void test_put_stores_by_sha256(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    char id[STO_FILE_ID_LEN + 1];
    assert_int_equal(
        sto_file_put_buf(f->db, w.alice, w.room, "abc.txt", "text/plain", "abc", 3, id), 0);
    assert_string_equal(id, ABC_SHA256);

    char path[512], want[512];
    assert_int_equal(sto_file_path(f->db, id, path, sizeof(path)), 0);
    snprintf(want, sizeof(want), "%s/files/ba/%s", f->dir, &ABC_SHA256[2]);
    assert_string_equal(path, want);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char buf[8] = "";
    assert_int_equal(fread(buf, 1, sizeof(buf), fp), 3);
    fclose(fp);
    assert_memory_equal(buf, "abc", 3);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0400); /* a content address never changes */

    struct sto_file meta;
    assert_int_equal(sto_file_get(f->db, id, &meta), 0);
    assert_string_equal(meta.id, ABC_SHA256);
    assert_int_equal(meta.size, 3);
    assert_string_equal(meta.mime, "text/plain");
    assert_string_equal(meta.name, "abc.txt");
    assert_int_equal(meta.uploader_id, w.alice);
    assert_int_equal(meta.room_id, w.room);
    assert_int_equal(meta.created_at, FX_START_MS);
    sto_file_clear(&meta);
    assert_int_equal(count_dir(f, "files/tmp"), 0);
}

static void test_same_content_is_stored_once(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    char id1[STO_FILE_ID_LEN + 1], id2[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, w.alice, w.room, "a.bin", "application/octet-stream",
                                      "same bytes", 10, id1),
                     0);
    assert_int_equal(sto_file_put_buf(f->db, w.bob, 0, "b.bin", "image/png", "same bytes", 10, id2),
                     0);
    assert_string_equal(id1, id2);
    char dir[300];
    snprintf(dir, sizeof(dir), "files/%.2s", id1);
    assert_int_equal(count_dir(f, dir), 1);
    assert_int_equal(count_dir(f, "files"), 2); /* tmp/ and the one prefix directory */
    assert_int_equal(count_dir(f, "files/tmp"), 0);
    struct sto_file meta;
    assert_int_equal(sto_file_get(f->db, id1, &meta), 0);
    assert_string_equal(meta.name, "a.bin"); /* metadata of the first upload */
    sto_file_clear(&meta);

    char empty[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, w.alice, 0, "empty", "text/plain", "", 0, empty), 0);
    assert_string_equal(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_size_limit_refuses_and_leaves_nothing(void **state)
{
    struct fx *f = *state;
    sto_close(f->db);
    struct sto_config cfg;
    sto_config_init(&cfg, f->dir);
    cfg.file_max_bytes = 1000;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open_config(&cfg, &f->db, err, sizeof(err)), 0);
    struct world w = make_world(f);

    char *big = calloc(1, 1001);
    char id[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, w.alice, w.room, "big", "x/y", big, 1001, id), -EFBIG);
    assert_int_equal(sto_file_put_buf(f->db, w.alice, w.room, "ok", "x/y", big, 1000, id), 0);
    free(big);
    assert_int_equal(count_dir(f, "files/tmp"), 0);
    assert_int_equal(count_dir(f, "files"), 2);
}

struct chunks {
    size_t left; /* bytes still to give */
    int fail_at; /* call number that fails, 0: never */
    int calls;
};

static ssize_t chunk_read(void *ctx, void *buf, size_t len)
{
    struct chunks *c = ctx;
    if (++c->calls == c->fail_at) return -EIO;
    size_t n = len < 1000 ? len : 1000;
    if (n > c->left) n = c->left;
    memset(buf, 'z', n);
    c->left -= n;
    return (ssize_t)n;
}

static void test_stream_past_limit_or_failing_leaves_no_file(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    sto_close(f->db);
    struct sto_config cfg;
    sto_config_init(&cfg, f->dir);
    cfg.file_max_bytes = 5500;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open_config(&cfg, &f->db, err, sizeof(err)), 0);

    char id[STO_FILE_ID_LEN + 1];
    struct chunks over = {.left = 6000};
    struct sto_reader r = {chunk_read, &over};
    assert_int_equal(sto_file_put(f->db, w.alice, w.room, "s", "x/y", &r, id), -EFBIG);
    assert_string_equal(id, "");

    struct chunks broken = {.left = 3000, .fail_at = 3};
    r.ctx = &broken;
    assert_int_equal(sto_file_put(f->db, w.alice, w.room, "s", "x/y", &r, id), -EIO);
    assert_int_equal(count_dir(f, "files/tmp"), 0);
    assert_int_equal(count_dir(f, "files"), 1); /* only tmp/: nothing under a final name */

    struct chunks fine = {.left = 5500};
    r.ctx = &fine;
    assert_int_equal(sto_file_put(f->db, w.alice, w.room, "s", "x/y", &r, id), 0);
    struct sto_file meta;
    assert_int_equal(sto_file_get(f->db, id, &meta), 0);
    assert_int_equal(meta.size, 5500);
    sto_file_clear(&meta);
}

static void test_read_permission_follows_rooms(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    char id[STO_FILE_ID_LEN + 1], avatar[STO_FILE_ID_LEN + 1];
    assert_int_equal(
        sto_file_put_buf(f->db, w.bob, w.room, "plan.pdf", "application/pdf", "%PDF", 4, id), 0);
    assert_int_equal(sto_file_can_read(f->db, w.bob, id), 0);   /* uploader */
    assert_int_equal(sto_file_can_read(f->db, w.alice, id), 0); /* member */
    assert_int_equal(sto_file_can_read(f->db, w.carol, id), -EACCES);

    /* Shared again in carol's room: now she may read it too. */
    int64_t other = fx_group(f, w.carol, "other");
    assert_int_equal(
        sto_file_put_buf(f->db, w.carol, other, "copy.pdf", "application/pdf", "%PDF", 4, id), 0);
    assert_int_equal(sto_file_can_read(f->db, w.carol, id), 0);

    assert_int_equal(sto_file_put_buf(f->db, w.carol, w.room, "x", "x/y", "x", 1, avatar), -EACCES);
    assert_int_equal(sto_file_put_buf(f->db, w.carol, 0, "me.png", "image/png", "png", 3, avatar),
                     0);
    assert_int_equal(sto_file_can_read(f->db, w.alice, avatar), -EACCES);

    char unknown[] = "0000000000000000000000000000000000000000000000000000000000000000";
    char path[512];
    assert_int_equal(sto_file_can_read(f->db, w.alice, unknown), -ENOENT);
    assert_int_equal(sto_file_path(f->db, unknown, path, sizeof(path)), -ENOENT);
    assert_int_equal(sto_file_path(f->db, "../../etc/passwd", path, sizeof(path)), -EINVAL);
    assert_int_equal(sto_file_can_read(f->db, w.alice, "ABC"), -EINVAL);
}

static void touch_old(const char *path, int age_s)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "partial", 7), 7);
    close(fd);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    assert_int_equal(utimes(path, tv), 0);
}

static void test_open_removes_stale_temporary_files(void **state)
{
    struct fx *f = *state;
    char old[300], young[300];
    fx_path(f, "files/tmp/put-crashed", old, sizeof(old));
    fx_path(f, "files/tmp/put-running", young, sizeof(young));
    touch_old(old, 2 * 3600);
    touch_old(young, 10); /* another process may still be writing it */
    fx_reopen(f);
    assert_int_equal(access(old, F_OK), -1);
    assert_int_equal(access(young, F_OK), 0);
}

static void test_bad_names_are_refused(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    char id[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, w.alice, 0, "", "x/y", "a", 1, id), -EINVAL);
    assert_int_equal(sto_file_put_buf(f->db, w.alice, 0, "a", "", "a", 1, id), -EINVAL);
    assert_int_equal(sto_file_put_buf(f->db, w.alice, 0, "a\nb", "x/y", "a", 1, id), -EINVAL);
    assert_int_equal(sto_file_put_buf(f->db, 9999, 0, "a", "x/y", "a", 1, id), -EINVAL);
}

/* Attaching shares the file into the message's room; only the sender attaches,
 * only files they can read; a tombstone drops the links. */
static void test_attachments_follow_the_message(void **state)
{
    struct fx *f = *state;
    struct world w = make_world(f);
    char mine[STO_FILE_ID_LEN + 1], private_[STO_FILE_ID_LEN + 1], other[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, w.alice, 0, "notes.txt", "text/plain", "n", 1, mine), 0);
    assert_int_equal(sto_file_put_buf(f->db, w.alice, 0, "b.png", "image/png", "pq", 2, other), 0);
    assert_int_equal(sto_file_put_buf(f->db, w.carol, 0, "c.txt", "text/plain", "c", 1, private_), 0);
    assert_int_equal(sto_file_can_read(f->db, w.bob, mine), -EACCES);

    int64_t msg = fx_msg(f, w.room, w.alice, "see attached");
    const char *ids[] = {mine, other};
    const char *carols[] = {private_};
    assert_int_equal(sto_message_attach(f->db, msg, w.bob, ids, 2), -EACCES);    /* not the sender */
    assert_int_equal(sto_message_attach(f->db, msg, w.alice, carols, 1), -EACCES); /* not readable */
    const char *twice[] = {mine, mine};
    assert_int_equal(sto_message_attach(f->db, msg, w.alice, twice, 2), -EINVAL);
    assert_int_equal(sto_message_attach(f->db, msg, w.alice, ids, 2), 0);
    assert_int_equal(sto_message_attach(f->db, msg, w.alice, ids, 1), -EEXIST);
    assert_int_equal(sto_file_can_read(f->db, w.bob, mine), 0); /* shared into the room */
    assert_int_equal(sto_file_can_read(f->db, w.carol, mine), -EACCES);

    struct sto_file *list;
    size_t n;
    assert_int_equal(sto_message_files(f->db, msg, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, mine);
    assert_string_equal(list[0].name, "notes.txt");
    assert_string_equal(list[1].mime, "image/png");
    sto_files_free(list, n);

    assert_int_equal(sto_message_delete(f->db, msg, w.alice), 0);
    assert_int_equal(sto_message_files(f->db, msg, &list, &n), 0);
    assert_int_equal(n, 0);
    sto_files_free(list, n);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_stores_by_sha256),
        T(test_same_content_is_stored_once),
        T(test_size_limit_refuses_and_leaves_nothing),
        T(test_stream_past_limit_or_failing_leaves_no_file),
        T(test_read_permission_follows_rooms),
        T(test_open_removes_stale_temporary_files),
        T(test_bad_names_are_refused),
        T(test_attachments_follow_the_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
