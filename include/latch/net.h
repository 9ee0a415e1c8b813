/*
 * Blocking socket helpers: a thin loop around the sans-I/O engine.
 * These own file descriptors; the engine never does.
 */
#ifndef LATCH_NET_H
#define LATCH_NET_H

#include "latch/latch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TCP connect to host:port (getaddrinfo).  Returns fd or -1 (errno set). */
int latch_net_connect(const char *host, const char *port);
/* Listening socket on "ADDR:PORT" ([::1]:443 accepted).  Returns fd or -1. */
int latch_net_listen(const char *addr_port, int backlog);

/* Run the handshake over fd.  Returns 0 or a latch_error. */
int latch_blocking_handshake(latch_conn *conn, int fd);
/* Read plaintext: bytes, 0 on close_notify, -LATCH_ERR_CLOSED when the peer
 * hung up without close_notify (a possible truncation), -latch_error else. */
ssize_t latch_blocking_read(latch_conn *conn, int fd, void *buf, size_t len);
/* Write all of buf.  Returns len or -latch_error. */
ssize_t latch_blocking_write(latch_conn *conn, int fd, const void *buf, size_t len);
/* Send close_notify and flush it. */
int latch_blocking_close(latch_conn *conn, int fd);
/* Flush any pending wire bytes.  Returns 0 or a latch_error. */
int latch_blocking_flush(latch_conn *conn, int fd);

#ifdef __cplusplus
}
#endif
#endif
