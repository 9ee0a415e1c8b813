# Shared helpers for the interop tests.  Source it; do not run it.
#
# Environment (set by CTest, see CMakeLists.txt):
#   LATCH            latch binary under test
#   LATCH_TEST_DATA  tests/data (PKI lives in $LATCH_TEST_DATA/pki)
#   LATCH_TEST_WORK  scratch root; each script gets its own mktemp -d below it
#
# Conventions:
#   * every background peer is started with start_peer (own process group,
#     output captured in a log under $T) and is killed by the EXIT trap;
#   * every client runs under `timeout` through run_client;
#   * each matrix cell is one pass/fail; `summary` prints "N passed, N failed"
#     and exits 1 if anything failed (or nothing ran).
#   * a missing peer tool or missing test data is a hard failure (exit 1),
#     never a skip: `make deps` installs openssl, gnutls-bin and curl.

# shellcheck disable=SC2034  # variables here are used by the scripts sourcing this file
set -u
set -o pipefail

IT_NAME=$(basename "${0%.sh}")
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${LATCH_TEST_DATA:=$IT_DIR/../data}"
: "${LATCH_TEST_WORK:=${TMPDIR:-/tmp}/latch-testwork}"
PKI="$LATCH_TEST_DATA/pki"
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-20}

mkdir -p "$LATCH_TEST_WORK" || { echo "FATAL: cannot create $LATCH_TEST_WORK" >&2; exit 1; }
T=$(mktemp -d "$LATCH_TEST_WORK/$IT_NAME.XXXXXX") || { echo "FATAL: mktemp failed" >&2; exit 1; }
# Unique per run: proves a body really came from the peer we started.
TOKEN="latch-interop-$IT_NAME-$$-$RANDOM$RANDOM"

PASS=0
FAIL=0
FAILED_CASES=()
declare -a PEER_PIDS=()
declare -A PEER_NAME_OF=() PEER_LOG_OF=()
CONSEC_TIMEOUTS=0

# ---------------------------------------------------------------- reporting

note() { echo "[$IT_NAME] $*"; }

# indent FILE [LINES]: tail of a file, indented, for failure reports.
show_tail() {
  local f=$1 n=${2:-15}
  [ -s "$f" ] || { echo "      ($(basename "$f"): empty)"; return; }
  echo "      --- $(basename "$f") (last $n lines) ---"
  tail -n "$n" "$f" | cut -c1-300 | sed 's/^/      | /'
}

pass() { PASS=$((PASS + 1)); echo "PASS  $1"; }

# fail NAME [REASON] [FILE...]: count a failure, print reason and file tails.
fail() {
  local name=$1; shift
  FAIL=$((FAIL + 1)); FAILED_CASES+=("$name")
  echo "FAIL  $name${1:+: $1}"
  [ $# -gt 0 ] && shift
  local f
  for f in "$@"; do show_tail "$f"; done
}

summary() {
  echo "----"
  if [ "$FAIL" -gt 0 ]; then
    echo "failed cases:"
    printf '  %s\n' "${FAILED_CASES[@]}"
  fi
  echo "$PASS passed, $FAIL failed"
  if [ "$FAIL" -gt 0 ] || [ "$PASS" -eq 0 ]; then exit 1; fi
  exit 0
}

die() { echo "FATAL [$IT_NAME]: $*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites

require_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 ||
      die "required tool '$t' not found in PATH (install it: make deps / scripts/install-deps.sh)"
  done
}

require_latch() {
  [ -n "${LATCH:-}" ] || die "LATCH is not set (path to the latch binary under test)"
  [ -x "$LATCH" ] || die "LATCH=$LATCH is not an executable file"
}

require_files() {
  local f
  for f in "$@"; do [ -r "$f" ] || die "missing test data file: $f"; done
}

# The standard PKI: ca.pem + one leaf(+intermediate) per key type.
require_pki() {
  local c
  require_files "$PKI/ca.pem"
  for c in "$@"; do require_files "$PKI/$c.pem" "$PKI/$c-key.pem"; done
}

# ---------------------------------------------------------------- ports and peers

# Is PORT listening on TCP (v4 or v6)?  If PID is given, the listening socket
# must belong to that process (so another test's server on the same port
# cannot fool us).
port_listening() {
  local port=$1 pid=${2:-} hex inodes ino
  hex=$(printf '%04X' "$port")
  inodes=$(awk -v p=":$hex" 'substr($2, length($2)-4) == p && $4 == "0A" {print $10}' \
             /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [ -n "$inodes" ] || return 1
  [ -n "$pid" ] || return 0
  [ -d "/proc/$pid/fd" ] || return 1
  local fds
  fds=$(ls -l "/proc/$pid/fd" 2>/dev/null) || return 0   # unreadable: trust the port
  for ino in $inodes; do
    case $fds in *"socket:[$ino]"*) return 0 ;; esac
  done
  return 1
}

port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && (substr($2, length($2)-4) == p || substr($3, length($3)-4) == p) {f=1} END {exit !f}' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port: a currently unused loopback port.  Picked below the kernel's
# ephemeral range (so client sockets do not collide with it) and checked
# against /proc/net/tcp*.  start_peer retries if someone grabs it first.
free_port() {
  local p i
  if [ -r /proc/net/tcp ]; then
    for i in $(seq 1 200); do
      p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
      port_in_use "$p" || { echo "$p"; return 0; }
    done
  fi
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT [PID] [SECONDS]: wait until PORT listens (owned by PID
# if given).  Fails early if PID dies.
wait_for_port() {
  local port=$1 pid=${2:-} secs=${3:-10} i
  for i in $(seq 1 $((secs * 20))); do
    port_listening "$port" "$pid" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  return 1
}

# start_peer NAME [--cwd DIR] [--ready REGEX] -- CMD ARGS...
# Every literal @PORT@ in CMD/ARGS is replaced by a free port.  The peer runs
# in its own session/process group with stdin </dev/null and stdout+stderr in
# $T/NAME.log.  On success sets PEER_PID, PEER_PORT, PEER_LOG and returns 0;
# on failure (after a few port retries) reports nothing and returns 1.
# --ready REGEX additionally waits for REGEX to appear in the log.
start_peer() {
  local name=$1; shift
  local cwd=$T ready="" attempt port pid log
  while [ $# -gt 0 ]; do
    case $1 in
      --cwd) cwd=$2; shift 2 ;;
      --ready) ready=$2; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  PEER_PID="" PEER_PORT="" PEER_LOG="$T/$name.log"
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    local -a cmd=("${@//@PORT@/$port}")
    log="$T/$name.log"
    [ "$attempt" -gt 1 ] && mv -f "$log" "$log.attempt$((attempt - 1))" 2>/dev/null
    ( cd "$cwd" && exec setsid "${cmd[@]}" </dev/null >"$log" 2>&1 ) &
    pid=$!
    PEER_PIDS+=("$pid")
    PEER_NAME_OF[$pid]=$name
    PEER_LOG_OF[$pid]=$log
    if wait_for_port "$port" "$pid" 10; then
      if [ -n "$ready" ]; then
        local i ok=1
        for i in $(seq 1 100); do
          grep -Eq -- "$ready" "$log" 2>/dev/null && { ok=0; break; }
          sleep 0.05
        done
        [ $ok -eq 0 ] || { stop_peer "$pid"; continue; }
      fi
      PEER_PID=$pid PEER_PORT=$port PEER_LOG=$log
      return 0
    fi
    stop_peer "$pid"
    # Died on its own (port taken?) -> retry with another port; still
    # running but never listening -> give up.
    grep -qiE 'in use|bind' "$log" 2>/dev/null || break
  done
  return 1
}

# stop_peer PID: TERM its process group, KILL after 3 s, reap it.  Sets
# STOP_KILLED=1 if SIGKILL was needed, STOP_WAS_DEAD=1 if it had already
# exited before we signalled it, and STOP_STATUS to its wait status.  Reports
# a failure if its log contains a sanitizer report.
stop_peer() {
  local pid=$1 i
  STOP_KILLED=0 STOP_WAS_DEAD=0 STOP_STATUS=""
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null &&
     [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      # a zombie (exited, not yet reaped) counts as gone
      [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null &&
       [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
      STOP_KILLED=1
    fi
    # whatever is left in the group (children), and the peer if it hung
    kill -KILL -- "-$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  else
    STOP_WAS_DEAD=1
  fi
  wait "$pid" 2>/dev/null
  STOP_STATUS=$?
  local log=${PEER_LOG_OF[$pid]:-}
  if [ -n "$log" ] && [ -f "$log" ] &&
     grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$log"; then
    fail "${PEER_NAME_OF[$pid]:-peer}: sanitizer report in peer log" "" "$log"
  fi
  local -a keep=()
  for i in "${PEER_PIDS[@]}"; do [ "$i" = "$pid" ] || keep+=("$i"); done
  PEER_PIDS=("${keep[@]}")
  unset "PEER_LOG_OF[$pid]" "PEER_NAME_OF[$pid]"
}

CLIENT_PID="" HOLDER_PID=""
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in $CLIENT_PID $HOLDER_PID; do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for pid in "${PEER_PIDS[@]}"; do stop_peer "$pid" >/dev/null 2>&1; done
  if [ -n "${KEEP_TESTWORK:-}" ]; then
    echo "[$IT_NAME] keeping $T"
  else
    rm -rf "$T"
  fi
  return $rc
}
trap cleanup EXIT
trap 'echo "[$IT_NAME] interrupted"; exit 130' INT
trap 'echo "[$IT_NAME] terminated"; exit 143' TERM

# ---------------------------------------------------------------- clients

# run_client NAME STDIN CMD ARGS...: run CMD under timeout with stdin from
# STDIN (a file, or /dev/null); stdout -> $T/NAME.out, stderr -> $T/NAME.err.
# Sets CLIENT_RC, CLIENT_OUT, CLIENT_ERR.  Tracks consecutive timeouts (see
# too_many_timeouts) so a hung peer cannot make a matrix run for ages.
run_client() {
  local name=$1 in=$2; shift 2
  CLIENT_OUT="$T/$name.out" CLIENT_ERR="$T/$name.err"
  # Run it as a background job and `wait` for it, so an INT/TERM sent to
  # this script is handled at once (cleanup kills CLIENT_PID).
  timeout -k 5 "$CLIENT_TIMEOUT" "$@" <"$in" >"$CLIENT_OUT" 2>"$CLIENT_ERR" &
  CLIENT_PID=$!
  wait "$CLIENT_PID"
  CLIENT_RC=$?
  CLIENT_PID=""
  if [ "$CLIENT_RC" -eq 124 ] || [ "$CLIENT_RC" -eq 137 ]; then
    CONSEC_TIMEOUTS=$((CONSEC_TIMEOUTS + 1))
    echo "client timed out after ${CLIENT_TIMEOUT}s: $*" >>"$CLIENT_ERR"
  else
    CONSEC_TIMEOUTS=0
  fi
  if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$CLIENT_ERR" 2>/dev/null; then
    fail "$name: sanitizer report on client stderr" "" "$CLIENT_ERR"
  fi
  return 0
}

# run_client_held NAME INFILE CMD ARGS...: like run_client, but stdin is
# INFILE followed by a pipe that stays open until CMD exits.  For clients that
# send close_notify as soon as stdin hits EOF (gnutls-cli), which a TLS 1.2
# server may rightly answer by closing without sending the response.
run_client_held() {
  local name=$1 in=$2 fifo="$T/$1.stdin" holder; shift 2
  rm -f "$fifo"
  mkfifo "$fifo" || die "mkfifo $fifo failed"
  ( cat "$in"; exec sleep $((CLIENT_TIMEOUT + 10)) ) >"$fifo" &
  holder=$!
  HOLDER_PID=$holder
  run_client "$name" "$fifo" "$@"
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
  HOLDER_PID=""
  rm -f "$fifo"
  return 0
}

# True after 3 client timeouts in a row: callers fail the rest of a matrix
# instead of waiting 20 s per cell.
too_many_timeouts() { [ "$CONSEC_TIMEOUTS" -ge 3 ]; }

# HTTP/1.1 request for PATH with Connection: close, written to a file; echoes
# the file name.
http_request_file() {
  local path=$1 f="$T/request-$(echo "$1" | tr -c 'A-Za-z0-9' _).txt"
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: latch-interop\r\nConnection: close\r\n\r\n' "$path" >"$f"
  echo "$f"
}

# Docroot with token.txt containing $TOKEN; echoes its path.
make_docroot() {
  local d="$T/www"
  mkdir -p "$d"
  printf '%s\n' "$TOKEN" >"$d/token.txt"
  echo "$d"
}

# ---------------------------------------------------------------- matrix

SUITES_ECDSA=(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
              TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
              TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)
SUITES_RSA=(TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
            TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)
CERTS_ECDSA=(server-p256 server-p384 server-ed25519)
CERTS_RSA=(server-rsa2048)
KX_GROUPS=(x25519 secp256r1 secp384r1)

# suites_for_cert CERT: the suites usable with that certificate.
suites_for_cert() {
  case $1 in
    server-rsa*) echo "${SUITES_RSA[*]}" ;;
    *) echo "${SUITES_ECDSA[*]}" ;;
  esac
}

# IANA suite -> OpenSSL name
ossl_suite() {
  case $1 in
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) echo ECDHE-ECDSA-AES128-GCM-SHA256 ;;
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) echo ECDHE-ECDSA-AES256-GCM-SHA384 ;;
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) echo ECDHE-ECDSA-CHACHA20-POLY1305 ;;
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) echo ECDHE-RSA-AES128-GCM-SHA256 ;;
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) echo ECDHE-RSA-AES256-GCM-SHA384 ;;
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256) echo ECDHE-RSA-CHACHA20-POLY1305 ;;
    *) die "ossl_suite: unknown suite $1" ;;
  esac
}

# IANA suite -> GnuTLS suite name as printed by gnutls-serv/gnutls-cli
gnutls_suite() {
  case $1 in
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) echo ECDHE_ECDSA_AES_128_GCM_SHA256 ;;
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) echo ECDHE_ECDSA_AES_256_GCM_SHA384 ;;
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) echo ECDHE_ECDSA_CHACHA20_POLY1305 ;;
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) echo ECDHE_RSA_AES_128_GCM_SHA256 ;;
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) echo ECDHE_RSA_AES_256_GCM_SHA384 ;;
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256) echo ECDHE_RSA_CHACHA20_POLY1305 ;;
    *) die "gnutls_suite: unknown suite $1" ;;
  esac
}

# IANA suite -> GnuTLS key exchange / cipher priority keywords
gnutls_kx() {
  case $1 in
    TLS_ECDHE_ECDSA_*) echo ECDHE-ECDSA ;;
    TLS_ECDHE_RSA_*) echo ECDHE-RSA ;;
    *) die "gnutls_kx: unknown suite $1" ;;
  esac
}
gnutls_cipher() {
  case $1 in
    *_AES_128_GCM_*) echo AES-128-GCM ;;
    *_AES_256_GCM_*) echo AES-256-GCM ;;
    *_CHACHA20_POLY1305_*) echo CHACHA20-POLY1305 ;;
    *) die "gnutls_cipher: unknown suite $1" ;;
  esac
}

# group -> GnuTLS name (GROUP-X25519 keyword without the GROUP- prefix,
# also what gnutls prints in "(ECDHE-X25519)")
gnutls_group() {
  case $1 in
    x25519) echo X25519 ;;
    secp256r1) echo SECP256R1 ;;
    secp384r1) echo SECP384R1 ;;
    *) die "gnutls_group: unknown group $1" ;;
  esac
}

# group -> how OpenSSL's s_client prints it in "Server Temp Key: ..."
ossl_tempkey() {
  case $1 in
    x25519) echo "X25519, 253 bits" ;;
    secp256r1) echo "ECDH, prime256v1, 256 bits" ;;
    secp384r1) echo "ECDH, secp384r1, 384 bits" ;;
    *) die "ossl_tempkey: unknown group $1" ;;
  esac
}

# The curve of an ECDSA certificate (empty for RSA / Ed25519).
cert_curve() {
  case $1 in
    *p256*) echo secp256r1 ;;
    *p384*) echo secp384r1 ;;
    *) echo "" ;;
  esac
}

# client_groups CERT GROUP SEP: groups a client must offer to negotiate GROUP
# for key exchange with CERT.  In TLS 1.2 the client's supported_groups also
# governs ECDSA certificate curves (RFC 8422 5.1; OpenSSL enforces it on both
# sides), so an ECDSA cert on another curve needs that curve offered too.  The
# server side is then restricted to GROUP alone so GROUP is what gets chosen.
client_groups() {
  local cert=$1 g=$2 sep=${3:-,} c
  c=$(cert_curve "$cert")
  if [ -n "$c" ] && [ "$c" != "$g" ]; then echo "$g$sep$c"; else echo "$g"; fi
}

# gnutls_priority SUITE GROUP [EXTRA_GROUP...]: exact TLS 1.2 priority string
gnutls_priority() {
  local s=$1; shift
  local p="NONE:+VERS-TLS1.2:+$(gnutls_kx "$s"):+$(gnutls_cipher "$s"):+AEAD:+SIGN-ALL:+SIGN-EDDSA-ED25519:+COMP-NULL:+CTYPE-X509"
  local g
  for g in "$@"; do [ -n "$g" ] && p="$p:+GROUP-$(gnutls_group "$g")"; done
  echo "$p"
}

# TLS 1.2 only, everything else default (ECDHE, AEAD and CBC, all groups).
GNUTLS_TLS12_ALL="NORMAL:-VERS-ALL:+VERS-TLS1.2:+SIGN-EDDSA-ED25519"

# ossl_cert_args CERT: sets OSSL_CERT_ARGS for s_server/s_client from
# $PKI/CERT.pem (leaf first, then chain) and $PKI/CERT-key.pem.  OpenSSL's
# -cert reads only the first certificate, so the rest goes to -cert_chain.
ossl_cert_args() {
  local c=$1 chain="$T/$1.chain.pem"
  awk '/-----BEGIN CERTIFICATE-----/ {n++} n > 1' "$PKI/$c.pem" >"$chain"
  OSSL_CERT_ARGS=(-cert "$PKI/$c.pem" -key "$PKI/$c-key.pem")
  [ -s "$chain" ] && OSSL_CERT_ARGS+=(-cert_chain "$chain")
  return 0
}

# First DNS name in a certificate's SAN (or its CN).
cert_dns_name() {
  local n
  n=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
      grep -o 'DNS:[^,[:space:]]*' | head -n1 | cut -d: -f2)
  [ -n "$n" ] || n=$(openssl x509 -in "$1" -noout -subject -nameopt multiline 2>/dev/null |
                      awk -F' = ' '/commonName/ {print $2; exit}')
  echo "$n"
}

# contains FILE FIXED-STRING / matches FILE EXTENDED-REGEX
contains() { grep -qF -- "$2" "$1" 2>/dev/null; }
matches() { grep -qE -- "$2" "$1" 2>/dev/null; }

# ---------------------------------------------------------------- latch serve

# start_latch_serve NAME CERT DOCROOT [EXTRA ARGS...]: latch serve on
# 127.0.0.1:<free port> with $PKI/CERT.pem + key; waits for the socket and the
# "latch serve: listening on" line.  Same result variables as start_peer.
# After two instances in a row failed to come up, further calls fail at once
# (PEER_LOG then points at the last failed attempt's log).
LATCH_SERVE_START_FAILS=0
start_latch_serve() {
  local name=$1 cert=$2 root=$3; shift 3
  if [ "$LATCH_SERVE_START_FAILS" -ge 2 ]; then
    PEER_PID=""
    return 1
  fi
  if start_peer "$name" --ready 'latch serve: listening on' -- \
       "$LATCH" serve --listen "127.0.0.1:@PORT@" --cert "$PKI/$cert.pem" --key "$PKI/$cert-key.pem" \
       "$@" "$root"; then
    LATCH_SERVE_START_FAILS=0
    return 0
  fi
  LATCH_SERVE_START_FAILS=$((LATCH_SERVE_START_FAILS + 1))
  return 1
}

# stop_latch_serve NAME PID [--expect-failures]: stop it with SIGTERM and
# record one cell: it must still have been running, must exit on SIGTERM
# within 3 s, and (unless --expect-failures) must not have logged any
# handshake failure.
stop_latch_serve() {
  local name=$1 pid=$2 expect_fail=${3:-} log=${PEER_LOG_OF[$2]:-$T/$1.log} why=""
  stop_peer "$pid"
  [ "$STOP_WAS_DEAD" -eq 0 ] || why="$why latch serve died before SIGTERM (wait status $STOP_STATUS);"
  [ "$STOP_KILLED" -eq 0 ] || why="$why latch serve ignored SIGTERM for 3 s (SIGKILLed);"
  if [ -z "$expect_fail" ] && matches "$log" 'handshake failed|connection failed'; then
    why="$why unexpected errors in its log;"
  fi
  if [ -z "$why" ]; then pass "$name: clean run and SIGTERM shutdown"
  else fail "$name: clean run and SIGTERM shutdown" "${why# }" "$log"; fi
}

# ---------------------------------------------------------------- TLS 1.3

SUITES_TLS13=(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256)
# Every server certificate type (in TLS 1.3 any suite goes with any of them).
CERTS_ALL=(server-p256 server-p384 server-rsa2048 server-ed25519)

# TLS 1.3 suite name -> its code point as 4 hex digits
tls13_suite_code() {
  case $1 in
    TLS_AES_128_GCM_SHA256) echo 1301 ;;
    TLS_AES_256_GCM_SHA384) echo 1302 ;;
    TLS_CHACHA20_POLY1305_SHA256) echo 1303 ;;
    *) die "tls13_suite_code: unknown suite $1" ;;
  esac
}

# group name -> NamedGroup code point as 4 hex digits
group_code() {
  case $1 in
    x25519) echo 001d ;;
    secp256r1) echo 0017 ;;
    secp384r1) echo 0018 ;;
    *) die "group_code: unknown group $1" ;;
  esac
}

# TLS 1.3 suite -> GnuTLS cipher keyword (also what it prints last in the
# session description)
gnutls_tls13_cipher() { gnutls_cipher "$1"; }

# gnutls_tls13_priority [SUITE [GROUP]]: TLS 1.3 only, optionally one suite
# and one group.
gnutls_tls13_priority() {
  local p="NORMAL:-VERS-ALL:+VERS-TLS1.3:+SIGN-EDDSA-ED25519"
  [ -n "${1:-}" ] && p="$p:-CIPHER-ALL:+$(gnutls_cipher "$1")"
  [ -n "${2:-}" ] && p="$p:-GROUP-ALL:+GROUP-$(gnutls_group "$2")"
  echo "$p"
}

# The TLS 1.3 signature scheme for CERT as GnuTLS prints it in a session
# description, as an extended regex (TLS 1.3 ties ECDSA curve and hash, and
# RSA must use PSS).
gnutls_tls13_sig_re() {
  case $1 in
    server-p256) echo 'ECDSA-SECP256R1-SHA256' ;;
    server-p384) echo 'ECDSA-SECP384R1-SHA384' ;;
    server-ed25519) echo 'EdDSA-Ed25519' ;;
    server-rsa*) echo 'RSA-PSS-(RSAE|PSS)-SHA(256|384|512)' ;;
    *) die "gnutls_tls13_sig_re: unknown certificate $1" ;;
  esac
}

# What s_client prints as "Peer signature type: X" for CERT in TLS 1.3.
ossl_tls13_sigtype() {
  case $1 in
    server-p256 | server-p384) echo ECDSA ;;
    server-ed25519) echo ed25519 ;;
    server-rsa*) echo RSA-PSS ;;
    *) die "ossl_tls13_sigtype: unknown certificate $1" ;;
  esac
}

# curl_server_hellos TRACE: decode every ServerHello in a `curl --trace`
# file (OpenSSL backend).  One line per ServerHello, in order:
#   hrr=0|1 cipher=XXXX version=XXXX group=XXXX psk=0|1 exts=XXXX,XXXX,...
# (version: supported_versions, group: key_share, psk: pre_shared_key
# present).  A HelloRetryRequest (special random) prints hrr=1.
curl_server_hellos() {
  awk '
    function h2d(s,   i, v) {
      v = 0
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v
    }
    function flush(   n, i, p, sidlen, extend, t, l, exts, hrr, ver, grp, psk) {
      if (!inhello) return
      inhello = 0
      n = split(hex, b, " ")
      if (n < 40 || b[1] != "02") { print "unparsable"; hex = ""; return }
      hrr = (b[7] b[8] b[9] b[10] b[11] b[12] b[13] b[14] == "cf21ad74e59a6111") ? 1 : 0
      sidlen = h2d(b[39])
      p = 40 + sidlen
      cipher = b[p] b[p+1]
      p += 3
      extend = p + 2 + h2d(b[p] b[p+1])
      p += 2
      exts = ""; ver = "-"; grp = "-"; psk = 0
      while (p + 3 < extend && p + 3 <= n) {
        t = b[p] b[p+1]; l = h2d(b[p+2] b[p+3])
        exts = exts (exts == "" ? "" : ",") t
        if (t == "002b") ver = b[p+4] b[p+5]
        if (t == "0033") grp = b[p+4] b[p+5]
        if (t == "0029") psk = 1
        p += 4 + l
      }
      printf "hrr=%d cipher=%s version=%s group=%s psk=%d exts=%s\n", hrr, cipher, ver, grp, psk, exts
      hex = ""
    }
    /^== Info: .*TLS handshake, Server hello \(2\)/ { flush(); want = 1; next }
    want && /^<= Recv SSL data/ { want = 0; inhello = 1; hex = ""; next }
    inhello && /^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]: / { hex = hex " " substr($0, 7, 48); next }
    inhello { flush() }
    END { flush() }
  ' "$1"
}

# ossl_trace_hellos FILE: the Client/ServerHellos in an OpenSSL -trace log
# (s_client/s_server -trace, or -msgfile), in order, one line each:
#   ClientHello key_share=001d[,0017...]
#   ServerHello hrr=0|1 key_share=0018
# (key_share: the NamedGroup code points, 4 hex digits; "-" if absent; a
# HelloRetryRequest is a ServerHello with the special random, hrr=1).
ossl_trace_hellos() {
  awk '
    function end() {
      if (msg == "ClientHello") printf "ClientHello key_share=%s\n", (ks == "" ? "-" : ks)
      if (msg == "ServerHello") printf "ServerHello hrr=%d key_share=%s\n", hrr, (ks == "" ? "-" : ks)
      msg = ""; ks = ""; hrr = 0; inks = 0
    }
    /^    [A-Za-z]+, Length=[0-9]+/ { end(); sub(/^ +/, ""); sub(/,.*/, ""); msg = $0; next }
    /^(Sent|Received) Record/ { end(); next }
    msg == "" { next }
    /gmt_unix_time=0x[Cc][Ff]21[Aa][Dd]74/ { hrr = 1 }
    /extension_type=/ { inks = ($0 ~ /extension_type=key_share\(51\)/); next }
    inks && /NamedGroup:/ {
      c = $0; sub(/\)[^)]*$/, "", c); sub(/.*\(/, "", c)
      ks = ks (ks == "" ? "" : ",") sprintf("%04x", c + 0)
    }
    END { end() }
  ' "$1"
}

# ossl_trace_keyupdates FILE: the KeyUpdate messages in an OpenSSL -trace log,
# one line each: "sent requested", "received not_requested", ...
ossl_trace_keyupdates() {
  awk '
    /^Sent Record/ { dir = "sent" }
    /^Received Record/ { dir = "received" }
    /KeyUpdate, Length=/ { ku = 1; next }
    ku && /update_not_requested/ { print dir, "not_requested"; ku = 0; next }
    ku && /update_requested/ { print dir, "requested"; ku = 0; next }
    ku { ku = 0 }
  ' "$1"
}
