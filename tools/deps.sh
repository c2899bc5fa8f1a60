# deps.sh - sourced by tools/run and tools/test: install missing Debian packages.
# usage: lanturn_install_packages PKG...
lanturn_install_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${#missing[@]} Debian packages: ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then
        echo "error: missing packages and not root; run as root or install: ${missing[*]}" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || { echo "error: apt-get update failed" >&2; return 1; }
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
        { echo "error: apt-get install failed" >&2; return 1; }
}

LANTURN_BUILD_PACKAGES=(build-essential cmake pkg-config libssl-dev libconfig-dev openssl
                        libsqlite3-dev libwebsockets-dev libjansson-dev libev-dev
                        libwebsockets-evlib-ev libnice-dev libglib2.0-dev libsrtp2-dev)
LANTURN_TEST_PACKAGES=(libcmocka-dev libnice-dev libglib2.0-dev clang libclang-rt-14-dev valgrind
                       coturn iproute2 procps sqlite3 curl chromium adduser
                       groff-base man-db python3)

# lanturn_install_node: node and npm for the protocol and browser tests. A
# machine may already have Node.js from elsewhere (with its own npm); Debian's
# packages are the fallback.
lanturn_install_node() {
    command -v node >/dev/null && command -v npm >/dev/null && return 0
    lanturn_install_packages nodejs npm
}

# lanturn_npm_ci DIR: install DIR's locked npm packages (quick when current).
lanturn_npm_ci() {
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        { echo "error: npm ci failed in $1" >&2; return 1; }
}
