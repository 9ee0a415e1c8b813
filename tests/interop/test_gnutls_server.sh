#!/usr/bin/env bash
# latch get  ->  gnutls-serv --http (TLS 1.2 only)
#
# Matrix: (ECDSA suites x {p256,p384,ed25519} + RSA suites x {rsa2048})
#         x {x25519,secp256r1,secp384r1}  = 36 cells, plus one SNI cell and
#         one cell with a CertificateRequest from the server.
# One gnutls-serv per (certificate, group), priority restricted to TLS 1.2 and
# that group, no client-certificate request; latch restricts the suite with
# --ciphers.  gnutls-serv's HTTP
# page reports the session, so each cell asserts on the body: protocol
# TLS1.2, the GnuTLS ciphersuite name, "(ECDHE-<GROUP>)" and the signature
# kind in the description, and the Host header latch sent.
. "$(dirname "$0")/lib.sh"

require_tool gnutls-serv timeout setsid awk
require_latch
require_pki "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"

sig_kind() {
  case $1 in
    server-ed25519) echo "(EdDSA-Ed25519)" ;;
    server-rsa*) echo "(RSA-" ;;
    *) echo "(ECDSA-" ;;
  esac
}

sni_checked=0
for cert in "${CERTS_ECDSA[@]}" "${CERTS_RSA[@]}"; do
  for g in "${KX_GROUPS[@]}"; do
    G=$(gnutls_group "$g")
    srv="gnutls-serv-$cert-$g"
    if ! start_peer "$srv" -- gnutls-serv --http --disable-client-cert -p "@PORT@" \
           --x509certfile "$PKI/$cert.pem" --x509keyfile "$PKI/$cert-key.pem" \
           --priority "$GNUTLS_TLS12_ALL:-GROUP-ALL:+GROUP-$G"; then
      for s in $(suites_for_cert "$cert"); do
        fail "$cert/$g/$s" "gnutls-serv did not start" "$PEER_LOG"
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
      contains "$CLIENT_OUT" "This is <a href=\"http://www.gnu.org/software/gnutls\">GnuTLS</a>" ||
        why="$why body is not the gnutls-serv page;"
      contains "$CLIENT_OUT" "Host: localhost:$PEER_PORT" ||
        why="$why page does not echo 'Host: localhost:$PEER_PORT';"
      contains "$CLIENT_OUT" "</BODY></HTML>" || why="$why body truncated;"
      contains "$CLIENT_OUT" "<TD>Protocol version:</TD><TD>TLS1.2</TD>" || why="$why protocol is not TLS1.2;"
      contains "$CLIENT_OUT" "<TD>Ciphersuite</TD><TD>$(gnutls_suite "$s")</TD>" ||
        why="$why ciphersuite is not $(gnutls_suite "$s");"
      contains "$CLIENT_OUT" "(TLS1.2-X.509)-(ECDHE-$G)-$(sig_kind "$cert")" ||
        why="$why description is not (TLS1.2-X.509)-(ECDHE-$G)-$(sig_kind "$cert")...;"
      if [ -z "$why" ]; then
        pass "$case"
      else
        fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"
        grep -E 'Description|Ciphersuite|Protocol' "$CLIENT_OUT" 2>/dev/null | sed 's/^/      body| /'
      fi
      # One extra cell: the first successful page must show that latch sent
      # server_name=localhost (SNI).
      if [ "$sni_checked" -eq 0 ] && [ -z "$why" ]; then
        sni_checked=1
        if contains "$CLIENT_OUT" "<p>Server Name: localhost</p>"; then
          pass "SNI: server_name localhost sent"
        else
          fail "SNI: server_name localhost sent" "gnutls-serv saw no server_name" "$CLIENT_OUT"
        fi
      fi
    done
    stop_peer "$PEER_PID"
  done
done
[ "$sni_checked" -eq 1 ] || fail "SNI: server_name localhost sent" "not checked: no successful connection"

# gnutls-serv's default: it sends a CertificateRequest (client certificate
# optional).  A TLS 1.2 client without a certificate must answer with an
# empty Certificate message and carry on (RFC 5246 7.4.6).
cert=server-p256
case="$cert: server sends CertificateRequest (optional client cert)"
if start_peer "gnutls-serv-$cert-certreq" -- gnutls-serv --http -p "@PORT@" \
     --x509certfile "$PKI/$cert.pem" --x509keyfile "$PKI/$cert-key.pem" --priority "$GNUTLS_TLS12_ALL"; then
  run_client "latch-get-$cert-certreq" /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
  contains "$CLIENT_OUT" "Host: localhost:$PEER_PORT" || why="$why body is not this gnutls-serv page;"
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$CLIENT_ERR" "$PEER_LOG"; fi
  stop_peer "$PEER_PID"
else
  fail "$case" "gnutls-serv did not start" "$PEER_LOG"
fi

summary
