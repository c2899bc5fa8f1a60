/*
 * speaker.h - active speaker detection for a room, sans-I/O: fed the RFC 6464
 * audio level of each audio packet (publisher, time, voice flag, level in
 * -dBov), it says when the room's dominant speaker changes.
 *
 * Levels are taken per 100 ms bucket (the loudest packet of the bucket) and
 * smoothed over the last MEDIA_SPEAKER_WINDOW buckets. With nobody dominant,
 * the first one above the speech floor takes the floor at once. After that a
 * challenger must be louder than the dominant speaker by a margin for
 * MEDIA_SPEAKER_CHALLENGE buckets in a row; silence is never louder, so a
 * dominant speaker who stops talking stays until someone else talks. Changes
 * come MEDIA_SPEAKER_GAP_MS apart at least, so a room yields a few per second
 * at most. A publisher whose voice flag was ever set is trusted on it: its
 * packets without the flag count as silence.
 *
 * Memory is allocated by media_speaker_new() for max participants; feeding
 * allocates nothing. Participants are small integers (the room's endpoints).
 */
#ifndef MEDIA_SPEAKER_H
#define MEDIA_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_SPEAKER_BUCKET_MS 100
#define MEDIA_SPEAKER_WINDOW 3    /* buckets smoothed: 300 ms */
#define MEDIA_SPEAKER_CHALLENGE 4 /* buckets a challenger must lead: 400 ms */
#define MEDIA_SPEAKER_GAP_MS 300  /* between two changes at least */
#define MEDIA_SPEAKER_FLOOR 80    /* -dBov: this quiet or quieter counts as silence */
#define MEDIA_SPEAKER_SPEECH 20   /* smoothed loudness (dB above the floor) that is speech */
#define MEDIA_SPEAKER_MARGIN 6    /* dB a challenger must be louder by */
#define MEDIA_SPEAKER_NONE (-1)

struct media_speaker;

/* 0, -EINVAL (no participants) or -ENOMEM. */
int media_speaker_new(struct media_speaker **out, unsigned max_participants);
void media_speaker_free(struct media_speaker *sp);

/* One audio packet's level from participant p (level 0 loudest, 127
 * silence). true when the dominant speaker changed (media_speaker_dominant). */
bool media_speaker_level(struct media_speaker *sp, unsigned p, uint64_t now_ms, bool voice,
                         uint8_t level);
/* The same for a decrypted RTP packet whose audio level element has local id
 * ext_id: 1 changed, 0 not, -ENOENT (no level in it, or ext_id 0) or -EBADMSG. */
int media_speaker_rtp(struct media_speaker *sp, unsigned p, uint64_t now_ms, const uint8_t *pkt,
                      size_t len, uint8_t ext_id);
/* p left: its history is forgotten. true when it was the dominant speaker
 * (there is none now). */
bool media_speaker_leave(struct media_speaker *sp, unsigned p);
/* The dominant speaker, or MEDIA_SPEAKER_NONE. */
int media_speaker_dominant(const struct media_speaker *sp);

#endif
