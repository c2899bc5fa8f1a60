#!/bin/bash
# Proves STUN and TURN inside DTLS records are answered, that a client which
# restarts on the same address and port without close_notify gets a new
# session at once (RFC 6347 §4.2.8: it passes the cookie exchange, then the
# old session and its allocation are replaced, so the new Allocate from the
# same 5-tuple succeeds instead of getting 437), and that a session ending
# with close_notify takes its allocation with it.
# usage: dtls_restart.sh DTLS_CLIENT
. "$(dirname "$0")/../lib/dtls.sh"
CLIENT=${1:?dtls_client binary}
start_dtls_turnd

start=$(date +%s)
timeout 60 "$CLIENT" 127.0.0.1 "$DTLS_PORT" $((PORT + 7)) 3 alice wonderland >"$LOGDIR/client.log" 2>&1 ||
    fail "dtls_client: $(cat "$LOGDIR/client.log")"
took=$(($(date +%s) - start))
cat "$LOGDIR/client.log"
echo "three sessions from one port in about $took s"
[ "$took" -lt 10 ] || fail "a restarted client waited for a timeout"
[ "$(grep -c 'Binding success, allocated' "$LOGDIR/client.log")" = 3 ] || fail "not three allocations"
[ "$(grep -c 'detail="client-restarted"' "$LOGDIR/turnd.log")" = 2 ] || fail "old sessions not replaced"
[ "$(grep -c 'event=alloc_deleted.*reason=dtls-closed' "$LOGDIR/turnd.log")" = 3 ] ||
    fail "the sessions' allocations did not end with them"
for _ in $(seq 1 20); do [ "$(metric 'connections{transport="dtls"}')" = 0 ] && break; sleep 0.1; done
[ "$(metric 'connections{transport="dtls"}')" = 0 ] || fail "close_notify did not end the session"
[ "$(metric allocations)" = 0 ] || fail "an allocation outlived its session"
[ "$(metric allocations_total)" = 3 ] || fail "allocations_total"
[ "$(metric dtls_handshakes_total)" = 3 ] || fail "handshakes"
echo ok
