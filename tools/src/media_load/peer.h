/*
 * peer.h - one synthetic WebRTC endpoint of media-load: a libnice agent
 * (controlling, host candidates on loopback), mediad's own DTLS-SRTP code as
 * the client side, and either a publisher (one video stream of synthetic RTP)
 * or a subscriber (n recvonly video m-lines, counting what arrives); or a
 * speaker (speak >= 0): one sendrecv audio m-line whose packets carry that
 * RFC 6464 audio level. Runs on the default GLib main context.
 */
#ifndef ML_PEER_H
#define ML_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <agent.h>

#include "dtls.h"
#include "rtp.h"

#define ML_MAX_PUBLISHERS 8 /* a subscriber has one slot per publisher */
#define ML_PAYLOAD 1100     /* RTP payload bytes per packet */
#define ML_AUDIO_LEVEL_ID 3 /* a speaker's extmap id for the audio level (any works) */
#define ML_MAX_REMB 120     /* REMBs a publisher keeps, in order of arrival */

struct ml_peer {
    unsigned idx;
    bool publisher;
    int speak; /* a speaker's audio level in -dBov (0-127), -1 for the others */
    unsigned n_mlines;
    NiceAgent *agent;
    guint stream;
    bool gathered, ice_done, failed;
    char why[160];
    struct media_dtls *dtls;
    struct media_srtp *srtp;
    char id[32];   /* mediad's session id */
    uint32_t ssrc; /* ours: publisher's stream, or a subscriber's RTCP sender */
    /* publisher */
    uint16_t seq;
    uint64_t sent, sent_bytes, plis, nacks, next_us;
    uint64_t remb_bps[ML_MAX_REMB]; /* the REMBs mediad sent it */
    unsigned n_remb;
    /* subscriber: by publisher index from the payload */
    uint64_t received[ML_MAX_PUBLISHERS], rx_bytes, srtp_errors, rtp_errors;
    struct media_rx_stats rx[ML_MAX_PUBLISHERS];
    uint64_t last_rr_us;
    uint8_t report_loss; /* fraction lost its reports claim (1/256); 0: the real one */
    /* per outgoing stream of mediad (by its SSRC): continuity across a switch */
    struct {
        uint32_t ssrc, pub, ts;
        uint16_t seq;
    } out[ML_MAX_PUBLISHERS];
    unsigned n_out;
    uint64_t seq_lost;        /* forward gaps in mediad's sequence numbers */
    unsigned switches;        /* a stream's publisher changed */
    uint16_t switch_seq_step; /* sequence and timestamp steps at the last change */
    uint32_t switch_ts_step;
};

/* Make the agent and start gathering. 0 or -EIO with the reason in p->why. */
int ml_peer_start(struct ml_peer *p, unsigned idx, bool publisher, unsigned n_mlines);
/* After gathering: the offer (malloc'd) for mediad, or NULL. */
char *ml_peer_offer(struct ml_peer *p, const struct media_dtls_cert *cert);
/* mediad's answer: ICE credentials, candidates and the DTLS fingerprint.
 * 0 or -EINVAL with the reason in p->why. */
int ml_peer_answer(struct ml_peer *p, const struct media_dtls_cert *cert, const char *sdp);
bool ml_peer_connected(const struct ml_peer *p);
/* Retransmit DTLS when due; a subscriber's receiver report once a second. */
void ml_peer_poll(struct ml_peer *p, uint64_t now_us);
/* Publisher: one RTP packet stamped with publisher index and counter. */
void ml_peer_send_rtp(struct ml_peer *p, uint64_t now_us, uint64_t start_us);
void ml_peer_free(struct ml_peer *p);

#endif
