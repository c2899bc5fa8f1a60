/*
 * dtls_client.c - a DTLS 1.2 client for turnd's interop tests (OpenSSL):
 * from one fixed local port it makes COUNT sessions one after the other,
 * each sending a STUN Binding request inside DTLS and checking the answer,
 * and each ending without close_notify, as a client that crashed and
 * restarted on the same port would.
 *
 * usage: dtls_client SERVER_IP SERVER_PORT LOCAL_PORT COUNT
 * Exit 0 when every session handshook and got its Binding success.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int session(SSL_CTX *ctx, const struct sockaddr_in *server, int local_port, int n)
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
    if (SSL_connect(ssl) != 1) {
        fprintf(stderr, "session %d: handshake failed\n", n);
        ERR_print_errors_fp(stderr);
        goto out;
    }
    /* RFC 8489 Binding request: type 0x0001, length 0, magic cookie, transaction id */
    unsigned char req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, resp[512];
    RAND_bytes(req + 8, 12);
    if (SSL_write(ssl, req, sizeof(req)) != (int)sizeof(req)) {
        fprintf(stderr, "session %d: write failed\n", n);
        goto out;
    }
    int got = SSL_read(ssl, resp, sizeof(resp));
    if (got < 20 || resp[0] != 0x01 || resp[1] != 0x01 || memcmp(resp + 8, req + 8, 12) != 0) {
        fprintf(stderr, "session %d: no Binding success (read %d)\n", n, got);
        goto out;
    }
    printf("session %d from port %d: %s, Binding success\n", n, local_port, SSL_get_version(ssl));
    rc = 0;
out:
    SSL_set_quiet_shutdown(ssl, 1); /* leave without close_notify, like a crash */
    SSL_free(ssl);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: dtls_client SERVER_IP SERVER_PORT LOCAL_PORT COUNT\n");
        return 2;
    }
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) return 2;
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* a throwaway test certificate */
    int failed = 0;
    for (int i = 0; i < atoi(argv[4]); i++)
        failed |= session(ctx, &server, atoi(argv[3]), i) != 0;
    SSL_CTX_free(ctx);
    return failed;
}
