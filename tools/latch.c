/* latch: command-line front end (get, trace, serve, proxy, demo, verify, help). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    case CLI_OPTION_PROFILE: options->profile = value; return 1;
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

/* --profile first (Mozilla's modern, intermediate or old; intermediate is the
 * library's default), then --tls-min/--tls-max/--ciphers/--groups refine it:
 * a version not given stays the profile's. */
static int apply_profile(latch_config *config, const char *text, uint16_t *min_version)
{
    int profile = latch_profile_parse(text);
    if (profile < 0) {
        fprintf(stderr, "latch: --profile %s: use modern, intermediate or old\n", text);
        return CLI_EXIT_USAGE;
    }
    if (latch_config_set_profile(config, (latch_profile)profile) != 0)
        return config_failed(config);
    if (profile == LATCH_PROFILE_MODERN)
        *min_version = LATCH_VERSION_TLS13;
    return 0;
}

int cli_apply_tls_options(latch_config *config, const struct cli_tls_options *options)
{
    uint16_t min_version = LATCH_VERSION_TLS12, max_version = LATCH_VERSION_TLS13;
    if (options->profile != NULL && apply_profile(config, options->profile, &min_version) != 0)
        return CLI_EXIT_USAGE;
    if (options->tls_min != NULL && parse_version("--tls-min", options->tls_min, &min_version))
        return CLI_EXIT_USAGE;
    if (options->tls_max != NULL && parse_version("--tls-max", options->tls_max, &max_version))
        return CLI_EXIT_USAGE;
    if (min_version > max_version && options->tls_min == NULL) {
        fprintf(stderr, "latch: --tls-max %s: --profile %s is TLS 1.3 only\n", options->tls_max,
                options->profile);
        return CLI_EXIT_USAGE;
    }
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

int cli_parse_trace_format(const char *command, const char *text,
                           enum latch_trace_format *format)
{
    if (text == NULL || strcmp(text, "table") == 0)
        *format = LATCH_TRACE_TABLE;
    else if (strcmp(text, "timeline") == 0)
        *format = LATCH_TRACE_TIMELINE;
    else if (strcmp(text, "json") == 0)
        *format = LATCH_TRACE_JSON;
    else {
        fprintf(stderr, "latch %s: --trace=%s: use table, timeline or json\n", command, text);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_open_keylog(const char *command, const char *path, FILE **out)
{
    const char *chosen = path != NULL ? path : latch_keylog_path_from_env();
    *out = NULL;
    if (chosen == NULL)
        return 0;
    *out = latch_keylog_open(chosen);
    if (*out == NULL) {
        fprintf(stderr, "latch %s: cannot open the key log %s%s: %s\n", command, chosen,
                path != NULL ? "" : " (SSLKEYLOGFILE)", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

void cli_printable(const char *text, char *out, size_t out_size)
{
    size_t used = 0;
    if (out_size == 0)
        return;
    for (; text != NULL && *text != '\0' && used + 1 < out_size; text++) {
        unsigned char c = (unsigned char)*text;
        out[used++] = c >= 0x80 || isprint(c) ? (char)c : '?';
    }
    out[used] = '\0';
}

int cli_write_all(int fd, const void *data, size_t length)
{
    const char *bytes = data;
    while (length > 0) {
        ssize_t written = write(fd, bytes, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        bytes += written;
        length -= (size_t)written;
    }
    return 0;
}

/* Until tools/cmd_verify.c provides the real one. */
__attribute__((weak)) int cli_verify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("latch verify: not built\n", stderr);
    return 2;
}

int cli_parse_seconds(const char *command, const char *flag, const char *text, double min,
                      double max, long *milliseconds)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value >= min && value <= max)) {
        fprintf(stderr, "latch %s: %s %s: expected seconds from %g to %g\n", command, flag, text,
                min, max);
        return CLI_EXIT_USAGE;
    }
    *milliseconds = (long)(value * 1000.0 + 0.5);
    return -1;
}

int cli_parse_count(const char *command, const char *flag, const char *text, long long min,
                    long long max, long long *value)
{
    char *end = NULL;
    errno = 0;
    *value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || *value < min || *value > max) {
        fprintf(stderr, "latch %s: %s %s: expected a number from %lld to %lld\n", command, flag,
                text, min, max);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int print_help(int argc, char **argv)
{
    const char *topic = argc > 2 ? argv[2] : "";
    if (strcmp(topic, "get") == 0)
        cli_usage_get(stdout);
    else if (strcmp(topic, "trace") == 0)
        cli_usage_trace(stdout);
    else if (strcmp(topic, "serve") == 0)
        cli_usage_serve(stdout);
    else if (strcmp(topic, "proxy") == 0)
        cli_usage_proxy(stdout);
    else if (strcmp(topic, "demo") == 0)
        cli_usage_demo(stdout);
    else if (strcmp(topic, "verify") == 0) {
        char *verify_help[] = {"verify", "--help", NULL};
        return cli_verify(2, verify_help);
    } else
        cli_usage(stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0)
        return print_help(argc, argv);
    if (strcmp(command, "get") == 0)
        return cli_command_get(argc - 1, argv + 1);
    if (strcmp(command, "trace") == 0)
        return cli_command_trace(argc - 1, argv + 1);
    if (strcmp(command, "serve") == 0)
        return cli_command_serve(argc - 1, argv + 1);
    if (strcmp(command, "proxy") == 0)
        return cli_command_proxy(argc - 1, argv + 1);
    if (strcmp(command, "demo") == 0)
        return cli_command_demo(argc - 1, argv + 1);
    if (strcmp(command, "verify") == 0)
        return cli_verify(argc - 1, argv + 1);
    fprintf(stderr, "latch: unknown command '%s'\n", command);
    cli_usage(stderr);
    return CLI_EXIT_USAGE;
}
