#!/usr/bin/env bash
# curl -> latch serve, and latch get -> latch serve.
#
# For each server certificate (p256, p384, ed25519, rsa2048) one latch serve
# (defaults: all suites and groups) with a docroot holding token.txt and a
# 1 MiB random file.  Cells per certificate (10):
#   curl, default version: token.txt body; 1 MiB file byte-exact
#   curl --tls-max 1.2: token.txt; 1 MiB; two URLs on one command line
#         (keep-alive or reconnect, both fine); 404 -> curl -f exit 22
#   latch get: token.txt body; 1 MiB byte-exact; --tls-min/--tls-max 1.2;
#         --fail 404 -> exit 22 (without --fail: exit 0, as curl)
# plus one clean-log/SIGTERM cell per latch serve.  Total 44 cells.
. "$(dirname "$0")/lib.sh"

require_tool curl timeout setsid awk cmp
require_latch
require_pki "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"

ROOT=$(make_docroot)
head -c 1048576 /dev/urandom >"$ROOT/big.bin"

# check CASE WANT_RC [FILE-TO-COMPARE | =STRING]: assert on the last client run
check() {
  local case=$1 want=$2 what=${3:-} why=""
  [ "$CLIENT_RC" -eq "$want" ] || why="$why exit $CLIENT_RC (want $want);"
  case $what in
    "") ;;
    =*) contains "$CLIENT_OUT" "${what#=}" || why="$why body lacks '${what#=}';" ;;
    *) cmp -s "$what" "$CLIENT_OUT" ||
         why="$why body differs from $(basename "$what") ($(wc -c <"$CLIENT_OUT") of $(wc -c <"$what") bytes);" ;;
  esac
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"; fi
}

for cert in "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"; do
  srv="latch-serve-$cert"
  if ! start_latch_serve "$srv" "$cert" "$ROOT"; then
    fail "$cert/*" "latch serve did not start listening" "$PEER_LOG"
    stop_peer "$PEER_PID"
    continue
  fi
  base="https://localhost:$PEER_PORT"
  CURL=(curl -sS --cacert "$PKI/ca.pem")
  CURL12=("${CURL[@]}" --tls-max 1.2)

  # curl's defaults: highest version both sides support
  run_client "curl-token-$cert" /dev/null "${CURL[@]}" "$base/token.txt"
  check "$cert/curl (default version) token.txt" 0 "$ROOT/token.txt"
  run_client "curl-big-$cert" /dev/null "${CURL[@]}" "$base/big.bin"
  check "$cert/curl (default version) 1MiB big.bin" 0 "$ROOT/big.bin"
  # TLS 1.2 explicitly
  run_client "curl12-token-$cert" /dev/null "${CURL12[@]}" "$base/token.txt"
  check "$cert/curl --tls-max 1.2 token.txt" 0 "$ROOT/token.txt"
  run_client "curl12-big-$cert" /dev/null "${CURL12[@]}" "$base/big.bin"
  check "$cert/curl --tls-max 1.2 1MiB big.bin" 0 "$ROOT/big.bin"
  run_client "curl12-two-$cert" /dev/null "${CURL12[@]}" "$base/token.txt" "$base/big.bin"
  cat "$ROOT/token.txt" "$ROOT/big.bin" >"$T/two.expected"
  check "$cert/curl --tls-max 1.2 two URLs, one command" 0 "$T/two.expected"
  run_client "curl12-404-$cert" /dev/null "${CURL12[@]}" -f "$base/no-such-file.txt"
  check "$cert/curl --tls-max 1.2 404 -> curl exit 22" 22

  run_client "latch-token-$cert" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "$base/token.txt"
  check "$cert/latch get token.txt" 0 "$ROOT/token.txt"
  run_client "latch-big-$cert" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "$base/big.bin"
  check "$cert/latch get 1MiB big.bin" 0 "$ROOT/big.bin"
  run_client "latch-tls12-$cert" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" --tls-min 1.2 --tls-max 1.2 \
    "$base/token.txt"
  check "$cert/latch get --tls-min 1.2 --tls-max 1.2" 0 "$ROOT/token.txt"
  run_client "latch-404-$cert" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" --fail "$base/no-such-file.txt"
  check "$cert/latch get --fail 404 -> exit 22" 22

  stop_latch_serve "$srv" "$PEER_PID"
done

summary
