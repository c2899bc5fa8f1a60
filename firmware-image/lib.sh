# lib.sh - sourced by firmware-image/build and firmware-image/bundle.
set -euo pipefail
FW=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$FW/.." && pwd)
WORK=${LANTURN_IMAGE_WORK:-/var/tmp/lanturn-image}
COMPATIBLE=${LANTURN_IMAGE_COMPATIBLE:-lanturn-x86_64}

log() { echo "[$(date +%T)] $*"; }
die() { echo "error: $*" >&2; exit 1; }

# The Debian mirror apt is configured with (never hard-coded here).
debian_mirror() {
    local m
    m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$m" ] || m=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$m" ] || die "no Debian mirror in apt's configuration; set LANTURN_IMAGE_MIRROR"
    echo "$m"
}

need_tools() { # need_tools CMD...: every one on PATH, or a message naming the package list
    local c missing=()
    for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "missing host tools: ${missing[*]} (install LANTURN_IMAGE_PACKAGES from tools/deps-image.sh)" >&2
    return 1
}
