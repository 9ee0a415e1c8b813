/* Shared pieces of the latch command-line tool. */
#ifndef LATCH_TOOLS_CLI_H
#define LATCH_TOOLS_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "latch/latch.h"
#include "latch/trace.h"

/* Exit codes (mirroring curl where there is an equivalent). */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_RESOLVE = 6,
    CLI_EXIT_CONNECT = 7,
    CLI_EXIT_HTTP_ERROR = 22,
    CLI_EXIT_WRITE = 23,
    CLI_EXIT_READ = 26,
    CLI_EXIT_TIMEOUT = 28,
    CLI_EXIT_TLS = 35,
    CLI_EXIT_TOO_MANY_REDIRECTS = 47,
    CLI_EXIT_RECEIVE = 56,
    CLI_EXIT_CERTIFICATE = 60
};

/* getopt_long values of the options both commands take. */
enum cli_option {
    CLI_OPTION_CIPHERS = 1000,
    CLI_OPTION_GROUPS,
    CLI_OPTION_TLS_MIN,
    CLI_OPTION_TLS_MAX,
    CLI_OPTION_ALPN,
    CLI_OPTION_HELP,
    CLI_OPTION_CACERT,
    CLI_OPTION_CAPATH,
    CLI_OPTION_LISTEN,
    CLI_OPTION_CERT,
    CLI_OPTION_KEY,
    CLI_OPTION_SESSION,
    CLI_OPTION_RECONNECT,
    CLI_OPTION_KEYLOG,
    CLI_OPTION_TRACE,
    CLI_OPTION_CLIENT_CA,
    CLI_OPTION_VERIFY_CLIENT,
    CLI_OPTION_TICKET_KEY,
    CLI_OPTION_NO_TICKETS,
    CLI_OPTION_SESSION_CACHE,
    CLI_OPTION_RTT_REPORT,
    CLI_OPTION_PROFILE,
    /* latch serve / proxy / get (HTTP layer) */
    CLI_OPTION_WORKERS = 1100,
    CLI_OPTION_HANDSHAKE_TIMEOUT,
    CLI_OPTION_IDLE_TIMEOUT,
    CLI_OPTION_REQUEST_TIMEOUT,
    CLI_OPTION_SHUTDOWN_TIMEOUT,
    CLI_OPTION_MAX_CONNECTIONS,
    CLI_OPTION_MAX_HEADER_SIZE,
    CLI_OPTION_MAX_BODY_SIZE,
    CLI_OPTION_ACCESS_LOG,
    CLI_OPTION_BACKEND,
    CLI_OPTION_DATA_BINARY,
    CLI_OPTION_FAIL,
    CLI_OPTION_CONNECT_TO,
    CLI_OPTION_MAX_TIME,
    CLI_OPTION_MAX_REDIRS,
    CLI_OPTION_CONNECT_TIMEOUT
};

#define CLI_TLS_LONG_OPTIONS                                                          \
    {"ciphers", required_argument, NULL, CLI_OPTION_CIPHERS},                         \
        {"groups", required_argument, NULL, CLI_OPTION_GROUPS},                       \
        {"tls-min", required_argument, NULL, CLI_OPTION_TLS_MIN},                     \
        {"tls-max", required_argument, NULL, CLI_OPTION_TLS_MAX},                     \
        {"profile", required_argument, NULL, CLI_OPTION_PROFILE},                     \
        {"alpn", required_argument, NULL, CLI_OPTION_ALPN},                           \
        {"help", no_argument, NULL, CLI_OPTION_HELP}

struct cli_tls_options {
    const char *ciphers, *groups, *tls_min, *tls_max, *alpn;
    const char *profile; /* modern|intermediate|old: applied first, the others refine it */
};

/* Record one of the shared options; returns 1 if option was one of them. */
int cli_tls_option(struct cli_tls_options *options, int option, const char *value);
/* Report a getopt failure (':' missing value, '?' unknown) for command. */
void cli_option_error(const char *command, int option, char **argv);
/* Apply the shared options to config.  Prints the problem and returns
 * CLI_EXIT_USAGE on error, 0 on success. */
int cli_apply_tls_options(latch_config *config, const struct cli_tls_options *options);

/* "alert bad_certificate sent" / "no alert" for a failed connection. */
void cli_describe_alert(const latch_conn *conn, char *out, size_t out_size);
/* The engine's failure reason, never NULL. */
const char *cli_failure_reason(const latch_conn *conn);
/* "TLSv1.3" etc. */
const char *cli_version_name(uint16_t version);

/* --trace[=table|timeline|json]: text NULL means table.  Prints the problem
 * and returns CLI_EXIT_USAGE if text names no format, else 0. */
int cli_parse_trace_format(const char *command, const char *text,
                           enum latch_trace_format *format);
/* The key log file: path (--keylog) if given, else $SSLKEYLOGFILE, else none
 * (*out = NULL).  Prints the problem and returns CLI_EXIT_USAGE if it cannot
 * be opened, else 0. */
int cli_open_keylog(const char *command, const char *path, FILE **out);
/* Copy text into out (always terminated), control characters as '?': for
 * names that came from the network before they reach a terminal or log. */
void cli_printable(const char *text, char *out, size_t out_size);
/* write() all of data to fd (again after EINTR and short writes).  0, or -1
 * with errno set. */
int cli_write_all(int fd, const void *data, size_t length);

/* A number of seconds (fractions allowed) from min to max, as milliseconds.
 * Prints the problem and returns CLI_EXIT_USAGE, else -1. */
int cli_parse_seconds(const char *command, const char *flag, const char *text, double min,
                      double max, long *milliseconds);
/* A whole number from min to max.  Prints the problem and returns
 * CLI_EXIT_USAGE, else -1. */
int cli_parse_count(const char *command, const char *flag, const char *text, long long min,
                    long long max, long long *value);

void cli_usage(FILE *out);
void cli_usage_get(FILE *out);
void cli_usage_trace(FILE *out);
void cli_usage_serve(FILE *out);
void cli_usage_proxy(FILE *out);
void cli_usage_demo(FILE *out);

int cli_command_get(int argc, char **argv);
int cli_command_trace(int argc, char **argv);
int cli_command_serve(int argc, char **argv);
int cli_command_proxy(int argc, char **argv);
int cli_command_demo(int argc, char **argv);
/* latch verify: tools/cmd_verify.c (a weak stub in latch.c until it exists). */
int cli_verify(int argc, char **argv);

#endif
