/*
 * sdp.h - the SDP that mediad reads and writes (RFC 8866, JSEP RFC 8829):
 * parse a browser's offer into a fixed-size struct, then write the answer for
 * it. Pure functions over strings: no sockets, no global state, no malloc in
 * the parser. Only what a WebRTC endpoint needs is kept (ICE credentials and
 * candidates, the DTLS fingerprint and role, BUNDLE, rtcp-mux, codecs with
 * their rtcp-fb and fmtp, header extensions, SSRCs); the rest is skipped.
 */
#ifndef MEDIA_SDP_H
#define MEDIA_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_SDP_MAX_MEDIA 12
#define MEDIA_SDP_MAX_CODECS 32
#define MEDIA_SDP_MAX_EXTS 16
#define MEDIA_SDP_MAX_SSRCS 8
#define MEDIA_SDP_MAX_CANDS 16
#define MEDIA_SDP_CAND_LEN 256
#define MEDIA_SDP_FP_MAX 64 /* SHA-512 */

enum media_kind { MEDIA_KIND_OTHER = 0, MEDIA_KIND_AUDIO, MEDIA_KIND_VIDEO, MEDIA_KIND_APPLICATION };
enum media_dir { MEDIA_DIR_SENDRECV = 0, MEDIA_DIR_SENDONLY, MEDIA_DIR_RECVONLY, MEDIA_DIR_INACTIVE };
/* RFC 4145 / RFC 5763: who starts the DTLS handshake. */
enum media_setup { MEDIA_SETUP_NONE = 0, MEDIA_SETUP_ACTPASS, MEDIA_SETUP_ACTIVE, MEDIA_SETUP_PASSIVE };

/* rtcp-fb values we understand (RFC 4585, RFC 5104) */
enum {
    MEDIA_FB_NACK = 1 << 0,
    MEDIA_FB_PLI = 1 << 1,
    MEDIA_FB_FIR = 1 << 2,
    MEDIA_FB_REMB = 1 << 3,
    MEDIA_FB_TCC = 1 << 4,
};

struct media_sdp_codec {
    uint8_t pt;
    char name[16];     /* "opus", "VP8", "H264", "rtx", ... as written */
    uint32_t clock;    /* Hz */
    uint8_t channels;  /* 0 when not given */
    char fmtp[128];    /* the a=fmtp value, "" when none */
    unsigned fb;       /* MEDIA_FB_* */
};

struct media_sdp_ext {
    uint8_t id;
    char uri[96];
};

/* RFC 6464: the client-to-mixer audio level, which the SFU's speaker detection reads. */
#define MEDIA_SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

struct media_sdp_media {
    enum media_kind kind;
    char kind_name[16];
    uint16_t port;
    char proto[32];
    char fmt0[32]; /* the first format token, for a rejected m-line */
    char mid[32];
    enum media_dir dir;
    bool rtcp_mux, rtcp_rsize;
    struct media_sdp_codec codecs[MEDIA_SDP_MAX_CODECS];
    unsigned n_codecs;
    struct media_sdp_ext exts[MEDIA_SDP_MAX_EXTS];
    unsigned n_exts;
    uint32_t ssrcs[MEDIA_SDP_MAX_SSRCS]; /* in order of appearance */
    unsigned n_ssrcs;
    uint32_t fid[2];                     /* a=ssrc-group:FID media rtx; 0 when none */
    char ice_ufrag[64], ice_pwd[128];    /* media-level, "" when absent */
    char fp_alg[16];
    uint8_t fp[MEDIA_SDP_FP_MAX];
    size_t fp_len;
    enum media_setup setup;
};

struct media_sdp {
    char ice_ufrag[64], ice_pwd[128]; /* effective: media-level of the first m-line, else session */
    char fp_alg[16];                  /* "sha-256" */
    uint8_t fp[MEDIA_SDP_FP_MAX];
    size_t fp_len;
    enum media_setup setup;
    char bundle[MEDIA_SDP_MAX_MEDIA][32]; /* a=group:BUNDLE mids */
    unsigned n_bundle;
    struct media_sdp_media media[MEDIA_SDP_MAX_MEDIA];
    unsigned n_media;
    char cands[MEDIA_SDP_MAX_CANDS][MEDIA_SDP_CAND_LEN]; /* "candidate:..." of the bundle transport */
    unsigned n_cands;
    bool end_of_candidates;
};

/* Parse an offer. 0, or -EBADMSG with a reason in err (line number and why)
 * when the text is not an SDP we can answer: no v=0, a line longer than 1 KiB,
 * an m-line without a port or proto, no ICE credentials or no fingerprint.
 * Too many codecs, extensions or candidates are dropped, not fatal. */
int media_sdp_parse(struct media_sdp *sdp, const char *text, size_t len, char *err, size_t err_cap);

/* What mediad puts into one m-line of its answer. */
struct media_answer_media {
    bool accept;       /* false: port 0, removed from the bundle */
    int codec;         /* index into the offer's codecs[] of the one codec kept */
    uint32_t ssrc;     /* what mediad sends on this m-line, 0 = nothing */
    enum media_dir dir;
};

struct media_answer {
    uint64_t session_id;
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint; /* "sha-256 AB:CD:..." */
    enum media_setup setup;  /* our role: active or passive */
    const char *cname;
    const char *const *cands; /* "candidate:..." lines, put on the first bundled m-line */
    unsigned n_cands;
    struct media_answer_media media[MEDIA_SDP_MAX_MEDIA];
};

/* Decide what an echo endpoint answers to the offer: audio keeps Opus, video
 * VP8 (else H.264 packetization-mode=1), everything else is rejected; RTX, RED,
 * FEC and transport-wide CC are not negotiated. Directions mirror the offer.
 * Fills a->media[] (ssrcs left 0); returns the number of accepted m-lines. */
unsigned media_sdp_choose(const struct media_sdp *offer, struct media_answer *a);

/* Write the answer into buf (NUL-terminated). Returns its length, or
 * -ENOSPC when buf is too small. */
int media_sdp_write_answer(const struct media_sdp *offer, const struct media_answer *a, char *buf,
                           size_t cap);

/* "AB:CD:..." -> bytes. 0 or -EINVAL. */
int media_sdp_parse_fingerprint(const char *hex, uint8_t *out, size_t cap, size_t *out_len);
const char *media_kind_name(enum media_kind k);
/* The local id the offer gave header extension uri on m, 0 when it has none;
 * the answer keeps that id for the extensions it keeps (the MID and the audio level). */
uint8_t media_sdp_ext_id(const struct media_sdp_media *m, const char *uri);

#endif
