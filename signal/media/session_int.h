/*
 * session_int.h - what a session is made of, shared by session.c (its
 * life: ICE, DTLS, media) and session_stats.c (its figures as JSON).
 * Nothing else includes it.
 */
#ifndef MEDIA_SESSION_INT_H
#define MEDIA_SESSION_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <agent.h>

#include "dtls.h"
#include "echo.h"
#include "sdp.h"
#include "session.h"

enum state { ST_GATHERING = 0, ST_CONNECTING, ST_DTLS, ST_CONNECTED, ST_CLOSED };

struct media_session {
    struct media_session *next;
    struct media_server *srv;
    struct media_worker *worker; /* the thread it lives on (worker.h) */
    char id[MEDIA_SESSION_ID_LEN];
    enum state state;
    bool relay_only;
    char close_reason[128];
    NiceAgent *agent;
    guint stream;
    media_answer_fn answer_fn;
    void *answer_arg;
    struct media_sdp offer;
    struct media_answer answer;
    struct media_dtls *dtls;
    enum media_dtls_role role;
    struct media_srtp *srtp;
    enum media_srtp_profile profile;
    struct media_echo echo;
    struct media_room *room; /* room mode; NULL for an echo */
    unsigned room_ep;
    /* A member of a large room may have its SRTP sent by another worker
     * (sendq.h): then only that worker uses srtp's outbound side. */
    struct media_worker *sender; /* NULL: its own worker sends */
    bool barrier_sent;
    atomic_bool far_done; /* the sender has passed its barrier: free it */
    atomic_uint_fast64_t far_packets, far_bytes, far_errors;
    uint64_t created_us, connected_us, last_rx_us, last_tick_us;
    char pair_local[16], pair_remote[16], pair_transport[8];
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, srtp_errors;
};

#endif
