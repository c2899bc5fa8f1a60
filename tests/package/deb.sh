#!/bin/bash
# Proves the Debian package works as shipped: `cmake --build . --target
# package` makes it, dpkg installs it with its dependencies satisfied, the
# postinst creates the lanturn user, directories and a default config that
# validates, and the packaged applianced (as user lanturn) brings up turnd and
# signald from /usr and serves the packaged web client and a login. Then the
# package is purged. Needs root; skipped (77) otherwise.
set -u
. "$(dirname "$0")/../lib/common.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: installing a package needs root"; exit 77; }
command -v dpkg >/dev/null || { echo "SKIP: no dpkg"; exit 77; }
BUILD=${LANTURN_BUILD_DIR:?}
dir=$(mktemp -d)
chmod 755 "$dir"
purge() { dpkg --purge lanturn >/dev/null 2>&1; rm -rf /var/lib/lanturn /etc/lanturn; }
trap 'cleanup; purge; rm -rf "$dir"' EXIT

cmake --build "$BUILD" --target package >"$LOGDIR/package.log" 2>&1 || fail "package build: $(tail -20 "$LOGDIR/package.log")"
deb=$(ls -t "$BUILD"/lanturn_*.deb | head -1)
[ -f "$deb" ] || fail "no .deb in $BUILD"
purge
dpkg -i "$deb" >"$LOGDIR/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$LOGDIR/dpkg.log")"
echo "ok: installed $(basename "$deb")"
for f in /usr/sbin/applianced /usr/sbin/turnd /usr/sbin/signald /usr/bin/appliancectl \
         /usr/lib/systemd/system/lanturn.service /usr/share/lanturn/web/index.html /etc/lanturn/lanturn.conf; do
    [ -e "$f" ] || fail "missing $f"
done
getent passwd lanturn >/dev/null || fail "no lanturn user"
[ "$(stat -c %U:%a /var/lib/lanturn)" = lanturn:700 ] || fail "/var/lib/lanturn ownership"
runuser -u lanturn -- /usr/sbin/applianced --config /etc/lanturn/lanturn.conf --check >"$LOGDIR/check.log" 2>&1 ||
    fail "the default config does not validate: $(cat "$LOGDIR/check.log")"
echo "ok: postinst made the user, directories and a default config that validates"

# Start the packaged appliance on test ports (the default uses 443).
HTTPS=$((PORT + 1)) WS=$((PORT + 2))
sed -e "s/127.0.0.1:443/127.0.0.1:$HTTPS/; s/127.0.0.1:3000/127.0.0.1:$WS/; s/127.0.0.1:3478/127.0.0.1:$PORT/g" \
    -e "s|/run/lanturn/applianced.sock|$dir/ctl.sock|" /etc/lanturn/lanturn.conf >"$dir/test.conf"
chown lanturn "$dir"
runuser -u lanturn -- /usr/sbin/applianced --config "$dir/test.conf" >"$LOGDIR/applianced.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf --cacert /etc/lanturn/tls/cert.pem "https://localhost:$HTTPS/healthz" >/dev/null && break; sleep 0.1; done
curl -sf --cacert /etc/lanturn/tls/cert.pem "https://localhost:$HTTPS/" | grep -qi "<html" || fail "web client not served"
pw=$(cat /var/lib/lanturn/initial-admin-password)
curl -s --cacert /etc/lanturn/tls/cert.pem "https://localhost:$HTTPS/api/login" -d "{\"name\":\"admin\",\"password\":\"$pw\"}" |
    grep -q '"token"' || fail "admin cannot log in"
/usr/bin/appliancectl --socket "$dir/ctl.sock" status | grep -q "^signald *running" || fail "appliancectl status"
turnutils_stunclient -p "$PORT" 127.0.0.1 2>&1 | grep -q "UDP reflexive addr" || fail "turnd from the package"
echo "ok: the packaged appliance runs as lanturn: login, web client, TURN, appliancectl"
