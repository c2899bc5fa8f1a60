#!/bin/bash
# Proves turn-probe allocates with shared-secret credentials, whose user name
# itself holds a colon ("<expiry>:<user>"), and that a wrong one is refused.
. "$(dirname "$0")/../lib/common.sh"
start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --secret probe-secret --no-tcp
user="$(($(date +%s) + 600)):probe"
pass=$(printf '%s' "$user" | openssl dgst -sha1 -hmac probe-secret -binary | base64)
out=$("$TURN_PROBE" allocate "127.0.0.1:$PORT" --user "$user:$pass" 2>&1) || fail "allocate: $out"
echo "$out" | grep -q "^relay 127.0.0.1:" || fail "no relay address: $out"
bad=$("$TURN_PROBE" allocate "127.0.0.1:$PORT" --user "$user:AAAAAAAAAAAAAAAAAAAAAAAAAAA=" 2>&1) &&
    fail "a wrong shared-secret password allocated: $bad"
echo "ok: $out; wrong credential refused"
