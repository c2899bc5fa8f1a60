#!/bin/bash
# Proves relay to relay between two workers of one turnd (workers = 2):
# permissions are checked on the receiving side, the bytes and the peer
# address are those of the shortcut inside one worker, and a deleted relay
# is forgotten by the other worker (tests/interop/workers_relay.py).
. "$(dirname "$0")/../lib/control.sh"
SOCK=$LOGDIR/turnd.sock
start_turnd turnd --workers 2 --control-socket "$SOCK" --listen "127.0.0.1:$PORT" \
    --relay-ip 127.0.0.1 --user alice:wonderland --no-tcp
wait_control || fail "no control socket at $SOCK"
grep -q 'event=started.* workers=2' "$LOGDIR/turnd.log" || fail "turnd did not start two workers"
python3 "$(dirname "$0")/workers_relay.py" "127.0.0.1:$PORT" alice:wonderland "$SOCK" ||
    fail "relay to relay across workers"
