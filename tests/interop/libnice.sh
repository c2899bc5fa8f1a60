#!/bin/bash
# Proves: two libnice ICE agents (force-relay) gather relay candidates from
# turnd only, reach READY on a relay/relay pair and pass 16 KB each way intact.
. "$(dirname "$0")/../lib/common.sh"
NICE_TEST=${1:?path to nice_relay_test}
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user nice:ice-pass
NICE_LOCAL_IP=127.0.0.1 timeout 30 "$NICE_TEST" 127.0.0.1 "$PORT" nice ice-pass udp 16384 \
    >"$LOGDIR/nice.log" 2>&1 || fail "libnice relay test failed"
cat "$LOGDIR/nice.log"
grep -q "RESULT: PASS" "$LOGDIR/nice.log" || fail "no PASS"
