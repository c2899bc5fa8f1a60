# common.sh - sourced by interop tests: start processes on loopback, stop them on exit.
#
# Each test gets its own port block from ctest (LANTURN_PORT_BASE), so tests
# running in parallel never collide: BASE is the STUN/TURN port, BASE+1..+9 are
# for peers and sinks. Relays get their own range outside Linux's ephemeral
# ports (32768-60999) so relay binds never race client sockets: ctest hands
# out LANTURN_RELAY_LO/LANTURN_RELAY_PORTS per test (interop, security), so
# neighbouring tests' relays never share a port; otherwise BASE+1000..+1099.
set -u
PORT=${LANTURN_PORT_BASE:?LANTURN_PORT_BASE not set}
RELAY_LO=${LANTURN_RELAY_LO:-$((PORT + 1000))}
RELAY_HI=$((RELAY_LO + ${LANTURN_RELAY_PORTS:-100} - 1))
LOGDIR=${LANTURN_LOG_DIR:-$(mktemp -d)}
mkdir -p "$LOGDIR"
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$LOGDIR"/*.log; do
        [ -f "$f" ] || continue
        echo "--- $f (last 30 lines)"
        tail -30 "$f"
    done
    exit 1
}

wait_listening() { # wait_listening u|t ADDR:PORT: a UDP or TCP socket is bound there
    for _ in $(seq 1 100); do
        ss -Hl${1}n 2>/dev/null | awk '{print $4}' | grep -qx "$2" && return 0
        sleep 0.05
    done
    return 1
}
wait_udp() { wait_listening u "$1"; }
wait_tcp() { wait_listening t "$1"; }


# make_cert DIR: a throwaway self-signed certificate for localhost (DIR/cert.pem, DIR/key.pem).
make_cert() {
    mkdir -p "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=localhost -keyout "$1/key.pem" -out "$1/cert.pem" >"$1/openssl.log" 2>&1 ||
        fail "openssl could not make a certificate: $(cat "$1/openssl.log")"
}

# start_turnd NAME ARGS...: run turnd (binary in $TURND) in the background;
# with TURND_WORKERS set, that many workers (the tests' workers=2 variants).
start_turnd() {
    local name=$1
    shift
    "${TURND:?TURND not set}" --relay-ports "$RELAY_LO-$RELAY_HI" --log-level debug \
        ${TURND_WORKERS:+--workers "$TURND_WORKERS"} "$@" >"$LOGDIR/$name.log" 2>&1 &
    PIDS+=($!)
    TURND_PID=$!
    local listen
    listen=$(printf '%s\n' "$@" | grep -A1 -x -- --listen | grep -v -- --listen | head -1)
    wait_udp "${listen:-127.0.0.1:3478}" || fail "turnd $name did not start"
}

# uclient_ok LOG: coturn's uclient exits 0 even with loss; read its counters.
uclient_ok() {
    local log=$1 counts sent recv lost
    counts=$(grep -o 'tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*' "$log" | tail -1)
    sent=$(echo "$counts" | sed -n 's/tot_send_msgs=\([0-9]*\),.*/\1/p')
    recv=$(echo "$counts" | sed -n 's/.*tot_recv_msgs=\([0-9]*\)/\1/p')
    lost=$(sed -n 's/.*Total lost packets \([0-9]*\).*/\1/p' "$log" | tail -1)
    echo "sent=${sent:--} received=${recv:--} lost=${lost:--}"
    [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$recv" = "$sent" ] && [ "${lost:-x}" = 0 ]
}

# make_lab_netns NAME: a network namespace NAME (deleted at exit) with loopback
# up and the addresses 10.99.0.1, 10.99.0.5, fd99::1 and fd99::5 on it, so a
# server has real non-loopback addresses and 127.0.0.1/::1 are plain loopback.
# Exits 77 (skip) when namespaces cannot be made (not root).
make_lab_netns() {
    NS=$1
    ip netns add "$NS" 2>/dev/null || { echo "SKIP: cannot create a network namespace (needs root)"; exit 77; }
    trap 'cleanup; ip netns del "$NS" 2>/dev/null' EXIT
    ip netns exec "$NS" ip link set lo up
    ip netns exec "$NS" ip addr add 10.99.0.1/32 dev lo
    ip netns exec "$NS" ip addr add 10.99.0.5/32 dev lo
    ip netns exec "$NS" ip addr add fd99::1/128 dev lo nodad
    ip netns exec "$NS" ip addr add fd99::5/128 dev lo nodad
}
in_ns() { ip netns exec "${NS:?}" "$@"; }
