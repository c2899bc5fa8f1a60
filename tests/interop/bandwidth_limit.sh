#!/bin/bash
# Proves: a bandwidth-limited allocation loses exactly its excess. coturn's
# turnutils_uclient sends 100 x 1000-byte datagrams at 50/s through one
# allocation to an echoing peer (100 kB/s through the relay, both directions
# together); with alloc_bandwidth = 20000 bytes/s, most are dropped, some
# get through, and turnd counts the drops.
#   bandwidth_limit.sh [alloc|user]
# user: the same 100 datagrams from two allocations of one user under
# user_bandwidth = 20000, which is one budget for both (with TURND_WORKERS=2
# too, wherever the kernel puts each allocation).
. "$(dirname "$0")/../lib/common.sh"
MODE=${1:-alloc}
PEER_PORT=$((PORT + 1))
case $MODE in
alloc) LIMIT=alloc_bandwidth CLIENTS=1 EACH=100 ;;
user) LIMIT=user_bandwidth CLIENTS=2 EACH=50 ;;
*) fail "unknown mode $MODE" ;;
esac
cat >"$LOGDIR/turnd.conf" <<CONF
turnd: { $LIMIT = 20000; };
CONF
start_turnd turnd --config "$LOGDIR/turnd.conf" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --realm interop --user alice:wonderland --allow-peer 127.0.0.1/32
turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" >"$LOGDIR/peer.log" 2>&1 &
PIDS+=($!)
wait_udp "127.0.0.1:$PEER_PORT" || fail "turnutils_peer did not start"
timeout 60 turnutils_uclient -u alice -w wonderland -p "$PORT" -e 127.0.0.1 -r "$PEER_PORT" \
    -c -s -m "$CLIENTS" -n "$EACH" -l 1000 127.0.0.1 >"$LOGDIR/uclient.log" 2>&1
counts=$(grep -o 'tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*' "$LOGDIR/uclient.log" | tail -1)
sent=$(echo "$counts" | sed -n 's/tot_send_msgs=\([0-9]*\),.*/\1/p')
recv=$(echo "$counts" | sed -n 's/.*tot_recv_msgs=\([0-9]*\)/\1/p')
kill -TERM "$TURND_PID"
for _ in $(seq 1 50); do kill -0 "$TURND_PID" 2>/dev/null || break; sleep 0.1; done
dropped=$(sed -n 's/.*event=stopped.*bandwidth_dropped_packets=\([0-9]*\).*/\1/p' "$LOGDIR/turnd.log")
echo "sent=${sent:-?} received=${recv:-?} dropped_by_turnd=${dropped:-?}"
[ -n "$sent" ] && [ "$sent" -ge 100 ] || fail "uclient did not send its 100 datagrams"
[ -n "$recv" ] && [ "$recv" -gt 0 ] || fail "nothing got through the limit"
# 20 kB/s over ~2 s of sending, each datagram crossing the relay twice: at
# most about a third can come back (burst of one second included).
[ "$recv" -le 45 ] || fail "the limit let $recv of $sent through"
[ -n "$dropped" ] && [ "$dropped" -gt 0 ] || fail "turnd counted no bandwidth drops"
exit 0
