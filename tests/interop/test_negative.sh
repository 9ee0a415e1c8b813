#!/usr/bin/env bash
# Failures must fail the right way, against real peers.
#
#  a  latch get -> openssl s_server -tls1_1 only        : exit 35, protocol_version
#  b  openssl s_client -tls1_1 -> latch serve          : s_client sees alert protocol version;
#                                                        latch serve logs it, keeps serving
#  c1 latch get (RSA suite only) -> s_server, ECDSA cert : exit 35, s_server "no shared cipher"
#  c2 s_client (RSA suite only) -> latch serve, ECDSA    : s_client sees alert handshake failure
#  d  latch get -> wrong-name / expired / self-signed / client-only-EKU server,
#     and a good server with --cacert other-ca.pem      : exit 60 (wrong name: names the host)
#  e  latch get -k -> self-signed server                 : exit 0, body, warning on stderr
# 15 cells.
. "$(dirname "$0")/lib.sh"

require_tool openssl timeout setsid awk
require_latch
require_pki server-p256 wrong-name expired self-signed client-only-eku
require_files "$PKI/other-ca.pem"

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)

# s_server_www NAME CERT [ARGS...]: openssl s_server -www with CERT
s_server_www() {
  local name=$1 cert=$2; shift 2
  ossl_cert_args "$cert"
  start_peer "$name" -- openssl s_server -accept "127.0.0.1:@PORT@" -www "${OSSL_CERT_ARGS[@]}" "$@"
}

# verdict CASE WHY [FILES...]
verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# ---- a: TLS 1.1-only server
case="a: latch get -> TLS 1.1-only s_server: exit 35, protocol_version"
if s_server_www s_server-tls11 server-p256 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'; then
  run_client latch-get-tls11 /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 35 ] || why="$why latch exit $CLIENT_RC (want 35);"
  matches "$CLIENT_ERR" 'TLS handshake failed' || why="$why stderr lacks 'TLS handshake failed';"
  matches "$CLIENT_ERR" 'protocol_version' || why="$why stderr does not mention protocol_version;"
  contains "$CLIENT_OUT" "s_server" && why="$why a body was received;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  stop_peer "$PEER_PID"
else
  fail "$case" "openssl s_server -tls1_1 did not start" "$PEER_LOG"
fi

# ---- b, c2: against one latch serve with the ECDSA P-256 certificate
if start_latch_serve latch-serve-p256 server-p256 "$ROOT"; then
  SERVE_PID=$PEER_PID SERVE_PORT=$PEER_PORT SERVE_LOG=$PEER_LOG

  case="b: s_client -tls1_1 -> latch serve: alert protocol version"
  run_client s_client-tls11 "$REQ" openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_1 \
    -cipher 'DEFAULT@SECLEVEL=0' -servername localhost -ign_eof
  why=""
  matches "$CLIENT_ERR" 'alert protocol version' || why="$why s_client did not receive alert protocol version;"
  contains "$CLIENT_OUT" "$TOKEN" && why="$why the file was served over TLS 1.1;"
  verdict "$case" "$why" "$CLIENT_ERR" "$SERVE_LOG"

  case="b: latch serve logs the TLS 1.1 attempt (protocol_version sent)"
  why=""
  matches "$SERVE_LOG" 'handshake failed.*protocol_version.*sent' ||
    why="$why no 'handshake failed: ... (alert protocol_version sent)' line;"
  verdict "$case" "$why" "$SERVE_LOG"

  case="c2: s_client RSA-only suite -> latch serve (ECDSA cert): alert handshake failure"
  run_client s_client-rsa-only "$REQ" openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_2 \
    -cipher ECDHE-RSA-AES128-GCM-SHA256 -servername localhost -ign_eof
  why=""
  matches "$CLIENT_ERR" 'alert handshake failure' || why="$why s_client did not receive alert handshake failure;"
  contains "$CLIENT_OUT" "$TOKEN" && why="$why the file was served;"
  verdict "$case" "$why" "$CLIENT_ERR" "$SERVE_LOG"

  case="c2: latch serve logs the no-shared-suite attempt (handshake_failure sent)"
  why=""
  matches "$SERVE_LOG" 'handshake failed.*handshake_failure.*sent' ||
    why="$why no 'handshake failed: ... (alert handshake_failure sent)' line;"
  verdict "$case" "$why" "$SERVE_LOG"

  case="b/c2: latch serve still serves after the failed handshakes"
  run_client s_client-after "$REQ" openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_2 \
    -CAfile "$PKI/ca.pem" -verify_return_error -servername localhost -ign_eof
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  verdict "$case" "$why" "$CLIENT_ERR" "$SERVE_LOG"

  stop_latch_serve latch-serve-p256 "$SERVE_PID" --expect-failures
else
  for c in "b: s_client -tls1_1 -> latch serve" "c2: s_client RSA-only suite -> latch serve"; do
    fail "$c" "latch serve did not start listening" "$PEER_LOG"
  done
  stop_peer "$PEER_PID"
fi

# ---- c1: no common suite, latch as client
case="c1: latch get RSA-only suite -> s_server (ECDSA cert): exit 35, handshake_failure"
if s_server_www s_server-ecdsa-only server-p256 -tls1_2; then
  run_client latch-get-rsa-only /dev/null "$LATCH" get --cacert "$PKI/ca.pem" \
    --ciphers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 35 ] || why="$why latch exit $CLIENT_RC (want 35);"
  matches "$CLIENT_ERR" 'handshake_failure' || why="$why stderr does not mention handshake_failure;"
  sleep 0.2
  matches "$PEER_LOG" 'no shared cipher' || why="$why s_server did not log 'no shared cipher';"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"

  # d (part): a good server, but latch trusts only an unrelated CA
  case="d: latch get --cacert other-ca.pem -> good server: exit 60"
  run_client latch-get-other-ca /dev/null "$LATCH" get --cacert "$PKI/other-ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 60 ] || why="$why latch exit $CLIENT_RC (want 60);"
  contains "$CLIENT_OUT" "s_server" && why="$why a body was received;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  stop_peer "$PEER_PID"
else
  fail "$case" "openssl s_server did not start" "$PEER_LOG"
fi

# ---- d: certificates latch must not trust
for bad in wrong-name expired self-signed client-only-eku; do
  case="d: latch get -> $bad server: exit 60"
  if ! s_server_www "s_server-$bad" "$bad" -tls1_2; then
    fail "$case" "openssl s_server did not start" "$PEER_LOG"
    continue
  fi
  run_client "latch-get-$bad" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 60 ] || why="$why latch exit $CLIENT_RC (want 60);"
  contains "$CLIENT_OUT" "s_server" && why="$why a body was received;"
  [ -s "$CLIENT_ERR" ] || why="$why nothing on stderr;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  if [ "$bad" = wrong-name ]; then
    case="d: wrong-name error names the host"
    certname=$(cert_dns_name "$PKI/wrong-name.pem")
    why=""
    grep -qiF -e localhost -e "${certname:-localhost}" "$CLIENT_ERR" ||
      why="$why stderr mentions neither 'localhost' nor '$certname';"
    verdict "$case" "$why" "$CLIENT_ERR"
  fi

  if [ "$bad" = self-signed ]; then
    # ---- e: -k accepts it, with a warning
    case="e: latch get -k -> self-signed server: exit 0, body, warning"
    run_client latch-get-k /dev/null "$LATCH" get -k "https://localhost:$PEER_PORT/"
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
    contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:$PEER_PORT " || why="$why body is not this server's page;"
    matches "$CLIENT_ERR" '[Ww][Aa][Rr][Nn]|[Ii]nsecure|[Vv]erif' || why="$why no warning on stderr;"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  fi
  stop_peer "$PEER_PID"
done

summary
