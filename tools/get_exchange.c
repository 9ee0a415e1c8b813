/* latch get: one HTTP/1.1 request and its response over an open link. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get_link.h"

#include <errno.h>
#include <string.h>

#include "latch/net.h"

enum { READ_CHUNK = 16384, MAX_REQUEST_HEAD = LATCH_HTTP_MAX_TARGET + 16384 };

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

/* A reused connection the server had already closed: try again on a new
 * one (nothing of the response arrived). */
static int mark_stale(struct get_link *link, struct get_request *request, int error)
{
    if (link->requests > 1 && (error == LATCH_ERR_IO || error == LATCH_ERR_CLOSED)) {
        request->stale = 1;
        link->healthy = 0;
        return 1;
    }
    return 0;
}

static int report_send_failure(struct get_link *link, struct get_request *request,
                               ssize_t written, int saved_errno)
{
    char scratch[256]; /* the server may have refused us with an alert: read it */
    if (-written == LATCH_ERR_IO && latch_conn_version(link->conn) == LATCH_VERSION_TLS13 &&
        link->requests == 1)
        (void)latch_blocking_read(link->conn, link->fd, scratch, sizeof scratch);
    link->healthy = 0;
    if (rejected_after_handshake(link->conn))
        return report_rejection(link->conn);
    if (mark_stale(link, request, (int)-written))
        return CLI_EXIT_RECEIVE;
    char alert[96];
    cli_describe_alert(link->conn, alert, sizeof alert);
    fprintf(stderr, "latch: sending the request failed: %s (%s)\n",
            -written == LATCH_ERR_IO ? strerror(saved_errno) : cli_failure_reason(link->conn),
            alert);
    return CLI_EXIT_RECEIVE;
}

static int send_request(struct get_link *link, struct get_request *request)
{
    static char head[MAX_REQUEST_HEAD]; /* latch get is single-threaded */
    latch_http_request_spec spec = {
        .method = request->method, .url = request->url, .user_agent = "latch/0.1",
        .headers = request->headers, .header_count = request->header_count,
        .has_body = request->has_body, .body_length = request->body_length,
        .content_type = "application/x-www-form-urlencoded", .keep_alive = request->keep_alive};
    int length = latch_http_write_request(head, sizeof head, &spec);
    if (length < 0) {
        fprintf(stderr, "latch: request head too long\n");
        return CLI_EXIT_USAGE;
    }
    if (link->verbose)
        print_head("> ", head, (size_t)length);
    link->requests++;
    ssize_t written = latch_blocking_write(link->conn, link->fd, head, (size_t)length);
    if (written >= 0 && request->has_body && request->body_length > 0)
        written = latch_blocking_write(link->conn, link->fd, request->body, request->body_length);
    if (written >= 0)
        return 0;
    return report_send_failure(link, request, written, errno);
}

/* The stream ended (close_notify, EOF, or an error): judge the response. */
static int end_of_stream(struct get_link *link, struct get_request *request,
                         latch_http_response *response, ssize_t result, int got_bytes)
{
    latch_conn *conn = link->conn;
    link->reusable = 0;
    if (!got_bytes && result <= 0 && mark_stale(link, request, result == 0 ? LATCH_ERR_CLOSED
                                                                          : (int)-result))
        return CLI_EXIT_RECEIVE;
    if (result == -LATCH_ERR_CLOSED && response->state == LATCH_HTTP_RESPONSE_BODY_CLOSE) {
        fprintf(stderr, "latch: connection closed without close_notify; "
                        "the response may be truncated\n");
        return CLI_EXIT_RECEIVE;
    }
    if (result < 0 && result != -LATCH_ERR_CLOSED) {
        link->healthy = 0;
        if (!got_bytes && rejected_after_handshake(conn))
            return report_rejection(conn);
        char alert[96];
        cli_describe_alert(conn, alert, sizeof alert);
        fprintf(stderr, "latch: receiving failed: %s (%s)\n",
                -result == LATCH_ERR_IO ? (errno == EAGAIN ? "timed out" : strerror(errno))
                                        : cli_failure_reason(conn),
                alert);
        return CLI_EXIT_RECEIVE;
    }
    if (latch_http_response_finish(response) != 0) {
        fprintf(stderr, "latch: %s\n", response->error);
        return CLI_EXIT_RECEIVE;
    }
    return 0;
}

/* The response being read: the head reaches the sink before any body byte. */
struct reading {
    struct get_link *link;
    struct get_request *request;
    latch_http_response *response;
    int head_seen, got_bytes;
};

static int announce_head(struct reading *reading)
{
    if (reading->head_seen)
        return 0;
    reading->head_seen = 1;
    if (reading->link->verbose)
        print_head("< ", reading->response->head, reading->response->head_length);
    struct get_sink *sink = reading->request->sink;
    return sink->on_head(sink, reading->response) != 0 ? -1 : 0;
}

static int deliver_body(void *arg, const char *data, size_t length)
{
    struct reading *reading = arg;
    struct get_sink *sink = reading->request->sink;
    if (announce_head(reading) != 0)
        return -1;
    return sink->on_body(sink, data, length);
}

/* Feed one read to the parser. */
static int feed(struct reading *reading, const char *data, size_t length)
{
    latch_http_response *response = reading->response;
    ssize_t used = latch_http_response_feed(response, data, length);
    if (used < 0) {
        reading->link->healthy = 0;
        if (reading->request->sink->status != 0)
            return reading->request->sink->status;
        fprintf(stderr, "latch: bad HTTP response: %s\n", response->error);
        return CLI_EXIT_RECEIVE;
    }
    if (response->head_complete && announce_head(reading) != 0)
        return reading->request->sink->status;
    if ((size_t)used < length && response->state == LATCH_HTTP_RESPONSE_DONE)
        reading->link->reusable = -1; /* bytes after the response: never reuse this link */
    return 0;
}

static int receive_response(struct reading *reading)
{
    char buffer[READ_CHUNK];
    struct get_link *link = reading->link;
    while (reading->response->state != LATCH_HTTP_RESPONSE_DONE) {
        ssize_t got = latch_blocking_read(link->conn, link->fd, buffer, sizeof buffer);
        if (got <= 0) {
            int status = end_of_stream(link, reading->request, reading->response, got,
                                       reading->got_bytes);
            if (status == 0 && announce_head(reading) != 0)
                return reading->request->sink->status;
            return status;
        }
        reading->got_bytes = 1;
        int status = feed(reading, buffer, (size_t)got);
        if (status != 0)
            return status;
    }
    return 0;
}

int get_link_exchange(struct get_link *link, struct get_request *request,
                      latch_http_response *response)
{
    request->stale = 0;
    request->sink->status = 0;
    link->reusable = 0;
    int status = send_request(link, request);
    if (status != 0)
        return status;
    struct reading reading = {link, request, response, 0, 0};
    latch_http_response_init(response, strcmp(request->method, "HEAD") == 0, deliver_body,
                             &reading);
    status = receive_response(&reading);
    int extra_bytes = link->reusable < 0;
    link->reusable = status == 0 && !extra_bytes && request->keep_alive && response->keep_alive &&
                     response->state == LATCH_HTTP_RESPONSE_DONE &&
                     !(latch_conn_status(link->conn) &
                       (LATCH_STATUS_CLOSED | LATCH_STATUS_FAILED));
    return status;
}
