#!/usr/bin/env bash
# The programs in examples/ against real peers on free loopback ports:
#   https_get, poll_client   -> openssl s_server (-www / -WWW), TLS 1.3 and 1.2
#   echo_server              <- openssl s_client, one connection at a time
#   libevent_server          <- curl (in parallel, beside an idle connection),
#                               openssl s_client, a plaintext client
# Each example prints what it negotiated; the peer's view must agree.
#
# Environment (set by CTest, cmake/LatchAdopt.cmake): LATCH_EXAMPLES_DIR
# (build/examples) and LATCH_EXAMPLES_SUFFIX ("" or "-sanitized").
source "$(dirname "$0")/lib.sh"

require_tool openssl curl
require_pki server-p256
require_files "$PKI/server-p256-leaf.pem" "$PKI/intermediate.pem"

EX_DIR=${LATCH_EXAMPLES_DIR:-$(dirname "${LATCH:-./latch}")/examples}
SFX=${LATCH_EXAMPLES_SUFFIX:-}
for e in https_get echo_server poll_client libevent_server; do
  [ -x "$EX_DIR/$e$SFX" ] ||
    die "example $e$SFX not built in $EX_DIR (libevent_server needs libevent-dev: make deps)"
done
HTTPS_GET=$EX_DIR/https_get$SFX
POLL_CLIENT=$EX_DIR/poll_client$SFX
ECHO_SERVER=$EX_DIR/echo_server$SFX
LIBEVENT_SERVER=$EX_DIR/libevent_server$SFX

CA=$PKI/ca.pem
OSSL_SERVER_CERT=(-cert "$PKI/server-p256-leaf.pem" -cert_chain "$PKI/intermediate.pem"
                  -key "$PKI/server-p256-key.pem")
DOCROOT=$(make_docroot)   # token.txt holds $TOKEN

# check NAME CONDITION... : pass if every condition (a shell test string) holds.
check() {
  local name=$1 cond why=""; shift
  for cond in "$@"; do
    eval "$cond" || why="$why [$cond]"
  done
  if [ -z "$why" ]; then pass "$name"; else fail "$name" "failed:$why" "$CLIENT_OUT" "$CLIENT_ERR" ${PEER_LOG:+"$PEER_LOG"}; fi
}

# ------------------------------------------------------------ https_get, poll_client

# openssl s_server -www (status page) for each version: https_get's claim on
# stderr must match the server's own "New, TLSvX, Cipher is Y" in the page.
for v in 1.3 1.2; do
  if ! start_peer "s_server-www-$v" -- openssl s_server -accept "127.0.0.1:@PORT@" \
         "${OSSL_SERVER_CERT[@]}" -www "-tls${v/./_}"; then
    fail "https_get/poll_client vs s_server -www TLS $v" "s_server did not start" "$PEER_LOG"
    continue
  fi
  run_client "https_get-www-$v" /dev/null "$HTTPS_GET" localhost "$PEER_PORT" / "$CA"
  suite=$(sed -n 's/^https_get: TLSv[0-9.]* //p' "$CLIENT_ERR")
  check "https_get vs openssl s_server -www (TLS $v): page served, same version and suite" \
    '[ "$CLIENT_RC" -eq 0 ]' 'contains "$CLIENT_OUT" "HTTP/1.0 200 ok"' \
    'contains "$CLIENT_ERR" "https_get: TLSv$v "' '[ -n "$suite" ]' \
    'contains "$CLIENT_OUT" "New, TLSv$v, Cipher is"' \
    'contains "$CLIENT_ERR" "https_get: done, close_notify received"'

  run_client "poll_client-www-$v" /dev/null "$POLL_CLIENT" 127.0.0.1 "$PEER_PORT" / "$CA"
  check "poll_client vs openssl s_server -www (TLS $v): page served over poll()" \
    '[ "$CLIENT_RC" -eq 0 ]' 'contains "$CLIENT_OUT" "HTTP/1.0 200 ok"' \
    'contains "$CLIENT_OUT" "New, TLSv$v, Cipher is"' \
    'matches "$CLIENT_ERR" "^poll_client: TLSv$v TLS_[A-Z0-9_]+ [a-z0-9]+, [0-9]+ bytes received, [0-9]+ polls, close_notify received"'

  # Verification is on by default: without the test CA (system store) it fails.
  if [ "$v" = 1.3 ]; then
    run_client "https_get-untrusted" /dev/null "$HTTPS_GET" localhost "$PEER_PORT" /
    check "https_get without the test CA: refused (verification on by default)" \
      '[ "$CLIENT_RC" -eq 1 ]' 'matches "$CLIENT_ERR" "https_get: .*(issuer|trust|unknown)"' \
      '! contains "$CLIENT_OUT" "HTTP/1.0"'
  fi
  stop_peer "$PEER_PID"
done

# openssl s_server -WWW serving $TOKEN from a file: the body is really ours.
if start_peer s_server-WWW --cwd "$DOCROOT" -- openssl s_server -accept "127.0.0.1:@PORT@" \
     "${OSSL_SERVER_CERT[@]}" -WWW; then
  run_client https_get-token /dev/null "$HTTPS_GET" localhost "$PEER_PORT" /token.txt "$CA"
  check "https_get fetches a file from openssl s_server -WWW" \
    '[ "$CLIENT_RC" -eq 0 ]' 'contains "$CLIENT_OUT" "$TOKEN"'
  run_client poll_client-token /dev/null "$POLL_CLIENT" localhost "$PEER_PORT" /token.txt "$CA"
  check "poll_client fetches a file from openssl s_server -WWW" \
    '[ "$CLIENT_RC" -eq 0 ]' 'contains "$CLIENT_OUT" "$TOKEN"'
  stop_peer "$PEER_PID"
else
  fail "https_get/poll_client vs s_server -WWW" "s_server did not start" "$PEER_LOG"
fi

# ------------------------------------------------------------ echo_server

# Three clients, one at a time: TLS 1.3, a TLS 1.1 client (refused with
# protocol_version, the server carries on), TLS 1.2.  Then it exits by itself.
if start_peer echo_server --ready 'echo_server: listening on' -- \
     "$ECHO_SERVER" "127.0.0.1:@PORT@" "$PKI/server-p256.pem" "$PKI/server-p256-key.pem" 3; then
  ECHO_PID=$PEER_PID ECHO_LOG=$PEER_LOG ECHO_PORT=$PEER_PORT
  printf 'hello %s-13\nbye\n' "$TOKEN" >"$T/echo13.in"
  run_client echo-13 "$T/echo13.in" openssl s_client -connect "127.0.0.1:$ECHO_PORT" \
    -CAfile "$CA" -verify_return_error -quiet -tls1_3
  check "echo_server <- openssl s_client TLS 1.3: echoed" \
    '[ "$CLIENT_RC" -eq 0 ]' 'contains "$CLIENT_OUT" "hello $TOKEN-13"' \
    'matches "$ECHO_LOG" "connection 1: TLSv1\.3 TLS_"'

  run_client echo-11 /dev/null openssl s_client -connect "127.0.0.1:$ECHO_PORT" \
    -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
  sleep 0.2
  check "echo_server <- TLS 1.1 client: handshake failure reported with its alert" \
    '[ "$CLIENT_RC" -ne 0 ]' \
    'matches "$ECHO_LOG" "connection 2: handshake failed: .*\(alert protocol_version sent\)"'

  printf 'hello %s-12\nbye\n' "$TOKEN" >"$T/echo12.in"
  run_client echo-12 "$T/echo12.in" openssl s_client -connect "127.0.0.1:$ECHO_PORT" \
    -CAfile "$CA" -verify_return_error -quiet -tls1_2
  check "echo_server <- openssl s_client TLS 1.2: echoed after a failed client" \
    '[ "$CLIENT_RC" -eq 0 ]' 'contains "$CLIENT_OUT" "hello $TOKEN-12"' \
    'matches "$ECHO_LOG" "connection 3: TLSv1\.2 TLS_ECDHE_ECDSA_"' \
    'matches "$ECHO_LOG" "connection 3: closed \(client said bye\), [0-9]+ bytes echoed"'

  # After its 3 connections it must exit 0 on its own (sanitized: leak check).
  for _ in $(seq 1 60); do kill -0 "$ECHO_PID" 2>/dev/null || break; sleep 0.05; done
  stop_peer "$ECHO_PID"
  check "echo_server exits cleanly after its 3 connections" \
    '[ "$STOP_WAS_DEAD" -eq 1 ]' '[ "$STOP_STATUS" -eq 0 ]'
else
  fail "echo_server" "did not start" "$PEER_LOG"
fi

# ------------------------------------------------------------ libevent_server

if start_peer libevent_server --ready 'libevent_server: listening on' -- \
     "$LIBEVENT_SERVER" "127.0.0.1:@PORT@" "$PKI/server-p256.pem" "$PKI/server-p256-key.pem"; then
  LE_PID=$PEER_PID LE_LOG=$PEER_LOG LE_PORT=$PEER_PORT

  # An idle client that finishes its handshake and then says nothing: a
  # blocking server would be stuck on it; the event loop serves the rest.
  mkfifo "$T/idle.in"
  sleep 30 >"$T/idle.in" &
  HOLDER_PID=$!
  openssl s_client -connect "127.0.0.1:$LE_PORT" -CAfile "$CA" -quiet <"$T/idle.in" \
    >"$T/idle.out" 2>&1 &
  IDLE_PID=$!
  HOLDER_PID="$HOLDER_PID $IDLE_PID"   # the EXIT trap kills both
  for _ in $(seq 1 100); do matches "$LE_LOG" "connection 1: TLSv1\.3" && break; sleep 0.05; done

  # Six curls at once, each with its own path.
  for i in 1 2 3 4 5 6; do
    timeout -k 5 "$CLIENT_TIMEOUT" curl -sS --cacert "$CA" "https://localhost:$LE_PORT/$TOKEN-$i" \
      >"$T/curl-$i.out" 2>"$T/curl-$i.err" &
    CURL_PIDS[$i]=$!
  done
  for i in 1 2 3 4 5 6; do
    wait "${CURL_PIDS[$i]}"; rc=$?
    CLIENT_OUT=$T/curl-$i.out CLIENT_ERR=$T/curl-$i.err CLIENT_RC=$rc PEER_LOG=$LE_LOG
    check "libevent_server <- curl #$i (6 in parallel, 1 idle connection open)" \
      '[ "$CLIENT_RC" -eq 0 ]' \
      'matches "$CLIENT_OUT" "^hello from latch on libevent: connection [0-9]+, path /$TOKEN-$i, TLSv1\.3 TLS_"'
  done
  CLIENT_OUT=$T/idle.out CLIENT_ERR=$T/idle.out
  check "libevent_server: the idle connection was still open meanwhile" \
    'kill -0 "$IDLE_PID" 2>/dev/null' 'matches "$LE_LOG" "connection 1: TLSv1\.3"'
  kill $HOLDER_PID 2>/dev/null
  wait $HOLDER_PID 2>/dev/null
  HOLDER_PID=""

  printf 'GET /%s-s_client HTTP/1.0\r\n\r\n' "$TOKEN" >"$T/le12.in"
  run_client_held le-12 "$T/le12.in" openssl s_client -connect "127.0.0.1:$LE_PORT" \
    -CAfile "$CA" -verify_return_error -quiet -tls1_2
  check "libevent_server <- openssl s_client TLS 1.2" \
    'contains "$CLIENT_OUT" "path /$TOKEN-s_client, TLSv1.2 TLS_ECDHE_ECDSA_"'

  run_client le-plain /dev/null curl -sS "http://127.0.0.1:$LE_PORT/plaintext"
  sleep 0.2
  check "libevent_server <- plaintext HTTP: handshake failure logged, server keeps going" \
    '[ "$CLIENT_RC" -ne 0 ]' 'matches "$LE_LOG" "handshake failed: .*\(alert [a-z_]+ sent\)"' \
    'kill -0 "$LE_PID" 2>/dev/null'

  stop_peer "$LE_PID"
  CLIENT_OUT=$LE_LOG CLIENT_ERR=/dev/null
  check "libevent_server stops cleanly on SIGTERM" \
    '[ "$STOP_WAS_DEAD" -eq 0 ]' '[ "$STOP_KILLED" -eq 0 ]' '[ "$STOP_STATUS" -eq 0 ]' \
    'matches "$LE_LOG" "stopping: 9 connections, 7 served, 2 failed"'
else
  fail "libevent_server" "did not start" "$PEER_LOG"
fi

summary
