#!/usr/bin/env bash
# Session resumption through the CLI: latch get --session / --reconnect,
# latch serve --ticket-key / --no-tickets / --session-cache / SIGHUP.
#
#  a  latch get --session F twice -> latch serve: first "* Resumed: no",
#     second "* Resumed: yes": 1.3; 1.2 with tickets (the first connection
#     carries a NewSessionTicket); 1.2 --no-tickets (session IDs: no ticket)  3
#  b  what must not resume: 1.3 --no-tickets; 1.2 --no-tickets
#     --session-cache 0 (full handshake, still 200)                          2
#  c  --reconnect 3 -> latch serve: "resumed 3 of 3" (1.3, 1.2), and
#     "resumed 0 of 3" with --no-tickets --session-cache 0                   3
#  d  latch get --session twice and --reconnect 3 -> openssl s_server -www
#     (its page says New, then Reused): 1.3, 1.2                            4
#  e  openssl s_client -> latch serve: -reconnect shows Reused (1.2 tickets,
#     1.2 -no_ticket); 1.3 with -sess_out/-sess_in (s_client -reconnect
#     cannot resume 1.3, even against s_server: it reconnects before the
#     ticket arrives)                                                         3
#  f  fleet: two latch serve with the same --ticket-key (80 bytes): a
#     session from the first resumes on the second; with another key it
#     does not (full handshake, 200): 1.3, 1.2                               4
#  g  SIGHUP rotation: --ticket-key cur --ticket-key prev; rotate the files,
#     SIGHUP: an old session resumes once (prev opens), not after a second
#     rotation; a connection open across SIGHUP is still served; with
#     --no-tickets, a TLS 1.2 session ID resumes after one and two SIGHUPs
#     (the session-id cache is kept)                                        4
#  h  session file: mode 0600 even under umask 000 and over a 0644 file,
#     no temporary file left; a bad --ticket-key file is refused (exit 2)    2
#  +  one cell per latch serve instance (10): clean log, SIGTERM shutdown
# 35 cells.
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

require_tool openssl timeout setsid awk stat python3
require_latch
require_pki server-p256

ROOT=$(make_docroot)
REQ=$(http_request_file /token.txt)
CERT=server-p256

verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# get_v NAME SESSIONFILE URL [ARGS...]: latch get -v --session FILE
get_v() {
  local name=$1 session=$2 url=$3; shift 3
  run_client "$name" /dev/null "$LATCH" get -v --cacert "$PKI/ca.pem" --session "$session" "$@" "$url"
}

# check_get WANT_RESUMED BODY_FIXED_STRING: appends to $why
check_get() {
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC (want 0);"
  contains "$CLIENT_OUT" "$2" || why="$why body lacks '$2';"
  contains "$CLIENT_ERR" "* Resumed: $1" || why="$why no '* Resumed: $1' ($(grep -m1 'Resumed' "$CLIENT_ERR"));"
}

# Handshake types latch get saw on its first connection (from --trace=json).
handshake_types() {
  python3 -c 'import sys, json
print(",".join(str(o["handshake_type"]) for o in map(json.loads, filter(str.strip, open(sys.argv[1])))
               if o.get("event") == "handshake"))' "$1" 2>/dev/null
}

# two_gets CASE URL TICKET(yes|no|any) [LATCH GET ARGS...]: the session-file
# round trip against latch serve: no, then yes.
two_gets() {
  local case=$1 url=$2 ticket=$3; shift 3
  local f name types
  name=$(echo "$case" | tr -c 'A-Za-z0-9' _)
  f="$T/session-$name"
  rm -f "$f"
  why=""
  run_client "$name-1" /dev/null "$LATCH" get -v --trace=json --cacert "$PKI/ca.pem" --session "$f" "$@" "$url"
  [ "$CLIENT_RC" -eq 0 ] || why="$why first get exit $CLIENT_RC;"
  grep '^{' "$CLIENT_ERR" >"$CLIENT_ERR.json"
  types=$(handshake_types "$CLIENT_ERR.json")
  case $ticket in
    yes) [[ ",$types," == *,4,* ]] || why="$why first connection got no NewSessionTicket ($types);" ;;
    no) [[ ",$types," != *,4,* ]] || why="$why a NewSessionTicket came despite --no-tickets ($types);" ;;
  esac
  [ -s "$f" ] || why="$why no session saved;"
  get_v "$name-2" "$f" "$url" "$@"
  check_get yes "$TOKEN"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
}

# not_resumed CASE URL [ARGS...]: a saved session that must not resume
not_resumed() {
  local case=$1 url=$2; shift 2
  local f name
  name=$(echo "$case" | tr -c 'A-Za-z0-9' _)
  f="$T/session-$name"
  rm -f "$f"
  why=""
  get_v "$name-1" "$f" "$url" "$@"
  check_get no "$TOKEN"
  get_v "$name-2" "$f" "$url" "$@"
  check_get no "$TOKEN"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
}

# reconnect CASE URL WANT_LINE BODY [ARGS...]
reconnect() {
  local case=$1 url=$2 want=$3 body=$4; shift 4
  run_client "$(echo "$case" | tr -c 'A-Za-z0-9' _)" /dev/null \
    "$LATCH" get --cacert "$PKI/ca.pem" --reconnect 3 "$@" "$url"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$body" || why="$why body lacks '$body';"
  [ "$(grep -c -- "$body" "$CLIENT_OUT")" -eq 1 ] || why="$why body printed more than once;"
  contains "$CLIENT_ERR" "latch: $want" || why="$why no 'latch: $want' ($(grep -m1 'resumed' "$CLIENT_ERR"));"
  verdict "$case" "$why" "$CLIENT_ERR" "$PEER_LOG"
}

# serve_or_fail NAME CASES... -- ARGS: latch serve, or fail CASES
serve_or_fail() {
  local name=$1; shift
  local -a cases=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cases+=("$1"); shift; done
  shift
  start_latch_serve "$name" "$CERT" "$ROOT" "$@" && return 0
  local c
  for c in "${cases[@]}"; do fail "$c" "latch serve did not start" "$PEER_LOG"; done
  stop_peer "$PEER_PID"
  return 1
}

# ---- a, b, c: latch get -> latch serve
if serve_or_fail serve-default "a: 1.3" "a: 1.2 tickets" "c: 1.3" "c: 1.2" -- ; then
  U="https://localhost:$PEER_PORT/token.txt"
  two_gets "a: latch get --session twice -> latch serve, TLS 1.3: no, then yes" "$U" yes
  two_gets "a: latch get --session twice -> latch serve, TLS 1.2 tickets: no, then yes" "$U" yes --tls-max 1.2
  reconnect "c: --reconnect 3 -> latch serve, TLS 1.3: resumed 3 of 3" "$U" "resumed 3 of 3 reconnections" "$TOKEN"
  reconnect "c: --reconnect 3 -> latch serve, TLS 1.2: resumed 3 of 3" "$U" "resumed 3 of 3 reconnections" "$TOKEN" --tls-max 1.2
  stop_latch_serve serve-default "$PEER_PID"
fi
if serve_or_fail serve-no-tickets "a: 1.2 session ids" "b: 1.3 no tickets" -- --no-tickets; then
  U="https://localhost:$PEER_PORT/token.txt"
  two_gets "a: latch get --session twice -> latch serve --no-tickets, TLS 1.2 session ID: no, then yes" "$U" no --tls-max 1.2
  not_resumed "b: latch serve --no-tickets, TLS 1.3: never resumed, still 200" "$U"
  stop_latch_serve serve-no-tickets "$PEER_PID"
fi
if serve_or_fail serve-no-resumption "b: 1.2 nothing" "c: nothing" -- --no-tickets --session-cache 0; then
  U="https://localhost:$PEER_PORT/token.txt"
  not_resumed "b: latch serve --no-tickets --session-cache 0, TLS 1.2: never resumed, still 200" "$U" --tls-max 1.2
  reconnect "c: --reconnect 3 -> latch serve --no-tickets --session-cache 0: resumed 0 of 3" "$U" \
    "resumed 0 of 3 reconnections" "$TOKEN" --tls-max 1.2
  stop_latch_serve serve-no-resumption "$PEER_PID"
fi

# ---- d: latch get -> openssl s_server -www
ossl_cert_args "$CERT"
if start_peer s_server-www -- openssl s_server -accept "127.0.0.1:@PORT@" -www "${OSSL_CERT_ARGS[@]}"; then
  U="https://localhost:$PEER_PORT/"
  for v in 1.3 1.2; do
    case="d: latch get --session twice -> openssl s_server -www, TLS $v: New, then Reused"
    f="$T/session-s_server-$v"
    get_v "s_server-$v-1" "$f" "$U" --tls-max "$v"
    why=""
    check_get no "s_server -accept 127.0.0.1:$PEER_PORT "
    matches "$CLIENT_OUT" "^New, TLSv$v" || why="$why first page does not say 'New, TLSv$v';"
    get_v "s_server-$v-2" "$f" "$U" --tls-max "$v"
    check_get yes "s_server -accept 127.0.0.1:$PEER_PORT "
    matches "$CLIENT_OUT" "^Reused, TLSv$v" || why="$why second page does not say 'Reused, TLSv$v';"
    verdict "$case" "$why" "$CLIENT_ERR" "$CLIENT_OUT"
    reconnect "d: --reconnect 3 -> openssl s_server -www, TLS $v: resumed 3 of 3" "$U" \
      "resumed 3 of 3 reconnections" "s_server -accept 127.0.0.1:$PEER_PORT " --tls-max "$v"
  done
  stop_peer "$PEER_PID"
else
  fail "d: openssl s_server -www" "openssl s_server did not start" "$PEER_LOG"
fi

# ---- e: openssl s_client -> latch serve
s_client_reconnect() { # CASE ARGS...
  local case=$1; shift
  run_client "$(echo "$case" | tr -c 'A-Za-z0-9' _)" /dev/null openssl s_client \
    -connect "127.0.0.1:$PEER_PORT" -servername localhost -CAfile "$PKI/ca.pem" -reconnect "$@"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why s_client exit $CLIENT_RC;"
  matches "$CLIENT_OUT" '^New, TLSv1\.2' || why="$why first connection not 'New, TLSv1.2';"
  local reused
  reused=$(grep -c '^Reused, TLSv1\.2' "$CLIENT_OUT")
  [ "$reused" -ge 5 ] || why="$why only $reused of 5 reconnections 'Reused';"
  verdict "$case" "$why" "$CLIENT_OUT" "$PEER_LOG"
}
if serve_or_fail serve-s_client "e: s_client" -- ; then
  s_client_reconnect "e: openssl s_client -reconnect -tls1_2 -> latch serve (ticket): Reused" -tls1_2
  s_client_reconnect "e: openssl s_client -reconnect -tls1_2 -no_ticket -> latch serve (session ID): Reused" -tls1_2 -no_ticket
  case="e: openssl s_client -tls1_3 -sess_out, then -sess_in -> latch serve: Reused"
  run_client s_client-13-1 "$REQ" openssl s_client -connect "127.0.0.1:$PEER_PORT" -servername localhost \
    -CAfile "$PKI/ca.pem" -tls1_3 -ign_eof -sess_out "$T/s_client13.sess"
  why=""
  contains "$CLIENT_OUT" "$TOKEN" || why="$why first s_client got no token;"
  matches "$CLIENT_OUT" '^New, TLSv1\.3' || why="$why first connection not 'New, TLSv1.3';"
  run_client s_client-13-2 "$REQ" openssl s_client -connect "127.0.0.1:$PEER_PORT" -servername localhost \
    -CAfile "$PKI/ca.pem" -tls1_3 -ign_eof -sess_in "$T/s_client13.sess"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why second s_client got no token;"
  matches "$CLIENT_OUT" '^Reused, TLSv1\.3' || why="$why second connection not 'Reused, TLSv1.3';"
  verdict "$case" "$why" "$CLIENT_OUT" "$PEER_LOG"
  stop_latch_serve serve-s_client "$PEER_PID"
fi

# ---- f: a fleet sharing a ticket key
{ openssl rand 80 >"$T/fleet.key" && openssl rand 80 >"$T/other.key"; } || die "openssl rand failed"
FLEET_OK=1
serve_or_fail fleet-a "f: fleet" -- --ticket-key "$T/fleet.key" || FLEET_OK=0
PID_A=$PEER_PID PORT_A=$PEER_PORT
serve_or_fail fleet-b "f: fleet" -- --ticket-key "$T/fleet.key" || FLEET_OK=0
PID_B=$PEER_PID PORT_B=$PEER_PORT
serve_or_fail fleet-c "f: fleet" -- --ticket-key "$T/other.key" || FLEET_OK=0
PID_C=$PEER_PID PORT_C=$PEER_PORT
if [ "$FLEET_OK" -eq 1 ]; then
  for v in 1.3 1.2; do
    f="$T/session-fleet-$v"
    rm -f "$f"
    get_v "fleet-$v-a" "$f" "https://localhost:$PORT_A/token.txt" --tls-max "$v"
    why=""
    check_get no "$TOKEN"
    cp "$f" "$f.copy"
    get_v "fleet-$v-b" "$f" "https://localhost:$PORT_B/token.txt" --tls-max "$v"
    check_get yes "$TOKEN"
    verdict "f: TLS $v session from latch serve A resumes on B (same --ticket-key)" "$why" "$CLIENT_ERR" "$T/fleet-b.log"
    why=""
    get_v "fleet-$v-c" "$f.copy" "https://localhost:$PORT_C/token.txt" --tls-max "$v"
    check_get no "$TOKEN"
    verdict "f: TLS $v session from A does not resume on C (other key): full handshake, 200" "$why" "$CLIENT_ERR" "$T/fleet-c.log"
  done
fi
[ -n "$PID_A" ] && stop_latch_serve fleet-a "$PID_A"
[ -n "$PID_B" ] && stop_latch_serve fleet-b "$PID_B"
[ -n "$PID_C" ] && stop_latch_serve fleet-c "$PID_C"

# ---- g: SIGHUP re-reads the ticket key files
{ openssl rand 80 >"$T/cur.key" && openssl rand 48 >"$T/prev.key"; } || die "openssl rand failed"
# wait_log FILE REGEX: up to 5 s
wait_log() {
  for _ in $(seq 1 100); do matches "$1" "$2" && return 0; sleep 0.05; done
  return 1
}
# sighup N: send SIGHUP and wait for "configuration N"
sighup() {
  kill -HUP "$SIGHUP_PID" 2>/dev/null
  wait_log "$SIGHUP_LOG" "SIGHUP: configuration $1 "
}
if serve_or_fail serve-sighup "g: SIGHUP" -- --ticket-key "$T/cur.key" --ticket-key "$T/prev.key"; then
  SIGHUP_PID=$PEER_PID SIGHUP_LOG=$PEER_LOG
  U="https://localhost:$PEER_PORT/token.txt"
  case="g: SIGHUP rotation: an old session resumes while its key is 'prev', not after the next rotation"
  why=""
  get_v sighup-1 "$T/old.sess" "$U"
  check_get no "$TOKEN"
  cp "$T/old.sess" "$T/old2.sess"
  cp "$T/cur.key" "$T/prev.key" && openssl rand 80 >"$T/cur.key"
  sighup 2 || why="$why no 'SIGHUP: configuration 2' in the log;"
  get_v sighup-2 "$T/old.sess" "$U"
  check_get yes "$TOKEN"
  cp "$T/cur.key" "$T/prev.key" && openssl rand 80 >"$T/cur.key"
  sighup 3 || why="$why no 'SIGHUP: configuration 3' in the log;"
  get_v sighup-3 "$T/old2.sess" "$U"
  check_get no "$TOKEN"
  verdict "$case" "$why" "$CLIENT_ERR" "$SIGHUP_LOG"

  case="g: a session issued after the rotation resumes (sealed with the new key)"
  why=""
  get_v sighup-4 "$T/old.sess" "$U"
  check_get yes "$TOKEN"
  verdict "$case" "$why" "$CLIENT_ERR" "$SIGHUP_LOG"

  case="g: a connection open across SIGHUP keeps its configuration and is served"
  why=""
  fifo="$T/held.fifo"
  rm -f "$fifo"; mkfifo "$fifo" || die "mkfifo failed"
  timeout -k 5 "$CLIENT_TIMEOUT" openssl s_client -connect "127.0.0.1:$PEER_PORT" -servername localhost \
    -CAfile "$PKI/ca.pem" -ign_eof <"$fifo" >"$T/held.out" 2>"$T/held.err" &
  HOLDER_PID=$!
  exec 7>"$fifo"
  wait_log "$T/held.out" '^Verify return code' || why="$why s_client did not finish its handshake;"
  sighup 4 || why="$why no 'SIGHUP: configuration 4' in the log;"
  matches "$SIGHUP_LOG" 'configuration 4 .*1 open connection keep configuration 3' ||
    why="$why the log does not say 1 open connection keeps configuration 3;"
  cat "$REQ" >&7
  exec 7>&-
  wait "$HOLDER_PID"
  HOLDER_PID=""
  contains "$T/held.out" "$TOKEN" || why="$why the held connection got no token after SIGHUP;"
  get_v sighup-5 "$T/new.sess" "$U"
  [ "$CLIENT_RC" -eq 0 ] || why="$why a new connection after SIGHUP failed;"
  verdict "$case" "$why" "$T/held.out" "$T/held.err" "$SIGHUP_LOG"
  stop_latch_serve serve-sighup "$SIGHUP_PID"
fi

# ---- g: the session-id cache survives SIGHUP (no tickets: TLS 1.2 session IDs)
if serve_or_fail serve-sighup-ids "g: SIGHUP session IDs" -- --no-tickets; then
  SIGHUP_PID=$PEER_PID SIGHUP_LOG=$PEER_LOG
  U="https://localhost:$PEER_PORT/token.txt"
  case="g: SIGHUP keeps the session-id cache: a TLS 1.2 session ID from before resumes after"
  why=""
  rm -f "$T/ids.sess"
  get_v sighup-ids-1 "$T/ids.sess" "$U" --tls-max 1.2
  check_get no "$TOKEN"
  sighup 2 || why="$why no 'SIGHUP: configuration 2' in the log;"
  get_v sighup-ids-2 "$T/ids.sess" "$U" --tls-max 1.2
  check_get yes "$TOKEN"
  sighup 3 || why="$why no 'SIGHUP: configuration 3' in the log;"
  get_v sighup-ids-3 "$T/ids.sess" "$U" --tls-max 1.2
  check_get yes "$TOKEN"
  verdict "$case" "$why" "$CLIENT_ERR" "$SIGHUP_LOG"
  stop_latch_serve serve-sighup-ids "$SIGHUP_PID"
fi

# ---- h: the session file itself, and a bad ticket key
if serve_or_fail serve-file "h: session file" -- ; then
  case="h: session file is mode 0600 (umask 000, replacing a 0644 file), no temporary left"
  why=""
  d="$T/sessions"
  mkdir -p "$d"
  f="$d/s.bin"
  echo "not a session" >"$f" && chmod 0644 "$f"
  run_client file-1 /dev/null sh -c 'umask 000 && exec "$@"' sh \
    "$LATCH" get -v --cacert "$PKI/ca.pem" --session "$f" "https://localhost:$PEER_PORT/token.txt"
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC;"
  mode=$(stat -c %a "$f" 2>/dev/null)
  [ "$mode" = 600 ] || why="$why mode is '$mode' (want 600);"
  [ "$(find "$d" -type f | wc -l)" -eq 1 ] || why="$why other files left beside it: $(ls "$d");"
  contains "$T/file-1.err" "ignoring the session file" || why="$why the invalid old file was not reported;"
  verdict "$case" "$why" "$T/file-1.err"
  stop_latch_serve serve-file "$PEER_PID"
fi
case="h: latch serve --ticket-key with a 79-byte file: refused, exit 2"
openssl rand 79 >"$T/short.key"
run_client bad-ticket-key /dev/null "$LATCH" serve --listen 127.0.0.1:0 --cert "$PKI/$CERT.pem" \
  --key "$PKI/$CERT-key.pem" --ticket-key "$T/short.key" "$ROOT"
why=""
[ "$CLIENT_RC" -eq 2 ] || why="$why exit $CLIENT_RC (want 2);"
contains "$CLIENT_ERR" "80 or 48 bytes" || why="$why no '80 or 48 bytes' message;"
verdict "$case" "$why" "$CLIENT_ERR"

summary
