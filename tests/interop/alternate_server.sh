#!/bin/bash
# Proves ALTERNATE-SERVER (RFC 8489 §10) between two turnd: server A, full
# at one allocation, answers a second Allocate with 300 Try Alternate naming
# server B (turn-probe reports it and exits 3); turn-probe --follow then
# allocates on B, whose relay ports are a range of their own.
. "$(dirname "$0")/../lib/common.sh"
PORT_B=$((PORT + 2))
MID=$(((RELAY_LO + RELAY_HI + 1) / 2))
cat >"$LOGDIR/a.conf" <<CONF
turnd: {
  max_allocations = 1;
  alternate_server = "127.0.0.1:$PORT_B";
  alternate_domain = "turn-b.test";
};
CONF
start_turnd a --config "$LOGDIR/a.conf" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --relay-ports "$RELAY_LO-$((MID - 1))" --user probe:pw --no-tcp
start_turnd b --listen "127.0.0.1:$PORT_B" --relay-ip 127.0.0.1 --relay-ports "$MID-$RELAY_HI" \
    --user probe:pw --no-tcp

"$TURN_PROBE" allocate "127.0.0.1:$PORT" --user probe:pw --hold 6 >"$LOGDIR/holder.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do grep -q '^relay ' "$LOGDIR/holder.log" && break; sleep 0.1; done
grep -q '^relay ' "$LOGDIR/holder.log" || fail "the first allocation on A failed"

"$TURN_PROBE" allocate "127.0.0.1:$PORT" --user probe:pw >"$LOGDIR/redirected.log" 2>&1
rc=$?
cat "$LOGDIR/redirected.log"
[ "$rc" = 3 ] || fail "a full A did not redirect (exit $rc, expected 3)"
grep -qx "alternate 127.0.0.1:$PORT_B" "$LOGDIR/redirected.log" || fail "wrong ALTERNATE-SERVER"
grep -qx "alternate-domain turn-b.test" "$LOGDIR/redirected.log" || fail "no ALTERNATE-DOMAIN"

"$TURN_PROBE" allocate "127.0.0.1:$PORT" --user probe:pw --follow >"$LOGDIR/followed.log" 2>&1 ||
    fail "following the redirection did not give an allocation"
cat "$LOGDIR/followed.log"
port=$(sed -n 's/^relay 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$LOGDIR/followed.log")
[ -n "$port" ] && [ "$port" -ge "$MID" ] && [ "$port" -le "$RELAY_HI" ] ||
    fail "the allocation is not on B (relay port ${port:-none}, B has $MID-$RELAY_HI)"
grep -q 'event=alloc_created' "$LOGDIR/b.log" || fail "B logged no allocation"
exit 0
