#!/usr/bin/env bash
# TLS 1.3 matrix: every suite x group x certificate type, both directions.
#
# suites {AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305} x groups {x25519,
# secp256r1, secp384r1} x certificates {p256, p384, rsa2048, ed25519} = 36
# combinations, each run with five peers = 180 cells:
#   openssl s_client -tls1_3 -> latch serve : token, "Verify return code: 0",
#        "New, TLSv1.3, Cipher is S", Server Temp Key = G, peer signature type
#   gnutls-cli (TLS 1.3 only, one suite, one group) -> latch serve : token,
#        certificate trusted, "(TLS1.3-X.509)-(ECDHE-G)-(<sig scheme>)-(<cipher>)"
#   curl --tlsv1.3 --tls13-ciphers S --curves G -> latch serve : token, and the
#        ServerHello decoded from curl --trace: supported_versions 0x0304,
#        cipher S, key_share G
#   latch get --ciphers S --groups G -> openssl s_server -tls1_3 -www : the
#        status page says TLSv1.3, Cipher S, "Shared groups: G" (so latch
#        offered only G), and latch -v reports TLSv1.3 / S / G
#   latch get --ciphers S --groups G -> gnutls-serv --http (TLS 1.3 only):
#        page says TLS1.3 and "(TLS1.3-X.509)-(ECDHE-G)-(<sig>)-(<cipher>)"
# One server of each kind per certificate (s_server/gnutls-serv accept all
# three suites and groups; the client side selects the cell), plus one clean
# log/SIGTERM cell per latch serve (4), plus 2 cells for a gnutls-serv that
# sends a TLS 1.3 CertificateRequest (latch must answer with an empty
# Certificate and no CertificateVerify).  Total 186 cells.
. "$(dirname "$0")/lib.sh"

require_tool openssl gnutls-cli gnutls-serv curl timeout setsid awk mkfifo
require_latch
require_pki "${CERTS_ALL[@]}"

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)
OSSL_SUITES=$(IFS=:; echo "${SUITES_TLS13[*]}")
OSSL_GROUPS=$(IFS=:; echo "${KX_GROUPS[*]}")

# verdict CASE WHY [FILES...]
verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# Regex-quote a fixed string for grep -E.
re_quote() { printf '%s' "$1" | sed 's/[][().*^$+?{}|\\]/\\&/g'; }

for cert in "${CERTS_ALL[@]}"; do
  sig_re=$(gnutls_tls13_sig_re "$cert")

  # ------------------------------------------------ clients -> latch serve
  srv="latch-serve-$cert"
  if start_latch_serve "$srv" "$cert" "$ROOT"; then
    port=$PEER_PORT serve_pid=$PEER_PID serve_log=$PEER_LOG
    for s in "${SUITES_TLS13[@]}"; do
      for g in "${KX_GROUPS[@]}"; do
        # -- openssl s_client
        case="s_client->latch serve $cert/$s/$g"
        if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; else
          run_client "s_client-$cert-$s-$g" "$REQ" \
            openssl s_client -connect "127.0.0.1:$port" -tls1_3 -ciphersuites "$s" -groups "$g" \
              -CAfile "$PKI/ca.pem" -verify_return_error -verify_hostname localhost \
              -servername localhost -ign_eof
          why=""
          [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC (want 0);"
          contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt content not received;"
          matches "$CLIENT_OUT" '^HTTP/1\.1 200' || why="$why no 'HTTP/1.1 200' status line;"
          contains "$CLIENT_OUT" "Verify return code: 0 (ok)" || why="$why certificate verification did not succeed;"
          contains "$CLIENT_OUT" "New, TLSv1.3, Cipher is $s" || why="$why not 'New, TLSv1.3, Cipher is $s';"
          contains "$CLIENT_OUT" "Server Temp Key: $(ossl_tempkey "$g")" ||
            why="$why key exchange group is not '$(ossl_tempkey "$g")';"
          contains "$CLIENT_OUT" "Peer signature type: $(ossl_tls13_sigtype "$cert")" ||
            why="$why peer signature type is not $(ossl_tls13_sigtype "$cert");"
          verdict "$case" "$why" "$CLIENT_ERR" "$serve_log"
          [ -z "$why" ] || grep -E 'Cipher is|Temp Key|Peer sig|Verify return|alert|error' \
            "$CLIENT_OUT" "$CLIENT_ERR" 2>/dev/null | head -n 8 | sed 's/^/      s_client| /'
        fi

        # -- gnutls-cli
        case="gnutls-cli->latch serve $cert/$s/$g"
        if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; else
          run_client_held "gnutls-cli-$cert-$s-$g" "$REQ" \
            gnutls-cli --x509cafile "$PKI/ca.pem" --priority "$(gnutls_tls13_priority "$s" "$g")" \
              -p "$port" localhost
          desc_re="^- Description: \(TLS1\.3-X\.509\)-\(ECDHE-$(gnutls_group "$g")\)-\($sig_re\)-\($(re_quote "$(gnutls_cipher "$s")")\)\$"
          why=""
          [ "$CLIENT_RC" -eq 0 ] || why="$why gnutls-cli exit $CLIENT_RC (want 0);"
          contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt content not received;"
          matches "$CLIENT_OUT" '^HTTP/1\.1 200' || why="$why no 'HTTP/1.1 200' status line;"
          contains "$CLIENT_OUT" "- Status: The certificate is trusted." || why="$why certificate not trusted by gnutls-cli;"
          contains "$CLIENT_OUT" "- Handshake was completed" || why="$why handshake not completed;"
          matches "$CLIENT_OUT" "$desc_re" ||
            why="$why session is not (TLS1.3-X.509)-(ECDHE-$(gnutls_group "$g"))-($sig_re)-($(gnutls_cipher "$s"));"
          verdict "$case" "$why" "$CLIENT_ERR" "$serve_log"
          [ -z "$why" ] || grep -E '^- (Description|Status)|\*\*\*|alert|rror' "$CLIENT_OUT" "$CLIENT_ERR" \
            2>/dev/null | head -n 8 | sed 's/^/      gnutls-cli| /'
        fi

        # -- curl
        case="curl->latch serve $cert/$s/$g"
        if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; else
          trace="$T/curl-$cert-$s-$g.trace"
          run_client "curl-$cert-$s-$g" /dev/null \
            curl -sS --trace "$trace" --cacert "$PKI/ca.pem" --tlsv1.3 --tls13-ciphers "$s" --curves "$g" \
              "https://localhost:$port/token.txt"
          sh=$(curl_server_hellos "$trace" 2>/dev/null | tail -n 1)
          want="hrr=0 cipher=$(tls13_suite_code "$s") version=0304 group=$(group_code "$g") psk=0"
          why=""
          [ "$CLIENT_RC" -eq 0 ] || why="$why curl exit $CLIENT_RC (want 0);"
          cmp -s "$ROOT/token.txt" "$CLIENT_OUT" || why="$why body is not token.txt;"
          contains "$trace" "SSL connection using TLSv1.3 / $s" || why="$why curl did not report 'TLSv1.3 / $s';"
          case $sh in "$want "*) ;; *) why="$why ServerHello is '${sh:-none}', want '$want ...';" ;; esac
          verdict "$case" "$why" "$CLIENT_ERR" "$serve_log"
        fi
      done
    done
    stop_latch_serve "$srv" "$serve_pid"
  else
    for s in "${SUITES_TLS13[@]}"; do for g in "${KX_GROUPS[@]}"; do
      for c in s_client gnutls-cli curl; do
        fail "$c->latch serve $cert/$s/$g" "latch serve did not start listening" "$PEER_LOG"
      done
    done; done
    stop_peer "$PEER_PID"
  fi

  # ------------------------------------------------ latch get -> openssl s_server
  ossl_cert_args "$cert"
  if start_peer "s_server-$cert" -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_3 \
       "${OSSL_CERT_ARGS[@]}" -ciphersuites "$OSSL_SUITES" -groups "$OSSL_GROUPS"; then
    for s in "${SUITES_TLS13[@]}"; do
      for g in "${KX_GROUPS[@]}"; do
        case="latch get->s_server $cert/$s/$g"
        if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; continue; fi
        run_client "latch-get-ossl-$cert-$s-$g" /dev/null \
          "$LATCH" get -v --cacert "$PKI/ca.pem" --ciphers "$s" --groups "$g" "https://localhost:$PEER_PORT/"
        why=""
        [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
        contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:$PEER_PORT " || why="$why body is not this server's -www page;"
        contains "$CLIENT_OUT" "</BODY></HTML>" || why="$why body truncated;"
        contains "$CLIENT_OUT" "Protocol  : TLSv1.3" || why="$why s_server page: protocol is not TLSv1.3;"
        contains "$CLIENT_OUT" "Cipher    : $s" || why="$why s_server page: cipher is not $s;"
        matches "$CLIENT_OUT" "^Shared groups: $g\$" || why="$why s_server page: shared groups not exactly '$g';"
        matches "$CLIENT_ERR" '^\* TLS version: TLSv1\.3$' || why="$why latch -v: version not TLSv1.3;"
        matches "$CLIENT_ERR" "^\\* Cipher suite: $s\$" || why="$why latch -v: suite not $s;"
        matches "$CLIENT_ERR" "^\\* Group: $g\$" || why="$why latch -v: group not $g;"
        verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
        [ -z "$why" ] || grep -E '^(Protocol|Cipher|Shared groups)' "$CLIENT_OUT" 2>/dev/null |
          sed 's/^/      body| /'
      done
    done
    stop_peer "$PEER_PID"
  else
    for s in "${SUITES_TLS13[@]}"; do for g in "${KX_GROUPS[@]}"; do
      fail "latch get->s_server $cert/$s/$g" "openssl s_server did not start" "$PEER_LOG"
    done; done
  fi

  # ------------------------------------------------ latch get -> gnutls-serv
  if start_peer "gnutls-serv-$cert" -- gnutls-serv --http --disable-client-cert -p "@PORT@" \
       --x509certfile "$PKI/$cert.pem" --x509keyfile "$PKI/$cert-key.pem" \
       --priority "$(gnutls_tls13_priority)"; then
    for s in "${SUITES_TLS13[@]}"; do
      for g in "${KX_GROUPS[@]}"; do
        case="latch get->gnutls-serv $cert/$s/$g"
        if too_many_timeouts; then fail "$case" "not run: repeated client timeouts"; continue; fi
        run_client "latch-get-gnutls-$cert-$s-$g" /dev/null \
          "$LATCH" get -v --cacert "$PKI/ca.pem" --ciphers "$s" --groups "$g" "https://localhost:$PEER_PORT/"
        desc_re="<TD>\(TLS1\.3-X\.509\)-\(ECDHE-$(gnutls_group "$g")\)-\($sig_re\)-\($(re_quote "$(gnutls_cipher "$s")")\)</TD>"
        why=""
        [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
        contains "$CLIENT_OUT" "This is <a href=\"http://www.gnu.org/software/gnutls\">GnuTLS</a>" ||
          why="$why body is not the gnutls-serv page;"
        contains "$CLIENT_OUT" "Host: localhost:$PEER_PORT" || why="$why page does not echo 'Host: localhost:$PEER_PORT';"
        contains "$CLIENT_OUT" "</BODY></HTML>" || why="$why body truncated;"
        contains "$CLIENT_OUT" "<TD>Protocol version:</TD><TD>TLS1.3</TD>" || why="$why page: protocol is not TLS1.3;"
        matches "$CLIENT_OUT" "$desc_re" ||
          why="$why page: session is not (TLS1.3-X.509)-(ECDHE-$(gnutls_group "$g"))-($sig_re)-($(gnutls_cipher "$s"));"
        matches "$CLIENT_ERR" "^\\* Cipher suite: $s\$" || why="$why latch -v: suite not $s;"
        matches "$CLIENT_ERR" "^\\* Group: $g\$" || why="$why latch -v: group not $g;"
        verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
        [ -z "$why" ] || grep -oE '\(TLS1[^<]*|Protocol version:</TD><TD>[^<]*' "$CLIENT_OUT" 2>/dev/null |
          sed 's/^/      body| /'
      done
    done
    stop_peer "$PEER_PID"
  else
    for s in "${SUITES_TLS13[@]}"; do for g in "${KX_GROUPS[@]}"; do
      fail "latch get->gnutls-serv $cert/$s/$g" "gnutls-serv did not start" "$PEER_LOG"
    done; done
  fi
done

# ------------------------------------------------ TLS 1.3 CertificateRequest
# gnutls-serv without --disable-client-cert requests an (optional) client
# certificate.  A TLS 1.3 client without one must send an empty Certificate
# (RFC 8446 4.4.2: 4 bytes, empty context and list), no CertificateVerify,
# then Finished.  gnutls-serv -d 4 logs the handshake messages.
cert=server-p256
case="latch get->gnutls-serv (TLS 1.3 CertificateRequest): handshake and page"
if start_peer "gnutls-serv-$cert-certreq" -- gnutls-serv -d 4 --http -p "@PORT@" \
     --x509certfile "$PKI/$cert.pem" --x509keyfile "$PKI/$cert-key.pem" \
     --priority "$(gnutls_tls13_priority)"; then
  run_client "latch-get-certreq" /dev/null "$LATCH" get -v --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC (want 0);"
  contains "$CLIENT_OUT" "Host: localhost:$PEER_PORT" || why="$why body is not this gnutls-serv page;"
  contains "$CLIENT_OUT" "<TD>Protocol version:</TD><TD>TLS1.3</TD>" || why="$why page: protocol is not TLS1.3;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  sleep 0.2
  case="latch get->gnutls-serv (TLS 1.3 CertificateRequest): empty Certificate, no CertificateVerify"
  why=""
  matches "$PEER_LOG" 'CERTIFICATE REQUEST was (queued|sent)' || why="$why gnutls-serv did not send a CertificateRequest;"
  matches "$PEER_LOG" 'CERTIFICATE \(11\) was received\. Length 4\[' ||
    why="$why no empty (4-byte) Certificate received from latch;"
  matches "$PEER_LOG" 'CERTIFICATE VERIFY \(15\) was received' && why="$why latch sent a CertificateVerify;"
  matches "$PEER_LOG" 'FINISHED \(20\) was received' || why="$why no client Finished received;"
  verdict "$case" "$why" "$PEER_LOG"
  [ -z "$why" ] || grep -E 'HSK.*(was received|was queued)' "$PEER_LOG" | head -n 20 | sed 's/^/      gnutls-serv| /'
  stop_peer "$PEER_PID"
else
  fail "$case" "gnutls-serv did not start" "$PEER_LOG"
fi

summary
