#!/usr/bin/env bash
# latch demo (what `make demo` runs): exits 0, prints both handshake traces
# and the summary (version, suite, key exchange, chain verified, timings,
# "resumed: yes"), stops its server and leaves no file behind (its temporary
# directory goes under TMPDIR, pointed here at an empty directory).  Also:
# demo refuses arguments (2), and its --help and every command's --help read
# like man pages (NAME, SYNOPSIS, OPTIONS, EXIT STATUS, EXAMPLES).
. "$(dirname "$0")/lib.sh"

require_tool timeout grep
require_latch

mkdir -p "$T/tmp"
run_client demo /dev/null env TMPDIR="$T/tmp" timeout -k 5 60 "$LATCH" demo
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
for want in "resumed: yes" "latch demo: OK" "==> summary" "chain verified    yes"; do
  contains "$CLIENT_OUT" "$want" || why="$why no '$want';"
done
for field in version "cipher suite" "key exchange" "first connection" "second connection"; do
  matches "$CLIENT_OUT" "^  $field +[^ ]" || why="$why no '$field' line;"
done
matches "$CLIENT_OUT" '^  version +TLSv1\.3$' || why="$why not TLS 1.3;"
matches "$CLIENT_OUT" 'TLS handshake [0-9.]+ ms' || why="$why no timings;"
[ "$(grep -c 'ClientHello' "$CLIENT_OUT")" -ge 2 ] || why="$why the traces lack two ClientHellos;"
contains "$CLIENT_OUT" "resumption accepted" || why="$why the second trace shows no resumption;"
if [ -z "$why" ]; then pass "latch demo: exit 0, traces, summary with 'resumed: yes'"
else fail "latch demo: exit 0, traces, summary with 'resumed: yes'" "${why# }" "$CLIENT_OUT" "$CLIENT_ERR"; fi

why=""
[ -z "$(find "$T/tmp" -mindepth 1 2>/dev/null)" ] || why="$why left behind: $(find "$T/tmp" -mindepth 1 | head -n 3 | tr '\n' ' ');"
port=$(sed -n 's/^==> latch serve .* on 127\.0\.0\.1:\([0-9]*\) (pid \([0-9]*\))$/\1 \2/p' "$CLIENT_OUT")
pid=${port#* }
[ -n "$pid" ] || why="$why no server pid line;"
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && why="$why its latch serve (pid $pid) still runs;"
if [ -z "$why" ]; then pass "latch demo: server stopped, temporary files removed"
else fail "latch demo: server stopped, temporary files removed" "${why# }" "$CLIENT_OUT"; fi

run_client demo-args /dev/null "$LATCH" demo extra
[ "$CLIENT_RC" -eq 2 ] && pass "latch demo with an argument: usage error (2)" ||
  fail "latch demo with an argument: usage error (2)" "exit $CLIENT_RC" "$CLIENT_ERR"

for command in get trace serve proxy demo verify; do
  run_client "help-$command" /dev/null "$LATCH" "$command" --help
  why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
  for section in NAME SYNOPSIS OPTIONS "EXIT STATUS" EXAMPLES; do
    matches "$CLIENT_OUT" "^$section\$" || why="$why no $section section;"
  done
  long=$(awk 'length > 80' "$CLIENT_OUT" | head -n 1)
  [ -z "$long" ] || why="$why a line over 80 columns: '$long';"
  if [ -z "$why" ]; then pass "latch $command --help reads like a man page"
  else fail "latch $command --help reads like a man page" "${why# }" "$CLIENT_OUT"; fi
done
run_client help /dev/null "$LATCH" help
matches "$CLIENT_OUT" '^usage: latch COMMAND' && contains "$CLIENT_OUT" "proxy" && contains "$CLIENT_OUT" "demo" &&
  pass "latch help lists every command" || fail "latch help lists every command" "" "$CLIENT_OUT"

summary
