/* latch: the help texts of every command. */
#include "cli.h"

void cli_usage(FILE *out)
{
    fputs("usage: latch COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  get URL      fetch an https:// URL over HTTP/1.1, body to stdout\n"
          "  trace URL    connect, handshake, send a HEAD request and show how the\n"
          "               connection went: a message table, then a latency timeline\n"
          "  serve [DIR]  serve static files over HTTPS (default DIR: .)\n"
          "  verify CERT  check a certificate chain offline as the client would\n"
          "  help         show this text\n"
          "\n"
          "Run 'latch COMMAND --help' for the options of a command.\n",
          out);
}

static void usage_tls_options(FILE *out)
{
    fputs("  --ciphers LIST    cipher suites in preference order (IANA names, ',' or ':')\n"
          "  --groups LIST     key exchange groups: x25519, secp256r1, secp384r1\n"
          "  --tls-min V       lowest TLS version: 1.2 or 1.3 (1.0/1.1 are refused)\n"
          "  --tls-max V       highest TLS version: 1.2 or 1.3\n"
          "  --alpn LIST       ALPN protocols, comma-separated (e.g. http/1.1)\n"
          "  --help            show this text\n",
          out);
}

/* The options latch get and latch trace share. */
static void usage_client_options(FILE *out)
{
    fputs("  --cacert FILE     trust anchors (PEM) instead of the system store\n"
          "  --capath DIR      directory of trust anchors\n"
          "  -k, --insecure    do not verify the server certificate (dangerous)\n"
          "  --cert FILE       client certificate chain, leaf first, for mutual TLS\n"
          "  --key FILE        private key of --cert\n"
          "  --session FILE    offer the session saved in FILE (if it exists) and save\n"
          "                    the new one there afterwards (mode 0600; keep it secret)\n"
          "  --keylog FILE     append the TLS secrets to FILE in NSS key log format, for\n"
          "                    Wireshark (default: $SSLKEYLOGFILE when set)\n",
          out);
}

static void usage_exit_codes(FILE *out)
{
    fputs("\nexit codes: 0 ok, 2 usage, 6 resolve, 7 connect, 22 HTTP status >= 400,\n"
          "  35 TLS handshake (also a TLS 1.3 server refusing us right after it),\n"
          "  56 receive, 60 certificate not trusted\n",
          out);
}

void cli_usage_get(FILE *out)
{
    fputs("usage: latch get [OPTIONS] https://HOST[:PORT][/PATH]\n"
          "\n"
          "Fetch URL with HTTP/1.1 GET over TLS; the body goes to stdout.\n"
          "\n",
          out);
    usage_client_options(out);
    fputs("  --reconnect N     after the fetch, connect N more times, each offering the\n"
          "                    latest session (bodies discarded), and report how many\n"
          "                    resumed: \"latch: resumed K of N reconnections\"\n"
          "  --trace[=FORMAT]  trace each connection to stderr: table (default),\n"
          "                    timeline or json (see docs/TRACE.md)\n"
          "  -v, --verbose     print connection, TLS parameters (version, suite, group,\n"
          "                    ALPN, resumed) and headers to stderr\n",
          out);
    usage_tls_options(out);
    usage_exit_codes(out);
}

void cli_usage_trace(FILE *out)
{
    fputs("usage: latch trace [OPTIONS] https://HOST[:PORT][/PATH]\n"
          "\n"
          "Connect to URL, run the TLS handshake and send an HTTP/1.1 HEAD request;\n"
          "print every message (a table), then where the time went (a timeline:\n"
          "DNS, TCP connect, each flight, first byte, close).  No body.\n"
          "\n",
          out);
    usage_client_options(out);
    usage_tls_options(out);
    usage_exit_codes(out);
}

void cli_usage_serve(FILE *out)
{
    fputs("usage: latch serve [OPTIONS] --cert FILE --key FILE [DIR]\n"
          "\n"
          "Serve the files under DIR (default .) over HTTPS with HTTP/1.1.\n"
          "\n"
          "  --listen ADDR:PORT  address to listen on (default 127.0.0.1:8443;\n"
          "                      [::1]:8443 for IPv6, port 0 picks a free port)\n"
          "  --cert FILE         certificate chain, leaf first (PEM or DER)\n"
          "  --key FILE          private key of the preceding --cert\n"
          "                      (repeat --cert/--key for several certificates)\n"
          "  --client-ca FILE    ask clients for a certificate issued under FILE (PEM);\n"
          "                      each request's log line names the client\n"
          "  --verify-client M   optional (serve clients without one, logged as\n"
          "                      anonymous) or require (the default with --client-ca)\n"
          "  --ticket-key FILE   session ticket key, nginx's ssl_session_ticket_key\n"
          "                      format (80 or 48 bytes, e.g. openssl rand 80 > FILE);\n"
          "                      repeatable: the first seals, all open.  Servers sharing\n"
          "                      a key resume each other's sessions.  Without it a\n"
          "                      random key is made at start.  SIGHUP re-reads the files\n"
          "                      (open connections keep the old configuration)\n"
          "  --no-tickets        issue no session tickets (TLS 1.2 session IDs remain)\n"
          "  --session-cache N   TLS 1.2 session-ID cache entries (default 1024; 0 = off)\n"
          "  --keylog FILE       append the TLS secrets to FILE in NSS key log format\n"
          "                      (default: $SSLKEYLOGFILE when set)\n"
          "  --trace[=FORMAT]    trace every connection to stderr, labelled \"conn N\":\n"
          "                      table (default), timeline or json\n",
          out);
    usage_tls_options(out);
}
