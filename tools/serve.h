/* latch serve: one epoll loop; each connection is a latch_conn driven
 * through recv_buf/recv_done/send_buf/send_done/read/write. */
#ifndef LATCH_TOOLS_SERVE_H
#define LATCH_TOOLS_SERVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "http/http.h"
#include "latch/latch.h"

struct serve_conn;

struct serve_context {
    const char *root;          /* realpath of the served directory */
    latch_config *config;
    int epoll_fd;
    struct serve_conn *connections;
    size_t connection_count;
};

struct serve_conn {
    struct serve_conn *prev, *next;
    struct serve_context *context;
    int fd;
    latch_conn *tls;
    char peer[80];
    unsigned interest;         /* epoll events currently registered */
    uint64_t last_active_ms;
    int handshake_done;
    int peer_eof;              /* TCP FIN seen */
    int closing;               /* close after the current reply */
    int close_queued;          /* close_notify queued in the engine */
    int draining;              /* write side shut; waiting for the peer's FIN */
    int dead;
    char input[LATCH_HTTP_MAX_REQUEST_HEAD];
    size_t input_length;
    uint64_t discard;          /* request body bytes still to skip */
    int reply_active;
    latch_http_reply reply;
    size_t head_sent, body_sent;
    uint64_t file_sent;
};

uint64_t serve_now_ms(void);

/* Take ownership of an accepted, non-blocking socket. */
void serve_conn_open(struct serve_context *context, int fd, const struct sockaddr *peer,
                     socklen_t peer_length);
/* React to epoll events; may free the connection. */
void serve_conn_handle(struct serve_conn *conn, unsigned events);
/* Drop connections idle for too long. */
void serve_conn_sweep(struct serve_context *context);
/* Free one connection (and close its socket). */
void serve_conn_destroy(struct serve_conn *conn);

#endif
