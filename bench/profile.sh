#!/usr/bin/env bash
# Instruction counts of a server handshake under callgrind: latch_server vs
# ossl_server, the same OpenSSL client, one case.  Deterministic where the
# CPU-time benchmark is noisy: the difference between a run of N1 and a run
# of N2 handshakes gives instructions per handshake without start-up costs.
#
#   bash bench/profile.sh [BUILD_DIR] [CASE]
#   CASE: tls12-x25519 (default) | tls12-p256 | tls12-rsa | tls12-rsa-kx | tls13 |
#         tls12-ticket | tls12-id | tls13-psk
#
# Prints Ir per handshake for both servers and latch's top functions
# (inclusive and self), the callgrind files stay in $PROFILE_OUT.
# Use a RelWithDebInfo build for line numbers.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
CASE=${2:-tls12-x25519}
N1=${N1:-20} N2=${N2:-120}
OUT=${PROFILE_OUT:-$(mktemp -d /tmp/latch-profile.XXXXXX)}
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "profile: valgrind missing (apt-get install valgrind)" >&2; exit 2; }

case $CASE in
tls12-x25519) ARGS="--tls 1.2 --cipher ECDHE-ECDSA-AES128-GCM-SHA256 --groups X25519:P-256" ;;
tls12-p256) ARGS="--tls 1.2 --cipher ECDHE-ECDSA-AES128-GCM-SHA256 --groups P-256" ;;
tls12-rsa) ARGS="--tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --groups X25519" ;;
tls12-rsa-kx) ARGS="--tls 1.2 --cipher AES128-GCM-SHA256" ;;
tls13) ARGS="--tls 1.3 --suites TLS_AES_128_GCM_SHA256 --groups X25519 --sigalgs ECDSA+SHA256" ;;
tls12-ticket) ARGS="--tls 1.2 --cipher ECDHE-ECDSA-AES128-GCM-SHA256 --groups X25519:P-256 --resume ticket" ;;
tls12-id) ARGS="--tls 1.2 --cipher ECDHE-ECDSA-AES128-GCM-SHA256 --groups X25519:P-256 --resume id" ;;
tls13-psk) ARGS="--tls 1.3 --suites TLS_AES_128_GCM_SHA256 --groups X25519 --sigalgs ECDSA+SHA256 --resume psk" ;;
*) echo "profile: unknown case $CASE" >&2; exit 2 ;;
esac
EXTRA=0
case $CASE in *ticket | *id | *psk) EXTRA=1 ;; esac # the first, full handshake

# run one server under callgrind for n measured handshakes; prints total Ir
run() { # server n
  local server=$1 n=$2 file="$OUT/$1.$2.callgrind" pid port=""
  valgrind --tool=callgrind --callgrind-out-file="$file" "$BUILD/bench/$server" \
    --exit-after $((n + EXTRA)) >"$OUT/$server.$n.out" 2>"$OUT/$server.$n.err" &
  pid=$!
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^port=//p' "$OUT/$server.$n.out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "profile: $server did not start" >&2; kill "$pid"; return 1; }
  # shellcheck disable=SC2086
  "$BUILD/bench/hs_client" --port "$port" -n "$n" --warmup 0 $ARGS >/dev/null ||
    echo "profile: hs_client failed against $server" >&2
  wait "$pid"
  sed -n 's/^summary: //p' "$file"
}

for server in latch_server ossl_server; do
  a=$(run "$server" "$N1") b=$(run "$server" "$N2")
  echo "$server $CASE: $(( (b - a) / (N2 - N1) )) instructions per handshake"
done
echo
echo "latch_server, $N2 handshakes: top functions, inclusive"
callgrind_annotate --inclusive=yes "$OUT/latch_server.$N2.callgrind" 2>/dev/null | sed -n '1,/^$/d;p' |
  grep -v '^-' | head -45
echo
echo "latch_server: top functions, self"
callgrind_annotate "$OUT/latch_server.$N2.callgrind" 2>/dev/null | sed -n '1,/^$/d;p' | grep -v '^-' | head -30
echo "callgrind files: $OUT"
