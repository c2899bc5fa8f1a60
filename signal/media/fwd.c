/*
 * fwd.c - the SFU forwarding core (see fwd.h).
 *
 * Sources live in a fixed array (an index stays valid while the source
 * exists); each keeps its fan-out list of (endpoint, slot) bindings, made
 * when it is published. Endpoints are allocated when they join, each with a
 * ring of packet buffers, so a room's memory follows its members, not its
 * limit. The ready list is a stack of endpoint ids with a flag so an
 * endpoint is on it once. The REMBs to publishers are in fwd_rate.c; the
 * structures both files use are in fwd_int.h.
 */
#include "fwd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwd_int.h"
#include "rtcp_parse.h"

int media_fwd_new(struct media_fwd **out, const struct media_fwd_config *cfg)
{
    *out = NULL;
    if (!cfg->max_endpoints || !cfg->max_sources || !cfg->queue_len ||
        cfg->max_endpoints > 1u << 20)
        return -EINVAL;
    struct media_fwd *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->cfg = *cfg;
    f->bwe = (struct media_bwe_config){.min_bps = cfg->min_video_bps,
                                       .max_bps = cfg->max_video_bps};
    f->eps = calloc(cfg->max_endpoints, sizeof *f->eps);
    f->on_ready = calloc(cfg->max_endpoints, sizeof *f->on_ready);
    f->srcs = calloc(cfg->max_sources, sizeof *f->srcs);
    f->ready = calloc(cfg->max_endpoints, sizeof *f->ready);
    if (!f->eps || !f->on_ready || !f->srcs || !f->ready) {
        media_fwd_free(f);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

void media_fwd_free(struct media_fwd *f)
{
    if (!f)
        return;
    for (unsigned i = 0; f->eps && i < f->cfg.max_endpoints; i++)
        if (f->eps[i]) {
            free(f->eps[i]->queue);
            free(f->eps[i]);
        }
    for (unsigned i = 0; f->srcs && i < f->cfg.max_sources; i++)
        free(f->srcs[i].fanout);
    free(f->eps);
    free(f->on_ready);
    free(f->srcs);
    free(f->ready);
    free(f);
}

static bool ep_ok(const struct media_fwd *f, unsigned ep)
{
    return ep < f->cfg.max_endpoints && f->eps[ep];
}

int media_fwd_join(struct media_fwd *f, void *user, unsigned *ep)
{
    for (unsigned i = 0; i < f->cfg.max_endpoints; i++) {
        /* a left one still on the ready list waits to be taken off it */
        if (f->eps[i] || f->on_ready[i])
            continue;
        struct endpoint *e = calloc(1, sizeof *e);
        struct pktbuf *q = calloc(f->cfg.queue_len, sizeof *q);
        if (!e || !q) {
            free(e);
            free(q);
            return -ENOMEM;
        }
        e->user = user;
        e->queue = q;
        f->eps[i] = e;
        f->n_members++;
        *ep = i;
        return 0;
    }
    return -ENOSPC;
}

void *media_fwd_user(const struct media_fwd *f, unsigned ep)
{
    return ep_ok(f, ep) ? f->eps[ep]->user : NULL;
}

unsigned media_fwd_members(const struct media_fwd *f)
{
    return f->n_members;
}

static struct source *find_source(struct media_fwd *f, uint32_t ssrc)
{
    for (unsigned i = 0; i < f->cfg.max_sources; i++)
        if (f->srcs[i].used && f->srcs[i].ssrc == ssrc)
            return &f->srcs[i];
    return NULL;
}

static void fanout_remove(struct source *s, unsigned ep, unsigned slot)
{
    uint32_t key = (uint32_t)ep << 8 | slot;
    for (unsigned i = 0; i < s->n_fanout; i++)
        if (s->fanout[i] == key) {
            s->fanout[i] = s->fanout[--s->n_fanout];
            return;
        }
}

static void want_keyframe(struct media_fwd *f, struct source *s, uint64_t now_us);

static void bind_slot(struct media_fwd *f, uint64_t now_us, unsigned ep, unsigned si, int src)
{
    struct slot *sl = &f->eps[ep]->slots[si];
    if (sl->src == src)
        return;
    if (sl->src >= 0)
        fanout_remove(&f->srcs[sl->src], ep, si);
    sl->src = src;
    if (src < 0) {
        media_rewriter_switch(&sl->rw, 0);
        return;
    }
    struct source *s = &f->srcs[src];
    s->fanout[s->n_fanout++] = (uint32_t)ep << 8 | si;
    media_bwe_init(&sl->bwe, &f->bwe);
    media_rewriter_switch(&sl->rw, s->ssrc);
    if (s->kind == MEDIA_KIND_VIDEO) /* a decoder can start only at a keyframe */
        want_keyframe(f, s, now_us);
}

/* Unbound slots of ep take a source of their kind that ep does not send
 * itself and does not receive on another slot yet. */
static void autobind(struct media_fwd *f, uint64_t now_us, unsigned ep)
{
    struct endpoint *e = f->eps[ep];
    for (unsigned si = 0; si < e->n_slots; si++) {
        struct slot *sl = &e->slots[si];
        if (sl->src >= 0)
            continue;
        for (unsigned k = 0; k < f->cfg.max_sources; k++) {
            struct source *s = &f->srcs[k];
            if (!s->used || s->ep == ep || s->kind != sl->kind)
                continue;
            bool taken = false;
            for (unsigned o = 0; o < e->n_slots && !taken; o++)
                taken = e->slots[o].src == (int)k;
            if (!taken) {
                bind_slot(f, now_us, ep, si, (int)k);
                break;
            }
        }
    }
}

static void autobind_all(struct media_fwd *f, uint64_t now_us)
{
    for (unsigned i = 0; i < f->cfg.max_endpoints; i++)
        if (f->eps[i])
            autobind(f, now_us, i);
}

static void end_source(struct media_fwd *f, struct source *s)
{
    while (s->n_fanout) {
        uint32_t key = s->fanout[0];
        bind_slot(f, 0, key >> 8, key & 0xff, -1);
    }
    free(s->fanout);
    s->fanout = NULL;
    s->used = false;
}

void media_fwd_leave(struct media_fwd *f, uint64_t now_us, unsigned ep)
{
    if (!ep_ok(f, ep))
        return;
    struct endpoint *e = f->eps[ep];
    for (unsigned si = 0; si < e->n_slots; si++)
        bind_slot(f, now_us, ep, si, -1);
    for (unsigned k = 0; k < f->cfg.max_sources; k++)
        if (f->srcs[k].used && f->srcs[k].ep == ep)
            end_source(f, &f->srcs[k]);
    free(e->queue);
    free(e);
    f->eps[ep] = NULL;
    f->n_members--;
    autobind_all(f, now_us);
}

int media_fwd_publish(struct media_fwd *f, uint64_t now_us, unsigned ep, uint32_t ssrc,
                      enum media_kind kind, uint32_t clock_hz)
{
    if (!ep_ok(f, ep) || ssrc == 0)
        return -EINVAL;
    if (find_source(f, ssrc))
        return -EEXIST;
    unsigned own = 0;
    struct source *free_src = NULL;
    for (unsigned k = 0; k < f->cfg.max_sources; k++) {
        if (f->srcs[k].used && f->srcs[k].ep == ep)
            own++;
        else if (!f->srcs[k].used && !free_src)
            free_src = &f->srcs[k];
    }
    if (!free_src || own >= MEDIA_FWD_MAX_OWN)
        return -ENOSPC;
    /* Each endpoint receives a source on one slot at most (autobind and
     * media_fwd_bind see to it), so max_endpoints bindings are enough. */
    uint32_t *fanout = calloc(f->cfg.max_endpoints, sizeof *fanout);
    if (!fanout)
        return -ENOMEM;
    memset(free_src, 0, sizeof *free_src);
    free_src->fanout = fanout;
    free_src->used = true;
    free_src->ep = ep;
    free_src->ssrc = ssrc;
    free_src->kind = kind;
    free_src->clock_hz = clock_hz;
    media_rx_init(&free_src->rx, ssrc, clock_hz);
    f->eps[ep]->st.n_sources++;
    autobind_all(f, now_us);
    return 0;
}

int media_fwd_add_slot(struct media_fwd *f, uint64_t now_us, unsigned ep, enum media_kind kind,
                       uint32_t out_ssrc, uint32_t clock_hz, uint8_t out_pt, unsigned *slot)
{
    if (!ep_ok(f, ep))
        return -EINVAL;
    struct endpoint *e = f->eps[ep];
    for (unsigned i = 0; i < e->n_slots; i++)
        if (e->slots[i].rw.out_ssrc == out_ssrc)
            return -EEXIST;
    if (e->n_slots == MEDIA_FWD_MAX_SLOTS)
        return -ENOSPC;
    struct slot *sl = &e->slots[e->n_slots];
    memset(sl, 0, sizeof *sl);
    sl->used = true;
    sl->kind = kind;
    sl->src = -1;
    media_rewriter_init(&sl->rw, out_ssrc, clock_hz, out_pt);
    *slot = e->n_slots++;
    autobind(f, now_us, ep);
    return 0;
}

int media_fwd_bind(struct media_fwd *f, uint64_t now_us, unsigned ep, unsigned slot,
                   uint32_t src_ssrc)
{
    if (!ep_ok(f, ep) || slot >= f->eps[ep]->n_slots)
        return -EINVAL;
    if (src_ssrc == 0) {
        bind_slot(f, now_us, ep, slot, -1);
        return 0;
    }
    struct source *s = find_source(f, src_ssrc);
    if (!s)
        return -ENOENT;
    if (s->kind != f->eps[ep]->slots[slot].kind || s->ep == ep)
        return -EINVAL;
    for (unsigned o = 0; o < f->eps[ep]->n_slots; o++)
        if (o != slot && f->eps[ep]->slots[o].src == (int)(s - f->srcs))
            return -EEXIST; /* one copy of a stream per receiver */
    bind_slot(f, now_us, ep, slot, (int)(s - f->srcs));
    return 0;
}

/* ---- forwarding ---- */

int media_fwd_rtp(struct media_fwd *f, uint64_t now_us, unsigned ep, const uint8_t *pkt, size_t len)
{
    struct media_rtp r;
    if (!ep_ok(f, ep) || len > MEDIA_FWD_PKT_MAX || media_rtp_parse(pkt, len, &r) != 0)
        return -EBADMSG;
    struct source *s = find_source(f, r.ssrc);
    if (!s || s->ep != ep)
        return -ENOENT;
    struct endpoint *pub = f->eps[ep];
    pub->st.rx_packets++;
    pub->st.rx_bytes += len;
    media_rx_update(&s->rx, r.seq, r.ts, now_us, len);
    s->in_bytes += len;
    if (now_us - s->in_t0_us >= 1000000) {
        if (s->in_t0_us)
            s->in_bps = (uint32_t)(s->in_bytes * 8 * 1000000 / (now_us - s->in_t0_us));
        s->in_bytes = 0;
        s->in_t0_us = now_us;
    }
    /* The copy: fixed header and CSRCs with X cleared, then payload and padding. */
    size_t fixed = 12 + 4u * r.csrc_count;
    size_t tail = len - (size_t)(r.payload - pkt);
    int queued = 0;
    for (unsigned i = 0; i < s->n_fanout; i++) {
        unsigned to = s->fanout[i] >> 8, si = s->fanout[i] & 0xff;
        struct endpoint *e = f->eps[to];
        if (e->count == f->cfg.queue_len) {
            e->st.dropped++;
            continue;
        }
        struct pktbuf *b = &e->queue[(e->head + e->count) % f->cfg.queue_len];
        memcpy(b->data, pkt, fixed);
        b->data[0] &= (uint8_t)~0x10;
        memcpy(b->data + fixed, r.payload, tail);
        if (media_rewriter_rtp(&e->slots[si].rw, now_us, b->data, &r) != 1)
            continue;
        b->len = (uint16_t)(fixed + tail);
        e->count++;
        e->st.queued++;
        queued++;
        mark_ready(f, to);
    }
    return queued;
}

static void send_pli(struct media_fwd *f, struct source *s, uint64_t now_us)
{
    struct endpoint *pub = f->eps[s->ep];
    uint8_t b[12];
    if (outbox_add(pub, b, media_rtcp_write_pli(b, sizeof b, f->cfg.local_ssrc, s->ssrc))) {
        pub->st.plis_out++;
        mark_ready(f, s->ep);
    }
    s->pli_wanted = false;
    s->pli_sent = true;
    s->last_pli_us = now_us;
}

static void want_keyframe(struct media_fwd *f, struct source *s, uint64_t now_us)
{
    if (!s->pli_sent || now_us - s->last_pli_us >= f->cfg.pli_interval_us)
        send_pli(f, s, now_us);
    else
        s->pli_wanted = true; /* merged; media_fwd_tick sends it */
}

void media_fwd_want_keyframes(struct media_fwd *f, uint64_t now_us, unsigned ep)
{
    if (!ep_ok(f, ep))
        return;
    struct endpoint *e = f->eps[ep];
    for (unsigned i = 0; i < e->n_slots; i++)
        if (e->slots[i].src >= 0 && e->slots[i].kind == MEDIA_KIND_VIDEO)
            want_keyframe(f, &f->srcs[e->slots[i].src], now_us);
}

void media_fwd_tick(struct media_fwd *f, uint64_t now_us)
{
    for (unsigned k = 0; k < f->cfg.max_sources; k++) {
        struct source *s = &f->srcs[k];
        if (s->used && s->pli_wanted && now_us - s->last_pli_us >= f->cfg.pli_interval_us)
            send_pli(f, s, now_us);
    }
}

static void forward_nack(struct media_fwd *f, struct endpoint *e, const struct media_rtcp_item *it)
{
    struct slot *sl = slot_by_out(e, it->media);
    if (!sl || sl->src < 0)
        return;
    uint16_t seqs[64], mapped[64];
    unsigned n = media_rtcp_nack_seqs(it, seqs, 64), m = 0;
    for (unsigned i = 0; i < n; i++)
        if (media_rewriter_to_src(&sl->rw, seqs[i], &mapped[m]) == 0)
            m++;
    if (!m)
        return;
    struct source *s = &f->srcs[sl->src];
    struct endpoint *pub = f->eps[s->ep];
    uint8_t b[12 + 4 * 64];
    if (outbox_add(pub, b,
                   media_rtcp_write_nack(b, sizeof b, f->cfg.local_ssrc, s->ssrc, mapped, m))) {
        pub->st.nacks_out++;
        mark_ready(f, s->ep);
    }
}

int media_fwd_rtcp(struct media_fwd *f, uint64_t now_us, unsigned ep, const uint8_t *pkt,
                   size_t len)
{
    if (!ep_ok(f, ep))
        return -EBADMSG;
    struct endpoint *e = f->eps[ep];
    if (media_rtcp_check(pkt, len) < 0) { /* all or nothing: no half-handled compound */
        e->st.rtcp_errors++;
        return -EBADMSG;
    }
    struct media_rtcp_item it;
    size_t off = 0;
    while (media_rtcp_read(pkt, len, &off, &it) == 1) {
        struct slot *sl;
        struct source *s;
        switch (it.type) {
        case MEDIA_RTCP_T_SR:
            if ((s = find_source(f, it.sender)) && s->ep == ep) {
                s->sr_lsr = media_ntp_mid(it.u.report.sr.ntp);
                s->sr_arrival_us = now_us;
            }
            fwd_take_blocks(f, e, &it, now_us); /* an SR carries report blocks too */
            break;
        case MEDIA_RTCP_T_RR:
            fwd_take_blocks(f, e, &it, now_us);
            break;
        case MEDIA_RTCP_T_REMB:
            fwd_take_remb(f, e, &it, now_us);
            break;
        case MEDIA_RTCP_T_PLI:
        case MEDIA_RTCP_T_FIR: {
            uint32_t target = it.media;
            uint8_t seq;
            if (it.type == MEDIA_RTCP_T_FIR) /* RFC 5104 §4.3.1.2: the target is in the FCI */
                media_rtcp_fir_entry(&it, 0, &target, &seq);
            e->st.plis_in++;
            if ((sl = slot_by_out(e, target)) && sl->src >= 0)
                want_keyframe(f, &f->srcs[sl->src], now_us);
            break;
        }
        case MEDIA_RTCP_T_NACK:
            e->st.nacks_in++;
            forward_nack(f, e, &it);
            break;
        default:
            break; /* SDES, BYE (the shell ends sessions), TWCC, others */
        }
    }
    return 0;
}

/* ---- taking output ---- */

int media_fwd_ready(struct media_fwd *f)
{
    while (f->n_ready) {
        unsigned ep = f->ready[--f->n_ready];
        f->on_ready[ep] = false;
        if (f->eps[ep])
            return (int)ep;
    }
    return -1;
}

uint8_t *media_fwd_peek(struct media_fwd *f, unsigned ep, size_t *len, size_t *cap)
{
    if (!ep_ok(f, ep) || !f->eps[ep]->count)
        return NULL;
    struct pktbuf *b = &f->eps[ep]->queue[f->eps[ep]->head];
    *len = b->len;
    *cap = sizeof b->data;
    return b->data;
}

void media_fwd_pop(struct media_fwd *f, unsigned ep)
{
    if (!ep_ok(f, ep) || !f->eps[ep]->count)
        return;
    struct endpoint *e = f->eps[ep];
    e->head = (e->head + 1) % f->cfg.queue_len;
    e->count--;
}

int media_fwd_take_rtcp(struct media_fwd *f, unsigned ep, uint8_t *out, size_t cap)
{
    if (!ep_ok(f, ep) || !f->eps[ep]->rtcp_len)
        return 0;
    struct endpoint *e = f->eps[ep];
    if (cap < 8 + e->rtcp_len)
        return -ENOSPC;
    /* RFC 3550 §6.1: a compound packet starts with a report */
    int n = media_rtcp_write_rr(out, cap, f->cfg.local_ssrc, NULL, 0);
    memcpy(out + n, e->rtcp, e->rtcp_len);
    n += (int)e->rtcp_len;
    e->rtcp_len = 0;
    return n;
}

int media_fwd_reports(struct media_fwd *f, unsigned ep, uint64_t now_us, uint8_t *out, size_t cap)
{
    if (!ep_ok(f, ep))
        return 0;
    struct endpoint *e = f->eps[ep];
    struct media_rtcp_rb rb[MEDIA_FWD_MAX_OWN];
    unsigned n = 0;
    for (unsigned k = 0; k < f->cfg.max_sources && n < MEDIA_FWD_MAX_OWN; k++) {
        struct source *s = &f->srcs[k];
        if (!s->used || s->ep != ep || !s->rx.started)
            continue;
        uint32_t dlsr = s->sr_lsr && now_us > s->sr_arrival_us
                            ? (uint32_t)((now_us - s->sr_arrival_us) * 65536 / 1000000)
                            : 0;
        media_rx_report(&s->rx, s->sr_lsr, dlsr, &rb[n++]);
    }
    int w = media_rtcp_write_rr(out, cap, f->cfg.local_ssrc, rb, n);
    if (w < 0)
        return w;
    size_t len = (size_t)w;
    uint64_t ntp = media_ntp_from_unix_us(now_us);
    for (unsigned i = 0; i < e->n_slots; i++) {
        struct media_rewriter *rw = &e->slots[i].rw;
        if (!rw->sent_any)
            continue;
        struct media_rtcp_sr sr = {.ssrc = rw->out_ssrc,
                                   .ntp = ntp,
                                   .rtp_ts = media_rewriter_ts_now(rw, now_us),
                                   .packets = rw->packets,
                                   .octets = rw->octets};
        if ((w = media_rtcp_write_sr(out + len, cap - len, &sr, NULL, 0)) < 0)
            return w;
        len += (size_t)w;
    }
    len += (size_t)fwd_write_remb(f, ep, now_us, out + len, cap - len);
    return n || len > 8 ? (int)len : 0;
}

void media_fwd_stats(const struct media_fwd *f, unsigned ep, struct media_fwd_ep_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!ep_ok(f, ep))
        return;
    const struct endpoint *e = f->eps[ep];
    *st = e->st;
    st->n_slots = e->n_slots;
    for (unsigned i = 0; i < e->n_slots; i++) {
        const struct slot *sl = &e->slots[i];
        st->slots[i] =
            (struct media_fwd_slot_stats){.kind = sl->kind,
                                          .out_ssrc = sl->rw.out_ssrc,
                                          .src_ssrc = sl->src >= 0 ? f->srcs[sl->src].ssrc : 0,
                                          .packets = sl->rw.packets,
                                          .octets = sl->rw.octets,
                                          .remote_fraction_lost = sl->remote_fraction_lost,
                                          .remote_lost = sl->remote_lost,
                                          .bwe_bps = sl->kind == MEDIA_KIND_VIDEO && sl->src >= 0
                                                         ? media_bwe_limit(&sl->bwe, &f->bwe,
                                                                           sl->bwe.seen_us)
                                                         : 0};
    }
}
