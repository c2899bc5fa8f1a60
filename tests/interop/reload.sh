#!/bin/bash
# Proves reloading without dropping allocations: while coturn's uclient relays
# through turnd with shared-secret credentials, SIGHUP picks up a new shared
# secret and a new TLS certificate. The running allocation keeps relaying; a
# new allocation needs the new secret (the old one is refused); a new TLS
# or DTLS handshake shows the new certificate (openssl s_client fingerprints). A
# "reload" over the control socket with a bad file answers file:line and
# keeps the running configuration.
. "$(dirname "$0")/../lib/control.sh"
PEER_PORT=$((PORT + 1))
TLS_PORT=$((PORT + 5))
SOCK=$LOGDIR/turnd.sock
make_cert "$LOGDIR/old"
make_cert "$LOGDIR/new"
cp "$LOGDIR/old/cert.pem" "$LOGDIR/old/key.pem" "$LOGDIR/"
echo old-secret >"$LOGDIR/secret"
write_conf() { # write_conf EXTRA-LINE
    cat >"$LOGDIR/turnd.conf" <<CONF
turnd: {
  secret_file = "$LOGDIR/secret";
  control_socket = "$SOCK";
  tls_listen = ["127.0.0.1:$TLS_PORT"];
  tls_cert = "$LOGDIR/cert.pem";
  tls_key = "$LOGDIR/key.pem";
  auth_fail_limit = 0; # the refused old secret must not rate-limit 127.0.0.1
  $1
};
CONF
}
write_conf ""
start_turnd turnd --config "$LOGDIR/turnd.conf" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --allow-peer 127.0.0.1/32
wait_control || fail "no control socket"
wait_tcp "127.0.0.1:$TLS_PORT" || fail "turnd does not listen on TLS"

fingerprint() { # fingerprint [-dtls1_2]: SHA-256 of the certificate a new TLS (DTLS) handshake shows
    timeout 20 openssl s_client "$@" -connect "127.0.0.1:$TLS_PORT" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
file_fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }
allocates() { # allocates SECRET TAG: coturn's uclient relays with that shared secret
    timeout 40 turnutils_uclient -u dave -W "$1" -y -n 3 -l 100 -p "$PORT" 127.0.0.1 \
        >"$LOGDIR/uclient-$2.log" 2>&1
    grep -q 'tot_recv_msgs=[1-9]' "$LOGDIR/uclient-$2.log"
}
[ "$(fingerprint)" = "$(file_fingerprint "$LOGDIR/old/cert.pem")" ] || fail "TLS: not the first cert"
[ "$(fingerprint -dtls1_2)" = "$(file_fingerprint "$LOGDIR/old/cert.pem")" ] ||
    fail "DTLS: not the first cert"

turnutils_peer -L 127.0.0.1 -p "$PEER_PORT" >"$LOGDIR/peer.log" 2>&1 &
PIDS+=($!)
wait_udp "127.0.0.1:$PEER_PORT" || fail "turnutils_peer did not start"
# 3000 x 200 bytes every 20 ms: a minute of traffic through one allocation.
turnutils_uclient -u carol -W old-secret -p "$PORT" -e 127.0.0.1 -r "$PEER_PORT" -c -s -n 3000 \
    -l 200 127.0.0.1 >"$LOGDIR/uclient.log" 2>&1 &
PIDS+=($!)
wait_traffic || fail "no traffic through turnd within 20 s"
id=$(ctl_field '{"cmd":"sessions"}' \
    'max(r["sessions"], key=lambda s: s["client_to_peer_bytes"])["id"]')

echo new-secret >"$LOGDIR/secret"
cp "$LOGDIR/new/cert.pem" "$LOGDIR/new/key.pem" "$LOGDIR/"
before=$(field "$(session_of "$id")" 'r["peer_to_client_bytes"]')
kill -HUP "$TURND_PID"
for _ in $(seq 1 50); do grep -q 'event=reloaded' "$LOGDIR/turnd.log" && break; sleep 0.1; done
grep -q 'event=reloaded' "$LOGDIR/turnd.log" || fail "no reload logged"
sleep 1
after=$(session_of "$id")
[ -n "$after" ] || fail "the reload dropped the allocation"
after=$(field "$after" 'r["peer_to_client_bytes"]')
echo "session $id peer_to_client_bytes $before -> $after across the reload"
[ "$after" -gt "$before" ] || fail "the allocation stopped relaying across the reload"

allocates old-secret old && fail "the old secret still allocates"
grep -q 'event=bad_credentials user=[0-9]*:dave' "$LOGDIR/turnd.log" ||
    fail "turnd did not refuse the old secret"
allocates new-secret new || fail "the new secret does not allocate"
new_fp=$(fingerprint)
echo "TLS after the reload: $new_fp"
[ "$new_fp" = "$(file_fingerprint "$LOGDIR/new/cert.pem")" ] || fail "TLS: not the new certificate"
new_fp=$(fingerprint -dtls1_2)
echo "DTLS after the reload: $new_fp"
[ "$new_fp" = "$(file_fingerprint "$LOGDIR/new/cert.pem")" ] || fail "DTLS: not the new certificate"

# A bad file: the reload is refused with file:line, everything stays
write_conf "alloc_bandwidth = -1;"
reply=$(ctl '{"cmd":"reload"}')
echo "bad reload: $reply"
[ "$(field "$reply" 'r["ok"]')" = False ] || fail "a bad config was accepted"
line=$(grep -n alloc_bandwidth "$LOGDIR/turnd.conf" | cut -d: -f1)
field "$reply" 'r["error"]' | grep -q "turnd.conf:$line: alloc_bandwidth" || fail "no file:line"
grep -q 'event=reload_failed' "$LOGDIR/turnd.log" || fail "no reload_failed logged"
[ -n "$(session_of "$id")" ] || fail "a failed reload dropped the allocation"
allocates new-secret kept || fail "a failed reload changed the secret"
write_conf ""
[ "$(ctl_field '{"cmd":"reload"}' 'r["ok"]')" = True ] || fail "reload over the control socket"
exit 0
