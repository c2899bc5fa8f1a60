/*
 * speaker.c - the dominant speaker of a room (see speaker.h).
 *
 * Loudness is counted in dB above MEDIA_SPEAKER_FLOOR (0 for silence), so
 * sums stay small integers. Time advances in buckets when a packet arrives
 * from anyone: closing a bucket moves every participant's peak into its
 * window and decides once. A room in which nobody sends changes nothing, so
 * there is no timer.
 */
#include "speaker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "rtp_ext.h"

struct part {
    bool present, trusts_vad;
    uint8_t peak;                         /* loudest in the open bucket */
    uint8_t window[MEDIA_SPEAKER_WINDOW]; /* peaks of the last closed buckets */
    unsigned pos, sum;                    /* next window slot; sum of window */
};

struct media_speaker {
    struct part *parts;
    unsigned max;
    bool started;
    uint64_t bucket_end_ms, last_change_ms;
    int dominant, challenger;
    unsigned streak; /* buckets the challenger has led in a row */
};

int media_speaker_new(struct media_speaker **out, unsigned max_participants)
{
    *out = NULL;
    if (!max_participants)
        return -EINVAL;
    struct media_speaker *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->parts = calloc(max_participants, sizeof *sp->parts))) {
        free(sp);
        return -ENOMEM;
    }
    sp->max = max_participants;
    sp->dominant = sp->challenger = MEDIA_SPEAKER_NONE;
    *out = sp;
    return 0;
}

void media_speaker_free(struct media_speaker *sp)
{
    if (!sp)
        return;
    free(sp->parts);
    free(sp);
}

int media_speaker_dominant(const struct media_speaker *sp)
{
    return sp->dominant;
}

static void push(struct part *pt, uint8_t v)
{
    pt->sum -= pt->window[pt->pos];
    pt->window[pt->pos] = v;
    pt->sum += v;
    pt->pos = (pt->pos + 1) % MEDIA_SPEAKER_WINDOW;
}

/* The one decision per bucket: returns true when the dominant speaker changed. */
static bool decide(struct media_speaker *sp, uint64_t now_ms)
{
    int best = MEDIA_SPEAKER_NONE;
    for (unsigned i = 0; i < sp->max; i++)
        if (sp->parts[i].present && (int)i != sp->dominant &&
            (best < 0 || sp->parts[i].sum > sp->parts[best].sum))
            best = (int)i;
    unsigned need = MEDIA_SPEAKER_SPEECH * MEDIA_SPEAKER_WINDOW;
    if (sp->dominant >= 0) {
        unsigned dom = sp->parts[sp->dominant].sum + MEDIA_SPEAKER_MARGIN * MEDIA_SPEAKER_WINDOW;
        need = dom > need ? dom : need;
    }
    if (best < 0 || sp->parts[best].sum < need) {
        sp->challenger = MEDIA_SPEAKER_NONE;
        sp->streak = 0;
        return false;
    }
    if (best != sp->challenger) {
        sp->challenger = best;
        sp->streak = 0;
    }
    sp->streak++;
    bool held = sp->dominant < 0 || sp->streak >= MEDIA_SPEAKER_CHALLENGE;
    bool spaced = !sp->last_change_ms || now_ms - sp->last_change_ms >= MEDIA_SPEAKER_GAP_MS;
    if (!held || !spaced)
        return false;
    sp->dominant = best;
    sp->challenger = MEDIA_SPEAKER_NONE;
    sp->streak = 0;
    sp->last_change_ms = now_ms ? now_ms : 1;
    return true;
}

/* Close the buckets that ended by now_ms; true when the dominant changed. */
static bool advance(struct media_speaker *sp, uint64_t now_ms)
{
    if (!sp->started || now_ms + MEDIA_SPEAKER_BUCKET_MS < sp->bucket_end_ms) {
        /* the first packet, or the clock went back: start counting again here */
        sp->started = true;
        sp->bucket_end_ms = now_ms + MEDIA_SPEAKER_BUCKET_MS;
        return false;
    }
    if (now_ms < sp->bucket_end_ms)
        return false;
    uint64_t ended = (now_ms - sp->bucket_end_ms) / MEDIA_SPEAKER_BUCKET_MS + 1;
    for (unsigned i = 0; i < sp->max; i++) {
        struct part *pt = &sp->parts[i];
        if (!pt->present)
            continue;
        push(pt, pt->peak);
        pt->peak = 0;
        /* buckets in which nobody sent anything were silent */
        for (uint64_t k = 1; k < ended && k <= MEDIA_SPEAKER_WINDOW; k++)
            push(pt, 0);
    }
    sp->bucket_end_ms += ended * MEDIA_SPEAKER_BUCKET_MS;
    return decide(sp, now_ms);
}

bool media_speaker_level(struct media_speaker *sp, unsigned p, uint64_t now_ms, bool voice,
                         uint8_t level)
{
    if (p >= sp->max)
        return false;
    bool changed = advance(sp, now_ms);
    struct part *pt = &sp->parts[p];
    pt->present = true;
    pt->trusts_vad |= voice;
    uint8_t loud = level < MEDIA_SPEAKER_FLOOR ? (uint8_t)(MEDIA_SPEAKER_FLOOR - level) : 0;
    if (pt->trusts_vad && !voice)
        loud = 0;
    if (loud > pt->peak)
        pt->peak = loud;
    return changed;
}

int media_speaker_rtp(struct media_speaker *sp, unsigned p, uint64_t now_ms, const uint8_t *pkt,
                      size_t len, uint8_t ext_id)
{
    struct media_rtp r;
    bool voice;
    uint8_t level;
    if (!ext_id)
        return -ENOENT;
    if (media_rtp_parse(pkt, len, &r) != 0)
        return -EBADMSG;
    int rc = media_rtp_audio_level(&r, ext_id, &voice, &level);
    if (rc)
        return rc;
    return media_speaker_level(sp, p, now_ms, voice, level) ? 1 : 0;
}

bool media_speaker_leave(struct media_speaker *sp, unsigned p)
{
    if (p >= sp->max)
        return false;
    memset(&sp->parts[p], 0, sizeof sp->parts[p]);
    if (sp->challenger == (int)p) {
        sp->challenger = MEDIA_SPEAKER_NONE;
        sp->streak = 0;
    }
    if (sp->dominant != (int)p)
        return false;
    sp->dominant = MEDIA_SPEAKER_NONE;
    return true;
}
