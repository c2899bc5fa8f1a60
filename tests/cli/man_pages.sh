#!/bin/bash
# Proves the manual pages in docs/man cannot rot: every page renders with
# groff's warnings turned into failures, has the sections a reader looks for,
# is installed by the package, and names every option (and, for appliancectl
# and turn-probe, every command) that its binary's --help prints today.
# Binaries come from the environment: TURND SIGNALD APPLIANCED APPLIANCECTL
# CONSOLE TURN_PROBE MEDIAD. Exit 77 (skipped) when groff is not installed
# (Debian: groff-base; man-db for man(1)).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MAN=$ROOT/docs/man
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

command -v groff >/dev/null || { echo "SKIP: groff is not installed (apt-get install groff-base man-db)"; exit 77; }
export LC_ALL=C.UTF-8 MANWIDTH=80

# page -> the binary whose --help it documents (none for the file format)
declare -A BIN=(
    [turnd.8]=${TURND:?} [signald.8]=${SIGNALD:?} [applianced.8]=${APPLIANCED:?}
    [appliancectl.1]=${APPLIANCECTL:?} [lanturn-console.8]=${CONSOLE:?} [turn-probe.1]=${TURN_PROBE:?}
    [mediad.8]=${MEDIAD:?}
    [lanturn.conf.5]=
)
n_pages=$(find "$MAN" -maxdepth 1 -type f -name '*.[0-9]' | wc -l)
[ "$n_pages" = "${#BIN[@]}" ] || fail "docs/man has $n_pages pages, this test knows ${#BIN[@]}: add the new one here"

# Every word that looks like an option in TEXT: --long, and -x where an option list puts it.
options_in() {
    grep -oE -- '--[a-z][a-z0-9-]*' <<<"$1"
    grep -oE -- '(^|[][ |,(])-[a-zA-Z]([], |)]|$)' <<<"$1" | grep -oE -- '-[a-zA-Z]'
}

for page in $(printf '%s\n' "${!BIN[@]}" | sort); do
    before=$failures
    src=$MAN/$page
    [ -f "$src" ] || { fail "$page: missing"; continue; }
    section=${page##*.}
    # 1. renders without a single warning, through man(1) as a reader gets it and through groff
    if command -v man >/dev/null; then
        man --warnings -l "$src" >/dev/null 2>"$dir/man.err"
        [ -s "$dir/man.err" ] && fail "$page: man --warnings: $(head -5 "$dir/man.err")"
    fi
    groff -man -ww -Tutf8 -z "$src" 2>"$dir/groff.err"
    [ -s "$dir/groff.err" ] && fail "$page: groff -ww: $(head -5 "$dir/groff.err")"
    # plain text, one paragraph a line and no hyphenation, so option names stay whole
    text=$(groff -man -Tascii -rLL=1000n -rHY=0 -P-cbou "$src" 2>/dev/null)
    [ -n "$text" ] || { fail "$page: renders empty"; continue; }

    # 2. the sections a reader expects
    want=(NAME SYNOPSIS DESCRIPTION FILES EXAMPLES "SEE ALSO")
    [ "$section" != 5 ] && want+=(OPTIONS "EXIT STATUS")
    for s in "${want[@]}"; do
        grep -qx "$s" <<<"$text" || fail "$page: no $s section"
    done
    name=${page%.*}
    grep -A1 -x NAME <<<"$text" | grep -qE "^ +$name - " || fail "$page: NAME does not start with '$name - '"
    head -1 <<<"$text" | grep -qi "^$name($section)" || fail "$page: .TH is not $name($section)"

    # 3. installed by the package into share/man/man<section>
    tr '\n' ' ' <"$ROOT/cmake/Packaging.cmake" | sed 's/)/)\n/g' |
        grep -E "install\(FILES .*docs/man/${page//./\\.}( .*)? DESTINATION share/man/man$section ?\)" >/dev/null ||
        fail "$page: cmake/Packaging.cmake does not install it into share/man/man$section"

    # 4. every option --help prints is in the page
    bin=${BIN[$page]}
    if [ -z "$bin" ]; then
        [ $failures = "$before" ] && echo "ok: $page (renders clean, sections, packaged)"
        continue
    fi
    help=$("$bin" --help 2>&1) || fail "$page: $bin --help failed"
    opts=$(options_in "$help" | sort -u)
    [ -n "$opts" ] || fail "$page: found no options in $bin --help"
    missing=()
    for o in $opts; do
        grep -qE -- "(^|[^a-zA-Z0-9-])$o([^a-zA-Z0-9-]|$)" <<<"$text" || missing+=("$o")
    done
    # the commands of the two tools that have them
    case $page in
    appliancectl.1)
        cmds=$(sed -n '/^Commands:/,/^Options:/p' <<<"$help" | grep -oE '^  [a-z]+' | tr -d ' ' | sort -u) ;;
    turn-probe.1)
        cmds=$(grep -oE '^  turn-probe [a-z]+' <<<"$help" | awk '{print $2}' | sort -u) ;;
    *) cmds= ;;
    esac
    # each command heads an entry of the COMMANDS section (a .TP tag)
    entries=$(sed -n '/^COMMANDS$/,/^OPTIONS$/p' <<<"$text" | grep -E '^       [^ ]')
    for c in $cmds; do
        grep -qE "^       ([a-z]+[|])*$c([ |]|$)" <<<"$entries" || missing+=("command:$c")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        fail "$page: $bin --help prints ${missing[*]}, the page does not"
    elif [ $failures = "$before" ]; then
        echo "ok: $page (renders clean, sections, packaged, $(wc -w <<<"$opts") options$([ -n "$cmds" ] && echo ", $(wc -w <<<"$cmds") commands") of --help)"
    fi
done

[ $failures = 0 ] || { echo "$failures failures"; exit 1; }
echo "PASS: ${#BIN[@]} manual pages"
