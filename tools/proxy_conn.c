/* latch proxy: one client TLS connection relayed to a plain TCP backend.
 *
 *   client --TLS--> engine --plaintext--> upstream buffer --> backend
 *   client <--TLS-- engine <--plaintext-- (16 KiB reads)  <-- backend
 *
 * Byte-transparent both ways.  The backend connection starts once the
 * handshake is done.  Half-close: the client's close_notify (or FIN)
 * becomes shutdown(SHUT_WR) towards the backend once the upstream buffer
 * is out, and in TLS 1.3 what the backend answers after that still reaches
 * the client (TLS 1.2 answers close_notify at once, RFC 5246 7.2.1); the
 * backend's EOF becomes close_notify to the client, which may go on sending.  Backpressure both ways: the upstream buffer stops reads
 * from the engine (then the engine stops reads from the socket), a full
 * TLS send buffer stops reads from the backend. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "serve.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { UPSTREAM_CAPACITY = 65536, READ_CHUNK = 16384, MAX_PENDING_SEND = 65536 };

static const struct serve_options *options_of(const struct serve_conn *conn)
{
    return conn->worker->shared->options;
}

/* Can bytes still reach the client?  Not after our close_notify.  A TLS 1.3
 * client's close_notify closes only its direction (half-close is on); in
 * TLS 1.2 the engine answers it with ours at once. */
static int downstream_open(const struct serve_conn *conn)
{
    return !conn->close_queued && !(latch_conn_status(conn->tls) & LATCH_STATUS_SENT_CLOSE);
}

static void send_close_notify(struct serve_conn *conn)
{
    if (!downstream_open(conn) || (latch_conn_status(conn->tls) & LATCH_STATUS_FAILED))
        return;
    (void)latch_conn_close(conn->tls);
    conn->close_queued = 1;
}

/* The backend failed: tell the client the stream ended and drop both. */
static void backend_failed(struct serve_conn *conn, const char *what, int error)
{
    fprintf(stderr, "proxy: %s: backend %s: %s: %s\n", conn->peer, options_of(conn)->backend,
            what, strerror(error));
    send_close_notify(conn);
    (void)serve_tls_flush(conn);
    conn->dead = 1;
}

static void start_backend(struct serve_conn *conn)
{
    const struct serve_options *options = options_of(conn);
    const struct sockaddr *address = (const struct sockaddr *)&options->backend_address;
    conn->upstream = malloc(UPSTREAM_CAPACITY);
    int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (conn->upstream == NULL || fd < 0) {
        if (fd >= 0)
            close(fd);
        backend_failed(conn, "socket", errno != 0 ? errno : ENOMEM);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->backend_fd = fd;
    conn->last_active_ms = serve_now_ms(); /* the connect is timed from here */
    if (connect(fd, address, options->backend_address_length) == 0)
        conn->backend_connected = 1;
    else if (errno != EINPROGRESS) {
        backend_failed(conn, "connect", errno);
        return;
    }
    struct epoll_event event = {.events = EPOLLOUT};
    event.data.ptr = &conn->backend_tag;
    if (epoll_ctl(conn->worker->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        backend_failed(conn, "epoll", errno);
        return;
    }
    conn->backend_interest = EPOLLOUT;
}

static void finish_connect(struct serve_conn *conn)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(conn->backend_fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    if (error != 0) {
        backend_failed(conn, "connect", error);
        return;
    }
    conn->backend_connected = 1;
    conn->last_active_ms = serve_now_ms();
}

/* Engine plaintext into the upstream buffer; notes the client's end. */
static size_t pull_upstream(struct serve_conn *conn)
{
    size_t moved = 0;
    if (conn->upstream_sent == conn->upstream_length)
        conn->upstream_sent = conn->upstream_length = 0;
    while (!conn->client_closed && conn->upstream_length < UPSTREAM_CAPACITY) {
        ssize_t got = latch_conn_read(conn->tls, conn->upstream + conn->upstream_length,
                                      UPSTREAM_CAPACITY - conn->upstream_length);
        if (got == -LATCH_ERR_WOULD_BLOCK)
            break;
        if (got < 0) {
            serve_tls_fail(conn);
            break;
        }
        if (got == 0) {
            conn->client_closed = 1; /* close_notify */
            break;
        }
        conn->upstream_length += (size_t)got;
        moved += (size_t)got;
    }
    if (conn->peer_eof && !conn->client_closed &&
        !(latch_conn_status(conn->tls) & LATCH_STATUS_HAS_APP)) {
        conn->client_closed = 1;
        fprintf(stderr, "proxy: %s: client closed TCP without close_notify\n", conn->peer);
    }
    return moved;
}

/* The upstream buffer to the backend; SHUT_WR once the client is done. */
static size_t push_upstream(struct serve_conn *conn)
{
    size_t moved = 0;
    while (conn->backend_connected && conn->upstream_sent < conn->upstream_length) {
        ssize_t sent = send(conn->backend_fd, conn->upstream + conn->upstream_sent,
                            conn->upstream_length - conn->upstream_sent, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return moved;
        if (sent <= 0) {
            backend_failed(conn, "send", errno);
            return moved;
        }
        conn->upstream_sent += (size_t)sent;
        conn->bytes_up += (uint64_t)sent;
        moved += (size_t)sent;
    }
    if (conn->backend_connected && conn->client_closed && !conn->upstream_shut &&
        conn->upstream_sent == conn->upstream_length) {
        shutdown(conn->backend_fd, SHUT_WR);
        conn->upstream_shut = 1;
    }
    return moved;
}

/* One backend read into the engine (or dropped when the client can no
 * longer receive).  Returns bytes read, 0 when nothing came. */
static size_t read_backend_once(struct serve_conn *conn)
{
    char chunk[READ_CHUNK];
    ssize_t got = read(conn->backend_fd, chunk, sizeof chunk);
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        backend_failed(conn, "receive", errno);
        return 0;
    }
    if (got < 0)
        return 0;
    if (got == 0) {
        conn->backend_eof = 1;
        send_close_notify(conn);
        return 0;
    }
    if (downstream_open(conn)) {
        ssize_t queued = latch_conn_write(conn->tls, chunk, (size_t)got);
        if (queued < 0) {
            serve_tls_fail(conn);
            return 0;
        }
        conn->bytes_down += (uint64_t)got;
    }
    return (size_t)got;
}

static size_t pull_downstream(struct serve_conn *conn)
{
    size_t moved = 0, got;
    while (conn->backend_connected && !conn->backend_eof && !conn->dead &&
           serve_tls_pending(conn) < MAX_PENDING_SEND && (got = read_backend_once(conn)) > 0)
        moved += got;
    return moved;
}

/* Both directions are over: the client finished sending (and the backend
 * has all of it), and nothing more can or will go to the client. */
static int finished(const struct serve_conn *conn)
{
    int upstream_done = conn->client_closed && (conn->upstream_shut || !conn->backend_connected);
    int downstream_done = conn->backend_eof || !downstream_open(conn);
    return upstream_done && downstream_done && serve_tls_pending(conn) == 0;
}

static void relay(struct serve_conn *conn)
{
    for (;;) {
        if (latch_conn_status(conn->tls) & LATCH_STATUS_FAILED) {
            serve_tls_fail(conn);
            return;
        }
        if (!conn->handshake_done && (latch_conn_status(conn->tls) & LATCH_STATUS_READY)) {
            conn->handshake_done = 1;
            start_backend(conn);
        }
        size_t moved = 0;
        if (conn->handshake_done && !conn->dead)
            moved = pull_upstream(conn);
        if (conn->handshake_done && !conn->dead)
            moved += push_upstream(conn);
        if (conn->handshake_done && !conn->dead)
            moved += pull_downstream(conn);
        if (conn->dead)
            return;
        ssize_t written = serve_tls_flush(conn);
        if (written < 0) {
            conn->dead = 1;
            return;
        }
        if (moved > 0 || written > 0)
            conn->last_active_ms = serve_now_ms();
        if (moved == 0 && written == 0)
            return;
    }
}

static void update_backend_interest(struct serve_conn *conn)
{
    if (conn->backend_fd < 0)
        return;
    unsigned wanted = 0;
    if (!conn->backend_connected || conn->upstream_sent < conn->upstream_length)
        wanted |= EPOLLOUT;
    if (conn->backend_connected && !conn->backend_eof && serve_tls_pending(conn) < MAX_PENDING_SEND)
        wanted |= EPOLLIN;
    if (wanted == conn->backend_interest)
        return;
    struct epoll_event event = {.events = wanted};
    event.data.ptr = &conn->backend_tag;
    if (epoll_ctl(conn->worker->epoll_fd, EPOLL_CTL_MOD, conn->backend_fd, &event) == 0)
        conn->backend_interest = wanted;
}

void proxy_conn_handle(struct serve_conn *conn, int side, unsigned events)
{
    if (side < 0) {
        if (conn->backend_fd >= 0 && !conn->backend_connected)
            fprintf(stderr, "proxy: %s: backend %s: connect timed out\n", conn->peer,
                    options_of(conn)->backend);
        else if (!options_of(conn)->quiet)
            fprintf(stderr, "proxy: %s: idle timeout\n", conn->peer);
        send_close_notify(conn);
        (void)serve_tls_flush(conn);
        conn->dead = 1;
    } else if (side == 1 && !conn->backend_connected &&
               (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        finish_connect(conn);
    } else if (side == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        serve_tls_receive(conn);
    }
    if (!conn->dead)
        relay(conn);
    if (!conn->dead && finished(conn))
        conn->dead = 1;
    if (conn->dead) {
        serve_conn_destroy(conn);
        return;
    }
    serve_update_interest(conn);
    update_backend_interest(conn);
}

/* Unread bytes make close() send a reset: read them first. */
static void drain_socket(int fd)
{
    char scratch[4096];
    for (int i = 0; i < 64 && read(fd, scratch, sizeof scratch) > 0; i++)
        ;
}

void proxy_conn_release(struct serve_conn *conn)
{
    if (options_of(conn)->mode != SERVE_MODE_PROXY)
        return;
    if (conn->handshake_done && !options_of(conn)->quiet)
        fprintf(stderr, "proxy: %s: closed after %llu ms: %llu bytes up, %llu bytes down%s\n",
                conn->peer, (unsigned long long)(serve_now_ms() - conn->opened_ms),
                (unsigned long long)conn->bytes_up, (unsigned long long)conn->bytes_down,
                conn->close_queued ? ", close_notify sent" : "");
    if (conn->backend_fd >= 0) {
        drain_socket(conn->backend_fd);
        close(conn->backend_fd);
        conn->backend_fd = -1;
    }
}
