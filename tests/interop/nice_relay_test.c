/*
 * nice_relay_test.c - two libnice ICE agents in one process, relay-only
 * through a TURN server, exchange a checksummed byte stream both ways.
 * Proves that an independent ICE/TURN stack allocates relays on the server,
 * installs permissions, and that data flows relay-to-relay.
 *
 * usage: nice_relay_test TURN_IP TURN_PORT USER PASS udp|tcp|tls [BYTES]
 * The transport is the client's leg to the server (NICE_RELAY_TYPE_TURN_UDP,
 * _TURN_TCP or _TURN_TLS); relays are UDP whichever it is.
 * Env NICE_LOCAL_IP: the local address to gather on (libnice skips loopback
 * interfaces when choosing by itself). Exit 0 on success.
 */
#include <agent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 1000

struct side {
    NiceAgent *agent;
    guint stream;
    gboolean gathered, ready, relay_pair;
    gsize received;
    guint32 sum_sent, sum_received;
};

static struct side sides[2];
static GMainLoop *loop;
static gsize want;
static gboolean failed;

static void exchange_candidates(void)
{
    for (int i = 0; i < 2; i++) {
        struct side *me = &sides[i], *other = &sides[1 - i];
        gchar *ufrag, *pwd;
        nice_agent_get_local_credentials(me->agent, me->stream, &ufrag, &pwd);
        nice_agent_set_remote_credentials(other->agent, other->stream, ufrag, pwd);
        GSList *cands = nice_agent_get_local_candidates(me->agent, me->stream, 1);
        int n = nice_agent_set_remote_candidates(other->agent, other->stream, 1, cands);
        printf("agent %c: %d candidates\n", 'A' + i, n);
        if (n <= 0)
            failed = TRUE;
        g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
        g_free(ufrag);
        g_free(pwd);
    }
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
    (void)agent;
    (void)stream;
    sides[GPOINTER_TO_INT(data)].gathered = TRUE;
    if (sides[0].gathered && sides[1].gathered)
        exchange_candidates();
}

static gboolean send_all(gpointer data)
{
    (void)data;
    for (int i = 0; i < 2; i++) {
        gchar buf[CHUNK];
        for (gsize off = 0; off < want; off += CHUNK) {
            gsize n = want - off < CHUNK ? want - off : CHUNK;
            for (gsize k = 0; k < n; k++) {
                buf[k] = (gchar)((off + k) * 7 + (gsize)i);
                sides[i].sum_sent += (guint8)buf[k];
            }
            if (nice_agent_send(sides[i].agent, sides[i].stream, 1, (guint)n, buf) != (gint)n)
                printf("agent %c: short send\n", 'A' + i);
            if ((off / CHUNK) % 8 == 7)
                g_usleep(1000); /* gentle pacing: UDP */
        }
    }
    return G_SOURCE_REMOVE;
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
    struct side *me = &sides[GPOINTER_TO_INT(data)];
    if (state == NICE_COMPONENT_STATE_FAILED) {
        printf("agent %c: ICE failed\n", 'A' + GPOINTER_TO_INT(data));
        failed = TRUE;
        g_main_loop_quit(loop);
        return;
    }
    if (state != NICE_COMPONENT_STATE_READY || me->ready)
        return;
    me->ready = TRUE;
    NiceCandidate *local = NULL, *remote = NULL;
    if (nice_agent_get_selected_pair(agent, stream, component, &local, &remote)) {
        gchar l[NICE_ADDRESS_STRING_LEN], r[NICE_ADDRESS_STRING_LEN];
        nice_address_to_string(&local->addr, l);
        nice_address_to_string(&remote->addr, r);
        me->relay_pair = local->type == NICE_CANDIDATE_TYPE_RELAYED &&
                         remote->type == NICE_CANDIDATE_TYPE_RELAYED;
        printf("agent %c ready: %s:%u -> %s:%u (%s)\n", 'A' + GPOINTER_TO_INT(data), l,
               nice_address_get_port(&local->addr), r, nice_address_get_port(&remote->addr),
               me->relay_pair ? "relay/relay" : "NOT relay/relay");
    }
    if (sides[0].ready && sides[1].ready)
        g_idle_add(send_all, NULL);
}

static void on_receive(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                       gpointer data)
{
    (void)agent;
    (void)stream;
    (void)component;
    struct side *me = &sides[GPOINTER_TO_INT(data)];
    for (guint k = 0; k < len; k++)
        me->sum_received += (guint8)buf[k];
    me->received += len;
    if (sides[0].received >= want && sides[1].received >= want)
        g_main_loop_quit(loop);
}

static gboolean on_timeout(gpointer data)
{
    (void)data;
    printf("timed out\n");
    failed = TRUE;
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s TURN_IP TURN_PORT USER PASS udp|tcp|tls [BYTES]\n", argv[0]);
        return 2;
    }
    const char *ip = argv[1], *user = argv[3], *pass = argv[4];
    guint port = (guint)atoi(argv[2]);
    NiceRelayType type;
    if (strcmp(argv[5], "udp") == 0)
        type = NICE_RELAY_TYPE_TURN_UDP;
    else if (strcmp(argv[5], "tcp") == 0)
        type = NICE_RELAY_TYPE_TURN_TCP;
    else if (strcmp(argv[5], "tls") == 0)
        type = NICE_RELAY_TYPE_TURN_TLS;
    else {
        fprintf(stderr, "%s: transport must be udp, tcp or tls, not '%s'\n", argv[0], argv[5]);
        return 2;
    }
    printf("relay transport: %s\n", argv[5]);
    want = argc > 6 ? strtoul(argv[6], NULL, 10) : 16384;
    loop = g_main_loop_new(NULL, FALSE);
    const char *local_ip = getenv("NICE_LOCAL_IP");
    for (int i = 0; i < 2; i++) {
        struct side *s = &sides[i];
        s->agent = nice_agent_new(g_main_loop_get_context(loop), NICE_COMPATIBILITY_RFC5245);
        g_object_set(s->agent, "controlling-mode", i == 0, "force-relay", TRUE, "ice-tcp", FALSE,
                     "upnp", FALSE, NULL);
        g_signal_connect(s->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done),
                         GINT_TO_POINTER(i));
        g_signal_connect(s->agent, "component-state-changed", G_CALLBACK(on_state),
                         GINT_TO_POINTER(i));
        if (local_ip) {
            NiceAddress a;
            nice_address_init(&a);
            nice_address_set_from_string(&a, local_ip);
            nice_agent_add_local_address(s->agent, &a);
        }
        s->stream = nice_agent_add_stream(s->agent, 1);
        nice_agent_set_relay_info(s->agent, s->stream, 1, ip, port, user, pass, type);
        nice_agent_attach_recv(s->agent, s->stream, 1, g_main_loop_get_context(loop), on_receive,
                               GINT_TO_POINTER(i));
        if (!nice_agent_gather_candidates(s->agent, s->stream)) {
            printf("gathering failed to start\n");
            return 1;
        }
    }
    g_timeout_add_seconds(20, on_timeout, NULL);
    g_main_loop_run(loop);
    gboolean sums = sides[0].sum_received == sides[1].sum_sent &&
                    sides[1].sum_received == sides[0].sum_sent;
    gboolean ok = !failed && sides[0].relay_pair && sides[1].relay_pair &&
                  sides[0].received == want && sides[1].received == want && sums;
    printf("bytes each way=%zu A got=%zu B got=%zu checksums=%s\n", want, sides[0].received,
           sides[1].received, sums ? "ok" : "MISMATCH");
    for (int i = 0; i < 2; i++)
        g_object_unref(sides[i].agent);
    g_main_loop_unref(loop);
    printf("RESULT: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
