# control.sh - sourced by tests that talk to turnd's control socket ($SOCK):
# one JSON request per line, one JSON answer per line.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ctl() { # ctl JSON-REQUEST: prints the one-line answer
    python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall((sys.argv[2]+"\n").encode()); print(s.makefile().readline().strip())' "${SOCK:?}" "$1"
}
field() { # field JSON PYTHON-EXPRESSION-ON-r
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
ctl_field() { # ctl_field JSON-REQUEST PYTHON-EXPRESSION-ON-r
    field "$(ctl "$1")" "$2"
}
session_of() { # session_of ID: that session's JSON object, or nothing
    ctl_field '{"cmd":"sessions"}' \
        "next((json.dumps(s) for s in r['sessions'] if s['id'] == '$1'), '')"
}
wait_control() { # the control socket answers
    for _ in $(seq 1 50); do
        [ -S "$SOCK" ] && ctl '{"cmd":"stats"}' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
wait_traffic() { # [SECONDS]: stats show bytes relayed both ways
    for _ in $(seq 1 $((${1:-20} * 5))); do
        [ "$(ctl_field '{"cmd":"stats"}' \
            'r["stats"]["client_to_peer_bytes"] > 0 and r["stats"]["peer_to_client_bytes"] > 0')" = \
            True ] && return 0
        sleep 0.2
    done
    return 1
}
