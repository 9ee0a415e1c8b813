#!/usr/bin/env bash
# Demo: latch serve on a free loopback port, fetched by latch get and curl.
# Usage: bash scripts/demo.sh path/to/latch     (make demo does this)
set -euo pipefail

LATCH=${1:?usage: demo.sh path/to/latch}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the test PKI is generated into the build tree at configure time
PKI="$(cd "$(dirname "$LATCH")" && pwd)/testdata/pki"
[ -x "$LATCH" ] || { echo "demo: $LATCH is not an executable (run make first)" >&2; exit 1; }
LATCH=$(cd "$(dirname "$LATCH")" && pwd)/$(basename "$LATCH")
for f in ca.pem server-p256.pem server-p256-key.pem; do
  [ -r "$PKI/$f" ] || { echo "demo: missing $PKI/$f" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "demo: curl not found (make deps)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/latch-demo.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www"
cat >"$WORK/www/index.html" <<'EOF'
<!doctype html>
<title>latch demo</title>
<h1>Hello from latch serve</h1>
EOF

step() { printf '\n==> %s\n' "$*"; }

step "starting: latch serve --listen 127.0.0.1:0 --cert server-p256.pem --key server-p256-key.pem"
"$LATCH" serve --listen 127.0.0.1:0 --cert "$PKI/server-p256.pem" \
  --key "$PKI/server-p256-key.pem" "$WORK/www" 2>"$WORK/serve.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^latch serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/serve.log")
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "demo: latch serve did not start:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
fi
echo "listening on 127.0.0.1:$PORT"

failed=0
step "latch get --cacert $PKI/ca.pem -v https://localhost:$PORT/"
if timeout 20 "$LATCH" get --cacert "$PKI/ca.pem" -v "https://localhost:$PORT/" \
     >"$WORK/latch.out" 2>"$WORK/latch.err"; then
  cat "$WORK/latch.err"
  echo "--- body:"; cat "$WORK/latch.out"
  grep -q "Hello from latch serve" "$WORK/latch.out" || { echo "demo: unexpected body" >&2; failed=1; }
else
  echo "demo: latch get failed (exit $?)" >&2; cat "$WORK/latch.err" >&2; failed=1
fi

step "curl --cacert $PKI/ca.pem https://localhost:$PORT/"
if timeout 20 curl -sS --cacert "$PKI/ca.pem" -w '--- curl: HTTP %{http_code}, %{size_download} bytes\n' \
     "https://localhost:$PORT/" >"$WORK/curl.out"; then
  cat "$WORK/curl.out"
  grep -q "Hello from latch serve" "$WORK/curl.out" || { echo "demo: unexpected body" >&2; failed=1; }
else
  echo "demo: curl failed (exit $?)" >&2; failed=1
fi

step "stopping latch serve (SIGTERM)"
kill -TERM "$SERVER_PID"
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""
echo "--- server log:"; cat "$WORK/serve.log"
[ "$status" -eq 0 ] || { echo "demo: latch serve exited with status $status" >&2; failed=1; }

if [ "$failed" -ne 0 ]; then
  printf '\ndemo: FAILED\n' >&2
  exit 1
fi
printf '\ndemo: OK\n'
