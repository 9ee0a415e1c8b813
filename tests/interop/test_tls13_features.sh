#!/usr/bin/env bash
# TLS 1.3 features against real peers.
#
#  a  HelloRetryRequest / group selection
#     a1 s_client -groups x25519:secp384r1 (share: x25519) -> latch serve --groups secp384r1:
#        HRR asking for secp384r1, second ClientHello shares secp384r1, completes
#     a2 gnutls-cli (shares x25519+secp256r1, also supports secp384r1) -> same server: HRR
#     a3 curl --curves x25519:secp384r1 -> same server: ServerHellos HRR(0018) then 0018
#     a4 s_client -groups x25519:secp256r1:secp384r1 -> latch serve --groups secp384r1,secp256r1:
#        HRR asks for the server's preference (secp384r1), not the client's
#     a5 gnutls-cli (shares x25519+secp256r1) -> latch serve --groups secp256r1,x25519:
#        server's preference among the client's shares, no HRR
#     a6 s_client (share x25519) -> same server: an acceptable share is taken, no HRR
#     a7 latch get --groups x25519,secp384r1 -> s_server -groups secp384r1: HRR seen by
#        s_server, latch's second ClientHello shares secp384r1, completes
#  b  resumption against one latch serve
#     b1 s_client -tls1_3 -reconnect: all 6 handshakes complete (see the note there)
#     b2 s_client -tls1_2 -reconnect (tickets): 5 x "Reused, TLSv1.2", ticket issued
#     b3 s_client -tls1_2 -no_ticket -reconnect (session IDs): 5 x "Reused, TLSv1.2"
#     b4 s_client -tls1_3 -sess_out, then 3 x -sess_in/-sess_out (each with the
#        previous connection's ticket): "Reused, TLSv1.3", no server Certificate,
#        still an ECDHE key share (psk_dhe_ke), token served every time
#     b5 curl, two URLs, Connection: close: second ServerHello has pre_shared_key
#     b6 gnutls-cli -r (TLS 1.3): "This is a resumed session"
#  c  KeyUpdate without losing a byte
#     c1 s_client -tls1_3, one keep-alive connection, 3 files of 4 MiB random (base64); 'K' while
#        the first is in flight, 'k' while the second is, 'K' between 2nd and 3rd:
#        all three bodies byte-exact (sha256), one connection in latch serve's log
#     c2 the KeyUpdates on the wire (s_client -trace): sent requested/not/requested,
#        latch answered each update_requested with an update_not_requested
#     c3 latch get <- s_server (raw mode) sending KeyUpdate(update_requested) in the
#        middle of an 8 MB body: body byte-exact, latch answered with its own KeyUpdate
#  d  version negotiation
#     d1 latch get --tls-min 1.3 -> s_server -tls1_2: exit 35, protocol_version
#     d2 latch get (default) -> s_server -tls1_2: TLS 1.2 (fallback)
#     d3 latch get --tls-max 1.2 -> s_server (1.2 and 1.3): TLS 1.2 (downgrade
#        sentinel is not a false alarm); d4 latch get (default) -> same: TLS 1.3
#     d5 s_client -tls1_2 -> latch serve --tls-min 1.3: alert protocol version, logged
#  e  ALPN
#     e1/e2 latch get --alpn h2,http/1.1 -> s_server -alpn http/1.1, TLS 1.2 and 1.3
#     e3 curl --http1.1 -> latch serve --alpn http/1.1: ALPN http/1.1 over TLS 1.3
#     e4 s_client -alpn h2,http/1.1 -> same: http/1.1
#     e5 s_client -alpn h2 -> same: alert no_application_protocol, logged
#  plus a clean-log/SIGTERM cell per latch serve (5).
. "$(dirname "$0")/lib.sh"

require_tool openssl gnutls-cli curl timeout setsid awk mkfifo sha256sum cmp od base64
require_latch
require_pki server-p256

CERT=server-p256
ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)
ossl_cert_args "$CERT"

verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# Common s_client arguments (verify chain and host name, SNI).
S_CLIENT_VERIFY=(-CAfile "$PKI/ca.pem" -verify_return_error -verify_hostname localhost -servername localhost)

# hellos_summary FILE: the hellos of a -trace log on one line, for messages.
hellos_summary() { ossl_trace_hellos "$1" | paste -sd';' -; }

# start_serve NAME [ARGS...]: latch serve with $CERT; on failure fails the
# listed cells (CELLS array) and returns 1.
start_serve() {
  local name=$1; shift
  if start_latch_serve "$name" "$CERT" "$ROOT" "$@"; then return 0; fi
  local c
  for c in "${CELLS[@]}"; do fail "$c" "latch serve $* did not start listening" "$PEER_LOG"; done
  stop_peer "$PEER_PID"
  return 1
}

# start_s_server NAME [ARGS...]: openssl s_server -www with $CERT; on failure
# fails the CELLS and returns 1.
start_s_server() {
  local name=$1; shift
  if start_peer "$name" -- openssl s_server -accept "127.0.0.1:@PORT@" -www "${OSSL_CERT_ARGS[@]}" "$@"; then
    return 0
  fi
  local c
  for c in "${CELLS[@]}"; do fail "$c" "openssl s_server $* did not start" "$PEER_LOG"; done
  return 1
}

# ====================================================================== a
CELLS=("a1: s_client (share x25519) -> latch serve --groups secp384r1: HRR, secp384r1"
       "a2: gnutls-cli (shares x25519,secp256r1) -> latch serve --groups secp384r1: HRR, secp384r1"
       "a3: curl --curves x25519:secp384r1 -> latch serve --groups secp384r1: HRR, secp384r1")
if start_serve latch-serve-hrr --groups secp384r1; then
  port=$PEER_PORT pid=$PEER_PID log=$PEER_LOG

  case=${CELLS[0]}
  run_client s_client-hrr "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_3 -groups x25519:secp384r1 \
    -trace -msgfile "$T/s_client-hrr.trace" "${S_CLIENT_VERIFY[@]}" -ign_eof
  hs=$(hellos_summary "$T/s_client-hrr.trace")
  want="ClientHello key_share=001d;ServerHello hrr=1 key_share=0018;ClientHello key_share=0018;ServerHello hrr=0 key_share=0018"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  contains "$CLIENT_OUT" "Server Temp Key: ECDH, secp384r1, 384 bits" || why="$why Server Temp Key is not secp384r1;"
  contains "$CLIENT_OUT" "New, TLSv1.3," || why="$why not TLSv1.3;"
  [ "$hs" = "$want" ] || why="$why hellos were '$hs', want '$want';"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  case=${CELLS[1]}
  run_client_held gnutls-cli-hrr "$REQ" gnutls-cli -d 4 --x509cafile "$PKI/ca.pem" \
    --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1" \
    -p "$port" localhost
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why gnutls-cli exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  matches "$CLIENT_ERR" 'sending key share for X25519' || why="$why gnutls-cli did not share X25519 first;"
  matches "$CLIENT_ERR" 'HELLO RETRY REQUEST \(1025\) was received' || why="$why no HelloRetryRequest received;"
  matches "$CLIENT_OUT" '^- Description: \(TLS1\.3-X\.509\)-\(ECDHE-SECP384R1\)-' || why="$why group is not SECP384R1;"
  verdict "$case" "$why" "$CLIENT_OUT" "$log"

  case=${CELLS[2]}
  trace="$T/curl-hrr.trace"
  run_client curl-hrr /dev/null curl -sS --trace "$trace" --cacert "$PKI/ca.pem" --tlsv1.3 \
    --curves x25519:secp384r1 "https://localhost:$port/token.txt"
  sh=$(curl_server_hellos "$trace" | awk '{print $1, $4}' | paste -sd';' -)
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why curl exit $CLIENT_RC;"
  cmp -s "$ROOT/token.txt" "$CLIENT_OUT" || why="$why body is not token.txt;"
  [ "$sh" = "hrr=1 group=0018;hrr=0 group=0018" ] || why="$why ServerHellos were '$sh', want HRR(0018) then 0018;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  stop_latch_serve latch-serve-hrr "$pid"
fi

CELLS=("a4: s_client (share x25519; x25519,secp256r1,secp384r1) -> latch serve --groups secp384r1,secp256r1: HRR asks for secp384r1")
if start_serve latch-serve-hrr-pref --groups secp384r1,secp256r1; then
  case=${CELLS[0]}
  run_client s_client-hrr-pref "$REQ" openssl s_client -connect "127.0.0.1:$PEER_PORT" -tls1_3 \
    -groups x25519:secp256r1:secp384r1 -trace -msgfile "$T/s_client-hrr-pref.trace" "${S_CLIENT_VERIFY[@]}" -ign_eof
  hs=$(hellos_summary "$T/s_client-hrr-pref.trace")
  want="ClientHello key_share=001d;ServerHello hrr=1 key_share=0018;ClientHello key_share=0018;ServerHello hrr=0 key_share=0018"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  contains "$CLIENT_OUT" "Server Temp Key: ECDH, secp384r1, 384 bits" || why="$why Server Temp Key is not secp384r1;"
  [ "$hs" = "$want" ] || why="$why hellos were '$hs', want '$want';"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  stop_latch_serve latch-serve-hrr-pref "$PEER_PID"
fi

CELLS=("a5: gnutls-cli (shares x25519,secp256r1) -> latch serve --groups secp256r1,x25519: secp256r1, no HRR"
       "a6: s_client (share x25519) -> latch serve --groups secp256r1,x25519: x25519, no HRR")
if start_serve latch-serve-shares --groups secp256r1,x25519; then
  port=$PEER_PORT pid=$PEER_PID log=$PEER_LOG
  case=${CELLS[0]}
  run_client_held gnutls-cli-shares "$REQ" gnutls-cli -d 4 --x509cafile "$PKI/ca.pem" \
    --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1" -p "$port" localhost
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why gnutls-cli exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  { matches "$CLIENT_ERR" 'sending key share for X25519' && matches "$CLIENT_ERR" 'sending key share for SECP256R1'; } ||
    why="$why gnutls-cli did not send both key shares (test premise);"
  matches "$CLIENT_ERR" 'HELLO RETRY REQUEST' && why="$why unexpected HelloRetryRequest;"
  matches "$CLIENT_OUT" '^- Description: \(TLS1\.3-X\.509\)-\(ECDHE-SECP256R1\)-' ||
    why="$why group is not SECP256R1 (server's preference among the offered shares);"
  verdict "$case" "$why" "$CLIENT_OUT" "$log"

  case=${CELLS[1]}
  run_client s_client-shares "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_3 -groups x25519:secp256r1 \
    -trace -msgfile "$T/s_client-shares.trace" "${S_CLIENT_VERIFY[@]}" -ign_eof
  hs=$(hellos_summary "$T/s_client-shares.trace")
  want="ClientHello key_share=001d;ServerHello hrr=0 key_share=001d"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  [ "$hs" = "$want" ] || why="$why hellos were '$hs', want '$want';"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"
  stop_latch_serve latch-serve-shares "$pid"
fi

CELLS=("a7: latch get --groups x25519,secp384r1 -> s_server -groups secp384r1: HRR, secp384r1")
if start_s_server s_server-hrr -tls1_3 -groups secp384r1 -trace; then
  case=${CELLS[0]}
  run_client latch-get-hrr /dev/null "$LATCH" get -v --cacert "$PKI/ca.pem" --groups x25519,secp384r1 \
    "https://localhost:$PEER_PORT/"
  stop_peer "$PEER_PID"
  hs=$(hellos_summary "$PEER_LOG")
  want="ClientHello key_share=001d;ServerHello hrr=1 key_share=0018;ClientHello key_share=0018;ServerHello hrr=0 key_share=0018"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "s_server -accept 127.0.0.1:" || why="$why body is not the s_server page;"
  matches "$CLIENT_OUT" '^Shared groups: secp384r1$' || why="$why s_server page: shared group not secp384r1;"
  matches "$CLIENT_ERR" '^\* TLS version: TLSv1\.3$' || why="$why latch -v: not TLSv1.3;"
  matches "$CLIENT_ERR" '^\* Group: secp384r1$' || why="$why latch -v: group not secp384r1;"
  [ "$hs" = "$want" ] || why="$why s_server saw '$hs', want '$want';"
  verdict "$case" "$why" "$CLIENT_ERR"
fi

# ====================================================================== b, c
# One latch serve (defaults) for resumption and KeyUpdate.
for n in a b c; do
  { head -c 4194304 /dev/urandom | base64 -w 76; echo "END-OF-$n-$TOKEN"; } >"$ROOT/$n.txt"
done

CELLS=("b: resumption" "c: key update")
if start_serve latch-serve-resume; then
  port=$PEER_PORT pid=$PEER_PID log=$PEER_LOG

  # b1: OpenSSL 3.0's s_client -reconnect drops the connection right after
  # the handshake (apps/s_client.c: do_ssl_shutdown + close), before it reads
  # the TLS 1.3 NewSessionTicket, so it never resumes TLS 1.3 -- against
  # OpenSSL's own s_server too.  Assert only that the 6 handshakes complete;
  # TLS 1.3 resumption proper is b4-b6.
  case="b1: s_client -tls1_3 -reconnect: 6 TLS 1.3 handshakes (resumption: see b4)"
  run_client s_client-reconnect13 /dev/null openssl s_client -connect "127.0.0.1:$port" -tls1_3 -reconnect \
    "${S_CLIENT_VERIFY[@]}"
  n13=$(grep -cE '^(New|Reused), TLSv1\.3, Cipher is' "$CLIENT_OUT")
  nok=$(grep -cE 'Verify return code: 0 \(ok\)' "$CLIENT_OUT")
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  [ "$n13" -eq 6 ] || why="$why $n13 TLS 1.3 handshakes (want 6);"
  [ "$nok" -ge 6 ] || why="$why only $nok verified;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  for mode in tickets session-ids; do
    extra=()
    [ "$mode" = session-ids ] && extra=(-no_ticket)
    case="b: s_client -tls1_2 ${extra[*]} -reconnect ($mode): 5 x Reused, TLSv1.2"
    run_client "s_client-reconnect12-$mode" /dev/null openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
      "${extra[@]}" -reconnect "${S_CLIENT_VERIFY[@]}"
    nnew=$(grep -cE '^New, TLSv1\.2, Cipher is' "$CLIENT_OUT")
    nreused=$(grep -cE '^Reused, TLSv1\.2, Cipher is' "$CLIENT_OUT")
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
    [ "$nnew" -eq 1 ] && [ "$nreused" -eq 5 ] || why="$why $nnew New + $nreused Reused (want 1 + 5);"
    if [ "$mode" = tickets ]; then
      contains "$CLIENT_OUT" "TLS session ticket:" || why="$why no session ticket issued;"
    else
      contains "$CLIENT_OUT" "TLS session ticket:" && why="$why a ticket was issued despite -no_ticket;"
      matches "$CLIENT_OUT" 'Session-ID: [0-9A-F]{2,}' || why="$why no session ID;"
    fi
    verdict "$case" "$why" "$CLIENT_ERR" "$log"
  done

  case="b4: s_client -tls1_3 -sess_out, 3 x -sess_in: Reused, TLSv1.3 (psk_dhe_ke)"
  why=""
  run_client s_client-sess0 "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
    -sess_out "$T/sess0.pem" "${S_CLIENT_VERIFY[@]}" -ign_eof
  [ "$CLIENT_RC" -eq 0 ] || why="$why first s_client exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "New, TLSv1.3," || why="$why first connection not a new TLS 1.3 session;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why first connection: token.txt not received;"
  [ -s "$T/sess0.pem" ] || why="$why no session written by -sess_out (NewSessionTicket not received?);"
  for i in 1 2 3; do
    [ -s "$T/sess$((i - 1)).pem" ] || break
    run_client "s_client-sess$i" "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
      -sess_in "$T/sess$((i - 1)).pem" -sess_out "$T/sess$i.pem" -msg -msgfile "$T/sess$i.msg" \
      "${S_CLIENT_VERIFY[@]}" -ign_eof
    [ "$CLIENT_RC" -eq 0 ] || why="$why resumption $i: s_client exit $CLIENT_RC;"
    contains "$CLIENT_OUT" "Reused, TLSv1.3, Cipher is" || why="$why resumption $i: not 'Reused, TLSv1.3';"
    contains "$CLIENT_OUT" "$TOKEN" || why="$why resumption $i: token.txt not received;"
    matches "$T/sess$i.msg" '^<<< .*Handshake .*, Certificate$' && why="$why resumption $i: server sent a Certificate;"
    contains "$CLIENT_OUT" "Server Temp Key:" || why="$why resumption $i: no (EC)DHE key share (want psk_dhe_ke);"
  done
  verdict "$case" "$why" "$CLIENT_OUT" "$log"

  case="b5: curl, 2 URLs, Connection: close, TLS 1.3: second handshake resumes (pre_shared_key)"
  trace="$T/curl-resume.trace"
  run_client curl-resume /dev/null curl -sS --trace "$trace" -H 'Connection: close' --cacert "$PKI/ca.pem" \
    --tlsv1.3 "https://localhost:$port/token.txt" "https://localhost:$port/token.txt"
  sh=$(curl_server_hellos "$trace" | awk '{print $3, $5}' | paste -sd';' -)
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why curl exit $CLIENT_RC;"
  [ "$(grep -c "$TOKEN" "$CLIENT_OUT")" -eq 2 ] || why="$why token.txt not received twice;"
  [ "$(grep -c 'Connected to localhost' "$trace")" -eq 2 ] || why="$why not two connections;"
  [ "$sh" = "version=0304 psk=0;version=0304 psk=1" ] ||
    why="$why ServerHellos '$sh', want full then pre_shared_key;"
  [ "$(grep -c 'TLS handshake, Certificate (11)' "$trace")" -eq 1 ] || why="$why server Certificate sent more than once;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  case="b6: gnutls-cli -r (TLS 1.3): resumed session"
  run_client_held gnutls-cli-resume "$REQ" gnutls-cli -r --x509cafile "$PKI/ca.pem" \
    --priority "$(gnutls_tls13_priority)" -p "$port" localhost
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why gnutls-cli exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "*** This is a resumed session" || why="$why not resumed;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  matches "$CLIENT_OUT" '^- Description: \(TLS1\.3' || why="$why not TLS 1.3;"
  verdict "$case" "$why" "$CLIENT_OUT" "$log"

  # ---- c1/c2: KeyUpdate from the client side on one keep-alive connection.
  # s_client takes 'k'/'K' as commands only when a read from stdin starts
  # with them (and only without -ign_eof/-quiet), so each stdin write is
  # separated by a wait.  Its -trace goes to a separate file.
  fifo="$T/ku.stdin" out="$T/s_client-ku.out" err="$T/s_client-ku.err" msg="$T/s_client-ku.trace"
  rm -f "$fifo"; mkfifo "$fifo" || die "mkfifo failed"
  timeout -k 5 60 openssl s_client -connect "127.0.0.1:$port" -tls1_3 -trace -msgfile "$msg" \
    "${S_CLIENT_VERIFY[@]}" <"$fifo" >"$out" 2>"$err" &
  CLIENT_PID=$!
  # If s_client dies, writes to the FIFO must fail, not kill this script
  # (SIGPIPE is ignored only here, after the peers have been started).
  trap '' PIPE
  exec 7>"$fifo"
  # wait_out STRING: until STRING is in s_client's output (15 s max)
  wait_out() {
    local i
    for i in $(seq 1 300); do
      grep -aqF -- "$1" "$out" && return 0
      kill -0 "$CLIENT_PID" 2>/dev/null || { grep -aqF -- "$1" "$out"; return; }
      sleep 0.05
    done
    return 1
  }
  get() { printf 'GET /%s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: latch-interop\r\n%b\r\n' "$1" "${2:-}" >&7; }
  why="" midflight=""
  wait_out "Verify return code" || why="$why handshake did not complete;"
  # wait_status N: until N response status lines have arrived (so the
  # request went out as a read of its own and its response is under way)
  wait_status() {
    local i
    for i in $(seq 1 1500); do
      [ "$(grep -a -m "$1" -c '^HTTP/1\.1 200' "$out")" -ge "$1" ] && return 0
      kill -0 "$CLIENT_PID" 2>/dev/null || return 1
      sleep 0.01
    done
    return 1
  }
  get a.txt
  wait_status 1 || why="$why no response to a.txt;"
  echo K >&7
  grep -aqF "END-OF-a-" "$out" || midflight="K sent while a.txt was in flight"
  wait_out "END-OF-a-$TOKEN" || why="$why a.txt did not complete;"
  get b.txt
  wait_status 2 || why="$why no response to b.txt;"
  echo k >&7
  wait_out "END-OF-b-$TOKEN" || why="$why b.txt did not complete;"
  echo K >&7; sleep 0.2
  get c.txt 'Connection: close\r\n'
  wait_out "END-OF-c-$TOKEN" || why="$why c.txt did not complete;"
  sleep 0.2
  exec 7>&-
  trap - PIPE
  wait "$CLIENT_PID"; rc=$?; CLIENT_PID=""
  [ "$rc" -eq 0 ] || why="$why s_client exit $rc;"
  # Split the three responses out of s_client's stdout (HTTP headers, blank
  # line, body ending with the END-OF line) and compare them with the files.
  awk -v dir="$T" -v tok="$TOKEN" '
    /^HTTP\/1\.1 / { n++; hdr = 1; out = dir "/ku-body" n; printf "" > out; next }
    hdr && /^Content-Length:/ { cl[n] = $2 + 0 }
    hdr && /^\r$/ { hdr = 0; body = 1; next }
    body { print > out; if (index($0, "END-OF-") == 1) { body = 0; close(out) } }
    END { for (i = 1; i <= n; i++) printf "%d %d\n", i, cl[i] > (dir "/ku-cl") }
  ' "$out"
  i=0
  for n in a b c; do
    i=$((i + 1))
    if ! cmp -s "$ROOT/$n.txt" "$T/ku-body$i"; then
      why="$why $n.txt body differs ($(wc -c <"$T/ku-body$i" 2>/dev/null || echo 0) of $(wc -c <"$ROOT/$n.txt") bytes, sha256 $(sha256sum <"$T/ku-body$i" 2>/dev/null | cut -c1-12) want $(sha256sum <"$ROOT/$n.txt" | cut -c1-12));"
    fi
    grep -q "^$i $(wc -c <"$ROOT/$n.txt")\$" "$T/ku-cl" 2>/dev/null || why="$why $n.txt Content-Length wrong;"
  done
  conns=$(grep -E '"GET /[abc]\.txt HTTP/1\.1" 200' "$log" | awk '{print $2}' | sort -u | wc -l)
  [ "$(grep -cE '"GET /[abc]\.txt HTTP/1\.1" 200' "$log")" -eq 3 ] || why="$why latch serve did not log 3 x 200 for a/b/c;"
  [ "$conns" -eq 1 ] || why="$why requests used $conns connections (want 1 keep-alive connection);"
  case="c1: s_client K/k/K during 3 x 4 MiB on one TLS 1.3 connection: all bytes intact"
  verdict "$case" "$why" "$err" "$log"
  note "c1: ${midflight:-a.txt had already arrived when K was sent (not mid-transfer this time)}"

  case="c2: KeyUpdates on the wire: latch answered each update_requested"
  ku=$(ossl_trace_keyupdates "$msg" | paste -sd';' -)
  nsent=$(ossl_trace_keyupdates "$msg" | grep -c '^sent')
  nreq=$(ossl_trace_keyupdates "$msg" | grep -c '^sent requested')
  nans=$(ossl_trace_keyupdates "$msg" | grep -c '^received not_requested')
  nbad=$(ossl_trace_keyupdates "$msg" | grep -c '^received requested')
  why=""
  [ "$(grep -c '^KEYUPDATE' "$err")" -eq 3 ] || why="$why s_client did not run 3 KEYUPDATE commands;"
  [ "$nsent" -eq 3 ] && [ "$nreq" -eq 2 ] || why="$why s_client sent '$ku' (want 2 requested + 1 not_requested);"
  [ "$nans" -eq 2 ] || why="$why latch sent $nans KeyUpdate(update_not_requested) (want 2, one per update_requested): '$ku';"
  [ "$nbad" -eq 0 ] || why="$why latch sent KeyUpdate(update_requested) in reply;"
  verdict "$case" "$why" "$err"

  stop_latch_serve latch-serve-resume "$pid"
fi

# ---- c3: KeyUpdate(update_requested) from s_server to latch get mid-body.
# s_server without -www sends whatever arrives on its stdin and treats a read
# starting with "K\n" as a command.  The body is decimal digits and spaces
# only (no s_server command letters); each stdin write waits until the
# previous one went out (latch's stdout length, s_server's trace), so "K\n"
# is a read of its own.
case="c3: latch get <- s_server KeyUpdate(update_requested) mid-body (8 MB): intact, latch answers"
head -c 1048576 /dev/urandom | od -An -tu1 -w32 -v >"$T/half1"
head -c 1048576 /dev/urandom | od -An -tu1 -w32 -v >"$T/half2"
cat "$T/half1" "$T/half2" >"$T/ku-body.expected"
fifo="$T/s_server.stdin"
rm -f "$fifo"; mkfifo "$fifo" || die "mkfifo failed"
# <> : the FIFO is opened read-write, so s_server does not block on open.
if start_peer s_server-ku -- bash -c 'exec "$@" <>"$0"' "$fifo" openssl s_server -accept "127.0.0.1:@PORT@" \
     -naccept 1 -tls1_3 -trace "${OSSL_CERT_ARGS[@]}"; then
  slog=$PEER_LOG
  lout="$T/latch-get-ku.out" lerr="$T/latch-get-ku.err"
  timeout -k 5 60 "$LATCH" get -v --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/ku" >"$lout" 2>"$lerr" &
  CLIENT_PID=$!
  trap '' PIPE   # s_server may be gone: writes must fail, not kill us
  exec 8>"$fifo"
  # poll CONDITION...: up to 40 s (a loaded CI machine), stops early when
  # latch get has exited
  poll() {
    local i
    for i in $(seq 1 800); do
      "$@" && return 0
      kill -0 "$CLIENT_PID" 2>/dev/null || { "$@"; return; }
      sleep 0.05
    done
    return 1
  }
  got_request() { grep -q 'GET /ku HTTP/1.1' "$slog"; }
  got_half() { [ "$(wc -c <"$lout")" -ge "$(wc -c <"$T/half1")" ]; }
  sent_ku() { [ "$(ossl_trace_keyupdates "$slog" | grep -c .)" -ge 1 ]; }
  why=""
  if ! poll got_request; then
    why="$why s_server never got the request;"
  else
    printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
      "$(wc -c <"$T/ku-body.expected")" >&8
    timeout 20 cat "$T/half1" >&8
    poll got_half || why="$why first half did not arrive ($(wc -c <"$lout") bytes);"
    echo K >&8
    poll sent_ku || why="$why s_server did not send the KeyUpdate;"
    timeout 20 cat "$T/half2" >&8
  fi
  exec 8>&-
  trap - PIPE
  wait "$CLIENT_PID"; rc=$?; CLIENT_PID=""
  sleep 0.2
  stop_peer "$PEER_PID"
  ku=$(ossl_trace_keyupdates "$slog" | paste -sd';' -)
  [ "$rc" -eq 0 ] || why="$why latch exit $rc;"
  cmp -s "$T/ku-body.expected" "$lout" ||
    why="$why body differs ($(wc -c <"$lout") of $(wc -c <"$T/ku-body.expected") bytes);"
  [ "$ku" = "sent requested;received not_requested" ] ||
    why="$why KeyUpdates seen by s_server: '$ku' (want 'sent requested;received not_requested');"
  verdict "$case" "$why" "$lerr" "$slog"
else
  fail "$case" "openssl s_server did not start" "$PEER_LOG"
fi

# ====================================================================== d, e
CELLS=("d1: latch get --tls-min 1.3 -> s_server -tls1_2: exit 35, protocol_version"
       "d2: latch get -> s_server -tls1_2: TLS 1.2 fallback")
if start_s_server s_server-tls12 -tls1_2; then
  case=${CELLS[0]}
  run_client latch-get-min13 /dev/null "$LATCH" get --tls-min 1.3 --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 35 ] || why="$why latch exit $CLIENT_RC (want 35);"
  matches "$CLIENT_ERR" 'protocol_version' || why="$why stderr does not mention protocol_version;"
  contains "$CLIENT_OUT" "s_server" && why="$why a body was received;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"

  case=${CELLS[1]}
  run_client latch-get-fallback /dev/null "$LATCH" get -v --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "Protocol  : TLSv1.2" || why="$why s_server page: not TLSv1.2;"
  matches "$CLIENT_ERR" '^\* TLS version: TLSv1\.2$' || why="$why latch -v: not TLSv1.2;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  stop_peer "$PEER_PID"
fi

CELLS=("d3: latch get --tls-max 1.2 -> s_server (1.2+1.3): TLS 1.2, sentinel not a false alarm"
       "d4: latch get -> s_server (1.2+1.3): TLS 1.3")
if start_s_server s_server-any; then
  case=${CELLS[0]}
  run_client latch-get-max12 /dev/null "$LATCH" get -v --tls-max 1.2 --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "Protocol  : TLSv1.2" || why="$why s_server page: not TLSv1.2;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  case=${CELLS[1]}
  run_client latch-get-any /dev/null "$LATCH" get -v --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "Protocol  : TLSv1.3" || why="$why s_server page: not TLSv1.3;"
  matches "$CLIENT_ERR" '^\* TLS version: TLSv1\.3$' || why="$why latch -v: not TLSv1.3;"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  stop_peer "$PEER_PID"
fi

for v in 1.2 1.3; do
  CELLS=("e: latch get --alpn h2,http/1.1 -> s_server -tls${v/./_} -alpn http/1.1: http/1.1")
  case=${CELLS[0]}
  if start_s_server "s_server-alpn-$v" "-tls${v/./_}" -alpn http/1.1 -trace; then
    run_client "latch-get-alpn-$v" /dev/null "$LATCH" get -v --alpn h2,http/1.1 --cacert "$PKI/ca.pem" \
      "https://localhost:$PEER_PORT/"
    stop_peer "$PEER_PID"
    # client offer: h2 and http/1.1; server answer: http/1.1 alone
    offer=$(awk '/extension_type=application_layer_protocol_negotiation/ {a = 1; next}
                 a && /extension_type=|^[^ ]/ {a = 0}
                 a && NF == 1 {printf "%s%s", (n++ ? "," : ""), $1}
                 /^    [A-Za-z]+, Length=/ && n {print ""; n = 0}' "$PEER_LOG")
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why latch exit $CLIENT_RC;"
    contains "$CLIENT_OUT" "Protocol  : TLSv$v" || why="$why s_server page: not TLSv$v;"
    matches "$CLIENT_ERR" '^\* ALPN: http/1\.1$' || why="$why latch -v: ALPN is not http/1.1;"
    [ "$(printf '%s\n' "$offer" | grep -v '^$' | paste -sd' ' -)" = "h2,http/1.1 http/1.1" ] ||
      why="$why ALPN on the wire: '$(printf '%s\n' "$offer" | paste -sd' ' -)', want offer h2,http/1.1 then http/1.1;"
    verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
  fi
done

CELLS=("d5: s_client -tls1_2 -> latch serve --tls-min 1.3: alert protocol version"
       "e3: curl --http1.1 -> latch serve --alpn http/1.1: ALPN http/1.1 over TLS 1.3"
       "e4: s_client -alpn h2,http/1.1 -> latch serve --alpn http/1.1: http/1.1"
       "e5: s_client -alpn h2 -> latch serve --alpn http/1.1: alert no application protocol")
if start_serve latch-serve-13-alpn --tls-min 1.3 --alpn http/1.1; then
  port=$PEER_PORT pid=$PEER_PID log=$PEER_LOG

  case=${CELLS[0]}
  run_client s_client-tls12-vs-13 "$REQ" openssl s_client -connect "127.0.0.1:$port" -tls1_2 -servername localhost -ign_eof
  why=""
  matches "$CLIENT_ERR" 'alert protocol version' || why="$why s_client did not receive alert protocol version;"
  contains "$CLIENT_OUT" "$TOKEN" && why="$why the file was served over TLS 1.2;"
  sleep 0.1
  matches "$log" 'handshake failed.*protocol_version.*sent' || why="$why latch serve did not log the protocol_version alert;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  case=${CELLS[1]}
  run_client curl-alpn /dev/null curl -sS -v --http1.1 --cacert "$PKI/ca.pem" "https://localhost:$port/token.txt"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why curl exit $CLIENT_RC;"
  cmp -s "$ROOT/token.txt" "$CLIENT_OUT" || why="$why body is not token.txt;"
  matches "$CLIENT_ERR" 'ALPN.*offers http/1\.1' || why="$why curl did not offer http/1.1;"
  matches "$CLIENT_ERR" 'ALPN.*server accepted (to use )?http/1\.1' || why="$why curl -v does not show ALPN http/1.1 accepted;"
  matches "$CLIENT_ERR" 'SSL connection using TLSv1\.3' || why="$why not TLS 1.3;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  case=${CELLS[2]}
  run_client s_client-alpn-ok "$REQ" openssl s_client -connect "127.0.0.1:$port" -alpn h2,http/1.1 \
    "${S_CLIENT_VERIFY[@]}" -ign_eof
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "ALPN protocol: http/1.1" || why="$why ALPN is not http/1.1;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token.txt not received;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  case=${CELLS[3]}
  run_client s_client-alpn-h2 "$REQ" openssl s_client -connect "127.0.0.1:$port" -alpn h2 -servername localhost -ign_eof
  why=""
  matches "$CLIENT_ERR" 'alert no application protocol' || why="$why s_client did not receive alert no_application_protocol;"
  contains "$CLIENT_OUT" "$TOKEN" && why="$why the file was served;"
  sleep 0.1
  matches "$log" 'handshake failed.*no_application_protocol.*sent' || why="$why latch serve did not log it;"
  verdict "$case" "$why" "$CLIENT_ERR" "$log"

  stop_latch_serve latch-serve-13-alpn "$pid" --expect-failures
fi

summary
