#!/usr/bin/env bash
# Headless Chromium (Debian's chromium) loads a page from latch serve.  The
# test certificate is accepted through --ignore-certificate-errors-spki-list
# (the base64 SHA-256 of the leaf's SubjectPublicKeyInfo), so the browser
# still runs its full TLS stack against latch.  The page pulls a script and a
# stylesheet; the script writes text into the DOM, and the test checks the
# DOM Chromium dumps after running it (the rendered text), then that latch
# served all three requests.  Cells: TLS 1.3 default, TLS 1.2 only, and an
# RSA certificate.
. "$(dirname "$0")/lib.sh"

require_tool openssl base64 timeout setsid
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || die "chromium not found (install it: make deps / scripts/install-deps.sh)"
require_latch
require_pki server-p256 server-rsa2048

ROOT=$(make_docroot)
cat >"$ROOT/index.html" <<EOF
<!doctype html>
<html><head><meta charset="utf-8"><title>latch browser test</title>
<link rel="stylesheet" href="/style.css">
<script src="/app.js"></script></head>
<body><h1>Served by latch</h1><p id="out">not rendered</p>
<script>render("$TOKEN");</script></body></html>
EOF
cat >"$ROOT/app.js" <<'EOF'
function render(token) {
  document.getElementById("out").textContent = "rendered by script: " + token;
}
EOF
printf 'h1 { color: #234; }\n' >"$ROOT/style.css"

# spki_hash CERT: base64(sha256(DER SubjectPublicKeyInfo)) of the leaf
spki_hash() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64
}

# browse CASE CERT [SERVE OPTIONS...]: one latch serve, one chromium run
browse() {
  local case=$1 cert=$2; shift 2
  local why="" spki
  spki=$(spki_hash "$PKI/$cert.pem") || die "cannot hash the SPKI of $cert"
  if ! start_latch_serve "serve-$cert" "$cert" "$ROOT" "$@"; then
    fail "$case" "latch serve did not start" "$PEER_LOG"
    return
  fi
  rm -rf "$T/chrome"
  run_client "chromium-$cert" /dev/null timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox \
    --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$T/chrome" --ignore-certificate-errors-spki-list="$spki" \
    --virtual-time-budget=5000 --dump-dom "https://localhost:$PEER_PORT/"
  contains "$CLIENT_OUT" "rendered by script: $TOKEN" ||
    why="$why the DOM lacks the rendered text (chromium exit $CLIENT_RC: $(grep -m1 -iE 'error|fail' "$CLIENT_ERR" | cut -c1-160));"
  contains "$CLIENT_OUT" "Served by latch" || why="$why no heading;"
  for path in / /app.js /style.css; do
    matches "$PEER_LOG" "\"GET $path HTTP/1\\.1\" 200" || why="$why latch did not serve $path;"
  done
  if [ -z "$why" ]; then pass "$case"; else fail "$case" "${why# }" "$CLIENT_OUT" "$CLIENT_ERR" "$PEER_LOG"; fi
  stop_latch_serve "serve-$cert" "$PEER_PID" --expect-failures
}

browse "chromium renders a page from latch serve (TLS 1.3, ECDSA P-256)" server-p256
browse "chromium renders a page from latch serve (TLS 1.2 only)" server-p256 --tls-max 1.2
browse "chromium renders a page from latch serve (RSA 2048)" server-rsa2048

summary
