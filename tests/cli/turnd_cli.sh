#!/bin/bash
# Proves turnd's command line and config loader behave as documented:
# --help/--version, file:line errors with exit status 2 for bad settings,
# flags overriding the file, and --print-config output that loads back.
set -u
TURND=${TURND:?}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$TURND" --help | grep -q "^Usage: turnd" || fail "--help"
"$TURND" --version | grep -q "^turnd (lanturn) " || fail "--version"

expect_error() { # expect_error "PATTERN" CONFIG-TEXT [FLAGS...]
    local pattern=$1 text=$2
    shift 2
    printf '%s\n' "$text" >"$dir/t.conf"
    out=$("$TURND" --config "$dir/t.conf" --print-config "$@" 2>&1)
    rc=$?
    [ $rc = 2 ] || fail "expected exit 2 for: $text (got $rc: $out)"
    echo "$out" | grep -q -- "$pattern" || fail "expected '$pattern' in: $out"
    echo "ok: $(echo "$out" | head -1)"
}
expect_error "t.conf:3: unknown setting 'relay_prots' in turnd" $'turnd:\n{\n  relay_prots = "1-2";\n};'
expect_error "t.conf:2: relay_ports: expected" $'turnd: {\n relay_ports = "9-5";\n};'
expect_error "t.conf:2: lifetime_max: must be between" $'turnd: {\n lifetime_max = 5;\n};'
expect_error "t.conf:2: listen: expected a string" $'turnd: {\n listen = 5;\n};'
expect_error "t.conf:3: users: each entry needs exactly name and password" \
    $'turnd: {\n users = (\n { name = "a"; });\n};'
expect_error "t.conf:1: syntax error" 'turnd: { realm = ; };'
expect_error "relay_ip is required when listening on a wildcard" $'turnd: { listen = ["0.0.0.0:3478"]; };'
expect_error "bad address range '10.0.0.0/33'" $'turnd: {\n deny_peer = ["10.0.0.0/33"];\n};'
expect_error "listen: bad address 'nonsense'" 'turnd: { };' --listen nonsense
"$TURND" --relay-ports 10-20 2>&1 | grep -q "relay-ports" || fail "bad --relay-ports accepted"
expect_error "t.conf:2: tcp: expected true or false" $'turnd: {\n tcp = "yes";\n};'
expect_error "t.conf:3: max_connections: must be between 1 and 1000000" \
    $'turnd: {\n\n max_connections = 0;\n};'
expect_error "t.conf:2: idle_timeout: must be between 5 and 3600" $'turnd: {\n idle_timeout = 1;\n};'
expect_error "tls_cert and tls_key go together" $'turnd: {\n tls_cert = "/c.pem";\n};'
expect_error "tls_listen needs tls_cert and tls_key" $'turnd: {\n tls_listen = ["127.0.0.1:443"];\n};'
expect_error "tls_listen: bad address 'x'" $'turnd: { tls_cert = "c"; tls_key = "k"; };' --tls-listen x
expect_error "t.conf:2: tls_key: empty file name" $'turnd: {\n tls_key = "";\n};'
expect_error "dtls_listen needs tls_cert and tls_key" $'turnd: {\n dtls_listen = ["127.0.0.1"];\n};'
expect_error "dtls_listen: bad address 'x'" $'turnd: { tls_cert = "c"; tls_key = "k"; };' --dtls-listen x
expect_error "t.conf:2: max_dtls_sessions: must be between 1 and 1000000" \
    $'turnd: {\n max_dtls_sessions = 0;\n};'
expect_error "t.conf:2: metrics_listen: expected IP:PORT" $'turnd: {\n metrics_listen = "127.0.0.1";\n};'
expect_error "--metrics-listen: expected IP:PORT" 'turnd: { };' --metrics-listen nonsense
expect_error "t.conf:2: auth_fail_window: must be between 1 and 86400" \
    $'turnd: {\n auth_fail_window = 0;\n};'
expect_error "t.conf:2: alloc_bandwidth: must be between 0 and 1000000000" \
    $'turnd: {\n alloc_bandwidth = -1;\n};'
expect_error "t.conf:2: closed_loop: expected true or false" $'turnd: {\n closed_loop = 1;\n};'
expect_error "t.conf:2: client_subnets: bad address range '10.0.0.0/99'" \
    $'turnd: {\n client_subnets = ["10.0.0.0/99"];\n closed_loop = true;\n};'
expect_error "client_subnets only applies with closed_loop = true" \
    $'turnd: {\n client_subnets = ["10.0.0.0/8"];\n};'
expect_error "t.conf:2: alternate_server: expected IP:PORT or" \
    $'turnd: {\n alternate_server = "turn2";\n};'
expect_error "t.conf:2: alternate_server: expected IP:PORT or" \
    $'turnd: {\n alternate_server = "0.0.0.0:3478";\n};'
expect_error "alternate_domain needs alternate_server" $'turnd: {\n alternate_domain = "x.org";\n};'
expect_error "t.conf:2: draining: expected true or false" $'turnd: {\n draining = "yes";\n};'
expect_error "t.conf:2: control_socket: expected a string" $'turnd: {\n control_socket = 5;\n};'
expect_error "t.conf:2: udp_buffer: must be between 0 and 1073741824" \
    $'turnd: {\n udp_buffer = 2000000000;\n};'
expect_error "t.conf:2: workers: must be between 1 and 64" $'turnd: {\n workers = 65;\n};'
expect_error "--workers: expected a number from 1 to 64" 'turnd: { };' --workers 0
expect_error "control_socket: longer than 107 characters" 'turnd: { };' \
    --control-socket "/run/$(printf 'x%.0s' $(seq 1 120))"
expect_error "t.conf:3: auth_fail_limit: expected an integer" \
    $'turnd: {\n\n auth_fail_limit = "ten";\n};'

# A full file, flags on top, printed and loaded back.
cat >"$dir/full.conf" <<'CONF'
signal: { anything = "ignored"; };
turnd:
{
  listen = ["127.0.0.1:4000", "[::1]:4000"];
  relay_ip = ["127.0.0.1", "::1"];
  relay_ports = "50000-50100";
  realm = "file-realm";
  users = ( { name = "alice"; password = "a:b:c"; } );
  deny_peer = ["10.9.0.0/16"];
  user_quota = 3;
  tcp = false;
  tls_cert = "/etc/lanturn/turn.pem";
  tls_key = "/etc/lanturn/turn.key";
  tls_listen = ["127.0.0.1", "[::1]:443"];
  max_connections = 100;
  idle_timeout = 20;
  auth_fail_limit = 5;
  auth_fail_window = 120;
  alloc_bandwidth = 250000;
  user_bandwidth = 1000000;
  closed_loop = true;
  client_subnets = ["10.1.0.0/16", "fd00::/8"];
  alternate_server = "10.0.0.6";
  alternate_domain = "turn2.example.org";
  draining = true;
  control_socket = "/run/t/turnd.sock";
  udp_buffer = 1048576;
  workers = 3;
  dtls_listen = ["127.0.0.1:5350"];
  max_dtls_sessions = 50;
  metrics_listen = "127.0.0.1:9641";
};
CONF
"$TURND" --config "$dir/full.conf" --realm flag-realm --user bob:pw --print-config >"$dir/printed.conf" ||
    fail "full config refused"
grep -q 'realm = "flag-realm"' "$dir/printed.conf" || fail "--realm did not override the file"
grep -q 'name = "alice"' "$dir/printed.conf" && grep -q 'name = "bob"' "$dir/printed.conf" ||
    fail "users from file and flag not merged"
grep -q 'user_quota = 3' "$dir/printed.conf" || fail "user_quota lost"
grep -q 'auth_fail_limit = 5' "$dir/printed.conf" && grep -q 'auth_fail_window = 120' \
    "$dir/printed.conf" || fail "auth_fail_limit/auth_fail_window lost"
grep -q 'alloc_bandwidth = 250000' "$dir/printed.conf" && grep -q 'user_bandwidth = 1000000' \
    "$dir/printed.conf" && grep -q 'closed_loop = true' "$dir/printed.conf" &&
    grep -q 'client_subnets = \["10.1.0.0/16", "fd00::/8"\]' "$dir/printed.conf" ||
    fail "bandwidth or closed-loop settings lost"
grep -q 'alternate_server = "10.0.0.6:3478"' "$dir/printed.conf" &&
    grep -q 'alternate_domain = "turn2.example.org"' "$dir/printed.conf" &&
    grep -q 'draining = true' "$dir/printed.conf" || fail "alternate-server settings lost"
grep -q 'control_socket = "/run/t/turnd.sock"' "$dir/printed.conf" || fail "control_socket lost"
grep -q 'udp_buffer = 1048576;' "$dir/printed.conf" || fail "udp_buffer lost"
"$TURND" --print-config | grep -q 'udp_buffer = 4194304;' || fail "default udp_buffer"
grep -q 'workers = 3;' "$dir/printed.conf" || fail "workers lost"
"$TURND" --print-config | grep -q 'workers = 1;' || fail "default workers"
"$TURND" --config "$dir/full.conf" --workers 2 --print-config | grep -q 'workers = 2;' ||
    fail "--workers did not override the file"
"$TURND" --control-socket "" --print-config | grep -q 'control_socket = "";' ||
    fail "--control-socket \"\" does not turn the socket off"
"$TURND" --print-config | grep -q 'control_socket = "/run/lanturn/turnd.sock";' ||
    fail "default control_socket"
grep -q 'a:b:c' "$dir/printed.conf" && fail "a password was printed"
grep -q 'tls_listen = \["127.0.0.1:5349", "\[::1\]:443"\]' "$dir/printed.conf" ||
    fail "tls_listen lost or without its default port"
grep -q 'tcp = false' "$dir/printed.conf" && grep -q 'max_connections = 100' "$dir/printed.conf" &&
    grep -q 'idle_timeout = 20' "$dir/printed.conf" && grep -q 'tls_key = "/etc/lanturn/turn.key"' \
    "$dir/printed.conf" || fail "stream settings lost"
# TLS without tls_listen: the listen addresses on 5349.
"$TURND" --listen 127.0.0.1:4000 --tls-cert c.pem --tls-key k.pem --print-config |
    grep -q 'tls_listen = \["127.0.0.1:5349"\]' || fail "default tls_listen"
grep -q 'dtls_listen = \["127.0.0.1:5350"\]' "$dir/printed.conf" &&
    grep -q 'max_dtls_sessions = 50;' "$dir/printed.conf" &&
    grep -q 'metrics_listen = "127.0.0.1:9641";' "$dir/printed.conf" || fail "DTLS or metrics settings lost"
# DTLS beside TLS by default, off with --no-dtls or without a certificate; metrics off by default.
"$TURND" --tls-cert c.pem --tls-key k.pem --tls-listen 127.0.0.1:443 --print-config |
    grep -q 'dtls_listen = \["127.0.0.1:443"\]' || fail "default dtls_listen"
"$TURND" --tls-cert c.pem --tls-key k.pem --no-dtls --print-config | grep -q 'dtls_listen = \[\]' ||
    fail "--no-dtls"
"$TURND" --print-config | grep -q 'dtls_listen = \[\]' || fail "DTLS without a certificate"
"$TURND" --print-config | grep -q 'metrics_listen = "";' || fail "metrics not off by default"
sed 's/<redacted>/x/' "$dir/printed.conf" >"$dir/reloaded.conf"
"$TURND" --config "$dir/reloaded.conf" --print-config >"$dir/printed2.conf" || fail "printed config does not load"
diff "$dir/printed.conf" "$dir/printed2.conf" || fail "printed config changed on reload"
echo "ok: flags override the file; --print-config reloads to the same configuration"
