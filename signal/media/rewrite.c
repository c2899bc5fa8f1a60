/*
 * rewrite.c - SSRC, sequence number and timestamp rewriting for one outgoing
 * stream (see rewrite.h).
 */
#include "rewrite.h"

#include <errno.h>
#include <string.h>

void media_rewriter_init(struct media_rewriter *w, uint32_t out_ssrc, uint32_t clock_hz,
                         uint8_t out_pt)
{
    memset(w, 0, sizeof *w);
    w->out_ssrc = out_ssrc;
    w->clock_hz = clock_hz;
    w->out_pt = out_pt;
}

void media_rewriter_switch(struct media_rewriter *w, uint32_t src_ssrc)
{
    if (src_ssrc == w->src_ssrc)
        return;
    w->src_ssrc = src_ssrc;
    w->src_started = false;
}

uint32_t media_rewriter_ts_now(const struct media_rewriter *w, uint64_t now_us)
{
    uint64_t since = now_us > w->last_us ? now_us - w->last_us : 0;
    return w->last_ts + (uint32_t)(since * w->clock_hz / 1000000);
}

int media_rewriter_rtp(struct media_rewriter *w, uint64_t now_us, uint8_t *pkt,
                       const struct media_rtp *r)
{
    if (!w->src_ssrc || r->ssrc != w->src_ssrc)
        return 0;
    if (!w->src_started) {
        if (w->sent_any) {
            /* Go on +1 in sequence, and in time by what passed since the last
             * packet (at least one tick, so the timestamp never stands still
             * across two different frames). */
            uint32_t ts = media_rewriter_ts_now(w, now_us);
            if (ts == w->last_ts)
                ts++;
            w->seq_off = (uint16_t)(w->last_seq + 1 - r->seq);
            w->ts_off = ts - r->ts;
        } else {
            w->seq_off = 0; /* the first source keeps its own numbering */
            w->ts_off = 0;
        }
        w->src_first_seq = r->seq;
        w->src_started = true;
    } else if ((int16_t)(r->seq - w->src_first_seq) < 0) {
        /* Reordered from before the switch: its number is taken by the previous source. */
        w->dropped_old++;
        return 0;
    }
    uint16_t seq = (uint16_t)(r->seq + w->seq_off);
    uint32_t ts = r->ts + w->ts_off;
    if (!w->sent_any || (int16_t)(seq - w->last_seq) > 0) {
        w->last_seq = seq;
        w->last_ts = ts;
        w->last_us = now_us;
    }
    w->sent_any = true;
    media_rtp_set_ssrc(pkt, w->out_ssrc);
    media_rtp_set_seq(pkt, seq);
    media_rtp_set_ts(pkt, ts);
    if (w->out_pt != MEDIA_REWRITE_KEEP_PT)
        pkt[1] = (uint8_t)((pkt[1] & 0x80) | (w->out_pt & 0x7f));
    w->packets++;
    w->octets += (uint32_t)r->payload_len;
    return 1;
}

int media_rewriter_to_src(const struct media_rewriter *w, uint16_t out_seq, uint16_t *src_seq)
{
    if (!w->src_started)
        return -ENOENT;
    uint16_t first_out = (uint16_t)(w->src_first_seq + w->seq_off);
    /* within [first packet of this source, last sent] */
    if ((int16_t)(out_seq - first_out) < 0 || (int16_t)(out_seq - w->last_seq) > 0)
        return -ENOENT;
    *src_seq = (uint16_t)(out_seq - w->seq_off);
    return 0;
}
