#!/usr/bin/env bash
# latch get  ->  openssl s_server -www -tls1_2
#
# Matrix: (ECDSA suites x {p256,p384,ed25519} + RSA suites x {rsa2048})
#         x {x25519,secp256r1,secp384r1}  = 36 cells, plus 3 cells checking
#         that latch offers exactly the --groups it was given, plus one cell
#         with a CertificateRequest from the server.
# One s_server per (certificate, group), restricted to that group; latch
# restricts the suite with --ciphers and offers the group (plus the ECDSA
# certificate's curve, which TLS 1.2 requires).  The -www status page is the
# HTTP body, so each cell is asserted on what came through: the page names
# this server's port, "Protocol  : TLSv1.2", "Cipher    : <suite>" and
# "Shared groups: <group>".
. "$(dirname "$0")/lib.sh"

require_tool openssl timeout setsid awk
require_latch
require_pki "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"

for cert in "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"; do
  ossl_cert_args "$cert"
  for g in "${KX_GROUPS[@]}"; do
    srv="s_server-$cert-$g"
    if ! start_peer "$srv" -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_2 \
           "${OSSL_CERT_ARGS[@]}" -groups "$g"; then
      for s in $(suites_for_cert "$cert"); do
        fail "$cert/$g/$s" "openssl s_server did not start" "$PEER_LOG"
      done
      continue
    fi
    for s in $(suites_for_cert "$cert"); do
      case="$cert/$g/$s"
      if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; continue; fi
      run_client "latch-get-$cert-$g-$s" /dev/null \
        "$LATCH" get --cacert "$PKI/ca.pem" --ciphers "$s" --groups "$(client_groups "$cert" "$g" ,)" \
        "https://localhost:$PEER_PORT/"
      why=""
      [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
      contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:$PEER_PORT " || why="$why body is not this server's -www page;"
      contains "$CLIENT_OUT" "</BODY></HTML>" || why="$why body truncated;"
      contains "$CLIENT_OUT" "Protocol  : TLSv1.2" || why="$why protocol is not TLSv1.2;"
      contains "$CLIENT_OUT" "Cipher    : $(ossl_suite "$s")" || why="$why negotiated cipher is not $(ossl_suite "$s");"
      matches "$CLIENT_OUT" "^Shared groups: $g\$" || why="$why shared groups not exactly '$g';"
      if [ -z "$why" ]; then
        pass "$case"
      else
        fail "$case" "${why# }" "$CLIENT_ERR" "$CLIENT_OUT" "$PEER_LOG"
      fi
    done
    stop_peer "$PEER_PID"
  done
done

# latch must offer exactly the groups given with --groups: against a server
# accepting every group (RSA cert, so no certificate-curve constraint) the
# -www page's "Shared groups" line is the client's offer.
cert=server-rsa2048
ossl_cert_args "$cert"
if start_peer "s_server-$cert-allgroups" -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_2 \
     "${OSSL_CERT_ARGS[@]}" -groups x25519:secp256r1:secp384r1; then
  for g in "${KX_GROUPS[@]}"; do
    case="$cert/offer-only-$g"
    run_client "latch-get-offer-$g" /dev/null \
      "$LATCH" get --cacert "$PKI/ca.pem" --groups "$g" "https://localhost:$PEER_PORT/"
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
    contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:$PEER_PORT " || why="$why body is not this server's -www page;"
    matches "$CLIENT_OUT" "^Shared groups: $g\$" ||
      why="$why latch offered other groups than --groups $g ($(grep '^Shared groups' "$CLIENT_OUT"));"
    if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"; fi
  done
  stop_peer "$PEER_PID"
else
  fail "$cert/offer-only-*" "openssl s_server did not start" "$PEER_LOG"
fi

# s_server -verify 1 sends a CertificateRequest (client certificate optional).
# A TLS 1.2 client without a certificate must answer with an empty
# Certificate message and carry on (RFC 5246 7.4.6).
cert=server-p256
case="$cert: server sends CertificateRequest (optional client cert)"
ossl_cert_args "$cert"
if start_peer "s_server-$cert-certreq" -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_2 \
     "${OSSL_CERT_ARGS[@]}" -verify 1; then
  run_client "latch-get-$cert-certreq" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
  contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:$PEER_PORT " || why="$why body is not this server's -www page;"
  contains "$CLIENT_OUT" "no client certificate available" || why="$why page does not say 'no client certificate available';"
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"; fi
  stop_peer "$PEER_PID"
else
  fail "$case" "openssl s_server did not start" "$PEER_LOG"
fi

summary
