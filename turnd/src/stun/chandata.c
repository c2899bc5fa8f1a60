/* chandata.c - ChannelData framing (RFC 8656 §12.4). */
#include "stun.h"

#include <errno.h>

bool stun_looks_like_chandata(const uint8_t *buf, size_t len)
{
    return len >= STUN_CHANDATA_HEADER_LEN && buf[0] >= 0x40 && buf[0] <= 0x7f;
}

int stun_chandata_parse(const uint8_t *buf, size_t len, uint16_t *chan, const uint8_t **payload,
                        uint16_t *payload_len)
{
    if (len < STUN_CHANDATA_HEADER_LEN) return -EBADMSG;
    uint16_t number = (uint16_t)(buf[0] << 8 | buf[1]);
    uint16_t plen = (uint16_t)(buf[2] << 8 | buf[3]);
    if (number < STUN_CHANNEL_MIN || number > STUN_CHANNEL_MAX) return -EBADMSG;
    /* §12.5: over UDP the padding may be absent or present; never less data. */
    if ((size_t)plen > len - STUN_CHANDATA_HEADER_LEN) return -EBADMSG;
    *chan = number;
    *payload = buf + STUN_CHANDATA_HEADER_LEN;
    *payload_len = plen;
    return 0;
}

void stun_chandata_put_header(uint8_t hdr[STUN_CHANDATA_HEADER_LEN], uint16_t chan, uint16_t len)
{
    hdr[0] = (uint8_t)(chan >> 8);
    hdr[1] = (uint8_t)chan;
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
}
