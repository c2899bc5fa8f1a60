/*
 * bwe.c - the loss-based path estimate (see bwe.h). Integer arithmetic on
 * bits per second; the loss thresholds are in 1/256: 2 % is 5, 10 % is 26.
 */
#include "bwe.h"

#define LOSS_LOW 5   /* < 2 %: increase */
#define LOSS_HIGH 26 /* > 10 %: decrease */
#define STEP_MAX_US 1000000 /* one report never grows it by more than a second's 8 % */

static uint32_t clamp(uint64_t v, const struct media_bwe_config *cfg)
{
    return v < cfg->min_bps ? cfg->min_bps : v > cfg->max_bps ? cfg->max_bps : (uint32_t)v;
}

void media_bwe_init(struct media_bwe *b, const struct media_bwe_config *cfg)
{
    *b = (struct media_bwe){.bps = cfg->max_bps};
}

void media_bwe_on_loss(struct media_bwe *b, const struct media_bwe_config *cfg, uint64_t now_us,
                       uint8_t fraction_lost, uint32_t in_bps)
{
    uint64_t bps = b->bps;
    if (fraction_lost < LOSS_LOW) {
        uint64_t dt = b->rr_us && now_us > b->rr_us ? now_us - b->rr_us : STEP_MAX_US;
        if (dt > STEP_MAX_US)
            dt = STEP_MAX_US;
        bps += bps * 8 * dt / (100 * 1000000ull);
    } else if (fraction_lost > LOSS_HIGH) {
        if (in_bps && in_bps < bps)
            bps = in_bps;
        bps = bps * (512 - fraction_lost) / 512; /* (1 - 0.5 * loss) */
    }
    b->bps = clamp(bps, cfg);
    b->rr_us = b->seen_us = now_us ? now_us : 1;
}

void media_bwe_on_remb(struct media_bwe *b, uint64_t now_us, uint64_t bps)
{
    b->remb_bps = bps > UINT32_MAX ? UINT32_MAX : bps ? (uint32_t)bps : 1;
    b->seen_us = now_us ? now_us : 1;
}

uint32_t media_bwe_limit(const struct media_bwe *b, const struct media_bwe_config *cfg,
                         uint64_t now_us)
{
    if (!b->seen_us || now_us - b->seen_us > MEDIA_BWE_STALE_US)
        return 0;
    uint32_t v = b->bps;
    if (b->remb_bps && b->remb_bps < v)
        v = b->remb_bps;
    return clamp(v, cfg);
}
