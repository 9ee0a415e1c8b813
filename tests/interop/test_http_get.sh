#!/usr/bin/env bash
# latch get with curl's habits, against latch serve, a python3 echo server
# behind latch proxy, and nginx (Debian) serving over TLS:
#   output      -o, -O, two URLs with two -o, -I, -i, -s
#   request     -X, -H (add, replace, remove), -d (joined, @file without
#               newlines), --data-binary @file byte-exact
#   redirects   -L through 3 redirects, --max-redirs exceeded (exit 47), a
#               relative Location, 303 after POST becomes GET, a redirect to
#               http:// refused (exit 1), no -L: the 302 itself
#   status      --fail on 404 (exit 22, no body), without --fail (body, 0)
#   connection  --connect-to (IPv4 and IPv6 targets), an IPv6 literal URL,
#               three URLs over one connection (the server log shows one
#               peer), --max-time (exit 28), refused (7), unresolvable (6),
#               untrusted (60), bad URL (2)
#   parsing     a chunked body; a response with both Transfer-Encoding and
#               Content-Length is refused (exit 56)
#   nginx       body, -I, two URLs on one connection (nginx's $connection),
#               TLS 1.2
. "$(dirname "$0")/lib.sh"

require_tool python3 timeout setsid awk cmp sha256sum openssl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx not found (install it: make deps / scripts/install-deps.sh)"
require_latch
require_pki server-p256

ROOT=$(make_docroot)
head -c 3145728 /dev/urandom >"$ROOT/big.bin"
printf 'second %s\n' "$TOKEN" >"$ROOT/second.txt"
printf 'third %s\n' "$TOKEN" >"$ROOT/third.txt"

verdict() { if [ -z "$2" ]; then pass "$1"; else fail "$1" "${2# }" "$CLIENT_ERR" "${3:-$PEER_LOG}"; fi; }
GET=("$LATCH" get --cacert "$PKI/ca.pem")

# ---------------------------------------------------------------- peers
start_latch_serve serve server-p256 "$ROOT" || die "latch serve did not start"
SERVE_PID=$PEER_PID SERVE_PORT=$PEER_PORT SERVE_LOG=$PEER_LOG
S="https://localhost:$SERVE_PORT"

cat >"$T/echo.py" <<'EOF'
# HTTP/1.1 echo server: what it received, as JSON; a few special paths.
import hashlib, http.server, json, sys, time
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *args):
        sys.stderr.write("echo: %s\n" % (fmt % args))
        sys.stderr.flush()
    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return True
    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True
        return True
    def special(self, path):
        """Answers a special path (True), or None: echo it."""
        if path.startswith("/redirect/"):
            n = int(path.split("/")[2])
            return self.reply(302, b"moved\n", [("Location", "/redirect/%d" % (n - 1) if n > 1 else "/echo")])
        if path == "/see-other":
            return self.reply(303, b"", [("Location", "/echo?after=303")])
        if path == "/to-http":
            return self.reply(301, b"", [("Location", "http://localhost/plain")])
        if path == "/relative/start":
            return self.reply(301, b"", [("Location", "../sub/../echo?from=relative")])
        if path == "/status/404":
            return self.reply(404, b"not here\n")
        if path == "/chunked":
            return self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"6\r\nchunk-\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n")
        if path == "/smuggle":
            return self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"5\r\nhello\r\n0\r\n\r\n")
        if path == "/slow":
            time.sleep(5)
            return self.reply(200, b"slow\n")
        return None
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.special(self.path.split("?")[0]) is None and not self.wfile.closed:
            info = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                    "body": body.decode("latin-1")[:300], "body_sha256": hashlib.sha256(body).hexdigest(),
                    "body_length": len(body)}
            self.reply(200, json.dumps(info, sort_keys=True).encode() + b"\n",
                       [("Content-Type", "application/json")])
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo)
print("echo: listening on", sys.argv[1], flush=True)
server.serve_forever()
EOF
start_peer echo --ready 'echo: listening' -- python3 "$T/echo.py" @PORT@ || die "echo server did not start"
ECHO_PORT=$PEER_PORT
start_peer proxy --ready 'latch proxy: listening on' -- "$LATCH" proxy --listen "127.0.0.1:@PORT@" \
  --backend "127.0.0.1:$ECHO_PORT" --cert "$PKI/server-p256.pem" --key "$PKI/server-p256-key.pem" ||
  die "latch proxy did not start"
PROXY_LOG=$PEER_LOG
E="https://localhost:$PEER_PORT"

# json_field FILE KEY: a top-level or headers.KEY value of the echo's JSON
json_field() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=sys.argv[2]
v = d.get(k) if k in d else {h.lower(): x for h, x in d["headers"].items()}.get(k.lower())
print("" if v is None else v)' "$1" "$2" 2>/dev/null
}

# ---------------------------------------------------------------- output
run_client o /dev/null "${GET[@]}" -o "$T/o.bin" "$S/big.bin"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
cmp -s "$T/o.bin" "$ROOT/big.bin" || why="$why file differs;"
[ ! -s "$CLIENT_OUT" ] || why="$why stdout not empty;"
verdict "-o FILE: 3 MiB byte-exact, nothing on stdout" "$why"

mkdir -p "$T/dl"
run_client O /dev/null sh -c 'cd "$1" && shift && exec "$@"' sh "$T/dl" "${GET[@]}" -O "$S/big.bin?x=1"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
cmp -s "$T/dl/big.bin" "$ROOT/big.bin" || why="$why no dl/big.bin or it differs;"
verdict "-O: named after the URL's last segment (query dropped)" "$why"

run_client two-o /dev/null "${GET[@]}" -o "$T/a.txt" -o "$T/b.txt" "$S/token.txt" "$S/second.txt"
why=""; cmp -s "$T/a.txt" "$ROOT/token.txt" || why="$why first file wrong;"
cmp -s "$T/b.txt" "$ROOT/second.txt" || why="$why second file wrong;"
verdict "two URLs with two -o: each body in its file" "$why"

run_client I /dev/null "${GET[@]}" -I "$S/big.bin"
why=""; head -n1 "$CLIENT_OUT" | grep -q '^HTTP/1.1 200 OK' || why="$why first line '$(head -n1 "$CLIENT_OUT")';"
contains "$CLIENT_OUT" "Content-Length: 3145728" || why="$why no Content-Length;"
[ "$(wc -c <"$CLIENT_OUT")" -lt 1000 ] || why="$why a body was written;"
verdict "-I: HEAD, the head on stdout, no body" "$why"

run_client i /dev/null "${GET[@]}" -i "$S/token.txt"
why=""; head -n1 "$CLIENT_OUT" | grep -q '^HTTP/1.1 200 OK' || why="$why no status line;"
tail -n1 "$CLIENT_OUT" | grep -qF "$TOKEN" || why="$why no body after the head;"
verdict "-i: the head, then the body" "$why"

run_client s /dev/null "${GET[@]}" -s -o "$T/s.bin" "$S/big.bin"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
[ ! -s "$CLIENT_ERR" ] || why="$why stderr not empty: $(head -c 200 "$CLIENT_ERR");"
verdict "-s: nothing on stderr (and no progress bar off a terminal)" "$why"

# ---------------------------------------------------------------- request
run_client X /dev/null "${GET[@]}" -X PUT "$E/things/1"
why=""; [ "$(json_field "$CLIENT_OUT" method)" = PUT ] || why="$why method '$(json_field "$CLIENT_OUT" method)';"
[ "$(json_field "$CLIENT_OUT" path)" = /things/1 ] || why="$why path wrong;"
verdict "-X PUT (through latch proxy to the echo server)" "$why"

run_client H /dev/null "${GET[@]}" -H 'X-Test: one two' -H 'User-Agent: tester/1' -H 'Accept:' "$E/h"
why=""; [ "$(json_field "$CLIENT_OUT" X-Test)" = "one two" ] || why="$why X-Test '$(json_field "$CLIENT_OUT" X-Test)';"
[ "$(json_field "$CLIENT_OUT" User-Agent)" = tester/1 ] || why="$why User-Agent not replaced;"
[ -z "$(json_field "$CLIENT_OUT" Accept)" ] || why="$why Accept not removed;"
[ "$(json_field "$CLIENT_OUT" Host)" = "localhost:$PEER_PORT" ] || why="$why Host '$(json_field "$CLIENT_OUT" Host)';"
verdict "-H: added, replacing a default (User-Agent), removing one (Accept:)" "$why"

run_client H-bad /dev/null "${GET[@]}" -H 'Bad Header: x' "$E/h"
why=""; [ "$CLIENT_RC" -eq 2 ] || why="$why exit $CLIENT_RC (want 2);"
verdict "-H with an invalid name: usage error (2)" "$why"

run_client d /dev/null "${GET[@]}" -d a=1 -d 'b=two words' "$E/form"
why=""; [ "$(json_field "$CLIENT_OUT" method)" = POST ] || why="$why method '$(json_field "$CLIENT_OUT" method)';"
[ "$(json_field "$CLIENT_OUT" body)" = "a=1&b=two words" ] || why="$why body '$(json_field "$CLIENT_OUT" body)';"
[ "$(json_field "$CLIENT_OUT" Content-Type)" = application/x-www-form-urlencoded ] || why="$why Content-Type;"
verdict "-d twice: POST, joined with '&', form Content-Type" "$why"

printf 'line one\nline two\r\n' >"$T/lines.txt"
run_client d-file /dev/null "${GET[@]}" -d "@$T/lines.txt" "$E/form"
why=""; [ "$(json_field "$CLIENT_OUT" body)" = "line oneline two" ] || why="$why body '$(json_field "$CLIENT_OUT" body)';"
verdict "-d @FILE: the file with CR and LF dropped" "$why"

head -c 200000 /dev/urandom >"$T/blob.bin"
run_client data-binary /dev/null "${GET[@]}" --data-binary "@$T/blob.bin" -H 'Content-Type: application/octet-stream' \
  -X PATCH "$E/blob"
why=""; [ "$(json_field "$CLIENT_OUT" body_sha256)" = "$(sha256sum "$T/blob.bin" | cut -d' ' -f1)" ] ||
  why="$why sha256 differs (length $(json_field "$CLIENT_OUT" body_length));"
[ "$(json_field "$CLIENT_OUT" method)" = PATCH ] || why="$why method;"
[ "$(json_field "$CLIENT_OUT" Content-Type)" = application/octet-stream ] || why="$why Content-Type not replaced;"
verdict "--data-binary @FILE: 200 kB byte-exact through the proxy, -X PATCH" "$why"

run_client d-missing /dev/null "${GET[@]}" -d "@$T/no-such-file" "$E/form"
why=""; [ "$CLIENT_RC" -eq 26 ] || why="$why exit $CLIENT_RC (want 26);"
verdict "-d @FILE that cannot be read: exit 26" "$why"

# ---------------------------------------------------------------- redirects
run_client L /dev/null "${GET[@]}" -L "$E/redirect/3"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
[ "$(json_field "$CLIENT_OUT" path)" = /echo ] || why="$why ended at '$(json_field "$CLIENT_OUT" path)';"
verdict "-L: three redirects followed to the final body" "$why"

run_client L-max /dev/null "${GET[@]}" -L --max-redirs 2 "$E/redirect/3"
why=""; [ "$CLIENT_RC" -eq 47 ] || why="$why exit $CLIENT_RC (want 47);"
contains "$CLIENT_ERR" "too many redirects" || why="$why no message;"
verdict "-L --max-redirs 2 with three redirects: exit 47" "$why"

run_client L-rel /dev/null "${GET[@]}" -L "$E/relative/start"
why=""; [ "$(json_field "$CLIENT_OUT" path)" = "/echo?from=relative" ] || why="$why ended at '$(json_field "$CLIENT_OUT" path)';"
verdict "-L: a relative Location (../sub/../echo) resolved against the URL" "$why"

run_client L-303 /dev/null "${GET[@]}" -L -d x=1 "$E/see-other"
why=""; [ "$(json_field "$CLIENT_OUT" method)" = GET ] || why="$why method '$(json_field "$CLIENT_OUT" method)';"
[ "$(json_field "$CLIENT_OUT" body_length)" = 0 ] || why="$why the body followed;"
verdict "-L: 303 after POST continues with GET and no body" "$why"

run_client L-http /dev/null "${GET[@]}" -L "$E/to-http"
why=""; [ "$CLIENT_RC" -eq 1 ] || why="$why exit $CLIENT_RC (want 1);"
contains "$CLIENT_ERR" "refusing to follow the redirect to http://localhost/plain" || why="$why no clear message;"
verdict "-L: a redirect to http:// is refused with a clear message (exit 1)" "$why"

run_client no-L /dev/null "${GET[@]}" "$E/redirect/1"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
[ "$(cat "$CLIENT_OUT")" = moved ] || why="$why body '$(head -c 50 "$CLIENT_OUT")';"
verdict "without -L: the redirect response itself" "$why"

# ---------------------------------------------------------------- status
run_client fail /dev/null "${GET[@]}" --fail "$E/status/404"
why=""; [ "$CLIENT_RC" -eq 22 ] || why="$why exit $CLIENT_RC (want 22);"
[ ! -s "$CLIENT_OUT" ] || why="$why body written;"
verdict "--fail on 404: exit 22, no body" "$why"

run_client nofail /dev/null "${GET[@]}" "$E/status/404"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC (want 0);"
[ "$(cat "$CLIENT_OUT")" = "not here" ] || why="$why body '$(head -c 50 "$CLIENT_OUT")';"
verdict "404 without --fail: the body, exit 0 (as curl)" "$why"

# ---------------------------------------------------------------- connection
run_client connect-to /dev/null "${GET[@]}" --connect-to "localhost:1:127.0.0.1:$SERVE_PORT" \
  "https://localhost:1/token.txt"
why=""; [ "$CLIENT_RC" -eq 0 ] && cmp -s "$CLIENT_OUT" "$ROOT/token.txt" || why="$why exit $CLIENT_RC;"
verdict "--connect-to localhost:1:127.0.0.1:PORT (SNI and name still localhost)" "$why"

start_peer serve6 --ready 'latch serve: listening on' -- "$LATCH" serve --listen "[::1]:@PORT@" \
  --cert "$PKI/server-p256.pem" --key "$PKI/server-p256-key.pem" "$ROOT" || die "latch serve on [::1] did not start"
V6_PORT=$PEER_PORT
run_client v6-literal /dev/null "${GET[@]}" "https://[::1]:$V6_PORT/token.txt"
why=""; [ "$CLIENT_RC" -eq 0 ] && cmp -s "$CLIENT_OUT" "$ROOT/token.txt" || why="$why exit $CLIENT_RC;"
verdict "IPv6 literal URL https://[::1]:PORT/ (certificate IP ::1)" "$why"
run_client v6-connect-to /dev/null "${GET[@]}" --connect-to "localhost::[::1]:$V6_PORT" \
  "https://localhost:8443/token.txt"
why=""; [ "$CLIENT_RC" -eq 0 ] && cmp -s "$CLIENT_OUT" "$ROOT/token.txt" || why="$why exit $CLIENT_RC;"
verdict "--connect-to localhost::[::1]:PORT (IPv6 target, any port)" "$why"

run_client reuse /dev/null "${GET[@]}" "$S/token.txt" "$S/second.txt" "$S/third.txt"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
cat "$ROOT/token.txt" "$ROOT/second.txt" "$ROOT/third.txt" | cmp -s - "$CLIENT_OUT" || why="$why bodies wrong;"
peers=$(grep -E '"GET /(token|second|third)\.txt' "$SERVE_LOG" | tail -n 3 | awk '{print $2}' | sort -u)
[ "$(echo "$peers" | grep -c .)" -eq 1 ] || why="$why the server saw $(echo "$peers" | grep -c .) peers: $peers;"
verdict "three URLs, one connection (the server log shows one peer)" "$why" "$SERVE_LOG"

start=$SECONDS
run_client max-time /dev/null "${GET[@]}" --max-time 1 "$E/slow"
why=""; [ "$CLIENT_RC" -eq 28 ] || why="$why exit $CLIENT_RC (want 28);"
[ $((SECONDS - start)) -le 3 ] || why="$why took $((SECONDS - start)) s;"
verdict "--max-time 1 against a 5 s response: exit 28" "$why"

closed=$(free_port)
run_client refused /dev/null "${GET[@]}" "https://127.0.0.1:$closed/"
why=""; [ "$CLIENT_RC" -eq 7 ] || why="$why exit $CLIENT_RC (want 7);"
verdict "connection refused: exit 7" "$why"
run_client resolve /dev/null "${GET[@]}" "https://no-such-host.invalid/"
why=""; [ "$CLIENT_RC" -eq 6 ] || why="$why exit $CLIENT_RC (want 6);"
verdict "unresolvable host: exit 6" "$why"
run_client untrusted /dev/null "$LATCH" get "$S/token.txt"
why=""; [ "$CLIENT_RC" -eq 60 ] || why="$why exit $CLIENT_RC (want 60);"
verdict "certificate not trusted (no --cacert): exit 60" "$why"
run_client bad-url /dev/null "${GET[@]}" "http://localhost:$SERVE_PORT/"
why=""; [ "$CLIENT_RC" -eq 2 ] || why="$why exit $CLIENT_RC (want 2);"
contains "$CLIENT_ERR" "only https://" || why="$why no clear message;"
verdict "an http:// URL: usage error (2) saying only https://" "$why"

# ---------------------------------------------------------------- parsing
run_client chunked /dev/null "${GET[@]}" "$E/chunked"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
[ "$(cat "$CLIENT_OUT")" = "chunk-0123456789abcdef" ] || why="$why body '$(head -c 60 "$CLIENT_OUT")';"
verdict "chunked body with an extension and a trailer" "$why"

run_client smuggle /dev/null "${GET[@]}" "$E/smuggle"
why=""; [ "$CLIENT_RC" -eq 56 ] || why="$why exit $CLIENT_RC (want 56);"
contains "$CLIENT_ERR" "both Transfer-Encoding and Content-Length" || why="$why no reason;"
verdict "Transfer-Encoding with Content-Length: refused (exit 56)" "$why"

# ---------------------------------------------------------------- nginx
mkdir -p "$T/nginx-tmp"
cat >"$T/nginx.conf.in" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $T/nginx-error.log info;
pid $T/nginx.pid;
events { worker_connections 64; }
http {
  log_format conn '\$connection \$request \$status';
  access_log $T/nginx-access.log conn;
  client_body_temp_path $T/nginx-tmp/body;
  proxy_temp_path $T/nginx-tmp/proxy;
  fastcgi_temp_path $T/nginx-tmp/fastcgi;
  uwsgi_temp_path $T/nginx-tmp/uwsgi;
  scgi_temp_path $T/nginx-tmp/scgi;
  types { text/plain txt; application/octet-stream bin; }
  server {
    listen 127.0.0.1:__PORT__ ssl;
    ssl_certificate $PKI/server-p256.pem;
    ssl_certificate_key $PKI/server-p256-key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $ROOT;
    keepalive_timeout 10;
  }
}
EOF
if start_peer nginx -- sh -c 'sed "s/__PORT__/$1/" "$2.in" >"$2" && exec "$3" -p "$4" -c "$2"' sh @PORT@ \
     "$T/nginx.conf" "$NGINX" "$T"; then
  N="https://localhost:$PEER_PORT"
  run_client nginx /dev/null "${GET[@]}" "$N/big.bin"
  why=""; [ "$CLIENT_RC" -eq 0 ] && cmp -s "$CLIENT_OUT" "$ROOT/big.bin" || why="$why exit $CLIENT_RC or body differs;"
  verdict "nginx over TLS: 3 MiB byte-exact" "$why" "$T/nginx-error.log"
  run_client nginx-I /dev/null "${GET[@]}" -I "$N/token.txt"
  why=""; matches "$CLIENT_OUT" '^Server: nginx' || why="$why no 'Server: nginx';"
  verdict "nginx: -I shows its head" "$why" "$T/nginx-error.log"
  run_client nginx-reuse /dev/null "${GET[@]}" "$N/token.txt" "$N/second.txt"
  why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why exit $CLIENT_RC;"
  conns=$(grep -E 'GET /(token|second)\.txt' "$T/nginx-access.log" | tail -n 2 | awk '{print $1}' | sort -u | grep -c .)
  [ "$conns" -eq 1 ] || why="$why nginx saw $conns connections;"
  verdict "nginx: two URLs on one connection (\$connection the same)" "$why" "$T/nginx-access.log"
  run_client nginx-12 /dev/null "${GET[@]}" --tls-max 1.2 -v "$N/token.txt"
  why=""; [ "$CLIENT_RC" -eq 0 ] && cmp -s "$CLIENT_OUT" "$ROOT/token.txt" || why="$why exit $CLIENT_RC;"
  contains "$CLIENT_ERR" "TLS version: TLSv1.2" || why="$why not TLS 1.2;"
  verdict "nginx: TLS 1.2" "$why" "$T/nginx-error.log"
else
  fail "nginx did not start" "" "$PEER_LOG" "$T/nginx-error.log"
fi

stop_latch_serve serve "$SERVE_PID" --expect-failures
summary
