#!/bin/bash
# Proves: coturn's turnutils_stunclient gets its reflexive address from turnd's
# unauthenticated Binding response (XOR-MAPPED-ADDRESS), over IPv4 and IPv6.
. "$(dirname "$0")/../lib/common.sh"
start_turnd turnd --listen "127.0.0.1:$PORT" --listen "[::1]:$PORT" --relay-ip 127.0.0.1
out=$(timeout 10 turnutils_stunclient -p "$PORT" 127.0.0.1 2>&1) || fail "stunclient failed: $out"
echo "$out" | grep -q "UDP reflexive addr: 127.0.0.1:" || fail "no IPv4 reflexive address: $out"
out6=$(timeout 10 turnutils_stunclient -p "$PORT" ::1 2>&1) || fail "stunclient (IPv6) failed: $out6"
echo "$out6" | grep -q "UDP reflexive addr: ::1:\|UDP reflexive addr: \[::1\]" ||
    fail "no IPv6 reflexive address: $out6"
echo "ok: $(echo "$out" | grep -m1 reflexive) / $(echo "$out6" | grep -m1 reflexive)"
