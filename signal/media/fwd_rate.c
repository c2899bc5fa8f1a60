/*
 * fwd_rate.c - the forwarding core's REMBs to publishers (see fwd.h): each
 * (video source, subscriber) path keeps a loss-based estimate (bwe.h) in the
 * subscriber's slot; a source's target is the minimum over its fan-out.
 */
#include "fwd_int.h"

/* The minimum over the paths of video source s, or 0 when none has a say. */
static uint32_t source_target(const struct media_fwd *f, const struct source *s, uint64_t now_us)
{
    uint32_t t = 0;
    for (unsigned i = 0; i < s->n_fanout; i++) {
        const struct slot *sl = &f->eps[s->fanout[i] >> 8]->slots[s->fanout[i] & 0xff];
        uint32_t l = media_bwe_limit(&sl->bwe, &f->bwe, now_us);
        if (l && (!t || l < t))
            t = l;
    }
    return t;
}

/* Sources nobody reports on count at the cap. */
int fwd_write_remb(struct media_fwd *f, unsigned ep, uint64_t now_us, uint8_t *out, size_t cap)
{
    if (!f->bwe.max_bps)
        return 0;
    uint32_t ssrcs[MEDIA_FWD_MAX_OWN];
    struct source *own[MEDIA_FWD_MAX_OWN];
    unsigned n = 0;
    uint64_t total = 0;
    bool known = false;
    for (unsigned k = 0; k < f->cfg.max_sources && n < MEDIA_FWD_MAX_OWN; k++) {
        struct source *s = &f->srcs[k];
        if (!s->used || s->ep != ep || s->kind != MEDIA_KIND_VIDEO)
            continue;
        uint32_t t = source_target(f, s, now_us);
        known |= t != 0;
        s->target_bps = t ? t : f->bwe.max_bps;
        total += s->target_bps;
        ssrcs[n] = s->ssrc;
        own[n++] = s;
    }
    if (!known)
        return 0;
    int w = media_rtcp_write_remb(out, cap, f->cfg.local_ssrc, total, ssrcs, n);
    if (w > 0) {
        struct endpoint *pub = f->eps[ep];
        pub->st.rembs_out++;
        pub->st.remb_bps = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    } else {
        for (unsigned i = 0; i < n; i++)
            own[i]->target_bps = 0;
    }
    return w < 0 ? 0 : w;
}

/* A path of s fell: when it takes s a fifth or more below what the publisher
 * was last told, tell it now rather than at its next report. */
static void path_fell(struct media_fwd *f, struct source *s, uint32_t limit, uint64_t now_us)
{
    uint32_t told = s->target_bps ? s->target_bps : f->bwe.max_bps; /* none yet: the cap */
    if (!f->bwe.max_bps || !limit || limit >= told - told / 5)
        return;
    uint8_t b[20 + 4 * MEDIA_FWD_MAX_OWN];
    if (outbox_add(f->eps[s->ep], b, fwd_write_remb(f, s->ep, now_us, b, sizeof b)))
        mark_ready(f, s->ep);
}

void fwd_take_blocks(struct media_fwd *f, struct endpoint *e, const struct media_rtcp_item *it,
                     uint64_t now_us)
{
    struct slot *sl;
    for (unsigned i = 0; i < it->u.report.n_rb; i++)
        if ((sl = slot_by_out(e, it->u.report.rb[i].ssrc))) {
            sl->remote_fraction_lost = it->u.report.rb[i].fraction_lost;
            sl->remote_lost = it->u.report.rb[i].cumulative_lost;
            if (sl->src < 0 || sl->kind != MEDIA_KIND_VIDEO)
                continue;
            struct source *s = &f->srcs[sl->src];
            media_bwe_on_loss(&sl->bwe, &f->bwe, now_us, sl->remote_fraction_lost, s->in_bps);
            path_fell(f, s, media_bwe_limit(&sl->bwe, &f->bwe, now_us), now_us);
        }
}

/* A subscriber's REMB: its total, shared evenly by the video slots it names. */
void fwd_take_remb(struct media_fwd *f, struct endpoint *e, const struct media_rtcp_item *it,
                   uint64_t now_us)
{
    struct slot *sl[MEDIA_FWD_MAX_SLOTS];
    unsigned n = 0;
    for (unsigned i = 0; i < it->u.remb.n_ssrcs && n < MEDIA_FWD_MAX_SLOTS; i++) {
        struct slot *x = slot_by_out(e, media_rtcp_remb_ssrc(it, i));
        if (x && x->src >= 0 && x->kind == MEDIA_KIND_VIDEO)
            sl[n++] = x;
    }
    for (unsigned i = 0; i < n; i++) {
        media_bwe_on_remb(&sl[i]->bwe, now_us, it->u.remb.bitrate / n);
        path_fell(f, &f->srcs[sl[i]->src], media_bwe_limit(&sl[i]->bwe, &f->bwe, now_us), now_us);
    }
}

void media_fwd_remb_summary(const struct media_fwd *f, uint64_t *rembs, uint32_t *min_bps)
{
    *rembs = 0;
    *min_bps = 0;
    for (unsigned i = 0; i < f->cfg.max_endpoints; i++) {
        const struct endpoint *e = f->eps[i];
        if (!e || !e->st.rembs_out)
            continue;
        *rembs += e->st.rembs_out;
        if (!*min_bps || e->st.remb_bps < *min_bps)
            *min_bps = e->st.remb_bps;
    }
}
