/*
 * provision.c - first-start provisioning (see provision.h).
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/password.h"
#include "lanturn/storage.h"

static int fail(char *err, size_t cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return code;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Writes data to path through a temporary file and a rename, mode 0600. */
static int write_private(const char *path, const void *data, size_t len, char *err, size_t cap)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return fail(err, cap, -ENAMETOOLONG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, cap, -errno, "cannot create %s: %s", tmp, strerror(errno));
    bool ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, cap, -e, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int app_prov_secret(const char *path, bool *created, char *err, size_t cap)
{
    *created = false;
    if (!path || exists(path))
        return 0;
    uint8_t raw[32];
    char b64[64];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return fail(err, cap, -EIO, "no random bytes for the TURN secret");
    int n = EVP_EncodeBlock((unsigned char *)b64, raw, sizeof raw);
    b64[n++] = '\n';
    OPENSSL_cleanse(raw, sizeof raw);
    int rc = write_private(path, b64, (size_t)n, err, cap);
    OPENSSL_cleanse(b64, sizeof b64);
    *created = rc == 0;
    return rc;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

int app_prov_certificate(const char *cert, const char *key, const char *hostname, bool *created,
                         char *err, size_t cap)
{
    *created = false;
    if (!cert || !key || (exists(cert) && exists(key)))
        return 0;
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    int rc = -EIO;
    uint8_t serial[16];
    char san[600];
    snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
    BIGNUM *bn = NULL;
    if (!pk || !x || !kb || !cb || RAND_bytes(serial, sizeof serial) != 1)
        goto out;
    serial[0] &= 0x7F; /* a positive serial */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_NAME *name = X509_get_subject_name(x);
    if (!bn || !X509_set_version(x, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400) || !X509_set_pubkey(x, pk) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1,
                                    -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)"lanturn appliance", -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || add_ext(x, NID_subject_alt_name, san) ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") ||
        add_ext(x, NID_ext_key_usage, "serverAuth") || !X509_sign(x, pk, EVP_sha256()))
        goto out;
    if (!PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x))
        goto out;
    char *data;
    long len = BIO_get_mem_data(kb, &data);
    if ((rc = write_private(key, data, (size_t)len, err, cap)) != 0)
        goto done;
    len = BIO_get_mem_data(cb, &data);
    if ((rc = write_private(cert, data, (size_t)len, err, cap)) != 0)
        goto done;
    chmod(cert, 0644); /* the certificate is public */
    *created = true;
out:
    if (rc == -EIO)
        fail(err, cap, rc, "could not make a self-signed certificate (OpenSSL)");
done:
    BN_free(bn);
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    EVP_PKEY_free(pk);
    return rc;
}

int app_prov_check_certificate(const char *cert, const char *key, char *err, size_t cap)
{
    FILE *cf = fopen(cert, "r"), *kf = fopen(key, "r");
    X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pk = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    int rc = 0;
    if (!cf || !kf)
        rc = fail(err, cap, -ENOENT, "cannot open %s", !cf ? cert : key);
    else if (!x)
        rc = fail(err, cap, -EINVAL, "%s is not a PEM certificate", cert);
    else if (!pk)
        rc = fail(err, cap, -EINVAL, "%s is not a PEM private key (or it is encrypted)", key);
    else if (X509_check_private_key(x, pk) != 1)
        rc = fail(err, cap, -EINVAL, "the key in %s does not belong to the certificate in %s", key,
                  cert);
    else if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
        rc = fail(err, cap, -EINVAL, "the certificate in %s has expired", cert);
    if (cf)
        fclose(cf);
    if (kf)
        fclose(kf);
    X509_free(x);
    EVP_PKEY_free(pk);
    return rc;
}

static void random_password(char *out, size_t cap)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    uint8_t r[20];
    RAND_bytes(r, sizeof r);
    size_t n = cap - 1 < sizeof r ? cap - 1 : sizeof r;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[r[i] % (sizeof alphabet - 1)];
    out[n] = '\0';
}

int app_prov_admin(const char *data_dir, const char *password_file, const char *state_dir,
                   bool *created, char *password, char *err, size_t cap)
{
    *created = false;
    struct sto_db *db;
    char msg[STO_ERR_MAX];
    if (sto_open(data_dir, &db, msg, sizeof msg) != 0)
        return fail(err, cap, -EIO, "%s", msg);
    struct sto_user *u = NULL;
    size_t n = 0;
    int rc = sto_user_list(db, 0, 1, &u, &n);
    sto_users_free(u, n);
    if (rc || n > 0) {
        sto_close(db);
        return rc ? fail(err, cap, rc, "reading users: %s", sto_errmsg(db)) : 0;
    }
    char pw[SIG_PASSWORD_MAX_LEN + 2] = "";
    bool generated = !password_file;
    if (password_file) {
        FILE *f = fopen(password_file, "r");
        if (!f || !fgets(pw, sizeof pw, f)) {
            if (f)
                fclose(f);
            sto_close(db);
            return fail(err, cap, -ENOENT, "cannot read the admin password from %s", password_file);
        }
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
    } else {
        random_password(pw, 21);
    }
    const char *why;
    struct sig_kdf kdf;
    sig_kdf_defaults(&kdf);
    struct sig_password_hash h;
    if (sig_password_acceptable(pw, &why) != 0)
        rc = fail(err, cap, -EINVAL, "%s: %s", password_file, why);
    else if (sig_password_hash(pw, &kdf, &h) != 0)
        rc = fail(err, cap, -EIO, "could not hash the admin password");
    else {
        struct sto_password sp = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
        int64_t id;
        rc = sto_user_create(db, APP_ADMIN_NAME, "Administrator", true, &sp, &id);
        if (rc)
            fail(err, cap, rc, "creating the admin: %s", sto_errmsg(db));
        else
            sto_audit_append(db, 0, "user.create", "user:admin", "first start");
    }
    sto_close(db);
    if (rc == 0 && generated) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", state_dir, APP_INITIAL_PASSWORD_FILE);
        char line[64];
        int len = snprintf(line, sizeof line, "%s\n", pw);
        rc = write_private(path, line, (size_t)len, err, cap);
        if (password) /* generated: 20 characters */
            memcpy(password, pw, strlen(pw) + 1);
    }
    OPENSSL_cleanse(pw, sizeof pw);
    *created = rc == 0;
    return rc;
}
