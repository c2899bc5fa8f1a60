#!/bin/bash
# Proves: turnd answers 403 to CreatePermission and ChannelBind for every peer
# form that would turn a relay into a way into the appliance or its LAN
# (loopback, this-network, link-local incl. the metadata address, multicast,
# broadcast, its own non-relay addresses, and IPv4 hidden in IPv6), obeys
# admin deny/allow rules, and logs each refusal.
# Runs in a network namespace of its own so the server has real, non-loopback
# relay addresses (10.99.0.1, fd99::1) and 127.0.0.1/::1 are plain loopback.
. "$(dirname "$0")/../lib/common.sh"
make_lab_netns lt-denied-$$

# not through in_ns: a function would run in a subshell whose PID, not turnd's, ends up in PIDS
ip netns exec "$NS" "$TURND" --listen "10.99.0.1:$PORT" --listen "[fd99::1]:$PORT" --relay-ip 10.99.0.1 \
    --relay-ip fd99::1 --relay-ports "$RELAY_LO-$RELAY_HI" --user probe:pw \
    --deny-peer 10.9.0.0/16 --allow-peer 127.0.0.5/32 --log-level debug >"$LOGDIR/turnd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do in_ns ss -Hlun | grep -q "10.99.0.1:$PORT" && break; sleep 0.05; done

denied4=(0.0.0.0 0.1.2.3 127.0.0.1 127.1.2.3 169.254.169.254 224.0.0.1 239.255.255.250
         255.255.255.255 10.99.0.5 10.9.1.1)
denied6=(:: ::1 ::ffff:127.0.0.1 ::127.0.0.1 ::ffff:169.254.169.254 ::ffff:10.8.1.1
         64:ff9b::7f00:1 2002:7f00:1::1 fe80::1 ff02::1 fd99::5)
allowed4=(10.8.1.1 127.0.0.5 192.168.1.20 10.99.0.1)
allowed6=(fd00::20 2001:db8::1 fd99::1)

probe() { in_ns "$TURN_PROBE" permission "$@"; }
for how in "" --channel; do
    out=$(probe "10.99.0.1:$PORT" --user probe:pw $how --expect 403 "${denied4[@]/%/:5000}") ||
        fail "IPv4 ${how:-CreatePermission}: not all refused:"$'\n'"$out"
    echo "$out"
    out=$(probe "[fd99::1]:$PORT" --user probe:pw --family 6 $how --expect 403 \
        $(for a in "${denied6[@]}"; do echo "[$a]:5000"; done)) ||
        fail "IPv6 ${how:-CreatePermission}: not all refused:"$'\n'"$out"
    echo "$out"
    out=$(probe "10.99.0.1:$PORT" --user probe:pw $how "${allowed4[@]/%/:5000}") ||
        fail "IPv4 ${how:-CreatePermission}: an allowed peer was refused:"$'\n'"$out"
    echo "$out"
    out=$(probe "[fd99::1]:$PORT" --user probe:pw --family 6 $how \
        $(for a in "${allowed6[@]}"; do echo "[$a]:5000"; done)) ||
        fail "IPv6 ${how:-CreatePermission}: an allowed peer was refused:"$'\n'"$out"
    echo "$out"
done
want=$((2 * (${#denied4[@]} + ${#denied6[@]})))
got=$(grep -c "event=peer_denied" "$LOGDIR/turnd.log")
[ "$got" = "$want" ] || fail "expected $want peer_denied log lines, found $got"
made=$(grep -c "event=alloc_created" "$LOGDIR/turnd.log")
freed=$(grep -c "event=alloc_deleted.*reason=refresh-0" "$LOGDIR/turnd.log")
[ "$made" = "$freed" ] || fail "turn-probe made $made allocations but gave back $freed"
echo "ok: $want refusals, each logged; allowed peers accepted; $made allocations given back"
