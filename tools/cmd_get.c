/* latch get: options, the client configuration, and the fetch followed by
 * --reconnect N resumptions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RECONNECTS = 1000 };

static const char *command_name(enum get_command command)
{
    return command == GET_COMMAND_GET ? "get" : "trace";
}

static void print_usage(enum get_command command, FILE *out)
{
    if (command == GET_COMMAND_GET)
        cli_usage_get(out);
    else
        cli_usage_trace(out);
}

static int parse_reconnect(const char *text, long *count)
{
    char *end = NULL;
    errno = 0;
    *count = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || *count < 0 || *count > MAX_RECONNECTS) {
        fprintf(stderr, "latch get: --reconnect %s: expected a number from 0 to %d\n", text,
                MAX_RECONNECTS);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* Options only latch get takes; returns -1 to go on, else an exit code. */
static int get_only_option(struct get_options *options, int option, const char *value)
{
    switch (option) {
    case 'v': options->verbose = 1; return -1;
    case CLI_OPTION_RECONNECT: return parse_reconnect(value, &options->reconnect);
    case CLI_OPTION_TRACE:
        options->trace = 1;
        return cli_parse_trace_format("get", value, &options->trace_format) ? CLI_EXIT_USAGE : -1;
    default: return CLI_EXIT_USAGE;
    }
}

/* One option; returns -1 to go on, else the exit code. */
static int take_option(enum get_command command, struct get_options *options, int option,
                       char **argv)
{
    if (cli_tls_option(&options->tls, option, optarg))
        return -1;
    if (command == GET_COMMAND_GET) {
        int status = get_http_option(options, option, optarg);
        if (status != 0)
            return status;
    }
    switch (option) {
    case CLI_OPTION_CACERT: options->cacert = optarg; return -1;
    case CLI_OPTION_CAPATH: options->capath = optarg; return -1;
    case CLI_OPTION_CERT: options->cert = optarg; return -1;
    case CLI_OPTION_KEY: options->key = optarg; return -1;
    case CLI_OPTION_SESSION: options->session_file = optarg; return -1;
    case CLI_OPTION_KEYLOG: options->keylog = optarg; return -1;
    case CLI_OPTION_RTT_REPORT: options->rtt_report = 1; return -1;
    case 'k': options->insecure = 1; return -1;
    case 'h':
    case CLI_OPTION_HELP: print_usage(command, stdout); return CLI_EXIT_OK;
    case 'v': case CLI_OPTION_RECONNECT: case CLI_OPTION_TRACE:
        if (command == GET_COMMAND_GET)
            return get_only_option(options, option, optarg);
        break;
    default: break;
    }
    if (option == ':' || option == '?')
        cli_option_error(command_name(command), option, argv);
    else
        fprintf(stderr, "latch %s: option '%s' is for latch get only\n", command_name(command),
                argv[optind - 1]);
    print_usage(command, stderr);
    return CLI_EXIT_USAGE;
}

static int check_get_arguments(enum get_command command, int argc, char **argv,
                               struct get_options *options)
{
    const char *name = command_name(command);
    int most = command == GET_COMMAND_GET ? GET_MAX_URLS : 1;
    if (optind >= argc || argc - optind > most) {
        fprintf(stderr, "latch %s: %s\n", name,
                optind >= argc ? "missing URL" : "too many URLs");
        print_usage(command, stderr);
        return CLI_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++)
        options->urls[options->url_count++] = argv[i];
    if (options->reconnect > 0 && options->url_count > 1) {
        fprintf(stderr, "latch get: --reconnect takes one URL\n");
        return CLI_EXIT_USAGE;
    }
    if ((options->cert == NULL) != (options->key == NULL)) {
        fprintf(stderr, "latch %s: --cert and --key go together\n", name);
        return CLI_EXIT_USAGE;
    }
    options->url = argv[optind];
    return -1;
}

int get_parse_options(enum get_command command, int argc, char **argv,
                      struct get_options *options)
{
    static const struct option long_options[] = {
        CLI_TLS_LONG_OPTIONS,
        {"cacert", required_argument, NULL, CLI_OPTION_CACERT},
        {"capath", required_argument, NULL, CLI_OPTION_CAPATH},
        {"cert", required_argument, NULL, CLI_OPTION_CERT},
        {"key", required_argument, NULL, CLI_OPTION_KEY},
        {"session", required_argument, NULL, CLI_OPTION_SESSION},
        {"reconnect", required_argument, NULL, CLI_OPTION_RECONNECT},
        {"keylog", required_argument, NULL, CLI_OPTION_KEYLOG},
        {"trace", optional_argument, NULL, CLI_OPTION_TRACE},
        {"rtt-report", no_argument, NULL, CLI_OPTION_RTT_REPORT},
        {"insecure", no_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {"output", required_argument, NULL, 'o'},
        {"remote-name", no_argument, NULL, 'O'},
        {"head", no_argument, NULL, 'I'},
        {"include", no_argument, NULL, 'i'},
        {"request", required_argument, NULL, 'X'},
        {"header", required_argument, NULL, 'H'},
        {"data", required_argument, NULL, 'd'},
        {"data-binary", required_argument, NULL, CLI_OPTION_DATA_BINARY},
        {"location", no_argument, NULL, 'L'},
        {"max-redirs", required_argument, NULL, CLI_OPTION_MAX_REDIRS},
        {"fail", no_argument, NULL, CLI_OPTION_FAIL},
        {"silent", no_argument, NULL, 's'},
        {"connect-to", required_argument, NULL, CLI_OPTION_CONNECT_TO},
        {"max-time", required_argument, NULL, CLI_OPTION_MAX_TIME},
        {"connect-timeout", required_argument, NULL, CLI_OPTION_CONNECT_TIMEOUT},
        {NULL, 0, NULL, 0},
    };
    int option, status = -1;
    options->max_redirects = 10;
    optind = 1;
    opterr = 0;
    static const char short_options[] = ":kvho:OIiX:H:d:Lfsm:";
    while (status < 0 &&
           (option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1)
        status = take_option(command, options, option, argv);
    if (status >= 0)
        return status;
    return check_get_arguments(command, argc, argv, options);
}

static int config_problem(const latch_config *config)
{
    fprintf(stderr, "latch: %s\n", latch_config_error(config));
    return CLI_EXIT_USAGE;
}

int get_build_config(const char *command, const struct get_options *options,
                     latch_config **out, FILE **keylog)
{
    *keylog = NULL;
    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT);
    if (config == NULL) {
        fprintf(stderr, "latch: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    *out = config;
    int status = cli_apply_tls_options(config, &options->tls);
    if (status != 0)
        return status;
    if ((options->cacert != NULL || options->capath != NULL) &&
        latch_config_set_ca(config, options->cacert, options->capath) != 0)
        return config_problem(config);
    if (options->cert != NULL &&
        latch_config_add_cert_key_files(config, options->cert, options->key) != 0)
        return config_problem(config);
    if (options->insecure) {
        fprintf(stderr, "WARNING: certificate verification disabled (-k)\n");
        latch_config_set_verify(config, 0);
    }
    status = cli_open_keylog(command, options->keylog, keylog);
    if (status == 0 && *keylog != NULL)
        latch_config_set_keylog(config, latch_keylog_write, *keylog);
    return status;
}

/* "localhost:8443", "localhost:8443 #2": the tracer's label. */
static void connection_label(const latch_url *url, long number, char *out, size_t size)
{
    if (number == 0)
        snprintf(out, size, "%s:%s", url->host, url->port);
    else
        snprintf(out, size, "%s:%s #%ld", url->host, url->port, number + 1);
}

/* Fetch number `number` (0: the first), offering *session and replacing it
 * with the newer one, which is saved to --session FILE.  Returns the exit code. */
static int fetch_once(const struct get_options *options, const latch_url *url,
                      latch_config *config, long number, latch_session **session,
                      int *resumed)
{
    struct get_trace trace = {0};
    struct get_fetch fetch = {.url = url, .config = config, .method = "GET",
                              .verbose = options->verbose, .write_body = number == 0,
                              .trace = &trace, .offer = *session,
                              .fail_on_error = options->fail};
    char label[LATCH_HTTP_MAX_TARGET];
    connection_label(url, number, label, sizeof label);
    int status = get_trace_start(options, &trace, label);
    if (status != 0)
        return status;
    status = get_fetch_run(&fetch);
    get_trace_finish(&trace);
    *resumed = fetch.resumed;
    if (fetch.session != NULL) {
        latch_session_free(*session);
        *session = fetch.session;
        if (options->session_file != NULL)
            (void)get_session_save(options->session_file, *session);
    }
    return status;
}

/* The fetch, then the reconnections until one fails (an HTTP error status
 * does not stop them).  Returns the first failure's exit code. */
static int fetch_all(const struct get_options *options, const latch_url *url,
                     latch_config *config)
{
    latch_session *session = NULL;
    if (options->session_file != NULL)
        session = get_session_load(options->session_file);
    int resumed = 0;
    int status = fetch_once(options, url, config, 0, &session, &resumed);
    long resumed_count = 0;
    for (long i = 1; (status == 0 || status == CLI_EXIT_HTTP_ERROR) && i <= options->reconnect;
         i++) {
        int next = fetch_once(options, url, config, i, &session, &resumed);
        resumed_count += resumed;
        if (status == 0 || next != CLI_EXIT_HTTP_ERROR)
            status = next;
    }
    if (options->reconnect > 0)
        fprintf(stderr, "latch: resumed %ld of %ld reconnections\n", resumed_count,
                options->reconnect);
    latch_session_free(session);
    return status;
}

int cli_command_get(int argc, char **argv)
{
    struct get_options options = {0};
    int status = get_parse_options(GET_COMMAND_GET, argc, argv, &options);
    if (status >= 0) {
        free(options.data);
        return status;
    }
    latch_url url;
    const char *url_error = NULL;
    if (latch_url_parse(options.url, &url, &url_error) != 0) {
        fprintf(stderr, "latch get: invalid URL '%s': %s\n", options.url, url_error);
        free(options.data);
        return CLI_EXIT_USAGE;
    }
    latch_config *config = NULL;
    FILE *keylog = NULL;
    status = get_build_config("get", &options, &config, &keylog);
    if (status == 0 && options.reconnect > 0)
        status = fetch_all(&options, &url, config);
    else if (status == 0)
        status = get_run(&options, config);
    latch_config_free(config);
    if (keylog != NULL)
        fclose(keylog);
    free(options.data);
    return status;
}
