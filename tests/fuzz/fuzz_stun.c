/*
 * fuzz_stun.c - libFuzzer harness for the STUN and ChannelData parsers: parse
 * the input, then run every attribute getter, the integrity check and the
 * unknown-attribute scan on whatever parsed.
 */
#include "stun/stun.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stun_msg m;
    (void)stun_looks_like_stun(data, size);
    if (stun_parse(&m, data, size) == 0) {
        for (unsigned i = 0; i < m.n_attrs; i++) {
            const struct stun_attr *a = &m.attrs[i];
            struct stun_addr addr;
            uint32_t u32;
            uint16_t u16;
            uint8_t u8;
            bool flag;
            int code;
            const char *reason;
            size_t reason_len;
            if (stun_attr_get_addr(&m, a, true, &addr) == 0) {
                char text[64];
                stun_addr_format(&addr, true, text, sizeof(text));
            }
            (void)stun_attr_get_addr(&m, a, false, &addr);
            (void)stun_attr_get_u32(a, &u32);
            (void)stun_attr_get_error(a, &code, &reason, &reason_len);
            (void)stun_attr_get_channel(a, &u16);
            (void)stun_attr_get_transport(a, &u8);
            (void)stun_attr_get_family(a, &u16);
            (void)stun_attr_get_even_port(a, &flag);
        }
        static const uint8_t key[16] = {1, 2, 3};
        (void)stun_check_integrity(&m, key, sizeof(key));
        uint16_t unknown[8];
        static const uint16_t known[] = {STUN_ATTR_USERNAME, STUN_ATTR_REALM};
        (void)stun_unknown_required(&m, known, 2, unknown, 8);
    }
    uint16_t chan, plen;
    const uint8_t *payload;
    if (stun_looks_like_chandata(data, size))
        (void)stun_chandata_parse(data, size, &chan, &payload, &plen);
    return 0;
}
