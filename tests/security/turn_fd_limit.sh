#!/bin/bash
# Proves: when turnd runs out of descriptors (its soft limit lowered below
# what it holds, as if something had taken them all), accept() on the client
# TCP and TLS listeners failing with EMFILE does not spin: over 3 s at the
# limit with connections waiting in both backlogs turnd uses next to no CPU
# and logs a few accept_paused lines, not one per try; an open connection is
# still served; and once descriptors are free the waiting connections are
# taken and answered.
. "$(dirname "$0")/../lib/common.sh"
TLS_PORT=$((PORT + 5))
make_cert "$LOGDIR/tls"
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --tls-cert "$LOGDIR/tls/cert.pem" --tls-key "$LOGDIR/tls/key.pem" \
    --tls-listen "127.0.0.1:$TLS_PORT"
wait_tcp "127.0.0.1:$PORT" || fail "no TCP listener"
wait_tcp "127.0.0.1:$TLS_PORT" || fail "no TLS listener"
LOG=$LOGDIR/turnd.log

# binding FD: a Binding request on the stream FD gets a Binding response (all
# 32 bytes of it are read, so the next answer starts at its own header).
binding() {
    printf '\x00\x01\x00\x00\x21\x12\xa4\x42\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c' >&"$1"
    local answer
    answer=$(timeout 3 head -c 32 <&"$1" | od -An -tx1 -v | tr -d ' \n')
    [ "${answer:0:4}" = 0101 ]
}
HARD=$(prlimit --pid "$TURND_PID" --nofile --raw -o HARD --noheadings | tr -d ' ')
# cpu_ticks: turnd's user + system time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$TURND_PID/stat"; }

exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect"
binding 3 || fail "no Binding response before the limit"

# Every descriptor below the new soft limit is taken: accept() fails with EMFILE.
prlimit --pid "$TURND_PID" --nofile=4:"$HARD" ||
    fail "prlimit failed"
exec 4<>"/dev/tcp/127.0.0.1/$PORT" 5<>"/dev/tcp/127.0.0.1/$PORT" \
    6<>"/dev/tcp/127.0.0.1/$TLS_PORT" || fail "cannot connect into the backlog"
sleep 0.3
t0=$(cpu_ticks)
lines0=$(grep -c "event=accept_" "$LOG")
sleep 3
used=$(($(cpu_ticks) - t0))
lines=$(($(grep -c "event=accept_" "$LOG") - lines0))
hz=$(getconf CLK_TCK)
echo "at the limit: $used ticks of CPU ($hz a second) over 3 s, $lines accept log lines"
[ "$used" -lt $((hz / 2)) ] || fail "turnd used $used ticks of CPU in 3 s at the descriptor limit"
grep -q 'event=accept_paused error="Too many open files"' "$LOG" || fail "EMFILE not logged"
[ "$lines" -le 8 ] || fail "$lines accept lines in 3 s: not rate-limited"
echo "ok: EMFILE on accept backs off (no busy loop, $lines log lines)"
binding 3 || fail "the open connection is not served at the limit"
echo "ok: the open connection is served at the limit"

prlimit --pid "$TURND_PID" --nofile="$HARD" ||
    fail "prlimit failed"
binding 4 || fail "a connection from the backlog was not answered after the limit went up"
binding 5 || fail "the second connection from the backlog was not answered"
exec 3<&- 4<&- 5<&- 6<&-
echo "ok: waiting connections are accepted and answered once descriptors are free"
