/*
 * room.h - mediad's room mode: sessions that join a named room forward their
 * media to each other through the SFU core (fwd.h). This is the I/O side of
 * it: rooms by name, created by their first member and freed with their
 * last; after each packet fed in, the queued copies are taken off, protected
 * with the receiving session's SRTP and sent. A room and all its members
 * live on one worker (worker.h) and everything here runs there, like
 * session.c; only media_room_list() is for the control thread.
 */
#ifndef MEDIA_ROOM_H
#define MEDIA_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fwd.h"

struct media_room;
struct media_server;
struct media_session;
struct media_worker;

#define MEDIA_ROOM_NAME_MAX 64

/* Join room `name` (made when missing) as s: its endpoint id in *ep.
 * 0, -EINVAL (bad name), -ENOSPC (room full) or -ENOMEM. */
int media_room_join(struct media_worker *w, const char *name, struct media_session *s,
                    struct media_room **out, unsigned *ep);
/* Leave; the last one out frees the room. */
void media_room_leave(struct media_room *r, unsigned ep);
struct media_fwd *media_room_fwd(struct media_room *r);
const char *media_room_name(const struct media_room *r);
struct media_room *media_room_find(struct media_worker *w, const char *name);
/* ep's packets carry RFC 6464 audio levels with local id `id` (0: none): the
 * room's speaker detection (speaker.h) reads them and sends room.speaker. */
void media_room_audio_level_id(struct media_room *r, unsigned ep, uint8_t id);

/* Decrypted media from ep's session: forwarded, and what it causes is sent. */
void media_room_rtp(struct media_room *r, unsigned ep, uint64_t now_us, const uint8_t *pkt,
                    size_t len);
void media_room_rtcp(struct media_room *r, unsigned ep, uint64_t now_us, const uint8_t *pkt,
                     size_t len);
/* ep's session can now receive: keyframes for what it receives. */
void media_room_connected(struct media_room *r, unsigned ep, uint64_t now_us);
/* About once a second per session: merged keyframe requests and ep's reports. */
void media_room_tick(struct media_room *r, unsigned ep, uint64_t now_us);

/* Control thread: the figures of every room, or of the one named (an empty
 * list when there is none); each worker is locked in turn. */
json_t *media_room_list(struct media_server *srv, const char *name);
/* {"room":..., "worker":W, "members":N, "forwarded":..., ...}; each member's figures. */
json_t *media_room_stats(struct media_room *r);
json_t *media_room_ep_stats(struct media_room *r, unsigned ep);

#endif
