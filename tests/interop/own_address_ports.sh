#!/bin/bash
# Proves the per-datagram half of the peer policy: with relay address
# 127.0.0.1, a permission for 127.0.0.1 is granted (clients on this appliance
# relay to each other), but datagrams reach only live relay ports there: a
# local UDP service and turnd's own listening port receive nothing, while
# another allocation's relay port receives everything.
. "$(dirname "$0")/../lib/common.sh"
SINK=$((PORT + 2))
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user probe:pw

"$TURN_PROBE" sink "127.0.0.1:$SINK" --seconds 6 >"$LOGDIR/sink.log" 2>&1 &
SINK_PID=$!
PIDS+=($SINK_PID)
wait_udp "127.0.0.1:$SINK" || fail "sink did not start"
echo control >/dev/udp/127.0.0.1/$SINK # the sink itself works

"$TURN_PROBE" allocate "127.0.0.1:$PORT" --user probe:pw --permit 127.0.0.1 --hold 5 \
    >"$LOGDIR/holder.log" 2>&1 &
HOLDER_PID=$!
PIDS+=($HOLDER_PID)
for _ in $(seq 1 50); do grep -q '^relay ' "$LOGDIR/holder.log" && break; sleep 0.1; done
relay=$(sed -n 's/^relay //p' "$LOGDIR/holder.log")
[ -n "$relay" ] || fail "holder got no relay"
sleep 0.5 # its permission is installed

"$TURN_PROBE" send "127.0.0.1:$PORT" --user probe:pw --peer "127.0.0.1:$SINK" --count 5 ||
    fail "permission towards the own relay address was refused"
"$TURN_PROBE" send "127.0.0.1:$PORT" --user probe:pw --peer "127.0.0.1:$PORT" --count 5 ||
    fail "permission towards the own relay address was refused"
"$TURN_PROBE" send "127.0.0.1:$PORT" --user probe:pw --peer "$relay" --count 5 ||
    fail "send to the other relay failed"
wait $SINK_PID $HOLDER_PID
sink=$(sed -n 's/^received //p' "$LOGDIR/sink.log")
held=$(sed -n 's/^received //p' "$LOGDIR/holder.log")
echo "sink received $sink (1 = only the direct control datagram), relay $relay received $held"
[ "$sink" = 1 ] || fail "a relay reached a non-relay port on the server's own address"
[ "$held" = 5 ] || fail "the other allocation's relay port did not get all 5 datagrams"
kill -TERM "$TURND_PID"
wait "$TURND_PID" 2>/dev/null
dropped=$(sed -n 's/.*own_port_dropped=\([0-9]*\).*/\1/p' "$LOGDIR/turnd.log")
[ "${dropped:-0}" -ge 10 ] || fail "turnd counted $dropped dropped datagrams, expected >= 10"
echo "ok: own_port_dropped=$dropped"
