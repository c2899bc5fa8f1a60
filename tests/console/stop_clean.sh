# stop_clean.sh - sourced by the console tests: stop_clean stops applianced
# (PIDS[0]) and fails unless the console it supervised exited 0 with no
# sanitizer report (a leak makes a sanitized build exit non-zero).
stop_clean() {
    kill -TERM "${PIDS[0]}"
    wait "${PIDS[0]}"
    local log="$LOGDIR/applianced.log" pid
    pid=$(sed -n 's/.*event=started service=console pid=\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -n "$pid" ] || fail "the console was never started"
    grep -q "^==$pid==" "$log" && fail "the console's sanitizer report: $(grep -A12 "^==$pid==" "$log" | head -40)"
    grep -q "event=stopped service=console status=0" "$log" || fail "the console did not stop cleanly: $(grep 'service=console' "$log" | tail -3)"
    PIDS=("${PIDS[@]:1}")
}
