/* latch serve: the HTTP/1.1 side of a connection (serve_http.c). */
#ifndef LATCH_TOOLS_SERVE_HTTP_H
#define LATCH_TOOLS_SERVE_HTTP_H

#include <stdint.h>

#include "serve.h"

/* Handshake, requests and replies until the socket stops taking bytes,
 * then closing, destroying or the next epoll interest. */
void serve_http_progress(struct serve_conn *conn);
/* The server is stopping: an idle connection closes now (close_notify),
 * a busy one after the requests it already sent. */
void serve_http_stop(struct serve_conn *conn);
/* Close gracefully now (idle timeout): close_notify, then FIN. */
void serve_http_close(struct serve_conn *conn);
/* A request head that did not finish within --request-timeout gets 408
 * and the connection closes.  Returns 1 if it handled conn. */
int serve_http_timed_out(struct serve_conn *conn, uint64_t now);
/* Per-request lines wait in the worker's buffers (the access log and
 * stderr); this writes them.  The worker calls it before each epoll_wait
 * and when it ends. */
void serve_http_flush_logs(struct serve_worker *worker);
/* One line (with its newline) for stderr: buffered with the request lines
 * (serve, without --trace), else written now. */
void serve_log_stderr(struct serve_worker *worker, const char *line, size_t length);

#endif
