#!/usr/bin/env bash
# Mutual TLS through the CLI: latch serve --client-ca / --verify-client and
# latch get --cert / --key, against each other and against OpenSSL.
# Client certificate: client-only-eku (EKU clientAuth, under the test CA).
#
# For TLS 1.3 and for TLS 1.2:
#  a  latch get --cert -> latch serve --verify-client require: 200, the log
#     names the client's subject
#  b  latch get without --cert -> require: exit 35, the alert is
#     certificate_required (1.3) / handshake_failure (1.2), on both sides
#  c  latch get without --cert -> optional: 200, logged as anonymous
#  d  latch get --cert -> optional: 200, logged with the subject
#  e  latch get --cert -> latch serve --client-ca other-ca.pem: refused
#     (exit 35, alert unknown_ca)
#  f  openssl s_client -cert -> latch serve require: 200, subject logged
#  g  openssl s_client without -cert -> require: no response, s_client sees
#     the alert
#  h  latch get --cert -> openssl s_server -Verify 1 -CAfile ca.pem: its page
#     shows our certificate
#  i  latch get without --cert -> openssl s_server -Verify 1: exit 35, alert
#  j  latch get --cert --session twice -> require: the second connection
#     resumes (1.3 PSK, 1.2 ticket) and its log line names the client too
# 10 cells x 2 versions = 20, plus one per latch serve instance (6): 26 cells.
. "$(dirname "$0")/lib.sh"

# After 3 client timeouts in a row the peer is hung: fail the remaining
# cells at once instead of waiting for each (bounded runtime).
eval "lib_$(declare -f run_client)"
run_client() {
  if too_many_timeouts; then
    CLIENT_OUT="$T/$1.out" CLIENT_ERR="$T/$1.err" CLIENT_RC=124
    : >"$CLIENT_OUT"
    echo "not run: 3 client timeouts in a row" >"$CLIENT_ERR"
    return 0
  fi
  lib_run_client "$@"
}

require_tool openssl timeout setsid awk
require_latch
require_pki server-p256 client-only-eku
require_files "$PKI/other-ca.pem"

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)
CERT=server-p256
CLIENT=client-only-eku
CLIENT_SUBJECT=$(openssl x509 -in "$PKI/$CLIENT.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
[ -n "$CLIENT_SUBJECT" ] || die "cannot read the subject of $CLIENT.pem"
CLIENT_CERT_ARGS=(--cert "$PKI/$CLIENT.pem" --key "$PKI/$CLIENT-key.pem")

verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# count_in_log FILE FIXED: how many lines of FILE contain FIXED
count_in_log() { grep -cF -- "$2" "$1" 2>/dev/null; }

# latch_get NAME URL VERSION [ARGS...]
latch_get() {
  local name=$1 url=$2 v=$3; shift 3
  run_client "$name" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" --tls-max "$v" "$@" "$url"
}

# expect_served CASE LOG_FIXED: exit 0, token, a new log line with LOG_FIXED
expect_served() {
  local case=$1 want=$2 before=$3
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC (want 0);"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token not received;"
  [ "$(count_in_log "$PEER_LOG" "$want")" -gt "$before" ] || why="$why the log has no new line with '$want';"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
}

for v in 1.3 1.2; do
  if [ "$v" = 1.3 ]; then NO_CERT_ALERT=certificate_required; else NO_CERT_ALERT=handshake_failure; fi
  OSSL_V="-tls1_${v#1.}"

  # ---- require
  if start_latch_serve "serve-require-$v" "$CERT" "$ROOT" --client-ca "$PKI/ca.pem" \
       --verify-client require --tls-max "$v"; then
    U="https://localhost:$PEER_PORT/token.txt"
    latch_get "get-require-cert-$v" "$U" "$v" "${CLIENT_CERT_ARGS[@]}"
    expect_served "a $v: latch get --cert -> latch serve require: 200, log names $CLIENT_SUBJECT" \
      "\"GET /token.txt HTTP/1.1\" 200 $(stat -c %s "$ROOT/token.txt") client=\"$CLIENT_SUBJECT\"" 0

    case="b $v: latch get without --cert -> latch serve require: exit 35, $NO_CERT_ALERT"
    latch_get "get-require-nocert-$v" "$U" "$v"
    why=""
    [ "$CLIENT_RC" -eq 35 ] || why="$why latch get exit $CLIENT_RC (want 35);"
    contains "$CLIENT_OUT" "$TOKEN" && why="$why the token was served;"
    contains "$CLIENT_ERR" "alert $NO_CERT_ALERT received" || why="$why latch get does not report 'alert $NO_CERT_ALERT received';"
    contains "$PEER_LOG" "alert $NO_CERT_ALERT sent" || why="$why latch serve does not log 'alert $NO_CERT_ALERT sent';"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"

    case="j $v: latch get --cert --session twice -> latch serve require: resumed, the log names the client both times"
    f="$T/mtls-$v.sess"
    rm -f "$f"
    n=$(count_in_log "$PEER_LOG" "client=\"$CLIENT_SUBJECT\"")
    why=""
    latch_get "get-require-session-$v-1" "$U" "$v" -v --session "$f" "${CLIENT_CERT_ARGS[@]}"
    [ "$CLIENT_RC" -eq 0 ] || why="$why first latch get exit $CLIENT_RC (want 0);"
    contains "$CLIENT_ERR" "* Resumed: no" || why="$why the first connection resumed;"
    latch_get "get-require-session-$v-2" "$U" "$v" -v --session "$f" "${CLIENT_CERT_ARGS[@]}"
    [ "$CLIENT_RC" -eq 0 ] || why="$why second latch get exit $CLIENT_RC (want 0);"
    contains "$CLIENT_OUT" "$TOKEN" || why="$why token not received when resumed;"
    contains "$CLIENT_ERR" "* Resumed: yes" || why="$why the second connection did not resume;"
    sleep 0.2 # the log line follows the response
    [ "$(count_in_log "$PEER_LOG" "client=\"$CLIENT_SUBJECT\"")" -ge $((n + 2)) ] ||
      why="$why the resumed connection's log line does not name the client;"
    matches "$PEER_LOG" 'client=resumed|client=anonymous' && why="$why a connection was logged without the client;"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"

    ossl_cert_args "$CLIENT"
    n=$(count_in_log "$PEER_LOG" "client=\"$CLIENT_SUBJECT\"")
    case="f $v: openssl s_client -cert -> latch serve require: 200, subject logged"
    run_client "s_client-cert-$v" "$REQ" openssl s_client -connect "127.0.0.1:$PEER_PORT" "$OSSL_V" \
      -servername localhost -CAfile "$PKI/ca.pem" -verify_return_error -ign_eof "${OSSL_CERT_ARGS[@]}"
    why=""
    contains "$CLIENT_OUT" "$TOKEN" || why="$why token not received;"
    matches "$CLIENT_OUT" '^HTTP/1\.1 200' || why="$why no 200 status line;"
    [ "$(count_in_log "$PEER_LOG" "client=\"$CLIENT_SUBJECT\"")" -gt "$n" ] || why="$why no new log line naming the client;"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"

    case="g $v: openssl s_client without -cert -> latch serve require: refused"
    run_client "s_client-nocert-$v" "$REQ" openssl s_client -connect "127.0.0.1:$PEER_PORT" "$OSSL_V" \
      -servername localhost -CAfile "$PKI/ca.pem" -ign_eof
    why=""
    [ "$CLIENT_RC" -ne 0 ] || why="$why s_client exit 0;"
    contains "$CLIENT_OUT" "$TOKEN" && why="$why the token was served;"
    if [ "$v" = 1.3 ]; then
      matches "$CLIENT_ERR" 'alert certificate required' || why="$why s_client saw no 'alert certificate required';"
    else
      matches "$CLIENT_ERR" 'alert handshake failure' || why="$why s_client saw no 'alert handshake failure';"
    fi
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
    stop_latch_serve "serve-require-$v" "$PEER_PID" --expect-failures
  else
    fail "a/b/f/g $v: latch serve --verify-client require" "latch serve did not start" "$PEER_LOG"
    stop_peer "$PEER_PID"
  fi

  # ---- optional
  if start_latch_serve "serve-optional-$v" "$CERT" "$ROOT" --client-ca "$PKI/ca.pem" \
       --verify-client optional --tls-max "$v"; then
    U="https://localhost:$PEER_PORT/token.txt"
    latch_get "get-optional-nocert-$v" "$U" "$v"
    expect_served "c $v: latch get without --cert -> latch serve optional: 200, logged as anonymous" \
      "200 $(stat -c %s "$ROOT/token.txt") client=anonymous" 0
    latch_get "get-optional-cert-$v" "$U" "$v" "${CLIENT_CERT_ARGS[@]}"
    expect_served "d $v: latch get --cert -> latch serve optional: 200, log names $CLIENT_SUBJECT" \
      "client=\"$CLIENT_SUBJECT\"" 0
    stop_latch_serve "serve-optional-$v" "$PEER_PID"
  else
    fail "c/d $v: latch serve --verify-client optional" "latch serve did not start" "$PEER_LOG"
    stop_peer "$PEER_PID"
  fi

  # ---- a client CA that did not issue the client certificate
  if start_latch_serve "serve-otherca-$v" "$CERT" "$ROOT" --client-ca "$PKI/other-ca.pem" --tls-max "$v"; then
    case="e $v: latch get --cert -> latch serve --client-ca other-ca.pem: exit 35, unknown_ca"
    latch_get "get-otherca-$v" "https://localhost:$PEER_PORT/token.txt" "$v" "${CLIENT_CERT_ARGS[@]}"
    why=""
    [ "$CLIENT_RC" -eq 35 ] || why="$why latch get exit $CLIENT_RC (want 35);"
    contains "$CLIENT_OUT" "$TOKEN" && why="$why the token was served;"
    contains "$CLIENT_ERR" "alert unknown_ca received" || why="$why latch get does not report 'alert unknown_ca received';"
    contains "$PEER_LOG" "alert unknown_ca sent" || why="$why latch serve does not log 'alert unknown_ca sent';"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
    stop_latch_serve "serve-otherca-$v" "$PEER_PID" --expect-failures
  else
    fail "e $v: latch serve --client-ca other-ca.pem" "latch serve did not start" "$PEER_LOG"
    stop_peer "$PEER_PID"
  fi
done

# ---- latch get -> openssl s_server -Verify 1 (a client certificate is required)
ossl_cert_args "$CERT"
if start_peer s_server-verify -- openssl s_server -accept "127.0.0.1:@PORT@" -www "${OSSL_CERT_ARGS[@]}" \
     -Verify 1 -CAfile "$PKI/ca.pem"; then
  U="https://localhost:$PEER_PORT/"
  for v in 1.3 1.2; do
    case="h $v: latch get --cert -> openssl s_server -Verify 1: the page shows our certificate"
    latch_get "get-s_server-cert-$v" "$U" "$v" "${CLIENT_CERT_ARGS[@]}"
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC (want 0);"
    contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:$PEER_PORT " || why="$why body is not this server's -www page;"
    contains "$CLIENT_OUT" "Protocol  : TLSv$v" || why="$why protocol is not TLSv$v;"
    contains "$CLIENT_OUT" "Client certificate" || why="$why the page shows no client certificate;"
    matches "$CLIENT_OUT" "Subject: ${CLIENT_SUBJECT//=/ ?= ?}\$" || why="$why the page does not name $CLIENT_SUBJECT;"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"

    if [ "$v" = 1.3 ]; then NO_CERT_ALERT=certificate_required; else NO_CERT_ALERT=handshake_failure; fi
    case="i $v: latch get without --cert -> openssl s_server -Verify 1: exit 35, $NO_CERT_ALERT"
    latch_get "get-s_server-nocert-$v" "$U" "$v"
    why=""
    [ "$CLIENT_RC" -eq 35 ] || why="$why latch get exit $CLIENT_RC (want 35);"
    contains "$CLIENT_ERR" "alert $NO_CERT_ALERT received" || why="$why latch get does not report 'alert $NO_CERT_ALERT received';"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  done
  stop_peer "$PEER_PID"
else
  fail "h/i: openssl s_server -Verify 1" "openssl s_server did not start" "$PEER_LOG"
fi

summary
