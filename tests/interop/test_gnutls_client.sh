#!/usr/bin/env bash
# gnutls-cli (TLS 1.2 priority)  ->  latch serve
#
# Matrix: (ECDSA suites x {p256,p384,ed25519} + RSA suites x {rsa2048})
#         x {x25519,secp256r1,secp384r1}  = 36 cells, plus one cell per latch
#         serve instance (12) for a clean log and SIGTERM shutdown.
# One latch serve per (certificate, group) with --groups <group>; gnutls-cli
# gets an exact priority string for one suite (plus the group, and the ECDSA
# certificate's curve which TLS 1.2 requires), verifies against ca.pem and
# the host name, and sends an HTTP/1.1 GET for token.txt.  Each cell asserts
# the token, "The certificate is trusted" and the session description
# "(TLS1.2-X.509)-(ECDHE-<GROUP>)-(<sig>)-(<cipher>)".
. "$(dirname "$0")/lib.sh"

require_tool gnutls-cli timeout setsid awk mkfifo
require_latch
require_pki "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)

sig_kind() {
  case $1 in
    server-ed25519) echo "(EdDSA-Ed25519)" ;;
    server-rsa*) echo "(RSA-" ;;
    *) echo "(ECDSA-" ;;
  esac
}

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
    G=$(gnutls_group "$g")
    for s in $(suites_for_cert "$cert"); do
      case="$cert/$g/$s"
      if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; continue; fi
      prio=$(gnutls_priority "$s" "$g" "$(cert_curve "$cert")")
      run_client_held "gnutls-cli-$cert-$g-$s" "$REQ" \
        gnutls-cli --x509cafile "$PKI/ca.pem" --priority "$prio" -p "$PEER_PORT" localhost
      desc="(TLS1.2-X.509)-(ECDHE-$G)-$(sig_kind "$cert")"
      why=""
      [ "$CLIENT_RC" -eq 0 ] || why="$why gnutls-cli exit $CLIENT_RC (want 0);"
      contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt content not received;"
      matches "$CLIENT_OUT" '^HTTP/1\.[01] 200' || why="$why no 'HTTP/1.x 200' status line;"
      contains "$CLIENT_OUT" "- Status: The certificate is trusted." || why="$why certificate not trusted by gnutls-cli;"
      contains "$CLIENT_OUT" "- Handshake was completed" || why="$why handshake not completed;"
      matches "$CLIENT_OUT" "^- Description: $(printf '%s' "$desc" | sed 's/[][().*^$]/\\&/g').*-\($(gnutls_cipher "$s")\)\$" ||
        why="$why session is not $desc...-($(gnutls_cipher "$s"));"
      if [ -z "$why" ]; then
        pass "$case"
      else
        fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"
        grep -E '^- (Description|Status)|\*\*\*|alert|rror' "$CLIENT_OUT" "$CLIENT_ERR" 2>/dev/null |
          head -n 8 | sed 's/^/      gnutls-cli| /'
      fi
    done
    stop_latch_serve "$srv" "$PEER_PID"
  done
done

summary
