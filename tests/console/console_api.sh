#!/bin/bash
# Proves lanturn-console's API against a real applianced, turnd and signald:
# only administrators sign in (a user with the right password is refused, a
# wrong password backs off with 429), the session cookie is HttpOnly, Secure and
# SameSite=Strict, state changes without the CSRF header or from a foreign
# Origin are refused, a chat session token is no console session, and each
# area's routes work and write the audit log.
set -u
. "$(dirname "$0")/rig.sh"

# --help, --print-config and a config error with file:line
"$CONSOLE" --help | grep -q "admin web console" || fail "--help"
"$CONSOLE" --config "$dir/lanturn.conf" --print-config | grep -q "listen = \"127.0.0.1:$CPORT\"" || fail "--print-config"
printf 'console: { listen = "127.0.0.1:1"; colour = "blue"; };\n' >"$dir/bad.conf"
out=$("$CONSOLE" --config "$dir/bad.conf" 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "bad.conf:1: unknown setting 'colour' in console" || fail "bad config: $rc $out"
printf 'console: {\n listen = "nowhere";\n};\n' >"$dir/bad.conf"
out=$("$CONSOLE" --config "$dir/bad.conf" 2>&1)
echo "$out" | grep -q "bad.conf:2: console.listen: expected \"IP:PORT\"" || fail "bad listen: $out"
echo "ok: --help, --print-config, config errors with file:line"

"$APPLIANCED" --config "$dir/lanturn.conf" >"$LOGDIR/applianced.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$SOCK" ] && [ -f "$dir/tls/cert.pem" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "applianced did not start"
# applianced supervises the console (appliance.console)
wait_console

# c METHOD PATH [JSON] [CURL-ARGS...]: a request with the admin's cookie jar and
# the CSRF header; prints the body, then the status on the last line.
c() {
    local m=$1 p=$2 body=${3:-}
    shift 3 2>/dev/null || shift $#
    if [ "$m" = POST ]; then
        curl -sk -b "$dir/jar" -c "$dir/jar" -H 'X-Requested-With: lanturn-console' \
            -H 'Content-Type: application/json' -d "${body:-{\}}" -w '\n%{http_code}' "$@" "$URL$p"
    else
        curl -sk -b "$dir/jar" -c "$dir/jar" -w '\n%{http_code}' "$@" "$URL$p"
    fi
}

# 1. sign-in
r=$(c GET /api/me); expect 401 "$r" "me before login"
r=$(curl -sk -w '\n%{http_code}' -H 'Content-Type: application/json' -d "{\"name\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$URL/api/login")
expect 403 "$r" "login without the CSRF header"
r=$(c POST /api/login "{\"name\":\"admin\",\"password\":\"$ADMIN_PW\"}" -H 'Origin: https://evil.example' )
expect 403 "$r" "login from a foreign Origin"
r=$(c POST /api/login "{\"name\":\"admin\",\"password\":\"$ADMIN_PW\"}" -D "$dir/headers")
expect 200 "$r" "admin login"
grep -i '^set-cookie: lanturn_console=' "$dir/headers" | grep -i 'HttpOnly' | grep -i 'Secure' | grep -qi 'SameSite=Strict' ||
    fail "cookie flags: $(grep -i set-cookie "$dir/headers")"
r=$(c GET /api/me); expect 200 "$r" "me"
[ "$(json "$r" | jq -r .user.name)" = admin ] || fail "me: $r"
echo "ok: admin signs in; cookie HttpOnly Secure SameSite=Strict; CSRF header and Origin enforced"

# 2. users: create, list, search, refusals
r=$(c POST /api/users/create '{"name":"erin","display_name":"Erin E","password":"erin password 1"}')
expect 201 "$r" "create erin"
r=$(c POST /api/users/create '{"name":"erin","password":"erin password 1"}'); expect 409 "$r" "create twice"
r=$(c POST /api/users/create '{"name":"weak","password":"short"}'); expect 400 "$r" "weak password"
r=$(c POST /api/users/create '{"name":"bad name!","password":"a long password"}'); expect 400 "$r" "bad name"
r=$(curl -sk -b "$dir/jar" -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"name":"mallory","password":"a long password"}' "$URL/api/users/create")
expect 403 "$r" "create without the CSRF header"
r=$(c GET '/api/users?q=eri'); expect 200 "$r" "search"
[ "$(json "$r" | jq -r '[.users[].name]|join(",")')" = erin ] || fail "search: $r"
r=$(c GET /api/users); [ "$(json "$r" | jq '.users|length')" = 2 ] || fail "list: $r"
echo "ok: users create (duplicate, weak password, bad name and missing CSRF refused), list, search"

# 3. a non-admin with the right password is refused; wrong passwords back off
r=$(curl -sk -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' -d '{"name":"erin","password":"erin password 1"}' "$URL/api/login")
expect 403 "$r" "non-admin login"
[ "$(json "$r" | jq -r .error)" = not_admin ] || fail "non-admin: $r"
# a chat session of an administrator is not a console session
tok=$(curl -sk "https://127.0.0.1:$HTTPS/api/login" -d "{\"name\":\"admin\",\"password\":\"$ADMIN_PW\"}" | jq -r .token)
[ -n "$tok" ] && [ "$tok" != null ] || fail "signald login"
r=$(curl -sk -w '\n%{http_code}' -b "lanturn_console=$tok" "$URL/api/me"); expect 401 "$r" "a chat token as console cookie"
for i in 1 2 3 4 5; do
    r=$(curl -sk -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' -d '{"name":"erin","password":"wrong password"}' "$URL/api/login")
    expect 401 "$r" "wrong password $i"
done
r=$(curl -sk -D "$dir/h429" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' -d '{"name":"erin","password":"erin password 1"}' "$URL/api/login")
expect 429 "$r" "sixth attempt"
grep -qi '^retry-after: [0-9]' "$dir/h429" || fail "no Retry-After"
echo "ok: non-admins refused (403 not_admin), chat tokens refused, back-off after 5 failures (429 + Retry-After)"

# 4. user actions
r=$(c POST /api/users/password '{"name":"erin","password":"new erin password"}'); expect 200 "$r" "reset password"
r=$(c POST /api/users/admin '{"name":"erin","admin":true}'); expect 200 "$r" "make admin"
r=$(c GET '/api/users?q=erin'); [ "$(json "$r" | jq .users[0].is_admin)" = true ] || fail "admin flag: $r"
r=$(c POST /api/users/admin '{"name":"admin","admin":false}'); expect 409 "$r" "revoke own admin"
r=$(c POST /api/users/disable '{"name":"admin"}'); expect 409 "$r" "disable self"
r=$(c POST /api/users/disable '{"name":"erin"}'); expect 200 "$r" "disable"
r=$(c GET '/api/users?q=erin'); [ "$(json "$r" | jq .users[0].disabled)" = true ] || fail "disabled flag: $r"
r=$(c POST /api/users/enable '{"name":"erin"}'); expect 200 "$r" "enable"
r=$(c POST /api/users/disable '{"name":"nobody"}'); expect 404 "$r" "disable unknown"
r=$(c POST /api/users/import "$(jq -n --arg csv $'name,display_name,password,admin\nfay,Fay F,fay password 1,no\ngus,"Gus, G",gus password 1,yes\nbad!,x,a long password\nhal,Hal,short' '{csv:$csv}')")
expect 200 "$r" "import"
[ "$(json "$r" | jq -r '.created|join(",")')" = fay,gus ] || fail "import created: $r"
[ "$(json "$r" | jq -r '[.errors[].line]|join(",")')" = 4,5 ] || fail "import errors: $r"
r=$(c GET '/api/users?q=gus'); [ "$(json "$r" | jq -r '.users[0].display_name + " " + (.users[0].is_admin|tostring)')" = "Gus, G true" ] || fail "imported gus: $r"
r=$(c POST /api/users/delete '{"name":"fay","retention":"keep"}'); expect 200 "$r" "delete"
json "$r" | jq -r .note | grep -q "disabled" || fail "delete note: $r"
r=$(c POST /api/users/delete '{"name":"fay","retention":"later"}'); expect 400 "$r" "delete bad retention"
echo "ok: reset password, make admin, self-protection, disable/enable, CSV import with per-line errors, delete disables"

# 5. dashboard
r=$(c GET /api/dashboard); expect 200 "$r" "dashboard"
[ "$(json "$r" | jq -r '[.services[]|.name+"="+.state]|join(",")')" = "turnd=running,signald=running,console=running" ] || fail "services: $r"
json "$r" | jq -e '.system.memory.total > 0 and .system.disk.total > 0 and (.system.cpu_percent >= 0)' >/dev/null || fail "system: $r"
json "$r" | jq -e '.stats or (.stats_error|length > 0)' >/dev/null || fail "stats or its error: $r"
echo "ok: dashboard: services from applianced, system figures, stats or the reason they are missing"

# 6. what applianced may not offer yet is reported with its own words
for p in /api/turn/sessions '/api/logs?service=turnd&limit=10'; do
    r=$(c GET "$p")
    case $(status "$r") in
    200) ;;
    502) json "$r" | jq -r .message | grep -q "applianced" || fail "$p error text: $r" ;;
    *) fail "$p: $r" ;;
    esac
done
r=$(c POST /api/turn/kill '{}'); expect 400 "$r" "kill without id"
echo "ok: TURN sessions and logs relay applianced's answer or its error"

# 7. rooms: a room made in the chat service shows up with its members; archive it
room=$(curl -sk -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    "https://127.0.0.1:$HTTPS/api/rooms" -d '{"name":"ops","topic":"operations"}' | jq -r '.room.id // .id // empty')
r=$(c GET /api/rooms); expect 200 "$r" "rooms"
if [ -n "$room" ]; then
    [ "$(json "$r" | jq -r ".rooms[]|select(.id==$room)|.name")" = ops ] || fail "room list: $r"
    r=$(c GET "/api/rooms/members?id=$room"); expect 200 "$r" "members"
    [ "$(json "$r" | jq -r '.members[0].name + ":" + .members[0].role')" = admin:owner ] || fail "members: $r"
    r=$(c POST /api/rooms/archive "{\"id\":$room,\"archived\":true}"); expect 200 "$r" "archive"
    r=$(c GET /api/rooms); [ "$(json "$r" | jq ".rooms[]|select(.id==$room)|.archived")" = true ] || fail "archived: $r"
    echo "ok: rooms list, members, archive"
else
    echo "skip: signald offers no HTTP room creation; rooms list only"
fi
r=$(c POST /api/rooms/archive '{"id":999999,"archived":true}'); expect 404 "$r" "archive unknown room"

# 8. settings: a valid change is saved (layout kept) and signald restarted; an invalid one is refused with file:line
r=$(c GET /api/settings); expect 200 "$r" "settings"
[ "$(json "$r" | jq -r '.groups[]|select(.name=="signal")|.settings[]|select(.key=="listen")|.value')" = "127.0.0.1:$HTTPS" ] || fail "settings value: $r"
cp "$dir/lanturn.conf" "$dir/before.conf"
r=$(c POST /api/settings '{"group":"signal","key":"listen","value":"nowhere"}'); expect 422 "$r" "invalid listen"
json "$r" | jq -r .message | grep -q "lanturn.conf:.*signal.listen" || fail "invalid message: $r"
cmp -s "$dir/lanturn.conf" "$dir/before.conf" || fail "a refused change altered the file"
r=$(c POST /api/settings '{"group":"signal","key":"file_max_mb","value":50}'); expect 200 "$r" "valid change"
[ "$(json "$r" | jq -r .restarted)" = signald ] || fail "not restarted: $r"
grep -q 'file_max_mb = 50;' "$dir/lanturn.conf" || fail "not written: $(cat "$dir/lanturn.conf")"
cp "$dir/lanturn.conf" "$dir/before.conf"
r=$(c POST /api/settings '{"group":"signal","key":"file_max_mb","value":60}'); expect 200 "$r" "second change"
[ "$(diff "$dir/before.conf" "$dir/lanturn.conf" | grep -c '^[<>]')" = 2 ] || fail "more than one line changed: $(diff "$dir/before.conf" "$dir/lanturn.conf")"
grep -q 'file_max_mb = 60;' "$dir/lanturn.conf" || fail "not replaced in place"
r=$(c POST /api/settings '{"group":"turnd","key":"realm","value":"example"}'); expect 200 "$r" "turnd realm"
grep -q 'realm = "example";' "$dir/lanturn.conf" || fail "realm not inserted"
r=$(c POST /api/settings '{"group":"turnd","key":"realm","reset":true}'); expect 200 "$r" "reset realm"
grep -q 'realm' "$dir/lanturn.conf" && fail "realm not removed"
r=$(c POST /api/settings '{"group":"signal","key":"no_such","value":1}'); expect 400 "$r" "unknown key"
echo "ok: settings shown with values; invalid change refused with file:line and file untouched; valid change saved and signald restarted; insert and reset"

# 9. certificates: a mismatched key and an expired certificate are refused; a good pair is installed
r=$(c GET /api/certs); expect 200 "$r" "certs"
json "$r" | jq -e '.certificate.days_left > 0' >/dev/null || fail "cert info: $r"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=new.example \
    -keyout "$dir/new.key" -out "$dir/new.crt" 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$dir/other.key" 2>/dev/null
r=$(c POST /api/certs/upload "$(jq -n --rawfile c "$dir/new.crt" --rawfile k "$dir/other.key" '{cert:$c,key:$k}')")
expect 422 "$r" "mismatched key"
json "$r" | jq -r .message | grep -q "does not belong" || fail "mismatch message: $r"
r=$(c POST /api/certs/upload "$(jq -n --rawfile c "$dir/new.crt" '{cert:$c,key:"junk"}')"); expect 422 "$r" "junk key"
r=$(c POST /api/certs/upload "$(jq -n --rawfile c "$dir/new.crt" --rawfile k "$dir/new.key" '{cert:$c,key:$k}')")
expect 200 "$r" "install"
cmp -s "$dir/new.crt" "$dir/tls/cert.pem" || fail "cert not installed"
[ "$(stat -c %a "$dir/tls/key.pem")" = 600 ] || fail "key mode"
r=$(c POST /api/certs/selfsigned '{"hostname":"chat.example.internal"}'); expect 200 "$r" "selfsigned"
openssl x509 -in "$dir/tls/cert.pem" -noout -subject | grep -q chat.example.internal || fail "selfsigned subject"
echo "ok: certificates: shown, mismatched/junk refused, good pair installed (key 0600), self-signed regenerated"

# 10. backup download and restore
r=$(c GET /api/backup/download '' -o "$dir/dl.tar.gz" -D "$dir/hb"); [ "$(tail -1 <<<"$r")" = 200 ] || fail "backup: $r"
grep -qi 'content-disposition: attachment; filename="lanturn-backup-' "$dir/hb" || fail "disposition: $(cat "$dir/hb")"
tar tzf "$dir/dl.tar.gz" | grep -qx lanturn.db || fail "backup contents"
[ -z "$(ls "$dir/data/console-tmp")" ] || fail "temporary backup left behind: $(ls "$dir/data/console-tmp")"
# (checked now: the restore below brings back the audit log as it was in the backup)
c GET /api/audit | sed '$d' | jq -e '.entries[0].action == "backup.download"' >/dev/null || fail "backup not audited"
r=$(c POST /api/users/create '{"name":"later","password":"a long password"}'); expect 201 "$r" "user after backup"
r=$(curl -sk -b "$dir/jar" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' --data-binary "@$dir/dl.tar.gz" "$URL/api/backup/restore")
expect 200 "$r" "restore"
r=$(c GET '/api/users?q=later'); [ "$(status "$r")" = 401 ] || [ "$(json "$r" | jq '.users|length')" = 0 ] || fail "restore kept a later user: $r"
r=$(c POST /api/login "{\"name\":\"admin\",\"password\":\"$ADMIN_PW\"}"); expect 200 "$r" "login after restore"
r=$(curl -sk -w '\n%{http_code}' --data-binary "@$dir/dl.tar.gz" "$URL/api/backup/restore"); expect 403 "$r" "restore without CSRF"
r=$(curl -sk -b "$dir/jar" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' --data-binary 'junk' "$URL/api/backup/restore"); expect 422 "$r" "junk restore"
echo "ok: backup downloads as an attachment with the database and no leftover; restore replaces data; junk refused"

# 11. the Update page: no RAUC here, so the API says so plainly; bad files and
# names are refused before anything is installed; only a signed-in
# administrator with the CSRF header may upload
SPOOL="$dir/data/update-spool"
up() { # up NAME FILE [CURL-ARGS...]: upload FILE as an update bundle called NAME
    local name=$1 file=$2
    shift 2
    curl -sk -b "$dir/jar" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' \
        --data-binary "@$file" "$@" "$URL/api/update/upload?name=$name"
}
r=$(c GET /api/update/status); expect 200 "$r" "update status"
json "$r" | jq -e '(.running.version|length) > 0 and .install.state == "idle"' >/dev/null || fail "update status: $r"
json "$r" | jq -e '.available == false and (.reason|test("not available on this system"))' >/dev/null ||
    fail "without RAUC's service the status must say updates are not available: $r"
head -c 20000 /dev/urandom >"$dir/garbage.raucb"
r=$(up lanturn-2.0.raucb "$dir/garbage.raucb"); expect 422 "$r" "garbage bundle"
[ "$(json "$r" | jq -r .error)" = not_a_bundle ] && json "$r" | jq -r .message | grep -q "not a lanturn update bundle" ||
    fail "garbage refusal: $r"
for bad in '..%2F..%2Fetc%2Fcron.d%2Fx.raucb' '%2Ftmp%2Fx.raucb' '..%5Cx.raucb' '.hidden.raucb' \
           'x%0Ay.raucb' 'lanturn.tar.gz' 'a..b.raucb' ''; do
    r=$(up "$bad" "$dir/garbage.raucb"); expect 400 "$r" "upload name '$bad'"
    [ "$(json "$r" | jq -r .error)" = bad_name ] || fail "name '$bad': $r"
done
# a NUL in the name: libwebsockets drops such a request itself, or we refuse it
r=$(up 'x%00.raucb' "$dir/garbage.raucb")
case $(status "$r") in 400 | 000) ;; *) fail "upload name with NUL: $r" ;; esac
[ ! -e "$dir/x.raucb" ] && [ ! -e /tmp/x.raucb ] && [ ! -e "$dir/data/x.raucb" ] || fail "a path trick wrote a file"
r=$(c GET /api/audit)
json "$r" | jq -e '[.entries[]|select(.action=="update.upload" and (.detail|test("refused: the file name must not contain a path \\(name \"\\.\\./\\.\\./etc/cron.d/x.raucb\"\\)")))]|length == 1' >/dev/null ||
    fail "path trick not audited: $(json "$r" | jq -c '[.entries[]|select(.action=="update.upload")|.detail]')"
# a file shaped like a signed bundle gets as far as asking RAUC, which is not here
{ printf 'hsqs'; head -c 8000 /dev/zero; printf '\0\0\0\0\0\0\x10\0'; } >"$dir/shaped.raucb"
r=$(up lanturn-2.0.raucb "$dir/shaped.raucb"); expect 503 "$r" "bundle without RAUC"
json "$r" | jq -r .message | grep -q "not available on this system" || fail "no-RAUC refusal: $r"
r=$(up lanturn-2.0.raucb "$dir/shaped.raucb" -H 'Content-Length: 5000000000' --max-time 10); expect 413 "$r" "too large"
r=$(curl -sk -b "$dir/jar" -w '\n%{http_code}' --data-binary "@$dir/shaped.raucb" "$URL/api/update/upload?name=a.raucb")
expect 403 "$r" "upload without the CSRF header"
r=$(curl -sk -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' --data-binary "@$dir/shaped.raucb" "$URL/api/update/upload?name=a.raucb")
expect 401 "$r" "upload without a session"
# an administrator demoted while signed in is refused at once
r=$(curl -sk -c "$dir/jar-gus" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' -d '{"name":"gus","password":"gus password 1"}' "$URL/api/login")
expect 200 "$r" "gus signs in"
r=$(c POST /api/users/admin '{"name":"gus","admin":false}'); expect 200 "$r" "demote gus"
r=$(curl -sk -b "$dir/jar-gus" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' --data-binary "@$dir/shaped.raucb" "$URL/api/update/upload?name=a.raucb")
expect 401 "$r" "upload by a non-admin"
r=$(c POST /api/update/restart); expect 409 "$r" "restart outside the image"
json "$r" | jq -r .message | grep -q "only possible on the appliance image" || fail "restart refusal: $r"
[ -z "$(ls -A "$SPOOL")" ] || fail "uploads left in the spool: $(ls -A "$SPOOL")"
echo "ok: update page API: running version, RAUC's absence said plainly, garbage and path tricks refused, size limit, CSRF/session/admin enforced, nothing left in the spool"

# 12. TURN self-test: allocate, a peer allocation, permissions, a datagram
# there and back through both relays, release; then with a wrong secret and
# with turnd unreachable, the failing step says why
r=$(c POST /api/diag/turn); expect 200 "$r" "turn self-test"
json "$r" | jq -e '.passed and ([.steps[]|select(.ok)|.step]|join(",")) == "allocate,peer allocation,permission,relay to peer,relay back,release"' >/dev/null ||
    fail "turn self-test: $r"
json "$r" | jq -e '.steps[0].detail|test("relayed address 127\\.0\\.0\\.1:")' >/dev/null || fail "relayed address: $r"
echo "   self-test steps (ms): $(json "$r" | jq -c '[.steps[]|"\(.step)=\(.ms)"]|join(" ")')"
ss -Hlun | awk -v lo=$RELAY_LO -v hi=$RELAY_HI '{n=split($4,a,":"); p=a[n]+0} p>=lo && p<=hi {f=1} END {exit !f}' &&
    fail "the self-test left a relay port open: $(ss -Hlun)"
cp "$dir/lanturn.conf" "$dir/keep.conf"
echo "not the secret" >"$dir/wrong-secret"
sed -i "s|secret_file = \"$dir/turn-secret\"; };|secret_file = \"$dir/wrong-secret\"; };|" "$dir/lanturn.conf"
grep -q wrong-secret "$dir/lanturn.conf" || fail "test setup: secret not swapped"
r=$(c POST /api/diag/turn); expect 200 "$r" "turn self-test, wrong secret"
json "$r" | jq -e '(.passed|not) and .steps[0].step == "allocate" and (.steps[0].ok|not) and (.error|test("401.*shared secret"))' >/dev/null ||
    fail "wrong secret: $r"
cp "$dir/keep.conf" "$dir/lanturn.conf"
sed -i "s|listen = \[\"127.0.0.1:$PORT\"\]|listen = [\"127.0.0.1:$((PORT + 9))\"]|" "$dir/lanturn.conf"
r=$(c POST /api/diag/turn); expect 200 "$r" "turn self-test, unreachable"
json "$r" | jq -e '(.passed|not) and (.error|test("no answer within"))' >/dev/null || fail "unreachable: $r"
cp "$dir/keep.conf" "$dir/lanturn.conf"
echo "ok: TURN self-test passes against turnd (allocate, peer, permission, relay both ways, release); wrong secret -> 401 named; unreachable -> no answer"

# 13. diagnostics, audit log, logout
r=$(c POST /api/diag/stun); expect 200 "$r" "stun"
json "$r" | jq -e '[.results[]|select(.transport=="udp" and .ok and (.mapped|startswith("127.0.0.1:")))]|length == 1' >/dev/null || fail "stun udp: $r"
r=$(c GET /api/audit); expect 200 "$r" "audit"
for a in console.login user.create user.disable settings.change certificate.install backup.restore diag.stun update.upload diag.turn; do
    json "$r" | jq -e --arg a "$a" '[.entries[]|select(.action==$a and .actor=="admin")]|length > 0' >/dev/null || fail "audit lacks $a by admin: $(json "$r" | jq -c '[.entries[]|.action]')"
done
r=$(c POST /api/logout); expect 200 "$r" "logout"
r=$(c GET /api/me); expect 401 "$r" "me after logout"
echo "ok: STUN self-test reaches turnd over UDP; the audit log names the admin for each action; logout ends the session"
stop_clean
echo "ok: the console stops cleanly (exit 0, no sanitizer report)"
