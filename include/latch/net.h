/**
 * @file latch/net.h
 * @brief Blocking socket helpers: a thin loop around the sans-I/O engine.
 *
 * These own file descriptors; the engine never does.  Each helper moves
 * bytes between one blocking socket (or pipe) and one latch_conn until it
 * has what it was asked for; on a failure it first flushes the alert the
 * engine queued.  For non-blocking sockets and event loops use the
 * latch_conn_* calls directly (examples/poll_client.c,
 * examples/libevent_server.c).
 *
 * Thread safety: as the connection's — one thread at a time per
 * connection and descriptor.  Signals: writes use MSG_NOSIGNAL (no SIGPIPE
 * on sockets); EINTR is retried.  There are no timeouts: use SO_RCVTIMEO /
 * SO_SNDTIMEO on the socket if you need them (a timeout then shows as
 * LATCH_ERR_IO).
 */
#ifndef LATCH_NET_H
#define LATCH_NET_H

#include "latch/latch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** TCP connect to host:port (getaddrinfo).  Returns fd or -1 (errno set).
 *  Every address is tried in order; the socket is blocking, close-on-exec,
 *  with TCP_NODELAY.  The caller owns and closes the descriptor. */
int latch_net_connect(const char *host, const char *port);
/** Listening socket on "ADDR:PORT" ([::1]:443 accepted).  Returns fd or -1.
 *  SO_REUSEADDR, close-on-exec, blocking; port 0 picks a free port (see
 *  getsockname()).  The caller owns and closes the descriptor. */
int latch_net_listen(const char *addr_port, int backlog);

/** Run the handshake over fd.  Returns 0 or a latch_error.
 *  LATCH_ERR_IO if the socket failed or the peer hung up; otherwise the
 *  engine's error, with the reason in latch_conn_error_reason() and the
 *  alert in latch_conn_alert() (already sent).  A TLS 1.3 server returns
 *  with its session ticket still queued (LATCH_STATUS_HAS_SEND): it goes out
 *  with the first latch_blocking_write(), or when latch_blocking_read() or
 *  latch_blocking_close() would wait, or with latch_blocking_flush(). */
int latch_blocking_handshake(latch_conn *conn, int fd);
/** Read plaintext: bytes, 0 on close_notify, -LATCH_ERR_CLOSED when the peer
 * hung up without close_notify (a possible truncation), -latch_error else.
 * Runs the handshake first if needed; waits until at least one byte is
 * available; sends post-handshake replies (KeyUpdate) on the way. */
ssize_t latch_blocking_read(latch_conn *conn, int fd, void *buf, size_t len);
/** latch_blocking_read() without the copy: waits like it, then sets *data to
 *  the unread plaintext inside the connection and returns its length (0 on
 *  close_notify, -error as latch_blocking_read()).  Consume with
 *  latch_conn_read_done(); *data is valid until the next call on conn. */
ssize_t latch_blocking_read_buf(latch_conn *conn, int fd, const uint8_t **data);
/** Write all of buf.  Returns len or -latch_error.
 *  Runs the handshake first if needed; returns once everything is on the
 *  socket. */
ssize_t latch_blocking_write(latch_conn *conn, int fd, const void *buf, size_t len);
/** Send close_notify and flush it.  Returns 0 or a latch_error.  Does not
 *  wait for the peer's close_notify and does not close fd. */
int latch_blocking_close(latch_conn *conn, int fd);
/** Flush any pending wire bytes.  Returns 0 or a latch_error. */
int latch_blocking_flush(latch_conn *conn, int fd);

#ifdef __cplusplus
}
#endif
#endif
