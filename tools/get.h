/* latch get and latch trace: options, one fetch over one connection,
 * saved sessions, and the tracers watching a connection. */
#ifndef LATCH_TOOLS_GET_H
#define LATCH_TOOLS_GET_H

#include "cli.h"
#include "http/http.h"

enum { GET_MAX_URLS = 64, GET_MAX_HEADERS = 64, GET_MAX_CONNECT_TO = 16 };

struct get_output_spec {
    const char *path;           /* -o FILE, or NULL for -O */
    int remote_name;            /* -O */
};

struct get_options {
    struct cli_tls_options tls;
    const char *cacert, *capath, *url;
    const char *cert, *key;     /* client certificate (mutual TLS) */
    const char *session_file;
    const char *keylog;
    int insecure, verbose;
    long reconnect;             /* further connections after the first */
    int trace;
    enum latch_trace_format trace_format;
    int rtt_report;             /* --rtt-report: round trips per phase after the trace */
    /* latch get, curl's habits (get_run.c) */
    const char *urls[GET_MAX_URLS];
    int url_count;
    struct get_output_spec outputs[GET_MAX_URLS]; /* the i-th -o/-O goes with the i-th URL */
    int output_count;
    const char *method;         /* -X */
    int head_only, include_head; /* -I, -i */
    const char *headers[GET_MAX_HEADERS];
    int header_count;
    char *data;                 /* -d/--data-binary joined by '&' (malloc'd), or NULL */
    size_t data_length;
    int follow;                 /* -L */
    long max_redirects;
    int fail, silent;           /* --fail, -s */
    const char *connect_to[GET_MAX_CONNECT_TO];
    int connect_to_count;
    long max_time_ms, connect_timeout_ms;
};

enum get_command { GET_COMMAND_GET, GET_COMMAND_TRACE };

/* Returns -1 to go on, else the exit code (0 after --help). */
int get_parse_options(enum get_command command, int argc, char **argv,
                      struct get_options *options);
/* The client configuration for options; *keylog is the key log file (or
 * NULL), to close after the config is freed.  Returns 0 or an exit code. */
int get_build_config(const char *command, const struct get_options *options,
                     latch_config **config, FILE **keylog);

/* The tracers watching one connection (latch trace uses two: a table and a
 * timeline).  Empty (count 0) when not tracing. */
enum { GET_MAX_TRACERS = 2 };
struct get_trace {
    latch_tracer *tracers[GET_MAX_TRACERS];
    int count;
    int first_byte_noted;       /* "first byte" goes before the first app data */
    /* TCP made visible (latch/tcp.h): the connection's segments, captured
     * from before connect() when permitted; else TCP_INFO and why. */
    latch_tcp_capture *capture;
    int capture_errno;          /* why there is no capture (EPERM...), 0 if there is */
    FILE *rtt_report;           /* print the round-trip report here at finish, or NULL */
    FILE *null_out;             /* a tracer's output when only the report is wanted */
};
/* Adds a tracer writing format to out; returns 0 or -1. */
int get_trace_add(struct get_trace *trace, enum latch_trace_format format, FILE *out,
                  const char *label);
/* A latch_observer_fn passing each event to every tracer; notes "first
 * byte" at the first application data received. */
void get_trace_observe(void *trace, const latch_event *event);
/* A step outside the engine (DNS, TCP connect, first byte, closed), now. */
void get_trace_note(struct get_trace *trace, const char *step, const char *detail);
/* Finish (print) and free every tracer, in the order they were added (and
 * the capture), then the round-trip report if asked for. */
void get_trace_finish(struct get_trace *trace);
/* connect() to address with a capture started before the SYN when tracing
 * (latch_tcp_connect_captured), else a plain bounded connect.  Returns the
 * fd or -1 (errno). */
int get_trace_connect(struct get_trace *trace, const struct sockaddr *address,
                      socklen_t length, int timeout_ms);
/* Before close(fd): TCP_INFO when there is no capture. */
void get_trace_before_close(struct get_trace *trace, int fd);
/* After close(fd): wait (at most a few round trips) for the closing
 * segments to reach the capture. */
void get_trace_after_close(struct get_trace *trace);

/* One request over one new connection. */
struct get_fetch {
    const latch_url *url;
    latch_config *config;
    const char *method;         /* "GET" or "HEAD" */
    int verbose;
    int write_body;             /* 0: the body is read and discarded */
    struct get_trace *trace;    /* may be NULL */
    const latch_session *offer; /* session to offer, may be NULL */
    int fail_on_error;          /* HTTP status >= 400: exit 22 (--fail) */
    const char *connect_host, *connect_port; /* --connect-to target, or NULL */
    /* Results. */
    latch_session *session;     /* the session to resume next (caller frees), or NULL */
    int resumed;
    int http_status;
    uint64_t body_bytes;        /* body bytes received */
    char version[16], suite[64], group[32]; /* as negotiated ("TLSv1.3", ...) */
    char peer_subject[256];     /* the verified server certificate's subject, or "" */
    uint64_t connect_us, handshake_us, total_us; /* from the start of the fetch */
};
/* Resolve, connect, handshake, request, response, close.  Returns the exit
 * code (CLI_EXIT_*); the failure is already reported on stderr. */
int get_fetch_run(struct get_fetch *fetch);

/* latch get with several URLs, redirects, outputs: get_run.c. */
int get_run(const struct get_options *options, latch_config *config);
/* Is text a --connect-to HOST:PORT:ADDR:PORT rule? */
int get_connect_to_valid(const char *text);
/* The curl-like options of latch get (get_options.c): -1 if taken, 0 if
 * option is none of them, else the exit code (reported). */
int get_http_option(struct get_options *options, int option, const char *value);
/* The tracers for one connection of latch get as options ask (--trace,
 * --rtt-report); label names the connection.  Returns 0 or an exit code. */
int get_trace_start(const struct get_options *options, struct get_trace *trace,
                    const char *label);

/* The session saved in path; NULL if there is none (a missing file is not
 * an error; an unreadable or invalid one is reported and ignored). */
latch_session *get_session_load(const char *path);
/* Write session to path atomically (temporary file, then rename), mode
 * 0600.  Returns 0, or -1 after reporting the problem. */
int get_session_save(const char *path, const latch_session *session);

#endif
