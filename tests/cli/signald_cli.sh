#!/bin/bash
# Proves signald's command line behaves as documented: --help/--version,
# file:line config errors with exit status 2, --print-config output that
# loads back, the example config, and the `user` subcommands' exit codes
# (0 done, 2 usage or weak password, 3 exists / does not exist).
set -u
SIGNALD=${SIGNALD:?}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$SIGNALD" --help | grep -q "^Usage: signald" || fail "--help"
"$SIGNALD" --version | grep -q "^signald (lanturn) " || fail "--version"
"$SIGNALD" --bogus >/dev/null 2>&1; [ $? = 2 ] || fail "an unknown flag is exit 2"

expect_error() { # expect_error "PATTERN" CONFIG-TEXT
    printf '%s\n' "$2" >"$dir/t.conf"
    out=$("$SIGNALD" --config "$dir/t.conf" --print-config 2>&1)
    rc=$?
    [ $rc = 2 ] || fail "expected exit 2 for: $2 (got $rc: $out)"
    echo "$out" | grep -q -- "$1" || fail "expected '$1' in: $out"
    echo "ok: $out"
}
expect_error "t.conf:3: unknown setting 'lisen' in signal" $'signal:\n{\n  lisen = "1.2.3.4:1";\n};'
expect_error "t.conf:2: signal.listen: expected \"IP:PORT\"" $'signal: {\n listen = "example.org:443";\n};'
expect_error "t.conf:2: signal.file_max_mb: 0 is outside" $'signal: {\n file_max_mb = 0;\n};'
expect_error "t.conf:1: signal.turn_urls: 'http://x' is not" 'signal: { turn_urls = ["http://x"]; };'
expect_error "cannot open" 'signal: { turn_secret_file = "/nonexistent/secret"; };'
expect_error "t.conf:1: syntax error" 'signal: { listen = ; };'

# The example config is valid once its secret file exists.
sed "s|/var/lib/lanturn/turn-secret|$dir/secret|" "$SRC/signal/signald.conf.example" >"$dir/ex.conf"
echo s3cret >"$dir/secret"
"$SIGNALD" --config "$dir/ex.conf" --print-config >"$dir/printed.conf" || fail "example config: $(cat "$dir/printed.conf")"
grep -q 'ice_transport_policy = "relay";' "$dir/printed.conf" || fail "printed config"
grep -q "s3cret" "$dir/printed.conf" && fail "the secret is printed"
# what it prints loads back to the same thing
"$SIGNALD" --config "$dir/printed.conf" --turn-secret-file "$dir/secret" --print-config >"$dir/again.conf" ||
    fail "printed config does not load: $(cat "$dir/again.conf")"
diff <(grep -v turn_secret "$dir/printed.conf") <(grep -v turn_secret "$dir/again.conf") || fail "round trip"
echo "ok: --print-config round trip"

# user subcommands
printf 'a long password\n' >"$dir/pw"
printf 'short\n' >"$dir/weak"
D=(-d "$dir/data" --scrypt-n 16384)
"$SIGNALD" user add ann --admin --password-file "$dir/pw" "${D[@]}" | grep -q "added user ann" || fail "user add"
"$SIGNALD" user add ann --password-file "$dir/pw" "${D[@]}" 2>/dev/null; [ $? = 3 ] || fail "add twice is 3"
"$SIGNALD" user add ben --password-file "$dir/weak" "${D[@]}" 2>/dev/null; [ $? = 2 ] || fail "weak is 2"
"$SIGNALD" user add ben "${D[@]}" 2>/dev/null; [ $? = 2 ] || fail "no password file is 2"
printf 'another long one\n' | "$SIGNALD" user add ben --password-file - "${D[@]}" >/dev/null || fail "stdin"
"$SIGNALD" user disable nobody "${D[@]}" 2>/dev/null; [ $? = 3 ] || fail "unknown user is 3"
"$SIGNALD" user disable ben "${D[@]}" >/dev/null || fail "disable"
"$SIGNALD" user passwd ann --password-file "$dir/pw" "${D[@]}" >/dev/null || fail "passwd"
list=$("$SIGNALD" user list "${D[@]}")
echo "$list" | grep -q $'^1\tann\tadmin\t' || fail "list: $list"
echo "$list" | grep -q $'^2\tben\tuser,disabled\t' || fail "list: $list"
echo "ok: user subcommands"
