/* latch get and latch trace: options, one fetch over one connection,
 * saved sessions, and the tracers watching a connection. */
#ifndef LATCH_TOOLS_GET_H
#define LATCH_TOOLS_GET_H

#include "cli.h"
#include "http/http.h"

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
};
/* Adds a tracer writing format to out; returns 0 or -1. */
int get_trace_add(struct get_trace *trace, enum latch_trace_format format, FILE *out,
                  const char *label);
/* A latch_observer_fn passing each event to every tracer; notes "first
 * byte" at the first application data received. */
void get_trace_observe(void *trace, const latch_event *event);
/* A step outside the engine (DNS, TCP connect, first byte, closed), now. */
void get_trace_note(struct get_trace *trace, const char *step, const char *detail);
/* Finish (print) and free every tracer, in the order they were added. */
void get_trace_finish(struct get_trace *trace);

/* One request over one new connection. */
struct get_fetch {
    const latch_url *url;
    latch_config *config;
    const char *method;         /* "GET" or "HEAD" */
    int verbose;
    int write_body;             /* 0: the body is read and discarded */
    struct get_trace *trace;    /* may be NULL */
    const latch_session *offer; /* session to offer, may be NULL */
    /* Results. */
    latch_session *session;     /* the session to resume next (caller frees), or NULL */
    int resumed;
    int http_status;
};
/* Resolve, connect, handshake, request, response, close.  Returns the exit
 * code (CLI_EXIT_*); the failure is already reported on stderr. */
int get_fetch_run(struct get_fetch *fetch);

/* The session saved in path; NULL if there is none (a missing file is not
 * an error; an unreadable or invalid one is reported and ignored). */
latch_session *get_session_load(const char *path);
/* Write session to path atomically (temporary file, then rename), mode
 * 0600.  Returns 0, or -1 after reporting the problem. */
int get_session_save(const char *path, const latch_session *session);

#endif
