#!/bin/bash
# Proves: turnd's TCP and TLS listeners frame STUN over a byte stream (one
# message split over two writes, two messages in one write), close a
# connection that sends something that is not STUN or ChannelData, close idle
# connections that have no allocation after --idle-timeout, refuse
# connections beyond --max-connections, and serve TLS 1.2 and 1.3 (with ALPN
# "stun.turn") but neither TLS 1.1 nor plain STUN on the TLS port.
. "$(dirname "$0")/../lib/common.sh"
TLS_PORT=$((PORT + 5))
make_cert "$LOGDIR/tls"
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --idle-timeout 5 \
    --max-connections 3 --tls-cert "$LOGDIR/tls/cert.pem" --tls-key "$LOGDIR/tls/key.pem" \
    --tls-listen "127.0.0.1:$TLS_PORT"
wait_tcp "127.0.0.1:$PORT" || fail "no TCP listener"
wait_tcp "127.0.0.1:$TLS_PORT" || fail "no TLS listener"

HDR='\x00\x01\x00\x00\x21\x12\xa4\x42'
TID='\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c'

# closed FD SECONDS: the server closes FD within SECONDS (read sees EOF, not a timeout).
closed() {
    local x rc
    while :; do
        read -r -N 1 -t "$2" -u "$1" x
        rc=$?
        [ $rc = 0 ] || break
    done
    [ $rc -lt 128 ]
}

# Binding responses (type 0x0101, XOR-MAPPED-ADDRESS) come back for a request
# split in two writes and for two requests in one write.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect over TCP"
printf "$HDR" >&3
sleep 0.2
printf "$TID$HDR$TID" >&3
answers=$(timeout 3 head -c 64 <&3 | od -An -tx1 -v | tr -d ' \n')
[ "${answers:0:4}" = 0101 ] && [ "${answers:64:4}" = 0101 ] ||
    fail "expected two Binding responses over TCP, got '$answers'"
echo "ok: split and coalesced Binding requests answered over TCP"

# Not STUN: closed at once.
printf '\x80\x00\x00\x00' >&3
closed 3 2 || fail "garbage did not close the connection"
grep -q "event=conn_garbage" "$LOGDIR/turnd.log" || fail "garbage not logged"
exec 3<&-
echo "ok: a non-STUN stream is closed"

# Idle without an allocation: open at 3 s, closed by 5 s + one sweep.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
start=$(date +%s)
closed 3 3 && fail "idle connection closed too early"
closed 3 6 || fail "idle connection not closed after --idle-timeout"
echo "ok: idle connection closed after $(($(date +%s) - start)) s"
exec 3<&-

# --max-connections 3: the fourth is closed at once, the first three stay.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" 4<>"/dev/tcp/127.0.0.1/$PORT" 5<>"/dev/tcp/127.0.0.1/$PORT"
sleep 0.3
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
closed 6 2 || fail "a connection over --max-connections was accepted"
closed 3 1 && fail "a connection under the limit was closed"
grep -q "event=conn_limit" "$LOGDIR/turnd.log" || fail "refusal not logged"
exec 3<&- 4<&- 5<&- 6<&-
echo "ok: connections over --max-connections refused"
sleep 0.5 # let the server see the closes before the TLS checks need slots

# TLS: 1.2 and 1.3 with ALPN; 1.1 refused; plain STUN on the TLS port refused.
for v in tls1_2 tls1_3; do
    out=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TLS_PORT" -$v -alpn stun.turn 2>&1)
    echo "$out" | grep -q "ALPN protocol: stun.turn" || fail "TLS ($v) handshake failed: $out"
done
# The refusal must come from turnd (alert 70), not from the client's own policy.
out=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TLS_PORT" -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' 2>&1)
echo "$out" | grep -q "alert protocol version" || fail "TLS 1.1 not refused by the server: $out"
exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT"
printf "$HDR$TID" >&3
closed 3 2 || fail "plain STUN on the TLS port was not closed"
grep -q "event=tls_handshake_failed" "$LOGDIR/turnd.log" || fail "TLS failure not logged"
echo "ok: TLS 1.2 and 1.3 with ALPN stun.turn; TLS 1.1 and plain STUN refused"
