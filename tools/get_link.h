/* latch get: one TLS connection to an origin (a "link"), kept open for the
 * next request when the server allows it, and one request/response over
 * it (get_link.c). */
#ifndef LATCH_TOOLS_GET_LINK_H
#define LATCH_TOOLS_GET_LINK_H

#include <stdint.h>

#include "get.h"

struct get_link {
    int fd;
    latch_conn *conn;
    char host[LATCH_HTTP_MAX_HOST];          /* the URL's: SNI and certificate name */
    char port[6];
    char connect_host[LATCH_HTTP_MAX_HOST];  /* where TCP went (--connect-to) */
    char connect_port[8];
    struct get_trace *trace;                 /* may be NULL */
    int verbose;
    int reusable;        /* the last response left the connection open */
    int requests;        /* requests sent on it */
    int healthy;         /* no failure: close with close_notify */
    uint64_t start_us, connected_us, handshake_us; /* latch_trace_now_us() marks */
};

struct get_link_target {
    latch_config *config;
    const latch_url *url;
    const char *connect_host, *connect_port; /* NULL: the URL's host and port */
    const latch_session *offer;              /* may be NULL */
    struct get_trace *trace;                 /* may be NULL */
    int verbose;
    int connect_timeout_ms;                  /* 0: 15 s */
};

/* Resolve, connect, handshake.  Returns 0 or the exit code (reported). */
int get_link_open(struct get_link *link, const struct get_link_target *target);
/* Is link an open connection to this origin through this address? */
int get_link_matches(const struct get_link *link, const latch_url *url, const char *connect_host,
                     const char *connect_port);
/* close_notify when healthy, then close; the trace notes it. */
void get_link_close(struct get_link *link);
/* The session to resume later (caller frees), or NULL. */
latch_session *get_link_session(const struct get_link *link);

/* Where a response goes: called with the head once it is in, then with
 * the body bytes.  A non-zero return stops the transfer; status then
 * holds the exit code (e.g. CLI_EXIT_WRITE). */
struct get_sink {
    int (*on_head)(struct get_sink *sink, const latch_http_response *response);
    int (*on_body)(struct get_sink *sink, const char *data, size_t length);
    int status;
};

struct get_request {
    const char *method;
    const latch_url *url;
    const char *const *headers;  /* -H lines */
    size_t header_count;
    const char *body;            /* -d */
    size_t body_length;
    int has_body;
    int keep_alive;              /* 0: "Connection: close" */
    int verbose;
    struct get_sink *sink;
    int stale;                   /* set: the connection was gone before any response byte */
};

/* Send request on link and read the response into response (and the
 * sink).  Returns 0 (whatever the HTTP status) or the exit code
 * (reported).  Afterwards link->reusable says if the link may serve the
 * next request. */
int get_link_exchange(struct get_link *link, struct get_request *request,
                      latch_http_response *response);

#endif
