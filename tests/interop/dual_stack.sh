#!/bin/bash
# Proves: a dual-stack allocation (RFC 8656 §7.2, ADDITIONAL-ADDRESS-FAMILY)
# gets a real IPv4 and a real IPv6 relayed address, relays a client's
# ChannelData and Send indications to a peer of each family over the relay of
# that family, brings an IPv6 peer's datagrams back to the client, that a
# server without an IPv6 relay address grants IPv4 with ADDRESS-ERROR-CODE 440,
# and that an RFC 6062 TCP relay of the IPv6 family reaches an IPv6 TCP peer;
# the control socket's session list shows both relayed addresses.
# Runs in a network namespace of its own (addresses 10.99.0.1/.5, fd99::1/::5).
. "$(dirname "$0")/../lib/control.sh"
SOCK=$LOGDIR/turnd.sock
make_lab_netns lt-dual-$$
SINK_PORT=$((PORT + 1))
PORT2=$((PORT + 2))
HALF=$(((RELAY_LO + RELAY_HI) / 2))

# The peers are this host's own addresses: allowed by exact host rules.
ip netns exec "$NS" "$TURND" --listen "10.99.0.1:$PORT" --relay-ip 10.99.0.1 --relay-ip fd99::1 \
    --relay-ports "$RELAY_LO-$HALF" --user probe:pw --allow-peer 10.99.0.5/32 \
    --allow-peer fd99::5/128 --log-level debug --control-socket "$SOCK" >"$LOGDIR/turnd.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS" "$TURND" --listen "10.99.0.1:$PORT2" --relay-ip 10.99.0.1 \
    --relay-ports "$((HALF + 1))-$RELAY_HI" --user probe:pw --log-level debug --control-socket "" \
    >"$LOGDIR/turnd-v4only.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    in_ns ss -Hlun | grep -q "10.99.0.1:$PORT " && in_ns ss -Hlun | grep -q "10.99.0.1:$PORT2 " && break
    sleep 0.05
done

COUNT=20
sinks() {
    SINK_PIDS=()
    for addr in "10.99.0.5:$SINK_PORT" "[fd99::5]:$SINK_PORT"; do
        ip netns exec "$NS" "$TURN_PROBE" sink "$addr" --seconds 4 >"$LOGDIR/sink-$1-${addr%%]*}.out" 2>&1 &
        PIDS+=($!)
        SINK_PIDS+=($!)
    done
    for _ in $(seq 1 100); do
        [ "$(in_ns ss -Hlun | grep -c ":$SINK_PORT ")" = 2 ] && break
        sleep 0.05
    done
}

for how in "" --channel; do
    name=${how:-send}
    name=${name#--}
    sinks "$name"
    out=$(in_ns "$TURN_PROBE" send "10.99.0.1:$PORT" --user probe:pw --dual $how --count $COUNT \
        --peer "10.99.0.5:$SINK_PORT" --peer "[fd99::5]:$SINK_PORT") || fail "dual $name: $out"
    echo "$out"
    echo "$out" | grep -q '^relay 10\.99\.0\.1:' || fail "dual $name: no IPv4 relayed address"
    echo "$out" | grep -q '^relay \[fd99::1\]:' || fail "dual $name: no IPv6 relayed address"
    for p in "${SINK_PIDS[@]}"; do wait "$p"; done
    for f in "$LOGDIR/sink-$name-"*.out; do
        grep -qx "received $COUNT" "$f" || fail "dual $name: $(basename "$f") says $(cat "$f")"
    done
done

# Back from an IPv6 peer: it sends to the IPv6 relayed address, the client
# gets Data indications on its IPv4 connection to the server.
in_ns "$TURN_PROBE" allocate "10.99.0.1:$PORT" --user probe:pw --dual --permit fd99::5 --hold 3 \
    >"$LOGDIR/allocate.out" 2>&1 &
ALLOC_PID=$!
PIDS+=($!)
relay6=
for _ in $(seq 1 100); do
    relay6=$(sed -n 's/^relay \[fd99::1\]:\([0-9]*\)$/\1/p' "$LOGDIR/allocate.out")
    [ -n "$relay6" ] && break
    sleep 0.05
done
[ -n "$relay6" ] || fail "allocate --dual printed no IPv6 relay: $(cat "$LOGDIR/allocate.out")"
relay4=$(sed -n 's/^relay 10\.99\.0\.1:\([0-9]*\)$/\1/p' "$LOGDIR/allocate.out")
relays=$(ctl_field '{"cmd":"sessions"}' '" ".join(r["sessions"][0]["relays"])')
[ "$relays" = "10.99.0.1:$relay4 [fd99::1]:$relay6" ] ||
    fail "the session list shows relays '$relays', not 10.99.0.1:$relay4 [fd99::1]:$relay6"
echo "ok: the session list shows both relayed addresses: $relays"
sleep 0.3 # the permission follows the Allocate answer
in_ns python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd99::5", 0))
for i in range(5):
    s.sendto(b"from the ipv6 peer %d" % i, ("fd99::1", int(sys.argv[1]))); time.sleep(0.01)' "$relay6"
wait "$ALLOC_PID"
grep -qx "received 5" "$LOGDIR/allocate.out" ||
    fail "IPv6 peer to IPv4 client: $(cat "$LOGDIR/allocate.out")"

# An IPv6 TCP relay (REQUESTED-ADDRESS-FAMILY IPv6 over a TCP control
# connection on IPv4) to an IPv6 TCP peer: Connect, ConnectionBind, 1 MB each way.
out=$(in_ns timeout 60 python3 "$(dirname "$0")/tcp_peer.py" "10.99.0.1:$PORT" probe:pw fd99::5 1000000) ||
    fail "IPv6 TCP relay: $out"
echo "$out"
echo "$out" | grep -q '^relay fd99::1:' || fail "the TCP relay is not on the IPv6 relay address"

# Without an IPv6 relay address: IPv4 only, and why.
out=$(in_ns "$TURN_PROBE" allocate "10.99.0.1:$PORT2" --user probe:pw --dual) ||
    fail "dual allocate on an IPv4-only server: $out"
echo "$out"
[ "$(echo "$out" | grep -c '^relay ')" = 1 ] || fail "IPv4-only server: expected one relayed address"
echo "$out" | grep -qx 'address-error 6 440' || fail "IPv4-only server: no ADDRESS-ERROR-CODE 440"
grep -q 'event=alloc_created.*relay=10\.99\.0\.1:[0-9]*,\[fd99::1\]:' "$LOGDIR/turnd.log" ||
    fail "turnd did not log a dual-stack allocation"
echo "ok: dual-stack relays to IPv4 and IPv6 peers ($COUNT each, indications and channels)," \
    "IPv6 peer data reaches the client, IPv4-only server answers 440 for IPv6"
