#!/usr/bin/env bash
# The AES-CBC suites of the old profile against openssl and gnutls, both
# directions, with encrypt-then-MAC (RFC 7366) and without (MAC-then-encrypt,
# the peer told -no_etm / %NO_ETM).  Each cell checks the bytes, the suite and
# the EtM state as the peer saw it:
#   latch get -> openssl s_server   s_server -trace: encrypt_then_mac in its ServerHello
#   latch get -> gnutls-serv        its log: "- Options: ... EtM"
#   openssl s_client -> latch serve -tlsextdebug: server extension "encrypt-then-mac"
#   gnutls-cli -> latch serve       "- Options: ... EtM"
# latch get runs with `--profile old --ciphers SUITE` (the profile refined to
# one suite); latch serve runs with `--profile old` and nothing else, so the
# peer's one-suite offer picks the suite from the old profile's list.  Then
# the profiles' edges, all with the real --profile option:
#   a CBC-only openssl s_client / gnutls-cli fails against the default
#   server and against --profile intermediate (handshake_failure) and succeeds
#   against --profile old (with EtM);
#   openssl s_client limited to TLS 1.2 fails against --profile modern
#   (protocol_version), a TLS 1.3 one succeeds; latch get --profile modern
#   fails against a TLS 1.2-only openssl s_server; latch proxy --profile
#   modern / old behaves as latch serve does (TLS 1.2 client refused, CBC-only
#   client let through);
#   --profile modern --tls-max 1.2 and --profile ancient are usage errors,
#   and so is naming a CBC suite without --profile old (latch serve with no
#   profile, latch get --profile intermediate, latch proxy --profile modern).
# 12 suites x 2 EtM modes x 4 directions + 12 serve shutdowns + 19 = 127 cells.
source "$(dirname "$0")/lib.sh"
require_latch
require_pki server-p256 server-rsa2048
require_tool openssl gnutls-serv gnutls-cli timeout setsid awk python3

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)

SUITES_CBC=(TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
            TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
            TLS_RSA_WITH_AES_128_CBC_SHA TLS_RSA_WITH_AES_256_CBC_SHA
            TLS_RSA_WITH_AES_128_CBC_SHA256 TLS_RSA_WITH_AES_256_CBC_SHA256
            TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
            TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384)

# IANA -> OpenSSL name
ossl_cbc() {
  case $1 in
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA) echo ECDHE-ECDSA-AES128-SHA ;;
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA) echo ECDHE-ECDSA-AES256-SHA ;;
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA) echo ECDHE-RSA-AES128-SHA ;;
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA) echo ECDHE-RSA-AES256-SHA ;;
    TLS_RSA_WITH_AES_128_CBC_SHA) echo AES128-SHA ;;
    TLS_RSA_WITH_AES_256_CBC_SHA) echo AES256-SHA ;;
    TLS_RSA_WITH_AES_128_CBC_SHA256) echo AES128-SHA256 ;;
    TLS_RSA_WITH_AES_256_CBC_SHA256) echo AES256-SHA256 ;;
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256) echo ECDHE-ECDSA-AES128-SHA256 ;;
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384) echo ECDHE-ECDSA-AES256-SHA384 ;;
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256) echo ECDHE-RSA-AES128-SHA256 ;;
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) echo ECDHE-RSA-AES256-SHA384 ;;
    *) die "ossl_cbc: unknown suite $1" ;;
  esac
}

# IANA -> GnuTLS keywords: key exchange, cipher, MAC
gnutls_cbc_kx() {
  case $1 in
    TLS_ECDHE_ECDSA_*) echo ECDHE-ECDSA ;;
    TLS_ECDHE_RSA_*) echo ECDHE-RSA ;;
    TLS_RSA_*) echo RSA ;;
  esac
}
gnutls_cbc_cipher() { case $1 in *_AES_128_*) echo AES-128-CBC ;; *) echo AES-256-CBC ;; esac; }
gnutls_cbc_mac() {
  case $1 in
    *_SHA256) echo SHA256 ;;
    *_SHA384) echo SHA384 ;;
    *) echo SHA1 ;;
  esac
}
# exact TLS 1.2 priority for one CBC suite; ETM=0 adds %NO_ETM
gnutls_cbc_priority() {
  local p="NONE:+VERS-TLS1.2:+$(gnutls_cbc_kx "$1"):+$(gnutls_cbc_cipher "$1"):+$(gnutls_cbc_mac "$1")"
  p="$p:+SIGN-ALL:+COMP-NULL:+GROUP-ALL:+CTYPE-X509"
  [ "$2" -eq 1 ] || p="$p:%NO_ETM"
  echo "$p"
}
# what GnuTLS prints: "...-(AES-128-CBC)-(SHA1)"
gnutls_cbc_description_re() { echo "\\($(gnutls_cbc_cipher "$1")\\)-\\($(gnutls_cbc_mac "$1")\\)"; }

cert_for() { case $1 in TLS_ECDHE_ECDSA_*) echo server-p256 ;; *) echo server-rsa2048 ;; esac; }
etm_word() { [ "$1" -eq 1 ] && echo "EtM" || echo "no EtM"; }

# Did the ServerHello in an s_server -trace log carry encrypt_then_mac?
ossl_trace_server_etm() {
  awk '
    /^    [A-Za-z]+, Length=[0-9]+/ { in_sh = ($0 ~ /ServerHello,/) ; next }
    /^(Sent|Received) Record/ { in_sh = 0 }
    in_sh && /extension_type=encrypt_then_mac\(22\)/ { found = 1 }
    END { print (found ? "yes" : "no") }
  ' "$1"
}

# gnutls "- Options:" line: has EtM?
gnutls_etm() { if grep -E '^- Options:' "$1" 2>/dev/null | grep -q 'EtM'; then echo yes; else echo no; fi; }

want_etm() { [ "$1" -eq 1 ] && echo yes || echo no; }

for suite in "${SUITES_CBC[@]}"; do
  too_many_timeouts && { fail "$suite" "giving up after repeated client timeouts"; continue; }
  cert=$(cert_for "$suite") ossl=$(ossl_cbc "$suite")
  for etm in 1 0; do
    label="$suite, $(etm_word $etm)"
    no_etm=(); [ "$etm" -eq 1 ] || no_etm=(-no_etm)

    # ---- latch get -> openssl s_server
    ossl_cert_args "$cert"
    if start_peer "s_server-$ossl-$etm" -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_2 \
         -cipher "$ossl" "${no_etm[@]}" -trace "${OSSL_CERT_ARGS[@]}"; then
      pid=$PEER_PID log=$PEER_LOG
      run_client "get-ossl-$ossl-$etm" /dev/null "$LATCH" get -v --profile old --ciphers "$suite" \
        --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
      stop_peer "$pid"
      seen=$(ossl_trace_server_etm "$log")
      if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_OUT" "Cipher is $ossl" &&
         contains "$CLIENT_ERR" "$suite" && [ "$seen" = "$(want_etm $etm)" ]; then
        pass "latch get -> openssl s_server: $label"
      else fail "latch get -> openssl s_server: $label" "exit $CLIENT_RC, EtM in ServerHello: $seen" \
             "$CLIENT_ERR" "$CLIENT_OUT" "$log"; fi
    else fail "openssl s_server for $label" "did not start" "$PEER_LOG"; fi

    # ---- latch get -> gnutls-serv
    if start_peer "gnutls-serv-$ossl-$etm" -- gnutls-serv --http -p "@PORT@" --disable-client-cert \
         --x509certfile "$PKI/$cert.pem" --x509keyfile "$PKI/$cert-key.pem" \
         --priority "$(gnutls_cbc_priority "$suite" "$etm")"; then
      pid=$PEER_PID log=$PEER_LOG
      run_client "get-gnutls-$ossl-$etm" /dev/null "$LATCH" get -v --profile old --ciphers "$suite" \
        --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
      stop_peer "$pid"
      seen=$(gnutls_etm "$log")
      if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_ERR" "$suite" &&
         matches "$log" "$(gnutls_cbc_description_re "$suite")" && [ "$seen" = "$(want_etm $etm)" ]; then
        pass "latch get -> gnutls-serv: $label"
      else fail "latch get -> gnutls-serv: $label" "exit $CLIENT_RC, EtM per gnutls-serv: $seen" \
             "$CLIENT_ERR" "$log"; fi
    else fail "gnutls-serv for $label" "did not start" "$PEER_LOG"; fi
  done

  # ---- openssl s_client and gnutls-cli -> latch serve (one server per suite)
  if start_latch_serve "serve-$ossl" "$cert" "$ROOT" --profile old; then
    spid=$PEER_PID port=$PEER_PORT
    for etm in 1 0; do
      label="$suite, $(etm_word $etm)"
      no_etm=(); [ "$etm" -eq 1 ] || no_etm=(-no_etm)
      run_client "s_client-$ossl-$etm" "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
        -cipher "$ossl" "${no_etm[@]}" -tlsextdebug -CAfile "$PKI/ca.pem" -verify_return_error \
        -servername localhost -ign_eof
      seen=no; contains "$CLIENT_OUT" 'TLS server extension "encrypt-then-mac"' && seen=yes
      if contains "$CLIENT_OUT" "$TOKEN" && contains "$CLIENT_OUT" "Cipher is $ossl" &&
         [ "$seen" = "$(want_etm $etm)" ]; then
        pass "openssl s_client -> latch serve: $label"
      else fail "openssl s_client -> latch serve: $label" "EtM extension from latch: $seen" \
             "$CLIENT_OUT" "$CLIENT_ERR"; fi

      run_client_held "gnutls-cli-$ossl-$etm" "$REQ" gnutls-cli --x509cafile "$PKI/ca.pem" \
        -p "$port" --priority "$(gnutls_cbc_priority "$suite" "$etm")" localhost
      seen=$(gnutls_etm "$CLIENT_OUT")
      if contains "$CLIENT_OUT" "$TOKEN" && matches "$CLIENT_OUT" "$(gnutls_cbc_description_re "$suite")" &&
         [ "$seen" = "$(want_etm $etm)" ]; then
        pass "gnutls-cli -> latch serve: $label"
      else fail "gnutls-cli -> latch serve: $label" "EtM per gnutls-cli: $seen" \
             "$CLIENT_OUT" "$CLIENT_ERR"; fi
    done
    stop_latch_serve "serve-$ossl" "$spid"
  else fail "latch serve for $suite" "did not start" "$PEER_LOG"; fi
done

# ---- profiles' edges
CBC_ONLY_OSSL='ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:AES128-SHA256'
CBC_ONLY_GNUTLS='NONE:+VERS-TLS1.2:+ECDHE-RSA:+RSA:+AES-128-CBC:+AES-256-CBC:+SHA1:+SHA256:+SIGN-ALL:+COMP-NULL:+GROUP-ALL:+CTYPE-X509'

# A CBC-only client against the default server, --profile intermediate
# (ECDHE + AEAD only: handshake_failure) and --profile old (succeeds).
for prof in default intermediate old; do
  prof_args=(); [ "$prof" = default ] || prof_args=(--profile "$prof")
  if start_latch_serve "serve-$prof" server-rsa2048 "$ROOT" "${prof_args[@]}"; then
    spid=$PEER_PID port=$PEER_PORT slog=$PEER_LOG
    run_client "s_client-cbc-only-$prof" "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
      -cipher "$CBC_ONLY_OSSL" -CAfile "$PKI/ca.pem" -servername localhost -ign_eof
    ossl_out=$CLIENT_OUT ossl_err=$CLIENT_ERR
    run_client_held "gnutls-cli-cbc-only-$prof" "$REQ" gnutls-cli --x509cafile "$PKI/ca.pem" \
      -p "$port" --priority "$CBC_ONLY_GNUTLS" localhost
    if [ "$prof" = old ]; then
      if contains "$ossl_out" "$TOKEN" && matches "$ossl_out" 'Cipher is ECDHE-RSA-AES(128|256)-SHA' &&
         contains "$ossl_out" 'Protocol  : TLSv1.2'; then
        pass "CBC-only openssl s_client -> latch serve --profile old: connects"
      else fail "CBC-only openssl s_client -> latch serve --profile old: connects" "" \
             "$ossl_out" "$ossl_err" "$slog"; fi
      if contains "$CLIENT_OUT" "$TOKEN" && matches "$CLIENT_OUT" '\(AES-(128|256)-CBC\)' &&
         [ "$(gnutls_etm "$CLIENT_OUT")" = yes ]; then
        pass "CBC-only gnutls-cli -> latch serve --profile old: connects with EtM"
      else fail "CBC-only gnutls-cli -> latch serve --profile old: connects with EtM" "" \
             "$CLIENT_OUT" "$CLIENT_ERR" "$slog"; fi
      stop_latch_serve "serve-$prof" "$spid"
    else
      if matches "$ossl_err" 'alert handshake failure' && ! contains "$ossl_out" "$TOKEN" &&
         matches "$slog" 'handshake_failure'; then
        pass "CBC-only openssl s_client -> latch serve ($prof): handshake_failure"
      else fail "CBC-only openssl s_client -> latch serve ($prof): handshake_failure" "" \
             "$ossl_err" "$slog"; fi
      if [ "$CLIENT_RC" -ne 0 ] && ! contains "$CLIENT_OUT" "$TOKEN" &&
         grep -qE 'Received alert \[40\]|Handshake failed' "$CLIENT_OUT" "$CLIENT_ERR" 2>/dev/null; then
        pass "CBC-only gnutls-cli -> latch serve ($prof): handshake fails"
      else fail "CBC-only gnutls-cli -> latch serve ($prof): handshake fails" "" \
             "$CLIENT_OUT" "$CLIENT_ERR" "$slog"; fi
      stop_peer "$spid"
    fi
  else fail "latch serve ($prof)" "did not start" "$PEER_LOG"; fi
done

# openssl s_client limited to TLS 1.2 against --profile modern: protocol_version;
# a TLS 1.3 s_client gets in.
if start_latch_serve serve-modern server-rsa2048 "$ROOT" --profile modern; then
  spid=$PEER_PID port=$PEER_PORT slog=$PEER_LOG
  run_client s_client-tls12-modern "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
    -CAfile "$PKI/ca.pem" -servername localhost -ign_eof
  if matches "$CLIENT_ERR" 'alert protocol version' && ! contains "$CLIENT_OUT" "$TOKEN" &&
     matches "$slog" 'protocol_version'; then
    pass "TLS 1.2-only openssl s_client -> latch serve --profile modern: protocol_version"
  else fail "TLS 1.2-only openssl s_client -> latch serve --profile modern: protocol_version" "" \
         "$CLIENT_ERR" "$slog"; fi
  run_client s_client-tls13-modern "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
    -CAfile "$PKI/ca.pem" -servername localhost -ign_eof
  if contains "$CLIENT_OUT" "$TOKEN" && contains "$CLIENT_OUT" 'TLSv1.3'; then
    pass "TLS 1.3 openssl s_client -> latch serve --profile modern: connects"
  else fail "TLS 1.3 openssl s_client -> latch serve --profile modern: connects" "" \
         "$CLIENT_OUT" "$CLIENT_ERR" "$slog"; fi
  stop_latch_serve serve-modern "$spid" --expect-failures
else fail "latch serve --profile modern" "did not start" "$PEER_LOG"; fi

# latch get --profile modern against a TLS 1.2-only server; --profile old gets in.
ossl_cert_args server-rsa2048
if start_peer s_server-tls12 -- openssl s_server -accept "127.0.0.1:@PORT@" -www -tls1_2 \
     "${OSSL_CERT_ARGS[@]}"; then
  pid=$PEER_PID port=$PEER_PORT
  run_client get-modern-vs-tls12 /dev/null "$LATCH" get --profile modern --cacert "$PKI/ca.pem" \
    "https://localhost:$port/"
  if [ "$CLIENT_RC" -eq 35 ] && matches "$CLIENT_ERR" 'protocol.version'; then
    pass "latch get --profile modern -> TLS 1.2-only openssl s_server: exit 35, protocol_version"
  else fail "latch get --profile modern -> TLS 1.2-only openssl s_server: exit 35, protocol_version" \
         "exit $CLIENT_RC" "$CLIENT_ERR"; fi
  run_client get-old-vs-tls12 /dev/null "$LATCH" get -v --profile old --cacert "$PKI/ca.pem" \
    "https://localhost:$port/"
  if [ "$CLIENT_RC" -eq 0 ] && contains "$CLIENT_ERR" 'TLSv1.2'; then
    pass "latch get --profile old -> TLS 1.2-only openssl s_server: connects"
  else fail "latch get --profile old -> TLS 1.2-only openssl s_server: connects" \
         "exit $CLIENT_RC" "$CLIENT_ERR" "$CLIENT_OUT"; fi
  stop_peer "$pid"
else fail "openssl s_server -tls1_2" "did not start" "$PEER_LOG"; fi

# latch proxy takes the same --profile: modern refuses a TLS 1.2 client, old
# lets a CBC-only client through to a plain HTTP backend.
if start_peer http-backend --cwd "$ROOT" -- python3 -m http.server --bind 127.0.0.1 @PORT@; then
  hpid=$PEER_PID hport=$PEER_PORT
  for prof in modern old; do
    if start_peer "proxy-$prof" --ready 'latch proxy: listening on' -- "$LATCH" proxy \
         --listen "127.0.0.1:@PORT@" --backend "127.0.0.1:$hport" --profile "$prof" \
         --cert "$PKI/server-rsa2048.pem" --key "$PKI/server-rsa2048-key.pem"; then
      ppid=$PEER_PID port=$PEER_PORT plog=$PEER_LOG
      if [ "$prof" = modern ]; then
        run_client proxy-modern-tls12 "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
          -CAfile "$PKI/ca.pem" -servername localhost -ign_eof
        if matches "$CLIENT_ERR" 'alert protocol version' && ! contains "$CLIENT_OUT" "$TOKEN"; then
          pass "TLS 1.2-only openssl s_client -> latch proxy --profile modern: protocol_version"
        else fail "TLS 1.2-only openssl s_client -> latch proxy --profile modern: protocol_version" "" \
               "$CLIENT_ERR" "$plog"; fi
      else
        run_client proxy-old-cbc "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
          -cipher "$CBC_ONLY_OSSL" -CAfile "$PKI/ca.pem" -servername localhost -ign_eof
        if contains "$CLIENT_OUT" "$TOKEN" && matches "$CLIENT_OUT" 'Cipher is ECDHE-RSA-AES(128|256)-SHA'; then
          pass "CBC-only openssl s_client -> latch proxy --profile old: connects"
        else fail "CBC-only openssl s_client -> latch proxy --profile old: connects" "" \
               "$CLIENT_OUT" "$CLIENT_ERR" "$plog"; fi
      fi
      stop_peer "$ppid"
    else fail "latch proxy --profile $prof" "did not start" "$PEER_LOG"; fi
  done
  stop_peer "$hpid"
else fail "python3 http.server backend" "did not start" "$PEER_LOG"; fi

# Usage errors.
run_client profile-bogus /dev/null "$LATCH" get --profile ancient https://localhost:1/
if [ "$CLIENT_RC" -eq 2 ] && contains "$CLIENT_ERR" 'modern, intermediate or old'; then
  pass "latch get --profile ancient: usage error"
else fail "latch get --profile ancient: usage error" "exit $CLIENT_RC" "$CLIENT_ERR"; fi
run_client profile-modern-12 /dev/null "$LATCH" serve --profile modern --tls-max 1.2 \
  --cert "$PKI/server-rsa2048.pem" --key "$PKI/server-rsa2048-key.pem" "$ROOT"
if [ "$CLIENT_RC" -eq 2 ] && contains "$CLIENT_ERR" 'TLS 1.3 only'; then
  pass "latch serve --profile modern --tls-max 1.2: usage error"
else fail "latch serve --profile modern --tls-max 1.2: usage error" "exit $CLIENT_RC" "$CLIENT_ERR"; fi
# CBC suites only under --profile old: naming one under the default
# (intermediate) or another profile is a configuration error (exit 2).
cbc_refused() { # CASE SUITE COMMAND...
  local case=$1 suite=$2; shift 2
  run_client "cbc-refused-$(echo "$case" | tr -c 'A-Za-z0-9' _)" /dev/null "$LATCH" "$@"
  if [ "$CLIENT_RC" -eq 2 ] && contains "$CLIENT_ERR" "$suite needs the old profile (--profile old)"; then
    pass "$case"
  else fail "$case" "exit $CLIENT_RC (want 2 and '$suite needs the old profile (--profile old)')" "$CLIENT_ERR"; fi
}
cbc_refused "latch serve --ciphers TLS_RSA_WITH_AES_128_CBC_SHA (no --profile): refused, exit 2" \
  TLS_RSA_WITH_AES_128_CBC_SHA serve --listen 127.0.0.1:0 --ciphers TLS_RSA_WITH_AES_128_CBC_SHA \
  --cert "$PKI/server-rsa2048.pem" --key "$PKI/server-rsa2048-key.pem" "$ROOT"
cbc_refused "latch get --profile intermediate --ciphers TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: refused, exit 2" \
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA get --profile intermediate \
  --ciphers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA https://localhost:1/
cbc_refused "latch proxy --profile modern --ciphers TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: refused, exit 2" \
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA proxy --profile modern --listen 127.0.0.1:0 --backend 127.0.0.1:1 \
  --ciphers TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA --cert "$PKI/server-p256.pem" --key "$PKI/server-p256-key.pem"

summary
