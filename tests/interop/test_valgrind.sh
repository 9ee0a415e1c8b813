#!/usr/bin/env bash
# valgrind memcheck over real exchanges: latch serve (under valgrind) fetched
# by latch get (under valgrind) and curl, TLS 1.2 and 1.3, ECDSA and RSA, a
# resumed and a refused connection: no leak, no invalid access.
source "$(dirname "$0")/lib.sh"
require_latch
require_pki
require_tool valgrind
require_tool curl

case "$LATCH" in *sanitized*) note "sanitized build: valgrind runs only on the plain build"; exit 77 ;; esac
VG=(valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 -q)
ROOT=$(make_docroot)

for cert in server-p256 server-rsa2048; do
  log="$T/vg-serve-$cert.log"
  if ! start_peer "serve-$cert" --ready 'latch serve: listening on' -- "${VG[@]}" --log-file="$log" \
       "$LATCH" serve --listen "127.0.0.1:@PORT@" --cert "$PKI/$cert.pem" --key "$PKI/$cert-key.pem" "$ROOT"; then
    fail "$cert: latch serve under valgrind did not start" "" "$PEER_LOG"; continue
  fi
  pid=$PEER_PID port=$PEER_PORT
  for v in 1.2 1.3; do
    CLIENT_TIMEOUT=60 run_client "get-$cert-$v" /dev/null "${VG[@]}" "$LATCH" get --tls-max "$v" \
      --cacert "$PKI/ca.pem" "https://localhost:$port/token.txt"
    if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_OUT" "$TOKEN"; then
      pass "$cert TLS $v: latch get under valgrind, clean"
    else fail "$cert TLS $v: latch get under valgrind (exit $CLIENT_RC)" "" "$CLIENT_ERR"; fi
    run_client "curl-$cert-$v" /dev/null curl -s --tls-max "$v" --cacert "$PKI/ca.pem" \
      "https://localhost:$port/token.txt"
  done
  # a refused client: wrong CA, the server sees an alert
  CLIENT_TIMEOUT=60 run_client "get-$cert-refused" /dev/null "${VG[@]}" "$LATCH" get \
    --cacert "$PKI/other-ca.pem" "https://localhost:$port/token.txt"
  [ "$CLIENT_RC" -eq 60 ] && pass "$cert: refused chain under valgrind, clean" \
    || fail "$cert: refused chain under valgrind (exit $CLIENT_RC)" "" "$CLIENT_ERR"
  stop_peer "$pid"
  if [ -s "$log" ]; then fail "$cert: valgrind report for latch serve" "" "$log"
  else pass "$cert: latch serve under valgrind, no leak, no invalid access"; fi
done

summary
