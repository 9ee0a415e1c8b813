/* One HTTP/1.1 request over one TLS connection, with the blocking helpers:
 * resolve, TCP connect, handshake, request, response, close.  Each step is
 * noted on the connection's tracers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "latch/net.h"
#include "net/net_detail.h"

enum { CONNECT_TIMEOUT_MS = 15000, IO_TIMEOUT_SECONDS = 60, READ_CHUNK = 16384 };

static int resolve(const struct get_fetch *fetch, struct addrinfo **list)
{
    const latch_url *url = fetch->url;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    int status = getaddrinfo(url->host, url->port, &hints, list);
    if (status != 0) {
        fprintf(stderr, "latch: could not resolve %s%s%s port %s: %s\n",
                url->host_is_ipv6 ? "[" : "", url->host, url->host_is_ipv6 ? "]" : "",
                url->port, status == EAI_SYSTEM ? strerror(errno) : gai_strerror(status));
        get_trace_note(fetch->trace, "DNS resolution", "failed");
        return CLI_EXIT_RESOLVE;
    }
    char first[NI_MAXHOST] = "?";
    getnameinfo((*list)->ai_addr, (*list)->ai_addrlen, first, sizeof first, NULL, 0,
                NI_NUMERICHOST);
    get_trace_note(fetch->trace, "DNS resolution", first);
    return 0;
}

/* TCP connect to each resolved address in turn (SYN, SYN-ACK, ACK). */
static int connect_addresses(const struct get_fetch *fetch, const struct addrinfo *list,
                             int *fd_out)
{
    const latch_url *url = fetch->url;
    latch_net_failure failure = {0};
    int fd = -1;
    for (const struct addrinfo *candidate = list; candidate != NULL && fd < 0;
         candidate = candidate->ai_next) {
        char numeric[NI_MAXHOST];
        if (getnameinfo(candidate->ai_addr, candidate->ai_addrlen, numeric, sizeof numeric,
                        NULL, 0, NI_NUMERICHOST) != 0)
            continue;
        fd = latch_net_connect_detailed(numeric, url->port, CONNECT_TIMEOUT_MS, &failure);
    }
    if (fd < 0) {
        fprintf(stderr, "latch: could not connect to %s%s%s port %s: %s\n",
                url->host_is_ipv6 ? "[" : "", url->host, url->host_is_ipv6 ? "]" : "",
                url->port, failure.message[0] ? failure.message : "no usable address");
        get_trace_note(fetch->trace, "TCP connect", "failed");
        return CLI_EXIT_CONNECT;
    }
    get_trace_note(fetch->trace, "TCP connect", "SYN, SYN-ACK, ACK");
    *fd_out = fd;
    return 0;
}

static int open_connection(const struct get_fetch *fetch, int *fd_out)
{
    struct addrinfo *list = NULL;
    int status = resolve(fetch, &list);
    if (status != 0)
        return status;
    status = connect_addresses(fetch, list, fd_out);
    freeaddrinfo(list);
    if (status != 0)
        return status;
    struct timeval timeout = {.tv_sec = IO_TIMEOUT_SECONDS};
    setsockopt(*fd_out, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(*fd_out, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (fetch->verbose) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        char address[80] = "?";
        if (getpeername(*fd_out, (struct sockaddr *)&peer, &length) == 0)
            latch_net_format_address((struct sockaddr *)&peer, length, address, sizeof address);
        fprintf(stderr, "* Connected to %s (%s)\n", fetch->url->host, address);
    }
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

/* A TLS 1.3 client finishes its handshake before the server has judged its
 * certificate: a fatal alert before any response byte is the server
 * refusing the handshake (certificate_required, unknown_ca, ...). */
static int rejected_after_handshake(const latch_conn *conn)
{
    return latch_conn_version(conn) == LATCH_VERSION_TLS13 &&
           latch_conn_error(conn) == LATCH_ERR_PEER_ALERT;
}

static int report_rejection(const latch_conn *conn)
{
    char alert[96];
    cli_describe_alert(conn, alert, sizeof alert);
    fprintf(stderr, "latch: TLS handshake failed: the server refused the connection after "
                    "the handshake: %s (%s)\n", cli_failure_reason(conn), alert);
    return CLI_EXIT_TLS;
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
    fprintf(stderr, "* Resumed: %s\n", latch_conn_resumed(conn) ? "yes" : "no");
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

static int discard_body(void *arg, const char *data, size_t length)
{
    (void)arg;
    (void)data;
    (void)length;
    return 0;
}

static int send_request(const struct get_fetch *fetch, latch_conn *conn, int fd)
{
    char request[LATCH_HTTP_MAX_TARGET + 1024];
    int length = latch_http_format_request(request, sizeof request, fetch->method, fetch->url,
                                           "latch/0.1");
    if (length < 0) {
        fprintf(stderr, "latch: request too long\n");
        return CLI_EXIT_USAGE;
    }
    if (fetch->verbose)
        print_head("> ", request, (size_t)length);
    ssize_t written = latch_blocking_write(conn, fd, request, (size_t)length);
    if (written >= 0)
        return 0;
    int saved_errno = errno;
    char scratch[256]; /* the server may have refused us with an alert: read it */
    if (-written == LATCH_ERR_IO && latch_conn_version(conn) == LATCH_VERSION_TLS13)
        (void)latch_blocking_read(conn, fd, scratch, sizeof scratch);
    if (rejected_after_handshake(conn))
        return report_rejection(conn);
    char alert[96];
    cli_describe_alert(conn, alert, sizeof alert);
    fprintf(stderr, "latch: sending the request failed: %s (%s)\n",
            -written == LATCH_ERR_IO ? strerror(saved_errno) : cli_failure_reason(conn), alert);
    return CLI_EXIT_RECEIVE;
}

/* The stream ended (close_notify, EOF, or an error): judge the response. */
static int end_of_stream(latch_conn *conn, latch_http_response *response, ssize_t result,
                         int got_bytes)
{
    if (result == -LATCH_ERR_CLOSED &&
        response->state == LATCH_HTTP_RESPONSE_BODY_CLOSE) {
        fprintf(stderr, "latch: connection closed without close_notify; "
                        "the response may be truncated\n");
        return CLI_EXIT_RECEIVE;
    }
    if (result < 0 && result != -LATCH_ERR_CLOSED) {
        if (!got_bytes && rejected_after_handshake(conn))
            return report_rejection(conn);
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

static int receive_response(const struct get_fetch *fetch, latch_conn *conn, int fd,
                            latch_http_response *response)
{
    char buffer[READ_CHUNK];
    int head_printed = 0, got_bytes = 0;
    while (response->state != LATCH_HTTP_RESPONSE_DONE) {
        ssize_t got = latch_blocking_read(conn, fd, buffer, sizeof buffer);
        if (got <= 0)
            return end_of_stream(conn, response, got, got_bytes);
        got_bytes = 1;
        if (latch_http_response_feed(response, buffer, (size_t)got) < 0) {
            if (ferror(stdout)) {
                fprintf(stderr, "latch: writing the body failed: %s\n", strerror(errno));
                return CLI_EXIT_WRITE;
            }
            fprintf(stderr, "latch: bad HTTP response: %s\n", response->error);
            return CLI_EXIT_RECEIVE;
        }
        if (fetch->verbose && response->head_complete && !head_printed) {
            print_head("< ", response->head, response->head_length);
            head_printed = 1;
        }
    }
    return 0;
}

/* Request and response over a connection whose handshake is done. */
static int exchange(struct get_fetch *fetch, latch_conn *conn, int fd)
{
    int status = send_request(fetch, conn, fd);
    if (status != 0)
        return status;
    static latch_http_response response; /* 64 KiB head buffer: not on the stack */
    int head = strcmp(fetch->method, "HEAD") == 0;
    latch_http_response_init(&response, head, fetch->write_body ? write_body : discard_body,
                             NULL);
    status = receive_response(fetch, conn, fd, &response);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "latch: writing the body failed: %s\n", strerror(errno));
        status = CLI_EXIT_WRITE;
    }
    fetch->http_status = response.status;
    if (status == 0 && response.status >= 400) {
        fprintf(stderr, "latch: server returned HTTP %d\n", response.status);
        status = CLI_EXIT_HTTP_ERROR;
    }
    return status;
}

static int run_connection(struct get_fetch *fetch, latch_conn *conn, int fd)
{
    if (fetch->trace != NULL && fetch->trace->count > 0)
        latch_conn_set_observer(conn, get_trace_observe, fetch->trace);
    if (fetch->offer != NULL && latch_conn_set_session(conn, fetch->offer) != 0 &&
        fetch->verbose)
        fprintf(stderr, "* Saved session not offered (it is for %s)\n",
                latch_session_server_name(fetch->offer));
    int error = latch_blocking_handshake(conn, fd);
    if (error != 0)
        return report_handshake_failure(conn, error, errno);
    fetch->resumed = latch_conn_resumed(conn);
    if (fetch->verbose)
        print_tls_parameters(conn);
    int status = exchange(fetch, conn, fd);
    /* TLS 1.3 tickets arrive after the handshake: ask once the response is in. */
    fetch->session = latch_conn_get_session(conn);
    if (!(latch_conn_status(conn) & LATCH_STATUS_FAILED))
        (void)latch_blocking_close(conn, fd);
    return status;
}

int get_fetch_run(struct get_fetch *fetch)
{
    char start[LATCH_HTTP_MAX_TARGET + 300];
    snprintf(start, sizeof start, "https://%s%s%s:%s%s", fetch->url->host_is_ipv6 ? "[" : "",
             fetch->url->host, fetch->url->host_is_ipv6 ? "]" : "", fetch->url->port,
             fetch->url->path);
    get_trace_note(fetch->trace, "start", start);
    fetch->session = NULL;
    fetch->resumed = 0;
    int fd = -1;
    int status = open_connection(fetch, &fd);
    if (status != 0)
        return status;
    latch_conn *conn = latch_conn_new(fetch->config, fetch->url->host);
    if (conn == NULL) {
        fprintf(stderr, "latch: cannot create a connection\n");
        status = CLI_EXIT_FAILURE;
    } else {
        status = run_connection(fetch, conn, fd);
        latch_conn_free(conn);
    }
    close(fd);
    get_trace_note(fetch->trace, "closed", status == 0 ? "close_notify, FIN" : "FIN");
    return status;
}
