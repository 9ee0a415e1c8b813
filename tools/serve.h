/* latch serve: one epoll loop; each connection is a latch_conn driven
 * through recv_buf/recv_done/send_buf/send_done/read/write. */
#ifndef LATCH_TOOLS_SERVE_H
#define LATCH_TOOLS_SERVE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cli.h"
#include "http/http.h"
#include "latch/latch.h"
#include "latch/trace.h"

enum { SERVE_MAX_CERTIFICATES = 8, SERVE_MAX_TICKET_KEYS = 8 };

struct serve_options {
    struct cli_tls_options tls;
    const char *listen;
    const char *certs[SERVE_MAX_CERTIFICATES], *keys[SERVE_MAX_CERTIFICATES];
    int cert_count, key_count;
    const char *directory;
    const char *client_ca;
    enum latch_client_auth client_auth;
    const char *ticket_keys[SERVE_MAX_TICKET_KEYS];
    int ticket_key_count;
    int no_tickets;
    long session_cache;        /* entries; -1: the engine's default */
    const char *keylog;
    int trace;
    enum latch_trace_format trace_format;
};

/* A latch_config is immutable once connections share it.  SIGHUP builds a
 * new one for new connections; the old one lives until its last
 * connection is gone.  users counts the connections, plus one while it is
 * the current configuration. */
struct serve_config_ref {
    latch_config *config;
    unsigned generation;
    size_t users;
};

/* The server configuration for options (certificates, client CA, ticket
 * key files, ...); keylog may be NULL.  Prints the problem and returns an
 * exit code on failure, 0 on success. */
int serve_build_config(const struct serve_options *options, FILE *keylog, latch_config **out);
/* A reference holding config (users = 1), or NULL (config freed). */
struct serve_config_ref *serve_config_ref_new(latch_config *config, unsigned generation);
/* Drop one user; frees the configuration with its last one. */
void serve_config_ref_release(struct serve_config_ref *ref);

struct serve_conn;

struct serve_context {
    const char *root;          /* realpath of the served directory */
    const struct serve_options *options;
    struct serve_config_ref *current; /* for new connections */
    FILE *keylog;              /* shared by every configuration, or NULL */
    int epoll_fd;
    struct serve_conn *connections;
    size_t connection_count;
    unsigned long next_id;     /* "conn N" labels */
};

struct serve_conn {
    struct serve_conn *prev, *next;
    struct serve_context *context;
    int fd;
    unsigned long id;
    struct serve_config_ref *config;
    latch_conn *tls;
    latch_tracer *tracer;      /* --trace, or NULL */
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
