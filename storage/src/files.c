/*
 * files.c - the content-addressed file store for attachments.
 *
 * Bytes live in <data>/files/ab/cdef... where abcdef... is the lowercase hex
 * SHA-256 of the content, so the same file uploaded twice is stored once and
 * a stored file never changes. A put streams into <data>/files/tmp/, hashing
 * as it goes, fsyncs, then renames into place and fsyncs the directory: after
 * a crash the final name holds either nothing or the complete file. Only then
 * is the metadata row committed, so every row has its bytes. A crash between
 * the two leaves an unreferenced file that the next put of the same content
 * reuses; temporary files older than an hour are removed at open.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define TMP_MAX_AGE_S 3600

static const char SQL_FILE_INSERT[] =
    "INSERT OR IGNORE INTO files (id, size, mime, name, uploader_id, room_id, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_ROOM_INSERT[] =
    "INSERT OR IGNORE INTO file_rooms (file_id, room_id, uploader_id, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_GET[] = "SELECT id, size, mime, name, uploader_id, coalesce(room_id, 0), "
                              "created_at FROM files WHERE id = ?1";
static const char SQL_CAN_READ[] =
    "SELECT uploader_id = ?2 OR EXISTS (SELECT 1 FROM file_rooms r JOIN memberships m "
    "ON m.room_id = r.room_id AND m.user_id = ?2 WHERE r.file_id = ?1) "
    "FROM files WHERE id = ?1";

static int sync_dir(struct sto_db *db, const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return sto_fail(db, -EIO, "fsync %s: %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

static int make_dir(struct sto_db *db, const char *path, bool *created)
{
    if (created) *created = false;
    if (mkdir(path, 0700) == 0) {
        if (created) *created = true;
        return 0;
    }
    if (errno == EEXIST) return 0;
    return sto_fail(db, -errno, "mkdir %s: %s", path, strerror(errno));
}

int sto_files_init(struct sto_db *db)
{
    char tmp[4096];
    int err;
    snprintf(tmp, sizeof(tmp), "%s/tmp", db->files_dir);
    if ((err = make_dir(db, db->files_dir, NULL)) || (err = make_dir(db, tmp, NULL))) return err;
    /* Leftovers of puts that crashed. Young ones may belong to a put running
     * in another process sharing this data directory: leave those alone. */
    DIR *d = opendir(tmp);
    if (!d) return sto_fail(db, -errno, "opendir %s: %s", tmp, strerror(errno));
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat sb;
        if (strncmp(e->d_name, "put-", 4) != 0) continue;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            now - sb.st_mtime > TMP_MAX_AGE_S)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    return 0;
}

static bool id_valid(const char *id)
{
    if (!id || strlen(id) != STO_FILE_ID_LEN) return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static int blob_path(struct sto_db *db, const char *id, char *path, size_t len, bool dir_only)
{
    int n = dir_only ? snprintf(path, len, "%s/%.2s", db->files_dir, id)
                     : snprintf(path, len, "%s/%.2s/%s", db->files_dir, id, id + 2);
    if (n < 0 || (size_t)n >= len) return sto_fail(db, -ENAMETOOLONG, "file store path too long");
    return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Streams src into the open temporary file, hashing it. */
static int copy_in(struct sto_db *db, int fd, const struct sto_reader *src, uint64_t *size,
                   char id[STO_FILE_ID_LEN + 1])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *buf = malloc(CHUNK);
    uint64_t total = 0;
    int err = 0;
    if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        err = sto_fail(db, -ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = src->read(src->ctx, buf, CHUNK);
        if (n == 0) break;
        if (n < 0 || n > CHUNK) {
            err = sto_fail(db, n < 0 ? (int)n : -EIO, "reading the upload failed");
            goto out;
        }
        total += (uint64_t)n;
        if (total > db->file_max_bytes) {
            err = sto_fail(db, -EFBIG, "file larger than %llu bytes",
                           (unsigned long long)db->file_max_bytes);
            goto out;
        }
        if (!EVP_DigestUpdate(md, buf, (size_t)n)) {
            err = sto_fail(db, -EIO, "SHA-256 failed");
            goto out;
        }
        if ((err = write_all(fd, buf, (size_t)n))) {
            sto_fail(db, err, "write: %s", strerror(-err));
            goto out;
        }
    }
    uint8_t digest[32];
    unsigned dlen = 0;
    if (!EVP_DigestFinal_ex(md, digest, &dlen) || dlen != sizeof(digest)) {
        err = sto_fail(db, -EIO, "SHA-256 failed");
        goto out;
    }
    sto_hex(digest, sizeof(digest), id);
    *size = total;
    /* Durable before it gets a name anyone relies on. Read-only: the bytes of a
     * content address never change. */
    if (fchmod(fd, 0400) < 0 || fsync(fd) < 0)
        err = sto_fail(db, -EIO, "fsync: %s", strerror(errno));
out:
    EVP_MD_CTX_free(md);
    free(buf);
    return err;
}

/* Moves the temporary file to its content address (or drops it if that
 * content is already stored). */
static int publish(struct sto_db *db, const char *tmp, const char *id)
{
    char dir[4096], path[4096];
    bool created;
    int err;
    if ((err = blob_path(db, id, dir, sizeof(dir), true)) ||
        (err = blob_path(db, id, path, sizeof(path), false)) || (err = make_dir(db, dir, &created)))
        return err;
    if (created && (err = sync_dir(db, db->files_dir))) return err;
    struct stat sb;
    if (stat(path, &sb) == 0) {
        unlink(tmp); /* stored before: same bytes, since same hash */
        return 0;
    }
    if (rename(tmp, path) < 0)
        return sto_fail(db, -errno, "rename into the file store: %s", strerror(errno));
    return sync_dir(db, dir);
}

static int record(struct sto_db *db, const char *id, uint64_t size, const char *mime,
                  const char *name, int64_t uploader_id, int64_t room_id)
{
    int64_t now = sto_now(db);
    int err = sto_tx_begin(db);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_FILE_INSERT);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 2, (int64_t)size);
    sqlite3_bind_int64(st, 5, uploader_id);
    sqlite3_bind_int64(st, 7, now);
    if ((err = sto_bind_text(db, st, 1, id)) || (err = sto_bind_text(db, st, 3, mime)) ||
        (err = sto_bind_text(db, st, 4, name)) || (err = sto_bind_id(db, st, 6, room_id))) {
        sto_stmt_done(st);
        goto out;
    }
    if ((err = sto_exec_stmt(db, st)) || !room_id) goto out;
    if (!(st = sto_stmt(db, SQL_ROOM_INSERT))) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 2, room_id);
    sqlite3_bind_int64(st, 3, uploader_id);
    sqlite3_bind_int64(st, 4, now);
    if ((err = sto_bind_text(db, st, 1, id))) {
        sto_stmt_done(st);
        goto out;
    }
    err = sto_exec_stmt(db, st);
out:
    if (err == -EINVAL) sto_fail(db, err, "no such uploader or room");
    return sto_tx_end(db, err);
}

int sto_file_put(struct sto_db *db, int64_t uploader_id, int64_t room_id, const char *name,
                 const char *mime, const struct sto_reader *src, char id[STO_FILE_ID_LEN + 1])
{
    id[0] = '\0';
    if (!sto_name_valid(name, STO_FILE_NAME_MAX) || !sto_name_valid(mime, STO_MIME_MAX))
        return sto_fail(db, -EINVAL, "file name or type missing, too long or not text");
    if (!src || !src->read) return sto_fail(db, -EINVAL, "no reader");
    int err;
    if (room_id && (err = sto_require_member(db, room_id, uploader_id, NULL))) return err;

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/tmp/put-XXXXXX", db->files_dir);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return sto_fail(db, -errno, "temporary file in %s/tmp: %s", db->files_dir, strerror(errno));
    uint64_t size = 0;
    char hex[STO_FILE_ID_LEN + 1];
    err = copy_in(db, fd, src, &size, hex);
    if (close(fd) < 0 && !err) err = sto_fail(db, -EIO, "close: %s", strerror(errno));
    if (!err) err = publish(db, tmp, hex);
    if (err) {
        unlink(tmp);
        return err;
    }
    if ((err = record(db, hex, size, mime, name, uploader_id, room_id))) return err;
    memcpy(id, hex, sizeof(hex));
    return 0;
}

struct buf_reader {
    const char *p;
    size_t left;
};

static ssize_t buf_read(void *ctx, void *out, size_t len)
{
    struct buf_reader *b = ctx;
    size_t n = len < b->left ? len : b->left;
    if (n) memcpy(out, b->p, n);
    b->p += n;
    b->left -= n;
    return (ssize_t)n;
}

int sto_file_put_buf(struct sto_db *db, int64_t uploader_id, int64_t room_id, const char *name,
                     const char *mime, const void *buf, size_t len, char id[STO_FILE_ID_LEN + 1])
{
    if (!buf && len) return sto_fail(db, -EINVAL, "no data");
    struct buf_reader b = {buf, len};
    struct sto_reader r = {buf_read, &b};
    if (len > db->file_max_bytes) { /* no need to write it to find out */
        id[0] = '\0';
        return sto_fail(db, -EFBIG, "file larger than %llu bytes",
                        (unsigned long long)db->file_max_bytes);
    }
    return sto_file_put(db, uploader_id, room_id, name, mime, &r, id);
}

int sto_file_from_row(sqlite3_stmt *st, struct sto_file *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", (const char *)sqlite3_column_text(st, 0));
    out->size = sqlite3_column_int64(st, 1);
    out->mime = sto_col_strdup(st, 2);
    out->name = sto_col_strdup(st, 3);
    out->uploader_id = sqlite3_column_int64(st, 4);
    out->room_id = sqlite3_column_int64(st, 5);
    out->created_at = sqlite3_column_int64(st, 6);
    if (out->mime && out->name) return 0;
    sto_file_clear(out);
    return -ENOMEM;
}

int sto_file_get(struct sto_db *db, const char *id, struct sto_file *out)
{
    memset(out, 0, sizeof(*out));
    if (!id_valid(id)) return sto_fail(db, -EINVAL, "bad file id");
    sqlite3_stmt *st = sto_stmt(db, SQL_GET);
    if (!st) return sto_stmt_err(db);
    int err = sto_bind_text(db, st, 1, id);
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if ((err = sto_file_from_row(st, out))) sto_fail(db, err, "out of memory");
    } else if (rc == SQLITE_DONE) {
        err = sto_fail(db, -ENOENT, "no such file");
    } else {
        err = sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

int sto_file_path(struct sto_db *db, const char *id, char *path, size_t path_len)
{
    struct sto_file f;
    int err = sto_file_get(db, id, &f);
    sto_file_clear(&f);
    if (err || (err = blob_path(db, id, path, path_len, false))) return err;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return sto_fail(db, -ENOENT, "file %s is missing from the file store", id);
    return 0;
}

int sto_file_can_read(struct sto_db *db, int64_t user_id, const char *id)
{
    if (!id_valid(id)) return sto_fail(db, -EINVAL, "bad file id");
    sqlite3_stmt *st = sto_stmt(db, SQL_CAN_READ);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 2, user_id);
    int err = sto_bind_text(db, st, 1, id);
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err = sqlite3_column_int(st, 0) ? 0 : sto_fail(db, -EACCES, "not shared with this user");
    else if (rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "no such file");
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

void sto_file_clear(struct sto_file *f)
{
    if (!f) return;
    free(f->mime);
    free(f->name);
    memset(f, 0, sizeof(*f));
}
