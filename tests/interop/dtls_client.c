/*
 * dtls_client.c - a DTLS 1.2 client for turnd's interop tests (OpenSSL):
 * from one fixed local port it makes COUNT sessions one after the other.
 * Each sends a STUN Binding request inside DTLS and checks the answer and,
 * given USER and PASS, makes a TURN allocation (401, then an Allocate with
 * long-term credentials). Every session but the last ends without
 * close_notify, as a client that crashed and restarted on the same port
 * would; the last one sends close_notify.
 *
 * usage: dtls_client SERVER_IP SERVER_PORT LOCAL_PORT COUNT [USER PASS]
 * Exit 0 when every session did all it was asked to.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct msg {
    unsigned char b[1024];
    size_t len;
};

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* A STUN header: type, length 0, magic cookie, a random transaction id. */
static void start(struct msg *m, unsigned type)
{
    memset(m, 0, sizeof(*m));
    put16(m->b, type);
    static const unsigned char cookie[4] = {0x21, 0x12, 0xa4, 0x42};
    memcpy(m->b + 4, cookie, 4);
    RAND_bytes(m->b + 8, 12);
    m->len = 20;
}

static void attr(struct msg *m, unsigned type, const void *v, size_t n)
{
    put16(m->b + m->len, type);
    put16(m->b + m->len + 2, (unsigned)n);
    memcpy(m->b + m->len + 4, v, n);
    m->len += 4 + ((n + 3) & ~(size_t)3);
    put16(m->b + 2, (unsigned)(m->len - 20));
}

/* The value of attribute `type` in a response, copied into out (NUL-ended). */
static int find_attr(const unsigned char *r, size_t len, unsigned type, char *out, size_t cap)
{
    for (size_t off = 20; off + 4 <= len;) {
        unsigned t = (unsigned)(r[off] << 8 | r[off + 1]),
                 n = (unsigned)(r[off + 2] << 8 | r[off + 3]);
        if (off + 4 + n > len) break;
        if (t == type && n < cap) {
            memcpy(out, r + off + 4, n);
            out[n] = '\0';
            return 0;
        }
        off += 4 + ((n + 3) & ~3u);
    }
    return -1;
}

/* Send m, read the answer; its STUN type, or -1. */
static int ask(SSL *ssl, const struct msg *m, unsigned char *resp, size_t cap, size_t *len)
{
    if (SSL_write(ssl, m->b, (int)m->len) != (int)m->len) return -1;
    int got = SSL_read(ssl, resp, (int)cap);
    if (got < 20 || memcmp(resp + 8, m->b + 8, 12) != 0) return -1;
    *len = (size_t)got;
    return resp[0] << 8 | resp[1];
}

static int allocate(SSL *ssl, const char *user, const char *pass)
{
    static const unsigned char udp[4] = {17, 0, 0, 0}; /* REQUESTED-TRANSPORT UDP */
    unsigned char resp[1024];
    size_t len;
    struct msg m;
    start(&m, 0x0003);
    attr(&m, 0x0019, udp, sizeof(udp));
    char realm[256], nonce[256];
    if (ask(ssl, &m, resp, sizeof(resp), &len) != 0x0113 ||
        find_attr(resp, len, 0x0014, realm, sizeof(realm)) != 0 ||
        find_attr(resp, len, 0x0015, nonce, sizeof(nonce)) != 0) {
        fprintf(stderr, "no 401 with realm and nonce\n");
        return -1;
    }
    /* RFC 8489 §9.2.2: key = MD5(user:realm:password), HMAC-SHA1 over the
     * message with its length already counting MESSAGE-INTEGRITY. */
    char material[600];
    unsigned char key[16], mac[20];
    unsigned int n = 0;
    snprintf(material, sizeof(material), "%s:%s:%s", user, realm, pass);
    EVP_Digest(material, strlen(material), key, &n, EVP_md5(), NULL);
    start(&m, 0x0003);
    attr(&m, 0x0019, udp, sizeof(udp));
    attr(&m, 0x0006, user, strlen(user));
    attr(&m, 0x0014, realm, strlen(realm));
    attr(&m, 0x0015, nonce, strlen(nonce));
    put16(m.b + 2, (unsigned)(m.len - 20 + 24));
    HMAC(EVP_sha1(), key, sizeof(key), m.b, m.len, mac, &n);
    attr(&m, 0x0008, mac, sizeof(mac));
    int type = ask(ssl, &m, resp, sizeof(resp), &len);
    if (type != 0x0103) {
        fprintf(stderr, "Allocate answered 0x%04x\n", type);
        return -1;
    }
    return 0;
}

static int session(SSL_CTX *ctx, const struct sockaddr_in *server, int local_port, int n, bool last,
                   const char *user, const char *pass)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)local_port)};
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
        connect(fd, (const struct sockaddr *)server, sizeof(*server)) != 0) {
        perror("socket");
        return -1;
    }
    BIO *bio = BIO_new_dgram(fd, BIO_CLOSE);
    struct timeval tv = {.tv_sec = 2};
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, (void *)server);
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_RECV_TIMEOUT, 0, &tv);
    SSL *ssl = SSL_new(ctx);
    SSL_set_bio(ssl, bio, bio);
    int rc = -1;
    unsigned char resp[512];
    size_t len;
    struct msg m;
    start(&m, 0x0001);
    if (SSL_connect(ssl) != 1) {
        fprintf(stderr, "session %d: handshake failed\n", n);
        ERR_print_errors_fp(stderr);
    } else if (ask(ssl, &m, resp, sizeof(resp), &len) != 0x0101) {
        fprintf(stderr, "session %d: no Binding success\n", n);
    } else if (user && allocate(ssl, user, pass) != 0) {
        fprintf(stderr, "session %d: no allocation\n", n);
    } else {
        printf("session %d from port %d: %s, Binding success%s\n", n, local_port,
               SSL_get_version(ssl), user ? ", allocated" : "");
        rc = 0;
    }
    if (last && rc == 0)
        SSL_shutdown(ssl); /* close_notify */
    else
        SSL_set_quiet_shutdown(ssl, 1); /* leave without it, like a crash */
    SSL_free(ssl);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: dtls_client SERVER_IP SERVER_PORT LOCAL_PORT COUNT [USER PASS]\n");
        return 2;
    }
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) return 2;
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* a throwaway test certificate */
    int failed = 0, count = atoi(argv[4]);
    for (int i = 0; i < count; i++)
        failed |= session(ctx, &server, atoi(argv[3]), i, i == count - 1,
                          argc == 7 ? argv[5] : NULL, argc == 7 ? argv[6] : NULL) != 0;
    SSL_CTX_free(ctx);
    return failed;
}
