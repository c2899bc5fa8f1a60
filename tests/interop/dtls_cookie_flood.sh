#!/bin/bash
# Proves turnd's DTLS listener is no amplifier and keeps no state for
# unverified clients: a flood of ClientHellos from many source ports, with no
# cookie or a forged one, gets only HelloVerifyRequests, each no larger than
# the ClientHello that caused it and than 64 bytes, and leaves no DTLS
# session behind; a real client (openssl s_client) still completes the
# cookie exchange afterwards, and gets ALPN "stun.turn" (RFC 7443) answered.
. "$(dirname "$0")/../lib/dtls.sh"
start_dtls_turnd

python3 - "$DTLS_PORT" >"$LOGDIR/flood.log" 2>&1 <<'PY' || fail "flood: $(cat "$LOGDIR/flood.log")"
import os, socket, sys, time
from dtls_hello import client_hello, handshake_type
port = int(sys.argv[1])

socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(100)]
for s in socks:
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
sent = replies = reply_bytes = sent_bytes = 0
biggest = 0
for rnd in range(10):  # 1000 ClientHellos, half with a forged cookie
    for i, s in enumerate(socks):
        hello = client_hello(os.urandom(32) if (rnd + i) % 2 else b"")
        s.sendto(hello, ("127.0.0.1", port))
        sent += 1
        sent_bytes += len(hello)
        smallest_hello = len(hello) if sent == 1 else min(smallest_hello, len(hello))
    time.sleep(0.05)
deadline = time.time() + 3
while time.time() < deadline:
    got = False
    for s in socks:
        try:
            data, src = s.recvfrom(65536)
        except BlockingIOError:
            continue
        got = True
        replies += 1
        reply_bytes += len(data)
        biggest = max(biggest, len(data))
        # a handshake record holding HelloVerifyRequest (type 3), nothing else
        if len(data) < 26 or handshake_type(data) != 3:
            sys.exit("reply is not a HelloVerifyRequest: %s" % data[:32].hex())
    if not got:
        time.sleep(0.05)
print("sent=%d sent_bytes=%d replies=%d reply_bytes=%d biggest_reply=%d smallest_hello=%d"
      % (sent, sent_bytes, replies, reply_bytes, biggest, smallest_hello))
if replies < sent * 9 // 10:
    sys.exit("too few HelloVerifyRequests: %d of %d" % (replies, sent))
if biggest > 64 or biggest > smallest_hello or reply_bytes > sent_bytes:
    sys.exit("replies larger than the bound or than the requests")
PY
cat "$LOGDIR/flood.log"
ctl_field '{"cmd":"metrics"}' 'r["metrics"]' | grep dtls
[ "$(metric 'connections{transport="dtls"}')" = 0 ] || fail "the flood left DTLS sessions"
[ "$(metric dtls_sessions_total)" = 0 ] || fail "a ClientHello without a valid cookie made a session"
hvr=$(metric dtls_hello_verify_requests_total)
[ "${hvr:-0}" -ge 900 ] || fail "HelloVerifyRequests counted: ${hvr:-none}"
grep -q "event=conn_opened transport=dtls" "$LOGDIR/turnd.log" && fail "a session was opened"

# The cookie exchange still lets a real client in.
echo | timeout 20 openssl s_client -dtls1_2 -alpn stun.turn -connect "127.0.0.1:$DTLS_PORT" \
    >"$LOGDIR/s_client.log" 2>&1
grep -q "Cipher is" "$LOGDIR/s_client.log" || fail "openssl s_client could not complete DTLS"
grep -q "ALPN protocol: stun.turn" "$LOGDIR/s_client.log" || fail "ALPN stun.turn not answered over DTLS"
[ "$(metric dtls_handshakes_total)" = 1 ] || fail "the real client's handshake was not counted"
echo "ok: $hvr HelloVerifyRequests, no state, a real client still gets in"
