/* latch get: one TLS connection (resolve, TCP connect, handshake, close)
 * with the blocking helpers.  Each step is noted on the link's tracers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get_link.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "latch/net.h"
#include "net/net_detail.h"

enum { CONNECT_TIMEOUT_MS = 15000, IO_TIMEOUT_SECONDS = 60 };

/* "[::1]" / "example.com" for messages. */
static void host_text(const char *host, char *out, size_t size)
{
    int v6 = strchr(host, ':') != NULL;
    snprintf(out, size, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
}

static int resolve(const struct get_link *link, struct addrinfo **list)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    char host[LATCH_HTTP_MAX_HOST + 2];
    int status = getaddrinfo(link->connect_host, link->connect_port, &hints, list);
    if (status == EAI_ADDRFAMILY || (status == EAI_NONAME && strchr(link->connect_host, ':'))) {
        hints.ai_flags = 0; /* a literal of a family with no configured address (::1) */
        status = getaddrinfo(link->connect_host, link->connect_port, &hints, list);
    }
    if (status != 0) {
        host_text(link->connect_host, host, sizeof host);
        fprintf(stderr, "latch: could not resolve %s port %s: %s\n", host, link->connect_port,
                status == EAI_SYSTEM ? strerror(errno) : gai_strerror(status));
        get_trace_note(link->trace, "DNS resolution", "failed");
        return CLI_EXIT_RESOLVE;
    }
    char first[NI_MAXHOST] = "?";
    getnameinfo((*list)->ai_addr, (*list)->ai_addrlen, first, sizeof first, NULL, 0,
                NI_NUMERICHOST);
    get_trace_note(link->trace, "DNS resolution", first);
    return 0;
}

/* TCP connect to each resolved address in turn (SYN, SYN-ACK, ACK). */
static int connect_addresses(struct get_link *link, const struct addrinfo *list, int timeout_ms)
{
    int fd = -1, last_errno = 0;
    for (const struct addrinfo *candidate = list; candidate != NULL && fd < 0;
         candidate = candidate->ai_next) {
        if (candidate->ai_family != AF_INET && candidate->ai_family != AF_INET6)
            continue;
        /* with a tracer: a capture of the connection's segments from the SYN on */
        fd = get_trace_connect(link->trace, candidate->ai_addr, candidate->ai_addrlen,
                               timeout_ms);
        if (fd < 0)
            last_errno = errno;
    }
    if (fd < 0) {
        char host[LATCH_HTTP_MAX_HOST + 2];
        host_text(link->connect_host, host, sizeof host);
        fprintf(stderr, "latch: could not connect to %s port %s: %s\n", host, link->connect_port,
                last_errno ? strerror(last_errno) : "no usable address");
        get_trace_note(link->trace, "TCP connect", "failed");
        return CLI_EXIT_CONNECT;
    }
    get_trace_note(link->trace, "TCP connect", "SYN, SYN-ACK, ACK");
    link->fd = fd;
    return 0;
}

static int open_socket(struct get_link *link, int timeout_ms)
{
    struct addrinfo *list = NULL;
    int status = resolve(link, &list);
    if (status != 0)
        return status;
    status = connect_addresses(link, list, timeout_ms > 0 ? timeout_ms : CONNECT_TIMEOUT_MS);
    freeaddrinfo(list);
    if (status != 0)
        return status;
    struct timeval timeout = {.tv_sec = IO_TIMEOUT_SECONDS};
    setsockopt(link->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(link->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (link->verbose) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        char address[80] = "?";
        if (getpeername(link->fd, (struct sockaddr *)&peer, &length) == 0)
            latch_net_format_address((struct sockaddr *)&peer, length, address, sizeof address);
        fprintf(stderr, "* Connected to %s (%s)\n", link->host, address);
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

static int handshake(struct get_link *link, const struct get_link_target *target)
{
    link->conn = latch_conn_new(target->config, target->url->host);
    if (link->conn == NULL) {
        fprintf(stderr, "latch: cannot create a connection\n");
        return CLI_EXIT_FAILURE;
    }
    if (link->trace != NULL && link->trace->count > 0)
        latch_conn_set_observer(link->conn, get_trace_observe, link->trace);
    if (target->offer != NULL && latch_conn_set_session(link->conn, target->offer) != 0 &&
        link->verbose)
        fprintf(stderr, "* Saved session not offered (it is for %s)\n",
                latch_session_server_name(target->offer));
    int error = latch_blocking_handshake(link->conn, link->fd);
    if (error != 0)
        return report_handshake_failure(link->conn, error, errno);
    link->handshake_us = latch_trace_now_us();
    if (link->verbose)
        print_tls_parameters(link->conn);
    return 0;
}

static void copy_text(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text);
}

int get_link_open(struct get_link *link, const struct get_link_target *target)
{
    const latch_url *url = target->url;
    memset(link, 0, sizeof *link);
    link->fd = -1;
    link->trace = target->trace;
    link->verbose = target->verbose;
    copy_text(link->host, sizeof link->host, url->host);
    copy_text(link->port, sizeof link->port, url->port);
    copy_text(link->connect_host, sizeof link->connect_host,
              target->connect_host != NULL ? target->connect_host : url->host);
    copy_text(link->connect_port, sizeof link->connect_port,
              target->connect_port != NULL ? target->connect_port : url->port);
    char start[LATCH_HTTP_MAX_TARGET + 300];
    latch_url_format(url, start, sizeof start);
    get_trace_note(link->trace, "start", start);
    link->start_us = latch_trace_now_us();
    int status = open_socket(link, target->connect_timeout_ms);
    if (status != 0)
        return status;
    link->connected_us = latch_trace_now_us();
    status = handshake(link, target);
    link->healthy = status == 0;
    return status;
}

int get_link_matches(const struct get_link *link, const latch_url *url, const char *connect_host,
                     const char *connect_port)
{
    return link->fd >= 0 && link->conn != NULL && strcmp(link->host, url->host) == 0 &&
           strcmp(link->port, url->port) == 0 &&
           strcmp(link->connect_host, connect_host != NULL ? connect_host : url->host) == 0 &&
           strcmp(link->connect_port, connect_port != NULL ? connect_port : url->port) == 0;
}

latch_session *get_link_session(const struct get_link *link)
{
    return link->conn != NULL ? latch_conn_get_session(link->conn) : NULL;
}

void get_link_close(struct get_link *link)
{
    int graceful = link->conn != NULL && link->healthy &&
                   !(latch_conn_status(link->conn) & LATCH_STATUS_FAILED);
    if (graceful)
        (void)latch_blocking_close(link->conn, link->fd);
    latch_conn_free(link->conn);
    link->conn = NULL;
    if (link->fd >= 0) {
        get_trace_before_close(link->trace, link->fd);
        close(link->fd);
        get_trace_note(link->trace, "closed", graceful ? "close_notify, FIN" : "FIN");
        get_trace_after_close(link->trace); /* the closing segments, into the trace */
    }
    link->fd = -1;
    link->reusable = 0;
}
