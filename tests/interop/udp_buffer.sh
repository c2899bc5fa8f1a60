#!/bin/bash
# Proves udp_buffer: the UDP listening socket gets the receive and send buffer
# asked for (the kernel's own view, ss -m, agrees with the start log line),
# and a request above net.core.rmem_max is capped and reported as such.
. "$(dirname "$0")/../lib/common.sh"
rmem_max=$(cat /proc/sys/net/core/rmem_max)
wmem_max=$(cat /proc/sys/net/core/wmem_max)
granted() { # granted LOG: "RCV SND" from the event=started line
    sed -n 's/.*event=started.* udp_rcvbuf=\([0-9]*\) udp_sndbuf=\([0-9]*\).*/\1 \2/p' "$1"
}
stop() {
    kill -TERM "$TURND_PID"
    for _ in $(seq 1 50); do kill -0 "$TURND_PID" 2>/dev/null || break; sleep 0.1; done
}

# 256 KiB, or the sysctl's cap when it is lower (208 KiB is the usual default)
want=$((256 * 1024))
[ "$rmem_max" -lt "$want" ] && want=$rmem_max
[ "$wmem_max" -lt "$want" ] && want=$wmem_max
printf 'turnd: { udp_buffer = %s; control_socket = ""; };\n' "$want" >"$LOGDIR/small.conf"
start_turnd small --config "$LOGDIR/small.conf" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --no-tcp
read -r rcv snd <<<"$(granted "$LOGDIR/small.log")"
echo "asked $want, granted rcv=$rcv snd=$snd"
[ "$rcv" = "$want" ] && [ "$snd" = "$want" ] || fail "the listener did not get udp_buffer = $want"
# the kernel books twice what it grants: ss shows rb/tb = 2 x udp_buffer
skmem=$(ss -Huamn "sport = :$PORT" | grep -o 'skmem:([^)]*)')
echo "$skmem"
echo "$skmem" | grep -q "rb$((2 * want))," && echo "$skmem" | grep -q "tb$((2 * want))," ||
    fail "ss does not show the buffer: $skmem"
grep -q 'event=udp_buffer_capped' "$LOGDIR/small.log" && fail "a granted request reported as capped"
stop

big=$((rmem_max > wmem_max ? rmem_max : wmem_max))
big=$((big * 2))
printf 'turnd: { udp_buffer = %s; control_socket = ""; };\n' "$big" >"$LOGDIR/big.conf"
start_turnd big --config "$LOGDIR/big.conf" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --no-tcp
read -r rcv snd <<<"$(granted "$LOGDIR/big.log")"
echo "asked $big, granted rcv=$rcv snd=$snd (rmem_max=$rmem_max wmem_max=$wmem_max)"
[ "$rcv" = "$rmem_max" ] && [ "$snd" = "$wmem_max" ] || fail "not capped at rmem_max/wmem_max"
grep -q "event=udp_buffer_capped requested=$big" "$LOGDIR/big.log" || fail "the cap was not reported"
exit 0
