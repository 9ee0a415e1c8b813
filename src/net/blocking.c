/* Blocking helpers: loops that move bytes between a file descriptor and
 * the sans-I/O engine.  They own the I/O; the engine owns the protocol. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "latch/net.h"

#include "engine/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { WRITE_CHUNK = 16384 };

/* send() without SIGPIPE on sockets; plain write() on pipes and files. */
static ssize_t write_some(int fd, const void *data, size_t length)
{
    ssize_t written = send(fd, data, length, MSG_NOSIGNAL);
    if (written < 0 && errno == ENOTSOCK)
        written = write(fd, data, length);
    return written;
}

int latch_blocking_flush(latch_conn *conn, int fd)
{
    for (;;) {
        size_t pending = 0;
        const uint8_t *data = latch_conn_send_buf(conn, &pending);
        if (data == NULL || pending == 0)
            return 0;
        ssize_t written = write_some(fd, data, pending);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return LATCH_ERR_IO;
        latch_conn_send_done(conn, (size_t)written);
    }
}

/* The engine failed: get its alert onto the wire, then report the error. */
static int fail_with_alert(latch_conn *conn, int fd, int error)
{
    (void)latch_blocking_flush(conn, fd);
    latch_error engine_error = latch_conn_error(conn);
    if (engine_error != LATCH_OK)
        return (int)engine_error;
    return error != 0 ? error : LATCH_ERR_INTERNAL;
}

/* One read() into the engine.  A peer that hangs up without close_notify
 * is an I/O error during the handshake and a truncation (CLOSED) after. */
static int receive_some(latch_conn *conn, int fd)
{
    size_t room = 0;
    uint8_t *space = latch_conn_recv_buf(conn, &room);
    if (space == NULL || room == 0)
        return LATCH_ERR_INTERNAL;
    ssize_t got;
    do
        got = read(fd, space, room);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return LATCH_ERR_IO;
    if (got == 0) {
        errno = 0;
        return (latch_conn_status(conn) & LATCH_STATUS_READY) ? LATCH_ERR_CLOSED : LATCH_ERR_IO;
    }
    int error = latch_conn_recv_done(conn, (size_t)got);
    if (error != 0 || (latch_conn_status(conn) & LATCH_STATUS_FAILED))
        return fail_with_alert(conn, fd, error);
    return 0;
}

/* A TLS 1.3 server is done once the client's Finished is in: what is
 * still queued is post-handshake (the session ticket), which the client does
 * not wait for.  It goes out with the first write, in the same segment as
 * the reply (one send fewer), or before a read waits, or at close or flush. */
static int only_post_handshake_queued(const latch_conn *conn, unsigned status)
{
    return (status & LATCH_STATUS_READY) && !conn->is_client &&
           conn->version == LATCH_VERSION_TLS13;
}

int latch_blocking_handshake(latch_conn *conn, int fd)
{
    for (;;) {
        unsigned status = latch_conn_status(conn);
        if (status & LATCH_STATUS_FAILED)
            return fail_with_alert(conn, fd, 0);
        if (only_post_handshake_queued(conn, status))
            return 0;
        if (latch_blocking_flush(conn, fd) != 0)
            return LATCH_ERR_IO;
        if (status & LATCH_STATUS_READY)
            return 0;
        if (status & LATCH_STATUS_CLOSED)
            return LATCH_ERR_CLOSED;
        if (!(status & LATCH_STATUS_WANT_RECV))
            return LATCH_ERR_INTERNAL; /* engine neither done nor waiting */
        int error = receive_some(conn, fd);
        if (error != 0)
            return error;
    }
}

static int ensure_handshake(latch_conn *conn, int fd)
{
    unsigned status = latch_conn_status(conn);
    if (status & LATCH_STATUS_FAILED)
        return fail_with_alert(conn, fd, 0);
    if (status & LATCH_STATUS_READY)
        return 0;
    return latch_blocking_handshake(conn, fd);
}

/* Waits until plaintext is unread (returns its length and *data), the
 * peer's close_notify (0) or a failure (-error). */
ssize_t latch_blocking_read_buf(latch_conn *conn, int fd, const uint8_t **data)
{
    int error = ensure_handshake(conn, fd);
    *data = NULL;
    if (error != 0)
        return -error;
    for (;;) {
        size_t have;
        const uint8_t *plain = latch_conn_read_buf(conn, &have);
        if (have > 0) {
            *data = plain;
            return (ssize_t)have;
        }
        unsigned status = latch_conn_status(conn);
        if (status & LATCH_STATUS_FAILED)
            return -fail_with_alert(conn, fd, 0);
        if (status & LATCH_STATUS_CLOSED)
            return 0; /* our answer goes out with latch_blocking_close() */
        /* Post-handshake replies (KeyUpdate, alerts) go out before we wait. */
        if (latch_blocking_flush(conn, fd) != 0)
            return -LATCH_ERR_IO;
        error = receive_some(conn, fd);
        if (error != 0)
            return -error;
    }
}

ssize_t latch_blocking_read(latch_conn *conn, int fd, void *buf, size_t len)
{
    const uint8_t *plain;
    ssize_t have = latch_blocking_read_buf(conn, fd, &plain);
    if (have <= 0)
        return have;
    size_t n = (size_t)have < len ? (size_t)have : len;
    memcpy(buf, plain, n);
    latch_conn_read_done(conn, n);
    return (ssize_t)n;
}

ssize_t latch_blocking_write(latch_conn *conn, int fd, const void *buf, size_t len)
{
    int error = ensure_handshake(conn, fd);
    if (error != 0)
        return -error;
    const uint8_t *bytes = buf;
    size_t done = 0;
    int stalled = 0;
    while (done < len) {
        size_t chunk = len - done < WRITE_CHUNK ? len - done : WRITE_CHUNK;
        ssize_t queued = latch_conn_write(conn, bytes + done, chunk);
        if (queued < 0 && queued != -LATCH_ERR_WOULD_BLOCK)
            return -fail_with_alert(conn, fd, (int)-queued);
        /* Refusing input even with an empty send buffer would loop forever. */
        stalled = queued > 0 ? 0 : stalled + 1;
        if (stalled > 1)
            return -LATCH_ERR_INTERNAL;
        if (queued > 0)
            done += (size_t)queued;
        if (latch_blocking_flush(conn, fd) != 0)
            return -LATCH_ERR_IO;
    }
    return (ssize_t)len;
}

int latch_blocking_close(latch_conn *conn, int fd)
{
    int error = latch_conn_close(conn);
    int flushed = latch_blocking_flush(conn, fd);
    return error != 0 ? error : flushed;
}
