#!/bin/bash
# Proves a burst of same-size datagrams, which turnd sends as UDP GSO
# messages, reaches the peer and the client as the same datagrams, whole and
# in order (tests/interop/burst_relay.py).
. "$(dirname "$0")/../lib/common.sh"
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user alice:wonderland \
    --allow-peer 127.0.0.1/32 --no-tcp
python3 "$(dirname "$0")/burst_relay.py" "127.0.0.1:$PORT" alice:wonderland "$TURND_PID" ||
    fail "a burst relayed both ways"
