/*
 * stream_frame.c - splitting a TCP or TLS byte stream into STUN messages and
 * ChannelData messages (RFC 8489 §6.2.2, RFC 8656 §12.5).
 *
 * Over a stream there are no datagram boundaries: the first two bits of each
 * message tell STUN (00) from ChannelData (01), and the length field tells
 * where it ends. ChannelData is padded to a multiple of four bytes over
 * streams, and the padding belongs to the frame. Anything else (10, 11:
 * DTLS, RTP, HTTP, TLS records sent to the plain port) means the stream is
 * out of sync for good; the caller closes the connection.
 */
#include "stun.h"

#include <errno.h>

int stun_stream_frame(const uint8_t *buf, size_t len, size_t *frame_len, const char **why)
{
    *frame_len = 0;
    if (len == 0) return 0;
    if ((buf[0] & 0xc0) == 0x80 || (buf[0] & 0xc0) == 0xc0) {
        if (why) *why = "neither STUN nor ChannelData";
        return -EBADMSG;
    }
    if (len < 4) return 0;
    size_t field = (size_t)buf[2] << 8 | buf[3];
    size_t need;
    if ((buf[0] & 0xc0) == 0) {
        /* RFC 8489 §5: the message length is a multiple of 4 */
        if (field & 3) {
            if (why) *why = "STUN length not a multiple of 4";
            return -EBADMSG;
        }
        need = STUN_HEADER_LEN + field;
        /* TURN needs RFC 5389 or later, so a stream carries the magic cookie;
         * checking it early tells a TLS ClientHello on the plain port apart. */
        if (len >= 8 && ((uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 |
                         buf[7]) != STUN_MAGIC_COOKIE) {
            if (why) *why = "STUN message without the magic cookie";
            return -EBADMSG;
        }
    } else {
        need = STUN_CHANDATA_HEADER_LEN + ((field + 3) & ~(size_t)3);
    }
    if (len < need) return 0;
    *frame_len = need;
    return 0;
}
