#!/bin/bash
# Proves the console's update flow end to end with RAUC's command line stood in
# for by tests/console/fake-rauc (the image test runs the real one): the status
# names both slots; bundles RAUC refuses (wrong signer, tampered, another
# model) end as "failed" with applianced's plain reason; a good one installs
# in the background while the console and applianced keep answering, a second
# upload meanwhile is refused, and afterwards the other slot holds the new
# version and a restart is offered (and refused off the image). Every spooled
# bundle is removed once RAUC is done with it, and each result is audited.
set -u
. "$(dirname "$0")/rig.sh"
mkdir -p "$dir/bin" "$dir/rauc"
ln -s "$(realpath "$(dirname "$0")/fake-rauc")" "$dir/bin/rauc"

PATH="$dir/bin:$PATH" FAKE_RAUC_DIR="$dir/rauc" "$APPLIANCED" --config "$dir/lanturn.conf" >"$LOGDIR/applianced.log" 2>&1 &
PIDS+=($!)
wait_console

get() { curl -sk -b "$dir/jar" -w '\n%{http_code}' --max-time "${2:-10}" "$URL$1"; }
post() { curl -sk -b "$dir/jar" -c "$dir/jar" -w '\n%{http_code}' -H 'X-Requested-With: lanturn-console' "$@"; }
up() { post --data-binary "@$2" "$URL/api/update/upload?name=$1"; }
# bundle FILE MARKER: shaped like a signed RAUC bundle (SquashFS magic, a
# signature size at the end), with a marker fake-rauc reacts to
bundle() { { printf 'hsqs'; head -c 8000 /dev/zero; printf '%s' "$2"; head -c 100 /dev/zero; printf '\0\0\0\0\0\0\0\x40'; } >"$1"; }
# wait_install: polls the status until the install is over; prints it
wait_install() {
    local r
    for _ in $(seq 1 100); do
        r=$(get /api/update/status)
        [ "$(json "$r" | jq -r .install.state)" != installing ] && { json "$r"; return 0; }
        sleep 0.2
    done
    fail "the install did not finish: $r"
}

r=$(post -H 'Content-Type: application/json' -d "{\"name\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$URL/api/login")
expect 200 "$r" "login"
r=$(get /api/update/status); expect 200 "$r" "status"
json "$r" | jq -e '.available and .running.slot == "A" and (.running.version|length > 0) and .other.slot == "B" and
    .other.version == "1.0" and .compatible == "lanturn-x86_64" and (.restart_pending|not)' >/dev/null || fail "status: $r"
echo "ok: status names the running slot and version and the other slot's"

for m in WRONG-SIGNER:"not signed by a key this appliance trusts" TAMPERED:"damaged or was modified" \
         OTHER-MODEL:"for a different product"; do
    marker=${m%%:*} want=${m#*:}
    bundle "$dir/b.raucb" "$marker"
    r=$(up "lanturn-$marker.raucb" "$dir/b.raucb"); expect 202 "$r" "upload $marker"
    s=$(wait_install)
    jq -e --arg w "$want" '.install.state == "failed" and (.install.message|contains($w)) and (.restart_pending|not)' <<<"$s" >/dev/null ||
        fail "$marker: $s"
done
echo "ok: wrong signer, tampered and other-model bundles fail with RAUC's reason in plain words"

bundle "$dir/good.raucb" GOOD
r=$(up lanturn-2.0.raucb "$dir/good.raucb"); expect 202 "$r" "upload good"
json "$r" | jq -e '.install.state == "installing" and .install.name == "lanturn-2.0.raucb"' >/dev/null || fail "installing: $r"
r=$(up lanturn-2.0.raucb "$dir/good.raucb"); expect 409 "$r" "a second upload during the install"
# applianced and the console keep answering while RAUC works
r=$(get /api/dashboard 2); expect 200 "$r" "dashboard during the install"
json "$r" | jq -e '[.services[]|select(.state=="running")]|length == 3' >/dev/null || fail "services during the install: $r"
r=$(get /api/update/status 2); json "$r" | jq -e '.install.state == "installing" and .install.elapsed_ms >= 0' >/dev/null ||
    fail "status during the install: $r"
s=$(wait_install)
jq -e '.install.state == "installed" and .install.version == "2.0" and .install.slot == "B" and .other.version == "2.0" and
    .next_boot == "B" and .restart_pending' <<<"$s" >/dev/null || fail "installed: $s"
r=$(post -H 'Content-Type: application/json' -d '{}' "$URL/api/update/restart"); expect 409 "$r" "restart off the image"
json "$r" | jq -r .message | grep -q "only possible on the appliance image" || fail "restart: $r"
echo "ok: a good bundle installs in the background (console and applianced answer meanwhile, a second upload is refused); the other slot then holds 2.0 and a restart is offered"

[ "$(wc -l <"$dir/rauc/installed-paths")" = 4 ] || fail "RAUC was asked $(wc -l <"$dir/rauc/installed-paths") times"
grep -v "^$dir/data/update-spool/install-[A-Za-z0-9]*\.raucb$" "$dir/rauc/installed-paths" && fail "RAUC was given a path outside the spool"
[ -z "$(ls -A "$dir/data/update-spool")" ] || fail "bundles left in the spool: $(ls -A "$dir/data/update-spool")"
r=$(get /api/audit)
json "$r" | jq -e '[.entries[]|select(.action=="update.install")|.detail]|(map(select(test("installed version 2.0 into slot B")))|length == 1) and
    (map(select(test("refused: the update is not signed")))|length == 1)' >/dev/null || fail "audit: $(json "$r" | jq -c '[.entries[]|select(.action|startswith("update"))]')"
echo "ok: RAUC got only spooled files under our own names, none is left, and the audit log has each result"
stop_clean
echo "ok: the console stops cleanly (exit 0, no sanitizer report)"
