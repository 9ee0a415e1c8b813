/* One server connection: socket bytes <-> engine <-> HTTP requests. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "serve.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "net/net_detail.h"

enum {
    CHUNK_SIZE = 16384,
    MAX_PENDING_SEND = 65536, /* stop encrypting while this much waits for the socket */
    HANDSHAKE_TIMEOUT_MS = 15000,
    IDLE_TIMEOUT_MS = 60000,
    DRAIN_TIMEOUT_MS = 3000
};

uint64_t serve_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

/* --trace: a tracer labelled "conn N" watching this connection only. */
static void start_trace(struct serve_conn *conn)
{
    const struct serve_options *options = conn->context->options;
    char label[32];
    if (!options->trace)
        return;
    snprintf(label, sizeof label, "conn %lu", conn->id);
    conn->tracer = latch_tracer_new(options->trace_format, stderr, label);
    if (conn->tracer == NULL)
        return;
    latch_tracer_note(conn->tracer, latch_trace_now_us(), "accepted", conn->peer);
    latch_conn_set_observer(conn->tls, latch_tracer_observe, conn->tracer);
}

void serve_conn_open(struct serve_context *context, int fd, const struct sockaddr *peer,
                     socklen_t peer_length)
{
    struct serve_conn *conn = calloc(1, sizeof *conn);
    latch_conn *tls = conn != NULL ? latch_conn_new(context->current->config, NULL) : NULL;
    struct epoll_event event = {.events = EPOLLIN};
    event.data.ptr = conn;
    if (tls == NULL || epoll_ctl(context->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        fprintf(stderr, "serve: cannot set up a connection: %s\n",
                tls == NULL ? "engine refused" : strerror(errno));
        latch_conn_free(tls);
        free(conn);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->context = context;
    conn->fd = fd;
    conn->id = ++context->next_id;
    conn->config = context->current;
    conn->config->users++;
    conn->tls = tls;
    conn->interest = EPOLLIN;
    conn->reply.file_fd = -1;
    conn->last_active_ms = serve_now_ms();
    latch_net_format_address(peer, peer_length, conn->peer, sizeof conn->peer);
    start_trace(conn);
    conn->next = context->connections;
    if (context->connections != NULL)
        context->connections->prev = conn;
    context->connections = conn;
    context->connection_count++;
}

static void finish_trace(struct serve_conn *conn)
{
    if (conn->tracer == NULL)
        return;
    latch_tracer_note(conn->tracer, latch_trace_now_us(), "closed",
                      conn->close_queued ? "close_notify, FIN" : "FIN");
    latch_tracer_finish(conn->tracer);
    latch_tracer_free(conn->tracer);
    conn->tracer = NULL;
}

void serve_conn_destroy(struct serve_conn *conn)
{
    struct serve_context *context = conn->context;
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        context->connections = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    context->connection_count--;
    close(conn->fd); /* also leaves the epoll set */
    latch_http_reply_release(&conn->reply);
    finish_trace(conn);
    latch_conn_free(conn->tls);
    serve_config_ref_release(conn->config); /* frees a replaced configuration with its last user */
    free(conn);
}

static void log_failure(struct serve_conn *conn, const char *reason, const char *alert)
{
    fprintf(stderr, "serve: %s: %s failed: %s (%s)\n", conn->peer,
            conn->handshake_done ? "connection" : "handshake", reason, alert);
}

/* Write pending wire bytes until the socket would block.
 * Returns bytes written, or -1 if the socket is broken. */
static ssize_t flush_wire(struct serve_conn *conn)
{
    ssize_t total = 0;
    for (;;) {
        size_t pending = 0;
        const uint8_t *data = latch_conn_send_buf(conn->tls, &pending);
        if (data == NULL || pending == 0)
            return total;
        ssize_t written = send(conn->fd, data, pending, MSG_NOSIGNAL);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return total;
        if (written <= 0)
            return -1;
        latch_conn_send_done(conn->tls, (size_t)written);
        total += written;
        conn->last_active_ms = serve_now_ms();
    }
}

/* The engine failed: log, send its alert if the socket takes it, and drop. */
static void fail_engine(struct serve_conn *conn)
{
    char alert[96];
    cli_describe_alert(conn->tls, alert, sizeof alert);
    log_failure(conn, cli_failure_reason(conn->tls), alert);
    (void)flush_wire(conn);
    conn->dead = 1;
}

static void receive_while_draining(struct serve_conn *conn)
{
    char scratch[4096];
    ssize_t got = read(conn->fd, scratch, sizeof scratch);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
        conn->dead = 1;
}

static void receive_wire(struct serve_conn *conn)
{
    if (conn->draining) {
        receive_while_draining(conn);
        return;
    }
    size_t room = 0;
    uint8_t *space = latch_conn_recv_buf(conn->tls, &room);
    if (space == NULL || room == 0 || conn->peer_eof)
        return;
    ssize_t got = read(conn->fd, space, room);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        if (!conn->handshake_done)
            log_failure(conn, got == 0 ? "peer closed the connection" : strerror(errno),
                        "no alert");
        conn->peer_eof = 1;
        /* A peer that half-closes after its request still gets the reply. */
        conn->closing = 1;
        if (got < 0 || !conn->handshake_done || !conn->reply_active)
            conn->dead = 1;
        return;
    }
    conn->last_active_ms = serve_now_ms();
    int error = latch_conn_recv_done(conn->tls, (size_t)got);
    if (error != 0 || (latch_conn_status(conn->tls) & LATCH_STATUS_FAILED))
        fail_engine(conn);
}

/* Move decrypted bytes from the engine into the HTTP input buffer. */
static void pull_plaintext(struct serve_conn *conn)
{
    while (conn->input_length < sizeof conn->input && !conn->closing) {
        ssize_t got = latch_conn_read(conn->tls, conn->input + conn->input_length,
                                      sizeof conn->input - conn->input_length);
        if (got == -LATCH_ERR_WOULD_BLOCK)
            return;
        if (got < 0) {
            fail_engine(conn);
            return;
        }
        if (got == 0) { /* close_notify: answer with ours once the reply is out */
            conn->closing = 1;
            return;
        }
        conn->input_length += (size_t)got;
    }
}

static void consume_input(struct serve_conn *conn, size_t count)
{
    memmove(conn->input, conn->input + count, conn->input_length - count);
    conn->input_length -= count;
}

/* With --client-ca: " client=\"CN=...\"", " client=anonymous", or
 * " client=resumed" (a resumed session does not carry the certificate). */
static void describe_client(const struct serve_conn *conn, char *out, size_t size)
{
    char subject[256];
    const char *peer_subject = latch_conn_peer_subject(conn->tls);
    out[0] = '\0';
    if (conn->context->options->client_auth == LATCH_CLIENT_AUTH_NONE)
        return;
    if (peer_subject != NULL) {
        cli_printable(peer_subject, subject, sizeof subject);
        snprintf(out, size, " client=\"%s\"", subject);
    } else {
        snprintf(out, size, " client=%s", latch_conn_resumed(conn->tls) ? "resumed" : "anonymous");
    }
}

static void log_request(const struct serve_conn *conn, const latch_http_request *request)
{
    const latch_http_reply *reply = &conn->reply;
    char client[300];
    describe_client(conn, client, sizeof client);
    fprintf(stderr, "serve: %s: \"%s %s HTTP/1.%d\" %d %llu%s\n", conn->peer,
            request != NULL ? request->method : "-", request != NULL ? request->target : "-",
            request != NULL ? request->version_minor : 1, reply->status,
            (unsigned long long)(reply->file_fd >= 0 ? reply->file_size : reply->body_length),
            client);
}

static void start_reply(struct serve_conn *conn)
{
    conn->reply_active = 1;
    conn->head_sent = 0;
    conn->body_sent = 0;
    conn->file_sent = 0;
}

/* Parse the next request in the input buffer and prepare its reply. */
static void next_request(struct serve_conn *conn)
{
    while (!conn->reply_active && !conn->closing) {
        if (conn->discard > 0) {
            size_t drop = conn->input_length < conn->discard ? conn->input_length
                                                             : (size_t)conn->discard;
            consume_input(conn, drop);
            conn->discard -= drop;
            if (conn->discard > 0)
                return;
        }
        if (conn->input_length == 0)
            return;
        static latch_http_request request; /* 4 KiB; the loop is single-threaded */
        int parsed = latch_http_parse_request(conn->input, conn->input_length, &request);
        if (parsed == 0)
            return;
        if (parsed < 0) {
            latch_http_reply_error(&conn->reply, -parsed, 0, 0);
            conn->input_length = 0;
            log_request(conn, NULL);
        } else {
            consume_input(conn, (size_t)parsed);
            conn->discard = request.content_length;
            latch_http_serve_static(conn->context->root, &request, &conn->reply);
            log_request(conn, &request);
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
        ssize_t got = pread(reply->file_fd, chunk + used, want, (off_t)conn->file_sent);
        if (got <= 0)
            return -1; /* the file shrank or failed under us */
        used += (size_t)got;
    }
    return (ssize_t)used;
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

static size_t pending_wire(const struct serve_conn *conn)
{
    size_t pending = 0;
    (void)latch_conn_send_buf(conn->tls, &pending);
    return pending;
}

/* Encrypt reply bytes while the send buffer is not too full. */
static void pump_reply(struct serve_conn *conn)
{
    char chunk[CHUNK_SIZE];
    while (conn->reply_active && !conn->dead && pending_wire(conn) < MAX_PENDING_SEND) {
        if (reply_finished(conn)) {
            conn->reply_active = 0;
            if (!conn->reply.keep_alive)
                conn->closing = 1;
            latch_http_reply_release(&conn->reply);
            return;
        }
        ssize_t length = gather_reply(conn, chunk, sizeof chunk);
        if (length < 0) {
            fprintf(stderr, "serve: %s: reading the file failed\n", conn->peer);
            conn->dead = 1;
            return;
        }
        ssize_t queued = latch_conn_write(conn->tls, chunk, (size_t)length);
        if (queued == -LATCH_ERR_WOULD_BLOCK || queued == 0)
            return;
        if (queued < 0) {
            fail_engine(conn);
            return;
        }
        advance_reply(conn, (size_t)queued);
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
            fail_engine(conn);
            return;
        }
        if (!conn->handshake_done && (latch_conn_status(conn->tls) & LATCH_STATUS_READY))
            conn->handshake_done = 1;
        if (conn->handshake_done && !conn->close_queued)
            serve_requests(conn);
        if (conn->dead)
            return;
        if (conn->closing && !conn->reply_active && !conn->close_queued) {
            (void)latch_conn_close(conn->tls);
            conn->close_queued = 1;
        }
        ssize_t written = flush_wire(conn);
        if (written < 0) {
            conn->dead = 1;
            return;
        }
        if (written == 0)
            return;
    }
}

static void finish_closing(struct serve_conn *conn)
{
    if (!conn->close_queued || conn->draining || pending_wire(conn) > 0)
        return;
    if (conn->peer_eof) {
        conn->dead = 1;
        return;
    }
    shutdown(conn->fd, SHUT_WR);
    conn->draining = 1;
    conn->last_active_ms = serve_now_ms();
}

static void update_interest(struct serve_conn *conn)
{
    unsigned wanted = 0;
    size_t room = 0;
    if (conn->draining)
        wanted = EPOLLIN;
    else if (!conn->peer_eof && latch_conn_recv_buf(conn->tls, &room) != NULL && room > 0)
        wanted = EPOLLIN;
    if (!conn->draining && pending_wire(conn) > 0)
        wanted |= EPOLLOUT;
    if (wanted == conn->interest)
        return;
    struct epoll_event event = {.events = wanted};
    event.data.ptr = conn;
    if (epoll_ctl(conn->context->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event) == 0)
        conn->interest = wanted;
}

void serve_conn_handle(struct serve_conn *conn, unsigned events)
{
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        receive_wire(conn);
    if (!conn->dead && !conn->draining)
        make_progress(conn);
    if (!conn->dead)
        finish_closing(conn);
    if (conn->dead) {
        serve_conn_destroy(conn);
        return;
    }
    update_interest(conn);
}

void serve_conn_sweep(struct serve_context *context)
{
    uint64_t now = serve_now_ms();
    struct serve_conn *conn = context->connections;
    while (conn != NULL) {
        struct serve_conn *next = conn->next;
        uint64_t limit = conn->draining         ? DRAIN_TIMEOUT_MS
                         : conn->handshake_done ? IDLE_TIMEOUT_MS
                                                : HANDSHAKE_TIMEOUT_MS;
        if (now - conn->last_active_ms > limit) {
            if (!conn->handshake_done)
                log_failure(conn, "timed out", "no alert");
            serve_conn_destroy(conn);
        }
        conn = next;
    }
}
