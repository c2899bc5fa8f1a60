#!/bin/bash
# Proves Prometheus metrics over HTTP: GET /metrics answers the control
# socket's "metrics" text (one renderer: same series), with the allocation,
# packet and byte counters moving after coturn's uclient relays over UDP and
# DTLS, and per-transport series for udp, tcp, tls and dtls. Malformed and
# oversized requests get 400 and 431, other paths 404, other methods 405; a
# client that sends nothing is dropped at the deadline and at most a few are
# held at once; through all of it the server keeps serving.
. "$(dirname "$0")/../lib/dtls.sh"
PEER_PORT=$((PORT + 1))
HTTP_PORT=$((PORT + 6))
start_dtls_turnd --allow-peer 127.0.0.1/32 --metrics-listen "127.0.0.1:$HTTP_PORT"
wait_tcp "127.0.0.1:$HTTP_PORT" || fail "no metrics listener"

http() { # http RAW-REQUEST: prints the answer's status code, then its body
    python3 - "$HTTP_PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b" ")[1].decode() if head else "none")
sys.stdout.write(body.decode())
PY
}
scrape() { http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n'; }
metric_in() { echo "$1" | sed -n "s/^lanturn_turnd_$2 \([0-9]*\)$/\1/p"; } # TEXT NAME

before=$(scrape)
[ "$(echo "$before" | head -1)" = 200 ] || fail "GET /metrics: $(echo "$before" | head -1)"
for t in udp tcp tls dtls; do
    for m in allocations_by_transport client_messages_total client_bytes_total; do
        [ -n "$(metric_in "$before" "$m{transport=\"$t\"}")" ] || fail "no $m for $t"
    done
done
[ "$(metric_in "$before" allocations_total)" = 0 ] || fail "allocations before traffic"
# One renderer: the control socket shows the same series.
ctl_names=$(ctl_field '{"cmd":"metrics"}' 'r["metrics"]' | grep -v '^#' | grep . | sed 's/ [0-9]*$//' | sort)
http_names=$(echo "$before" | tail -n +2 | grep -v '^#' | grep . | sed 's/ [0-9]*$//' | sort)
[ "$ctl_names" = "$http_names" ] || fail "HTTP and control socket series differ"

turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" >"$LOGDIR/peer.log" 2>&1 &
PIDS+=($!)
wait_udp "127.0.0.1:$PEER_PORT" || fail "turnutils_peer did not start"
timeout 60 turnutils_uclient -u alice -w wonderland -p "$PORT" -n 20 -l 200 -e 127.0.0.1 \
    -r "$PEER_PORT" 127.0.0.1 >"$LOGDIR/uclient-udp.log" 2>&1
uclient_ok "$LOGDIR/uclient-udp.log" || fail "UDP run lost data"
timeout 60 turnutils_uclient -S -u alice -w wonderland -p "$DTLS_PORT" -n 20 -l 200 -y 127.0.0.1 \
    >"$LOGDIR/uclient-dtls.log" 2>&1
uclient_ok "$LOGDIR/uclient-dtls.log" || fail "DTLS run lost data"

after=$(scrape)
[ "$(echo "$after" | head -1)" = 200 ] || fail "GET /metrics after traffic"
for m in allocations_total client_to_peer_packets_total client_to_peer_bytes_total \
    peer_to_client_packets_total peer_to_client_bytes_total 'client_messages_total{transport="udp"}' \
    'client_messages_total{transport="dtls"}' 'client_bytes_total{transport="dtls"}' \
    dtls_handshakes_total; do
    a=$(metric_in "$before" "$m")
    b=$(metric_in "$after" "$m")
    echo "$m: $a -> $b"
    [ -n "$b" ] && [ "$b" -gt "${a:-0}" ] || fail "$m did not move"
done
[ "$(metric_in "$after" 'client_messages_total{transport="tcp"}')" = 0 ] || fail "tcp counted"

# Bad requests: answered, and the server goes on.
code() { http "$1" | head -1; }
[ "$(code 'GARBAGE\r\n\r\n')" = 400 ] || fail "malformed request line"
[ "$(code 'GET /metrics HTTP/1.1\r\n\r\n')" = 400 ] || fail "HTTP/1.1 without Host"
[ "$(code 'GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n')" = 400 ] || fail "folded header"
[ "$(code 'GET /metrics HTTP/1.1\r\nHost: x\r\nX: '"$(head -c 5000 /dev/zero | tr '\0' a)"'\r\n\r\n')" = 431 ] ||
    fail "oversized head"
[ "$(code 'GET /other HTTP/1.1\r\nHost: x\r\n\r\n')" = 404 ] || fail "other path"
[ "$(code 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc')" = 405 ] ||
    fail "other method"
[ "$(code 'GET /metrics?x=1 HTTP/1.0\r\n\r\n')" = 200 ] || fail "HTTP/1.0 with a query"

# Silent clients: held at most 8 at once, dropped at the 5 s deadline; the
# relays they share a thread with go on meanwhile (uclient loses nothing).
timeout 60 turnutils_uclient -u alice -w wonderland -p "$PORT" -n 20 -l 200 -e 127.0.0.1 \
    -r "$PEER_PORT" 127.0.0.1 >"$LOGDIR/uclient-during.log" 2>&1 &
UCLIENT=$!
PIDS+=($UCLIENT)
python3 - "$HTTP_PORT" >"$LOGDIR/silent.log" 2>&1 <<'PY' || fail "silent clients: $(cat "$LOGDIR/silent.log")"
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
time.sleep(0.5)
extra = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    extra.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    answer = extra.recv(100)
except (ConnectionResetError, BrokenPipeError):
    answer = b""  # closed at once, as it should be
if answer != b"":
    sys.exit("a 9th connection was served beyond the cap")
start = time.time()
idle[0].settimeout(10)
if idle[0].recv(100) != b"":
    sys.exit("a silent client got an answer")
waited = time.time() - start
print("silent client closed after %.1f s more" % waited)
if waited > 8:
    sys.exit("the deadline did not close a silent client")
PY
cat "$LOGDIR/silent.log"
wait $UCLIENT
uclient_ok "$LOGDIR/uclient-during.log" || fail "relaying suffered while HTTP clients sat silent"
[ "$(scrape | head -1)" = 200 ] || fail "not serving after the bad requests"
kill -0 "$TURND_PID" || fail "turnd died"
echo "ok"
