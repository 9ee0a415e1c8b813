#!/usr/bin/env bash
# Load with bad actors: 1000 concurrent TLS clients against latch serve, 10%
# sending garbage and 5% stalling mid-handshake.  Every good client gets
# correct answers; the server's memory stays bounded, no descriptor leaks,
# stalled clients are dropped after the handshake timeout, and the server
# answers normally afterwards.
source "$(dirname "$0")/lib.sh"
require_latch
require_pki
LOAD_CLIENT="$(dirname "$LATCH")/load_client"
[ -x "$LOAD_CLIENT" ] || die "load_client not built next to $LATCH"
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true
[ "$(ulimit -n)" -ge 2200 ] || die "need at least 2200 file descriptors (ulimit -n is $(ulimit -n))"

ROOT=$(make_docroot)
# under AddressSanitizer, freed memory waits in a quarantine: keep it small so
# RSS measures latch, not the sanitizer
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
start_latch_serve serve server-p256 "$ROOT" || die "latch serve did not start"
SERVER=$PEER_PID PORT=$PEER_PORT
server_pid=$(pgrep -P "$SERVER" -f "latch.* serve" | head -n 1)
[ -n "$server_pid" ] || server_pid=$SERVER
fds() { find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
fds_before=$(fds) rss_before=$(rss_kb)

run_client load /dev/null "$LOAD_CLIENT" "$PORT" "$PKI/ca.pem" "$TOKEN"$'\n' 1000 10 5
cat "$CLIENT_OUT"
if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_OUT" "good 850/850 answered correctly" \
   && contains "$CLIENT_OUT" "malformed 100/100 closed"; then
  pass "1000 clients: every good one answered, every malformed one closed"
else
  fail "load" "exit $CLIENT_RC" "$CLIENT_OUT" "$CLIENT_ERR" "$PEER_LOG"
fi
rss_after=$(rss_kb)
growth=$(( (rss_after - rss_before) / 1024 ))
note "server RSS ${rss_before} kB -> ${rss_after} kB after the load"
[ "$growth" -lt 128 ] && pass "memory bounded (+${growth} MB)" || fail "memory grew by ${growth} MB"

# stalling clients are dropped after the handshake timeout
for i in 1 2 3; do
  exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
  printf '\x16\x03\x01\x01\x00' >&"$fd"
  STALLED+=("$fd")
done
sleep 1
mid=$(fds)
deadline=$((SECONDS + 25))
while [ "$(fds)" -gt "$fds_before" ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
after=$(fds)
for fd in "${STALLED[@]}"; do exec {fd}>&-; done
note "server descriptors: $fds_before before, $mid with 3 stalled clients, $after after the timeout"
[ "$mid" -ge $((fds_before + 3)) ] && [ "$after" -le "$fds_before" ] \
  && pass "stalled handshakes dropped after the timeout; no descriptor leak" \
  || fail "stalled clients or descriptor leak ($fds_before/$mid/$after)" "" "$PEER_LOG"

run_client after /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PORT/token.txt"
[ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_OUT" "$TOKEN" && pass "server answers normally afterwards" \
  || fail "server after the load" "" "$CLIENT_ERR"
stop_latch_serve serve "$SERVER" --expect-failures

summary
