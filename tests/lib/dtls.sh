# dtls.sh - sourced by tests of turnd's DTLS listener: start_dtls_turnd runs
# turnd with a throwaway certificate, DTLS on DTLS_PORT (the TLS address, over
# UDP) and a control socket; `metric NAME` reads one series of its metrics;
# python3 finds dtls_hello.py (a hand-made ClientHello) on PYTHONPATH.
. "$(dirname "${BASH_SOURCE[0]}")/control.sh"
DTLS_PORT=$((PORT + 5))
SOCK=$LOGDIR/turnd.sock
export PYTHONPATH
PYTHONPATH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}

start_dtls_turnd() { # start_dtls_turnd [MORE TURND FLAGS...]
    make_cert "$LOGDIR/tls"
    start_turnd turnd --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 --user alice:wonderland \
        --tls-cert "$LOGDIR/tls/cert.pem" --tls-key "$LOGDIR/tls/key.pem" \
        --tls-listen "127.0.0.1:$DTLS_PORT" --control-socket "$SOCK" "$@"
    wait_udp "127.0.0.1:$DTLS_PORT" || fail "turnd does not listen on DTLS"
    wait_control || fail "no control socket"
}

metric() { # metric NAME: the value of lanturn_turnd_NAME (labels included) now
    ctl_field '{"cmd":"metrics"}' 'r["metrics"]' | sed -n "s/^lanturn_turnd_$1 \([0-9]*\)$/\1/p"
}
