#!/usr/bin/env bash
# Tracing and key logging through the CLI.
#
#  a  latch get --trace=json -> latch serve: every stderr line is JSON; the
#     handshake types, NewSessionTicket (4) aside, are exactly
#     1,2,8,11,15,20,20 (TLS 1.3) / 1,2,11,12,14,16,20,20 (--tls-max 1.2);
#     the caller's steps come in order: start, DNS resolution, TCP connect,
#     first byte, closed                                                      2
#  b  --trace and --trace=table: the table (ClientHello row, footer);
#     --trace=timeline: the timeline                                          3
#  c  latch trace URL: a table, then a timeline, on stdout; a HEAD request
#     (latch serve logs HEAD), no body                                        1
#  d  latch serve --trace=json: every trace line is JSON, each connection
#     labelled "conn N" (two connections: conn 1, conn 2)                     1
#  e  tshark: capture latch get <-> peer on loopback, decrypt with the key
#     log, and find the request path and the 200 (and nothing decrypts
#     without the key log): latch serve 1.3 and 1.2 (latch get --keylog),
#     openssl s_server -WWW 1.3 and 1.2 (SSLKEYLOGFILE), and latch serve
#     --keylog as the only key log                                            5
#  +  one cell per latch serve instance (3): clean log, SIGTERM shutdown
# 15 cells.  tshark captures on lo: it needs root (CI runs as root) and is never skipped.
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

require_tool openssl timeout setsid awk python3 tshark
require_latch
require_pki server-p256

ROOT=$(make_docroot)
CERT=server-p256

verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# json_check FILE [ONLY_BRACES]: prints "ok" if every line (or every line
# starting with '{') is a JSON object, else the first bad line.
json_check() {
  python3 - "$1" "${2:-}" <<'EOF'
import json, sys
only = sys.argv[2] == "braces"
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()]
if only:
    lines = [l for l in lines if l.startswith("{")]
if not lines:
    print("no lines"); sys.exit()
for l in lines:
    try:
        if not isinstance(json.loads(l), dict):
            raise ValueError("not an object")
    except Exception as e:
        print("not JSON (%s): %s" % (e, l[:120])); sys.exit()
print("ok")
EOF
}

# json_summary FILE: "types=1,2,...  steps=start,DNS resolution,..." (one connection)
json_summary() {
  python3 - "$1" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
types = [str(o["handshake_type"]) for o in objs if o.get("event") == "handshake" and o["handshake_type"] != 4]
steps = [o["name"] for o in objs if o.get("event") == "note" and o.get("source") == "caller"]
print("types=" + ",".join(types) + " steps=" + ",".join(steps))
EOF
}

if start_latch_serve serve-trace "$CERT" "$ROOT"; then
  SERVE_PORT=$PEER_PORT SERVE_PID=$PEER_PID SERVE_LOG=$PEER_LOG
  U="https://localhost:$SERVE_PORT/token.txt"
  STEPS="start,DNS resolution,TCP connect,first byte,closed"

  # ---- a
  for v in 1.3 1.2; do
    if [ "$v" = 1.3 ]; then want_types=1,2,8,11,15,20,20; else want_types=1,2,11,12,14,16,20,20; fi
    case="a $v: latch get --trace=json: JSON lines, handshake types $want_types, steps in order"
    run_client "get-json-$v" /dev/null "$LATCH" get --trace=json --cacert "$PKI/ca.pem" --tls-max "$v" "$U"
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC;"
    contains "$CLIENT_OUT" "$TOKEN" || why="$why token not on stdout;"
    ok=$(json_check "$CLIENT_ERR")
    [ "$ok" = ok ] || why="$why stderr: $ok;"
    summary_line=$(json_summary "$CLIENT_ERR" 2>&1)
    [ "$summary_line" = "types=$want_types steps=$STEPS" ] ||
      why="$why got '$summary_line', want 'types=$want_types steps=$STEPS';"
    verdict "$case" "$why" "$CLIENT_ERR"
  done

  # ---- b
  for fmt in "" "=table"; do
    case="b: latch get --trace$fmt: the table on stderr"
    run_client "get-table$fmt" /dev/null "$LATCH" get "--trace$fmt" --cacert "$PKI/ca.pem" "$U"
    why=""
    [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC;"
    contains "$CLIENT_OUT" "$TOKEN" || why="$why token not on stdout;"
    matches "$CLIENT_ERR" '^ +No\. +time +direction +message' || why="$why no table header;"
    matches "$CLIENT_ERR" 'client → server +ClientHello +22/1' || why="$why no ClientHello row;"
    matches "$CLIENT_ERR" '^[0-9]+ messages; records' || why="$why no table footer;"
    contains "$CLIENT_ERR" "timeline of" && why="$why a timeline was printed too;"
    verdict "$case" "$why" "$CLIENT_ERR"
  done
  case="b: latch get --trace=timeline: the timeline on stderr"
  run_client get-timeline /dev/null "$LATCH" get --trace=timeline --cacert "$PKI/ca.pem" "$U"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC;"
  matches "$CLIENT_ERR" "^timeline of localhost:$SERVE_PORT \\(client side\\)" || why="$why no timeline header;"
  matches "$CLIENT_ERR" '· TCP connect: SYN, SYN-ACK, ACK' || why="$why no TCP connect step;"
  matches "$CLIENT_ERR" 'TLS handshake, 1 round trip' || why="$why no handshake summary;"
  contains "$CLIENT_ERR" "ClientHello  " && why="$why a table was printed too;"
  verdict "$case" "$why" "$CLIENT_ERR"

  # ---- c
  case="c: latch trace URL: table, then timeline, HEAD, no body"
  run_client trace-url /dev/null "$LATCH" trace --cacert "$PKI/ca.pem" "$U"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch trace exit $CLIENT_RC;"
  table_at=$(grep -n -m1 -E '^ +No\. +time +direction' "$CLIENT_OUT" | cut -d: -f1)
  timeline_at=$(grep -n -m1 "^timeline of localhost:$SERVE_PORT" "$CLIENT_OUT" | cut -d: -f1)
  [ -n "$table_at" ] || why="$why no table on stdout;"
  [ -n "$timeline_at" ] || why="$why no timeline on stdout;"
  [ -n "$table_at" ] && [ -n "$timeline_at" ] && [ "$table_at" -lt "$timeline_at" ] ||
    why="$why the table does not come first;"
  matches "$CLIENT_OUT" 'client → server +ClientHello' || why="$why no ClientHello row;"
  matches "$CLIENT_OUT" '· first byte' || why="$why no first-byte step;"
  contains "$CLIENT_OUT" "$TOKEN" && why="$why the body was printed;"
  matches "$SERVE_LOG" '"HEAD /token.txt HTTP/1.1" 200' || why="$why latch serve logged no HEAD request;"
  verdict "$case" "$why" "$CLIENT_OUT" "$SERVE_LOG"
  stop_latch_serve serve-trace "$SERVE_PID"
else
  fail "a/b/c: latch serve" "latch serve did not start" "$PEER_LOG"
  stop_peer "$PEER_PID"
fi

# ---- d
if start_latch_serve serve-json "$CERT" "$ROOT" --trace=json; then
  case="d: latch serve --trace=json: JSON lines labelled conn 1, conn 2"
  run_client serve-json-1 /dev/null "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT/token.txt"
  run_client serve-json-2 /dev/null "$LATCH" get --cacert "$PKI/ca.pem" --tls-max 1.2 "https://localhost:$PEER_PORT/token.txt"
  stop_latch_serve serve-json "$PEER_PID"
  log="$T/serve-json.log"
  why=""
  ok=$(json_check "$log" braces)
  [ "$ok" = ok ] || why="$why $ok;"
  labels=$(python3 -c 'import json, sys
print(",".join(sorted({json.loads(l)["conn"] for l in open(sys.argv[1]) if l.startswith("{")})))' "$log" 2>&1)
  [ "$labels" = "conn 1,conn 2" ] || why="$why labels '$labels' (want 'conn 1,conn 2');"
  # (grep -c, not grep -q: with pipefail an early exit of the reader fails the pipe)
  conn_has() { [ "$(grep -F "\"conn\":\"$1\"" "$log" | grep -cF -- "$2")" -gt 0 ]; }
  conn_has "conn 1" '"name":"ClientHello"' || why="$why conn 1 has no ClientHello;"
  conn_has "conn 2" '"name":"ServerKeyExchange"' || why="$why conn 2 (TLS 1.2) has no ServerKeyExchange;"
  conn_has "conn 2" '"event":"end"' || why="$why conn 2 has no end line;"
  verdict "$case" "$why" "$log"
else
  fail "d: latch serve --trace=json" "latch serve did not start" "$PEER_LOG"
  stop_peer "$PEER_PID"
fi

# ---- e: tshark
# capture_start NAME PORT: tshark on lo for tcp port PORT.  "Capturing on"
# comes before the capture really runs, so the capture also takes UDP
# probes to a spare port, sent until one shows up in its packet list.
# Sets CAP_PID, CAP_FILE, CAP_LIST.
capture_start() {
  local name=$1 port=$2
  CAP_FILE="$T/$name.pcapng" CAP_LIST="$T/$name.tshark.out" CAP_PROBE=$(free_port)
  setsid tshark -l -P -i lo -f "tcp port $port or udp port $CAP_PROBE" -w "$CAP_FILE" \
    </dev/null >"$CAP_LIST" 2>"$T/$name.tshark.log" &
  CAP_PID=$!
  PEER_PIDS+=("$CAP_PID")
  PEER_NAME_OF[$CAP_PID]="tshark-$name"
  probe_seen 0 && return 0
  return 1
}
# probe_seen N: send probes until more than N have been captured (10 s).
probe_seen() {
  local before=$1
  for _ in $(seq 1 100); do
    kill -0 "$CAP_PID" 2>/dev/null || return 1
    echo probe >"/dev/udp/127.0.0.1/$CAP_PROBE" 2>/dev/null
    sleep 0.1
    [ "$(grep -c ' UDP ' "$CAP_LIST" 2>/dev/null)" -gt "$before" ] && return 0
  done
  return 1
}
# capture_stop: a last probe (everything before it is captured), then stop.
capture_stop() {
  probe_seen "$(grep -c ' UDP ' "$CAP_LIST" 2>/dev/null)"
  kill -INT -- "-$CAP_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.05; done
  stop_peer "$CAP_PID"
}

# tshark_cell CASE NAME PORT PATH KEYLOG CMD...: capture CMD (a latch get),
# then decrypt with KEYLOG.
tshark_cell() {
  local case=$1 name=$2 port=$3 path=$4 keylog=$5; shift 5
  why=""
  if ! capture_start "$name" "$port"; then
    fail "$case" "tshark did not start capturing (root is needed)" "$T/$name.tshark.log"
    stop_peer "$CAP_PID"
    return
  fi
  run_client "$name" /dev/null "$@"
  capture_stop
  [ "$CLIENT_RC" -eq 0 ] || why="$why latch get exit $CLIENT_RC;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why token not received;"
  [ -s "$keylog" ] || why="$why the key log is empty;"
  tshark -r "$CAP_FILE" -o "tls.keylog_file:$keylog" "${TSHARK_EXTRA[@]}" -Y http -T fields \
    -e http.request.uri -e http.response.code >"$T/$name.fields" 2>"$T/$name.fields.err"
  grep -qxF "$path" <(cut -f1 "$T/$name.fields") || why="$why tshark shows no request for $path;"
  grep -qx "200" <(cut -f2 "$T/$name.fields") || why="$why tshark shows no 200 response;"
  tshark -r "$CAP_FILE" -Y http -T fields -e http.request.uri -e http.response.code \
    >"$T/$name.nokeys" 2>/dev/null
  grep -q '[^[:space:]]' "$T/$name.nokeys" && why="$why HTTP was readable without the key log;"
  verdict "$case" "$why" "$T/$name.fields" "$T/$name.fields.err" "$CLIENT_ERR"
}

TSHARK_EXTRA=()
if start_latch_serve serve-keylog "$CERT" "$ROOT" --keylog "$T/server.keylog"; then
  for v in 1.3 1.2; do
    path="/token.txt?tls=$v"
    tshark_cell "e $v: tshark decrypts latch get --keylog <-> latch serve: $path, 200" \
      "tshark-latch-$v" "$PEER_PORT" "$path" "$T/client-$v.keylog" \
      "$LATCH" get --keylog "$T/client-$v.keylog" --cacert "$PKI/ca.pem" --tls-max "$v" \
      "https://localhost:$PEER_PORT$path"
  done
  path="/token.txt?server-keylog"
  : >"$T/server.keylog"
  tshark_cell "e: tshark decrypts with latch serve --keylog alone: $path, 200" \
    tshark-server-keylog "$PEER_PORT" "$path" "$T/server.keylog" \
    env -u SSLKEYLOGFILE "$LATCH" get --cacert "$PKI/ca.pem" "https://localhost:$PEER_PORT$path"
  stop_latch_serve serve-keylog "$PEER_PID"
else
  fail "e: latch serve --keylog" "latch serve did not start" "$PEER_LOG"
  stop_peer "$PEER_PID"
fi

# s_server -WWW answers HTTP/1.0 with no Content-Length (the body runs to
# the close): tshark shows that response only without body reassembly.
TSHARK_EXTRA=(-o http.desegment_body:FALSE)
ossl_cert_args "$CERT"
if start_peer s_server-WWW --cwd "$ROOT" -- openssl s_server -accept "127.0.0.1:@PORT@" -WWW "${OSSL_CERT_ARGS[@]}"; then
  for v in 1.3 1.2; do
    path="/token.txt"
    tshark_cell "e $v: tshark decrypts latch get (SSLKEYLOGFILE) <-> openssl s_server -WWW: $path, 200" \
      "tshark-s_server-$v" "$PEER_PORT" "$path" "$T/s_server-$v.keylog" \
      env SSLKEYLOGFILE="$T/s_server-$v.keylog" "$LATCH" get --cacert "$PKI/ca.pem" --tls-max "$v" \
      "https://localhost:$PEER_PORT$path"
  done
  stop_peer "$PEER_PID"
else
  fail "e: openssl s_server -WWW" "openssl s_server did not start" "$PEER_LOG"
fi

summary
