#!/bin/bash
# Proves: two libnice ICE agents (force-relay) gather relay candidates from
# turnd only, reach READY on a relay/relay pair and pass 16 KB each way intact,
# with the client leg to turnd over UDP (default), TCP or TLS:
#   libnice.sh NICE_RELAY_TEST [udp|tcp|tls]
# tcp and tls also prove from turnd's log that both allocations were made over
# two connections of that transport and that nothing was allocated otherwise.
# tls: libnice does no TLS itself in RFC 5245 mode (NICE_RELAY_TYPE_TURN_TLS
# sends plain STUN), so tls_forward.py carries each agent's connection over a
# verified TLS session to turnd's TLS port.
. "$(dirname "$0")/../lib/common.sh"
NICE_TEST=${1:?path to nice_relay_test}
MODE=${2:-udp}
case $MODE in
udp)
    start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user nice:ice-pass --no-tcp
    NICE_PORT=$PORT ;;
tcp)
    start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user nice:ice-pass
    wait_tcp "127.0.0.1:$PORT" || fail "turnd is not listening on TCP $PORT"
    NICE_PORT=$PORT ;;
tls)
    TLS_PORT=$((PORT + 1)) FWD_PORT=$((PORT + 2))
    make_cert "$LOGDIR/cert"
    start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user nice:ice-pass --no-tcp \
        --tls-cert "$LOGDIR/cert/cert.pem" --tls-key "$LOGDIR/cert/key.pem" --tls-listen "127.0.0.1:$TLS_PORT"
    wait_tcp "127.0.0.1:$TLS_PORT" || fail "turnd is not listening on TLS $TLS_PORT"
    python3 "$(dirname "$0")/tls_forward.py" "$FWD_PORT" "$TLS_PORT" "$LOGDIR/cert/cert.pem" 60 \
        >"$LOGDIR/tls_forward.log" 2>&1 &
    PIDS+=($!)
    wait_tcp "127.0.0.1:$FWD_PORT" || fail "tls_forward.py did not start"
    NICE_PORT=$FWD_PORT ;;
*) echo "usage: $0 NICE_RELAY_TEST [udp|tcp|tls]"; exit 2 ;;
esac
NICE_LOCAL_IP=127.0.0.1 timeout 30 "$NICE_TEST" 127.0.0.1 "$NICE_PORT" nice ice-pass "$MODE" 16384 \
    >"$LOGDIR/nice.log" 2>&1 || fail "libnice relay test failed"
cat "$LOGDIR/nice.log"
grep -q "RESULT: PASS" "$LOGDIR/nice.log" || fail "no PASS"
[ "$(grep -c 'ready: .*(relay/relay)' "$LOGDIR/nice.log")" = 2 ] || fail "not relay/relay on both agents"

if [ "$MODE" != udp ]; then
    opened=$(grep -c "event=conn_opened transport=$MODE " "$LOGDIR/turnd.log")
    allocs=$(grep -c "event=alloc_created " "$LOGDIR/turnd.log")
    echo "turnd: $MODE connections=$opened allocations=$allocs"
    [ "$opened" = 2 ] || fail "expected 2 $MODE connections to turnd, saw $opened"
    [ "$allocs" = 2 ] || fail "expected 2 allocations, saw $allocs"
    ! grep -q "event=tls_handshake_failed\|event=conn_garbage" "$LOGDIR/turnd.log" ||
        fail "turnd refused a connection"
fi
if [ "$MODE" = tls ]; then
    cat "$LOGDIR/tls_forward.log"
    [ "$(grep -c '^tls_forward: connection TLSv1\.[23] ' "$LOGDIR/tls_forward.log")" = 2 ] ||
        fail "expected 2 verified TLS sessions to turnd"
fi
echo "PASS: libnice relay/relay over TURN-$MODE"
