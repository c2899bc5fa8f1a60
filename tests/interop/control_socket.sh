#!/bin/bash
# Proves the control socket end to end: while coturn's uclient relays through
# turnd, "stats" and "sessions" count its bytes and the numbers move with the
# traffic; "metrics" has the same counters; "kill" by id ends the session (it
# leaves the session list and its traffic no longer reaches the peer) while
# uclient is still sending, and "kill" by user ends the rest of that user's.
. "$(dirname "$0")/../lib/control.sh"
PEER_PORT=$((PORT + 1))
SOCK=$LOGDIR/turnd.sock
start_turnd turnd --control-socket "$SOCK" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --user alice:wonderland --allow-peer 127.0.0.1/32 --no-tcp
wait_control || fail "no control socket at $SOCK"
[ "$(ctl_field '{"cmd":"stats"}' 'r["stats"]["allocations"]')" = 0 ] || fail "stats before traffic"
[ "$(ctl_field '{"cmd":"nonsense"}' 'r["ok"]')" = False ] || fail "an unknown command was accepted"

turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" >"$LOGDIR/peer.log" 2>&1 &
PIDS+=($!)
wait_udp "127.0.0.1:$PEER_PORT" || fail "turnutils_peer did not start"
# 3000 x 200 bytes every 20 ms: a minute of traffic through one allocation.
# uclient waits a random 1-6 s after allocating before it sends.
turnutils_uclient -u alice -w wonderland -p "$PORT" -e 127.0.0.1 -r "$PEER_PORT" -c -s \
    -n 3000 -l 200 127.0.0.1 >"$LOGDIR/uclient.log" 2>&1 &
UCLIENT_PID=$!
PIDS+=($UCLIENT_PID)
wait_traffic || fail "no traffic through turnd within 20 s"

# The busiest session is uclient's: its counters grow between two looks.
busiest='max(r["sessions"], key=lambda s: s["client_to_peer_bytes"])'
sessions=$(ctl '{"cmd":"sessions"}')
echo "sessions: $sessions"
id=$(field "$sessions" "$busiest[\"id\"]")
[ "$(field "$sessions" "$busiest[\"user\"]")" = alice ] || fail "wrong user"
[ "$(field "$sessions" "$busiest[\"transport\"]")" = udp ] || fail "wrong transport"
[ "$(field "$sessions" "'127.0.0.1' in $busiest[\"peers\"]")" = True ] || fail "peer not listed"
one=$(session_of "$id")
s1=$(ctl '{"cmd":"stats"}')
sleep 1
two=$(session_of "$id")
s2=$(ctl '{"cmd":"stats"}')
for k in client_to_peer_bytes client_to_peer_packets peer_to_client_bytes peer_to_client_packets; do
    a=$(field "$one" "r[\"$k\"]")
    b=$(field "$two" "r[\"$k\"]")
    echo "session $id $k: $a -> $b"
    [ "$b" -gt "$a" ] || fail "the session's $k did not move"
    a=$(field "$s1" "r[\"stats\"][\"$k\"]")
    b=$(field "$s2" "r[\"stats\"][\"$k\"]")
    [ "$b" -gt "$a" ] || fail "stats.$k did not move"
done
[ "$(field "$s2" 'r["stats"]["allocations"]')" -ge 1 ] || fail "stats.allocations"
metrics=$(ctl_field '{"cmd":"metrics"}' 'r["metrics"]')
echo "$metrics" | grep -Eq '^lanturn_turnd_client_to_peer_bytes_total [1-9][0-9]*$' ||
    fail "metrics lack relayed bytes: $metrics"
echo "$metrics" | grep -Eq '^lanturn_turnd_allocations [1-9]$' || fail "metrics lack allocations"

# kill by id: the session is gone and its datagrams no longer reach the peer
[ "$(ctl_field "{\"cmd\":\"kill\",\"id\":\"$id\"}" 'r["killed"]')" = 1 ] || fail "kill by id"
[ -z "$(session_of "$id")" ] || fail "the killed session is still listed"
sleep 0.2
k1=$(ctl_field '{"cmd":"stats"}' 'r["stats"]["client_to_peer_bytes"]')
sleep 1.5
k2=$(ctl_field '{"cmd":"stats"}' 'r["stats"]["client_to_peer_bytes"]')
echo "client_to_peer_bytes after the kill: $k1 -> $k2"
kill -0 "$UCLIENT_PID" 2>/dev/null || fail "uclient ended before the kill could be seen"
[ "$k1" = "$k2" ] || fail "traffic went on after kill"
grep -q 'event=alloc_deleted.*reason=killed' "$LOGDIR/turnd.log" || fail "no kill in the log"
[ "$(ctl_field '{"cmd":"kill","id":"999999"}' 'r["killed"]')" = 0 ] || fail "kill of a bad id"

# kill by user: none of alice's allocations is left
ctl '{"cmd":"kill","user":"alice"}'
[ "$(ctl_field '{"cmd":"sessions"}' 'sum(s["user"] == "alice" for s in r["sessions"])')" = 0 ] ||
    fail "kill by user left sessions"
exit 0
