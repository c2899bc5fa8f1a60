# common.sh - sourced by the image's boot scripts.
CONF=/etc/lanturn/lanturn.conf
RELEASE=/usr/lib/lanturn-image/release
NETCONF=/data/network.conf

# conf_get GROUP KEY [FILE]: the value(s) of GROUP.KEY in the libconfig file, one per line (strings
# without their quotes); nothing when unset. Enough for the settings the image reads (listen
# addresses, ports); each setting ends with ';' as in lanturn.conf.
conf_get() {
    [ -r "${3:-$CONF}" ] || return 0
    awk -v g="$1" -v k="$2" 'BEGIN { RS = "\001" }
    { t = t $0 }
    END {
        gsub(/#[^\n]*/, "", t)
        gsub(/(^|[ \t\n])\/\/[^\n]*/, "\n", t)
        gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", t)
        if (!match(t, "(^|[^A-Za-z0-9_])" g "[ \t\n]*[:=][ \t\n]*[{]")) exit
        r = substr(t, RSTART + RLENGTH); d = 1
        for (i = 1; i <= length(r); i++) {
            c = substr(r, i, 1)
            if (c == "{") d++
            else if (c == "}" && --d == 0) break
        }
        b = substr(r, 1, i - 1)
        if (!match(b, "(^|[^A-Za-z0-9_])" k "[ \t\n]*[:=][^;]*;")) exit
        v = substr(b, RSTART, RLENGTH); sub(/^[^:=]*[:=]/, "", v)
        n = 0
        while (match(v, /"[^"]*"/)) { print substr(v, RSTART + 1, RLENGTH - 2); v = substr(v, RSTART + RLENGTH); n++ }
        if (!n) { gsub(/[ \t\n;\[\]]/, "", v); if (v != "") print v }
    }' "${3:-$CONF}"
}

# net_get KEY: KEY=value from /data/network.conf (or network.conf on the EFI partition).
net_get() {
    local f=$NETCONF
    [ -r "$f" ] || f=/boot/efi/network.conf
    [ -r "$f" ] || return 0
    sed -n "s/^[ \t]*$1[ \t]*=[ \t]*//p" "$f" | tr -d '\r"' | tail -1
}

booted_slot() { sed -n 's/.*rauc\.slot=\([A-Za-z0-9]*\).*/\1/p' /proc/cmdline; }
image_version() { sed -n 's/^VERSION=//p' "$RELEASE"; }

# say TEXT...: a line on the screen and on the serial port (each opened afresh: a getty may have
# hung up earlier descriptors).
say() {
    local t
    for t in /dev/tty1 /dev/ttyS0; do
        [ -c "$t" ] && printf '%s\r\n' "$*" >"$t" 2>/dev/null || true
    done
    echo "$*"
}
