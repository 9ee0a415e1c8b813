#!/usr/bin/env bash
# latch proxy: TLS termination in front of plain TCP backends.
#   http        python3 -m http.server behind latch proxy, reached by curl:
#               a 5 MiB binary byte-exact, HEAD, 404 passed through, two URLs,
#               TLS 1.2 and 1.3; latch get through it
#   transparent a TCP echo backend: 1 MiB of random bytes from a TLS client
#               come back byte for byte
#   half-close  client close_notify -> the backend sees EOF after every byte;
#               TLS 1.3: what the backend answers after that EOF still reaches
#               the client (RFC 8446 6.1);
#               backend EOF -> the client gets close_notify and may still send
#               (the backend receives what it sent after)
#   failure     backend down: the client's connection ends, the proxy says
#               why and goes on serving
#   engine      a client stalled mid-handshake is dropped after
#               --handshake-timeout; SIGTERM stops cleanly
. "$(dirname "$0")/lib.sh"

require_tool curl python3 timeout setsid cmp sha256sum
require_latch
require_pki server-p256

ROOT=$(make_docroot)
head -c 5242880 /dev/urandom >"$ROOT/blob.bin"
verdict() { if [ -z "$2" ]; then pass "$1"; else fail "$1" "${2# }" "$CLIENT_ERR" "${3:-$PROXY_LOG}"; fi; }
CURL=(curl -sS --cacert "$PKI/ca.pem")

# start_proxy NAME BACKEND_PORT [OPTIONS]: latch proxy on a free port
start_proxy() {
  local name=$1 backend=$2; shift 2
  start_peer "$name" --ready 'latch proxy: listening on' -- "$LATCH" proxy --listen "127.0.0.1:@PORT@" \
    --backend "127.0.0.1:$backend" --cert "$PKI/server-p256.pem" --key "$PKI/server-p256-key.pem" "$@"
}

# ---------------------------------------------------------------- http
start_peer http --cwd "$ROOT" -- python3 -m http.server --bind 127.0.0.1 @PORT@ ||
  die "python3 -m http.server did not start"
HTTP_PORT=$PEER_PORT
start_proxy proxy "$HTTP_PORT" --handshake-timeout 2 || die "latch proxy did not start"
PROXY_PID=$PEER_PID PROXY_PORT=$PEER_PORT PROXY_LOG=$PEER_LOG
P="https://localhost:$PROXY_PORT"

run_client blob /dev/null "${CURL[@]}" -o "$T/blob.out" "$P/blob.bin"
why=""; [ "$CLIENT_RC" -eq 0 ] || why="$why curl exit $CLIENT_RC;"
cmp -s "$T/blob.out" "$ROOT/blob.bin" || why="$why 5 MiB differ;"
verdict "curl -> latch proxy -> http.server: 5 MiB binary byte-exact" "$why"

run_client blob12 /dev/null "${CURL[@]}" --tls-max 1.2 -o "$T/blob12.out" "$P/blob.bin"
why=""; cmp -s "$T/blob12.out" "$ROOT/blob.bin" || why="$why exit $CLIENT_RC, differs;"
verdict "the same over TLS 1.2" "$why"

run_client head /dev/null "${CURL[@]}" -I "$P/blob.bin"
why=""; matches "$CLIENT_OUT" '^HTTP/1\.[01] 200' || why="$why no 200;"
matches "$CLIENT_OUT" '^Server: SimpleHTTP' || why="$why not the backend's head;"
contains "$CLIENT_OUT" "Content-length: 5242880" || contains "$CLIENT_OUT" "Content-Length: 5242880" ||
  why="$why Content-Length;"
verdict "HEAD passes through (the backend's own head)" "$why"

run_client notfound /dev/null "${CURL[@]}" -o /dev/null -w '%{http_code}' "$P/nope"
why=""; [ "$(cat "$CLIENT_OUT")" = 404 ] || why="$why status '$(cat "$CLIENT_OUT")';"
verdict "404 from the backend passes through" "$why"

run_client two /dev/null "${CURL[@]}" "$P/token.txt" "$P/token.txt"
why=""; [ "$(grep -c "$TOKEN" "$CLIENT_OUT")" -eq 2 ] || why="$why exit $CLIENT_RC;"
verdict "two URLs in one curl run" "$why"

run_client latch-get /dev/null "$LATCH" get --cacert "$PKI/ca.pem" -o "$T/latch.out" "$P/blob.bin"
why=""; [ "$CLIENT_RC" -eq 0 ] && cmp -s "$T/latch.out" "$ROOT/blob.bin" || why="$why exit $CLIENT_RC;"
verdict "latch get -> latch proxy: 5 MiB byte-exact" "$why"

# ---------------------------------------------------------------- backends
cat >"$T/backends.py" <<'EOF'
# Plain TCP backends: echo (every byte back), sink (digest of all bytes until
# EOF, to a file), responder (after EOF: the digest and 300 kB, then EOF),
# greeter (a greeting, shutdown(SHUT_WR), then records what still arrives).
import hashlib, socket, sys, threading
kind, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
print(kind, "listening on", port, flush=True)
def digest_until_eof(conn):
    digest, total = hashlib.sha256(), 0
    while True:
        data = conn.recv(65536)
        if not data:
            return total, digest.hexdigest()
        digest.update(data)
        total += len(data)
def serve(conn):
    if kind == "echo":
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
    elif kind == "sink":
        open(out, "w").write("%d %s EOF\n" % digest_until_eof(conn))
    elif kind == "responder":
        conn.sendall(("after your EOF: %d %s\n" % digest_until_eof(conn)).encode())
        conn.sendall(b"x" * 300000)
        conn.shutdown(socket.SHUT_WR)
    else:
        conn.sendall(b"hello from the backend\n")
        conn.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            data = conn.recv(65536)
            if not data:
                break
            got += data
        open(out, "w").write("after our EOF: %r\n" % got)
    conn.close()
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
cat >"$T/client.py" <<'EOF'
# TLS clients for the half-close cases.
import hashlib, os, socket, ssl, sys
mode, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.settimeout(20)
if mode == "echo":
    data = os.urandom(1048576)
    back = bytearray()
    for i in range(0, len(data), 65536):
        s.sendall(data[i:i + 65536])
        while len(back) < min(len(data), i + 65536):
            back += s.recv(65536)
    print("echo %s" % ("equal" if bytes(back) == data else "DIFFERENT (%d bytes)" % len(back)))
elif mode == "sink":
    data = os.urandom(3000000)
    s.sendall(data)
    s.unwrap()  # close_notify (answered by the proxy's)
    print("sent %d %s" % (len(data), hashlib.sha256(data).hexdigest()))
elif mode == "request":
    # TLS 1.3 half-close (RFC 8446 6.1): send, close_notify (our write side
    # only), then read the answer the backend gives after its EOF.  A memory
    # BIO, since SSLSocket.unwrap() would wait for the peer's close_notify.
    s.close()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    raw = socket.create_connection(("127.0.0.1", port))
    raw.settimeout(20)
    def flush():
        data = out.read()
        if data:
            raw.sendall(data)
    def fill():
        data = raw.recv(65536)
        if data:
            inc.write(data)
        else:
            inc.write_eof()
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush(); fill()
    flush()
    data = os.urandom(200000)
    tls.write(data)
    flush()
    try:
        tls.unwrap()
    except ssl.SSLWantReadError:
        pass
    flush()
    got = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:
                break
            got += chunk
        except ssl.SSLWantReadError:
            fill()
        except ssl.SSLZeroReturnError:
            break
    print("%s sent %d %s" % (tls.version(), len(data), hashlib.sha256(data).hexdigest()))
    print("answer %s, then %d bytes" % (got.split(b"\n")[0].decode(), len(got) - len(got.split(b"\n")[0]) - 1))
else:
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break  # close_notify: the backend's EOF
        got += chunk
    print("received %r then close_notify" % got)
    s.sendall(b"sent after the close_notify\n")
    s.unwrap()
    print("sent after close_notify")
EOF

start_peer echo-backend --ready 'listening on' -- python3 "$T/backends.py" echo @PORT@ - ||
  die "echo backend did not start"
start_proxy proxy-echo "$PEER_PORT" || die "latch proxy (echo) did not start"
ECHO_PROXY_LOG=$PEER_LOG
run_client echo /dev/null python3 "$T/client.py" echo "$PEER_PORT" "$PKI/ca.pem"
why=""; contains "$CLIENT_OUT" "echo equal" || why="$why $(cat "$CLIENT_OUT");"
verdict "byte-transparent both ways: 1 MiB random through a TCP echo backend" "$why" "$ECHO_PROXY_LOG"

start_peer sink-backend --ready 'listening on' -- python3 "$T/backends.py" sink @PORT@ "$T/sink.txt" ||
  die "sink backend did not start"
start_proxy proxy-sink "$PEER_PORT" || die "latch proxy (sink) did not start"
SINK_PROXY_LOG=$PEER_LOG
run_client sink /dev/null python3 "$T/client.py" sink "$PEER_PORT" "$PKI/ca.pem"
for _ in $(seq 1 50); do [ -s "$T/sink.txt" ] && break; sleep 0.1; done
why=""; sent=$(sed -n 's/^sent //p' "$CLIENT_OUT")
[ -n "$sent" ] || why="$why client: $(cat "$CLIENT_OUT" "$CLIENT_ERR" | head -c 300);"
[ -s "$T/sink.txt" ] && [ "$(cat "$T/sink.txt")" = "$sent EOF" ] || why="$why backend saw '$(cat "$T/sink.txt" 2>/dev/null)';"
verdict "half-close: client close_notify -> backend EOF after all 3 MB" "$why" "$SINK_PROXY_LOG"

start_peer responder-backend --ready 'listening on' -- python3 "$T/backends.py" responder @PORT@ - ||
  die "responder backend did not start"
start_proxy proxy-responder "$PEER_PORT" || die "latch proxy (responder) did not start"
run_client request /dev/null python3 "$T/client.py" request "$PEER_PORT" "$PKI/ca.pem"
why=""; sent=$(sed -n 's/^TLSv1.3 sent //p' "$CLIENT_OUT")
[ -n "$sent" ] || why="$why client: $(cat "$CLIENT_OUT" "$CLIENT_ERR" | head -c 300);"
contains "$CLIENT_OUT" "answer after your EOF: $sent, then 300000 bytes" ||
  why="$why client got: $(tail -n 1 "$CLIENT_OUT");"
verdict "half-close, TLS 1.3: client close_notify -> backend EOF; the backend's answer still reaches the client" \
  "$why" "$PEER_LOG"

start_peer greeter-backend --ready 'listening on' -- python3 "$T/backends.py" greeter @PORT@ "$T/greeter.txt" ||
  die "greeter backend did not start"
start_proxy proxy-greeter "$PEER_PORT" || die "latch proxy (greeter) did not start"
GREETER_PROXY_LOG=$PEER_LOG
run_client greeter /dev/null python3 "$T/client.py" greeter "$PEER_PORT" "$PKI/ca.pem"
for _ in $(seq 1 50); do [ -s "$T/greeter.txt" ] && break; sleep 0.1; done
why=""
contains "$CLIENT_OUT" "received b'hello from the backend\\n' then close_notify" || why="$why client: $(head -c 200 "$CLIENT_OUT");"
contains "$T/greeter.txt" "sent after the close_notify" || why="$why backend saw '$(cat "$T/greeter.txt" 2>/dev/null)';"
verdict "half-close: backend EOF -> client close_notify; the client still sends, the backend gets it" \
  "$why" "$GREETER_PROXY_LOG"

# ---------------------------------------------------------------- failure
down=$(free_port)
start_proxy proxy-down "$down" || die "latch proxy (down) did not start"
DOWN_PID=$PEER_PID DOWN_LOG=$PEER_LOG
run_client down /dev/null "${CURL[@]}" "https://localhost:$PEER_PORT/token.txt"
why=""; [ "$CLIENT_RC" -ne 0 ] || why="$why curl succeeded;"
for _ in $(seq 1 20); do matches "$DOWN_LOG" 'backend .*connect' && break; sleep 0.1; done
matches "$DOWN_LOG" "backend 127\.0\.0\.1:$down: connect: Connection refused" || why="$why the proxy log does not say why;"
kill -0 "$DOWN_PID" 2>/dev/null || why="$why the proxy died;"
verdict "backend down: the client's connection ends, the proxy logs the reason and keeps running" "$why" "$DOWN_LOG"

# ---------------------------------------------------------------- engine
start=$SECONDS
exec {stall}<>"/dev/tcp/127.0.0.1/$PROXY_PORT"
printf '\x16\x03\x01\x01\x00' >&"$stall"
dropped=0
if timeout 8 cat <&"$stall" >/dev/null; then dropped=1; fi
exec {stall}>&-
why=""; [ "$dropped" -eq 1 ] || why="$why not dropped within 8 s;"
[ $((SECONDS - start)) -ge 1 ] || why="$why dropped too early;"
run_client after-stall /dev/null "${CURL[@]}" "$P/token.txt"
contains "$CLIENT_OUT" "$TOKEN" || why="$why not serving afterwards;"
verdict "a client stalled mid-handshake is dropped after --handshake-timeout (2 s)" "$why"

if matches "$PROXY_LOG" 'proxy: 127\.0\.0\.1:[0-9]+: closed after [0-9]+ ms: [0-9]+ bytes up, 52[0-9]{5} bytes down'; then
  pass "per-connection log line with bytes each way"
else
  fail "per-connection log line with bytes each way" "" "$PROXY_LOG"
fi
stop_latch_serve proxy "$PROXY_PID" --expect-failures
summary
