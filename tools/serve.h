/* latch serve and latch proxy: the event engine.  Worker threads, each
 * with its own epoll loop and SO_REUSEPORT listening socket; each
 * connection is a latch_conn driven through recv_buf/recv_done/send_buf/
 * send_done/read/write.  serve answers HTTP/1.1 from a directory; proxy
 * relays the plaintext to a TCP backend. */
#ifndef LATCH_TOOLS_SERVE_H
#define LATCH_TOOLS_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "http/http.h"
#include "latch/latch.h"
#include "latch/trace.h"

enum { SERVE_MAX_CERTIFICATES = 8, SERVE_MAX_TICKET_KEYS = 8, SERVE_MAX_WORKERS = 256 };

enum serve_mode { SERVE_MODE_HTTP, SERVE_MODE_PROXY };

struct serve_options {
    enum serve_mode mode;
    const char *command;       /* "serve" or "proxy", for messages */
    struct cli_tls_options tls;
    const char *listen;
    const char *certs[SERVE_MAX_CERTIFICATES], *keys[SERVE_MAX_CERTIFICATES];
    int cert_count, key_count;
    const char *directory;     /* serve */
    const char *backend;       /* proxy: HOST:PORT */
    struct sockaddr_storage backend_address; /* resolved at start */
    socklen_t backend_address_length;
    const char *client_ca;
    enum latch_client_auth client_auth;
    const char *ticket_keys[SERVE_MAX_TICKET_KEYS];
    int ticket_key_count;
    int no_tickets;
    long session_cache;        /* entries; -1: the engine's default */
    const char *keylog;
    int trace;
    enum latch_trace_format trace_format;
    long workers;              /* 0: one per core */
    long handshake_timeout_ms, idle_timeout_ms, request_timeout_ms, shutdown_timeout_ms;
    long max_connections;
    long max_header_size;      /* request head bytes (serve) */
    long long max_body_size;   /* request body bytes accepted and skipped (serve) */
    const char *access_log;    /* Common Log Format file (serve) */
    int quiet;                 /* no per-request / per-connection lines on stderr */
    int ready_fd;              /* internal: "PORT\n" written here once listening, or -1 */
};

/* A latch_config is immutable once connections share it.  SIGHUP builds a
 * new one for new connections; the old one lives until its last
 * connection is gone.  users counts the connections, plus one while it is
 * the current configuration (atomic: workers are threads). */
struct serve_config_ref {
    latch_config *config;
    unsigned generation;
    atomic_size_t users;
};

/* The server configuration for options (certificates, client CA, ticket
 * key files, ...); keylog may be NULL.  Prints the problem and returns an
 * exit code on failure, 0 on success. */
int serve_build_config(const struct serve_options *options, FILE *keylog, latch_config **out);
/* The same on SIGHUP: the new configuration shares previous's session-id
 * cache, so sessions cached before the reload still resume. */
int serve_rebuild_config(const struct serve_options *options, FILE *keylog,
                         const latch_config *previous, latch_config **out);
/* A reference holding config (users = 1), or NULL (config freed). */
struct serve_config_ref *serve_config_ref_new(latch_config *config, unsigned generation);
/* Drop one user; frees the configuration with its last one. */
void serve_config_ref_release(struct serve_config_ref *ref);

/* What every worker shares. */
struct serve_shared {
    const struct serve_options *options;
    const char *root;                 /* realpath of the served directory */
    pthread_mutex_t lock;             /* current, access_log_fd */
    struct serve_config_ref *current; /* for new connections */
    FILE *keylog;                     /* shared by every configuration, or NULL */
    int access_log_fd;                /* -1 without --access-log */
    atomic_long connections;          /* open, across workers */
    atomic_ulong next_id;             /* "conn N" labels */
    atomic_int stopping;              /* SIGTERM/SIGINT: stop accepting, finish */
    atomic_int aborting;              /* a second signal: stop now */
    int stop_fd;                      /* eventfd, readable once stopping */
    char bound[80];                   /* the address worker 0 bound */
    unsigned trace_steered;           /* --trace, several workers: new connections go to
                                         worker (client port % this), so each worker's
                                         capture keeps only its own; 0: the kernel's hash */
};

/* The config for a new connection, with a user taken. */
struct serve_config_ref *serve_config_acquire(struct serve_shared *shared);
/* One Common Log Format line (with its newline) to --access-log. */
void serve_access_log_write(struct serve_shared *shared, const char *line, size_t length);

/* What an epoll registration points at. */
enum serve_tag_kind {
    SERVE_TAG_LISTENER, SERVE_TAG_STOP, SERVE_TAG_CLIENT, SERVE_TAG_BACKEND,
    SERVE_TAG_CAPTURE /* --trace: the listening port's TCP segments */
};
struct serve_conn;
struct serve_tag {
    enum serve_tag_kind kind;
    struct serve_conn *conn;
};

struct serve_worker {
    struct serve_shared *shared;
    int index;
    int epoll_fd, listen_fd;
    struct serve_tag listener_tag, stop_tag;
    struct serve_conn *connections;   /* open */
    struct serve_conn *graveyard;     /* closed, freed after the event batch */
    size_t connection_count;
    int stopping;
    uint64_t stop_deadline_ms;
    uint64_t refused_logged_ms;       /* last "connection limit" line */
    latch_http_request request;       /* parser scratch (4 KiB: not on the stack) */
    int root_fd;                      /* serve: O_PATH descriptor of shared->root, or -1 */
    /* serve: request lines for stderr and --access-log, written once per
     * event batch (serve_http_flush_logs) instead of once per request */
    char stderr_log[8192], access_log[8192];
    size_t stderr_log_length, access_log_length;
    time_t access_log_time;           /* the second access_log_date shows */
    char access_log_date[40];
    pthread_t thread;
    int thread_started;
    /* --trace: TCP segments of the listening port (serve_conn.c) */
    latch_tcp_capture *tcp_capture;   /* NULL: not tracing, or refused */
    int tcp_capture_errno;            /* why it was refused */
    struct serve_tag capture_tag;
    struct serve_trace_linger *lingering; /* closed, their TCP close still traced */
    int status;                       /* exit code of the worker */
};

struct serve_conn {
    struct serve_conn *prev, *next;
    struct serve_worker *worker;
    struct serve_tag client_tag, backend_tag;
    int fd;
    unsigned long id;
    struct serve_config_ref *config;
    latch_conn *tls;
    latch_tracer *tracer;      /* --trace, or NULL */
    latch_tcp_capture *tcp;    /* --trace: its segments (from the worker's capture), or NULL */
    char peer[80];
    unsigned interest;         /* epoll events registered for fd */
    uint64_t opened_ms, last_active_ms;
    int handshake_done;
    int peer_eof;              /* TCP FIN seen */
    int closing;               /* close after the current reply */
    int close_queued;          /* close_notify queued in the engine */
    int draining;              /* write side shut; waiting for the peer's FIN */
    int dead;
    /* serve: HTTP */
    char *input;               /* request bytes, max_header_size capacity */
    size_t input_length;
    uint64_t request_started_ms; /* first byte of an unfinished head, or 0 */
    uint64_t discard;          /* request body bytes still to skip */
    int last_request;          /* stopping: answer what is queued with Connection: close */
    int reply_active;
    latch_http_reply reply;
    size_t head_sent, body_sent;
    uint64_t file_sent;
    char *file_buffer;         /* file bytes read ahead (large replies), or NULL */
    size_t file_buffered, file_buffer_used; /* bytes in it, bytes of them already sent */
    int more_follows;          /* the reply goes on after what is queued: send with MSG_MORE */
    /* proxy: the backend side */
    int backend_fd;
    unsigned backend_interest;
    int backend_connected;     /* connect() finished */
    int backend_eof;           /* backend FIN seen (close_notify queued for the client) */
    int upstream_shut;         /* shutdown(SHUT_WR) sent to the backend */
    int client_closed;         /* client close_notify (or FIN) seen */
    char *upstream;            /* client plaintext waiting for the backend */
    size_t upstream_length, upstream_sent;
    uint64_t bytes_up, bytes_down;
};

uint64_t serve_now_ms(void);

/* --- the engine (serve_engine.c) ------------------------------------- */

/* Listen, run the workers until SIGTERM/SIGINT, stop gracefully.  Returns
 * the exit code.  Takes over SIGTERM, SIGINT, SIGHUP (reload) and SIGPIPE. */
int serve_run(struct serve_shared *shared);

/* --- connections (serve_conn.c) -------------------------------------- */

/* Take ownership of an accepted, non-blocking socket. */
void serve_conn_open(struct serve_worker *worker, int fd, const struct sockaddr *peer,
                     socklen_t peer_length);
/* React to epoll events on one of the connection's sockets. */
void serve_conn_handle(struct serve_tag *tag, unsigned events);
/* Timeouts: handshake, request, idle, drain; while stopping, idle ones close. */
void serve_conn_sweep(struct serve_worker *worker);
/* The server is stopping: close idle connections, mark the others. */
void serve_conn_stop(struct serve_conn *conn);
/* Stop now: close_notify if possible, then close. */
void serve_conn_abort(struct serve_conn *conn);
/* Unlink, close the sockets and move to the graveyard (freed later). */
void serve_conn_destroy(struct serve_conn *conn);
/* Free the graveyard (after an event batch, when no event can point at it). */
void serve_conn_bury(struct serve_worker *worker);

/* --trace and TCP (serve_conn.c): the worker's capture of its listening
 * port (the handshake segments of each connection, kept until accept), its
 * segments routed to the connections' tracers, and the tracers of closed
 * connections kept (at most 3 s) until their TCP close is seen. */
struct serve_trace_linger;
void serve_trace_open(struct serve_worker *worker);
void serve_trace_segments(struct serve_worker *worker);
void serve_trace_sweep(struct serve_worker *worker, int all);
/* How long epoll may wait (at most longest ms) before a closed connection's trace is due. */
int serve_trace_wait_ms(const struct serve_worker *worker, int longest);
void serve_trace_close(struct serve_worker *worker);

/* The TLS side shared by serve and proxy (serve_conn.c). */
void serve_tls_receive(struct serve_conn *conn);
ssize_t serve_tls_flush(struct serve_conn *conn);
void serve_tls_fail(struct serve_conn *conn);
size_t serve_tls_pending(const struct serve_conn *conn);
void serve_log_failure(const struct serve_conn *conn, const char *reason, const char *alert);
void serve_finish_closing(struct serve_conn *conn);
void serve_update_interest(struct serve_conn *conn);

/* --- the proxy side (proxy_conn.c) ------------------------------------ */

/* Progress after events on the client (side 0) or backend (side 1)
 * socket; side -1: the idle timeout expired (close both). */
void proxy_conn_handle(struct serve_conn *conn, int side, unsigned events);
/* Log and free the proxy side of a connection being destroyed. */
void proxy_conn_release(struct serve_conn *conn);

/* --- options (cmd_serve.c) -------------------------------------------- */

/* Parse latch serve / latch proxy options.  Returns -1 to go on, else the
 * exit code (0 after --help). */
int serve_parse_options(enum serve_mode mode, int argc, char **argv,
                        struct serve_options *options);
/* Run latch serve / proxy with parsed options (also used by latch demo). */
int serve_main(struct serve_options *options);

#endif
