#!/bin/bash
# Proves the DTLS listener's limits: a cookie is bound to the address it was
# sent to (echoed from another port it gets a new HelloVerifyRequest, not a
# session); a session whose client stops mid-handshake gets the server's
# flight retransmitted and is dropped at the 10 s handshake timeout; at
# max_dtls_sessions further ClientHellos get no answer at all; an
# established session without an allocation ends after idle_timeout.
. "$(dirname "$0")/../lib/dtls.sh"
rm -f "$LOGDIR/s_client.in"
start_dtls_turnd --max-dtls-sessions 2 --idle-timeout 5

python3 - "$DTLS_PORT" "$SOCK" >"$LOGDIR/limits.log" 2>&1 <<'PY' || fail "$(cat "$LOGDIR/limits.log")"
import json, re, socket, sys, time
from dtls_hello import client_hello, cookie_of as cookie_in, handshake_type as hs_type
port, ctl_path = int(sys.argv[1]), sys.argv[2]
server = ("127.0.0.1", port)

def metric(name):
    c = socket.socket(socket.AF_UNIX)
    c.connect(ctl_path)
    c.sendall(b'{"cmd":"metrics"}\n')
    text = json.loads(c.makefile().readline())["metrics"]
    m = re.search("^lanturn_turnd_%s (\\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1))

def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(1.5)
    return s

def reply(s):
    try:
        return s.recvfrom(65536)[0]
    except socket.timeout:
        return None

def cookie_for(s):
    s.sendto(client_hello(), server)
    d = reply(s)
    assert hs_type(d) == 3, "no HelloVerifyRequest: %r" % d
    return cookie_in(d)

# 1. A cookie works only from the address it was sent to.
a, b = sock(), sock()
cookie = cookie_for(a)
b.sendto(client_hello(cookie, 1), server)
d = reply(b)
assert hs_type(d) == 3, "another port's cookie was not refused: %r" % (d and d[:16])
assert metric('connections{transport="dtls"}') == 0, "a foreign cookie made a session"
a.sendto(client_hello(cookie, 1), server)
d = reply(a)
assert hs_type(d) == 2, "a valid cookie did not get a ServerHello: %r" % (d and d[:16])
assert metric('connections{transport="dtls"}') == 1
print("cookie bound to its address: ok")

# 2. Cap: a second half-open session fills max_dtls_sessions = 2, a third
#    address gets no answer at all.
c = sock()
c.sendto(client_hello(cookie_for(c), 1), server)
assert hs_type(reply(c)) == 2
assert metric('connections{transport="dtls"}') == 2
d3 = sock()
d3.sendto(client_hello(), server)
assert reply(d3) is None, "a ClientHello was answered beyond max_dtls_sessions"
assert metric("dtls_refused_total") >= 1
print("cap: ok")

# 3. The server retransmits its flight to a silent client, then gives up at 10 s.
start = time.time()
flights = 0
a.settimeout(0.5)
while time.time() - start < 14 and metric('connections{transport="dtls"}') > 0:
    while True:
        try:
            pkt = a.recvfrom(65536)[0]
        except socket.timeout:
            break
        if hs_type(pkt) == 2:
            flights += 1
waited = time.time() - start
print("half-open sessions gone after %.1f s, ServerHello retransmitted %d times" % (waited, flights))
assert metric('connections{transport="dtls"}') == 0, "handshake timeout did not end the sessions"
assert waited >= 5, "the handshake timeout came too early"
assert flights >= 1, "no retransmission of the server's flight"
assert metric("dtls_handshake_failures_total") == 2
d3.sendto(client_hello(), server)
assert hs_type(reply(d3)) == 3, "below the cap again, a ClientHello got no answer"
PY
cat "$LOGDIR/limits.log"
[ "$(grep -c 'detail="dtls-handshake-timeout"' "$LOGDIR/turnd.log")" = 2 ] || fail "handshake timeouts not logged"

# 4. An established session with no allocation ends after idle_timeout (5 s).
mkfifo "$LOGDIR/s_client.in"
timeout 30 openssl s_client -dtls1_2 -connect "127.0.0.1:$DTLS_PORT" <"$LOGDIR/s_client.in" \
    >"$LOGDIR/s_client.log" 2>&1 &
PIDS+=($!)
exec 3>"$LOGDIR/s_client.in" # stdin stays open: the client sends nothing and does not leave
for _ in $(seq 1 50); do [ "$(metric dtls_handshakes_total)" = 1 ] && break; sleep 0.1; done
[ "$(metric dtls_handshakes_total)" = 1 ] || fail "s_client did not complete a handshake"
[ "$(ctl_field '{"cmd":"stats"}' 'r["stats"]["dtls_sessions"]')" = 1 ] || fail "stats: dtls_sessions"
start=$(date +%s)
for _ in $(seq 1 100); do [ "$(metric 'connections{transport="dtls"}')" = 0 ] && break; sleep 0.1; done
waited=$(( $(date +%s) - start ))
echo "idle session ended after about $waited s"
[ "$(metric 'connections{transport="dtls"}')" = 0 ] || fail "idle session still open"
[ "$waited" -ge 3 ] || fail "idle session ended too early ($waited s)"
grep -q 'transport=dtls .*detail="idle"' "$LOGDIR/turnd.log" || fail "no idle close logged"
echo ok
