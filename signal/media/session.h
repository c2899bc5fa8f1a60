/*
 * session.h - one session: a libnice ICE agent, the DTLS-SRTP endpoint and
 * either the echo or a room member (room.c), wired together on its worker's
 * GLib main context (worker.h). This is the I/O shell around sdp.c, dtls.c,
 * echo.c and fwd.c; control.c creates and closes sessions.
 *
 * Threads: a session is only ever touched by its worker's thread, or by the
 * control thread while it holds that worker's lock.
 */
#ifndef MEDIA_SESSION_H
#define MEDIA_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "dtls.h"

#define MEDIA_MAX_ICE_SERVERS 4
#define MEDIA_SESSION_ID_LEN 24

struct media_session;
struct media_room;
struct media_worker;
struct media_control;

struct media_server {
    const struct media_config *cfg;
    struct media_dtls_cert *cert;
    struct media_worker *workers; /* worker.h: each holds its sessions and rooms */
    unsigned n_workers;
    struct media_control *control; /* for events (control.h); NULL once it closes */
};

struct media_turn_server {
    char host[64];
    int port;
    bool tcp;
    char username[128], password[128];
};

struct media_echo_request {
    const char *sdp;
    const char *room; /* NULL: an echo test; else join this room (room.h) */
    bool relay_only;
    struct media_turn_server turn[MEDIA_MAX_ICE_SERVERS]; /* from the request's ice_servers */
    unsigned n_turn;
};

/* Called once per session with the answer or an error (then the session is
 * already closing). arg is what media_session_new() was given. */
typedef void (*media_answer_fn)(void *arg, struct media_session *s, const char *sdp,
                                const char *error);

/* Start a session for an offer, on the worker of req->room when that room
 * exists, else on the least-loaded worker (control thread, no lock held).
 * 0 (the answer comes later through fn, called on the session's worker
 * thread or on the control thread), or a negative errno with the reason in
 * err (bad SDP, too many sessions, no TURN server for a relay-only session,
 * libnice refused). Its id goes to id: the session itself is only safe to use
 * through media_server_find_locked(). */
int media_session_new(struct media_server *srv, const struct media_echo_request *req,
                      media_answer_fn fn, void *arg, char id[MEDIA_SESSION_ID_LEN], char *err,
                      size_t err_cap);
/* A trickled remote candidate ("candidate:..." with or without "a="). 0 or -EINVAL. */
int media_session_add_candidate(struct media_session *s, const char *cand);
/* Stop waiting for the answer (its requester went away). */
void media_session_forget_answer(struct media_session *s);
/* End a session; it is freed from its worker's loop shortly after. */
void media_session_close(struct media_session *s, const char *why);
/* Control thread: the open session named id with its worker locked (*w; the
 * caller unlocks it), or NULL with nothing locked. */
struct media_session *media_server_find_locked(struct media_server *srv, const char *id,
                                               struct media_worker **w);
const char *media_session_id(const struct media_session *s);
/* Protect pkt (len bytes in a buffer of cap) in place and send it: 0, or
 * -EAGAIN before SRTP is up, -EIO when protection or sending fails. */
int media_session_send_srtp(struct media_session *s, bool rtcp, uint8_t *pkt, size_t len,
                            size_t cap);
/* On the session's sending worker (worker.h): protect and send a packet the
 * room's worker handed over; then, past the session's barrier, let it go. */
void media_session_far_send(struct media_session *s, bool rtcp, uint8_t *pkt, size_t len,
                            size_t cap);
void media_session_far_done(struct media_session *s);
/* Room mode: the session's room (NULL for an echo) and its endpoint there. */
struct media_room *media_session_room(const struct media_session *s);
unsigned media_session_room_ep(const struct media_session *s);
/* The clock sessions and rooms use: wall-clock microseconds. */
uint64_t media_session_now_us(void);
json_t *media_session_stats(const struct media_session *s);
/* Control thread: every worker's sessions and counters (each locked in turn). */
json_t *media_server_stats(struct media_server *srv);
/* Worker (or its lock held): every 50 ms, timeouts, DTLS retransmits, reports. */
void media_sessions_tick(struct media_worker *w);
void media_sessions_close_all(struct media_worker *w, const char *why);

#endif
