/*
 * fuzz_stun.c - libFuzzer harness for the STUN and ChannelData parsers.
 *
 * Parses the input, then runs every attribute getter on every attribute, the
 * integrity check and the unknown-attribute scan on whatever parsed. Beyond
 * "no crash" it checks what callers rely on: every borrowed pointer lies
 * inside the input (each byte is read, so ASan sees an overrun), and a parsed
 * message rebuilt with the builder parses back to the same attributes.
 */
#include "stun/stun.h"
#include "fuzz_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

/* Read every byte of a borrowed range and check it lies inside the input. */
static void touch(const uint8_t *data, size_t size, const uint8_t *p, size_t len)
{
    CHECK(p >= data && len <= size && (size_t)(p - data) <= size - len);
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= p[i];
    sink = x;
}

/* Decoded addresses encode back to the same value. */
static void check_addr_round_trip(const struct stun_msg *m, const struct stun_attr *a, bool xor)
{
    struct stun_addr addr, back;
    if (stun_attr_get_addr(m, a, xor, &addr) != 0) return;
    char text[64];
    CHECK(stun_addr_format(&addr, true, text, sizeof(text)) == 0);
    if (!m->has_cookie) return; /* the builder always writes the cookie the XOR would use */
    uint8_t buf[64];
    struct stun_builder b;
    size_t len;
    struct stun_msg again;
    stun_build_init(&b, buf, sizeof(buf), m->method, m->cls, m->tid);
    stun_put_addr(&b, a->type, &addr, xor);
    CHECK(stun_build_finish(&b, &len) == 0);
    CHECK(stun_parse(&again, buf, len) == 0 && again.n_attrs == 1);
    CHECK(stun_attr_get_addr(&again, &again.attrs[0], xor, &back) == 0);
    CHECK(stun_addr_equal(&addr, &back));
}

static void run_getters(const struct stun_msg *m, const uint8_t *data, size_t size)
{
    for (unsigned i = 0; i < m->n_attrs; i++) {
        const struct stun_attr *a = &m->attrs[i];
        touch(data, size, a->val, a->len);
        CHECK(a->val == data + a->offset + 4);
        uint32_t u32;
        uint16_t u16;
        uint8_t u8;
        bool flag;
        int code;
        const char *reason;
        size_t reason_len;
        check_addr_round_trip(m, a, true);
        check_addr_round_trip(m, a, false);
        (void)stun_attr_get_u32(a, &u32);
        if (stun_attr_get_error(a, &code, &reason, &reason_len) == 0) {
            CHECK(code >= 300 && code <= 699);
            touch(data, size, (const uint8_t *)reason, reason_len);
        }
        (void)stun_attr_get_channel(a, &u16);
        (void)stun_attr_get_transport(a, &u8);
        (void)stun_attr_get_family(a, &u16);
        (void)stun_attr_get_even_port(a, &flag);
    }
}

/* The builder reproduces what the parser recorded. */
static void check_rebuild(const struct stun_msg *m)
{
    static uint8_t buf[STUN_HEADER_LEN + 0xfffc];
    struct stun_builder b;
    size_t len;
    struct stun_msg again;
    stun_build_init(&b, buf, sizeof(buf), m->method, m->cls, m->tid);
    for (unsigned i = 0; i < m->n_attrs; i++)
        stun_put_attr(&b, m->attrs[i].type, m->attrs[i].val, m->attrs[i].len);
    stun_put_fingerprint(&b);
    CHECK(stun_build_finish(&b, &len) == 0); /* never larger than the input */
    CHECK(stun_parse(&again, buf, len) == 0);
    CHECK(again.n_attrs == m->n_attrs && again.has_fingerprint);
    CHECK(again.method == m->method && again.cls == m->cls);
    CHECK(again.integrity == m->integrity && again.integrity_sha256 == m->integrity_sha256);
    for (unsigned i = 0; i < m->n_attrs; i++) {
        CHECK(again.attrs[i].type == m->attrs[i].type && again.attrs[i].len == m->attrs[i].len);
        CHECK(memcmp(again.attrs[i].val, m->attrs[i].val, m->attrs[i].len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stun_msg m;
    bool looks = stun_looks_like_stun(data, size);
    if (stun_parse(&m, data, size) == 0) {
        CHECK(m.buf == data && m.len == size && m.n_attrs <= STUN_MAX_ATTRS);
        CHECK(!looks || m.has_cookie);
        run_getters(&m, data, size);
        static const uint8_t key[16] = {1, 2, 3};
        (void)stun_check_integrity(&m, key, sizeof(key));
        uint16_t unknown[8];
        static const uint16_t known[] = {STUN_ATTR_USERNAME, STUN_ATTR_REALM, STUN_ATTR_NONCE};
        unsigned n = stun_unknown_required(&m, known, 3, unknown, 8);
        CHECK(n <= m.n_attrs);
        for (unsigned i = 0; i < n && i < 8; i++)
            CHECK(unknown[i] < 0x8000);
        check_rebuild(&m);
    }
    uint16_t chan, plen;
    const uint8_t *payload;
    if (stun_chandata_parse(data, size, &chan, &payload, &plen) == 0) {
        CHECK(stun_looks_like_chandata(data, size));
        CHECK(chan >= STUN_CHANNEL_MIN && chan <= STUN_CHANNEL_MAX);
        touch(data, size, payload, plen);
    }
    return 0;
}
