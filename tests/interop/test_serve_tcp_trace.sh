#!/usr/bin/env bash
# latch serve --trace shows each accepted connection's TCP, over a real
# delayed link.
#
# Two network namespaces made for this run (client side A 10.78.0.1, server
# side B 10.78.0.2, a /30 that exists only inside them) joined by the TUN
# delay line (tests/tools/delay_line.c, 50 ms each way).  latch serve
# --trace runs in B with two workers (each SO_REUSEPORT socket has its own
# listening-port capture; connections are steered to a worker by client
# port and each capture keeps only its worker's: the one that accepts
# claims the connection, case a fails if the two disagree), the
# clients in A: a Python ssl client (a FIN without close_notify, so the
# client closes first; or SO_LINGER 0, a RST) and one that waits for the server to close (the server
# closes first).  The server's trace is checked in each format:
#
#  a  JSON: the connection's first segments are SYN (c2s), SYN-ACK (s2c), ACK
#     (c2s) with the right flags and options, seen before accept() (the
#     listening capture kept them) and before the "accepted" note; SYN-ACK →
#     ACK takes one round trip (~100 ms ±30%); the server goes LISTEN →
#     SYN_RCVD → ESTABLISHED                                                  1
#  b  JSON: TLS records linked to segments: the segment carrying the
#     ClientHello (a handshake record) comes before the ClientHello event,
#     the server's flight is in segments marked as TLS records                1
#  c  JSON: the client closes first: server ESTABLISHED → CLOSE_WAIT →
#     LAST_ACK → CLOSED, the client's FIN and the last ACK seen after the
#     socket was closed (the trace outlives it)                               1
#  d  table: a client that waits for the server to close first: TCP SYN, SYN-ACK,
#     TCP ACK before "accepted"; server FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT,
#     the TIME_WAIT note; `ss` in B shows the TIME_WAIT socket                 1
#  e  timeline: the TCP handshake, 1 round trip, ~100 ms                       1
#  f  RST: the client aborts (SO_LINGER 0): an RST segment, server →
#     CLOSED (got RST), the "TCP reset" note with the reason                   1
#  g  without CAP_NET_RAW (setpriv drops it): latch serve says so at start;
#     no segments; TCP_INFO at accept (ESTABLISHED, the reason, "before
#     accept()") and before close() (CLOSE_WAIT: the client closed first)     1
#  h  a dual-stack --listen [::] with an IPv4 client: its SYN, SYN-ACK, ACK
#     and states as in a (no TCP_INFO fallback)                               1
#  +  each latch serve: clean run and SIGTERM shutdown                        3
# Needs root (namespaces, TUN, packet sockets): skipped (77) without.
. "$(dirname "$0")/lib.sh"

skip() { echo "SKIP [$IT_NAME]: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root: network namespaces, TUN devices and packet capture"
[ -c /dev/net/tun ] || skip "/dev/net/tun missing (TUN driver)"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) missing"
require_tool ss setpriv python3 timeout setsid awk
require_latch
require_pki server-p256
[ -n "${LATCH_DELAY_LINE:-}" ] && [ -x "$LATCH_DELAY_LINE" ] ||
  die "LATCH_DELAY_LINE is not set to the delay_line binary (tests/tools/delay_line.c)"

DELAY_MS=50
. "$(dirname "$0")/netns.sh"
netns_init latch-stcp 10.78.0 skip

# wait_for LOG REGEX SECONDS: until REGEX shows in LOG (a trace has ended).
wait_for() {
  local i
  for i in $(seq 1 $(($3 * 20))); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

# The client: GET /token.txt over TLS, then close the way MODE says.
cat >"$T/client.py" <<'EOF'
import socket, ssl, struct, sys, time
host, port, mode, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname="localhost")
close = b"Connection: close\r\n" if mode == "wait" else b""
s.sendall(b"GET /token.txt HTTP/1.1\r\nHost: localhost\r\n" + close + b"\r\n")
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(4096)
head, body = data.split(b"\r\n\r\n", 1)
length = int([l.split(b":")[1] for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length")][0])
while len(body) < length:
    body += s.recv(4096)
sys.stdout.write(body.decode())
if mode == "wait":   # the server closes first: wait for its close_notify and FIN
    try:
        while s.recv(4096):
            pass
    except (ssl.SSLError, OSError):
        pass
    time.sleep(0.3)  # its FIN is in and acknowledged long before ours leaves
    s.close()
elif mode == "fin":    # FIN without close_notify (the client closes first), then the server's FIN
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
else:                # "rst": SO_LINGER 0, close() sends a RST
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
EOF

# analyze.py COMMAND FILE...: facts from the server's JSON trace (one connection).
cat >"$T/analyze.py" <<'EOF'
import json, sys

def load(path, conn=None):
    objs = [json.loads(l) for l in open(path, encoding="utf-8") if l.startswith("{")]
    conns = []
    for o in objs:
        if o.get("conn") not in conns:
            conns.append(o.get("conn"))
    # the last connection in the file unless one is named
    want = conn if conn else (conns[-1] if conns else None)
    return [o for o in objs if o.get("conn") == want]

def segments(objs):
    return [o for o in objs if o.get("event") == "segment"]

def states(objs, side):
    seen = []
    for o in objs:
        ts = o.get("transitions", []) if o.get("event") == "segment" else \
             [o["transition"]] if o.get("event") == "tcp_state" else []
        for t in ts:
            if t["side"] == side:
                if not seen:
                    seen.append(t["from"])
                seen.append(t["to"])
    return " ".join(seen)

cmd, path = sys.argv[1], sys.argv[2]
objs = load(path)
if not objs:
    print("no trace"); sys.exit()
segs = segments(objs)
bad = []
if cmd == "handshake":
    delay = float(sys.argv[3])
    if len(segs) < 3:
        print("too few segments: %d" % len(segs)); sys.exit()
    want = [("c2s", ["SYN"], False), ("s2c", ["SYN", "ACK"], True), ("c2s", ["ACK"], False)]
    for i, (d, flags, out) in enumerate(want):
        s = segs[i]
        if s["dir"] != d or s["flags"] != flags or s["outgoing"] != out:
            bad.append("segment %d is %s %s outgoing=%s" % (i + 1, s["dir"], s["flags"], s["outgoing"]))
    for s in segs[:2]:
        o = s["options"]
        if not (o.get("mss") and "wscale" in o and o.get("sack_permitted") and "tsval" in o):
            bad.append("%s without MSS/wscale/SACK/timestamps: %s" % (s["name"], o))
    rel = (segs[0]["tcp_seq"], segs[1]["tcp_seq"], segs[1]["tcp_ack"], segs[2]["tcp_seq"], segs[2]["tcp_ack"])
    if rel != (0, 0, 1, 1, 1):
        bad.append("relative seq/ack %s" % (rel,))
    accepted = [o["seq"] for o in objs if o.get("event") == "note" and o.get("name") == "accepted"]
    if not accepted or accepted[0] < segs[2]["seq"]:
        bad.append("the handshake segments do not come before the 'accepted' note")
    rtt = (segs[2]["mono_us"] - segs[1]["mono_us"]) / 1000.0
    if abs(rtt - 2 * delay) > 0.3 * 2 * delay:
        bad.append("SYN-ACK → ACK %.3f ms, expected %.0f ms ±30%%" % (rtt, 2 * delay))
    server = states(objs, "server")
    if not server.startswith("LISTEN SYN_RCVD ESTABLISHED"):
        bad.append("server states %s" % server)
    print("SYN-ACK → ACK %.3f ms; server %s" % (rtt, server))
elif cmd == "tls":
    hello = [o["seq"] for o in objs if o.get("event") == "handshake" and o.get("name") == "ClientHello"]
    carrying = [s for s in segs if s["dir"] == "c2s" and s.get("tls", {}).get("first_type") == 22]
    if not hello or not carrying:
        bad.append("no ClientHello event or no c2s segment carrying a handshake record")
    elif carrying[0]["seq"] > hello[0]:
        bad.append("the ClientHello's segment comes after the ClientHello")
    flight = [s for s in segs if s["dir"] == "s2c" and s.get("tls", {}).get("first_type") == 22]
    if not flight:
        bad.append("no s2c segment marked as carrying a TLS handshake record")
    else:
        print("ClientHello in segment %d (%d B of TLS); server flight %d records in segment %d" %
              (carrying[0]["number"], carrying[0]["tls"]["bytes"], flight[0]["tls"]["records"],
               flight[0]["number"]))
elif cmd == "states":
    print(states(objs, sys.argv[3])); sys.exit()
elif cmd == "after_close":
    # segments after the "closed" note (the trace outlived the socket)
    closed = [o["seq"] for o in objs if o.get("event") == "note" and o.get("name") == "closed"]
    after = [s["name"] for s in segs if closed and s["seq"] > closed[0]]
    before = [s["name"] for s in segs if closed and s["seq"] < closed[0]]
    print("before close(): ... %s; after: %s" % (", ".join(before[-2:]), ", ".join(after)))
    sys.exit()
elif cmd == "tcp_info":
    infos = [o for o in objs if o.get("event") == "tcp_info"]
    if segs:
        bad.append("segments although the capture was refused")
    if len(infos) < 2:
        bad.append("%d tcp_info events, expected 2" % len(infos))
    else:
        if infos[0]["state"] != "ESTABLISHED" or "CAP_NET_RAW" not in (infos[0].get("detail") or "") \
           or "before accept()" not in infos[0]["detail"]:
            bad.append("first tcp_info: %s, %s" % (infos[0]["state"], infos[0].get("detail")))
        if infos[-1]["state"] != "CLOSE_WAIT":
            bad.append("tcp_info before close(): %s" % infos[-1]["state"])
        print("TCP_INFO: %s (rtt %d us), then %s before close()" %
              (infos[0]["state"], infos[0]["rtt_us"], infos[-1]["state"]))
print("ok" if not bad else "; ".join(bad))
EOF
analyze() { python3 "$T/analyze.py" "$@"; }

link_up || die "the delay line did not come up (see $T/delay_line.log)"
ROOT=$(make_docroot)
in_a() { timeout -k 5 "$CLIENT_TIMEOUT" ip netns exec "$NS_A" "$@"; }
SERVE_ARGS=(--listen "$ADDR_B:8443" --workers 2 --cert "$PKI/server-p256.pem"
            --key "$PKI/server-p256-key.pem")

# ---- a, b, c, d, e, f: with CAP_NET_RAW.  One latch serve per format: the
# traces go to its stderr (its log).
start_serve() { # NAME FORMAT [WRAPPER...]
  local name=$1 format=$2; shift 2
  ns_start "$name" "$NS_B" 'listening on' "$@" "$LATCH" serve "${SERVE_ARGS[@]}" \
    "--trace=$format" "$ROOT"
}

# fin_client PORT NAME LABEL: a "fin" client against the server whose log is
# $log; its trace goes to $T/NAME.json and the handshake checks to $why.
fin_client() {
  local rc res
  in_a python3 "$T/client.py" "$ADDR_B" "$1" fin "$PKI/ca.pem" >"$T/$2.out" 2>"$T/$2.err"
  rc=$?
  wait_for "$log" '"event":"end"' 5
  cp "$log" "$T/$2.json"
  why=""
  [ "$rc" -eq 0 ] || why=" client exit $rc;"
  contains "$T/$2.out" "$TOKEN" || why="$why token not received;"
  res=$(analyze handshake "$T/$2.json" "$DELAY_MS")
  note "$3$(head -n1 <<<"$res")"
  [ "$(tail -n1 <<<"$res")" = ok ] || why="$why $(tail -n1 <<<"$res");"
}

if start_serve serve-json json; then
  pid=$PEER_PID log=$PEER_LOG
  fin_client 8443 fin ""
  contains "$T/fin.json" "--trace: 2 workers, each new connection goes to one by its client port" ||
    why="$why the workers' captures are not shared out by client port;"
  verdict "a: serve --trace=json: SYN, SYN-ACK, ACK kept from before accept(), 1 round trip, SYN_RCVD → ESTABLISHED" \
    "$why" "$T/fin.json"

  res=$(analyze tls "$T/fin.json")
  note "$(head -n1 <<<"$res")"
  verdict "b: serve --trace=json: TLS records linked to the segments that carry them" \
    "$([ "$(tail -n1 <<<"$res")" = ok ] || echo " $(tail -n1 <<<"$res")")" "$T/fin.json"

  server=$(analyze states "$T/fin.json" server)
  after=$(analyze after_close "$T/fin.json")
  note "server: $server"
  note "$after"
  why=""
  [[ "$server" == *"ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED" ]] || why=" server path: $server;"
  [[ "$after" == *"after: "*ACK* ]] || why="$why nothing traced after close(): $after;"
  verdict "c: client closes first: server CLOSE_WAIT → LAST_ACK → CLOSED, the last ACK after close()" \
    "$why" "$T/fin.json"

  # f: RST
  in_a python3 "$T/client.py" "$ADDR_B" 8443 rst "$PKI/ca.pem" >"$T/rst.out" 2>"$T/rst.err"
  wait_for "$log" '"conn":"conn 2".*"event":"end"' 5
  cp "$log" "$T/rst.json"
  server=$(analyze states "$T/rst.json" server)
  note "RST: server $server; $(grep -o '"name":"TCP reset","detail":"[^"]*"' "$T/rst.json" | tail -n1)"
  why=""
  matches "$T/rst.json" '"conn":"conn 2".*"event":"segment".*"flags":\["RST"' || why=" no RST segment;"
  [[ "$server" == *"ESTABLISHED CLOSED" ]] || why="$why server path: $server;"
  matches "$T/rst.json" '"conn":"conn 2".*"to":"CLOSED","why":"got RST' || why="$why no 'got RST' change;"
  matches "$T/rst.json" '"conn":"conn 2".*"name":"TCP reset","detail":"client reset the connection' ||
    why="$why no TCP reset note;"
  verdict "f: RST from the client: shown, server → CLOSED (got RST), the reason" "$why" "$T/rst.json"
  stop_latch_serve serve-json "$pid"
else
  fail "a-c, f: latch serve --trace=json did not start in B" "" "$PEER_LOG"
fi

if start_serve serve-table table; then
  pid=$PEER_PID log=$PEER_LOG
  # a client that waits for the server's close_notify and FIN before its own
  # close (latch get closes as soon as it has the body, which can cross the
  # server's FIN on the link: a simultaneous close, CLOSING)
  in_a python3 "$T/client.py" "$ADDR_B" 8443 wait "$PKI/ca.pem" >"$T/get.out" 2>"$T/get.err"
  rc=$?
  wait_for "$log" 'TCP segments \(client' 15
  cp "$log" "$T/table.txt"
  # the rows up to "accepted" (the ClientHello and its ACK may come before it)
  order=$(awk '/TCP [A-Z, ]+  |· accepted/ {
                 if ($0 ~ /TCP SYN, ACK/) print "SYN-ACK"; else if ($0 ~ /TCP SYN /) print "SYN";
                 else if ($0 ~ /TCP ACK /) print "ACK"; else if ($0 ~ /accepted/) { print "accepted"; exit }
                 else print "other" }' "$T/table.txt" | tr '\n' ' ')
  note "table rows: $order"
  why=""
  [ "$rc" -eq 0 ] || why=" client exit $rc;"
  contains "$T/get.out" "$TOKEN" || why="$why token not received;"
  [[ "$order" == "SYN SYN-ACK ACK "*"accepted " ]] || why="$why row order: $order;"
  for step in 'server ESTABLISHED → FIN_WAIT_1' 'server FIN_WAIT_1 → FIN_WAIT_2' \
              'server FIN_WAIT_2 → TIME_WAIT' 'TCP TIME_WAIT: the kernel keeps'; do
    contains "$T/table.txt" "$step" || why="$why no '$step';"
  done
  [[ "$(ip netns exec "$NS_B" ss -tan state time-wait)" == *"$ADDR_B:8443"* ]] ||
    why="$why no TIME_WAIT socket in the server namespace;"
  verdict "d: serve --trace=table, the server closes first: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT" \
    "$why" "$T/table.txt"
  stop_peer "$pid"
else
  fail "d: latch serve --trace=table did not start in B" "" "$PEER_LOG"
fi

if start_serve serve-timeline timeline; then
  pid=$PEER_PID log=$PEER_LOG
  in_a python3 "$T/client.py" "$ADDR_B" 8443 fin "$PKI/ca.pem" >"$T/tl.out" 2>"$T/tl.err"
  wait_for "$log" 'TCP handshake, 1 round trip' 5
  cp "$log" "$T/timeline.txt"
  line=$(grep -m1 'TCP handshake, 1 round trip' "$T/timeline.txt" | tr -s ' ')
  note "timeline:$line"
  ms=$(awk '/TCP handshake, 1 round trip/ { print ($2 == "ms") ? $1 : ($2 == "µs") ? $1 / 1000 : -1; exit }' \
         "$T/timeline.txt")
  why=""
  [ -n "$line" ] || why=" no 'TCP handshake, 1 round trip' line;"
  [ -n "$ms" ] && awk -v ms="$ms" -v want=$((2 * DELAY_MS)) 'BEGIN { exit !(ms >= 0.7 * want && ms <= 1.3 * want) }' ||
    why="$why TCP handshake ${ms:-?} ms, expected $((2 * DELAY_MS)) ms ±30%;"
  grep -q 'server → client  TCP SYN, ACK' "$T/timeline.txt" || why="$why no SYN-ACK step;"
  verdict "e: serve --trace=timeline: the TCP handshake, 1 round trip" "$why" "$T/timeline.txt"
  stop_peer "$pid"
else
  fail "e: latch serve --trace=timeline did not start in B" "" "$PEER_LOG"
fi

# ---- h: a dual-stack [::] listener, an IPv4 client: its segments, not TCP_INFO
SERVE_ARGS_V4=("${SERVE_ARGS[@]}")
SERVE_ARGS=(--listen "[::]:8444" --workers 2 --cert "$PKI/server-p256.pem" --key "$PKI/server-p256-key.pem")
if start_serve serve-dual json; then
  pid=$PEER_PID log=$PEER_LOG
  fin_client 8444 dual "[::] listener, IPv4 client: "
  matches "$T/dual.json" '"event":"tcp_info"' && why="$why fell back to TCP_INFO;"
  verdict "h: serve --listen [::] --trace: an IPv4 client's SYN, SYN-ACK, ACK (dual stack)" \
    "$why" "$T/dual.json"
  stop_latch_serve serve-dual "$pid"
else
  fail "h: latch serve on [::] did not start in B" "" "$PEER_LOG"
fi
SERVE_ARGS=("${SERVE_ARGS_V4[@]}")

# ---- g: without CAP_NET_RAW
if start_serve serve-noraw json setpriv --bounding-set=-net_raw --inh-caps=-net_raw; then
  pid=$PEER_PID log=$PEER_LOG
  in_a python3 "$T/client.py" "$ADDR_B" 8443 fin "$PKI/ca.pem" >"$T/noraw.out" 2>"$T/noraw.err"
  rc=$?
  wait_for "$log" '"event":"end"' 5
  cp "$log" "$T/noraw.json"
  res=$(analyze tcp_info "$T/noraw.json")
  note "$(head -n1 <<<"$res")"
  why=""
  [ "$rc" -eq 0 ] || why=" client exit $rc;"
  contains "$T/noraw.json" 'TCP segments not visible (packet capture: Operation not permitted; needs CAP_NET_RAW)' ||
    why="$why latch serve does not say at start that segments are not visible;"
  [ "$(tail -n1 <<<"$res")" = ok ] || why="$why $(tail -n1 <<<"$res");"
  verdict "g: serve --trace without CAP_NET_RAW: says so, TCP_INFO at accept and before close()" \
    "$why" "$T/noraw.json"
  stop_latch_serve serve-noraw "$pid"
else
  fail "g: latch serve without CAP_NET_RAW did not start in B" "" "$PEER_LOG"
fi

summary
