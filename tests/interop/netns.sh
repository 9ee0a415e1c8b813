# Two network namespaces joined by the delay line (tests/tools/delay_line.c),
# for the TCP tests; sourced after lib.sh.  netns_init PREFIX SUBNET sets
# NS_A, NS_B, ADDR_A (SUBNET.1), ADDR_B (SUBNET.2), creates the namespaces and
# arranges that everything in them is stopped and they are deleted on exit.
# DELAY_MS must be set.

# Everything in our namespaces is ours: stop it, then delete them.
netns_cleanup() {
  local rc=$? ns pid
  [ -n "$DL_PID" ] && stop_peer "$DL_PID" >/dev/null 2>&1
  rm -rf "/etc/netns/$NS_A"
  for ns in "$NS_A" "$NS_B"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  (exit $rc)
  cleanup
}

# netns_init PREFIX SUBNET [skip]: with "skip", a failure to create the first
# namespace skips the test (exit 77) instead of failing it.
netns_init() {
  local base="$1-$$-$RANDOM"
  NS_A=$base-a NS_B=$base-b
  ADDR_A=$2.1 ADDR_B=$2.2 DL_PID=""
  trap netns_cleanup EXIT
  if ! ip netns add "$NS_A"; then
    [ "${3:-}" = skip ] && { echo "SKIP [$IT_NAME]: cannot create network namespaces here"; exit 77; }
    die "ip netns add $NS_A failed"
  fi
  ip netns add "$NS_B" || die "ip netns add $NS_B failed"
  ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up || die "loopback up failed"
}

# link_up [LOSS [SEED]]: the delay line and the addresses on its two TUN devices.
link_up() {
  local loss=${1:-0} seed=${2:-1} ready="$T/delay_line.ready" i
  rm -f "$ready"
  ( exec setsid "$LATCH_DELAY_LINE" --ns-a "$NS_A" --ns-b "$NS_B" --delay-ms "$DELAY_MS" \
      --loss "$loss" --seed "$seed" --ready "$ready" </dev/null >>"$T/delay_line.log" 2>&1 ) &
  DL_PID=$!
  PEER_PIDS+=("$DL_PID"); PEER_NAME_OF[$DL_PID]=delay_line; PEER_LOG_OF[$DL_PID]="$T/delay_line.log"
  for i in $(seq 1 100); do [ -s "$ready" ] && break; sleep 0.05; done
  [ -s "$ready" ] || return 1
  ip -n "$NS_A" addr add "$ADDR_A/30" dev tun0 && ip -n "$NS_A" link set tun0 up &&
  ip -n "$NS_B" addr add "$ADDR_B/30" dev tun0 && ip -n "$NS_B" link set tun0 up
}

link_down() {
  [ -n "$DL_PID" ] && stop_peer "$DL_PID"
  DL_PID=""
}

# ns_start NAME NS READY-REGEX CMD...: a background process inside NS, in its
# own process group, output in $T/NAME.log; waits for READY-REGEX in the log.
ns_start() {
  local name=$1 ns=$2 ready=$3 i; shift 3
  : >"$T/$name.log"
  ( exec setsid ip netns exec "$ns" "$@" </dev/null >"$T/$name.log" 2>&1 ) &
  PEER_PID=$! PEER_LOG="$T/$name.log"
  PEER_PIDS+=("$PEER_PID"); PEER_NAME_OF[$PEER_PID]=$name; PEER_LOG_OF[$PEER_PID]=$PEER_LOG
  for i in $(seq 1 200); do
    grep -Eq -- "$ready" "$PEER_LOG" 2>/dev/null && return 0
    kill -0 "$PEER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
