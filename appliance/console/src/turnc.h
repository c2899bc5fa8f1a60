/*
 * turnc.h - the console's small TURN client (prefix con_turnc_), sans-I/O:
 * it builds Allocate, CreatePermission, Send and Refresh (RFC 8656) with
 * long-term credentials and reads the answers; the caller owns the socket and
 * the clock. It serves the TURN self-test (diag_turn.c) and nothing else: one
 * request in flight, UDP only.
 */
#ifndef CON_TURNC_H
#define CON_TURNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stun/stun.h"

struct con_turnc {
    char user[128], pass[64];
    char realm[128], nonce[256];
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
    bool have_key;
    uint8_t tid[STUN_TID_LEN]; /* of the request in flight */
    uint16_t method;
    struct stun_addr relayed, mapped;
    uint32_t lifetime;
};

/* What an answer to the request in flight means. */
enum con_turnc_answer {
    CON_TURNC_NOT_OURS = 0, /* another transaction, or not STUN: keep waiting */
    CON_TURNC_DONE,         /* success; relayed/mapped/lifetime set for an Allocate */
    CON_TURNC_CHALLENGE,    /* 401 or 438 with a realm and nonce: send the request again */
    CON_TURNC_REFUSED,      /* an error response: code and reason */
};

/* Shared-secret TURN credentials (the scheme signald hands to browsers):
 * user "<expiry>:<name>", password base64(HMAC-SHA1(secret, user)). 0 or -EIO. */
int con_turnc_credential(struct con_turnc *t, const char *secret, uint64_t expiry,
                         const char *name);

/* Build a request into buf (tid: 12 random bytes): 0 and *len, or the
 * builder's negative errno. The request is the one in flight until answered. */
int con_turnc_allocate(struct con_turnc *t, const uint8_t tid[STUN_TID_LEN], uint8_t *buf,
                       size_t cap, size_t *len);
int con_turnc_permission(struct con_turnc *t, const uint8_t tid[STUN_TID_LEN],
                         const struct stun_addr *peer, uint8_t *buf, size_t cap, size_t *len);
int con_turnc_refresh(struct con_turnc *t, const uint8_t tid[STUN_TID_LEN], uint32_t lifetime,
                      uint8_t *buf, size_t cap, size_t *len);
/* A Send indication carrying data to peer (no answer comes). */
int con_turnc_send(const struct con_turnc *t, const uint8_t tid[STUN_TID_LEN],
                   const struct stun_addr *peer, const void *data, size_t dlen, uint8_t *buf,
                   size_t cap, size_t *len);

/* Reads a datagram from the server as the answer to the request in flight.
 * For CON_TURNC_REFUSED, *code and reason (NUL-terminated) say why. */
enum con_turnc_answer con_turnc_answer(struct con_turnc *t, const uint8_t *pkt, size_t n,
                                       int *code, char *reason, size_t cap);

/* A Data indication: 0 with the peer and the payload (borrowed from pkt), or
 * -EBADMSG when pkt is not one. */
int con_turnc_data(const uint8_t *pkt, size_t n, struct stun_addr *peer, const uint8_t **data,
                   size_t *dlen);

#endif
