/*
 * metrics.c - turnd's Prometheus text (exposition format 0.0.4), one
 * renderer for the control socket's "metrics" command and for GET /metrics
 * over HTTP: the core's counters, then what the shell counts per transport
 * of the client leg (udp, tcp, tls, dtls). Runs in the loop's thread
 * between events; not on the packet path.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct tio_stat tio_stats[] = {
#define C(field, gauge, help) {#field, offsetof(struct turn_stats, field), gauge, help}
    C(allocations, true, "Allocations now."),
    C(allocations_total, false, "Allocations created since start."),
    C(permissions, true, "Permissions now."),
    C(channels, true, "Channel bindings now."),
    C(auth_failures, false, "Failed authentications."),
    C(auth_rate_limited, false, "Requests dropped after too many failed authentications."),
    C(unauth_dropped, false, "Unsigned UDP answers dropped: the address's answer budget was spent."),
    C(peer_denied, false, "Permissions, channels and sends refused by the peer policy."),
    C(own_port_dropped, false, "Datagrams to a non-relay port of this server's address."),
    C(no_permission_dropped, false, "Datagrams dropped for want of a permission."),
    C(alternate_redirects, false, "Allocate requests answered 300 Try Alternate."),
    C(quota_rejections, false, "Allocate requests answered 486 or 508."),
    C(bandwidth_dropped_packets, false, "Datagrams dropped over a bandwidth limit."),
    C(bandwidth_dropped_bytes, false, "Bytes dropped over a bandwidth limit."),
    C(malformed, false, "Malformed messages."),
    C(client_to_peer_packets, false, "Datagrams relayed from clients to peers."),
    C(client_to_peer_bytes, false, "Bytes relayed from clients to peers."),
    C(peer_to_client_packets, false, "Datagrams relayed from peers to clients."),
    C(peer_to_client_bytes, false, "Bytes relayed from peers to clients."),
    C(tcp_connections, true, "RFC 6062 peer connections of TCP allocations now."),
    C(tcp_connections_total, false, "RFC 6062 peer connections made or accepted since start."),
    C(tcp_connect_failures, false, "Connect requests answered 447."),
    C(tcp_refused, false, "Peer connections to a TCP relay refused: no permission or quota."),
#undef C
};
const size_t tio_n_stats = sizeof(tio_stats) / sizeof(tio_stats[0]);

static const char *const transport_names[TIO_TRANSPORTS] = {"udp", "tcp", "tls", "dtls"};

uint64_t tio_stat_value(const struct turn_stats *st, size_t i)
{
    uint64_t v;
    memcpy(&v, (const char *)st + tio_stats[i].offset, sizeof(v));
    return v;
}

static enum tio_transport transport_of(const struct tio_server *s, const struct turn_session *t)
{
    const struct tio_sock *sock = (unsigned)t->handle < s->max_fd ? s->by_fd[t->handle] : NULL;
    if (!t->stream) return sock && sock->kind == SOCK_DTLS_LISTENER ? TIO_DTLS : TIO_UDP;
    return sock && sock->kind == SOCK_CONN && tio_conn_is_tls(sock) ? TIO_TLS : TIO_TCP;
}

const char *tio_session_transport(const struct tio_server *s, const struct turn_session *t)
{
    return transport_names[transport_of(s, t)];
}

struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        if (t->failed) return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        char *more = realloc(t->buf, t->cap * 2 + (size_t)n);
        if (!more) {
            t->failed = true;
            return;
        }
        t->buf = more;
        t->cap = t->cap * 2 + (size_t)n;
    }
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP lanturn_turnd_%s %s\n# TYPE lanturn_turnd_%s %s\n", name, help, name, type);
}

static void one(struct text *t, const char *name, const char *type, const char *help,
                uint64_t v)
{
    head(t, name, type, help);
    put(t, "lanturn_turnd_%s %llu\n", name, (unsigned long long)v);
}

/* One sample per transport, from `first` on (the stream-only series skip udp). */
static void by_transport(struct text *t, const char *name, const char *type, const char *help,
                         const uint64_t v[TIO_TRANSPORTS], enum tio_transport first)
{
    head(t, name, type, help);
    for (int i = first; i < TIO_TRANSPORTS; i++)
        put(t, "lanturn_turnd_%s{transport=\"%s\"} %llu\n", name, transport_names[i],
            (unsigned long long)v[i]);
}

struct walk {
    const struct tio_server *s;
    uint64_t n[TIO_TRANSPORTS];
};

static void count_alloc(void *arg, const struct turn_session *t)
{
    struct walk *w = arg;
    w->n[transport_of(w->s, t)]++;
}

char *tio_metrics_render(const struct tio_server *s, size_t *len)
{
    struct text t = {malloc(8192), 0, 8192, false};
    if (!t.buf) return NULL;
    struct turn_stats st;
    uint64_t send_errors, msgs[TIO_TRANSPORTS], bytes[TIO_TRANSPORTS];
    tio_workers_totals(s, &st, &send_errors, msgs, bytes);
    for (size_t i = 0; i < tio_n_stats; i++) {
        const char *name = tio_stats[i].name;
        size_t nl = strlen(name);
        bool has_total = nl > 6 && !strcmp(name + nl - 6, "_total");
        char full[96];
        snprintf(full, sizeof(full), "%s%s", name,
                 tio_stats[i].gauge || has_total ? "" : "_total");
        one(&t, full, tio_stats[i].gauge ? "gauge" : "counter", tio_stats[i].help,
            tio_stat_value(&st, i));
    }

    struct walk w = {s, {0}};
    struct tio_server *const *list;
    for (unsigned i = 0, nw = tio_workers_list(s, &list); i < nw; i++) {
        w.s = list[i];
        if (turn_core_sessions(list[i]->core, tio_now_ms(), count_alloc, &w) != 0) t.failed = true;
    }
    by_transport(&t, "allocations_by_transport", "gauge",
                 "Allocations now, by the transport of their client leg.", w.n, TIO_UDP);
    by_transport(&t, "client_messages_total", "counter",
                 "STUN and ChannelData messages received from clients, by transport.",
                 msgs, TIO_UDP);
    by_transport(&t, "client_bytes_total", "counter",
                 "Bytes of those messages (DTLS: decrypted), by transport.", bytes,
                 TIO_UDP);
    struct tio_dtls_stats d;
    tio_dtls_stats(s, &d);
    uint64_t conns[TIO_TRANSPORTS] = {0};
    unsigned tcp, tls;
    tio_conns_count(s, &tcp, &tls);
    conns[TIO_TCP] = tcp;
    conns[TIO_TLS] = tls;
    conns[TIO_DTLS] = d.sessions;
    by_transport(&t, "connections", "gauge",
                 "Client connections now (DTLS: sessions, handshaking ones included).", conns,
                 TIO_TCP);
    one(&t, "connections_total", "counter", "TCP and TLS connections accepted since start.",
        s->conns_total);
    one(&t, "connections_refused_total", "counter",
        "TCP and TLS connections refused at max_connections.", s->conns_refused);
    one(&t, "dtls_sessions_total", "counter", "DTLS sessions started after a valid cookie.",
        d.sessions_total);
    one(&t, "dtls_hello_verify_requests_total", "counter",
        "Cookie-less DTLS ClientHellos answered with a HelloVerifyRequest and no state.",
        d.hello_verify_requests);
    one(&t, "dtls_handshakes_total", "counter", "DTLS handshakes completed.", d.handshakes);
    one(&t, "dtls_handshake_failures_total", "counter", "DTLS handshakes failed or timed out.",
        d.handshake_failures);
    one(&t, "dtls_refused_total", "counter", "DTLS ClientHellos ignored at max_dtls_sessions.",
        d.refused);
    one(&t, "dtls_send_dropped_total", "counter",
        "Messages for a DTLS client without a live session, dropped.", d.send_dropped);
    one(&t, "send_errors_total", "counter", "Datagrams to clients or peers the kernel refused.",
        send_errors);
    uint64_t handoffs = 0;
    for (unsigned i = 0, nw = tio_workers_list(s, &list); i < nw; i++)
        handoffs += list[i]->handoffs;
    one(&t, "worker_handoffs_total", "counter",
        "Datagrams one worker handed to another for its relay address (workers > 1).", handoffs);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}
