#!/usr/bin/env bash
# openssl s_client -tls1_2  ->  latch serve
#
# Matrix: (ECDSA suites x {p256,p384,ed25519} + RSA suites x {rsa2048})
#         x {x25519,secp256r1,secp384r1}  = 36 cells, plus one cell per latch
#         serve instance (12) for a clean log and SIGTERM shutdown.
# One latch serve per (certificate, group) with --groups <group>; s_client
# restricts the suite with -cipher and offers the group (plus the ECDSA
# certificate's curve, which TLS 1.2 requires), verifies the chain and the
# host name, and sends an HTTP/1.1 GET for token.txt.  Each cell asserts the
# token, "Verify return code: 0 (ok)", "Cipher is <suite>" and the
# "Server Temp Key" group s_client reports.
. "$(dirname "$0")/lib.sh"

require_tool openssl timeout setsid awk
require_latch
require_pki "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)

for cert in "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"; do
  for g in "${KX_GROUPS[@]}"; do
    srv="latch-serve-$cert-$g"
    if ! start_latch_serve "$srv" "$cert" "$ROOT" --groups "$g"; then
      for s in $(suites_for_cert "$cert"); do
        fail "$cert/$g/$s" "latch serve did not start listening" "$PEER_LOG"
      done
      stop_peer "$PEER_PID"
      continue
    fi
    for s in $(suites_for_cert "$cert"); do
      case="$cert/$g/$s"
      if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; continue; fi
      os=$(ossl_suite "$s")
      run_client "s_client-$cert-$g-$s" "$REQ" \
        openssl s_client -connect "127.0.0.1:$PEER_PORT" -tls1_2 -cipher "$os" \
          -groups "$(client_groups "$cert" "$g" :)" -CAfile "$PKI/ca.pem" -verify_return_error \
          -verify_hostname localhost -servername localhost -ign_eof
      why=""
      [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC (want 0);"
      contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt content not received;"
      matches "$CLIENT_OUT" '^HTTP/1\.[01] 200' || why="$why no 'HTTP/1.x 200' status line;"
      contains "$CLIENT_OUT" "Verify return code: 0 (ok)" || why="$why certificate verification did not succeed;"
      contains "$CLIENT_OUT" "New, TLSv1.2, Cipher is $os" || why="$why negotiated cipher is not TLSv1.2 $os;"
      contains "$CLIENT_OUT" "Server Temp Key: $(ossl_tempkey "$g")" ||
        why="$why server key exchange group is not '$(ossl_tempkey "$g")';"
      if [ -z "$why" ]; then
        pass "$case"
      else
        fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"
        grep -E 'Cipher is|Temp Key|Verify return|alert|error' "$CLIENT_OUT" "$CLIENT_ERR" 2>/dev/null |
          head -n 8 | sed 's/^/      s_client| /'
      fi
    done
    stop_latch_serve "$srv" "$PEER_PID"
  done
done

summary
