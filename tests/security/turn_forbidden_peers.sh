#!/bin/bash
# Proves: no TURN path reaches a forbidden place. In a network namespace of
# its own (relay addresses 10.99.0.1 and fd99::1, plain loopback) with the
# appliance's other services listening (a real signald on 127.0.0.1:443 and
# :3000), every dangerous peer form is tried through CreatePermission,
# ChannelBind, Send indications and ChannelData (sent even after the refusal),
# and RFC 6062 Connect:
#  - CreatePermission and ChannelBind get 403, each refusal logged;
#  - the server's own relay address may be permitted (clients of one
#    appliance relay to each other), but its non-relay ports never get a
#    datagram: counted as own_port_dropped;
#  - UDP sinks on every port involved (any local address, both families)
#    receive nothing, and signald still answers;
#  - Connect is refused: over UDP (no TCP allocation there), and from real
#    RFC 6062 TCP allocations with 403 for every forbidden peer, each refusal
#    logged, and a TCP listener on those ports never sees a connection.
. "$(dirname "$0")/../lib/common.sh"
make_lab_netns lt-sec-peers-$$
TP=3478 # the namespace is ours: the real ports

# The appliance's chat service on its real ports, on loopback.
make_cert "$LOGDIR/cert"
rm -rf "$LOGDIR/data"
printf 'correct horse battery\n' >"$LOGDIR/pw"
"$SIGNALD" user add admin --admin --password-file "$LOGDIR/pw" -d "$LOGDIR/data" --scrypt-n 16384 >/dev/null ||
    fail "signald user add"
ip netns exec "$NS" "$SIGNALD" -d "$LOGDIR/data" --listen 127.0.0.1:443 --ws-listen 127.0.0.1:3000 \
    --tls-cert "$LOGDIR/cert/cert.pem" --tls-key "$LOGDIR/cert/key.pem" --control-socket "" \
    --scrypt-n 16384 >"$LOGDIR/signald.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS" "$TURND" --listen "10.99.0.1:$TP" --listen "[fd99::1]:$TP" --listen "127.0.0.1:$TP" \
    --relay-ip 10.99.0.1 --relay-ip fd99::1 --relay-ports "$RELAY_LO-$RELAY_HI" --user probe:pw \
    --log-level debug >"$LOGDIR/turnd.log" 2>&1 &
TURND_PID=$!
PIDS+=($!)
# UDP sinks on [::] catch a datagram to any local address of either family.
SINK_PORTS=(80 443 3000 5000 8443)
SINK_PIDS=()
for p in "${SINK_PORTS[@]}"; do
    ip netns exec "$NS" "$TURN_PROBE" sink "[::]:$p" --seconds 25 >"$LOGDIR/sink-$p.out" 2>&1 &
    PIDS+=($!)
    SINK_PIDS+=($!)
done
for _ in $(seq 1 100); do
    in_ns ss -Hlun | grep -q "10.99.0.1:$TP" && in_ns ss -Hltn | grep -q "127.0.0.1:443" &&
        in_ns ss -Hlun | grep -q ":8443" && break
    sleep 0.05
done
in_ns curl -skf https://127.0.0.1:443/healthz >/dev/null || fail "signald is not answering in the namespace"

# A TCP listener on [::] counts connections from anywhere, either family.
TCP_SINK=2222
ip netns exec "$NS" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1]))); s.listen(16); s.settimeout(0.2)
n, end = 0, time.monotonic() + 20
while time.monotonic() < end:
    try:
        s.accept()[0].close(); n += 1
    except socket.timeout:
        pass
print("accepted", n)' "$TCP_SINK" >"$LOGDIR/tcp-sink.out" 2>&1 &
PIDS+=($!)
TCP_SINK_PID=$!

# Refused at CreatePermission/ChannelBind.
denied4=(0.0.0.0:5000 127.0.0.1:443 127.0.0.1:3000 127.0.0.1:8443 "127.0.0.1:$TP" 127.1.2.3:5000
         169.254.169.254:80 224.0.0.1:5000 255.255.255.255:5000 10.99.0.5:5000 10.99.0.5:443)
denied6=("[::]:5000" "[::1]:3000" "[::1]:443" "[::ffff:127.0.0.1]:3000" "[::127.0.0.1]:443"
         "[::ffff:169.254.169.254]:80" "[64:ff9b::7f00:1]:3000" "[2002:7f00:1::1]:443" "[fe80::1]:5000"
         "[ff02::1]:5000" "[fd99::5]:8443")
# Permitted (the relay address) but only live relay ports may receive.
own4=(10.99.0.1:443 10.99.0.1:3000 10.99.0.1:8443 "10.99.0.1:$TP")
own6=("[fd99::1]:443" "[fd99::1]:3000" "[fd99::1]:$TP")

probe() { in_ns "$TURN_PROBE" "$@"; }
for how in "" --channel; do
    out=$(probe permission "10.99.0.1:$TP" --user probe:pw $how --expect 403 "${denied4[@]}") ||
        fail "IPv4 ${how:-CreatePermission}: not all refused:"$'\n'"$out"
    echo "$out"
    out=$(probe permission "[fd99::1]:$TP" --user probe:pw --family 6 $how --expect 403 "${denied6[@]}") ||
        fail "IPv6 ${how:-CreatePermission}: not all refused:"$'\n'"$out"
    echo "$out"
done

COUNT=5
sent_own=0
for how in "" --channel; do
    for peer in "${denied4[@]}" "${denied6[@]}"; do
        case $peer in \[*) srv="[fd99::1]:$TP" ;; *) srv="10.99.0.1:$TP" ;; esac
        out=$(probe send "$srv" --user probe:pw --peer "$peer" --count $COUNT $how --force) ||
            fail "send $how to $peer: $out"
        echo "$out" | grep -q ': 403 ' || fail "send $how to $peer: the permission was not refused: $out"
    done
    for peer in "${own4[@]}" "${own6[@]}"; do
        case $peer in \[*) srv="[fd99::1]:$TP" ;; *) srv="10.99.0.1:$TP" ;; esac
        out=$(probe send "$srv" --user probe:pw --peer "$peer" --count $COUNT $how) ||
            fail "send $how to $peer: the relay address was not permitted: $out"
        sent_own=$((sent_own + COUNT))
    done
done
echo "sent $COUNT Send indications and $COUNT ChannelData to each of" \
    "$(( ${#denied4[@]} + ${#denied6[@]} + ${#own4[@]} + ${#own6[@]} )) forbidden destinations"

out=$(in_ns python3 "$(dirname "$0")/stun_attack.py" connect "10.99.0.1:$TP" probe:pw 127.0.0.1:443 \
    127.0.0.1:3000 10.99.0.1:443 10.99.0.5:22) || fail "RFC 6062 Connect: $out"
echo "$out"
# RFC 6062 Connect from TCP allocations of each family: the peer policy
# decides before any connection is tried.
tcp4=(127.0.0.1:443 127.0.0.1:3000 "127.0.0.1:$TCP_SINK" "127.0.0.1:$TP" 169.254.169.254:80
      0.0.0.0:80 224.0.0.1:80 "10.99.0.1:$TCP_SINK" 10.99.0.1:443 "10.99.0.1:$TP" "10.99.0.5:$TCP_SINK")
tcp6=("[::1]:443" "[::1]:$TCP_SINK" "[::ffff:127.0.0.1]:$TCP_SINK" "[::127.0.0.1]:443"
      "[64:ff9b::7f00:1]:$TCP_SINK" "[::ffff:169.254.169.254]:80" "[fe80::1]:80" "[fd99::1]:$TCP_SINK"
      "[fd99::5]:$TCP_SINK")
out=$(in_ns python3 "$(dirname "$0")/stun_attack.py" connect-tcp "10.99.0.1:$TP" probe:pw "${tcp4[@]}") ||
    fail "RFC 6062 Connect over TCP (IPv4): $out"
echo "$out"
out=$(in_ns python3 "$(dirname "$0")/stun_attack.py" connect-tcp "[fd99::1]:$TP" probe:pw "${tcp6[@]}") ||
    fail "RFC 6062 Connect over TCP (IPv6): $out"
echo "$out"

in_ns curl -skf https://127.0.0.1:443/healthz >/dev/null || fail "signald stopped answering"
kill -TERM "$TURND_PID"
for _ in $(seq 1 50); do kill -0 "$TURND_PID" 2>/dev/null || break; sleep 0.1; done
# The sinks count: one datagram sent to port 5000 directly must be the only one seen.
in_ns bash -c 'echo control >/dev/udp/127.0.0.1/5000'
for p in "${SINK_PIDS[@]}"; do wait "$p"; done
summary=$(grep 'event=stopped' "$LOGDIR/turnd.log") || fail "no stop summary from turnd"
echo "$summary"
for p in "${SINK_PORTS[@]}"; do
    want=0
    [ "$p" = 5000 ] && want=1
    grep -qx "received $want" "$LOGDIR/sink-$p.out" ||
        fail "UDP port $p: expected $want datagram(s), sink says: $(cat "$LOGDIR/sink-$p.out")"
done
dropped=$(echo "$summary" | sed -n 's/.*own_port_dropped=\([0-9]*\).*/\1/p')
relayed=$(echo "$summary" | sed -n 's/.*client_to_peer_packets=\([0-9]*\).*/\1/p')
[ "$dropped" = "$sent_own" ] || fail "own_port_dropped=$dropped, expected $sent_own"
[ "$relayed" = 0 ] || fail "client_to_peer_packets=$relayed: something was relayed"
want=$((2 * (${#denied4[@]} + ${#denied6[@]}) * 2))
got=$(grep "event=peer_denied" "$LOGDIR/turnd.log" | grep -vc "method=0x00a")
[ "$got" = "$want" ] || fail "expected $want peer_denied log lines, found $got"
want_tcp=$(( ${#tcp4[@]} + ${#tcp6[@]} ))
got=$(grep "event=peer_denied" "$LOGDIR/turnd.log" | grep -c "method=0x00a")
[ "$got" = "$want_tcp" ] || fail "expected $want_tcp Connect refusals logged, found $got"
grep -q "event=tcp_connect" "$LOGDIR/turnd.log" && fail "turnd tried a forbidden TCP connection"
wait "$TCP_SINK_PID"
grep -qx "accepted 0" "$LOGDIR/tcp-sink.out" ||
    fail "the TCP listener saw connections: $(cat "$LOGDIR/tcp-sink.out")"
echo "ok: $want refusals and $want_tcp Connect refusals logged; $dropped datagrams to the server's own ports dropped; nothing relayed or connected"
