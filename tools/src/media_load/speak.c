/*
 * speak.c - media-load --speak: one speaker (peer.h) whose offer and answer
 * go through whoever runs it, so a test can pass them through signald like a
 * call's device does. On stdout, one JSON object per line: {"offer":SDP},
 * then {"connected":true} and {"sent":N} at the end; on stdin it waits for
 * {"answer":SDP}. It then sends 20 ms audio packets at the given level for
 * the given time.
 */
#include "speak.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "peer.h"

static void say(json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text)
        printf("%s\n", text);
    free(text);
    fflush(stdout);
}

static bool gathered(const struct ml_peer *p) { return p->gathered; }

/* Run the loop until until_us, or until done(p) holds (NULL: never) or p failed. */
static void run_until(struct ml_peer *p, uint64_t until_us, bool (*done)(const struct ml_peer *))
{
    while ((uint64_t)g_get_monotonic_time() < until_us && !p->failed && !(done && done(p))) {
        g_main_context_iteration(NULL, FALSE);
        ml_peer_poll(p, (uint64_t)g_get_monotonic_time());
        g_usleep(1000);
    }
}

int ml_speak(unsigned level, unsigned seconds)
{
    char err[256];
    struct media_dtls_cert *cert;
    if (media_dtls_cert_new(&cert, err, sizeof err) != 0) {
        fprintf(stderr, "media-load: %s\n", err);
        return 1;
    }
    static struct ml_peer p;
    int rc = 1;
    static char line[1 << 17];
    if (ml_peer_start(&p, 0, true, 1) != 0)
        goto out;
    p.speak = (int)level;
    p.ssrc = (uint32_t)g_random_int_range(1, G_MAXINT32); /* speakers of one room meet */
    run_until(&p, (uint64_t)g_get_monotonic_time() + 5000000, gathered);
    char *offer = p.gathered ? ml_peer_offer(&p, cert) : NULL;
    if (!offer) {
        fprintf(stderr, "media-load: no local candidates\n");
        goto out;
    }
    say(json_pack("{ss}", "offer", offer));
    free(offer);
    json_t *in = fgets(line, sizeof line, stdin) ? json_loads(line, 0, NULL) : NULL;
    const char *answer = json_string_value(json_object_get(in, "answer"));
    if (!answer || ml_peer_answer(&p, cert, answer) != 0) {
        fprintf(stderr, "media-load: no usable answer: %s\n", p.why);
        json_decref(in);
        goto out;
    }
    json_decref(in);
    run_until(&p, (uint64_t)g_get_monotonic_time() + 15000000, ml_peer_connected);
    if (!ml_peer_connected(&p)) {
        fprintf(stderr, "media-load: not connected: %s\n", p.why[0] ? p.why : "timeout");
        goto out;
    }
    say(json_pack("{sb}", "connected", 1));
    uint64_t start = (uint64_t)g_get_real_time(), t0 = (uint64_t)g_get_monotonic_time();
    for (uint64_t next = t0; next < t0 + seconds * 1000000ull && !p.failed; next += 20000) {
        run_until(&p, next, NULL);
        ml_peer_send_rtp(&p, (uint64_t)g_get_real_time(), start);
    }
    say(json_pack("{sI}", "sent", (json_int_t)p.sent));
    rc = p.failed;
out:
    ml_peer_free(&p);
    media_dtls_cert_free(cert);
    return rc;
}
