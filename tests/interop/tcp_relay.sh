#!/bin/bash
# Proves: RFC 6062 TCP allocations work against clients and peers nobody here
# wrote.
#   uclient, uclient-tls: coturn's turnutils_uclient -T (five client pairs,
#     each a TCP allocation that Connects to the other's relayed address,
#     ConnectionAttempt, ConnectionBind, data both ways) over TCP or TLS with
#     zero loss;
#   peers: tcp_peer.py with TCP peers (Connect + 8 MiB each way, 447, the peer
#     connecting in, 32 MiB each way to a reader that pauses (backpressure),
#     close following close, the 30 s unbound timeout);
#   bandwidth: alloc_bandwidth = 200000 bytes/s holds a TCP relay to its
#     budget too: 400 kB each way (800 kB through the relay) take at least
#     3 s (one second of burst, then the rate) and arrive whole.
# usage: tcp_relay.sh uclient|uclient-tls|peers|bandwidth
. "$(dirname "$0")/../lib/common.sh"
MODE=${1:?mode}
TLS_PORT=$((PORT + 5))
tls=()
if [ "$MODE" = uclient-tls ]; then
    make_cert "$LOGDIR/tls"
    tls=(--tls-cert "$LOGDIR/tls/cert.pem" --tls-key "$LOGDIR/tls/key.pem" --tls-listen "127.0.0.1:$TLS_PORT")
fi
conf=()
if [ "$MODE" = bandwidth ]; then
    echo 'turnd: { alloc_bandwidth = 200000; };' >"$LOGDIR/turnd.conf"
    conf=(--config "$LOGDIR/turnd.conf")
fi
start_turnd turnd "${conf[@]}" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --realm interop \
    --user alice:wonderland --allow-peer 127.0.0.1/32 --control-socket "" "${tls[@]}"
wait_tcp "127.0.0.1:$PORT" || fail "turnd does not listen on TCP"

case "$MODE" in
uclient | uclient-tls)
    args=(-T -m 5)
    server_port=$PORT
    if [ "$MODE" = uclient-tls ]; then
        wait_tcp "127.0.0.1:$TLS_PORT" || fail "turnd does not listen on TLS"
        args+=(-S)
        server_port=$TLS_PORT
    fi
    timeout 90 turnutils_uclient "${args[@]}" -u alice -w wonderland -p "$server_port" -n 30 -l 200 \
        127.0.0.1 >"$LOGDIR/uclient.log" 2>&1
    rc=$?
    verdict=$(uclient_ok "$LOGDIR/uclient.log") || fail "uclient -T lost data ($verdict, rc=$rc)"
    [ $rc = 0 ] || fail "uclient -T exited $rc"
    echo "mode=$MODE $verdict"
    # The data really went through TCP relays and spliced connections.
    allocs=$(grep -c "event=alloc_created.*transport=tcp" "$LOGDIR/turnd.log")
    connects=$(grep -c "event=tcp_connected" "$LOGDIR/turnd.log")
    incoming=$(grep -c "event=tcp_incoming" "$LOGDIR/turnd.log")
    echo "tcp allocations=$allocs connects=$connects incoming=$incoming"
    [ "$allocs" -ge 2 ] && [ "$connects" -ge 5 ] && [ "$incoming" = "$connects" ] ||
        fail "expected TCP allocations and, for 5 pairs, as many ConnectionAttempts as Connects"
    grep -q "event=tcp_connect_failed" "$LOGDIR/turnd.log" && fail "a Connect failed"
    ;;
peers)
    timeout 150 python3 "$(dirname "$0")/tcp_peer.py" "127.0.0.1:$PORT" alice:wonderland 127.0.0.1 ||
        fail "tcp_peer.py"
    ;;
bandwidth)
    out=$(timeout 60 python3 "$(dirname "$0")/tcp_peer.py" "127.0.0.1:$PORT" alice:wonderland \
        127.0.0.1 400000) || fail "tcp_peer.py under a bandwidth limit: $out"
    echo "$out"
    secs=$(echo "$out" | sed -n 's/^seconds \([0-9.]*\)$/\1/p')
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 2.5 else 1)" "${secs:-0}" ||
        fail "800 kB through a 200 kB/s TCP relay took ${secs:-?} s: the limit did not hold"
    kill -TERM "$TURND_PID"
    for _ in $(seq 1 50); do kill -0 "$TURND_PID" 2>/dev/null || break; sleep 0.1; done
    grep 'event=stopped' "$LOGDIR/turnd.log" | grep -q 'bandwidth_dropped_packets=0' ||
        fail "a TCP relay must slow down, not drop: $(grep 'event=stopped' "$LOGDIR/turnd.log")"
    ;;
*) fail "unknown mode $MODE" ;;
esac
grep -q "ERROR: AddressSanitizer\|runtime error" "$LOGDIR/turnd.log" && fail "sanitizer report"
exit 0
