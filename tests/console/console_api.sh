#!/bin/bash
# Proves lanturn-console's API against a real applianced, turnd and signald:
# only administrators sign in (a user with the right password is refused, a
# wrong password backs off with 429), the session cookie is HttpOnly, Secure and
# SameSite=Strict, state changes without the CSRF header or from a foreign
# Origin are refused, a chat session token is no console session, and each
# area's routes work and write the audit log.
set -u
. "$(dirname "$0")/../lib/common.sh"
CONSOLE=$(realpath "${CONSOLE:?}") APPLIANCED=$(realpath "${APPLIANCED:?}")
TURND=$(realpath "${TURND:?}") SIGNALD=$(realpath "${SIGNALD:?}")
WEB=$(realpath "$(dirname "$0")/../../appliance/console/web")
dir=$(mktemp -d)
trap 'cleanup; rm -rf "$dir"' EXIT
HTTPS=$((PORT + 1)) WS=$((PORT + 2)) CPORT=$((PORT + 3))
SOCK="$dir/ctl.sock"
URL="https://127.0.0.1:$CPORT"
ADMIN_PW='admin password 1'
mkdir -p "$dir/tls"
echo "$ADMIN_PW" >"$dir/admin-pw"
cat >"$dir/lanturn.conf" <<CONF
appliance: { control_socket = "$SOCK"; turnd = "$TURND"; signald = "$SIGNALD";
             hostname = "localhost"; state_dir = "$dir"; admin_password_file = "$dir/admin-pw"; };
turnd: { listen = ["127.0.0.1:$PORT"]; relay_ip = ["127.0.0.1"]; relay_ports = "$RELAY_LO-$RELAY_HI";
         secret_file = "$dir/turn-secret"; };
signal: { data_dir = "$dir/data"; listen = "127.0.0.1:$HTTPS"; ws_listen = "127.0.0.1:$WS";
          tls_cert = "$dir/tls/cert.pem"; tls_key = "$dir/tls/key.pem"; web_root = "$dir";
          turn_urls = ["turn:127.0.0.1:$PORT?transport=udp"]; turn_secret_file = "$dir/turn-secret";
          password_scrypt_n = 16384; };
console: { listen = "127.0.0.1:$CPORT"; web_root = "$WEB"; applianced = "$APPLIANCED"; };
CONF

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
"$CONSOLE" --config "$dir/lanturn.conf" >"$LOGDIR/console.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -skf "$URL/healthz" >/dev/null && break; sleep 0.1; done
curl -skf "$URL/healthz" >/dev/null || fail "console did not start"

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
status() { tail -1 <<<"$1"; }
json() { sed '$d' <<<"$1"; }
expect() { # expect STATUS RESPONSE WHAT
    [ "$(status "$2")" = "$1" ] || fail "$3: expected $1, got $(status "$2"): $(json "$2")"
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
[ "$(json "$r" | jq -r '[.services[]|.name+"="+.state]|join(",")')" = "turnd=running,signald=running" ] || fail "services: $r"
json "$r" | jq -e '.system.memory.total > 0 and .system.disk.total > 0 and (.system.cpu_percent >= 0)' >/dev/null || fail "system: $r"
json "$r" | jq -e '.stats or (.stats_error|length > 0)' >/dev/null || fail "stats or its error: $r"
echo "ok: dashboard: services from applianced, system figures, stats or the reason they are missing"
