/*
 * sdp.c - parse a browser's offer and write mediad's answer (see sdp.h).
 *
 * The parser walks the text line by line, copying each line into a bounded
 * buffer first so every later read is NUL-terminated and bounded; it never
 * allocates. Unknown lines and attributes are skipped, as RFC 8866 §5 asks.
 */
#include "sdp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 1024

static int bad(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -EBADMSG;
}

/* Copy at most cap-1 bytes of the next space-delimited token of *p into out. */
static bool next_token(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return false;
    size_t n = 0;
    while (s[n] && s[n] != ' ' && s[n] != '\t')
        n++;
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(out, s, k);
    out[k] = '\0';
    *p = s + n;
    return true;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool parse_u32(const char *s, uint32_t *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || v > UINT32_MAX || (*end && *end != ' ' && *end != '/' && *end != '\t'))
        return false;
    *out = (uint32_t)v;
    return true;
}

int media_sdp_parse_fingerprint(const char *hex, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = 0;
    const char *p = hex;
    while (*p) {
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || n == cap)
            return -EINVAL;
        char byte[3] = {p[0], p[1], 0};
        out[n++] = (uint8_t)strtoul(byte, NULL, 16);
        p += 2;
        if (*p == ':')
            p++;
        else if (*p)
            return -EINVAL;
    }
    if (n == 0)
        return -EINVAL;
    *out_len = n;
    return 0;
}

static struct media_sdp_codec *codec_by_pt(struct media_sdp_media *m, uint32_t pt)
{
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

static void parse_fingerprint_attr(const char *v, char *alg, size_t alg_cap, uint8_t *fp,
                                   size_t *fp_len)
{
    char a[16], hex[3 * MEDIA_SDP_FP_MAX + 1];
    if (!next_token(&v, a, sizeof a) || !next_token(&v, hex, sizeof hex))
        return;
    for (char *c = a; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t n;
    if (media_sdp_parse_fingerprint(hex, fp, MEDIA_SDP_FP_MAX, &n) == 0) {
        copy_str(alg, alg_cap, a);
        *fp_len = n;
    }
}

static enum media_setup parse_setup(const char *v)
{
    if (strcmp(v, "actpass") == 0)
        return MEDIA_SETUP_ACTPASS;
    if (strcmp(v, "active") == 0)
        return MEDIA_SETUP_ACTIVE;
    if (strcmp(v, "passive") == 0)
        return MEDIA_SETUP_PASSIVE;
    return MEDIA_SETUP_NONE;
}

static void parse_rtcp_fb(struct media_sdp_media *m, const char *v)
{
    char pt_s[8], type[24], param[24] = "";
    if (!next_token(&v, pt_s, sizeof pt_s) || !next_token(&v, type, sizeof type))
        return;
    next_token(&v, param, sizeof param);
    unsigned bit = 0;
    if (strcmp(type, "nack") == 0)
        bit = !param[0] ? MEDIA_FB_NACK : strcmp(param, "pli") == 0 ? MEDIA_FB_PLI : 0;
    else if (strcmp(type, "ccm") == 0 && strcmp(param, "fir") == 0)
        bit = MEDIA_FB_FIR;
    else if (strcmp(type, "goog-remb") == 0)
        bit = MEDIA_FB_REMB;
    else if (strcmp(type, "transport-cc") == 0)
        bit = MEDIA_FB_TCC;
    if (strcmp(pt_s, "*") == 0) {
        for (unsigned i = 0; i < m->n_codecs; i++)
            m->codecs[i].fb |= bit;
        return;
    }
    uint32_t pt;
    struct media_sdp_codec *c = parse_u32(pt_s, &pt) ? codec_by_pt(m, pt) : NULL;
    if (c)
        c->fb |= bit;
}

static void parse_rtpmap(struct media_sdp_media *m, const char *v)
{
    uint32_t pt;
    if (!parse_u32(v, &pt))
        return;
    struct media_sdp_codec *c = codec_by_pt(m, pt);
    const char *sp = strchr(v, ' ');
    if (!c || !sp)
        return;
    char enc[64];
    const char *q = sp;
    if (!next_token(&q, enc, sizeof enc))
        return;
    char *slash = strchr(enc, '/');
    if (!slash)
        return;
    *slash = '\0';
    copy_str(c->name, sizeof c->name, enc);
    uint32_t clock = 0, ch = 0;
    if (!parse_u32(slash + 1, &clock))
        return;
    c->clock = clock;
    char *slash2 = strchr(slash + 1, '/');
    if (slash2 && parse_u32(slash2 + 1, &ch) && ch < 256)
        c->channels = (uint8_t)ch;
}

static void parse_fmtp(struct media_sdp_media *m, const char *v)
{
    uint32_t pt;
    const char *sp = strchr(v, ' ');
    struct media_sdp_codec *c = parse_u32(v, &pt) ? codec_by_pt(m, pt) : NULL;
    if (c && sp)
        copy_str(c->fmtp, sizeof c->fmtp, sp + 1);
}

static void parse_extmap(struct media_sdp_media *m, const char *v)
{
    uint32_t id;
    char uri[96];
    const char *sp = strchr(v, ' ');
    if (!parse_u32(v, &id) || id < 1 || id > 255 || !sp || m->n_exts == MEDIA_SDP_MAX_EXTS)
        return;
    if (!next_token(&sp, uri, sizeof uri))
        return;
    m->exts[m->n_exts].id = (uint8_t)id;
    copy_str(m->exts[m->n_exts].uri, sizeof m->exts[0].uri, uri);
    m->n_exts++;
}

static void parse_ssrc(struct media_sdp_media *m, const char *v)
{
    uint32_t ssrc;
    if (!parse_u32(v, &ssrc))
        return;
    for (unsigned i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i] == ssrc)
            return;
    if (m->n_ssrcs < MEDIA_SDP_MAX_SSRCS)
        m->ssrcs[m->n_ssrcs++] = ssrc;
}

static void parse_ssrc_group(struct media_sdp_media *m, const char *v)
{
    char sem[16], a[16], b[16];
    uint32_t x, y;
    if (next_token(&v, sem, sizeof sem) && strcmp(sem, "FID") == 0 && next_token(&v, a, sizeof a) &&
        next_token(&v, b, sizeof b) && parse_u32(a, &x) && parse_u32(b, &y)) {
        m->fid[0] = x;
        m->fid[1] = y;
    }
}

static int parse_m_line(struct media_sdp *sdp, const char *v, int lineno, char *err, size_t cap)
{
    if (sdp->n_media == MEDIA_SDP_MAX_MEDIA)
        return bad(err, cap, "line %d: more than %d m-lines", lineno, MEDIA_SDP_MAX_MEDIA);
    struct media_sdp_media *m = &sdp->media[sdp->n_media];
    memset(m, 0, sizeof *m);
    char port[16], fmt[32];
    if (!next_token(&v, m->kind_name, sizeof m->kind_name) || !next_token(&v, port, sizeof port) ||
        !next_token(&v, m->proto, sizeof m->proto))
        return bad(err, cap, "line %d: m-line needs media, port and proto", lineno);
    uint32_t p;
    if (!parse_u32(port, &p) || p > 65535)
        return bad(err, cap, "line %d: bad port '%s'", lineno, port);
    m->port = (uint16_t)p;
    m->kind = strcmp(m->kind_name, "audio") == 0         ? MEDIA_KIND_AUDIO
              : strcmp(m->kind_name, "video") == 0       ? MEDIA_KIND_VIDEO
              : strcmp(m->kind_name, "application") == 0 ? MEDIA_KIND_APPLICATION
                                                         : MEDIA_KIND_OTHER;
    bool first = true;
    while (next_token(&v, fmt, sizeof fmt)) {
        if (first)
            copy_str(m->fmt0, sizeof m->fmt0, fmt);
        first = false;
        uint32_t pt;
        if (m->kind == MEDIA_KIND_APPLICATION || !parse_u32(fmt, &pt) || pt > 127)
            continue;
        if (m->n_codecs < MEDIA_SDP_MAX_CODECS && !codec_by_pt(m, pt))
            m->codecs[m->n_codecs++].pt = (uint8_t)pt;
    }
    if (first)
        return bad(err, cap, "line %d: m-line without formats", lineno);
    sdp->n_media++;
    return 0;
}

/* Attributes that may be at session or media level. */
static bool parse_transport_attr(const char *name, const char *v, char *ufrag, size_t ufrag_cap,
                                 char *pwd, size_t pwd_cap, char *alg, size_t alg_cap, uint8_t *fp,
                                 size_t *fp_len, enum media_setup *setup)
{
    if (strcmp(name, "ice-ufrag") == 0)
        copy_str(ufrag, ufrag_cap, v);
    else if (strcmp(name, "ice-pwd") == 0)
        copy_str(pwd, pwd_cap, v);
    else if (strcmp(name, "fingerprint") == 0)
        parse_fingerprint_attr(v, alg, alg_cap, fp, fp_len);
    else if (strcmp(name, "setup") == 0)
        *setup = parse_setup(v);
    else
        return false;
    return true;
}

static void parse_attr(struct media_sdp *sdp, char *line)
{
    char *colon = strchr(line, ':');
    const char *v = "";
    if (colon) {
        *colon = '\0';
        v = colon + 1;
    }
    const char *name = line;
    struct media_sdp_media *m = sdp->n_media ? &sdp->media[sdp->n_media - 1] : NULL;
    if (!m) {
        if (strcmp(name, "group") == 0 && strncmp(v, "BUNDLE", 6) == 0) {
            const char *p = v + 6;
            while (sdp->n_bundle < MEDIA_SDP_MAX_MEDIA &&
                   next_token(&p, sdp->bundle[sdp->n_bundle], sizeof sdp->bundle[0]))
                sdp->n_bundle++;
        } else {
            parse_transport_attr(name, v, sdp->ice_ufrag, sizeof sdp->ice_ufrag, sdp->ice_pwd,
                                 sizeof sdp->ice_pwd, sdp->fp_alg, sizeof sdp->fp_alg, sdp->fp,
                                 &sdp->fp_len, &sdp->setup);
        }
        return;
    }
    if (parse_transport_attr(name, v, m->ice_ufrag, sizeof m->ice_ufrag, m->ice_pwd,
                             sizeof m->ice_pwd, m->fp_alg, sizeof m->fp_alg, m->fp, &m->fp_len,
                             &m->setup))
        return;
    if (strcmp(name, "mid") == 0)
        copy_str(m->mid, sizeof m->mid, v);
    else if (strcmp(name, "sendrecv") == 0)
        m->dir = MEDIA_DIR_SENDRECV;
    else if (strcmp(name, "sendonly") == 0)
        m->dir = MEDIA_DIR_SENDONLY;
    else if (strcmp(name, "recvonly") == 0)
        m->dir = MEDIA_DIR_RECVONLY;
    else if (strcmp(name, "inactive") == 0)
        m->dir = MEDIA_DIR_INACTIVE;
    else if (strcmp(name, "rtcp-mux") == 0)
        m->rtcp_mux = true;
    else if (strcmp(name, "rtcp-rsize") == 0)
        m->rtcp_rsize = true;
    else if (strcmp(name, "rtpmap") == 0)
        parse_rtpmap(m, v);
    else if (strcmp(name, "fmtp") == 0)
        parse_fmtp(m, v);
    else if (strcmp(name, "rtcp-fb") == 0)
        parse_rtcp_fb(m, v);
    else if (strcmp(name, "extmap") == 0)
        parse_extmap(m, v);
    else if (strcmp(name, "ssrc") == 0)
        parse_ssrc(m, v);
    else if (strcmp(name, "ssrc-group") == 0)
        parse_ssrc_group(m, v);
    else if (strcmp(name, "candidate") == 0) {
        /* Candidates of the bundle transport: those on the first m-line. */
        if (sdp->n_media == 1 && sdp->n_cands < MEDIA_SDP_MAX_CANDS)
            snprintf(sdp->cands[sdp->n_cands++], MEDIA_SDP_CAND_LEN, "candidate:%s", v);
    } else if (strcmp(name, "end-of-candidates") == 0)
        sdp->end_of_candidates = true;
}

int media_sdp_parse(struct media_sdp *sdp, const char *text, size_t len, char *err, size_t err_cap)
{
    memset(sdp, 0, sizeof *sdp);
    if (err && err_cap)
        err[0] = '\0';
    char line[LINE_MAX_LEN];
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        if (n >= sizeof line)
            return bad(err, err_cap, "line %d: longer than %d bytes", lineno, LINE_MAX_LEN - 1);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        if (memchr(line, '\0', n))
            return bad(err, err_cap, "line %d: NUL byte", lineno);
        if (lineno == 1 && strcmp(line, "v=0") != 0)
            return bad(err, err_cap, "line 1: expected v=0");
        if (n == 0)
            continue;
        if (n < 2 || line[1] != '=')
            return bad(err, err_cap, "line %d: expected <type>=<value>", lineno);
        if (line[0] == 'm') {
            int rc = parse_m_line(sdp, line + 2, lineno, err, err_cap);
            if (rc)
                return rc;
        } else if (line[0] == 'a') {
            parse_attr(sdp, line + 2);
        }
    }
    if (lineno == 0)
        return bad(err, err_cap, "empty SDP");
    if (sdp->n_media == 0)
        return bad(err, err_cap, "no m-lines");
    /* JSEP puts transport attributes on every m-line; the first one's win. */
    const struct media_sdp_media *m0 = &sdp->media[0];
    if (m0->ice_ufrag[0])
        copy_str(sdp->ice_ufrag, sizeof sdp->ice_ufrag, m0->ice_ufrag);
    if (m0->ice_pwd[0])
        copy_str(sdp->ice_pwd, sizeof sdp->ice_pwd, m0->ice_pwd);
    if (m0->fp_len) {
        copy_str(sdp->fp_alg, sizeof sdp->fp_alg, m0->fp_alg);
        memcpy(sdp->fp, m0->fp, m0->fp_len);
        sdp->fp_len = m0->fp_len;
    }
    if (m0->setup != MEDIA_SETUP_NONE)
        sdp->setup = m0->setup;
    if (!sdp->ice_ufrag[0] || !sdp->ice_pwd[0])
        return bad(err, err_cap, "no a=ice-ufrag / a=ice-pwd");
    if (!sdp->fp_len)
        return bad(err, err_cap, "no a=fingerprint");
    return 0;
}

const char *media_kind_name(enum media_kind k)
{
    switch (k) {
    case MEDIA_KIND_AUDIO: return "audio";
    case MEDIA_KIND_VIDEO: return "video";
    case MEDIA_KIND_APPLICATION: return "application";
    default: return "other";
    }
}

uint8_t media_sdp_ext_id(const struct media_sdp_media *m, const char *uri)
{
    for (unsigned i = 0; i < m->n_exts; i++)
        if (strcmp(m->exts[i].uri, uri) == 0)
            return m->exts[i].id;
    return 0;
}

/* ---- choosing and writing the answer ---- */

static bool in_bundle(const struct media_sdp *o, const char *mid)
{
    for (unsigned i = 0; i < o->n_bundle; i++)
        if (strcmp(o->bundle[i], mid) == 0)
            return true;
    return false;
}

static int pick_codec(const struct media_sdp_media *m)
{
    if (m->kind == MEDIA_KIND_AUDIO) {
        for (unsigned i = 0; i < m->n_codecs; i++)
            if (strcasecmp(m->codecs[i].name, "opus") == 0 && m->codecs[i].clock == 48000)
                return (int)i;
    } else if (m->kind == MEDIA_KIND_VIDEO) {
        for (unsigned i = 0; i < m->n_codecs; i++)
            if (strcasecmp(m->codecs[i].name, "VP8") == 0)
                return (int)i;
        for (unsigned i = 0; i < m->n_codecs; i++)
            if (strcasecmp(m->codecs[i].name, "H264") == 0 &&
                strstr(m->codecs[i].fmtp, "packetization-mode=1"))
                return (int)i;
    }
    return -1;
}

unsigned media_sdp_choose(const struct media_sdp *offer, struct media_answer *a)
{
    unsigned accepted = 0;
    for (unsigned i = 0; i < offer->n_media; i++) {
        const struct media_sdp_media *m = &offer->media[i];
        struct media_answer_media *am = &a->media[i];
        memset(am, 0, sizeof *am);
        am->codec = pick_codec(m);
        /* One ICE transport: without BUNDLE only the first m-line can use it. */
        bool transport_ok = offer->n_bundle ? in_bundle(offer, m->mid) : accepted == 0;
        am->accept = am->codec >= 0 && m->port != 0 && m->mid[0] && transport_ok;
        static const enum media_dir mirror[] = {
            [MEDIA_DIR_SENDRECV] = MEDIA_DIR_SENDRECV, [MEDIA_DIR_SENDONLY] = MEDIA_DIR_RECVONLY,
            [MEDIA_DIR_RECVONLY] = MEDIA_DIR_SENDONLY, [MEDIA_DIR_INACTIVE] = MEDIA_DIR_INACTIVE};
        am->dir = mirror[m->dir];
        if (am->accept)
            accepted++;
    }
    return accepted;
}

struct out {
    char *buf;
    size_t cap, len;
    bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        return;
    }
    o->len += (size_t)n;
}

/* Header extensions an echo keeps: the MID for BUNDLE demultiplexing and the
 * audio level (RFC 6464) that the SFU will use for active-speaker detection. */
static bool ext_kept(const char *uri)
{
    return strcmp(uri, "urn:ietf:params:rtp-hdrext:sdes:mid") == 0 ||
           strcmp(uri, MEDIA_SDP_EXT_AUDIO_LEVEL) == 0;
}

static const char *dir_name(enum media_dir d)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    return names[d];
}

int media_sdp_write_answer(const struct media_sdp *offer, const struct media_answer *a, char *buf,
                           size_t cap)
{
    struct out o = {.buf = buf, .cap = cap};
    if (cap == 0)
        return -ENOSPC;
    buf[0] = '\0';
    put(&o, "v=0\r\no=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", a->session_id);
    bool any = false;
    for (unsigned i = 0; i < offer->n_media; i++)
        any |= a->media[i].accept;
    if (any) {
        put(&o, "a=group:BUNDLE");
        for (unsigned i = 0; i < offer->n_media; i++)
            if (a->media[i].accept)
                put(&o, " %s", offer->media[i].mid);
        put(&o, "\r\n");
    }
    put(&o, "a=msid-semantic: WMS %s\r\n", a->cname);
    bool first = true;
    for (unsigned i = 0; i < offer->n_media; i++) {
        const struct media_sdp_media *m = &offer->media[i];
        const struct media_answer_media *am = &a->media[i];
        if (!am->accept) {
            put(&o, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind_name, m->proto, m->fmt0);
            if (m->mid[0])
                put(&o, "a=mid:%s\r\n", m->mid);
            continue;
        }
        const struct media_sdp_codec *c = &m->codecs[am->codec];
        put(&o, "m=%s 9 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n",
            m->kind_name, c->pt);
        if (first) {
            for (unsigned k = 0; k < a->n_cands; k++)
                put(&o, "a=%s\r\n", a->cands[k]);
            put(&o, "a=end-of-candidates\r\n");
        }
        first = false;
        put(&o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:%s\r\na=mid:%s\r\n",
            a->ice_ufrag, a->ice_pwd, a->fingerprint,
            a->setup == MEDIA_SETUP_ACTIVE ? "active" : "passive", m->mid);
        for (unsigned k = 0; k < m->n_exts; k++)
            if (ext_kept(m->exts[k].uri))
                put(&o, "a=extmap:%u %s\r\n", m->exts[k].id, m->exts[k].uri);
        put(&o, "a=%s\r\n", dir_name(am->dir));
        bool sends = am->ssrc && (am->dir == MEDIA_DIR_SENDRECV || am->dir == MEDIA_DIR_SENDONLY);
        if (sends)
            put(&o, "a=msid:%s %s-%s\r\n", a->cname, m->kind_name, m->mid);
        put(&o, "a=rtcp-mux\r\n");
        if (m->rtcp_rsize)
            put(&o, "a=rtcp-rsize\r\n");
        if (c->channels)
            put(&o, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock, c->channels);
        else
            put(&o, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock);
        if (c->fb & MEDIA_FB_NACK)
            put(&o, "a=rtcp-fb:%u nack\r\n", c->pt);
        if (c->fb & MEDIA_FB_PLI)
            put(&o, "a=rtcp-fb:%u nack pli\r\n", c->pt);
        if (c->fb & MEDIA_FB_FIR)
            put(&o, "a=rtcp-fb:%u ccm fir\r\n", c->pt);
        /* REMB and not transport-cc: a browser then takes its send rate
         * cap from the REMBs the SFU sends (fwd.h) */
        if ((c->fb & MEDIA_FB_REMB) && m->kind == MEDIA_KIND_VIDEO)
            put(&o, "a=rtcp-fb:%u goog-remb\r\n", c->pt);
        if (c->fmtp[0])
            put(&o, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
        if (sends) {
            put(&o, "a=ssrc:%" PRIu32 " cname:%s\r\n", am->ssrc, a->cname);
            put(&o, "a=ssrc:%" PRIu32 " msid:%s %s-%s\r\n", am->ssrc, a->cname, m->kind_name,
                m->mid);
        }
    }
    if (o.full)
        return -ENOSPC;
    return (int)o.len;
}
