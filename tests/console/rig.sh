# rig.sh - sourced by the console tests: a temporary directory with the
# appliance's config for a real applianced, turnd, signald and lanturn-console
# on this test's port block, and the helpers that read curl's answers.
# Sets dir, SOCK, URL, HTTPS, WS, CPORT, ADMIN_PW; the caller starts applianced.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/stop_clean.sh"
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
appliance: { control_socket = "$SOCK"; turnd = "$TURND"; signald = "$SIGNALD"; console = "$CONSOLE";
             hostname = "localhost"; state_dir = "$dir"; admin_password_file = "$dir/admin-pw"; };
turnd: { listen = ["127.0.0.1:$PORT"]; relay_ip = ["127.0.0.1"]; relay_ports = "$RELAY_LO-$RELAY_HI";
         secret_file = "$dir/turn-secret"; };
signal: { data_dir = "$dir/data"; listen = "127.0.0.1:$HTTPS"; ws_listen = "127.0.0.1:$WS";
          tls_cert = "$dir/tls/cert.pem"; tls_key = "$dir/tls/key.pem"; web_root = "$dir";
          turn_urls = ["turn:127.0.0.1:$PORT?transport=udp"]; turn_secret_file = "$dir/turn-secret";
          password_scrypt_n = 16384; };
console: { listen = "127.0.0.1:$CPORT"; web_root = "$WEB"; applianced = "$APPLIANCED"; };
CONF

# wait_console: until the console (started by applianced) answers /healthz
wait_console() {
    for _ in $(seq 1 100); do curl -skf "$URL/healthz" >/dev/null && return 0; sleep 0.1; done
    fail "console did not start"
}
# A response is curl's body, then the HTTP status on the last line.
status() { tail -1 <<<"$1"; }
json() { sed '$d' <<<"$1"; }
expect() { # expect STATUS RESPONSE WHAT
    [ "$(status "$2")" = "$1" ] || fail "$3: expected $1, got $(status "$2"): $(json "$2")"
}
