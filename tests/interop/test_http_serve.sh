#!/usr/bin/env bash
# latch serve as an HTTP/1.1 server (RFC 9110/9112), seen by curl and by
# python3 (urllib and raw TLS sockets with the test CA):
#   basics      curl and urllib bodies, 8 MiB byte-exact, keep-alive (curl
#               reuses the connection), HEAD, 301 for a directory, 404, 405,
#               no directory listing
#   ranges      206 with Content-Range (first-last, suffix), 416, If-Range
#   validators  304 for If-None-Match and If-Modified-Since, 200 when stale
#   limits      413 (--max-body-size), 414 (long target), 431 (--max-header-size),
#               400 (no Host), 505 (HTTP/2.0 request line), 408 (--request-timeout),
#               --max-connections
#   paths       '..', '%2e%2e', encoded slashes and a symlink out: refused,
#               the secret never served
#   pipelining  three requests in one write: three answers, in order
#   memory      a 64 MiB file: the server's RSS stays bounded
#   load        200 concurrent TLS clients x 5 keep-alive requests, all
#               answered; a client stalled mid-handshake is dropped after
#               --handshake-timeout while the others are served
#   log         --access-log in Common Log Format
#   signals     SIGHUP reloads and reopens the access log; SIGTERM during a
#               rate-limited download: it completes, new connections are
#               refused, an idle keep-alive client gets close_notify, exit 0
. "$(dirname "$0")/lib.sh"

require_tool curl python3 timeout setsid awk cmp openssl ln
require_latch
require_pki server-p256

ROOT=$(make_docroot)
mkdir -p "$ROOT/dir" "$ROOT/nodir"
printf '<!doctype html><title>dir</title>%s\n' "$TOKEN" >"$ROOT/dir/index.html"
printf '<!doctype html><title>index</title>%s\n' "$TOKEN" >"$ROOT/index.html"
echo "secret-$TOKEN" >"$T/secret.txt"
ln -s "$T/secret.txt" "$ROOT/link-out.txt"
ln -s token.txt "$ROOT/link-in.txt"
head -c 8388608 /dev/urandom >"$ROOT/big.bin"
head -c 67108864 /dev/urandom >"$ROOT/huge.bin"
SIZE=$(stat -c %s "$ROOT/big.bin")

# a sanitized server keeps freed memory in quarantine: keep it small so the
# RSS check below measures the server, not the sanitizer
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
start_latch_serve serve server-p256 "$ROOT" --workers 2 --handshake-timeout 2 \
  --request-timeout 3 --max-header-size 8192 --max-body-size 1000 \
  --access-log "$T/access.log" || die "latch serve did not start: $(cat "$PEER_LOG")"
SERVER=$PEER_PID PORT=$PEER_PORT LOG=$PEER_LOG
BASE="https://localhost:$PORT"
CURL=(curl -sS --cacert "$PKI/ca.pem")

# verdict CASE WHY: pass when WHY is empty
verdict() { if [ -z "$2" ]; then pass "$1"; else fail "$1" "${2# }" "$CLIENT_ERR" "$LOG"; fi; }

# curl_status NAME ARGS...: run curl writing the body to $T/NAME.out, the
# head to $T/NAME.head; sets CODE
curl_status() {
  local name=$1; shift
  run_client "$name" /dev/null "${CURL[@]}" -D "$T/$name.head" -w '%{http_code}' -o "$T/$name.body" "$@"
  CODE=$(cat "$CLIENT_OUT")
}
header() { awk -v h="$2" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(h) ":") == 1 {sub(/^[^:]*: */, ""); sub(/\r$/, ""); print; exit}' "$1"; }

# raw NAME PYTHON-BYTES-LITERAL: send exactly those bytes over TLS, print
# what comes back until the server closes (or 5 s)
cat >"$T/raw.py" <<'EOF'
import socket, ssl, sys, ast, time
port, ca, data = int(sys.argv[1]), sys.argv[2], ast.literal_eval(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.settimeout(5)
s.sendall(data)
out = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
except (socket.timeout, ssl.SSLError, ConnectionError):
    pass
sys.stdout.write(out.decode("latin-1"))
EOF
raw() { run_client "$1" /dev/null python3 "$T/raw.py" "$PORT" "$PKI/ca.pem" "$2"; }

# ---------------------------------------------------------------- basics
curl_status basic "$BASE/token.txt"
why=""; [ "$CODE" = 200 ] || why="$why status $CODE;"
cmp -s "$T/basic.body" "$ROOT/token.txt" || why="$why body differs;"
verdict "curl GET token.txt: 200, exact body" "$why"

curl_status big "$BASE/big.bin"
why=""; [ "$CODE" = 200 ] || why="$why status $CODE;"
cmp -s "$T/big.body" "$ROOT/big.bin" || why="$why 8 MiB body differs;"
verdict "curl GET 8 MiB file: byte-exact" "$why"

run_client keepalive /dev/null "${CURL[@]}" -o /dev/null -o /dev/null -w '%{num_connects} ' \
  "$BASE/token.txt" "$BASE/index.html"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why curl exit $CLIENT_RC;"
[ "$(tr -s ' ' <"$CLIENT_OUT")" = "1 0 " ] || why="$why connects per URL '$(cat "$CLIENT_OUT")' (want '1 0 ': reused);"
verdict "keep-alive: curl reuses the connection for the second URL" "$why"

cat >"$T/urllib.py" <<'EOF'
import ssl, sys, urllib.request, urllib.error
base, ca = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
body = urllib.request.urlopen(base + "/token.txt", context=ctx, timeout=10).read()
sys.stdout.write(body.decode())
try:
    urllib.request.urlopen(base + "/missing.txt", context=ctx, timeout=10)
    print("missing: no error")
except urllib.error.HTTPError as error:
    print("missing: %d" % error.code)
head = urllib.request.urlopen(urllib.request.Request(base + "/big.bin", method="HEAD"),
                              context=ctx, timeout=10)
print("head: %d %s %d" % (head.status, head.headers["Content-Length"], len(head.read())))
EOF
run_client urllib /dev/null python3 "$T/urllib.py" "$BASE" "$PKI/ca.pem"
why=""; contains "$CLIENT_OUT" "$TOKEN" || why="$why no token;"
contains "$CLIENT_OUT" "missing: 404" || why="$why 404 not raised;"
contains "$CLIENT_OUT" "head: 200 $SIZE 0" || why="$why HEAD wrong: $(grep head: "$CLIENT_OUT");"
verdict "python3 urllib + ssl (test CA): body, 404, HEAD" "$why"

curl_status head -I "$BASE/big.bin"
why=""; [ "$CODE" = 200 ] || why="$why status $CODE;"
[ "$(header "$T/head.head" Content-Length)" = "$SIZE" ] || why="$why Content-Length '$(header "$T/head.head" Content-Length)';"
[ -n "$(header "$T/head.head" ETag)" ] || why="$why no ETag;"
[ -n "$(header "$T/head.head" Last-Modified)" ] || why="$why no Last-Modified;"
[ "$(header "$T/head.head" Accept-Ranges)" = bytes ] || why="$why no Accept-Ranges: bytes;"
verdict "HEAD: 200, Content-Length, ETag, Last-Modified, Accept-Ranges" "$why"

curl_status dir "$BASE/dir"
why=""; [ "$CODE" = 301 ] || why="$why status $CODE;"
[ "$(header "$T/dir.head" Location)" = "/dir/" ] || why="$why Location '$(header "$T/dir.head" Location)';"
curl_status dir2 "$BASE/dir/"
[ "$CODE" = 200 ] && contains "$T/dir2.body" "$TOKEN" || why="$why /dir/ not its index.html ($CODE);"
verdict "directory: 301 to /dir/, then its index.html" "$why"

curl_status nodir "$BASE/nodir/"
why=""; [ "$CODE" = 403 ] || why="$why status $CODE;"
verdict "no directory listing: a directory without index.html is 403" "$why"

curl_status notfound "$BASE/no/such/file.txt"
why=""; [ "$CODE" = 404 ] || why="$why status $CODE;"
contains "$T/notfound.body" "404 Not Found" || why="$why body '$(head -c 80 "$T/notfound.body")';"
[ "$(stat -c %s "$T/notfound.body")" -lt 100 ] || why="$why body not small;"
verdict "404 with a small body" "$why"

curl_status post -X POST -d 'a=1' "$BASE/token.txt"
why=""; [ "$CODE" = 405 ] || why="$why status $CODE;"
[ "$(header "$T/post.head" Allow)" = "GET, HEAD" ] || why="$why Allow '$(header "$T/post.head" Allow)';"
curl_status delete -X DELETE "$BASE/token.txt"
[ "$CODE" = 405 ] || why="$why DELETE $CODE;"
verdict "405 for POST and DELETE, with Allow: GET, HEAD" "$why"

# ---------------------------------------------------------------- ranges
curl_status range -r 100-199 "$BASE/big.bin"
why=""; [ "$CODE" = 206 ] || why="$why status $CODE;"
[ "$(header "$T/range.head" Content-Range)" = "bytes 100-199/$SIZE" ] || why="$why Content-Range '$(header "$T/range.head" Content-Range)';"
cmp -s "$T/range.body" <(tail -c +101 "$ROOT/big.bin" | head -c 100) || why="$why bytes differ;"
verdict "Range bytes=100-199: 206, Content-Range, the right 100 bytes" "$why"

curl_status suffix -r -500 "$BASE/big.bin"
why=""; [ "$CODE" = 206 ] || why="$why status $CODE;"
cmp -s "$T/suffix.body" <(tail -c 500 "$ROOT/big.bin") || why="$why bytes differ;"
[ "$(header "$T/suffix.head" Content-Range)" = "bytes $((SIZE - 500))-$((SIZE - 1))/$SIZE" ] || why="$why Content-Range '$(header "$T/suffix.head" Content-Range)';"
verdict "Range bytes=-500 (suffix): the last 500 bytes" "$why"

curl_status unsat -r "$((SIZE + 10))-" "$BASE/big.bin"
why=""; [ "$CODE" = 416 ] || why="$why status $CODE;"
[ "$(header "$T/unsat.head" Content-Range)" = "bytes */$SIZE" ] || why="$why Content-Range '$(header "$T/unsat.head" Content-Range)';"
verdict "Range past the end: 416 with Content-Range: bytes */SIZE" "$why"

ETAG=$(header "$T/head.head" ETag)
LASTMOD=$(header "$T/head.head" Last-Modified)
curl_status ifrange -r 0-9 -H 'If-Range: "stale-etag"' "$BASE/big.bin"
why=""; [ "$CODE" = 200 ] || why="$why stale If-Range: status $CODE;"
curl_status ifrange2 -r 0-9 -H "If-Range: $ETAG" "$BASE/big.bin"
[ "$CODE" = 206 ] || why="$why current If-Range: status $CODE;"
verdict "If-Range: a stale validator gets the whole file, the current one the range" "$why"

# ---------------------------------------------------------------- validators
curl_status inm -H "If-None-Match: $ETAG" "$BASE/big.bin"
why=""; [ "$CODE" = 304 ] || why="$why status $CODE;"
[ ! -s "$T/inm.body" ] || why="$why 304 with a body;"
[ "$(header "$T/inm.head" ETag)" = "$ETAG" ] || why="$why no ETag on the 304;"
curl_status inm2 -H 'If-None-Match: "other", W/'"$ETAG" "$BASE/big.bin"
[ "$CODE" = 304 ] || why="$why weak/list form: $CODE;"
curl_status inm3 -H 'If-None-Match: "other"' "$BASE/big.bin"
[ "$CODE" = 200 ] || why="$why non-matching: $CODE;"
verdict "If-None-Match: 304 on a match (also weak, in a list), 200 otherwise" "$why"

curl_status ims -H "If-Modified-Since: $LASTMOD" "$BASE/big.bin"
why=""; [ "$CODE" = 304 ] || why="$why same date: $CODE;"
curl_status ims2 -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT" "$BASE/big.bin"
[ "$CODE" = 200 ] || why="$why older date: $CODE;"
verdict "If-Modified-Since: 304 when not modified since, 200 when older" "$why"

# ---------------------------------------------------------------- limits
head -c 4096 /dev/urandom >"$T/body4k"
run_client big-post /dev/null "${CURL[@]}" -o /dev/null -w '%{http_code}' --data-binary "@$T/body4k" \
  -H 'Expect:' "$BASE/token.txt"
why=""; [ "$(cat "$CLIENT_OUT")" = 413 ] || why="$why status '$(cat "$CLIENT_OUT")';"
verdict "413 for a body over --max-body-size" "$why"

long=$(printf 'a%.0s' $(seq 1 5000))
curl_status long "$BASE/$long"
why=""; [ "$CODE" = 414 ] || why="$why status $CODE;"
verdict "414 for a 5000-byte target" "$why"

big_header=$(printf 'x%.0s' $(seq 1 9000))
curl_status header -H "X-Big: $big_header" "$BASE/token.txt"
why=""; [ "$CODE" = 431 ] || why="$why status $CODE;"
verdict "431 for headers over --max-header-size" "$why"

raw nohost "b'GET /token.txt HTTP/1.1\r\n\r\n'"
why=""; matches "$CLIENT_OUT" '^HTTP/1\.1 400 ' || why="$why got '$(head -n1 "$CLIENT_OUT")';"
verdict "400 for an HTTP/1.1 request without Host" "$why"

raw v2 "b'GET / HTTP/2.0\r\nHost: localhost\r\n\r\n'"
why=""; matches "$CLIENT_OUT" '^HTTP/1\.1 505 ' || why="$why got '$(head -n1 "$CLIENT_OUT")';"
verdict "505 for HTTP/2.0 in the request line" "$why"

start=$SECONDS
raw slowhead "b'GET /token.txt HTTP/1.1\r\nHost: local'"
why=""; matches "$CLIENT_OUT" '^HTTP/1\.1 408 ' || why="$why got '$(head -n1 "$CLIENT_OUT")';"
[ $((SECONDS - start)) -le 5 ] || why="$why took $((SECONDS - start)) s;"
verdict "408 when a request head stalls past --request-timeout (3 s)" "$why"

# ---------------------------------------------------------------- paths
for target in '/../secret.txt' '/%2e%2e/secret.txt' '/dir/%2E%2E/%2e%2e/secret.txt' \
              '/dir/..%2f..%2fsecret.txt' '/link-out.txt' '/./dir/../../secret.txt'; do
  raw "path-$(echo "$target" | tr -c 'A-Za-z0-9' _)" "b'GET $target HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'"
  why=""
  matches "$CLIENT_OUT" '^HTTP/1\.1 (403|404|400) ' || why="$why got '$(head -n1 "$CLIENT_OUT")';"
  contains "$CLIENT_OUT" "secret-$TOKEN" && why="$why THE SECRET WAS SERVED;"
  verdict "path escape refused: $target" "$why"
done
curl_status linkin "$BASE/link-in.txt"
why=""; [ "$CODE" = 200 ] && cmp -s "$T/linkin.body" "$ROOT/token.txt" || why="$why status $CODE;"
verdict "a symlink inside the root is served" "$why"

# ---------------------------------------------------------------- pipelining
cat >"$T/pipeline.py" <<'EOF'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.settimeout(10)
reqs = [b"GET /token.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /no-such HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /dir/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"]
s.sendall(b"".join(reqs))
buf = b""
def fill():
    global buf
    chunk = s.recv(65536)
    if not chunk:
        raise EOFError
    buf += chunk
heads = ["GET", "HEAD", "GET", "GET"]
for method in heads:
    while b"\r\n\r\n" not in buf:
        fill()
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    length = 0
    for line in lines[1:]:
        name, value = line.split(":", 1)
        if name.lower() == "content-length":
            length = int(value)
    if method == "HEAD":
        length = 0
    while len(buf) < length:
        fill()
    body, buf = buf[:length], buf[length:]
    print(lines[0].split(" ")[1], len(body), body[:60].decode("latin-1").strip())
EOF
run_client pipeline /dev/null python3 "$T/pipeline.py" "$PORT" "$PKI/ca.pem"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why client exit $CLIENT_RC;"
[ "$(awk '{print $1}' "$CLIENT_OUT" | tr '\n' ' ')" = "200 200 404 200 " ] || why="$why statuses $(awk '{print $1}' "$CLIENT_OUT" | tr '\n' ' ');"
head -n1 "$CLIENT_OUT" | grep -qF "$TOKEN" || why="$why first body is not token.txt;"
verdict "pipelining: four requests in one write, four answers in order" "$why"

# ---------------------------------------------------------------- memory
server_pid=$SERVER
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
before=$(rss)
run_client huge /dev/null "${CURL[@]}" -o "$T/huge.out" "$BASE/huge.bin"
after=$(rss)
why=""; cmp -s "$T/huge.out" "$ROOT/huge.bin" || why="$why 64 MiB body differs;"
[ $((after - before)) -lt 16384 ] || why="$why RSS grew ${before} kB -> ${after} kB;"
rm -f "$T/huge.out"
note "server RSS ${before} kB -> ${after} kB over a 64 MiB download"
verdict "64 MiB streamed in bounded memory (RSS +$(( (after - before) / 1024 )) MiB)" "$why"

# ---------------------------------------------------------------- load
cat >"$T/load.py" <<'EOF'
import asyncio, ssl, sys, time, socket
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
CLIENTS, REQUESTS = 200, 5
ctx = ssl.create_default_context(cafile=ca)

async def client(n):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                   server_hostname="localhost")
    good = 0
    for i in range(REQUESTS):
        path = "/token.txt" if i % 2 == 0 else "/dir/"
        writer.write(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode().split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        body = await reader.readexactly(length)
        if head.startswith(b"HTTP/1.1 200 ") and token.encode() in body:
            good += 1
    writer.close()
    return good

async def stalled():
    # TCP connect, half a ClientHello, then silence: must be dropped
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x16\x03\x01\x01\x00\x01\x00")
    await writer.drain()
    start = time.monotonic()
    try:
        data = await asyncio.wait_for(reader.read(100), 15)
        return time.monotonic() - start, data
    except asyncio.TimeoutError:
        return None, b""

async def main():
    stall = asyncio.ensure_future(stalled())
    await asyncio.sleep(0.2)
    start = time.monotonic()
    results = await asyncio.gather(*(client(n) for n in range(CLIENTS)), return_exceptions=True)
    took = time.monotonic() - start
    good = sum(r for r in results if isinstance(r, int))
    errors = [repr(r) for r in results if not isinstance(r, int)]
    print("answered %d/%d in %.1f s" % (good, CLIENTS * REQUESTS, took))
    for e in errors[:5]:
        print("error:", e)
    dropped, data = await stall
    print("stalled client dropped after %s s" % ("never" if dropped is None else "%.1f" % dropped))

asyncio.run(main())
EOF
run_client load /dev/null python3 "$T/load.py" "$PORT" "$PKI/ca.pem" "$TOKEN"
cat "$CLIENT_OUT"
why=""; contains "$CLIENT_OUT" "answered 1000/1000" || why="$why $(head -n1 "$CLIENT_OUT");"
verdict "load: 200 concurrent clients x 5 keep-alive requests, all answered" "$why"
dropped=$(sed -n 's/^stalled client dropped after \([0-9.]*\) s$/\1/p' "$CLIENT_OUT")
why=""; [ -n "$dropped" ] || why="$why $(grep stalled "$CLIENT_OUT");"
[ -n "$dropped" ] && awk -v d="$dropped" 'BEGIN {exit !(d >= 1.5 && d <= 4.5)}' || why="$why not dropped at ~2 s;"
verdict "a client stalled mid-handshake is dropped after --handshake-timeout (2 s) during the load" "$why"

# ---------------------------------------------------------------- log
why=""
clf='^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "GET /token\.txt HTTP/1\.1" 200 [0-9]+$'
matches "$T/access.log" "$clf" || why="$why no CLF line for GET /token.txt;"
matches "$T/access.log" '"HEAD /big\.bin HTTP/1\.1" 200 -$' || why="$why HEAD line lacks '-' for no bytes;"
matches "$T/access.log" '"GET /big\.bin HTTP/1\.1" 206 100$' || why="$why no 206 line with 100 bytes;"
[ "$(grep -c '"GET /token.txt HTTP/1.1" 200' "$T/access.log")" -ge 600 ] || why="$why load requests missing;"
verdict "--access-log: Common Log Format lines (206 100, HEAD with -)" "$why"
grep -q "2 workers" "$LOG" && pass "--workers 2 announced" || fail "--workers 2 announced" "" "$LOG"

# ---------------------------------------------------------------- connection limit
if start_latch_serve limited server-p256 "$ROOT" --workers 1 --max-connections 3; then
  LIMITED_PID=$PEER_PID LIMITED_LOG=$PEER_LOG
  held=()
  for _ in 1 2 3; do exec {fd}<>"/dev/tcp/127.0.0.1/$PEER_PORT"; held+=("$fd"); done
  sleep 0.3
  run_client over-limit /dev/null "${CURL[@]}" -o /dev/null "https://localhost:$PEER_PORT/token.txt"
  over_rc=$CLIENT_RC
  for fd in "${held[@]}"; do exec {fd}>&-; done
  sleep 0.3
  run_client under-limit /dev/null "${CURL[@]}" "https://localhost:$PEER_PORT/token.txt"
  why=""; [ "$over_rc" -ne 0 ] || why="$why a 4th connection was served;"
  contains "$CLIENT_OUT" "$TOKEN" || why="$why not served once below the limit (exit $CLIENT_RC);"
  contains "$LIMITED_LOG" "connection limit (3) reached" || why="$why no log line;"
  verdict "--max-connections 3: a 4th is closed at once, served again below the limit" "$why"
  stop_latch_serve limited "$LIMITED_PID" --expect-failures
else
  fail "--max-connections: latch serve did not start" "" "$PEER_LOG"
fi

# ---------------------------------------------------------------- SIGHUP, graceful stop
mv "$T/access.log" "$T/access.log.1"
kill -HUP "$SERVER"
for _ in $(seq 1 50); do matches "$LOG" 'SIGHUP: configuration 2 ' && break; sleep 0.1; done
curl_status after-hup "$BASE/token.txt"
why=""; matches "$LOG" 'SIGHUP: configuration 2 ' || why="$why no reload line;"
matches "$T/access.log" '"GET /token\.txt HTTP/1\.1" 200' || why="$why the access log was not reopened;"
verdict "SIGHUP: configuration reloaded for new connections, access log reopened" "$why"

cat >"$T/idle.py" <<'EOF'
# A keep-alive client idle after one request: how does its connection end?
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost",
                    suppress_ragged_eofs=False)
s.settimeout(20)
s.sendall(b"GET /token.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
s.recv(65536)
print("ready", flush=True)
try:
    data = s.recv(65536)
    print("close_notify" if data == b"" else "data %r" % data[:40], flush=True)
except ssl.SSLEOFError:
    print("EOF without close_notify", flush=True)
EOF
python3 "$T/idle.py" "$PORT" "$PKI/ca.pem" >"$T/idle.out" 2>&1 &
idle=$!
for _ in $(seq 1 50); do contains "$T/idle.out" ready && break; sleep 0.1; done
timeout -k 5 30 "${CURL[@]}" --limit-rate 3M -o "$T/slow.out" "$BASE/big.bin" 2>"$T/slow.err" &
slow=$!
sleep 1
kill -TERM "$SERVER"
sleep 0.3
refused=0
timeout 5 curl -sS --cacert "$PKI/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/token.txt" 2>/dev/null || refused=1
wait "$slow"; slow_rc=$?
for _ in $(seq 1 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
wait "$SERVER"; server_rc=$?
why=""
[ "$slow_rc" -eq 0 ] && cmp -s "$T/slow.out" "$ROOT/big.bin" || why="$why the download in flight was cut (curl exit $slow_rc);"
[ "$refused" -eq 1 ] || why="$why a new connection was served after SIGTERM;"
[ "$server_rc" -eq 0 ] || why="$why server exit $server_rc;"
contains "$LOG" "stopping: no new connections" || why="$why no stop line;"
verdict "SIGTERM: the download in flight completes, new connections refused, exit 0" "$why"
wait "$idle"
why=""; contains "$T/idle.out" close_notify || why="$why the idle client saw: $(tail -n1 "$T/idle.out");"
verdict "SIGTERM: an idle keep-alive connection is closed with close_notify" "$why"
if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$LOG"; then
  fail "sanitizer report in the server log" "" "$LOG"
fi

summary
