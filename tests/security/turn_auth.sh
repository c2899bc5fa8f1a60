#!/bin/bash
# Proves, against the real turnd on loopback, what an attacker without (or
# with stolen, or guessed) credentials gets from it:
#  - amplification: every unauthenticated request, indication and garbage
#    datagram gets at most one datagram back, garbage none, and the largest
#    byte factor stays at the measured bound (see docs/SECURITY.md: a 20-byte
#    request cannot get a smaller answer, so ≤ 1 is not reachable for STUN);
#  - a nonce is bound to the address it was issued to (438 elsewhere);
#  - expired and forged shared-secret credentials get 401;
#  - one user filling the relay ports stops at user_quota (486) while
#    another user still allocates;
#  - after auth_fail_limit wrong passwords an address gets no more answers
#    to TURN requests, while Binding and other addresses are unaffected;
#  - a flood of unauthenticated requests from one address (a forged victim)
#    gets at most unauth_answer_limit answers: fewer bytes back than sent.
. "$(dirname "$0")/../lib/common.sh"
ATTACK="python3 $(dirname "$0")/stun_attack.py"
SECRET=security-test-secret-42
printf '%s' "$SECRET" >"$LOGDIR/secret"
cat >"$LOGDIR/turnd.conf" <<CONF
turnd: {
  auth_fail_limit = 5;
  auth_fail_window = 60;
  unauth_answer_limit = 200;
  unauth_answer_window = 60;
};
CONF
start_turnd turnd --config "$LOGDIR/turnd.conf" --listen "127.0.0.1:$PORT" --relay-ip 127.0.0.1 \
    --user alice:alice-pw --user bob:bob-pw --user carol:carol-pw --user dave:dave-pw \
    --secret-file "$LOGDIR/secret" --user-quota 4
S=127.0.0.1:$PORT

echo "== amplification (unauthenticated requests; bound: ${AMPLIFICATION_BOUND:=5.5})"
out=$(AMPLIFICATION_MAX=$AMPLIFICATION_BOUND $ATTACK amplification "$S") || fail "$out"
echo "$out"
echo "$out" | grep -q 'in [2-9] datagram' && fail "a request got more than one datagram back"
echo "$out" | grep -E '^(garbage|HTTP|STUN header|Send indication|ChannelData)' | grep -qv 'response 0 B' &&
    fail "garbage or an indication got an answer"

echo "== nonce replay from another address"
$ATTACK nonce-replay "$S" alice:alice-pw 127.0.0.1 127.0.0.2 || fail "nonce replay"
echo "== expired shared-secret credentials"
$ATTACK expired "$S" "$SECRET" erin || fail "expired credentials"
echo "== one user exhausting the relay ports"
$ATTACK quota "$S" bob:bob-pw 4 carol:carol-pw || fail "user quota"
echo "== password guessing"
$ATTACK guessing "$S" dave:dave-pw 127.0.0.3 127.0.0.4 5 || fail "failed-auth rate limit"
grep -q 'event=rate_limited client=127.0.0.3' "$LOGDIR/turnd.log" || fail "the rate limit was not logged"
echo "== a flood of unauthenticated requests aimed at one address"
$ATTACK flood "$S" 127.0.0.9 3000 200 || fail "unsigned answers beyond the budget"
grep -q 'event=unauth_limited client=127.0.0.9' "$LOGDIR/turnd.log" || fail "the answer budget was not logged"
grep -q 'event=peer_denied' "$LOGDIR/turnd.log" && fail "unexpected peer_denied"
kill -TERM "$TURND_PID"
for _ in $(seq 1 50); do kill -0 "$TURND_PID" 2>/dev/null || break; sleep 0.1; done
grep 'event=stopped' "$LOGDIR/turnd.log" || fail "no stop summary"
grep -Eq 'auth_rate_limited=[1-9]' "$LOGDIR/turnd.log" || fail "auth_rate_limited not counted"
grep -Eq 'unauth_dropped=2800' "$LOGDIR/turnd.log" || fail "unauth_dropped not counted"
echo "ok"
