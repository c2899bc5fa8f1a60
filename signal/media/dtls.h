/*
 * dtls.h - DTLS-SRTP (RFC 5763, RFC 5764): a DTLS 1.2 endpoint over OpenSSL 3
 * that never touches a socket (datagrams in, datagrams out), the SRTP keys it
 * exports, and the libsrtp2 sessions made from them.
 *
 * The certificate is a self-signed ECDSA P-256 one made at start; its SHA-256
 * fingerprint goes into every SDP answer. The peer's certificate is accepted
 * only when its digest matches the a=fingerprint of the peer's SDP.
 * OpenSSL keeps its own clock for retransmissions (DTLSv1_get_timeout), so
 * the caller asks for the next timeout and calls media_dtls_on_timeout().
 */
#ifndef MEDIA_DTLS_H
#define MEDIA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct media_dtls_cert;
struct media_dtls;
struct media_srtp;

/* RFC 5764 §4.1.2 / RFC 7714 §14.2 protection profile ids */
enum media_srtp_profile {
    MEDIA_SRTP_NONE = 0,
    MEDIA_SRTP_AES128_CM_SHA1_80 = 0x0001,
    MEDIA_SRTP_AEAD_AES_128_GCM = 0x0007,
};

#define MEDIA_SRTP_KEY_MAX 46 /* master key + salt: 16 + 14 (CM) or 16 + 12 (GCM) */
#define MEDIA_SRTP_TRAILER_MAX 148 /* libsrtp's SRTP_MAX_TRAILER_LEN */
#define MEDIA_DTLS_MTU 1200

struct media_srtp_keys {
    enum media_srtp_profile profile;
    size_t len;                        /* key + salt */
    uint8_t local[MEDIA_SRTP_KEY_MAX]; /* what we protect with */
    uint8_t remote[MEDIA_SRTP_KEY_MAX];
};

enum media_dtls_role { MEDIA_DTLS_SERVER = 0, MEDIA_DTLS_CLIENT };
enum media_dtls_state { MEDIA_DTLS_HANDSHAKING = 0, MEDIA_DTLS_CONNECTED, MEDIA_DTLS_FAILED, MEDIA_DTLS_CLOSED };

/* 0, or -EIO with OpenSSL's error text in err. */
int media_dtls_cert_new(struct media_dtls_cert **out, char *err, size_t err_cap);
void media_dtls_cert_free(struct media_dtls_cert *c);
/* "sha-256 AB:CD:..." for a=fingerprint */
const char *media_dtls_cert_fingerprint(const struct media_dtls_cert *c);

/* A DTLS endpoint that expects the peer's certificate to have digest fp
 * (alg "sha-256", "sha-1", "sha-384" or "sha-512"). 0, -EINVAL, -ENOMEM or -EIO. */
int media_dtls_new(struct media_dtls **out, const struct media_dtls_cert *cert,
                   enum media_dtls_role role, const char *fp_alg, const uint8_t *fp, size_t fp_len);
void media_dtls_free(struct media_dtls *d);
/* Client: queue the ClientHello. A server waits for it. 0 or -EIO. */
int media_dtls_start(struct media_dtls *d);
/* Feed one received datagram. 0, or -EPROTO once the handshake failed
 * (media_dtls_error() says why). */
int media_dtls_recv(struct media_dtls *d, const uint8_t *pkt, size_t len);
/* Copy the next datagram to send into buf: its length, or 0 when none. */
size_t media_dtls_pop(struct media_dtls *d, uint8_t *buf, size_t cap);
enum media_dtls_state media_dtls_state(const struct media_dtls *d);
const char *media_dtls_error(const struct media_dtls *d);
/* Milliseconds until OpenSSL wants media_dtls_on_timeout(), or -1. */
long media_dtls_timeout_ms(struct media_dtls *d);
void media_dtls_on_timeout(struct media_dtls *d);
/* After MEDIA_DTLS_CONNECTED: the negotiated profile and exported keys. 0 or -EAGAIN/-EIO. */
int media_dtls_srtp_keys(struct media_dtls *d, struct media_srtp_keys *k);

/* SRTP sessions for both directions. Retransmitted packets may be protected
 * twice (allow_repeat_tx), as an echo and NACK answers need. 0 or -EIO. */
int media_srtp_new(struct media_srtp **out, const struct media_srtp_keys *k);
void media_srtp_free(struct media_srtp *s);
/* In place; *len is updated. Protect needs MEDIA_SRTP_TRAILER_MAX bytes of room
 * after the packet (cap is the buffer size). 0 or -EIO (auth or replay failure). */
int media_srtp_unprotect(struct media_srtp *s, bool rtcp, uint8_t *pkt, size_t *len);
int media_srtp_protect(struct media_srtp *s, bool rtcp, uint8_t *pkt, size_t *len, size_t cap);

#endif
