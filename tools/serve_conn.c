/* One server connection: socket bytes <-> engine, the life cycle shared by
 * serve and proxy (open, timeouts, stop, destroy), and for latch serve the
 * HTTP side (serve_http.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "serve.h"
#include "serve_http.h"

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

enum { DRAIN_TIMEOUT_MS = 3000, STOP_IDLE_MS = 1000 };

uint64_t serve_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

/* --trace: a tracer labelled "conn N" watching this connection only, with
 * its TCP segments from the worker's listening capture (the SYN, SYN-ACK and
 * ACK came before accept(): the capture kept them), or TCP_INFO without one. */
enum { TRACE_LINGER_MS = 3000, TRACE_TIME_WAIT_GRACE_MS = 20 };

struct serve_trace_linger {
    struct serve_trace_linger *next;
    latch_tracer *tracer;
    latch_tcp_capture *tcp;
    uint64_t deadline_ms;
    int time_wait; /* the server reached TIME_WAIT: its last ACK, then done */
};

void serve_trace_open(struct serve_worker *worker)
{
    struct sockaddr_storage local;
    socklen_t length = sizeof local;
    worker->tcp_capture = NULL;
    worker->tcp_capture_errno = 0;
    if (!worker->shared->options->trace || worker->listen_fd < 0)
        return;
    if (getsockname(worker->listen_fd, (struct sockaddr *)&local, &length) != 0)
        worker->tcp_capture = NULL;
    else
        worker->tcp_capture = latch_tcp_capture_start_listening((struct sockaddr *)&local);
    if (worker->tcp_capture == NULL) {
        worker->tcp_capture_errno = errno;
        if (worker->index == 0)
            fprintf(stderr, "latch %s: --trace: TCP segments not visible (packet capture: %s%s); "
                            "TCP_INFO instead\n",
                    worker->shared->options->command, strerror(errno),
                    errno == EPERM || errno == EACCES ? "; needs CAP_NET_RAW" : "");
        return;
    }
    unsigned steered = worker->shared->trace_steered;
    if (steered > 1 &&
        latch_tcp_capture_share_by_port(worker->tcp_capture, steered, (unsigned)worker->index) == 0 &&
        worker->index == 0)
        fprintf(stderr, "latch %s: --trace: %u workers, each new connection goes to one "
                        "by its client port; each captures only its own\n",
                worker->shared->options->command, steered);
    worker->capture_tag = (struct serve_tag){SERVE_TAG_CAPTURE, NULL};
    struct epoll_event event = {.events = EPOLLIN};
    event.data.ptr = &worker->capture_tag;
    if (epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, latch_tcp_capture_fd(worker->tcp_capture),
                  &event) != 0) {
        worker->tcp_capture_errno = errno;
        latch_tcp_capture_stop(worker->tcp_capture);
        worker->tcp_capture = NULL;
    }
}

static void start_trace(struct serve_conn *conn)
{
    const struct serve_options *options = conn->worker->shared->options;
    struct serve_worker *worker = conn->worker;
    char label[32], why[200];
    int capture_errno = worker->tcp_capture_errno;
    if (!options->trace)
        return;
    snprintf(label, sizeof label, "conn %lu", conn->id);
    conn->tracer = latch_tracer_new(options->trace_format, stderr, label);
    if (conn->tracer == NULL)
        return;
    if (worker->tcp_capture != NULL) {
        conn->tcp = latch_tcp_capture_claim(worker->tcp_capture, conn->fd);
        if (conn->tcp != NULL)
            latch_tracer_attach_tcp(conn->tracer, conn->tcp);
        else
            capture_errno = errno;
    }
    /* the note drains the kept segments first: SYN, SYN-ACK, ACK, then "accepted" */
    latch_tracer_note(conn->tracer, latch_trace_now_us(), "accepted", conn->peer);
    if (conn->tcp != NULL &&
        latch_tcp_tracker_state(latch_tcp_capture_tracker(conn->tcp), 0) == LATCH_TCP_UNKNOWN)
        latch_tracer_note(conn->tracer, latch_trace_now_us(), "TCP capture",
                          "the three-way handshake was not seen (the connection was older than "
                          "the capture, or its SYN was forgotten); segments from accept() on");
    if (conn->tcp == NULL) {
        latch_tcp_info info;
        snprintf(why, sizeof why,
                 "TCP segments not visible: packet capture %s (%s%s); the handshake was before "
                 "accept()",
                 worker->tcp_capture != NULL ? "of this connection failed" : "refused",
                 strerror(capture_errno),
                 capture_errno == EPERM || capture_errno == EACCES ? "; needs CAP_NET_RAW" : "");
        if (latch_tcp_info_get(conn->fd, &info) == 0)
            latch_tracer_tcp_info(conn->tracer, latch_trace_now_us(), &info, why);
    }
    latch_conn_set_observer(conn->tls, latch_tracer_observe, conn->tracer);
}

/* Without segments: what TCP_INFO says just before close() (CLOSE_WAIT
 * when the client closed first). */
static void trace_before_close(struct serve_conn *conn)
{
    latch_tcp_info info;
    if (conn->tracer == NULL || conn->tcp != NULL)
        return;
    if (latch_tcp_info_get(conn->fd, &info) == 0)
        latch_tracer_tcp_info(conn->tracer, latch_trace_now_us(), &info,
                              "TCP segments not visible: the state before close()");
}

static void trace_done(latch_tracer *tracer, latch_tcp_capture *tcp)
{
    latch_tracer_finish(tracer); /* the last segments, end-of-capture states */
    latch_tracer_free(tracer);
    latch_tcp_capture_stop(tcp);
}

static void finish_trace(struct serve_conn *conn)
{
    if (conn->tracer == NULL)
        return;
    if (conn->tcp != NULL)
        latch_tracer_feed_tcp(&conn->tracer, 1, conn->tcp, 0); /* the tracker up to now */
    int reset = conn->tcp != NULL && latch_tcp_tracker_state(latch_tcp_capture_tracker(conn->tcp),
                                                             0) == LATCH_TCP_CLOSED;
    latch_tracer_note(conn->tracer, latch_trace_now_us(), "closed",
                      reset ? "socket closed after the reset: nothing more sent"
                      : conn->close_queued ? "close_notify, FIN" : "FIN");
    struct serve_trace_linger *linger =
        conn->tcp != NULL ? calloc(1, sizeof *linger) : NULL;
    if (linger != NULL) {
        /* the FIN/ACK exchange comes after close(): keep tracing it */
        linger->tracer = conn->tracer;
        linger->tcp = conn->tcp;
        linger->deadline_ms = serve_now_ms() + TRACE_LINGER_MS;
        linger->next = conn->worker->lingering;
        conn->worker->lingering = linger;
        serve_trace_sweep(conn->worker, 0); /* closed already: done */
    } else {
        trace_done(conn->tracer, conn->tcp);
    }
    conn->tracer = NULL;
    conn->tcp = NULL;
}

void serve_trace_sweep(struct serve_worker *worker, int all)
{
    uint64_t now = serve_now_ms();
    for (struct serve_trace_linger **at = &worker->lingering, *linger; (linger = *at) != NULL;) {
        latch_tracer_feed_tcp(&linger->tracer, 1, linger->tcp, 0);
        int state = latch_tcp_tracker_state(latch_tcp_capture_tracker(linger->tcp), 0);
        if (state == LATCH_TCP_TIME_WAIT && !linger->time_wait) {
            linger->time_wait = 1; /* its last ACK is on its way */
            if (linger->deadline_ms > now + TRACE_TIME_WAIT_GRACE_MS)
                linger->deadline_ms = now + TRACE_TIME_WAIT_GRACE_MS;
        }
        if (!all && state != LATCH_TCP_CLOSED && now < linger->deadline_ms) {
            at = &linger->next;
            continue;
        }
        *at = linger->next;
        if (state == LATCH_TCP_TIME_WAIT)
            latch_tracer_note(linger->tracer, latch_trace_now_us(), "TCP TIME_WAIT",
                              "the kernel keeps the connection 60 s (2 MSL) before CLOSED; "
                              "the trace ends here");
        else if (state != LATCH_TCP_CLOSED)
            latch_tracer_note(linger->tracer, latch_trace_now_us(), "TCP capture",
                              all ? "server stopping: the close was not seen to its end"
                                  : "the close did not finish within 3 s; the trace ends here");
        trace_done(linger->tracer, linger->tcp);
        free(linger);
    }
}

/* The capture fd is readable: route the segments to the connections'
 * tracers now (an idle connection's FIN shows without waiting for an event). */
void serve_trace_segments(struct serve_worker *worker)
{
    latch_tcp_segment none;
    if (worker->tcp_capture == NULL)
        return;
    (void)latch_tcp_capture_poll(worker->tcp_capture, &none, 1);
    for (struct serve_conn *conn = worker->connections; conn != NULL; conn = conn->next)
        if (conn->tracer != NULL && conn->tcp != NULL)
            latch_tracer_feed_tcp(&conn->tracer, 1, conn->tcp, 0);
    serve_trace_sweep(worker, 0);
}

int serve_trace_wait_ms(const struct serve_worker *worker, int longest)
{
    uint64_t now = serve_now_ms();
    int wait = longest;
    for (const struct serve_trace_linger *linger = worker->lingering; linger != NULL;
         linger = linger->next) {
        uint64_t left = linger->deadline_ms > now ? linger->deadline_ms - now : 0;
        if (left < (uint64_t)wait)
            wait = (int)left + 1;
    }
    return wait;
}

void serve_trace_close(struct serve_worker *worker)
{
    serve_trace_sweep(worker, 1);
    latch_tcp_capture_stop(worker->tcp_capture);
    worker->tcp_capture = NULL;
}

static void link_connection(struct serve_worker *worker, struct serve_conn *conn)
{
    conn->next = worker->connections;
    if (worker->connections != NULL)
        worker->connections->prev = conn;
    worker->connections = conn;
    worker->connection_count++;
    atomic_fetch_add(&worker->shared->connections, 1);
}

void serve_conn_open(struct serve_worker *worker, int fd, const struct sockaddr *peer,
                     socklen_t peer_length)
{
    struct serve_shared *shared = worker->shared;
    struct serve_conn *conn = calloc(1, sizeof *conn);
    struct serve_config_ref *config = conn != NULL ? serve_config_acquire(shared) : NULL;
    latch_conn *tls = config != NULL ? latch_conn_new(config->config, NULL) : NULL;
    struct epoll_event event = {.events = EPOLLIN};
    event.data.ptr = conn != NULL ? &conn->client_tag : NULL;
    if (tls == NULL || epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        fprintf(stderr, "latch %s: cannot set up a connection: %s\n", shared->options->command,
                tls == NULL ? "out of memory" : strerror(errno));
        latch_conn_free(tls);
        serve_config_ref_release(config);
        free(conn);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->worker = worker;
    conn->client_tag = (struct serve_tag){SERVE_TAG_CLIENT, conn};
    conn->backend_tag = (struct serve_tag){SERVE_TAG_BACKEND, conn};
    conn->fd = fd;
    conn->backend_fd = -1;
    conn->id = atomic_fetch_add(&shared->next_id, 1) + 1;
    conn->config = config;
    conn->tls = tls;
    conn->interest = EPOLLIN;
    conn->reply.file_fd = -1;
    conn->opened_ms = conn->last_active_ms = serve_now_ms();
    latch_net_format_address(peer, peer_length, conn->peer, sizeof conn->peer);
    start_trace(conn);
    link_connection(worker, conn);
}

void serve_conn_destroy(struct serve_conn *conn)
{
    struct serve_worker *worker = conn->worker;
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        worker->connections = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    worker->connection_count--;
    atomic_fetch_sub(&worker->shared->connections, 1);
    trace_before_close(conn);
    close(conn->fd); /* also leaves the epoll set */
    proxy_conn_release(conn);
    latch_http_reply_release(&conn->reply);
    finish_trace(conn);
    latch_conn_free(conn->tls);
    conn->tls = NULL;
    serve_config_ref_release(conn->config); /* frees a replaced configuration with its last user */
    conn->dead = 1;
    conn->prev = NULL;
    conn->next = worker->graveyard;
    worker->graveyard = conn;
}

void serve_conn_bury(struct serve_worker *worker)
{
    while (worker->graveyard != NULL) {
        struct serve_conn *conn = worker->graveyard;
        worker->graveyard = conn->next;
        free(conn->input);
        free(conn->upstream);
        free(conn->file_buffer);
        free(conn);
    }
}

void serve_log_failure(const struct serve_conn *conn, const char *reason, const char *alert)
{
    char line[512];
    int length = snprintf(line, sizeof line, "%s: %s: %s failed: %s (%s)\n",
                          conn->worker->shared->options->command, conn->peer,
                          conn->handshake_done ? "connection" : "handshake", reason, alert);
    if (length > 0)
        serve_log_stderr(conn->worker, line,
                         (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
}

size_t serve_tls_pending(const struct serve_conn *conn)
{
    size_t pending = 0;
    (void)latch_conn_send_buf(conn->tls, &pending);
    return pending;
}

/* Write pending wire bytes until the socket would block.
 * Returns bytes written, or -1 if the socket is broken. */
ssize_t serve_tls_flush(struct serve_conn *conn)
{
    ssize_t total = 0;
    for (;;) {
        size_t pending = 0;
        const uint8_t *data = latch_conn_send_buf(conn->tls, &pending);
        if (data == NULL || pending == 0)
            return total;
        ssize_t written =
            send(conn->fd, data, pending, MSG_NOSIGNAL | (conn->more_follows ? MSG_MORE : 0));
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
void serve_tls_fail(struct serve_conn *conn)
{
    char alert[96];
    cli_describe_alert(conn->tls, alert, sizeof alert);
    serve_log_failure(conn, cli_failure_reason(conn->tls), alert);
    (void)serve_tls_flush(conn);
    conn->dead = 1;
}

/* serve (not proxy): a peer's close_notify ends the wait for its FIN.  With
 * --trace too: the trace outlives close() and still shows that FIN, so
 * tracing does not change what the server does. */
static int peer_done_ends_drain(const struct serve_conn *conn)
{
    return conn->worker->shared->options->mode == SERVE_MODE_HTTP;
}

/* Our close_notify and FIN are out; we wait for the peer's FIN so that
 * nothing it still sends meets a closed socket (the reset that would cause
 * can destroy our reply before the peer read it).  After its close_notify
 * a peer sends nothing more (only its FIN): then the socket closes at once,
 * a wakeup and a read sooner.  Bytes go through the engine to see that close_notify; what
 * the engine cannot take is dropped, as before. */
static void receive_while_draining(struct serve_conn *conn)
{
    char scratch[4096];
    size_t room = 0;
    int engine = peer_done_ends_drain(conn) &&
                 !(latch_conn_status(conn->tls) & (LATCH_STATUS_FAILED | LATCH_STATUS_CLOSED));
    uint8_t *space = engine ? latch_conn_recv_buf(conn->tls, &room) : NULL;
    if (space == NULL || room == 0) {
        space = (uint8_t *)scratch;
        room = sizeof scratch;
        engine = 0;
    }
    ssize_t got = read(conn->fd, space, room);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        conn->dead = 1;
        return;
    }
    if (got < 0 || !engine)
        return;
    (void)latch_conn_recv_done(conn->tls, (size_t)got);
    while (latch_conn_read(conn->tls, scratch, sizeof scratch) > 0)
        ; /* requests after our close_notify: not answered */
    if (latch_conn_status(conn->tls) & LATCH_STATUS_CLOSED)
        conn->dead = 1; /* the peer's close_notify */
}

/* The peer's FIN (or a reset). */
static void peer_hung_up(struct serve_conn *conn, ssize_t got)
{
    if (!conn->handshake_done)
        serve_log_failure(conn, got == 0 ? "peer closed the connection" : strerror(errno),
                          "no alert");
    conn->peer_eof = 1;
    if (conn->worker->shared->options->mode == SERVE_MODE_PROXY) {
        if (got < 0 || !conn->handshake_done)
            conn->dead = 1;
        return;
    }
    /* A peer that half-closes after its request still gets the reply. */
    conn->closing = 1;
    if (got < 0 || !conn->handshake_done || !conn->reply_active)
        conn->dead = 1;
}

/* One read into the engine, unless it still holds plaintext nobody took
 * (then the socket waits: that is the backpressure). */
void serve_tls_receive(struct serve_conn *conn)
{
    if (conn->draining) {
        receive_while_draining(conn);
        return;
    }
    if (conn->peer_eof || (latch_conn_status(conn->tls) & LATCH_STATUS_HAS_APP))
        return;
    size_t room = 0;
    uint8_t *space = latch_conn_recv_buf(conn->tls, &room);
    if (space == NULL || room == 0)
        return;
    ssize_t got = read(conn->fd, space, room);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        peer_hung_up(conn, got);
        return;
    }
    conn->last_active_ms = serve_now_ms();
    int error = latch_conn_recv_done(conn->tls, (size_t)got);
    if (error != 0 || (latch_conn_status(conn->tls) & LATCH_STATUS_FAILED))
        serve_tls_fail(conn);
}

/* close_notify is out: shut our write side and wait for the peer's FIN. */
void serve_finish_closing(struct serve_conn *conn)
{
    if (!conn->close_queued || conn->draining || serve_tls_pending(conn) > 0)
        return;
    if (conn->peer_eof) {
        conn->dead = 1;
        return;
    }
    if (peer_done_ends_drain(conn) && (latch_conn_status(conn->tls) & LATCH_STATUS_CLOSED)) {
        conn->dead = 1; /* its close_notify came first: it sends nothing more */
        return;
    }
    shutdown(conn->fd, SHUT_WR);
    conn->draining = 1;
    conn->last_active_ms = serve_now_ms();
}

void serve_update_interest(struct serve_conn *conn)
{
    unsigned wanted = 0, status = latch_conn_status(conn->tls);
    if (conn->draining)
        wanted = EPOLLIN;
    else if (!conn->peer_eof && (status & LATCH_STATUS_WANT_RECV) &&
             !(status & LATCH_STATUS_HAS_APP))
        wanted = EPOLLIN;
    if (!conn->draining && serve_tls_pending(conn) > 0)
        wanted |= EPOLLOUT;
    if (wanted == conn->interest)
        return;
    struct epoll_event event = {.events = wanted};
    event.data.ptr = &conn->client_tag;
    if (epoll_ctl(conn->worker->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event) == 0)
        conn->interest = wanted;
}

void serve_conn_handle(struct serve_tag *tag, unsigned events)
{
    struct serve_conn *conn = tag->conn;
    if (conn->dead)
        return; /* destroyed earlier in this batch */
    if (conn->worker->shared->options->mode == SERVE_MODE_PROXY) {
        proxy_conn_handle(conn, tag->kind == SERVE_TAG_BACKEND, events);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        serve_tls_receive(conn);
    serve_http_progress(conn);
}

void serve_conn_stop(struct serve_conn *conn)
{
    if (conn->worker->shared->options->mode == SERVE_MODE_HTTP)
        serve_http_stop(conn);
}

void serve_conn_abort(struct serve_conn *conn)
{
    if (conn->handshake_done && !conn->close_queued &&
        !(latch_conn_status(conn->tls) & LATCH_STATUS_FAILED)) {
        (void)latch_conn_close(conn->tls);
        conn->close_queued = 1;
        (void)serve_tls_flush(conn);
    }
    serve_conn_destroy(conn);
}

/* Has conn stayed as it is for too long?  *handshake: in its handshake. */
static int timed_out(const struct serve_conn *conn, uint64_t now, int *handshake)
{
    const struct serve_options *options = conn->worker->shared->options;
    *handshake = 0;
    if (conn->draining)
        return now - conn->last_active_ms > DRAIN_TIMEOUT_MS;
    if (!conn->handshake_done) {
        *handshake = 1;
        return now - conn->opened_ms > (uint64_t)options->handshake_timeout_ms;
    }
    uint64_t idle = (uint64_t)options->idle_timeout_ms;
    if (conn->backend_fd >= 0 && !conn->backend_connected) /* proxy: connecting */
        idle = (uint64_t)options->handshake_timeout_ms;
    else if (conn->worker->stopping && idle > STOP_IDLE_MS)
        idle = STOP_IDLE_MS;
    return now - conn->last_active_ms > idle;
}

void serve_conn_sweep(struct serve_worker *worker)
{
    uint64_t now = serve_now_ms();
    for (struct serve_conn *conn = worker->connections, *next; conn != NULL; conn = next) {
        next = conn->next;
        int handshake = 0;
        if (worker->shared->options->mode == SERVE_MODE_HTTP && serve_http_timed_out(conn, now))
            continue;
        if (!timed_out(conn, now, &handshake))
            continue;
        if (handshake)
            serve_log_failure(conn, "timed out", "no alert");
        if (conn->draining || handshake || conn->close_queued)
            serve_conn_destroy(conn);
        else if (worker->shared->options->mode == SERVE_MODE_HTTP)
            serve_http_close(conn);
        else
            proxy_conn_handle(conn, -1, 0); /* -1: idle timeout */
    }
}
