#!/usr/bin/env bash
# TCP made visible, over a real delayed link.
#
# Two network namespaces made for this run (client side A 10.77.0.1, server
# side B 10.77.0.2: a /30 that exists only inside them) joined by the TUN
# delay line (tests/tools/delay_line.c: 50 ms each way; this kernel has no
# netem).  Plain TCP cases use tests/tools/tcp_peer (the library API: a
# capture started before connect(), a listening-port capture on the
# server); TLS cases use latch serve in B and latch get / latch trace (and
# tcp_peer tls) in A.  "localhost" is 10.77.0.2 inside A (/etc/netns/A/hosts).
#
#  a  three-way handshake: the client's first three segments are SYN,
#     SYN-ACK, ACK with the right flags and options (MSS, window scale,
#     SACK permitted, timestamps) and relative seq/ack; each one takes
#     ~50 ms one way (±30%), from both captures on the shared clock          1
#  d  client closes first: client FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT,
#     server CLOSE_WAIT → LAST_ACK → CLOSED (each side's own capture);
#     `ss` in A shows the connection in TIME_WAIT                             1
#  e  server closes first: the mirror; `ss` in B shows TIME_WAIT             1
#  f  simultaneous close (the server's FIN 10 ms after its data, the
#     client's as soon as it has the data: they cross on the link): both
#     captures show FIN_WAIT_1 → CLOSING → TIME_WAIT, the client's also for
#     the server (inferred); TIME_WAIT in both namespaces                     1
#  b  round trips, each within -30%/+50 ms of n × 100 ms: latch get --trace=json:
#     TCP 1 (three connections), TLS 1.2 full 2, TLS 1.2 resumption 1
#     (--session; also --rtt-report), TLS 1.3 1 and HTTP 1; latch trace
#     --rtt-report (TCP 1, TLS 1.2 2); the library API (tcp_peer tls) the
#     same                                                                    6
#  c  latch get --trace=table: SYN, SYN-ACK, ACK, ClientHello, the segment
#     carrying it, ..., ServerHello in that order, and the TCP footer; every
#     JSON line parses and segments carry the documented keys                 2
#  h  without CAP_NET_RAW (setpriv drops it), latch get and tcp_peer: no
#     capture, the trace says why and shows TCP_INFO instead                  2
#  g  5% random loss: a 300 KB transfer, at most 5 tries (new seed each): a
#     retransmitted segment, in JSON and as a RETRANSMISSION table row         1
#  +  latch serve: clean run and SIGTERM shutdown                             1
# Needs root (namespaces, TUN, packet sockets); never skipped.
. "$(dirname "$0")/lib.sh"

require_tool ip ss setpriv python3 timeout setsid awk
require_latch
require_pki server-p256
[ "$(id -u)" -eq 0 ] || die "needs root: network namespaces, TUN devices and packet capture"
[ -c /dev/net/tun ] || die "/dev/net/tun missing (TUN driver)"
[ -n "${LATCH_DELAY_LINE:-}" ] && [ -x "$LATCH_DELAY_LINE" ] ||
  die "LATCH_DELAY_LINE is not set to the delay_line binary (tests/tools/delay_line.c)"
[ -n "${LATCH_TCP_PEER:-}" ] && [ -x "$LATCH_TCP_PEER" ] ||
  die "LATCH_TCP_PEER is not set to the tcp_peer binary (tests/tools/tcp_peer.c)"

DELAY_MS=50
. "$(dirname "$0")/netns.sh"
netns_init latch-tcp 10.77.0

# wait_exit PID SECONDS: until PID exits (then reaped); 1 on timeout.
wait_exit() {
  local pid=$1 i
  for i in $(seq 1 $(($2 * 20))); do
    kill -0 "$pid" 2>/dev/null || { stop_peer "$pid"; return 0; }
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && { stop_peer "$pid"; return 0; }
    sleep 0.05
  done
  stop_peer "$pid"
  return 1
}

verdict() {
  local case=$1 why=$2; shift 2
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$@"; fi
}

cat >"$T/analyze.py" <<'EOF'
# analyze.py COMMAND FILE... : facts from tcp_peer's JSON traces.
import json, sys

def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.startswith("{")]

def segments(objs):
    return [o for o in objs if o.get("event") == "segment"]

def within(value, expected, tolerance=0.30):
    return abs(value - expected) <= tolerance * expected

cmd = sys.argv[1]
if cmd == "check":
    # every line an object; segment keys as documented
    need = {"conn", "seq", "t_us", "event", "dir", "name", "number", "mono_us", "outgoing",
            "flags", "tcp_seq", "tcp_ack", "window", "window_bytes", "length",
            "retransmission", "options", "client_state", "server_state", "transitions"}
    for path in sys.argv[2:]:
        lines = [l for l in open(path, encoding="utf-8") if l.strip()]
        if not lines:
            print("empty: " + path); sys.exit()
        for l in lines:
            try:
                o = json.loads(l)
            except Exception as e:
                print("not JSON (%s): %s" % (e, l[:100])); sys.exit()
            if not isinstance(o, dict):
                print("not an object: " + l[:100]); sys.exit()
            if o.get("event") == "segment" and not need <= set(o):
                print("segment without %s" % sorted(need - set(o))); sys.exit()
        if not segments(load(path)):
            print("no segment events in " + path); sys.exit()
    print("ok")
elif cmd == "handshake":
    # client.json server.json delay_ms
    client, server, delay = load(sys.argv[2]), load(sys.argv[3]), float(sys.argv[4])
    cs, ss = segments(client), segments(server)
    bad = []
    if len(cs) < 3 or len(ss) < 3:
        print("too few segments"); sys.exit()
    want = [("c2s", ["SYN"]), ("s2c", ["SYN", "ACK"]), ("c2s", ["ACK"])]
    for i, (d, flags) in enumerate(want):
        if cs[i]["dir"] != d or cs[i]["flags"] != flags:
            bad.append("client segment %d is %s %s, expected %s %s" % (i + 1, cs[i]["dir"], cs[i]["flags"], d, flags))
        if ss[i]["dir"] != d or ss[i]["flags"] != flags:
            bad.append("server segment %d is %s %s" % (i + 1, ss[i]["dir"], ss[i]["flags"]))
    for s in cs[:2]:
        o = s["options"]
        if not (o.get("mss") and "wscale" in o and o.get("sack_permitted") and "tsval" in o):
            bad.append("%s without MSS/wscale/SACK/timestamps: %s" % (s["name"], o))
    if (cs[0]["tcp_seq"], cs[1]["tcp_seq"], cs[1]["tcp_ack"], cs[2]["tcp_seq"], cs[2]["tcp_ack"]) != (0, 0, 1, 1, 1):
        bad.append("relative seq/ack not 0 / 0,1 / 1,1")
    # one-way gaps on the shared monotonic clock
    gaps = [ss[0]["mono_us"] - cs[0]["mono_us"],   # SYN client -> server
            cs[1]["mono_us"] - ss[1]["mono_us"],   # SYN-ACK server -> client
            ss[2]["mono_us"] - cs[2]["mono_us"]]   # ACK client -> server
    for name, g in zip(["SYN", "SYN-ACK", "ACK"], gaps):
        if not within(g / 1000.0, delay):
            bad.append("%s took %.3f ms one way, expected %.0f ms ±30%%" % (name, g / 1000.0, delay))
    rtt = (cs[1]["mono_us"] - cs[0]["mono_us"]) / 1000.0
    print("gaps SYN %.3f ms, SYN-ACK %.3f ms, ACK %.3f ms; client SYN → SYN-ACK %.3f ms" %
          (gaps[0] / 1000.0, gaps[1] / 1000.0, gaps[2] / 1000.0, rtt))
    print("ok" if not bad else "; ".join(bad))
elif cmd == "phases":
    # FILE: "tcp=1:100.4 tls=2:201.2 http=1:100.9" (round trips : ms)
    out = []
    for o in load(sys.argv[2]):
        if o.get("event") == "round_trips":
            out.append("%s=%d:%.3f" % (o["phase"], o["round_trips"], o["time_us"] / 1000.0))
    print(" ".join(out))
elif cmd == "states":
    # FILE SIDE: the states SIDE went through, in order (segments and end-of-capture changes)
    side, path = sys.argv[3], sys.argv[2]
    seen = []
    for o in load(path):
        ts = o.get("transitions", []) if o.get("event") == "segment" else \
             [o["transition"]] if o.get("event") == "tcp_state" else []
        for t in ts:
            if t["side"] == side:
                if not seen:
                    seen.append(t["from"])
                seen.append(t["to"])
    print(" ".join(seen))
elif cmd == "split":
    # FILE PREFIX: one file per connection label, PREFIX-1.json, PREFIX-2.json...
    conns = {}
    for o in load(sys.argv[2]):
        conns.setdefault(o["conn"], []).append(json.dumps(o) + "\n")
    for i, lines in enumerate(conns.values()):
        open("%s-%d.json" % (sys.argv[3], i + 1), "w").writelines(lines)
elif cmd == "retransmissions":
    print(sum(1 for p in sys.argv[2:] for s in segments(load(p)) if s["retransmission"]))
elif cmd == "tcp_info":
    objs = load(sys.argv[2])
    infos = [o for o in objs if o.get("event") == "tcp_info"]
    if not infos:
        print("no tcp_info event"); sys.exit()
    if segments(objs):
        print("segments although the capture was refused"); sys.exit()
    if "CAP_NET_RAW" not in (infos[0].get("detail") or ""):
        print("the trace does not say why: %s" % infos[0].get("detail")); sys.exit()
    print("ok %s rtt %d us" % (infos[0]["state"], infos[0]["rtt_us"]))
EOF
analyze() { python3 "$T/analyze.py" "$@"; }

# expect_phase PHASES KEY ROUND_TRIPS: "" if KEY has that many round trips
# taking at least 70% of ROUND_TRIPS × 2 × DELAY_MS and less than that plus
# half a round trip (the peers' CPU time adds to the wire time, a lot under
# the sanitizers on a loaded machine; one more round trip would add a whole
# 2 × DELAY_MS), else the reason.
expect_phase() {
  local phases=$1 key=$2 n=$3 item count ms
  item=$(tr ' ' '\n' <<<"$phases" | grep "^$key=") || { echo " no $key phase;"; return; }
  count=${item#*=}; count=${count%%:*}; ms=${item##*:}
  [ "$count" = "$n" ] || { echo " $key: $count round trips, expected $n;"; return; }
  awk -v ms="$ms" -v want="$((n * 2 * DELAY_MS))" \
    -v half="$DELAY_MS" \
    'BEGIN { if (ms < 0.7 * want || ms >= want + half) printf " %s: %.1f ms, expected %d ms (-30%%, +%d ms);", "'"$key"'", ms, want, half }'
}

# plain_run TAG MODE [CLIENT ARGS...]: tcp_peer serve in B, connect from A;
# sets SERVE_JSON CLIENT_JSON (and CLIENT_TABLE, CLIENT_RC, WHY).
plain_run() {
  local tag=$1 mode=$2; shift 2
  SERVE_JSON="$T/$tag-serve.json" CLIENT_JSON="$T/$tag-client.json" CLIENT_TABLE="$T/$tag-client.txt"
  SERVE_TABLE="$T/$tag-serve.txt"
  WHY=""
  if ! ns_start "$tag-serve" "$NS_B" 'listening on' "$LATCH_TCP_PEER" serve --listen "$ADDR_B:9000" \
        --close "$mode" --trace "json:$SERVE_JSON" --trace "table:$SERVE_TABLE"; then
    WHY=" tcp_peer serve did not start;"
    stop_peer "$PEER_PID"
    return
  fi
  local serve_pid=$PEER_PID
  run_client "$tag-client" /dev/null ip netns exec "$NS_A" "$LATCH_TCP_PEER" connect \
    --to "$ADDR_B:9000" --close "$mode" --trace "json:$CLIENT_JSON" --trace "table:$CLIENT_TABLE" "$@"
  [ "$CLIENT_RC" -eq 0 ] || WHY="$WHY tcp_peer connect exit $CLIENT_RC;"
  wait_exit "$serve_pid" 10 || WHY="$WHY tcp_peer serve did not finish;"
}

link_up 0 1 || die "the delay line did not come up (see $T/delay_line.log)"

# ---- a: three-way handshake, one-way gaps
case="a: SYN, SYN-ACK, ACK with the right flags and options, ~${DELAY_MS} ms one way each"
plain_run hs client
if [ -z "$WHY" ]; then
  out=$(analyze handshake "$CLIENT_JSON" "$SERVE_JSON" "$DELAY_MS")
  note "$(head -n1 <<<"$out")"
  [ "$(tail -n1 <<<"$out")" = ok ] || WHY=" $(tail -n1 <<<"$out")"
fi
verdict "$case" "$WHY" "$CLIENT_TABLE" "$SERVE_JSON"

# ---- d: client closes first (the same run)
case="d: client closes first: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT / CLOSE_WAIT → LAST_ACK → CLOSED"
if [ -s "$CLIENT_JSON" ] && [ -s "$SERVE_JSON" ]; then
  WHY=""
  client_states=$(analyze states "$CLIENT_JSON" client)
  server_states=$(analyze states "$SERVE_JSON" server)
  note "client (own capture): $client_states"
  note "server (own capture): $server_states"
  [[ "$client_states" == *"ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT" ]] || WHY="$WHY client path: $client_states;"
  [[ "$server_states" == *"ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED" ]] || WHY="$WHY server path: $server_states;"
  [[ "$(ip netns exec "$NS_A" ss -tan state time-wait)" == *"$ADDR_B:9000"* ]] ||
    WHY="$WHY no TIME_WAIT socket in the client namespace;"
  grep -q 'client FIN_WAIT_1 → FIN_WAIT_2' "$CLIENT_TABLE" || WHY="$WHY table lacks the FIN_WAIT_2 step;"
fi
verdict "$case" "$WHY" "$CLIENT_TABLE"

# ---- e: server closes first
case="e: server closes first: the mirror (server FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT)"
plain_run srvfirst server
if [ -z "$WHY" ]; then
  client_states=$(analyze states "$CLIENT_JSON" client)
  server_states=$(analyze states "$SERVE_JSON" server)
  note "client: $client_states"
  note "server: $server_states"
  [[ "$server_states" == *"ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT" ]] || WHY="$WHY server path: $server_states;"
  [[ "$client_states" == *"ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED" ]] || WHY="$WHY client path: $client_states;"
  [[ "$(ip netns exec "$NS_B" ss -tan state time-wait)" == *"$ADDR_B:9000"* ]] ||
    WHY="$WHY no TIME_WAIT socket in the server namespace;"
fi
verdict "$case" "$WHY" "$CLIENT_TABLE" "$SERVE_JSON"

# ---- f: simultaneous close
case="f: simultaneous close: CLOSING on both sides, then TIME_WAIT"
plain_run simul both
if [ -z "$WHY" ]; then
  client_states=$(analyze states "$CLIENT_JSON" client)
  server_states=$(analyze states "$SERVE_JSON" server)
  note "client: $client_states"
  note "server: $server_states"
  [[ "$client_states" == *"FIN_WAIT_1 CLOSING TIME_WAIT" ]] || WHY="$WHY client path: $client_states;"
  [[ "$server_states" == *"FIN_WAIT_1 CLOSING TIME_WAIT" ]] || WHY="$WHY server path: $server_states;"
  # each capture also infers the other side's CLOSING
  [[ "$(analyze states "$CLIENT_JSON" server)" == *"FIN_WAIT_1 CLOSING TIME_WAIT" ]] ||
    WHY="$WHY the client's view of the server: $(analyze states "$CLIENT_JSON" server);"
  [[ "$(ip netns exec "$NS_A" ss -tan state time-wait)" == *"$ADDR_B:9000"* ]] || WHY="$WHY no TIME_WAIT in A;"
  [[ "$(ip netns exec "$NS_B" ss -tan state time-wait)" == *"$ADDR_B:9000"* ]] || WHY="$WHY no TIME_WAIT in B;"
fi
verdict "$case" "$WHY" "$CLIENT_TABLE" "$SERVE_JSON"

# ---- b, c: TLS over the link: latch serve in B; latch get / latch trace
# (the CLI) and tcp_peer tls (the library API) in A.  "localhost" (the test
# certificate's name) is 10.77.0.2 inside A: /etc/netns/A/hosts, which
# `ip netns exec` mounts over /etc/hosts for commands run in A.
ROOT=$(make_docroot)
mkdir -p "/etc/netns/$NS_A" && printf '%s localhost\n' "$ADDR_B" >"/etc/netns/$NS_A/hosts" ||
  die "cannot write /etc/netns/$NS_A/hosts"
U="https://localhost:8443/token.txt"
in_a() { ip netns exec "$NS_A" "$@"; }
if ns_start serve-tls "$NS_B" 'latch serve: listening on' "$LATCH" serve --listen "$ADDR_B:8443" \
     --cert "$PKI/server-p256.pem" --key "$PKI/server-p256-key.pem" "$ROOT"; then
  SERVE_TLS_PID=$PEER_PID
  run_client get12 /dev/null ip netns exec "$NS_A" "$LATCH" get --cacert "$PKI/ca.pem" --tls-max 1.2 \
    --session "$T/session12" --trace=json "$U"
  get12_rc=$CLIENT_RC
  run_client get12r /dev/null ip netns exec "$NS_A" "$LATCH" get --cacert "$PKI/ca.pem" --tls-max 1.2 \
    --session "$T/session12" --trace=json --rtt-report "$U"
  get12r_rc=$CLIENT_RC
  run_client get13 /dev/null ip netns exec "$NS_A" "$LATCH" get --cacert "$PKI/ca.pem" --trace=json "$U"
  get13_rc=$CLIENT_RC
  phases12=$(analyze phases "$T/get12.err")
  phases12r=$(analyze phases "$T/get12r.err")
  phases13=$(analyze phases "$T/get13.err")
  note "latch get, TLS 1.2 full:       $phases12"
  note "latch get, TLS 1.2 resumption: $phases12r"
  note "latch get, TLS 1.3:            $phases13"

  why=""
  for r in "get12:$get12_rc" "get12r:$get12r_rc" "get13:$get13_rc"; do
    [ "${r#*:}" -eq 0 ] || why="$why ${r%%:*} exit ${r#*:};"
    contains "$T/${r%%:*}.out" "$TOKEN" || why="$why ${r%%:*}: token not on stdout;"
  done
  why="$why$(expect_phase "$phases12" tcp 1)$(expect_phase "$phases12r" tcp 1)$(expect_phase "$phases13" tcp 1)"
  verdict "b: latch get: TCP handshake, 1 round trip (three connections)" "$why" "$T/get12.err"
  verdict "b: latch get: TLS 1.2 full handshake, 2 round trips" "$(expect_phase "$phases12" tls 2)" "$T/get12.err"
  why=$(expect_phase "$phases12r" tls 1)
  contains "$T/get12r.err" '"name":"resumption accepted"' || why="$why not resumed;"
  matches "$T/get12r.err" '^  TLS handshake +1 ' || why="$why no --rtt-report line for the TLS handshake;"
  verdict "b: latch get --session: TLS 1.2 resumption, 1 round trip" "$why" "$T/get12r.err"
  verdict "b: latch get: TLS 1.3 full handshake 1 round trip, HTTP 1 round trip" \
    "$(expect_phase "$phases13" tls 1)$(expect_phase "$phases13" http 1)" "$T/get13.err"

  # latch trace --rtt-report: table, timeline, then the report, on stdout
  run_client trace12 /dev/null ip netns exec "$NS_A" "$LATCH" trace --cacert "$PKI/ca.pem" --tls-max 1.2 \
    --rtt-report "$U"
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why=" exit $CLIENT_RC;"
  matches "$CLIENT_OUT" '^  TCP handshake +1 ' || why="$why no TCP line;"
  matches "$CLIENT_OUT" '^  TLS handshake +2 ' || why="$why no 'TLS handshake 2' line;"
  matches "$CLIENT_OUT" 'TCP SYN, ACK' || why="$why no SYN-ACK row;"
  matches "$CLIENT_OUT" 'TCP handshake, 1 round trip' || why="$why no TCP line in the timeline;"
  verdict "b: latch trace --rtt-report: TCP 1, TLS 1.2 2 round trips" "$why" "$CLIENT_OUT"
  note "$(grep -A5 '^round trips' "$CLIENT_OUT" | tr -s ' ' | tr '\n' '|')"

  # the same through the library API (tcp_peer tls): full, resumption, 1.3
  for v in 1.2 1.3; do
    run_client "tls-$v" /dev/null ip netns exec "$NS_A" "$LATCH_TCP_PEER" tls --to "$ADDR_B:8443" \
      --name localhost --cacert "$PKI/ca.pem" --tls-max "$v" $([ "$v" = 1.2 ] && echo --resume) \
      --trace "json:$T/tls-$v.json"
    analyze split "$T/tls-$v.json" "$T/tls-$v"
  done
  p12=$(analyze phases "$T/tls-1.2-1.json") p12r=$(analyze phases "$T/tls-1.2-2.json" 2>/dev/null)
  p13=$(analyze phases "$T/tls-1.3-1.json")
  note "library API: 1.2 full $p12; 1.2 resumption $p12r; 1.3 $p13"
  why="$(expect_phase "$p12" tcp 1)$(expect_phase "$p12" tls 2)$(expect_phase "$p12r" tls 1)"
  why="$why$(expect_phase "$p13" tls 1)$(expect_phase "$p13" http 1)"
  grep -q resumed "$T/tls-1.2.err" || why="$why second connection not resumed;"
  verdict "b: library API (tcp_peer tls): TLS 1.2 full 2, resumption 1, TLS 1.3 1 round trip" \
    "$why" "$T/tls-1.2.err"

  # c: the table, TCP and TLS interleaved in time order
  run_client table13 /dev/null ip netns exec "$NS_A" "$LATCH" get --cacert "$PKI/ca.pem" --trace=table "$U"
  order=$(awk '/TCP SYN  |TCP SYN, ACK|TCP ACK  |ClientHello|TLS handshake record|ServerHello/ {
                 if ($0 ~ /TCP SYN, ACK/) print "SYN-ACK"; else if ($0 ~ /TCP SYN /) print "SYN";
                 else if ($0 ~ /ClientHello/) print "ClientHello";
                 else if ($0 ~ /ServerHello/) print "ServerHello";
                 else if ($0 ~ /TLS handshake record/) print "record";
                 else print "ACK" }' "$CLIENT_ERR" | head -n 6 | tr '\n' ' ')
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why=" exit $CLIENT_RC;"
  [[ "$order" == "SYN SYN-ACK ACK ClientHello record"* ]] || why="$why row order: $order;"
  matches "$CLIENT_ERR" 'ServerHello' || why="$why no ServerHello row;"
  matches "$CLIENT_ERR" '^[0-9]+ TCP segments \(client → server [0-9]+, server → client [0-9]+\)' ||
    why="$why no TCP footer;"
  verdict "c: latch get --trace=table interleaves segments and TLS messages in time order" "$why" "$CLIENT_ERR"
  res=$(analyze check "$T/get12.err" "$T/get13.err" "$T/hs-client.json" "$T/hs-serve.json")
  verdict "c: every JSON line parses; segments carry the documented keys" \
    "$([ "$res" = ok ] || echo " $res")" "$T/get13.err"

  # h (CLI): without CAP_NET_RAW, TCP_INFO instead of segments
  run_client noraw-get /dev/null ip netns exec "$NS_A" setpriv --bounding-set=-net_raw --inh-caps=-net_raw \
    "$LATCH" get --cacert "$PKI/ca.pem" --trace=json "$U"
  res=$(analyze tcp_info "$CLIENT_ERR")
  why=""
  [ "$CLIENT_RC" -eq 0 ] || why=" exit $CLIENT_RC;"
  [[ "$res" == ok* ]] || why="$why $res;"
  verdict "h: latch get without CAP_NET_RAW: the trace says so and shows TCP_INFO" "$why" "$CLIENT_ERR"
  note "latch get without CAP_NET_RAW: $res"
  stop_latch_serve serve-tls "$SERVE_TLS_PID"
else
  fail "b, c: latch serve in the server namespace did not start" "" "$PEER_LOG"
fi

# ---- h: no CAP_NET_RAW (library API)
case="h: tcp_peer without CAP_NET_RAW: the trace says so and shows TCP_INFO"
WHY=""
if ns_start noraw-serve "$NS_B" 'listening on' "$LATCH_TCP_PEER" serve --listen "$ADDR_B:9001" \
     --close client --trace "json:$T/noraw-serve.json"; then
  noraw_pid=$PEER_PID
  run_client noraw /dev/null ip netns exec "$NS_A" setpriv --bounding-set=-net_raw --inh-caps=-net_raw \
    "$LATCH_TCP_PEER" connect --to "$ADDR_B:9001" --close client --trace "json:$T/noraw.json" \
    --trace "table:$T/noraw.txt"
  [ "$CLIENT_RC" -eq 0 ] || WHY=" tcp_peer exit $CLIENT_RC;"
  res=$(analyze tcp_info "$T/noraw.json")
  note "TCP_INFO fallback: $res"
  [[ "$res" == ok* ]] || WHY="$WHY $res;"
  wait_exit "$noraw_pid" 10 || WHY="$WHY server did not finish;"
else
  WHY=" tcp_peer serve did not start;"
fi
verdict "$case" "$WHY" "$T/noraw.txt"

# ---- g: 5% loss
link_down
case="g: 5% loss: a retransmitted segment is shown as a retransmission"
WHY=" no retransmission in 5 tries;"
for try in 1 2 3 4 5; do
  link_up 5 "$((try * 7919 + $$))" || { WHY=" the delay line did not come up;"; break; }
  plain_run "loss$try" client --bytes 300000
  retrans=$(analyze retransmissions "$CLIENT_JSON" "$SERVE_JSON" 2>/dev/null || echo 0)
  link_down
  note "loss try $try: $retrans retransmitted segments in the two captures; $(grep -h 'lost' "$T/delay_line.log" | tail -n 2 | tr '\n' ' ')"
  if [ "${retrans:-0}" -gt 0 ] 2>/dev/null; then
    WHY=""
    grep -q 'RETRANSMISSION' "$CLIENT_TABLE" "$SERVE_TABLE" ||
      WHY=" the JSON has it but no table row says RETRANSMISSION;"
    break
  fi
done
verdict "$case" "$WHY" "$T/delay_line.log"
[ -z "$WHY" ] && note "$(grep -h -m1 RETRANSMISSION "$CLIENT_TABLE" "$SERVE_TABLE" | head -n1 | cut -c1-200)"

summary
