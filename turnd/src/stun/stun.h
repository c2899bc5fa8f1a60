/*
 * stun.h - lanturn's sans-I/O STUN codec (RFC 8489, RFC 8656 attributes).
 *
 * Pure functions over byte buffers: no sockets, no clocks, no malloc. Parsing
 * validates the whole message once (header, attribute bounds, FINGERPRINT) and
 * records where each attribute is; values stay borrowed from the caller's
 * buffer. Building writes into a caller-supplied buffer; a too-small buffer
 * makes the builder fail once at stun_build_finish() instead of at every call.
 */
#ifndef LANTURN_STUN_H
#define LANTURN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_LEN 20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TID_LEN 12
#define STUN_MAX_ATTRS 40 /* more than any legitimate message carries */
#define STUN_HMAC_SHA1_LEN 20
#define STUN_LONG_TERM_KEY_LEN 16 /* MD5(username ":" realm ":" password) */
#define STUN_KEY_MAX 32           /* the SHA-256 long-term key (RFC 8489 §9.2.2) */
#define STUN_HMAC_SHA256_LEN 32
#define STUN_USERHASH_LEN 32      /* SHA-256(username ":" realm), §14.4 */

/* PASSWORD-ALGORITHM numbers (RFC 8489 §18.5). */
#define STUN_PASSWORD_MD5 0x0001
#define STUN_PASSWORD_SHA256 0x0002

/* RFC 8656 §12 narrowed channel numbers to 0x4000-0x4FFF, but RFC 5766
 * clients (coturn's tools among them) still pick from 0x4000-0x7FFE, and
 * 0x5000-0x7FFF cannot be mistaken for STUN, DTLS or RTP either; we accept
 * the older range. The ChannelData header is 4 bytes. */
#define STUN_CHANNEL_MIN 0x4000
#define STUN_CHANNEL_MAX 0x7FFE
#define STUN_CHANDATA_HEADER_LEN 4

enum stun_class {
    STUN_REQUEST = 0,
    STUN_INDICATION = 1,
    STUN_SUCCESS = 2,
    STUN_ERROR = 3,
};

enum stun_method {
    STUN_BINDING = 0x001,
    TURN_ALLOCATE = 0x003,
    TURN_REFRESH = 0x004,
    TURN_SEND = 0x006,
    TURN_DATA = 0x007,
    TURN_CREATE_PERMISSION = 0x008,
    TURN_CHANNEL_BIND = 0x009,
    TURN_CONNECT = 0x00a,
    TURN_CONNECTION_BIND = 0x00b,
    TURN_CONNECTION_ATTEMPT = 0x00c,
};

enum stun_attr_type {
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_CHANGE_REQUEST = 0x0003, /* RFC 5780 */
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    STUN_ATTR_LIFETIME = 0x000D,
    STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    STUN_ATTR_DATA = 0x0013,
    STUN_ATTR_REALM = 0x0014,
    STUN_ATTR_NONCE = 0x0015,
    STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    STUN_ATTR_EVEN_PORT = 0x0018,
    STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    STUN_ATTR_DONT_FRAGMENT = 0x001A,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    STUN_ATTR_USERHASH = 0x001E,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    STUN_ATTR_PRIORITY = 0x0024,
    STUN_ATTR_USE_CANDIDATE = 0x0025,
    STUN_ATTR_PADDING = 0x0026,
    STUN_ATTR_RESPONSE_PORT = 0x0027,
    STUN_ATTR_CONNECTION_ID = 0x002A,
    STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
    STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
    STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    STUN_ATTR_ICMP = 0x8004,
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    STUN_ATTR_CACHE_TIMEOUT = 0x8027,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,
    STUN_ATTR_ICE_CONTROLLING = 0x802A,
    STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
    STUN_ATTR_OTHER_ADDRESS = 0x802C,
};

/* Error codes we send (RFC 8489 §14.8, RFC 8656 §18). Values, not errno. */
enum stun_error {
    STUN_ERR_TRY_ALTERNATE = 300,
    STUN_ERR_BAD_REQUEST = 400,
    STUN_ERR_UNAUTHORIZED = 401,
    STUN_ERR_FORBIDDEN = 403,
    STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
    STUN_ERR_ALLOCATION_MISMATCH = 437,
    STUN_ERR_STALE_NONCE = 438,
    STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED = 440,
    STUN_ERR_WRONG_CREDENTIALS = 441,
    STUN_ERR_UNSUPPORTED_TRANSPORT = 442,
    STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH = 443,
    STUN_ERR_CONNECTION_ALREADY_EXISTS = 446, /* RFC 6062 §6.3 */
    STUN_ERR_CONNECTION_TIMEOUT = 447,        /* Connection Timeout or Failure */
    STUN_ERR_ALLOCATION_QUOTA_REACHED = 486,
    STUN_ERR_SERVER_ERROR = 500,
    STUN_ERR_INSUFFICIENT_CAPACITY = 508,
};

/* Address families as carried in STUN attributes (RFC 8489 §14.1). */
#define STUN_FAMILY_IPV4 0x01
#define STUN_FAMILY_IPV6 0x02

/* A transport address. `family` is AF_INET or AF_INET6 (0 = unset); an IPv4
 * address occupies ip[0..3]. Compact on purpose: permissions store these. */
struct stun_addr {
    uint16_t family;
    uint16_t port; /* host byte order */
    uint8_t ip[16];
};

struct stun_attr {
    uint16_t type;
    uint16_t len;       /* value length, without padding */
    uint32_t offset;    /* offset of the attribute header; can pass 0xFFFF */
    const uint8_t *val; /* borrowed from the parsed buffer */
};

struct stun_msg {
    const uint8_t *buf; /* the whole message, borrowed */
    size_t len;         /* STUN_HEADER_LEN + body length */
    uint16_t method;
    enum stun_class cls;
    bool has_cookie; /* false: an RFC 3489 message (transaction id is 16 bytes) */
    bool has_fingerprint;
    uint8_t tid[STUN_TID_LEN];
    unsigned n_attrs;
    struct stun_attr attrs[STUN_MAX_ATTRS];
    int integrity;        /* index of MESSAGE-INTEGRITY in attrs, or -1 */
    int integrity_sha256; /* index of MESSAGE-INTEGRITY-SHA256, or -1 */
};

/* ---- recognising and parsing (msg.c) ---- */

/* True when buf starts like a STUN message (top two bits zero, length a
 * multiple of 4 that fits, magic cookie). Cheap: for demultiplexing. */
bool stun_looks_like_stun(const uint8_t *buf, size_t len);

/* Parse and validate a whole STUN message. Attributes after
 * MESSAGE-INTEGRITY(-SHA256) other than FINGERPRINT are ignored
 * (RFC 8489 §14.5); FINGERPRINT must be last and correct. Messages without
 * the magic cookie are accepted only when `len` allows the RFC 3489 header.
 * Returns 0, or -EBADMSG on anything malformed (m is then unspecified). */
int stun_parse(struct stun_msg *m, const uint8_t *buf, size_t len);

/* First attribute of `type`, or NULL. */
const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type);

/* Collect comprehension-required attributes (type < 0x8000) of m that are not
 * in `known` (n_known entries). Returns how many (at most `max` are stored). */
unsigned stun_unknown_required(const struct stun_msg *m, const uint16_t *known, unsigned n_known,
                               uint16_t *out, unsigned max);

/* ---- decoding attribute values (attr.c); each returns 0 or -EBADMSG ---- */

/* MAPPED-ADDRESS style (xor=false) or XOR-*-ADDRESS (xor=true; uses m's
 * transaction id for IPv6). */
int stun_attr_get_addr(const struct stun_msg *m, const struct stun_attr *a, bool xor,
                       struct stun_addr *out);
int stun_attr_get_u32(const struct stun_attr *a, uint32_t *out);
/* ERROR-CODE: code 300..699 and a borrowed, not NUL-terminated reason. */
int stun_attr_get_error(const struct stun_attr *a, int *code, const char **reason,
                        size_t *reason_len);
/* CHANNEL-NUMBER: the 16-bit number (RFFU bits ignored). */
int stun_attr_get_channel(const struct stun_attr *a, uint16_t *chan);
/* REQUESTED-TRANSPORT: the IANA protocol number (17 = UDP, 6 = TCP). */
int stun_attr_get_transport(const struct stun_attr *a, uint8_t *proto);
/* REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY: AF_INET or AF_INET6;
 * -EAFNOSUPPORT for a well-formed attribute naming another family. */
int stun_attr_get_family(const struct stun_attr *a, uint16_t *af);
/* EVEN-PORT: the R bit. */
int stun_attr_get_even_port(const struct stun_attr *a, bool *reserve_next);

/* ---- integrity (integrity.c) ---- */

/* MD5(username ":" realm ":" password), the RFC 8489 §9.2.2 long-term key. */
void stun_long_term_key(const char *username, const char *realm, const char *password,
                        uint8_t key[STUN_LONG_TERM_KEY_LEN]);
/* The long-term key for PASSWORD-ALGORITHM `alg` (§9.2.2): MD5 or SHA-256
 * of username ":" realm ":" password. Returns the key length (16 or 32), or
 * 0 for an unknown algorithm or a crypto failure. */
size_t stun_password_key(uint16_t alg, const char *username, const char *realm,
                         const char *password, uint8_t key[STUN_KEY_MAX]);
/* USERHASH (§14.4): SHA-256(username ":" realm). 0, or -1 on crypto failure. */
int stun_userhash(const char *username, const char *realm, uint8_t out[STUN_USERHASH_LEN]);
/* True when m carries MESSAGE-INTEGRITY-SHA256 and its (possibly truncated,
 * 16-32 bytes) HMAC-SHA256 over the message up to it matches `key` (§14.6). */
bool stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t key_len);
/* True when m carries MESSAGE-INTEGRITY and its HMAC-SHA1 over the message up
 * to it (with the length field adjusted as §14.5 says) matches `key`. */
bool stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t key_len);
/* HMAC-SHA1 of data with key; 0, or -1 when the crypto library failed. */
int stun_hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                   uint8_t out[STUN_HMAC_SHA1_LEN]);
int stun_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                     uint8_t out[STUN_HMAC_SHA256_LEN]);
/* CRC-32 as used by FINGERPRINT (before the XOR with 0x5354554e). */
uint32_t stun_crc32(const uint8_t *buf, size_t len);

/* ---- building (build.c) ---- */

struct stun_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err; /* sticky first error: -ENOSPC (did not fit), -EINVAL (bad
              * family or error code), -EIO (crypto library failed) */
};

/* Start a message of method/class with transaction id tid in buf[0..cap). */
void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                     enum stun_class cls, const uint8_t tid[STUN_TID_LEN]);
/* Append an attribute; the value is copied and zero-padded to 4 bytes. */
void stun_put_attr(struct stun_builder *b, uint16_t type, const void *val, size_t len);
void stun_put_u32(struct stun_builder *b, uint16_t type, uint32_t v);
void stun_put_str(struct stun_builder *b, uint16_t type, const char *s);
/* MAPPED-ADDRESS style (xor=false) or XOR-*-ADDRESS (xor=true). */
void stun_put_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a, bool xor);
/* ERROR-CODE with the standard reason phrase for `code` when reason is NULL. */
void stun_put_error(struct stun_builder *b, int code, const char *reason);
/* ADDRESS-ERROR-CODE (RFC 8656 §18.12): why the relayed address of `af`
 * (AF_INET or AF_INET6) was not allocated; the standard reason phrase. */
void stun_put_address_error(struct stun_builder *b, uint16_t af, int code);
void stun_put_unknown_attributes(struct stun_builder *b, const uint16_t *types, unsigned n);
/* MESSAGE-INTEGRITY (HMAC-SHA1 with key); must come after every attribute it covers. */
void stun_put_integrity(struct stun_builder *b, const uint8_t *key, size_t key_len);
/* MESSAGE-INTEGRITY-SHA256, untruncated (32 bytes). */
void stun_put_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t key_len);
/* FINGERPRINT; must be last. */
void stun_put_fingerprint(struct stun_builder *b);
/* The finished length in *len; 0, or the sticky error. */
int stun_build_finish(struct stun_builder *b, size_t *len);

/* Standard reason phrase for an error code ("Bad Request", ...). */
const char *stun_error_reason(int code);

/* ---- ChannelData (chandata.c) ---- */

/* True when buf starts with a ChannelData channel number (first byte
 * 0x40-0x7F: neither STUN, DTLS nor RTP, RFC 7983). */
bool stun_looks_like_chandata(const uint8_t *buf, size_t len);
/* Parse a ChannelData message. `len` may exceed 4 + payload length (padding,
 * RFC 8656 §12.5); a shorter buffer or a number outside STUN_CHANNEL_MIN..MAX is
 * -EBADMSG. The payload is borrowed from buf. */
int stun_chandata_parse(const uint8_t *buf, size_t len, uint16_t *chan, const uint8_t **payload,
                        uint16_t *payload_len);
/* Write the 4-byte header for channel `chan` carrying `len` payload bytes. */
void stun_chandata_put_header(uint8_t hdr[STUN_CHANDATA_HEADER_LEN], uint16_t chan, uint16_t len);

/* ---- stream framing (stream_frame.c) ---- */

/* Largest frame on a stream: a STUN header and a 65532-byte body (ChannelData
 * is at most 4 + 65536 with padding). */
#define STUN_STREAM_FRAME_MAX (STUN_HEADER_LEN + 65532)
/* Length of the next complete STUN or ChannelData message at the start of
 * buf (ChannelData with its padding, RFC 8656 §12.5). 0 with *frame_len set,
 * 0 with *frame_len = 0 when more bytes are needed, or -EBADMSG when the
 * bytes cannot start either kind of message; STUN must carry the magic
 * cookie. *why, when why is not NULL, gets a static string for the log. */
int stun_stream_frame(const uint8_t *buf, size_t len, size_t *frame_len, const char **why);

/* ---- addresses (addr.c) ---- */

/* "1.2.3.4:5", "[::1]:5", or without port when port is 0 and with_port false. */
int stun_addr_format(const struct stun_addr *a, bool with_port, char *out, size_t cap);
/* Parse "IP", "IP:PORT", "[IPv6]:PORT" or bare IPv6. 0 or -EINVAL. */
int stun_addr_parse(const char *s, struct stun_addr *out);
bool stun_addr_equal(const struct stun_addr *a, const struct stun_addr *b);    /* ip and port */
bool stun_addr_is_any(const struct stun_addr *a);                              /* 0.0.0.0 or :: */
bool stun_addr_ip_equal(const struct stun_addr *a, const struct stun_addr *b); /* ip only */
/* Hash of ip and port, for tables. */
uint32_t stun_addr_hash(const struct stun_addr *a);

#endif
