#!/usr/bin/env bash
# RSA key exchange (TLS_RSA_WITH_AES_{128,256}_GCM) both directions with
# openssl and gnutls, checked by the suite each peer reports and the bytes.
source "$(dirname "$0")/lib.sh"
require_latch
require_pki
require_tool openssl
require_tool gnutls-serv
require_tool gnutls-cli

ROOT=$(make_docroot)
declare -A OSSL=([TLS_RSA_WITH_AES_128_GCM_SHA256]=AES128-GCM-SHA256
                 [TLS_RSA_WITH_AES_256_GCM_SHA384]=AES256-GCM-SHA384)
declare -A GNUTLS=([TLS_RSA_WITH_AES_128_GCM_SHA256]=AES-128-GCM
                   [TLS_RSA_WITH_AES_256_GCM_SHA384]=AES-256-GCM)
REQ=$(http_request_file /token.txt)

for suite in TLS_RSA_WITH_AES_128_GCM_SHA256 TLS_RSA_WITH_AES_256_GCM_SHA384; do
  # latch get -> openssl s_server
  ossl_cert_args server-rsa2048
  if start_peer "s-server-$suite" -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_2 \
       -cipher "${OSSL[$suite]}" "${OSSL_CERT_ARGS[@]}"; then
    pid=$PEER_PID
    run_client "get-ossl-$suite" /dev/null "$LATCH" get -v --ciphers "$suite" --cacert "$PKI/ca.pem" \
      "https://localhost:$PEER_PORT/"
    stop_peer "$pid"
    if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_OUT" "${OSSL[$suite]}" && contains "$CLIENT_ERR" "$suite"; then
      pass "latch get -> openssl s_server: $suite"
    else fail "latch get -> openssl s_server: $suite" "exit $CLIENT_RC" "$CLIENT_ERR" "$CLIENT_OUT"; fi
  else fail "s_server for $suite" "did not start" "$PEER_LOG"; fi

  # latch get -> gnutls-serv
  if start_peer "gnutls-serv-$suite" -- gnutls-serv --http -p "@PORT@" --disable-client-cert \
       --x509certfile "$PKI/server-rsa2048.pem" --x509keyfile "$PKI/server-rsa2048-key.pem" \
       --priority "NONE:+VERS-TLS1.2:+RSA:+${GNUTLS[$suite]}:+AEAD:+SIGN-ALL:+COMP-NULL:+GROUP-ALL"; then
    pid=$PEER_PID
    run_client "get-gnutls-$suite" /dev/null "$LATCH" get -v --ciphers "$suite" --cacert "$PKI/ca.pem" \
      "https://localhost:$PEER_PORT/"
    stop_peer "$pid"
    if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_ERR" "$suite" && matches "$CLIENT_OUT" "RSA.*${GNUTLS[$suite]}|${GNUTLS[$suite]}"; then
      pass "latch get -> gnutls-serv: $suite"
    else fail "latch get -> gnutls-serv: $suite" "exit $CLIENT_RC" "$CLIENT_ERR" "$CLIENT_OUT"; fi
  else fail "gnutls-serv for $suite" "did not start" "$PEER_LOG"; fi

  # openssl s_client and gnutls-cli -> latch serve
  if start_latch_serve "serve-$suite" server-rsa2048 "$ROOT" --ciphers "$suite"; then
    pid=$PEER_PID port=$PEER_PORT
    run_client "ossl-client-$suite" "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
      -cipher "${OSSL[$suite]}" -CAfile "$PKI/ca.pem" -verify_return_error -servername localhost -ign_eof
    if contains "$CLIENT_OUT" "$TOKEN" && contains "$CLIENT_OUT" "Cipher is ${OSSL[$suite]}"; then
      pass "openssl s_client -> latch serve: $suite"
    else fail "openssl s_client -> latch serve: $suite" "" "$CLIENT_OUT" "$CLIENT_ERR"; fi
    run_client_held "gnutls-cli-$suite" "$REQ" gnutls-cli --x509cafile "$PKI/ca.pem" -p "$port" \
      --priority "NONE:+VERS-TLS1.2:+RSA:+${GNUTLS[$suite]}:+AEAD:+SIGN-ALL:+COMP-NULL:+GROUP-ALL" localhost
    if contains "$CLIENT_OUT" "$TOKEN" && matches "$CLIENT_OUT" "\(RSA\)-\(${GNUTLS[$suite]}\)"; then
      pass "gnutls-cli -> latch serve: $suite"
    else fail "gnutls-cli -> latch serve: $suite" "" "$CLIENT_OUT" "$CLIENT_ERR"; fi
    stop_latch_serve "serve-$suite" "$pid"
  else fail "latch serve for $suite" "did not start" "$PEER_LOG"; fi
done

summary
