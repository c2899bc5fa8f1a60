/*
 * dtls.c - DTLS-SRTP over OpenSSL 3 and libsrtp2 (see dtls.h).
 *
 * Outgoing records go through a tiny BIO of our own whose write() queues each
 * call as one datagram: OpenSSL writes a DTLS flight record by record and a
 * memory BIO would glue them into one buffer with the datagram boundaries lost.
 * Incoming datagrams go into a memory BIO one at a time.
 */
#include "dtls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#define QUEUE_LEN 16

struct media_dtls_cert {
    EVP_PKEY *key;
    X509 *x509;
    SSL_CTX *ctx;
    char fingerprint[8 + 3 * 32 + 1];
};

struct media_dtls {
    SSL *ssl;
    BIO *rbio;
    enum media_dtls_state state;
    const EVP_MD *md;
    uint8_t fp[EVP_MAX_MD_SIZE];
    size_t fp_len;
    char error[160];
    uint8_t queue[QUEUE_LEN][MEDIA_DTLS_MTU + 100];
    size_t queue_len[QUEUE_LEN];
    unsigned head, count;
};

struct media_srtp {
    srtp_t in, out;
};

static void ssl_error(char *err, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[128] = "no OpenSSL error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    snprintf(err, cap, "%s: %s", what, buf);
}

/* ---- the datagram-preserving write BIO ---- */

static BIO_METHOD *queue_method;

static int queue_write(BIO *b, const char *data, int len)
{
    struct media_dtls *d = BIO_get_data(b);
    if (len <= 0 || (size_t)len > sizeof d->queue[0] || d->count == QUEUE_LEN)
        return -1; /* a lost datagram: DTLS retransmits the flight */
    unsigned slot = (d->head + d->count) % QUEUE_LEN;
    memcpy(d->queue[slot], data, (size_t)len);
    d->queue_len[slot] = (size_t)len;
    d->count++;
    return len;
}

static long queue_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU: return MEDIA_DTLS_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING: return 0;
    default: return 0;
    }
}

static int queue_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int make_method(void)
{
    if (queue_method)
        return 0;
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "media-dtls-queue");
    if (!m || !BIO_meth_set_write(m, queue_write) || !BIO_meth_set_ctrl(m, queue_ctrl) ||
        !BIO_meth_set_create(m, queue_create)) {
        BIO_meth_free(m);
        return -ENOMEM;
    }
    queue_method = m;
    return 0;
}

/* ---- certificate ---- */

static int accept_any(int ok, X509_STORE_CTX *ctx)
{
    (void)ok, (void)ctx;
    return 1; /* self-signed by design: the SDP fingerprint is checked after the handshake */
}

int media_dtls_cert_new(struct media_dtls_cert **out, char *err, size_t err_cap)
{
    *out = NULL;
    struct media_dtls_cert *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = -EIO;
    c->key = EVP_EC_gen("P-256");
    if (!c->key) {
        ssl_error(err, err_cap, "EC key");
        goto fail;
    }
    c->x509 = X509_new();
    uint8_t serial[8];
    if (!c->x509 || RAND_bytes(serial, sizeof serial) != 1) {
        ssl_error(err, err_cap, "X509_new");
        goto fail;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_NAME *name = X509_get_subject_name(c->x509);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c->x509)) ||
        !X509_set_version(c->x509, 2) || !X509_gmtime_adj(X509_getm_notBefore(c->x509), -86400) ||
        !X509_gmtime_adj(X509_getm_notAfter(c->x509), 30L * 86400) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"lanturn-mediad",
                                    -1, -1, 0) ||
        !X509_set_issuer_name(c->x509, name) || !X509_set_pubkey(c->x509, c->key) ||
        !X509_sign(c->x509, c->key, EVP_sha256())) {
        BN_free(bn);
        ssl_error(err, err_cap, "self-signed certificate");
        goto fail;
    }
    BN_free(bn);
    uint8_t md[32];
    unsigned md_len = 0;
    if (!X509_digest(c->x509, EVP_sha256(), md, &md_len) || md_len != 32) {
        ssl_error(err, err_cap, "X509_digest");
        goto fail;
    }
    char *p = c->fingerprint + sprintf(c->fingerprint, "sha-256 ");
    for (unsigned i = 0; i < md_len; i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);

    c->ctx = SSL_CTX_new(DTLS_method());
    if (!c->ctx || !SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_use_certificate(c->ctx, c->x509) || !SSL_CTX_use_PrivateKey(c->ctx, c->key) ||
        !SSL_CTX_check_private_key(c->ctx)) {
        ssl_error(err, err_cap, "SSL_CTX");
        goto fail;
    }
    /* RFC 8827 §6.5: GCM first when both sides have it. Returns 0 on success. */
    if (SSL_CTX_set_tlsext_use_srtp(c->ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0) {
        ssl_error(err, err_cap, "use_srtp");
        goto fail;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU);
    if (make_method()) {
        snprintf(err, err_cap, "BIO method: out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    media_dtls_cert_free(c);
    return rc;
}

void media_dtls_cert_free(struct media_dtls_cert *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    X509_free(c->x509);
    EVP_PKEY_free(c->key);
    free(c);
}

const char *media_dtls_cert_fingerprint(const struct media_dtls_cert *c) { return c->fingerprint; }

/* ---- the endpoint ---- */

int media_dtls_new(struct media_dtls **out, const struct media_dtls_cert *cert,
                   enum media_dtls_role role, const char *fp_alg, const uint8_t *fp, size_t fp_len)
{
    *out = NULL;
    static const struct { const char *sdp, *ossl; } algs[] = {
        {"sha-256", "SHA256"}, {"sha-1", "SHA1"}, {"sha-384", "SHA384"}, {"sha-512", "SHA512"}};
    const EVP_MD *md = NULL;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(fp_alg, algs[i].sdp) == 0)
            md = EVP_get_digestbyname(algs[i].ossl);
    if (!md || fp_len != (size_t)EVP_MD_get_size(md))
        return -EINVAL;
    struct media_dtls *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->md = md;
    memcpy(d->fp, fp, fp_len);
    d->fp_len = fp_len;
    d->ssl = SSL_new(cert->ctx);
    d->rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(queue_method);
    if (!d->ssl || !d->rbio || !wbio) {
        BIO_free(wbio);
        BIO_free(d->rbio);
        SSL_free(d->ssl);
        free(d);
        return -ENOMEM;
    }
    BIO_set_mem_eof_return(d->rbio, -1);
    BIO_set_data(wbio, d);
    SSL_set_bio(d->ssl, d->rbio, wbio); /* the SSL owns both BIOs now */
    DTLS_set_link_mtu(d->ssl, MEDIA_DTLS_MTU);
    if (role == MEDIA_DTLS_CLIENT)
        SSL_set_connect_state(d->ssl);
    else
        SSL_set_accept_state(d->ssl);
    *out = d;
    return 0;
}

void media_dtls_free(struct media_dtls *d)
{
    if (!d)
        return;
    SSL_free(d->ssl);
    free(d);
}

static int fail_proto(struct media_dtls *d, const char *what)
{
    if (!d->error[0])
        ssl_error(d->error, sizeof d->error, what);
    d->state = MEDIA_DTLS_FAILED;
    return -EPROTO;
}

static int check_peer(struct media_dtls *d)
{
    X509 *peer = SSL_get1_peer_certificate(d->ssl);
    if (!peer) {
        snprintf(d->error, sizeof d->error, "the peer sent no certificate");
        return -EPROTO;
    }
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    int ok = X509_digest(peer, d->md, md, &md_len);
    X509_free(peer);
    if (!ok || md_len != d->fp_len || CRYPTO_memcmp(md, d->fp, md_len) != 0) {
        snprintf(d->error, sizeof d->error, "the peer's certificate does not match a=fingerprint");
        return -EPROTO;
    }
    return 0;
}

static int step(struct media_dtls *d)
{
    if (d->state == MEDIA_DTLS_HANDSHAKING) {
        int r = SSL_do_handshake(d->ssl);
        if (r == 1) {
            if (check_peer(d))
                return fail_proto(d, "fingerprint");
            if (!SSL_get_selected_srtp_profile(d->ssl)) {
                snprintf(d->error, sizeof d->error, "no SRTP profile in common (use_srtp)");
                return fail_proto(d, "use_srtp");
            }
            d->state = MEDIA_DTLS_CONNECTED;
        } else {
            int e = SSL_get_error(d->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                return fail_proto(d, "DTLS handshake");
            return 0;
        }
    }
    if (d->state == MEDIA_DTLS_CONNECTED) {
        /* No DTLS application data in an echo (no data channel): read and drop. */
        uint8_t scratch[2048];
        for (;;) {
            int r = SSL_read(d->ssl, scratch, sizeof scratch);
            if (r > 0)
                continue;
            int e = SSL_get_error(d->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN)
                d->state = MEDIA_DTLS_CLOSED;
            ERR_clear_error();
            break;
        }
    }
    return 0;
}

int media_dtls_start(struct media_dtls *d) { return step(d); }

int media_dtls_recv(struct media_dtls *d, const uint8_t *pkt, size_t len)
{
    if (d->state == MEDIA_DTLS_FAILED)
        return -EPROTO;
    if (len > INT32_MAX || BIO_write(d->rbio, pkt, (int)len) != (int)len)
        return -ENOMEM;
    return step(d);
}

size_t media_dtls_pop(struct media_dtls *d, uint8_t *buf, size_t cap)
{
    if (d->count == 0)
        return 0;
    size_t n = d->queue_len[d->head];
    if (n > cap)
        n = 0; /* too small a buffer: drop it, DTLS retransmits */
    else
        memcpy(buf, d->queue[d->head], n);
    d->head = (d->head + 1) % QUEUE_LEN;
    d->count--;
    return n;
}

enum media_dtls_state media_dtls_state(const struct media_dtls *d) { return d->state; }
const char *media_dtls_error(const struct media_dtls *d) { return d->error; }

long media_dtls_timeout_ms(struct media_dtls *d)
{
    struct timeval tv;
    if (d->state != MEDIA_DTLS_HANDSHAKING || DTLSv1_get_timeout(d->ssl, &tv) != 1)
        return -1;
    return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

void media_dtls_on_timeout(struct media_dtls *d)
{
    if (d->state == MEDIA_DTLS_HANDSHAKING && DTLSv1_handle_timeout(d->ssl) < 0)
        fail_proto(d, "DTLS retransmission");
}

int media_dtls_srtp_keys(struct media_dtls *d, struct media_srtp_keys *k)
{
    memset(k, 0, sizeof *k);
    if (d->state != MEDIA_DTLS_CONNECTED)
        return -EAGAIN;
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    size_t key_len = 16, salt_len;
    if (p->id == SRTP_AES128_CM_SHA1_80) {
        k->profile = MEDIA_SRTP_AES128_CM_SHA1_80;
        salt_len = 14;
    } else if (p->id == SRTP_AEAD_AES_128_GCM) {
        k->profile = MEDIA_SRTP_AEAD_AES_128_GCM;
        salt_len = 12;
    } else {
        return -EIO;
    }
    /* RFC 5764 §4.2: client key, server key, client salt, server salt */
    uint8_t m[2 * MEDIA_SRTP_KEY_MAX];
    size_t total = 2 * (key_len + salt_len);
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(d->ssl, m, total, label, sizeof label - 1, NULL, 0, 0) != 1) {
        ssl_error(d->error, sizeof d->error, "export keying material");
        return -EIO;
    }
    uint8_t client[MEDIA_SRTP_KEY_MAX], server[MEDIA_SRTP_KEY_MAX];
    memcpy(client, m, key_len);
    memcpy(server, m + key_len, key_len);
    memcpy(client + key_len, m + 2 * key_len, salt_len);
    memcpy(server + key_len, m + 2 * key_len + salt_len, salt_len);
    bool is_server = SSL_is_server(d->ssl);
    k->len = key_len + salt_len;
    memcpy(k->local, is_server ? server : client, k->len);
    memcpy(k->remote, is_server ? client : server, k->len);
    OPENSSL_cleanse(m, sizeof m);
    OPENSSL_cleanse(client, sizeof client);
    OPENSSL_cleanse(server, sizeof server);
    return 0;
}

/* ---- SRTP ---- */

static int init_rc;
static void init_srtp(void)
{
    init_rc = srtp_init() == srtp_err_status_ok ? 0 : -EIO;
}

/* Once per process, whichever worker thread gets here first. */
static int srtp_ready(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_srtp);
    return init_rc;
}

static int make_session(srtp_t *out, const struct media_srtp_keys *k, const uint8_t *key,
                        srtp_ssrc_type_t type)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    if (k->profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
    }
    uint8_t keybuf[MEDIA_SRTP_KEY_MAX];
    memcpy(keybuf, key, k->len);
    pol.ssrc.type = type;
    pol.key = keybuf;
    pol.window_size = 1024;
    pol.allow_repeat_tx = 1;
    srtp_err_status_t st = srtp_create(out, &pol);
    OPENSSL_cleanse(keybuf, sizeof keybuf);
    return st == srtp_err_status_ok ? 0 : -EIO;
}

int media_srtp_new(struct media_srtp **out, const struct media_srtp_keys *k)
{
    *out = NULL;
    if (k->profile == MEDIA_SRTP_NONE || srtp_ready())
        return -EIO;
    struct media_srtp *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (make_session(&s->in, k, k->remote, ssrc_any_inbound) ||
        make_session(&s->out, k, k->local, ssrc_any_outbound)) {
        media_srtp_free(s);
        return -EIO;
    }
    *out = s;
    return 0;
}

void media_srtp_free(struct media_srtp *s)
{
    if (!s)
        return;
    if (s->in)
        srtp_dealloc(s->in);
    if (s->out)
        srtp_dealloc(s->out);
    free(s);
}

int media_srtp_unprotect(struct media_srtp *s, bool rtcp, uint8_t *pkt, size_t *len)
{
    if (*len > 65535)
        return -EIO;
    int n = (int)*len;
    srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(s->in, pkt, &n) : srtp_unprotect(s->in, pkt, &n);
    if (st != srtp_err_status_ok)
        return -EIO;
    *len = (size_t)n;
    return 0;
}

int media_srtp_protect(struct media_srtp *s, bool rtcp, uint8_t *pkt, size_t *len, size_t cap)
{
    if (*len > 65535 || cap < *len + MEDIA_SRTP_TRAILER_MAX)
        return -ENOSPC;
    int n = (int)*len;
    srtp_err_status_t st = rtcp ? srtp_protect_rtcp(s->out, pkt, &n) : srtp_protect(s->out, pkt, &n);
    if (st != srtp_err_status_ok)
        return -EIO;
    *len = (size_t)n;
    return 0;
}
