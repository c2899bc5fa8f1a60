#!/bin/bash
# Proves: coturn's turnutils_uclient, a TURN client nobody here wrote, relays
# through turnd with zero loss in the given mode.
# usage: uclient.sh MODE   (see the case below; "wrong-password" must fail;
#                          a tcp-, tls- or dtls- prefix runs the mode over TCP,
#                          TLS or DTLS)
. "$(dirname "$0")/../lib/common.sh"
MODE=${1:?mode}
PEER_PORT=$((PORT + 1))
SECRET=interop-secret-$RANDOM
# tcp-* modes run the same session over TCP, tls-* over TLS (RFC 8656 §3.1).
TLS_PORT=$((PORT + 5))
transport=()
case "$MODE" in
tcp-*) transport=(-t); MODE=${MODE#tcp-} ;;
tls-*) transport=(-t -S); MODE=${MODE#tls-} ;;
dtls-*) transport=(-S); MODE=${MODE#dtls-} ;; # uclient: -S without -t is DTLS (RFC 7350)
esac
tls=()
if [ "${transport[*]}" = "-t -S" ] || [ "${transport[*]}" = "-S" ]; then
    make_cert "$LOGDIR/tls"
    tls=(--tls-cert "$LOGDIR/tls/cert.pem" --tls-key "$LOGDIR/tls/key.pem"
        --tls-listen "127.0.0.1:$TLS_PORT")
fi
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --realm interop \
    --user alice:wonderland --secret "$SECRET" --allow-peer 127.0.0.1/32 "${tls[@]}"
wait_tcp "127.0.0.1:$PORT" || fail "turnd does not listen on TCP"
server_port=$PORT
if [ ${#tls[@]} -gt 0 ]; then
    wait_tcp "127.0.0.1:$TLS_PORT" || fail "turnd does not listen on TLS"
    # DTLS listens beside TLS by default: the same address, over UDP.
    wait_udp "127.0.0.1:$TLS_PORT" || fail "turnd does not listen on DTLS"
    server_port=$TLS_PORT
fi
turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" >"$LOGDIR/peer.log" 2>&1 &
PIDS+=($!)
wait_udp "127.0.0.1:$PEER_PORT" || fail "turnutils_peer did not start"

auth=(-u alice -w wonderland)
peer=(-e 127.0.0.1 -r "$PEER_PORT")
expect=pass
case "$MODE" in
peer-channel) flags=("${peer[@]}") ;;               # ChannelBind + ChannelData, RTP/RTCP pairs (EVEN-PORT R + RESERVATION-TOKEN)
peer-send) flags=(-s "${peer[@]}") ;;               # Send/Data indications
peer-channel-single) flags=(-c "${peer[@]}") ;;     # one allocation per client, channels
peer-send-single) flags=(-c -s "${peer[@]}") ;;     # one allocation per client, indications
peer-padding) flags=(-D "${peer[@]}") ;;            # padded ChannelData
peer-dont-fragment) flags=(-g "${peer[@]}") ;;      # DONT-FRAGMENT
peer-ipv4-family) flags=(-X "${peer[@]}") ;;        # REQUESTED-ADDRESS-FAMILY IPv4
peer-extra-requests) flags=(-G "${peer[@]}") ;;     # repeated CreatePermission/ChannelBind
c2c) flags=(-y) ;;                                  # client to client through two relays, channels
c2c-send) flags=(-y -s) ;;                          # client to client with indications
c2c-10-pairs) flags=(-y -m 10) ;;                   # ten concurrent client pairs
secret-c2c) auth=(-u carol -W "$SECRET"); flags=(-y) ;;  # shared-secret (REST) credentials
wrong-password) auth=(-u alice -w wrong); flags=(-y); expect=fail ;;
wrong-secret) auth=(-u carol -W not-the-secret); flags=(-y); expect=fail ;;
*) fail "unknown mode $MODE" ;;
esac
limit=60
[ "$expect" = fail ] && limit=20 # over DTLS uclient retries a 401 until it is stopped
timeout $limit turnutils_uclient "${transport[@]}" "${auth[@]}" -p "$server_port" -n 30 -l 200 \
    "${flags[@]}" 127.0.0.1 >"$LOGDIR/uclient.log" 2>&1
rc=$?
case "${transport[*]}" in # the session really ran over the stream transport
-t) grep -q "event=conn_opened transport=tcp" "$LOGDIR/turnd.log" || fail "no TCP connection" ;;
"-t -S") grep -q "event=conn_opened transport=tls" "$LOGDIR/turnd.log" || fail "no TLS connection" ;;
-S) grep -q "event=conn_opened transport=dtls" "$LOGDIR/turnd.log" || fail "no DTLS session"
    if [ "$expect" = pass ]; then
        # uclient offers DTLS 1.0 on a random half of its sockets and retries
        # when turnd (DTLS 1.2 and later only) refuses; any other failure counts.
        grep "event=dtls_handshake_failed" "$LOGDIR/turnd.log" | grep -v "unsupported protocol" &&
            fail "a DTLS handshake failed"
    fi ;;
esac
if verdict=$(uclient_ok "$LOGDIR/uclient.log") && [ $rc = 0 ]; then result=pass; else result=fail; fi
echo "mode=$MODE expect=$expect result=$result rc=$rc $verdict"
[ "$result" = "$expect" ] || fail "uclient mode $MODE: expected $expect, got $result"
if [ "$expect" = fail ]; then
    grep -q "event=bad_credentials" "$LOGDIR/turnd.log" || fail "turnd did not log the bad credentials"
fi
exit 0
