/*
 * certs.c - the HTTPS certificate of the chat service (signal.tls_cert and
 * tls_key, which the console and TURN over TLS usually share): what is
 * installed, replacing it with an uploaded chain + key (checked: PEM, the key
 * matches, valid now), or a new self-signed one. Files are replaced by rename,
 * the key with mode 0600; then applianced restarts signald.
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "provision.h"

struct paths {
    char cert[1024], key[1024];
};

/* signald's paths from the config file, else the console's own. */
static void target_paths(const struct console *c, struct paths *p)
{
    snprintf(p->cert, sizeof p->cert, "%s", c->cfg->tls_cert);
    snprintf(p->key, sizeof p->key, "%s", c->cfg->tls_key);
    config_t lc;
    config_init(&lc);
    const char *s;
    if (c->cfg->config_path && config_read_file(&lc, c->cfg->config_path) == CONFIG_TRUE) {
        if (config_lookup_string(&lc, "signal.tls_cert", &s) == CONFIG_TRUE)
            snprintf(p->cert, sizeof p->cert, "%s", s);
        if (config_lookup_string(&lc, "signal.tls_key", &s) == CONFIG_TRUE)
            snprintf(p->key, sizeof p->key, "%s", s);
    }
    config_destroy(&lc);
}

static char *asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    char buf[40];
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return strdup("?");
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
}

static json_t *cert_json(X509 *x, int chain_len)
{
    char subj[512], iss[512];
    X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof subj);
    X509_NAME_oneline(X509_get_issuer_name(x), iss, sizeof iss);
    json_t *sans = json_array();
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *n = sk_GENERAL_NAME_value(names, i);
        if (n->type == GEN_DNS)
            json_array_append_new(sans, json_sprintf("DNS:%s", (const char *)ASN1_STRING_get0_data(
                                                                   n->d.dNSName)));
        else if (n->type == GEN_IPADD && (n->d.iPAddress->length == 4 || n->d.iPAddress->length == 16)) {
            const unsigned char *a = ASN1_STRING_get0_data(n->d.iPAddress);
            char ip[64] = "";
            if (n->d.iPAddress->length == 4)
                snprintf(ip, sizeof ip, "IP:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
            else
                snprintf(ip, sizeof ip, "IP:(IPv6)");
            json_array_append_new(sans, json_string(ip));
        }
    }
    GENERAL_NAMES_free(names);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char fp[EVP_MAX_MD_SIZE * 3 + 1] = "";
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        for (unsigned i = 0; i < mdlen; i++)
            sprintf(fp + i * 3, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
    char *nb = asn1_time(X509_get0_notBefore(x)), *na = asn1_time(X509_get0_notAfter(x));
    json_t *j = json_pack("{ss ss so ss ss si sb ss si}", "subject", subj, "issuer", iss, "san",
                          sans, "not_before", nb, "not_after", na, "days_left", days,
                          "self_signed", X509_check_issued(x, x) == X509_V_OK, "sha256", fp,
                          "chain_length", chain_len);
    free(nb);
    free(na);
    return j;
}

void con_certs_get(struct console *c, const struct con_req *r, const struct con_admin *who,
                   json_t *body, struct con_reply *out)
{
    (void)r;
    (void)who;
    (void)body;
    struct paths p;
    target_paths(c, &p);
    FILE *f = fopen(p.cert, "r");
    json_t *res = json_pack("{sb ss ss}", "ok", 1, "cert_path", p.cert, "key_path", p.key);
    if (!f) {
        json_object_set_new(res, "error", json_sprintf("cannot read %s: %s", p.cert, strerror(errno)));
        con_json(out, 200, res);
        return;
    }
    X509 *leaf = PEM_read_X509(f, NULL, NULL, NULL), *x;
    int n = leaf ? 1 : 0;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
        n++;
        X509_free(x);
    }
    ERR_clear_error();
    fclose(f);
    if (leaf)
        json_object_set_new(res, "certificate", cert_json(leaf, n));
    else
        json_object_set_new(res, "error", json_sprintf("%s is not a PEM certificate", p.cert));
    X509_free(leaf);
    con_json(out, 200, res);
}

static int write_atomic(const char *path, const char *data, size_t len, mode_t mode, char *err,
                        size_t cap)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.console-tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, cap, "cannot write %s: %s", tmp, strerror(errno));
        return -errno;
    }
    bool ok = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

static void restart_signald(struct console *c, const struct con_admin *who, json_t *res)
{
    char err[512];
    json_t *req = json_pack("{ss ss}", "cmd", "restart", "service", "signald");
    json_t *rep = con_actl(c, req, 10000, err, sizeof err);
    json_decref(req);
    bool ok = rep && json_is_true(json_object_get(rep, "ok"));
    const char *why = rep ? json_string_value(json_object_get(rep, "error")) : err;
    json_object_set_new(res, "note",
                        ok ? json_string("Installed; signald restarted with it. turnd and this "
                                         "console use it from their next restart.")
                           : json_sprintf("Installed, but signald was not restarted: %s",
                                          why ? why : "no reason"));
    con_audit(c, who, "service.restart", "signald", "after a certificate change%s",
              ok ? "" : " (refused)");
    json_decref(rep);
}

void con_certs_upload(struct console *c, const struct con_req *r, const struct con_admin *who,
                      json_t *body, struct con_reply *out)
{
    (void)r;
    const char *cert = json_string_value(json_object_get(body, "cert"));
    const char *key = json_string_value(json_object_get(body, "key"));
    if (!cert || !key || !cert[0] || !key[0]) {
        con_error(out, 400, "bad_request", "\"cert\" (PEM chain) and \"key\" (PEM) are required");
        return;
    }
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *leaf = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    ERR_clear_error();
    struct paths p;
    char err[1200];
    json_t *res = NULL;
    if (!leaf)
        con_error(out, 422, "invalid", "the certificate is not PEM (-----BEGIN CERTIFICATE-----)");
    else if (!pk)
        con_error(out, 422, "invalid", "the key is not an unencrypted PEM private key");
    else if (X509_check_private_key(leaf, pk) != 1)
        con_error(out, 422, "invalid", "the key does not belong to the certificate");
    else if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
        con_error(out, 422, "invalid", "the certificate has expired");
    else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0)
        con_error(out, 422, "invalid", "the certificate is not valid yet");
    else {
        target_paths(c, &p);
        if (write_atomic(p.key, key, strlen(key), 0600, err, sizeof err) != 0 ||
            write_atomic(p.cert, cert, strlen(cert), 0644, err, sizeof err) != 0) {
            con_error(out, 500, "write", "%s", err);
        } else {
            char subj[300];
            X509_NAME_oneline(X509_get_subject_name(leaf), subj, sizeof subj);
            con_audit(c, who, "certificate.install", p.cert, "%s", subj);
            res = json_pack("{sb}", "ok", 1);
            restart_signald(c, who, res);
            con_json(out, 200, res);
        }
    }
    ERR_clear_error();
    X509_free(leaf);
    EVP_PKEY_free(pk);
    BIO_free(cb);
    BIO_free(kb);
}

void con_certs_selfsigned(struct console *c, const struct con_req *r, const struct con_admin *who,
                          json_t *body, struct con_reply *out)
{
    (void)r;
    const char *host = json_string_value(json_object_get(body, "hostname"));
    if (!host || !host[0] || strlen(host) > 253 || strspn(host, "abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
                                                      != strlen(host)) {
        con_error(out, 400, "bad_request", "\"hostname\": a DNS name such as chat.example.internal");
        return;
    }
    struct paths p;
    target_paths(c, &p);
    char tc[1100], tk[1100], err[1200];
    snprintf(tc, sizeof tc, "%s.new", p.cert);
    snprintf(tk, sizeof tk, "%s.new", p.key);
    unlink(tc);
    unlink(tk);
    bool made;
    if (app_prov_certificate(tc, tk, host, &made, err, sizeof err) != 0 || !made) {
        con_error(out, 500, "internal", "cannot make a certificate: %s", made ? err : "not made");
    } else if (rename(tk, p.key) != 0 || rename(tc, p.cert) != 0) {
        con_error(out, 500, "write", "cannot install the certificate: %s", strerror(errno));
    } else {
        con_audit(c, who, "certificate.selfsigned", p.cert, "CN=%s", host);
        json_t *res = json_pack("{sb}", "ok", 1);
        restart_signald(c, who, res);
        con_json(out, 200, res);
        return;
    }
    unlink(tc);
    unlink(tk);
}
