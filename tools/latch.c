/* latch: command-line front end (get, serve, help). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

void cli_usage(FILE *out)
{
    fputs("usage: latch COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  get URL     fetch an https:// URL over HTTP/1.1, body to stdout\n"
          "  serve [DIR] serve static files over HTTPS (default DIR: .)\n"
          "  help        show this text\n"
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

void cli_usage_get(FILE *out)
{
    fputs("usage: latch get [OPTIONS] https://HOST[:PORT][/PATH]\n"
          "\n"
          "Fetch URL with HTTP/1.1 GET over TLS; the body goes to stdout.\n"
          "\n"
          "  --cacert FILE     trust anchors (PEM) instead of the system store\n"
          "  --capath DIR      directory of trust anchors\n"
          "  -k, --insecure    do not verify the server certificate (dangerous)\n"
          "  -v, --verbose     print connection, TLS parameters and headers to stderr\n",
          out);
    usage_tls_options(out);
    fputs("\nexit codes: 0 ok, 2 usage, 6 resolve, 7 connect, 22 HTTP status >= 400,\n"
          "  35 TLS handshake, 56 receive, 60 certificate not trusted\n",
          out);
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
          "                      (repeat --cert/--key for several certificates)\n",
          out);
    usage_tls_options(out);
}

void cli_option_error(const char *command, int option, char **argv)
{
    const char *text = optind > 0 ? argv[optind - 1] : "?";
    if (option == ':')
        fprintf(stderr, "latch %s: option '%s' needs a value\n", command, text);
    else
        fprintf(stderr, "latch %s: unknown option '%s'\n", command, text);
}

int cli_tls_option(struct cli_tls_options *options, int option, const char *value)
{
    switch (option) {
    case CLI_OPTION_CIPHERS: options->ciphers = value; return 1;
    case CLI_OPTION_GROUPS: options->groups = value; return 1;
    case CLI_OPTION_TLS_MIN: options->tls_min = value; return 1;
    case CLI_OPTION_TLS_MAX: options->tls_max = value; return 1;
    case CLI_OPTION_ALPN: options->alpn = value; return 1;
    default: return 0;
    }
}

static int parse_version(const char *flag, const char *text, uint16_t *version)
{
    *version = latch_version_parse(text);
    if (*version != 0)
        return 0;
    if (strcmp(text, "1.0") == 0 || strcmp(text, "1.1") == 0)
        fprintf(stderr, "latch: %s %s: TLS 1.0 and TLS 1.1 are refused as insecure; "
                        "use 1.2 or 1.3\n", flag, text);
    else
        fprintf(stderr, "latch: %s %s: unknown TLS version (use 1.2 or 1.3)\n", flag, text);
    return CLI_EXIT_USAGE;
}

static int config_failed(const latch_config *config)
{
    const char *why = latch_config_error(config);
    fprintf(stderr, "latch: %s\n", why != NULL && why[0] != '\0' ? why : "invalid configuration");
    return CLI_EXIT_USAGE;
}

int cli_apply_tls_options(latch_config *config, const struct cli_tls_options *options)
{
    uint16_t min_version = LATCH_VERSION_TLS12, max_version = LATCH_VERSION_TLS13;
    if (options->tls_min != NULL && parse_version("--tls-min", options->tls_min, &min_version))
        return CLI_EXIT_USAGE;
    if (options->tls_max != NULL && parse_version("--tls-max", options->tls_max, &max_version))
        return CLI_EXIT_USAGE;
    if (min_version > max_version) {
        fprintf(stderr, "latch: --tls-min is above --tls-max\n");
        return CLI_EXIT_USAGE;
    }
    if ((options->tls_min != NULL || options->tls_max != NULL) &&
        latch_config_set_versions(config, min_version, max_version) != 0)
        return config_failed(config);
    if (options->ciphers != NULL && latch_config_set_ciphers(config, options->ciphers) != 0)
        return config_failed(config);
    if (options->groups != NULL && latch_config_set_groups(config, options->groups) != 0)
        return config_failed(config);
    if (options->alpn != NULL && latch_config_set_alpn(config, options->alpn) != 0)
        return config_failed(config);
    return 0;
}

void cli_describe_alert(const latch_conn *conn, char *out, size_t out_size)
{
    int sent = 0;
    int alert = latch_conn_alert(conn, &sent);
    if (alert < 0)
        snprintf(out, out_size, "no alert");
    else
        snprintf(out, out_size, "alert %s %s", latch_alert_name(alert),
                 sent ? "sent" : "received");
}

const char *cli_failure_reason(const latch_conn *conn)
{
    const char *reason = latch_conn_error_reason(conn);
    if (reason != NULL && reason[0] != '\0')
        return reason;
    return latch_error_string(latch_conn_error(conn));
}

const char *cli_version_name(uint16_t version)
{
    switch (version) {
    case LATCH_VERSION_TLS12: return "TLSv1.2";
    case LATCH_VERSION_TLS13: return "TLSv1.3";
    default: return "unknown";
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "get") == 0)
            cli_usage_get(stdout);
        else if (argc > 2 && strcmp(argv[2], "serve") == 0)
            cli_usage_serve(stdout);
        else
            cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(command, "get") == 0)
        return cli_command_get(argc - 1, argv + 1);
    if (strcmp(command, "serve") == 0)
        return cli_command_serve(argc - 1, argv + 1);
    fprintf(stderr, "latch: unknown command '%s'\n", command);
    cli_usage(stderr);
    return CLI_EXIT_USAGE;
}
