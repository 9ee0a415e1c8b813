/* latch get: one HTTP/1.1 GET over TLS with the blocking helpers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http/http.h"
#include "latch/net.h"
#include "net/net_detail.h"

enum { CONNECT_TIMEOUT_MS = 15000, IO_TIMEOUT_SECONDS = 60, READ_CHUNK = 16384 };

struct get_options {
    struct cli_tls_options tls;
    const char *cacert, *capath, *url;
    int insecure, verbose;
};

/* Returns -1 to go on, else the exit code (0 after --help). */
static int parse_get_options(int argc, char **argv, struct get_options *options)
{
    static const struct option long_options[] = {
        CLI_TLS_LONG_OPTIONS,
        {"cacert", required_argument, NULL, CLI_OPTION_CACERT},
        {"capath", required_argument, NULL, CLI_OPTION_CAPATH},
        {"insecure", no_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int option;
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":kvh", long_options, NULL)) != -1) {
        if (cli_tls_option(&options->tls, option, optarg))
            continue;
        switch (option) {
        case CLI_OPTION_CACERT: options->cacert = optarg; break;
        case CLI_OPTION_CAPATH: options->capath = optarg; break;
        case 'k': options->insecure = 1; break;
        case 'v': options->verbose = 1; break;
        case 'h':
        case CLI_OPTION_HELP: cli_usage_get(stdout); return CLI_EXIT_OK;
        default:
            cli_option_error("get", option, argv);
            cli_usage_get(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "latch get: %s\n", optind >= argc ? "missing URL" : "too many arguments");
        cli_usage_get(stderr);
        return CLI_EXIT_USAGE;
    }
    options->url = argv[optind];
    return -1;
}

static int build_config(const struct get_options *options, latch_config **out)
{
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
        latch_config_set_ca(config, options->cacert, options->capath) != 0) {
        fprintf(stderr, "latch: %s\n", latch_config_error(config));
        return CLI_EXIT_USAGE;
    }
    if (options->insecure) {
        fprintf(stderr, "WARNING: certificate verification disabled (-k)\n");
        latch_config_set_verify(config, 0);
    }
    return 0;
}

static int open_connection(const latch_url *url, int verbose, int *fd_out)
{
    latch_net_failure failure;
    int fd = latch_net_connect_detailed(url->host, url->port, CONNECT_TIMEOUT_MS, &failure);
    if (fd < 0) {
        int resolve = failure.stage == LATCH_NET_STAGE_RESOLVE;
        fprintf(stderr, "latch: %s %s%s%s port %s: %s\n",
                resolve ? "could not resolve" : "could not connect to",
                url->host_is_ipv6 ? "[" : "", url->host, url->host_is_ipv6 ? "]" : "",
                url->port, failure.message);
        return resolve ? CLI_EXIT_RESOLVE : CLI_EXIT_CONNECT;
    }
    struct timeval timeout = {.tv_sec = IO_TIMEOUT_SECONDS};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (verbose) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        char address[80] = "?";
        if (getpeername(fd, (struct sockaddr *)&peer, &length) == 0)
            latch_net_format_address((struct sockaddr *)&peer, length, address, sizeof address);
        fprintf(stderr, "* Connected to %s (%s)\n", url->host, address);
    }
    *fd_out = fd;
    return 0;
}

static int is_certificate_error(latch_error error)
{
    return error == LATCH_ERR_UNKNOWN_CA || error == LATCH_ERR_CERTIFICATE_EXPIRED ||
           error == LATCH_ERR_CERTIFICATE_NAME || error == LATCH_ERR_BAD_CERTIFICATE ||
           error == LATCH_ERR_UNSUPPORTED_CERTIFICATE;
}

static int report_handshake_failure(const latch_conn *conn, int error, int saved_errno)
{
    char alert[96];
    const char *reason;
    if (latch_conn_error(conn) != LATCH_OK) {
        reason = cli_failure_reason(conn);
        error = latch_conn_error(conn);
    } else if (error == LATCH_ERR_IO) {
        reason = saved_errno == 0             ? "connection closed by peer"
                 : saved_errno == EAGAIN      ? "timed out"
                                              : strerror(saved_errno);
    } else {
        reason = latch_error_string((latch_error)error);
    }
    cli_describe_alert(conn, alert, sizeof alert);
    fprintf(stderr, "latch: TLS handshake failed: %s (%s)\n", reason, alert);
    return is_certificate_error((latch_error)error) ? CLI_EXIT_CERTIFICATE : CLI_EXIT_TLS;
}

static void print_tls_parameters(const latch_conn *conn)
{
    const char *group = latch_conn_group_name(conn), *alpn = latch_conn_alpn(conn);
    const char *suite = latch_conn_cipher_suite_name(conn);
    uint16_t version = latch_conn_version(conn);
    fprintf(stderr, "* TLS version: %s\n", cli_version_name(version));
    fprintf(stderr, "* Cipher suite: %s\n", suite != NULL ? suite : "unknown");
    fprintf(stderr, "* Group: %s\n", group != NULL && group[0] != '\0' ? group : "none");
    fprintf(stderr, "* ALPN: %s\n", alpn != NULL && alpn[0] != '\0' ? alpn : "none");
    if (version == LATCH_VERSION_TLS12)
        fprintf(stderr, "* Extended master secret: %s\n",
                latch_conn_extended_master_secret(conn) ? "yes" : "no");
}

/* Print head lines prefixed with marker ("> " or "< "), without CR LF. */
static void print_head(const char *marker, const char *head, size_t length)
{
    size_t start = 0;
    while (start < length) {
        const char *newline = memchr(head + start, '\n', length - start);
        size_t end = newline ? (size_t)(newline - head) : length;
        size_t line_end = end > start && head[end - 1] == '\r' ? end - 1 : end;
        if (line_end > start)
            fprintf(stderr, "%s%.*s\n", marker, (int)(line_end - start), head + start);
        start = end + 1;
    }
}

static int write_body(void *arg, const char *data, size_t length)
{
    (void)arg;
    return fwrite(data, 1, length, stdout) == length ? 0 : -1;
}

static int send_request(latch_conn *conn, int fd, const latch_url *url, int verbose)
{
    char request[LATCH_HTTP_MAX_TARGET + 1024];
    int length = latch_http_format_request(request, sizeof request, "GET", url, "latch/0.1");
    if (length < 0) {
        fprintf(stderr, "latch: request too long\n");
        return CLI_EXIT_USAGE;
    }
    if (verbose)
        print_head("> ", request, (size_t)length);
    ssize_t written = latch_blocking_write(conn, fd, request, (size_t)length);
    if (written < 0) {
        char alert[96];
        cli_describe_alert(conn, alert, sizeof alert);
        fprintf(stderr, "latch: sending the request failed: %s (%s)\n",
                -written == LATCH_ERR_IO ? strerror(errno) : cli_failure_reason(conn), alert);
        return CLI_EXIT_RECEIVE;
    }
    return 0;
}

/* The stream ended (close_notify, EOF, or an error): judge the response. */
static int end_of_stream(latch_conn *conn, latch_http_response *response, ssize_t result)
{
    if (result == -LATCH_ERR_CLOSED &&
        response->state == LATCH_HTTP_RESPONSE_BODY_CLOSE) {
        fprintf(stderr, "latch: connection closed without close_notify; "
                        "the response may be truncated\n");
        return CLI_EXIT_RECEIVE;
    }
    if (result < 0 && result != -LATCH_ERR_CLOSED) {
        char alert[96];
        cli_describe_alert(conn, alert, sizeof alert);
        fprintf(stderr, "latch: receiving failed: %s (%s)\n",
                -result == LATCH_ERR_IO ? strerror(errno) : cli_failure_reason(conn), alert);
        return CLI_EXIT_RECEIVE;
    }
    if (latch_http_response_finish(response) != 0) {
        fprintf(stderr, "latch: %s\n", response->error);
        return CLI_EXIT_RECEIVE;
    }
    return 0;
}

static int receive_response(latch_conn *conn, int fd, latch_http_response *response,
                            int verbose)
{
    char buffer[READ_CHUNK];
    int head_printed = 0;
    while (response->state != LATCH_HTTP_RESPONSE_DONE) {
        ssize_t got = latch_blocking_read(conn, fd, buffer, sizeof buffer);
        if (got <= 0)
            return end_of_stream(conn, response, got);
        if (latch_http_response_feed(response, buffer, (size_t)got) < 0) {
            if (ferror(stdout)) {
                fprintf(stderr, "latch: writing the body failed: %s\n", strerror(errno));
                return CLI_EXIT_WRITE;
            }
            fprintf(stderr, "latch: bad HTTP response: %s\n", response->error);
            return CLI_EXIT_RECEIVE;
        }
        if (verbose && response->head_complete && !head_printed) {
            print_head("< ", response->head, response->head_length);
            head_printed = 1;
        }
    }
    return 0;
}

static int fetch(latch_conn *conn, int fd, const latch_url *url, int verbose)
{
    int error = latch_blocking_handshake(conn, fd);
    if (error != 0)
        return report_handshake_failure(conn, error, errno);
    if (verbose)
        print_tls_parameters(conn);
    int status = send_request(conn, fd, url, verbose);
    if (status != 0)
        return status;
    static latch_http_response response; /* 64 KiB head buffer: not on the stack */
    latch_http_response_init(&response, 0, write_body, NULL);
    status = receive_response(conn, fd, &response, verbose);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "latch: writing the body failed: %s\n", strerror(errno));
        status = CLI_EXIT_WRITE;
    }
    if (!(latch_conn_status(conn) & LATCH_STATUS_FAILED))
        (void)latch_blocking_close(conn, fd);
    if (status == 0 && response.status >= 400) {
        fprintf(stderr, "latch: server returned HTTP %d\n", response.status);
        status = CLI_EXIT_HTTP_ERROR;
    }
    return status;
}

int cli_command_get(int argc, char **argv)
{
    struct get_options options = {0};
    int status = parse_get_options(argc, argv, &options);
    if (status >= 0)
        return status;
    latch_url url;
    const char *url_error = NULL;
    if (latch_url_parse(options.url, &url, &url_error) != 0) {
        fprintf(stderr, "latch get: invalid URL '%s': %s\n", options.url, url_error);
        return CLI_EXIT_USAGE;
    }
    latch_config *config = NULL;
    status = build_config(&options, &config);
    int fd = -1;
    if (status == 0)
        status = open_connection(&url, options.verbose, &fd);
    if (status == 0) {
        latch_conn *conn = latch_conn_new(config, url.host);
        if (conn == NULL) {
            fprintf(stderr, "latch: cannot create a connection\n");
            status = CLI_EXIT_FAILURE;
        } else {
            status = fetch(conn, fd, &url, options.verbose);
            latch_conn_free(conn);
        }
        close(fd);
    }
    latch_config_free(config);
    return status;
}
