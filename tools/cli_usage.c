/* latch: the help texts of every command, laid out like man pages:
 * NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, EXAMPLES. */
#include "cli.h"

void cli_usage(FILE *out)
{
    fputs("usage: latch COMMAND [OPTIONS] [ARGUMENTS]\n"
          "\n"
          "NAME\n"
          "    latch - HTTPS over latch's own TLS 1.2/1.3 stack\n"
          "\n"
          "SYNOPSIS\n"
          "    latch COMMAND [OPTIONS] [ARGUMENTS]\n"
          "\n"
          "COMMANDS\n"
          "    get URL...     fetch https:// URLs over HTTP/1.1, curl-like (-o, -L, -d...)\n"
          "    trace URL      connect, handshake, send a HEAD request and show how the\n"
          "                   connection went: a message table, then a latency timeline\n"
          "    serve [DIR]    serve static files over HTTPS (default DIR: .)\n"
          "    proxy          terminate TLS in front of a plain TCP backend\n"
          "    verify CERT    check a certificate chain offline as the client would\n"
          "    demo           run the whole stack once on this machine, no arguments\n"
          "    help [COMMAND] show this text, or a command's\n"
          "\n"
          "    Run 'latch COMMAND --help' (or 'latch help COMMAND') for the options,\n"
          "    exit codes and examples of a command.\n"
          "\n"
          "EXAMPLES\n"
          "    latch demo\n"
          "    latch get https://example.com/\n"
          "    latch serve --cert cert.pem --key key.pem --listen 0.0.0.0:8443 ./public\n",
          out);
}

static void usage_tls_options(FILE *out)
{
    fputs("  TLS\n"
          "    --profile P          security profile after Mozilla's server-side TLS\n"
          "                         guidelines, applied first; the options below refine it\n"
          "                         modern: TLS 1.3 only (AES-GCM, ChaCha20-Poly1305)\n"
          "                         intermediate (the default): TLS 1.2 and 1.3, ECDHE\n"
          "                           with AEAD suites only: every suite forward secret\n"
          "                           and authenticated, TLS 1.2 kept for clients without\n"
          "                           1.3\n"
          "                         old: intermediate plus RSA key exchange, the AES-CBC\n"
          "                           suites (encrypt-then-MAC offered and preferred) and\n"
          "                           SHA-1 signatures for TLS 1.2 peers that send no\n"
          "                           signature_algorithms\n"
          "                         No profile has SSL 3.0, TLS 1.0/1.1, RC4, 3DES, NULL,\n"
          "                         EXPORT, anonymous or MD5 suites, or compression.\n"
          "    --ciphers LIST       cipher suites in preference order (IANA names, ',' or\n"
          "                         ':'), replacing the profile's list; RSA key exchange\n"
          "                         suites may be named, AES-CBC ones only with\n"
          "                         --profile old; RC4, 3DES, NULL, EXPORT, MD5 are\n"
          "                         refused\n"
          "    --groups LIST        key exchange groups: x25519, secp256r1, secp384r1\n"
          "    --tls-min V          lowest TLS version: 1.2 or 1.3 (1.0/1.1 are refused)\n"
          "    --tls-max V          highest TLS version: 1.2 or 1.3\n"
          "    --alpn LIST          ALPN protocols, comma-separated (e.g. http/1.1)\n"
          "    -h, --help           show this text\n",
          out);
}

/* The options latch get and latch trace share. */
static void usage_client_options(FILE *out)
{
    fputs("  Trust and identity\n"
          "    --cacert FILE        trust anchors (PEM) instead of the system store\n"
          "    --capath DIR         directory of trust anchors\n"
          "    -k, --insecure       do not verify the server certificate (dangerous)\n"
          "    --cert FILE          client certificate chain, leaf first, for mutual TLS\n"
          "    --key FILE           private key of --cert\n"
          "    --session FILE       offer the session saved in FILE (if it exists) and\n"
          "                         save the new one there afterwards (mode 0600; keep it\n"
          "                         secret)\n"
          "    --keylog FILE        append the TLS secrets to FILE in NSS key log format,\n"
          "                         for Wireshark (default: $SSLKEYLOGFILE when set)\n",
          out);
}

static void usage_client_exit_codes(FILE *out)
{
    fputs("\nEXIT STATUS\n"
          "    0   success (also for an HTTP error status without --fail, as curl)\n"
          "    1   other failure (e.g. a redirect to http://, refused)\n"
          "    2   usage: bad option, URL or value\n"
          "    6   the host name could not be resolved\n"
          "    7   the TCP connection failed\n"
          "    22  HTTP status >= 400 with --fail\n"
          "    23  writing the output failed (-o, -O, stdout)\n"
          "    26  reading -d @FILE failed\n"
          "    28  --max-time expired\n"
          "    35  the TLS handshake failed (also a TLS 1.3 server refusing us right\n"
          "        after it)\n"
          "    47  too many redirects (--max-redirs)\n"
          "    56  receiving failed: connection lost, malformed or truncated response\n"
          "    60  the server certificate is not trusted (chain, name, dates, usage)\n",
          out);
}

static void usage_get_output(FILE *out)
{
    fputs("  Request and output\n"
          "    -o, --output FILE    write the body to FILE (the Nth -o goes with the Nth\n"
          "                         URL; URLs without one write to stdout)\n"
          "    -O, --remote-name    write the body to a file named as the URL's last path\n"
          "                         segment, in the current directory\n"
          "    -I, --head           send HEAD and print the response head\n"
          "    -i, --include        print the response head before the body\n"
          "    -X, --request METHOD use METHOD (default GET; POST with -d)\n"
          "    -H, --header LINE    add 'Name: value' (repeatable); replaces a default\n"
          "                         header of the same name (Host, User-Agent, Accept);\n"
          "                         'Name:' alone removes it\n"
          "    -d, --data DATA      send DATA as a POST body (application/x-www-form-\n"
          "                         urlencoded); repeated -d are joined with '&'; @FILE\n"
          "                         reads FILE (CR and LF dropped), @- reads stdin\n"
          "    --data-binary DATA   as -d, but @FILE is sent byte for byte\n"
          "    -L, --location       follow 301/302/303/307/308 redirects (303, and 301/302\n"
          "                         after POST, become GET); Authorization and Cookie\n"
          "                         headers are dropped when the host changes; a redirect\n"
          "                         to http:// is refused (latch speaks only HTTPS)\n"
          "    --max-redirs N       at most N redirects (default 10), then exit 47\n"
          "    -f, --fail           exit 22 on an HTTP status >= 400, without writing the\n"
          "                         body (without it the body is written and the exit is 0)\n"
          "    -s, --silent         no progress bar and no notes; errors are still printed\n"
          "    -v, --verbose        print the connection, the TLS parameters (version,\n"
          "                         suite, group, ALPN, resumed) and the heads to stderr\n",
          out);
}

static void usage_get_connection(FILE *out)
{
    fputs("  Connection\n"
          "    --connect-to H:P:A:Q connect to A:Q for URLs whose host and port are H:P (an\n"
          "                         empty H or P matches any; an empty A or Q keeps the\n"
          "                         URL's; IPv6 in brackets); SNI, Host and the certificate\n"
          "                         check still use the URL's name.  Repeatable\n"
          "    --connect-timeout S  bound each TCP connect to S seconds (default 15)\n"
          "    -m, --max-time S     bound the whole run to S seconds (fractions allowed):\n"
          "                         resolution, connects, transfers; then exit 28\n"
          "    --reconnect N        after the fetch, connect N more times, each offering\n"
          "                         the latest session (bodies discarded), and report how\n"
          "                         many resumed: \"latch: resumed K of N reconnections\"\n"
          "    --trace[=FORMAT]     trace each connection to stderr: table (default),\n"
          "                         timeline or json (see docs/TRACE.md); as root the TCP\n"
          "                         segments and states too\n"
          "    --rtt-report         the round trips per phase to stderr (TCP handshake, TLS\n"
          "                         handshake, HTTP request to first byte)\n",
          out);
}

void cli_usage_get(FILE *out)
{
    fputs("NAME\n"
          "    latch get - fetch https:// URLs over HTTP/1.1, the curl way\n"
          "\n"
          "SYNOPSIS\n"
          "    latch get [OPTIONS] https://HOST[:PORT][/PATH] ...\n"
          "\n"
          "DESCRIPTION\n"
          "    Fetches each URL in turn; bodies go to stdout unless -o/-O say otherwise.\n"
          "    The server certificate is verified against the system store (or --cacert)\n"
          "    and the host name.  Consecutive URLs on the same host and port share one\n"
          "    connection while the server keeps it open.  Content-Length, chunked and\n"
          "    close-delimited bodies are read strictly (a response with both\n"
          "    Transfer-Encoding and Content-Length, or a truncated one, is an error).\n"
          "    IPv6 literals go in brackets: https://[::1]:8443/.  The default port is 443.\n"
          "    Large downloads draw a progress bar on stderr when it is a terminal.\n"
          "    With several URLs the exit status is the last one's (as curl).\n"
          "\n"
          "OPTIONS\n",
          out);
    usage_get_output(out);
    usage_get_connection(out);
    usage_client_options(out);
    usage_tls_options(out);
    usage_client_exit_codes(out);
    fputs("\nEXAMPLES\n"
          "    latch get https://example.com/\n"
          "    latch get -o page.html -L https://example.com/docs\n"
          "    latch get -O https://example.com/files/archive.tar.gz\n"
          "    latch get -I https://example.com/\n"
          "    latch get -X PUT -H 'Content-Type: application/json' -d @doc.json \\\n"
          "              https://api.example.com/docs/1\n"
          "    latch get --fail --max-time 10 https://example.com/health\n"
          "    latch get --connect-to example.com:443:127.0.0.1:8443 https://example.com/\n"
          "    latch get --cacert ca.pem https://localhost:8443/a https://localhost:8443/b\n",
          out);
}

void cli_usage_trace(FILE *out)
{
    fputs("NAME\n"
          "    latch trace - show how one HTTPS connection goes, message by message\n"
          "\n"
          "SYNOPSIS\n"
          "    latch trace [OPTIONS] https://HOST[:PORT][/PATH]\n"
          "\n"
          "DESCRIPTION\n"
          "    Connects to URL, runs the TLS handshake and sends an HTTP/1.1 HEAD request;\n"
          "    prints every message (a table), then where the time went (a timeline:\n"
          "    DNS, TCP connect, each flight, first byte, close).  No body.\n"
          "    Run as root (CAP_NET_RAW), the TCP segments of the connection are shown\n"
          "    too, with each side's TCP state; without, what TCP_INFO reports.\n"
          "\n"
          "OPTIONS\n",
          out);
    usage_client_options(out);
    fputs("    --rtt-report         then the round trips per phase: TCP handshake, TLS\n"
          "                         handshake, HTTP request to first byte\n",
          out);
    usage_tls_options(out);
    usage_client_exit_codes(out);
    fputs("\nEXAMPLES\n"
          "    latch trace https://example.com/\n"
          "    latch trace --tls-max 1.2 --cacert ca.pem https://localhost:8443/\n",
          out);
}

/* Options latch serve and latch proxy share. */
static void usage_server_options(FILE *out)
{
    fputs("  Listening and certificates\n"
          "    --listen ADDR:PORT   address to listen on (default 127.0.0.1:8443;\n"
          "                         [::1]:8443 for IPv6, :8443 for every address,\n"
          "                         port 0 picks a free port)\n"
          "    --cert FILE          certificate chain, leaf first (PEM or DER)\n"
          "    --key FILE           private key of the preceding --cert (repeat --cert and\n"
          "                         --key for several, e.g. ECDSA and RSA: the server picks\n"
          "                         one by the client's suites, signatures and SNI)\n"
          "    --client-ca FILE     ask clients for a certificate issued under FILE (PEM);\n"
          "                         log lines name the client\n"
          "    --verify-client M    optional (serve clients without one, logged as\n"
          "                         anonymous) or require (the default with --client-ca)\n"
          "  Sessions\n"
          "    --ticket-key FILE    session ticket key, nginx's ssl_session_ticket_key\n"
          "                         format (80 or 48 bytes, e.g. openssl rand 80 > FILE);\n"
          "                         repeatable: the first seals, all open.  Servers\n"
          "                         sharing a key resume each other's sessions.  Without\n"
          "                         it a random key is made at start\n"
          "    --no-tickets         issue no session tickets (TLS 1.2 session IDs remain)\n"
          "    --session-cache N    TLS 1.2 session-ID cache entries (default 1024; 0: off)\n"
          "    --keylog FILE        append the TLS secrets to FILE in NSS key log format\n"
          "                         (default: $SSLKEYLOGFILE when set)\n"
          "    --trace[=FORMAT]     trace every connection to stderr, labelled \"conn N\":\n"
          "                         table (default), timeline or json\n",
          out);
}

static void usage_engine_options(FILE *out)
{
    fputs("  Engine, limits and timeouts\n"
          "    --workers N          worker threads, each with its own epoll loop and\n"
          "                         SO_REUSEPORT socket (default: one per CPU core)\n"
          "    --max-connections N  open connections at most, over all workers (default\n"
          "                         10000, fewer if the descriptor limit is lower); beyond\n"
          "                         it new connections are closed at once\n"
          "    --handshake-timeout S  a client has S seconds from accept to finish its\n"
          "                         handshake (default 10)\n"
          "    --idle-timeout S     close a connection idle for S seconds (default 60),\n"
          "                         with close_notify\n"
          "    --shutdown-timeout S on SIGTERM/SIGINT, wait at most S seconds for work in\n"
          "                         flight (default 10)\n"
          "    -q, --quiet          no line per request or connection on stderr\n",
          out);
}

static void usage_server_signals(FILE *out, const char *what)
{
    fprintf(out,
            "\nSIGNALS\n"
            "    SIGTERM, SIGINT  stop gracefully: stop accepting, finish %s,\n"
            "                     send close_notify, exit 0; a second signal stops at once\n"
            "    SIGHUP           re-read the --ticket-key files (and reopen --access-log)\n"
            "                     for new connections; open ones keep their configuration\n",
            what);
}

void cli_usage_serve(FILE *out)
{
    fputs("NAME\n"
          "    latch serve - a static-file HTTPS server\n"
          "\n"
          "SYNOPSIS\n"
          "    latch serve [OPTIONS] --cert FILE --key FILE [DIR]\n"
          "\n"
          "DESCRIPTION\n"
          "    Serves the files under DIR (default .) over HTTPS with HTTP/1.1 (RFC 9110,\n"
          "    9112): GET and HEAD; keep-alive; pipelined requests answered in order;\n"
          "    Content-Type by extension; index.html for a directory, never a listing;\n"
          "    ETag and Last-Modified with 304 for If-None-Match / If-Modified-Since;\n"
          "    one byte range per request (206 with Content-Range, 416 when it cannot be\n"
          "    met); small error bodies for 400, 403, 404, 405, 408, 413, 414, 416, 431,\n"
          "    501, 505.  No path leaves DIR: '..', '%2e%2e' and symlinks pointing out\n"
          "    are refused (403).  Files are streamed a chunk at a time, in bounded\n"
          "    memory.  One line per request on stderr (and per failed handshake).\n"
          "\n"
          "OPTIONS\n",
          out);
    usage_server_options(out);
    usage_engine_options(out);
    fputs("  HTTP\n"
          "    --request-timeout S  a request head must arrive within S seconds of its\n"
          "                         first byte (default 30), else 408 and close\n"
          "    --max-header-size N  request line and headers at most N bytes (default\n"
          "                         16384, 1024 to 65536): a longer request line is 414,\n"
          "                         longer headers 431\n"
          "    --max-body-size N    request bodies (read and skipped) at most N bytes\n"
          "                         (default 1048576); a larger one is 413 and closes\n"
          "    --access-log FILE    append one line per request in Common Log Format\n"
          "                         (host ident user [date] \"request\" status bytes)\n",
          out);
    usage_tls_options(out);
    usage_server_signals(out, "open replies");
    fputs("\nEXIT STATUS\n"
          "    0   stopped by a signal after a clean shutdown\n"
          "    1   could not listen, or a fatal error\n"
          "    2   usage: bad option, unreadable certificate or key, DIR not a directory\n"
          "\nEXAMPLES\n"
          "    latch serve --cert cert.pem --key key.pem ./public\n"
          "    latch serve --listen [::]:443 --cert ec.pem --key ec-key.pem \\\n"
          "                --cert rsa.pem --key rsa-key.pem \\\n"
          "                --access-log access.log /srv/www\n"
          "    latch serve --workers 4 --handshake-timeout 5 --max-connections 20000 \\\n"
          "                --ticket-key ticket.key --cert cert.pem --key key.pem .\n",
          out);
}

void cli_usage_proxy(FILE *out)
{
    fputs("NAME\n"
          "    latch proxy - terminate TLS in front of a plain TCP backend\n"
          "\n"
          "SYNOPSIS\n"
          "    latch proxy --listen ADDR:PORT --backend HOST:PORT --cert FILE --key FILE\n"
          "                [OPTIONS]\n"
          "\n"
          "DESCRIPTION\n"
          "    Accepts TLS connections (\"SSL offloading\") and relays each one's\n"
          "    plaintext to a new TCP connection to the backend, byte for byte, both\n"
          "    ways; the backend connection starts once the handshake is done.\n"
          "    Half-close: the client's close_notify (or FIN) becomes a TCP FIN to the\n"
          "    backend after everything before it; the backend's FIN becomes\n"
          "    close_notify to the client, which may go on sending.  Backpressure both\n"
          "    ways keeps memory bounded.  Same event engine, limits and timeouts as\n"
          "    latch serve; one line per connection on stderr (bytes each way).\n"
          "\n"
          "OPTIONS\n"
          "    --backend HOST:PORT  where to relay (resolved once at start)\n",
          out);
    usage_server_options(out);
    usage_engine_options(out);
    usage_tls_options(out);
    usage_server_signals(out, "open streams");
    fputs("\nEXIT STATUS\n"
          "    0   stopped by a signal after a clean shutdown\n"
          "    1   could not listen, or a fatal error\n"
          "    2   usage: bad option, unreadable certificate or key\n"
          "    6   the backend's host name could not be resolved\n"
          "\nEXAMPLES\n"
          "    latch proxy --listen :443 --backend 127.0.0.1:8080 \\\n"
          "                --cert cert.pem --key key.pem\n"
          "    latch proxy --listen 127.0.0.1:8443 --backend localhost:5432 \\\n"
          "                --cert cert.pem --key key.pem --idle-timeout 3600\n",
          out);
}

void cli_usage_demo(FILE *out)
{
    fputs("NAME\n"
          "    latch demo - the whole stack once, on this machine\n"
          "\n"
          "SYNOPSIS\n"
          "    latch demo\n"
          "\n"
          "DESCRIPTION\n"
          "    Makes a throwaway CA and a server certificate for localhost (P-256, valid\n"
          "    one day, made with libcrypto) in a new temporary directory; starts latch\n"
          "    serve on a free loopback port with a small page; fetches it with latch\n"
          "    get and prints the handshake trace; fetches it again offering the first\n"
          "    connection's session and prints that trace; prints a summary (version,\n"
          "    cipher suite, key exchange group, chain verified, resumed or not,\n"
          "    timings); then stops the server and removes every file.  Takes no\n"
          "    arguments and needs no network.  'make demo' runs it.\n"
          "\n"
          "OPTIONS\n"
          "    -h, --help           show this text\n"
          "\n"
          "EXIT STATUS\n"
          "    0   both fetches answered 200 and the second connection resumed\n"
          "    1   anything else (the reason and the server's log are printed)\n"
          "    2   usage\n"
          "\n"
          "EXAMPLES\n"
          "    latch demo\n"
          "    make demo\n",
          out);
}
