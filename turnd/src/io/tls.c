/*
 * tls.c - TURN over TLS (RFC 8656 §3.1): OpenSSL 3 behind the few calls that
 * tcp.c needs, so no other file includes OpenSSL's headers.
 *
 * TLS 1.2 and 1.3 only, no renegotiation, no compression; the certificate
 * chain and key come from PEM files named in the config. ALPN "stun.turn"
 * (RFC 7443) is accepted when a client offers it; clients that offer nothing
 * are served too. The sockets are non-blocking: every call reports "wait for
 * readable" or "wait for writable" instead of blocking.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct tio_tls_ctx {
    SSL_CTX *ctx;
};

struct tio_tls_conn {
    SSL *ssl;
    bool fatal; /* after a fatal error SSL_shutdown must not be called */
};

const char *tio_tls_error(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(buf, cap, "%s", errno ? strerror(errno) : "connection closed during TLS");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

static const unsigned char alpn_turn[] = {9, 's', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, alpn_turn, sizeof(alpn_turn), in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

int tio_tls_ctx_new(const char *cert, const char *key, struct tio_tls_ctx **out, char *err,
                    size_t err_cap)
{
    char detail[256];
    *out = NULL;
    if (!cert || !key) {
        snprintf(err, err_cap, "TLS needs tls_cert and tls_key");
        return -EINVAL;
    }
    struct tio_tls_ctx *t = calloc(1, sizeof(*t));
    if (!t || !(t->ctx = SSL_CTX_new(TLS_server_method()))) {
        snprintf(err, err_cap, "cannot set up TLS: %s", tio_tls_error(detail, sizeof(detail)));
        free(t);
        return -ENOMEM;
    }
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    tio_tls_accept_alpn(t->ctx);
    if (!SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION)) {
        snprintf(err, err_cap, "cannot require TLS 1.2: %s", tio_tls_error(detail, sizeof(detail)));
        goto fail;
    }
    if (tio_tls_use_pair(t->ctx, cert, key, err, err_cap) != 0)
        goto fail;
    *out = t;
    return 0;
fail:
    tio_tls_ctx_free(t);
    return -EINVAL;
}

void tio_tls_accept_alpn(struct ssl_ctx_st *ctx)
{
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
}

int tio_tls_use_pair(struct ssl_ctx_st *ctx, const char *cert, const char *key, char *err,
                     size_t err_cap)
{
    char detail[256];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, err_cap, "tls_cert %s: %s", cert, tio_tls_error(detail, sizeof(detail)));
        return -EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, err_cap, "tls_key %s: %s", key, tio_tls_error(detail, sizeof(detail)));
        return -EINVAL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, err_cap, "tls_key %s does not match tls_cert %s: %s", key, cert,
                 tio_tls_error(detail, sizeof(detail)));
        return -EINVAL;
    }
    return 0;
}

void tio_tls_ctx_free(struct tio_tls_ctx *t)
{
    if (!t) return;
    SSL_CTX_free(t->ctx);
    free(t);
}

struct tio_tls_conn *tio_tls_conn_new(struct tio_tls_ctx *ctx, int fd)
{
    struct tio_tls_conn *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->ssl = SSL_new(ctx->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        ERR_clear_error();
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    SSL_set_accept_state(t->ssl);
    return t;
}

void tio_tls_conn_free(struct tio_tls_conn *t)
{
    if (!t) return;
    /* Best effort close_notify; the socket is non-blocking and about to close. */
    if (!t->fatal && SSL_is_init_finished(t->ssl)) SSL_shutdown(t->ssl);
    ERR_clear_error();
    SSL_free(t->ssl);
    free(t);
}

/* Map an OpenSSL result to the convention in internal.h. */
static long result(struct tio_tls_conn *t, int ret)
{
    switch (SSL_get_error(t->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        return -EINPROGRESS;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        t->fatal = true;
        if (ERR_peek_error() == 0) /* the socket failed or closed under TLS */
            return errno == 0 || errno == EPIPE || errno == ECONNRESET ? 0 : -errno;
        return -EPROTO;
    default:
        t->fatal = true;
        return -EPROTO;
    }
}

int tio_tls_handshake(struct tio_tls_conn *t)
{
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(t->ssl);
    if (ret == 1) return 0;
    long rc = result(t, ret);
    return rc == 0 ? -EPROTO : (int)rc;
}

long tio_tls_read(struct tio_tls_conn *t, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read_ex(t->ssl, buf, cap, &n);
    return ret == 1 ? (long)n : result(t, ret);
}

long tio_tls_write(struct tio_tls_conn *t, const uint8_t *buf, size_t len)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write_ex(t->ssl, buf, len, &n);
    return ret == 1 ? (long)n : result(t, ret);
}
