#!/bin/bash
# Proves STUN inside DTLS records is answered, and that a client which
# restarts on the same address and port without close_notify gets a new
# session at once (RFC 6347 §4.2.8): it passes the cookie exchange, the old
# session is replaced (one session remains), and nothing waits for a timeout.
# usage: dtls_restart.sh DTLS_CLIENT
. "$(dirname "$0")/../lib/dtls.sh"
CLIENT=${1:?dtls_client binary}
start_dtls_turnd

start=$(date +%s)
timeout 60 "$CLIENT" 127.0.0.1 "$DTLS_PORT" $((PORT + 7)) 3 >"$LOGDIR/client.log" 2>&1 ||
    fail "dtls_client: $(cat "$LOGDIR/client.log")"
took=$(( $(date +%s) - start ))
cat "$LOGDIR/client.log"
echo "three sessions from one port in about $took s"
[ "$took" -lt 10 ] || fail "a restarted client waited for a timeout"
[ "$(grep -c 'Binding success' "$LOGDIR/client.log")" = 3 ] || fail "not three Binding answers"
[ "$(grep -c 'detail="client-restarted"' "$LOGDIR/turnd.log")" = 2 ] || fail "old sessions not replaced"
[ "$(metric 'connections{transport="dtls"}')" = 1 ] || fail "more than the last session remains"
[ "$(metric dtls_handshakes_total)" = 3 ] || fail "handshakes"
[ "$(metric 'client_messages_total{transport="dtls"}')" = 3 ] || fail "messages over DTLS"
echo ok
