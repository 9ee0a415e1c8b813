/* latch serve: HTTP/1.1 over one TLS connection.  Requests are parsed from
 * a bounded input buffer and answered one at a time, in order (pipelined
 * requests wait in the buffer, then in the engine, then in the socket);
 * files are streamed a record at a time, each one handed to the socket
 * before the next is sealed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "serve_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    CHUNK_SIZE = 16384, /* plaintext per latch_conn_write: one full TLS record */
    /* Seal the next record only once the socket has taken (nearly) all of
     * the last one.  The engine frees its send queue whenever it drains and
     * regrows it by doubling, copying what it holds (and wiping the old
     * block): batching four 16 KiB records before a send cost a copy and a
     * wipe of every byte (a third of the server's CPU for 1 MiB files); one
     * full record per send costs neither, and MSG_MORE (more_follows) lets
     * the kernel still build large segments from them.  Small things (a
     * session ticket, a small reply) still share a send. */
    MAX_PENDING_SEND = 4096,
    FILE_READ_AHEAD = 65536 /* file bytes per pread for large replies */
};

static const struct serve_options *options_of(const struct serve_conn *conn)
{
    return conn->worker->shared->options;
}

/* Request lines go to the worker's buffers and out once per event batch
 * (serve_http_flush_logs, before the worker sleeps): one write for all the
 * requests of a batch instead of one per request.  With --trace (its
 * lines go straight to stderr) and in proxy mode, lines are written at once
 * so they stay in order with the rest.  The two sinks: */
static void to_stderr(struct serve_worker *worker, const char *data, size_t length)
{
    (void)worker;
    (void)cli_write_all(STDERR_FILENO, data, length);
}

static void to_access_log(struct serve_worker *worker, const char *data, size_t length)
{
    if (length > 0)
        serve_access_log_write(worker->shared, data, length);
}

static int logs_buffered(const struct serve_worker *worker)
{
    const struct serve_options *options = worker->shared->options;
    return options->mode == SERVE_MODE_HTTP && !options->trace;
}

typedef void (*log_sink)(struct serve_worker *worker, const char *data, size_t length);

static void flush_lines(struct serve_worker *worker, char *buffer, size_t *used, log_sink sink)
{
    sink(worker, buffer, *used);
    *used = 0;
}

/* A line into buffer (size bytes, *used of them taken), out through sink
 * when the buffer is full; at once when not buffering, or too long. */
static void buffer_line(struct serve_worker *worker, char *buffer, size_t size, size_t *used,
                        log_sink sink, const char *line, size_t length)
{
    if (!logs_buffered(worker) || length > size) {
        flush_lines(worker, buffer, used, sink);
        sink(worker, line, length);
        return;
    }
    if (*used + length > size)
        flush_lines(worker, buffer, used, sink);
    memcpy(buffer + *used, line, length);
    *used += length;
}

void serve_http_flush_logs(struct serve_worker *worker)
{
    flush_lines(worker, worker->access_log, &worker->access_log_length, to_access_log);
    flush_lines(worker, worker->stderr_log, &worker->stderr_log_length, to_stderr);
}

void serve_log_stderr(struct serve_worker *worker, const char *line, size_t length)
{
    buffer_line(worker, worker->stderr_log, sizeof worker->stderr_log,
                &worker->stderr_log_length, to_stderr, line, length);
}

static void log_access_line(struct serve_worker *worker, const char *line, size_t length)
{
    buffer_line(worker, worker->access_log, sizeof worker->access_log,
                &worker->access_log_length, to_access_log, line, length);
}

/* Move decrypted bytes from the engine into the HTTP input buffer (taken
 * when plaintext is there, given back when empty). */
static void pull_plaintext(struct serve_conn *conn)
{
    size_t capacity = (size_t)options_of(conn)->max_header_size;
    if (conn->input == NULL && !conn->closing) {
        unsigned status = latch_conn_status(conn->tls);
        if (!(status & LATCH_STATUS_HAS_APP)) {
            if (status & LATCH_STATUS_CLOSED)
                conn->closing = 1; /* close_notify: ours follows the reply */
            return;
        }
        if ((conn->input = malloc(capacity)) == NULL) {
            conn->dead = 1;
            return;
        }
    }
    while (conn->input != NULL && conn->input_length < capacity && !conn->closing) {
        ssize_t got = latch_conn_read(conn->tls, conn->input + conn->input_length,
                                      capacity - conn->input_length);
        if (got == -LATCH_ERR_WOULD_BLOCK)
            return;
        if (got < 0) {
            serve_tls_fail(conn);
            return;
        }
        if (got == 0) { /* close_notify: answer with ours once the reply is out */
            conn->closing = 1;
            return;
        }
        if (conn->input_length == 0 && conn->request_started_ms == 0)
            conn->request_started_ms = serve_now_ms();
        conn->input_length += (size_t)got;
    }
}

static void consume_input(struct serve_conn *conn, size_t count)
{
    memmove(conn->input, conn->input + count, conn->input_length - count);
    conn->input_length -= count;
    conn->request_started_ms = conn->input_length > 0 ? serve_now_ms() : 0;
    if (conn->input_length == 0) { /* idle keep-alive connections hold no buffer */
        free(conn->input);
        conn->input = NULL;
    }
}

/* With --client-ca: " client=\"CN=...\"" (also when resumed: the session
 * carries the verified subject) or " client=anonymous". */
static void describe_client(const struct serve_conn *conn, char *out, size_t size)
{
    char subject[256];
    const char *peer_subject = latch_conn_peer_subject(conn->tls);
    out[0] = '\0';
    if (options_of(conn)->client_auth == LATCH_CLIENT_AUTH_NONE)
        return;
    if (peer_subject != NULL) {
        cli_printable(peer_subject, subject, sizeof subject);
        snprintf(out, size, " client=\"%s\"", subject);
    } else {
        snprintf(out, size, " client=anonymous");
    }
}

/* The CLF authuser: the client certificate's CN, else "-". */
static void log_user(const struct serve_conn *conn, char *out, size_t size)
{
    const char *subject = latch_conn_peer_subject(conn->tls);
    const char *cn = subject != NULL ? strstr(subject, "CN=") : NULL;
    snprintf(out, size, "-");
    if (cn == NULL)
        return;
    size_t used = 0;
    for (cn += 3; *cn != '\0' && *cn != ',' && *cn != '/' && used + 1 < size; cn++)
        out[used++] = (*cn > ' ' && *cn < 0x7f && *cn != '"') ? *cn : '_';
    out[used] = '\0';
}

/* Host part of "1.2.3.4:5" / "[::1]:5". */
static void peer_host(const struct serve_conn *conn, char *out, size_t size)
{
    const char *start = conn->peer[0] == '[' ? conn->peer + 1 : conn->peer;
    const char *end = conn->peer[0] == '[' ? strchr(start, ']') : strrchr(start, ':');
    size_t length = end != NULL ? (size_t)(end - start) : strlen(start);
    snprintf(out, size, "%.*s", (int)length, start);
}

/* The request target for a quoted log field: '"' and '\\' escaped. */
static void quote_target(const char *target, char *out, size_t size)
{
    size_t used = 0;
    for (; *target != '\0' && used + 3 < size; target++) {
        if (*target == '"' || *target == '\\')
            out[used++] = '\\';
        out[used++] = *target;
    }
    out[used] = '\0';
}

/* Common Log Format: host ident authuser [date] "request" status bytes */
static void access_log(const struct serve_conn *conn, const latch_http_request *request,
                       uint64_t bytes)
{
    char host[80], user[64], size[24], target[LATCH_HTTP_MAX_TARGET * 2];
    char line[sizeof target + 512];
    struct serve_worker *worker = conn->worker;
    time_t now = time(NULL);
    if (now != worker->access_log_time || worker->access_log_date[0] == '\0') {
        struct tm local;
        localtime_r(&now, &local);
        strftime(worker->access_log_date, sizeof worker->access_log_date,
                 "%d/%b/%Y:%H:%M:%S %z", &local);
        worker->access_log_time = now;
    }
    const char *date = worker->access_log_date;
    peer_host(conn, host, sizeof host);
    log_user(conn, user, sizeof user);
    if (bytes > 0)
        snprintf(size, sizeof size, "%llu", (unsigned long long)bytes);
    else
        snprintf(size, sizeof size, "-");
    int length;
    if (request != NULL) {
        quote_target(request->target, target, sizeof target);
        length = snprintf(line, sizeof line, "%s - %s [%s] \"%s %s HTTP/1.%d\" %d %s\n", host,
                          user, date, request->method, target, request->version_minor,
                          conn->reply.status, size);
    } else {
        length = snprintf(line, sizeof line, "%s - %s [%s] \"-\" %d %s\n", host, user, date,
                          conn->reply.status, size);
    }
    if (length > 0 && (size_t)length < sizeof line)
        log_access_line(conn->worker, line, (size_t)length);
}

static void log_request(const struct serve_conn *conn, const latch_http_request *request)
{
    const latch_http_reply *reply = &conn->reply;
    uint64_t bytes = reply->body_length + reply->file_size;
    if (options_of(conn)->access_log != NULL)
        access_log(conn, request, bytes);
    if (options_of(conn)->quiet)
        return;
    char client[300], line[LATCH_HTTP_MAX_TARGET + 512];
    describe_client(conn, client, sizeof client);
    int length = snprintf(line, sizeof line, "serve: %s: \"%s %s HTTP/1.%d\" %d %llu%s\n",
                          conn->peer, request != NULL ? request->method : "-",
                          request != NULL ? request->target : "-",
                          request != NULL ? request->version_minor : 1, reply->status,
                          (unsigned long long)bytes, client);
    if (length > 0)
        serve_log_stderr(conn->worker, line,
                         (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
}

static void start_reply(struct serve_conn *conn)
{
    conn->reply_active = 1;
    conn->head_sent = 0;
    conn->body_sent = 0;
    conn->file_sent = 0;
}

/* The reply to one parsed request (413 for a body over the limit). */
static void prepare_reply(struct serve_conn *conn, const latch_http_request *request)
{
    const struct serve_options *options = options_of(conn);
    int head_only = strcmp(request->method, "HEAD") == 0;
    if (request->content_length > (uint64_t)options->max_body_size) {
        latch_http_reply_error(&conn->reply, 413, 0, head_only);
        conn->input_length = 0; /* the body is not read: the connection closes */
        conn->discard = 0;
        return;
    }
    conn->discard = request->content_length;
    latch_http_serve_static_at(conn->worker->root_fd, conn->worker->shared->root, request,
                               &conn->reply);
    /* A client waiting for 100 Continue may never send its body. */
    if (request->expect_continue && request->content_length > 0)
        latch_http_reply_set_close(&conn->reply);
    if (conn->last_request || conn->worker->stopping)
        latch_http_reply_set_close(&conn->reply);
}

/* Skip request body bytes still in the input buffer; 1 while more are due. */
static int skip_body(struct serve_conn *conn)
{
    if (conn->discard == 0)
        return 0;
    size_t drop = conn->input_length < conn->discard ? conn->input_length : (size_t)conn->discard;
    if (drop > 0)
        consume_input(conn, drop);
    conn->discard -= drop;
    return conn->discard > 0;
}

/* Parse the next request in the input buffer and prepare its reply. */
static void next_request(struct serve_conn *conn)
{
    latch_http_request *request = &conn->worker->request;
    while (!conn->reply_active && !conn->closing) {
        if (skip_body(conn) || conn->input_length == 0)
            return;
        int parsed = latch_http_parse_request_limited(
            conn->input, conn->input_length, (size_t)options_of(conn)->max_header_size, request);
        if (parsed == 0)
            return;
        if (parsed < 0) {
            latch_http_reply_error(&conn->reply, -parsed, 0, 0);
            conn->input_length = 0;
            log_request(conn, NULL);
        } else {
            consume_input(conn, (size_t)parsed);
            prepare_reply(conn, request);
            log_request(conn, request);
        }
        start_reply(conn);
    }
}

/* Copy the next unsent reply bytes (head, body, file) into chunk. */
static ssize_t gather_reply(struct serve_conn *conn, char *chunk, size_t size)
{
    latch_http_reply *reply = &conn->reply;
    size_t used = reply->head_length - conn->head_sent;
    used = used < size ? used : size;
    memcpy(chunk, reply->head + conn->head_sent, used);
    size_t body_left = reply->body_length - conn->body_sent;
    size_t take = body_left < size - used ? body_left : size - used;
    memcpy(chunk + used, reply->body + conn->body_sent, take);
    used += take;
    if (reply->file_fd >= 0 && used < size && conn->file_sent < reply->file_size) {
        uint64_t file_left = reply->file_size - conn->file_sent;
        size_t want = file_left < size - used ? (size_t)file_left : size - used;
        ssize_t got = pread(reply->file_fd, chunk + used, want,
                            (off_t)(reply->file_offset + conn->file_sent));
        if (got <= 0)
            return -1; /* the file shrank or failed under us */
        used += (size_t)got;
    }
    return (ssize_t)used;
}

/* Large files, once the head is out: records are sealed straight from a
 * read-ahead buffer filled FILE_READ_AHEAD bytes per pread.  Returns the
 * bytes at *data (0: not this way), -1 if the file failed. */
static ssize_t read_ahead(struct serve_conn *conn, size_t size, const char **data)
{
    latch_http_reply *reply = &conn->reply;
    if (conn->file_buffer_used == conn->file_buffered) {
        uint64_t file_left = reply->file_size - conn->file_sent;
        if (reply->file_fd < 0 || conn->head_sent < reply->head_length ||
            conn->body_sent < reply->body_length || file_left <= size)
            return 0;
        if (conn->file_buffer == NULL && (conn->file_buffer = malloc(FILE_READ_AHEAD)) == NULL)
            return 0;
        size_t want = file_left < FILE_READ_AHEAD ? (size_t)file_left : FILE_READ_AHEAD;
        ssize_t got = pread(reply->file_fd, conn->file_buffer, want,
                            (off_t)(reply->file_offset + conn->file_sent));
        if (got <= 0)
            return -1; /* the file shrank or failed under us */
        conn->file_buffered = (size_t)got;
        conn->file_buffer_used = 0;
    }
    size_t left = conn->file_buffered - conn->file_buffer_used;
    *data = conn->file_buffer + conn->file_buffer_used;
    return (ssize_t)(left < size ? left : size);
}

static void advance_reply(struct serve_conn *conn, size_t count)
{
    latch_http_reply *reply = &conn->reply;
    size_t step = reply->head_length - conn->head_sent;
    step = step < count ? step : count;
    conn->head_sent += step;
    count -= step;
    step = reply->body_length - conn->body_sent;
    step = step < count ? step : count;
    conn->body_sent += step;
    conn->file_sent += count - step;
}

static int reply_finished(const struct serve_conn *conn)
{
    const latch_http_reply *reply = &conn->reply;
    return conn->head_sent == reply->head_length && conn->body_sent == reply->body_length &&
           (reply->file_fd < 0 || conn->file_sent == reply->file_size);
}

static void release_read_ahead(struct serve_conn *conn)
{
    free(conn->file_buffer);
    conn->file_buffer = NULL;
    conn->file_buffered = conn->file_buffer_used = 0;
}

static void end_reply(struct serve_conn *conn)
{
    conn->reply_active = 0;
    if (!conn->reply.keep_alive || conn->last_request)
        conn->closing = 1;
    latch_http_reply_release(&conn->reply);
    release_read_ahead(conn);
    if (conn->input_length > 0) /* a pipelined request: its time starts now */
        conn->request_started_ms = serve_now_ms();
}

/* Seal reply bytes, one record at a time: the next once the socket took
 * (nearly) all of the last (MAX_PENDING_SEND). */
static void pump_reply(struct serve_conn *conn)
{
    char chunk[CHUNK_SIZE];
    while (conn->reply_active && !conn->dead && serve_tls_pending(conn) < MAX_PENDING_SEND) {
        if (reply_finished(conn)) {
            end_reply(conn);
            return;
        }
        const char *data = chunk;
        ssize_t length = read_ahead(conn, sizeof chunk, &data);
        int ahead = length > 0;
        if (length == 0)
            length = gather_reply(conn, chunk, sizeof chunk);
        if (length < 0) {
            fprintf(stderr, "serve: %s: reading the file failed\n", conn->peer);
            conn->dead = 1;
            return;
        }
        ssize_t queued = latch_conn_write(conn->tls, data, (size_t)length);
        if (queued == -LATCH_ERR_WOULD_BLOCK || queued == 0)
            return;
        if (queued < 0) {
            serve_tls_fail(conn);
            return;
        }
        if (ahead)
            conn->file_buffer_used += (size_t)queued;
        advance_reply(conn, (size_t)queued);
        conn->more_follows = !reply_finished(conn);
        if (!conn->more_follows) { /* now: a close_notify then leaves with the last record */
            end_reply(conn);
            return;
        }
    }
}

/* Serve queued requests until a reply is waiting on the socket. */
static void serve_requests(struct serve_conn *conn)
{
    for (;;) {
        pull_plaintext(conn);
        if (!conn->dead)
            next_request(conn);
        if (conn->dead || !conn->reply_active)
            return;
        pump_reply(conn);
        if (conn->dead || conn->reply_active)
            return;
    }
}

/* Handshake, requests and replies, until the socket stops taking bytes. */
static void make_progress(struct serve_conn *conn)
{
    for (;;) {
        if (latch_conn_status(conn->tls) & LATCH_STATUS_FAILED) {
            serve_tls_fail(conn);
            return;
        }
        if (!conn->handshake_done && (latch_conn_status(conn->tls) & LATCH_STATUS_READY)) {
            conn->handshake_done = 1;
            conn->last_active_ms = serve_now_ms();
        }
        if (conn->handshake_done && !conn->close_queued)
            serve_requests(conn);
        if (conn->dead)
            return;
        if (conn->closing && !conn->reply_active && !conn->close_queued) {
            (void)latch_conn_close(conn->tls);
            conn->close_queued = 1;
        }
        ssize_t written = serve_tls_flush(conn);
        if (written < 0) {
            conn->dead = 1;
            return;
        }
        if (written == 0)
            return;
    }
}

void serve_http_progress(struct serve_conn *conn)
{
    if (!conn->dead && !conn->draining)
        make_progress(conn);
    if (!conn->dead)
        serve_finish_closing(conn);
    if (conn->dead) {
        serve_conn_destroy(conn);
        return;
    }
    serve_update_interest(conn);
}

void serve_http_close(struct serve_conn *conn)
{
    conn->closing = 1;
    serve_http_progress(conn);
}

void serve_http_stop(struct serve_conn *conn)
{
    if (!conn->handshake_done)
        return; /* it may finish its handshake and send one request */
    if (!conn->reply_active && conn->input_length == 0 && conn->discard == 0) {
        serve_http_close(conn);
        return;
    }
    conn->last_request = 1;
    if (conn->reply_active && conn->head_sent == 0)
        latch_http_reply_set_close(&conn->reply);
}

int serve_http_timed_out(struct serve_conn *conn, uint64_t now)
{
    const struct serve_options *options = options_of(conn);
    if (!conn->handshake_done || conn->reply_active || conn->closing ||
        conn->request_started_ms == 0 || conn->discard > 0 ||
        now - conn->request_started_ms <= (uint64_t)options->request_timeout_ms)
        return 0;
    latch_http_reply_error(&conn->reply, 408, 0, 0);
    conn->input_length = 0;
    conn->request_started_ms = 0;
    log_request(conn, NULL);
    start_reply(conn);
    serve_http_progress(conn);
    return 1;
}
