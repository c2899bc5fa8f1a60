#!/bin/bash
# Proves applianced runs the appliance as documented: refuses an invalid
# config before starting anything, provisions a first start (TURN secret,
# self-signed certificate, first admin who can log in), supervises turnd and
# signald (each is back within 2 s of a kill -9), and that appliancectl's
# commands work against it: status, stop/start/restart, users, config check,
# backup and restore. A large backup runs beside supervision and other
# requests. SIGTERM stops everything (a running backup too) and removes the socket.
set -u
. "$(dirname "$0")/../lib/common.sh"
APPLIANCED=$(realpath "${APPLIANCED:?}") CTL=$(realpath "${APPLIANCECTL:?}")
TURND=$(realpath "$TURND") SIGNALD=$(realpath "${SIGNALD:?}") TURN_PROBE=$(realpath "${TURN_PROBE:?}")
dir=$(mktemp -d)
trap 'cleanup; rm -rf "$dir"' EXIT
HTTPS=$((PORT + 1)) WS=$((PORT + 2))
SOCK="$dir/ctl.sock"
ctl() { "$CTL" --socket "$SOCK" "$@"; }

write_config() { # write_config FILE [EXTRA-SIGNAL-SETTING]
    cat >"$1" <<CONF
appliance: { control_socket = "$SOCK"; turnd = "$TURND"; signald = "$SIGNALD";
             hostname = "localhost"; state_dir = "$dir"; };
turnd: { listen = ["127.0.0.1:$PORT"]; relay_ip = ["127.0.0.1", "::1"]; relay_ports = "$RELAY_LO-$RELAY_HI";
         control_socket = "$dir/turnd.sock";
         secret_file = "$dir/turn-secret"; no_such_turnd_key_guard = 0; };
signal: { data_dir = "$dir/data"; listen = "127.0.0.1:$HTTPS"; ws_listen = "127.0.0.1:$WS";
          tls_cert = "$dir/tls/cert.pem"; tls_key = "$dir/tls/key.pem"; web_root = "$dir";
          turn_urls = ["turn:127.0.0.1:$PORT?transport=udp"]; turn_secret_file = "$dir/turn-secret";
          password_scrypt_n = 16384; control_socket = "$dir/signald.sock"; ${2:-} };
CONF
}
mkdir -p "$dir/tls"

# 1. an invalid config: refused with the service's own file:line message, nothing started
write_config "$dir/bad.conf"
out=$("$APPLIANCED" --config "$dir/bad.conf" 2>&1); rc=$?
[ $rc = 2 ] || fail "invalid config: exit $rc ($out)"
echo "$out" | grep -q "bad.conf:.*unknown setting 'no_such_turnd_key_guard'" || fail "message: $out"
pgrep -f "$dir/bad.conf" >/dev/null && fail "a service started from an invalid config"
echo "ok: invalid config refused: $out"

# 2. first start
write_config "$dir/lanturn.conf"
sed -i 's/ no_such_turnd_key_guard = 0;//' "$dir/lanturn.conf"
mkdir "$dir/tmp" # backups' working directories, checked for leftovers
TMPDIR="$dir/tmp" "$APPLIANCED" --config "$dir/lanturn.conf" >"$LOGDIR/applianced.log" 2>&1 &
APID=$!
PIDS+=($APID)
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "no control socket"
wait_running() { # wait_running SERVICE SECONDS: polls status until the service runs
    local end=$((SECONDS + $2 + 1))
    while [ $SECONDS -lt $end ]; do
        ctl --json status | python3 -c "import json,sys; s={x['name']:x for x in json.load(sys.stdin)['services']}; sys.exit(0 if s['$1']['state']=='running' else 1)" && return 0
        sleep 0.1
    done
    return 1
}
wait_running turnd 3 && wait_running signald 3 || fail "services not running: $(ctl status)"
for f in turn-secret tls/key.pem initial-admin-password; do
    [ "$(stat -c %a "$dir/$f")" = 600 ] || fail "$f is not 0600"
done
openssl x509 -in "$dir/tls/cert.pem" -noout -ext subjectAltName | grep -q "DNS:localhost" || fail "cert SAN"
for _ in $(seq 1 50); do curl -sf --cacert "$dir/tls/cert.pem" "https://localhost:$HTTPS/healthz" >/dev/null && break; sleep 0.1; done
login() {
    curl -s --cacert "$dir/tls/cert.pem" "https://localhost:$HTTPS/api/login" \
        -d "{\"name\":\"$1\",\"password\":\"$2\"}"
}
login admin "$(cat "$dir/initial-admin-password")" | grep -q '"token"' || fail "first admin cannot log in"
echo "ok: first start provisioned secret, certificate and a working first admin"

# 3. supervision: kill -9 each child; it is back (and serving) within 2 s
for svc in turnd signald; do
    old=$(ctl --json status | python3 -c "import json,sys; print([x['pid'] for x in json.load(sys.stdin)['services'] if x['name']=='$svc'][0])")
    kill -9 "$old"
    sleep 0.2
    wait_running "$svc" 2 || fail "$svc not back within 2 s: $(ctl status)"
    echo "ok: $svc back after kill -9 ($(ctl status | grep "^$svc"))"
done
for _ in $(seq 1 20); do curl -sf --cacert "$dir/tls/cert.pem" "https://localhost:$HTTPS/healthz" >/dev/null && break; sleep 0.1; done
curl -sf --cacert "$dir/tls/cert.pem" "https://localhost:$HTTPS/healthz" >/dev/null || fail "signald not serving after restart"
turnutils_stunclient -p "$PORT" 127.0.0.1 2>&1 | grep -q "UDP reflexive addr" || fail "turnd not answering after restart"
ctl logs applianced | grep -q "event=exited service=turnd signal=9" || fail "logs: no crash record"
[ "$(ctl logs turnd | grep -c "module=turnd event=started")" = 2 ] || fail "logs: turnd's own lines"
ctl logs signald --level warn --lines 50 | grep -q "event=start " && fail "logs: level filter"
grep -q "module=turnd event=started" "$LOGDIR/applianced.log" || fail "services' lines not passed on to stderr"
echo "ok: logs keep the services' lines and applianced's events, filtered by service and level"

# 4. appliancectl
echo 'a long password' | ctl users add erin --display-name "Erin" >/dev/null || fail "users add"
echo 'a long password' | ctl users add erin >/dev/null 2>&1 && fail "users add twice"
echo 'short' | ctl users add frank >/dev/null 2>&1 && fail "a weak password is accepted"
ctl users list | grep -q "erin" || fail "users list"
login erin 'a long password' | grep -q '"token"' || fail "erin cannot log in"
ctl users disable erin >/dev/null || fail "users disable"
login erin 'a long password' | grep -q '"forbidden"' || fail "a disabled user logs in"
ctl users disable nobody >/dev/null 2>&1; [ $? = 1 ] || fail "disable unknown is exit 1"
ctl stop turnd >/dev/null || fail "stop"
for _ in $(seq 1 50); do ctl status | grep -q "^turnd *stopped" && break; sleep 0.1; done # stopping until reaped
ctl status | grep -q "^turnd *stopped" || fail "stop: $(ctl status)"
ctl start turnd >/dev/null && wait_running turnd 2 || fail "start"
ctl restart signald >/dev/null && wait_running signald 3 || fail "restart"
ctl restart nosuch >/dev/null 2>&1; [ $? = 1 ] || fail "unknown service is exit 1"
ctl config check >/dev/null || fail "config check"
ctl frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "unknown command is exit 2"
"$CTL" --socket "$dir/none.sock" status >/dev/null 2>&1; [ $? = 3 ] || fail "no applianced is exit 3"
echo "ok: appliancectl status, stop/start/restart, users, config check, exit codes"

# stats and device sessions come from signald's control socket
ctl --json stats | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r['signald']['ok'] and 'users_online' in r['signald']['stats'], r
assert r['system']['mem_total_bytes'] > 0 and r['system']['disk_total_bytes'] > 0, r
" || fail "stats: $(ctl --json stats)"
ctl sessions list | grep -q "^ *CONN" || fail "sessions list"
ctl metrics | grep -q "^lanturn_signal_users_online " || fail "metrics"
echo "ok: stats, sessions and metrics from the services"

# TURN sessions through turnd's control socket: listed while uclient relays, killed on request
secret=$(cat "$dir/turn-secret")
tuser="$(($(date +%s) + 600)):7"
tpass=$(printf '%s' "$tuser" | openssl dgst -sha1 -hmac "$secret" -binary | base64)
timeout 20 turnutils_uclient -y -n 400 -m 1 -l 100 -z 20 -u "$tuser" -w "$tpass" -p "$PORT" 127.0.0.1 \
    >"$LOGDIR/uclient.log" 2>&1 &
UCLIENT=$!
for _ in $(seq 1 50); do
    [ "$(ctl --json turn sessions | python3 -c "import json,sys; print(len(json.load(sys.stdin).get('sessions', [])))")" -ge 1 ] && break
    sleep 0.1
done
ids=$(ctl --json turn sessions | python3 -c "import json,sys; print(' '.join(s['id'] for s in json.load(sys.stdin)['sessions'] if s['user'] == '$tuser'))")
[ -n "$ids" ] || fail "turn sessions: none for $tuser: $(ctl turn sessions)"
ctl --json stats | python3 -c "import json,sys; r=json.load(sys.stdin); assert r['turn_allocations'] >= 1, r" ||
    fail "stats: no TURN allocations"
first=${ids%% *}
ctl turn kill "$first" >/dev/null || fail "turn kill"
ctl --json turn sessions | python3 -c "import json,sys; assert '$first' not in [s['id'] for s in json.load(sys.stdin)['sessions']]" ||
    fail "turn kill: session $first still listed"
kill "$UCLIENT" 2>/dev/null
wait "$UCLIENT" 2>/dev/null
# a dual-stack allocation (RFC 6156) is listed with both of its relayed addresses
"$TURN_PROBE" allocate "127.0.0.1:$PORT" --user "$tuser:$tpass" --dual --hold 5 >"$LOGDIR/dual.out" 2>&1 &
DUAL=$!
for _ in $(seq 1 50); do [ "$(grep -c '^relay ' "$LOGDIR/dual.out")" = 2 ] && break; sleep 0.1; done
[ "$(grep -c '^relay ' "$LOGDIR/dual.out")" = 2 ] || fail "dual allocation: $(cat "$LOGDIR/dual.out")"
r4=$(sed -n 's/^relay \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$LOGDIR/dual.out")
r6=$(sed -n 's/^relay \(\[::1\]:[0-9]*\)$/\1/p' "$LOGDIR/dual.out")
ctl turn sessions | grep -qF " $r4,$r6 " || fail "turn sessions does not show both relays $r4 $r6: $(ctl turn sessions)"
kill "$DUAL" 2>/dev/null
wait "$DUAL" 2>/dev/null
echo "ok: TURN sessions listed with their user and killed by id"

# 5. backup and restore: a user made after the backup is gone after the restore, and
# signald is restarted (by applianced, once the restore's child is done)
svc_pid() { ctl --json status | python3 -c "import json,sys; print(([x['pid'] for x in json.load(sys.stdin)['services'] if x['name']=='$1' and x['state']=='running'] or [0])[0])"; }
(cd "$dir" && ctl backup backup.tar.gz) | grep -q "backup written" || fail "backup"
tar tzf "$dir/backup.tar.gz" | sort | tr '\n' ' ' | grep -q "files/ lanturn.conf lanturn.db" || fail "backup contents"
echo 'a long password' | ctl users add gina >/dev/null
sig_before=$(svc_pid signald)
ctl restore "$dir/backup.tar.gz" >/dev/null || fail "restore"
ctl users list | grep -q gina && fail "restore did not replace the data"
ctl users list | grep -q erin || fail "restore lost data"
for _ in $(seq 1 30); do sig_after=$(svc_pid signald); [ "$sig_after" != 0 ] && [ "$sig_after" != "$sig_before" ] && break; sleep 0.1; done
[ "$sig_after" != 0 ] && [ "$sig_after" != "$sig_before" ] || fail "signald not restarted after the restore: $(ctl status)"
printf 'not a backup' >"$dir/junk.tar.gz"
ctl restore "$dir/junk.tar.gz" >/dev/null 2>&1 && fail "junk restored"
echo "ok: backup and restore"

# 5b. a large backup runs in a child: meanwhile applianced answers at once, restarts a
# crashed service, and refuses a second backup or a restore
ms() { echo $(($(date +%s%N) / 1000000)); }
db=$(ls "$dir"/data/*.db)
sqlite3 "$db" "PRAGMA busy_timeout=10000; CREATE TABLE ballast(b BLOB);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
  INSERT INTO ballast SELECT randomblob(1000000) FROM n;" || fail "cannot grow the database"
t0=$(ms)
ctl backup "$dir/big.tar.gz" >"$dir/big.out" 2>&1 &
BPID=$!
for _ in $(seq 1 100); do grep -q "event=backup_start path=$dir/big.tar.gz" "$LOGDIR/applianced.log" && break; sleep 0.05; done
grep -q "event=backup_start path=$dir/big.tar.gz" "$LOGDIR/applianced.log" || fail "no backup_start logged"
s0=$(ms); ctl status >/dev/null || fail "status during a backup"; status_ms=$(($(ms) - s0))
out=$(ctl backup "$dir/big2.tar.gz" 2>&1) && fail "a second backup ran beside the first"
echo "$out" | grep -q "a backup is running" || fail "second backup: $out"
out=$(ctl restore "$dir/backup.tar.gz" 2>&1) && fail "a restore ran beside a backup"
echo "$out" | grep -q "a backup is running" || fail "restore during a backup: $out"
old=$(svc_pid turnd)
k0=$(ms); kill -9 "$old"
for _ in $(seq 1 60); do new=$(svc_pid turnd); [ "$new" != 0 ] && [ "$new" != "$old" ] && break; sleep 0.05; done
back_ms=$(($(ms) - k0))
[ "$new" != 0 ] && [ "$new" != "$old" ] || fail "turnd not restarted during a backup: $(ctl status)"
kill -0 $BPID 2>/dev/null || fail "the backup ended before the checks; they proved nothing (big.out: $(cat "$dir/big.out"))"
wait $BPID || fail "large backup: $(cat "$dir/big.out")"
backup_ms=$(($(ms) - t0))
grep -q "backup written" "$dir/big.out" || fail "large backup: $(cat "$dir/big.out")"
size=$(tar tvzf "$dir/big.tar.gz" lanturn.db | awk '{print $3}')
[ "${size:-0}" -gt 200000000 ] || fail "the large backup's database is $size bytes"
[ -z "$(ls "$dir/tmp")" ] || fail "temporary files left: $(ls "$dir/tmp")"
rm -f "$dir/big.tar.gz" "$dir/big2.tar.gz"
echo "ok: during a ${backup_ms} ms backup of a $((size / 1000000)) MB database status answered in ${status_ms} ms, turnd was back ${back_ms} ms after kill -9, a second backup and a restore were refused"

# 6. a config broken while running: check reports file:line, restart refuses
sed -i 's/ws_listen = /ws_lissen = /' "$dir/lanturn.conf"
out=$(ctl config check 2>&1) && fail "broken config passes"
echo "$out" | grep -q "lanturn.conf:.*unknown setting 'ws_lissen'" || fail "check message: $out"
ctl restart signald >/dev/null 2>&1 && fail "restart with a broken config"
wait_running signald 1 || fail "a refused restart stopped signald"
echo "ok: broken config reported ($out) and the running service kept"

# 7. SIGTERM stops everything, a running backup too (its client is told)
ctl backup "$dir/cut.tar.gz" >"$dir/cut.out" 2>&1 &
BPID=$!
for _ in $(seq 1 100); do grep -q "event=backup_start path=$dir/cut.tar.gz" "$LOGDIR/applianced.log" && break; sleep 0.05; done
kill -TERM $APID
for _ in $(seq 1 100); do kill -0 $APID 2>/dev/null || break; sleep 0.1; done
kill -0 $APID 2>/dev/null && fail "applianced did not stop"
pgrep -f "$dir/lanturn.conf" >/dev/null && fail "a service survived"
[ -e "$SOCK" ] && fail "socket left behind"
wait $BPID && fail "a backup cut short by SIGTERM succeeded"
grep -q "the backup stopped before it finished: applianced is stopping" "$dir/cut.out" || fail "cut backup: $(cat "$dir/cut.out")"
pgrep -f "$dir/cut.tar.gz" >/dev/null && fail "the backup's tar survived"
[ -z "$(ls "$dir/tmp")" ] || fail "temporary files left after SIGTERM: $(ls "$dir/tmp")"
echo "ok: SIGTERM stopped everything, a running backup included"
