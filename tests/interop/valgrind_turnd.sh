#!/bin/bash
# Proves: turnd runs a real client's session (allocations, permissions,
# channels, relayed data, refresh-to-zero, shutdown) over UDP, TCP, TLS and
# DTLS, and answers metrics scrapes over HTTP, with no memory errors and no
# leaks under valgrind, and exits 0 on SIGTERM.
. "$(dirname "$0")/../lib/common.sh"
PEER_PORT=$((PORT + 1))
TLS_PORT=$((PORT + 5))
make_cert "$LOGDIR/tls"
valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 "$TURND" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --relay-ports "$RELAY_LO-$RELAY_HI" --user vg:pw --allow-peer 127.0.0.1/32 \
    --tls-cert "$LOGDIR/tls/cert.pem" --tls-key "$LOGDIR/tls/key.pem" --tls-listen "127.0.0.1:$TLS_PORT" \
    --metrics-listen "127.0.0.1:$((PORT + 6))" >"$LOGDIR/valgrind.log" 2>&1 &
VG=$!
PIDS+=($VG)
wait_udp "127.0.0.1:$PORT" || fail "turnd under valgrind did not start"
turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" >"$LOGDIR/peer.log" 2>&1 &
PIDS+=($!)
wait_udp "127.0.0.1:$PEER_PORT" || fail "peer did not start"
timeout 120 turnutils_uclient -u vg -w pw -p "$PORT" -n 20 -l 200 -y 127.0.0.1 >"$LOGDIR/c2c.log" 2>&1
uclient_ok "$LOGDIR/c2c.log" || fail "client-to-client run lost data"
timeout 120 turnutils_uclient -u vg -w pw -p "$PORT" -n 20 -l 200 -e 127.0.0.1 -r "$PEER_PORT" \
    127.0.0.1 >"$LOGDIR/peer-run.log" 2>&1
uclient_ok "$LOGDIR/peer-run.log" || fail "peer run lost data"
# TCP and TLS connections: framing, write queues, OpenSSL, connection-closed cleanup.
timeout 120 turnutils_uclient -t -u vg -w pw -p "$PORT" -n 20 -l 200 -e 127.0.0.1 -r "$PEER_PORT" \
    127.0.0.1 >"$LOGDIR/tcp-run.log" 2>&1
uclient_ok "$LOGDIR/tcp-run.log" || fail "TCP run lost data"
timeout 120 turnutils_uclient -t -S -u vg -w pw -p "$TLS_PORT" -n 20 -l 200 -y 127.0.0.1 \
    >"$LOGDIR/tls-run.log" 2>&1
uclient_ok "$LOGDIR/tls-run.log" || fail "TLS run lost data"
# DTLS: cookie exchange, sessions demultiplexed from one socket, close_notify.
timeout 120 turnutils_uclient -S -u vg -w pw -p "$TLS_PORT" -n 20 -l 200 -y 127.0.0.1 \
    >"$LOGDIR/dtls-run.log" 2>&1
uclient_ok "$LOGDIR/dtls-run.log" || fail "DTLS run lost data"
# Metrics over HTTP: a scrape, a bad request, a client that leaves mid-request.
python3 - "$((PORT + 6))" <<'PY' || fail "metrics scrape under valgrind"
import socket, sys
port = int(sys.argv[1])
def ask(raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(raw)
    data = b"".join(iter(lambda: s.recv(65536), b""))
    return data.split(b" ")[1]
assert ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == b"200"
assert ask(b"BAD\r\n\r\n") == b"400"
socket.create_connection(("127.0.0.1", port)).sendall(b"GET /met")
PY
kill -TERM $VG
wait $VG
rc=$?
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$LOGDIR/valgrind.log"
[ $rc = 0 ] || fail "turnd under valgrind exited $rc"
grep -q "ERROR SUMMARY: 0 errors" "$LOGDIR/valgrind.log" || fail "valgrind reported errors"
echo "ok: no memory errors, no leaks"
