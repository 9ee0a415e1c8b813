/* tcp_peer: both ends of a traced TCP connection, for tests/interop/test_tcp_*.sh.
 *
 *   tcp_peer serve   --listen ADDR:PORT [--close client|server|both] [--fin-delay-ms N]
 *                    [--trace FMT[:FILE]]... [--ready FILE]
 *   tcp_peer connect --to ADDR:PORT [--close client|server|both] [--bytes N]
 *                    [--trace FMT[:FILE]]... [--rtt-report]
 *   tcp_peer tls     --to ADDR:PORT --name HOST --cacert FILE [--tls-max 1.2|1.3]
 *                    [--resume] [--trace FMT[:FILE]]... [--rtt-report]
 *
 * Plain TCP (serve/connect): the client sends "N\n", the server answers N
 * bytes, then the connection is closed the way --close says (both ends must
 * be given the same mode):
 *   client  the client sends its FIN first; the server waits 300 ms before
 *           its own (so its ACK of the client's FIN leaves alone):
 *           client FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT, server CLOSE_WAIT → LAST_ACK
 *   server  the mirror
 *   both    the server sends its FIN --fin-delay-ms (default 10) after the
 *           data; the client sends its FIN as soon as it has the data.  Over
 *           a link whose one-way delay exceeds fin-delay, the FINs cross:
 *           both sides CLOSING → TIME_WAIT.
 * tls: HTTP/1.1 GET / through the library (latch_conn and the blocking
 * helpers) over a captured connection; --resume makes a second connection
 * that offers the first one's session (the trace of the second is printed,
 * after the first's).
 *
 * Each end captures its own connection (latch_tcp_capture; the server with a
 * listening-port capture started before accept, so it sees the SYN) and
 * prints the trace, TCP segments and TLS messages interleaved, on stderr or
 * FILE.  --rtt-report prints the round trips per phase on stdout.
 * Without CAP_NET_RAW there is no capture: the trace says so and shows what
 * TCP_INFO reports (state, RTT, retransmissions) at each step instead.
 * Exit 0 on success.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "latch/latch.h"
#include "latch/net.h"
#include "latch/tcp.h"
#include "latch/trace.h"

#define MAX_TRACERS 3
#define LINGER_MS 600 /* after close: let the last segments arrive in the capture */

typedef struct options {
    const char *mode, *address, *close_mode, *name, *cacert, *tls_max, *ready;
    const char *trace_spec[MAX_TRACERS];
    int traces, rtt_report, resume;
    long bytes, fin_delay_ms;
} options;

typedef struct traced {
    latch_tracer *tracers[MAX_TRACERS];
    FILE *files[MAX_TRACERS];
    size_t count;
    latch_tcp_capture *capture;
} traced;

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int parse_address(const char *text, struct sockaddr_storage *out, socklen_t *length)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= sizeof host)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strlen(h) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *list = NULL;
    if (getaddrinfo(h, colon + 1, &hints, &list) != 0)
        return -1;
    memcpy(out, list->ai_addr, list->ai_addrlen);
    *length = list->ai_addrlen;
    freeaddrinfo(list);
    return 0;
}

static int open_tracers(traced *t, const options *o, const char *label)
{
    memset(t->tracers, 0, sizeof t->tracers);
    t->count = 0;
    for (int i = 0; i < o->traces; i++) {
        char spec[512];
        snprintf(spec, sizeof spec, "%s", o->trace_spec[i]);
        char *file = strchr(spec, ':');
        if (file != NULL)
            *file++ = '\0';
        enum latch_trace_format format;
        if (strcmp(spec, "table") == 0)
            format = LATCH_TRACE_TABLE;
        else if (strcmp(spec, "timeline") == 0)
            format = LATCH_TRACE_TIMELINE;
        else if (strcmp(spec, "json") == 0)
            format = LATCH_TRACE_JSON;
        else {
            fprintf(stderr, "tcp_peer: unknown trace format %s\n", spec);
            return -1;
        }
        FILE *out = stderr;
        if (file != NULL && (out = fopen(file, "a")) == NULL) {
            fprintf(stderr, "tcp_peer: %s: %s\n", file, strerror(errno));
            return -1;
        }
        t->files[t->count] = out;
        t->tracers[t->count++] = latch_tracer_new(format, out, label);
    }
    return 0;
}

static void note(traced *t, const char *step, const char *detail)
{
    latch_tracer_feed_tcp(t->tracers, t->count, t->capture, 0);
    for (size_t i = 0; i < t->count; i++)
        latch_tracer_note(t->tracers[i], latch_trace_now_us(), step, detail);
}

static void observe(void *arg, const latch_event *event)
{
    traced *t = arg;
    latch_tracer_feed_tcp(t->tracers, t->count, t->capture, 0);
    for (size_t i = 0; i < t->count; i++)
        latch_tracer_observe(t->tracers[i], event);
}

static void finish_tracers(traced *t, int rtt_report)
{
    latch_tracer_feed_tcp(t->tracers, t->count, t->capture, 1);
    for (size_t i = 0; i < t->count; i++) {
        latch_tracer_finish(t->tracers[i]);
        if (i == 0 && rtt_report)
            latch_tracer_rtt_report(t->tracers[i], stdout);
        if (t->files[i] != stderr)
            fclose(t->files[i]);
        latch_tracer_free(t->tracers[i]);
    }
    t->count = 0;
    latch_tcp_capture_stop(t->capture);
    t->capture = NULL;
}

/* Read until EOF (or error); returns bytes read. */
static long drain_socket(int fd)
{
    char buffer[4096];
    long total = 0;
    for (;;) {
        ssize_t got = read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return total;
        total += got;
    }
}

static int read_exactly(int fd, char *buffer, long want)
{
    long have = 0;
    while (have < want) {
        ssize_t got = read(fd, buffer + have, (size_t)(want - have));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        have += got;
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return -1;
        data += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* No capture (no CAP_NET_RAW): what TCP_INFO says instead, and why. */
static void tcp_info_fallback(traced *t, int fd, int capture_errno)
{
    latch_tcp_info info;
    char why[160];
    if (latch_tcp_info_get(fd, &info) != 0)
        return;
    if (capture_errno != 0)
        snprintf(why, sizeof why, "segments not visible: packet capture refused (%s; needs CAP_NET_RAW)",
                 strerror(capture_errno));
    else
        snprintf(why, sizeof why, "segments not visible");
    for (size_t i = 0; i < t->count; i++)
        latch_tracer_tcp_info(t->tracers[i], latch_trace_now_us(), &info, why);
}

/* A step of the close: a note, and TCP_INFO's state when there is no capture. */
static void step(traced *t, int fd, const char *name, const char *detail)
{
    note(t, name, detail);
    if (t->capture == NULL)
        tcp_info_fallback(t, fd, 0);
}

/* ---- plain TCP ---- */

static int run_serve(const options *o)
{
    struct sockaddr_storage address;
    socklen_t length;
    traced t = {0};
    if (parse_address(o->address, &address, &length) != 0) {
        fprintf(stderr, "tcp_peer: bad --listen %s\n", o->address);
        return 2;
    }
    int listener = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, length) != 0 ||
        listen(listener, 4) != 0) {
        fprintf(stderr, "tcp_peer: listen %s: %s\n", o->address, strerror(errno));
        return 1;
    }
    length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);
    /* a listening-port capture: locks onto the first SYN */
    t.capture = latch_tcp_capture_start_for((struct sockaddr *)&address, NULL);
    int capture_errno = t.capture == NULL ? errno : 0;
    latch_tcp_capture_set_local_role(t.capture, 0);
    if (o->ready != NULL) {
        FILE *f = fopen(o->ready, "w");
        if (f != NULL)
            fclose(f);
    }
    fprintf(stderr, "tcp_peer: listening on %s\n", o->address);
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        perror("tcp_peer: accept");
        return 1;
    }
    if (open_tracers(&t, o, "tcp_peer serve") != 0)
        return 2;
    note(&t, "accepted", t.capture ? latch_tcp_capture_description(t.capture) : o->address);
    if (t.capture == NULL)
        tcp_info_fallback(&t, fd, capture_errno);
    char line[32] = {0};
    size_t used = 0;
    while (used < sizeof line - 1 && read(fd, line + used, 1) == 1 && line[used] != '\n')
        used++;
    long bytes = atol(line);
    char *data = calloc(1, (size_t)bytes + 1);
    memset(data, 'x', (size_t)bytes);
    if (write_all(fd, data, (size_t)bytes) != 0)
        perror("tcp_peer: write");
    free(data);
    line[strcspn(line, "\n")] = '\0';
    note(&t, "response sent", line);
    if (strcmp(o->close_mode, "server") == 0) {
        shutdown(fd, SHUT_WR);
        step(&t, fd, "shutdown", "server closes first");
        drain_socket(fd);
        step(&t, fd, "end of stream", NULL);
    } else if (strcmp(o->close_mode, "both") == 0) {
        sleep_ms(o->fin_delay_ms);
        shutdown(fd, SHUT_WR);
        step(&t, fd, "shutdown", "both close");
        drain_socket(fd);
        step(&t, fd, "end of stream", NULL);
    } else {
        drain_socket(fd);
        step(&t, fd, "end of stream", "the client closed first");
        sleep_ms(300);
        shutdown(fd, SHUT_WR);
        step(&t, fd, "shutdown", NULL);
    }
    sleep_ms(LINGER_MS / 2);
    if (t.capture == NULL)
        tcp_info_fallback(&t, fd, 0);
    close(fd);
    note(&t, "closed", NULL);
    sleep_ms(LINGER_MS);
    finish_tracers(&t, o->rtt_report);
    close(listener);
    return 0;
}

static int run_connect(const options *o)
{
    struct sockaddr_storage address;
    socklen_t length;
    traced t = {0};
    int capture_errno = 0;
    char request[32];
    if (parse_address(o->address, &address, &length) != 0) {
        fprintf(stderr, "tcp_peer: bad --to %s\n", o->address);
        return 2;
    }
    if (open_tracers(&t, o, o->address) != 0)
        return 2;
    note(&t, "start", o->address);
    int fd = latch_tcp_connect_captured((struct sockaddr *)&address, length, 5000, &t.capture,
                                        &capture_errno);
    if (fd < 0) {
        note(&t, "TCP connect", strerror(errno));
        sleep_ms(200);
        finish_tracers(&t, o->rtt_report);
        return 1;
    }
    note(&t, "TCP connect", "SYN, SYN-ACK, ACK");
    if (t.capture == NULL)
        tcp_info_fallback(&t, fd, capture_errno);
    snprintf(request, sizeof request, "%ld\n", o->bytes);
    write_all(fd, request, strlen(request));
    char *data = malloc((size_t)o->bytes + 1);
    int status = read_exactly(fd, data, o->bytes);
    free(data);
    if (status != 0) {
        fprintf(stderr, "tcp_peer: short response\n");
        close(fd);
        finish_tracers(&t, o->rtt_report);
        return 1;
    }
    note(&t, "response received", NULL);
    if (strcmp(o->close_mode, "client") == 0 || strcmp(o->close_mode, "both") == 0) {
        shutdown(fd, SHUT_WR);
        step(&t, fd, "shutdown", strcmp(o->close_mode, "client") == 0 ? "client closes first"
                                                                      : "both close");
        drain_socket(fd);
        step(&t, fd, "end of stream", NULL);
    } else {
        drain_socket(fd);
        step(&t, fd, "end of stream", "the server closed first");
        sleep_ms(300);
        shutdown(fd, SHUT_WR);
        step(&t, fd, "shutdown", NULL);
    }
    sleep_ms(LINGER_MS / 2);
    if (t.capture == NULL)
        tcp_info_fallback(&t, fd, 0);
    close(fd);
    note(&t, "closed", NULL);
    sleep_ms(LINGER_MS);
    finish_tracers(&t, o->rtt_report);
    return 0;
}

/* ---- TLS ---- */

static int tls_get(const options *o, latch_config *config, latch_session **session,
                   int attempt)
{
    struct sockaddr_storage address;
    socklen_t length;
    traced t = {0};
    int capture_errno = 0, status = 1;
    char label[300], request[512], response[16384];
    if (parse_address(o->address, &address, &length) != 0) {
        fprintf(stderr, "tcp_peer: bad --to %s\n", o->address);
        return 2;
    }
    snprintf(label, sizeof label, "%s%s", o->address, attempt > 1 ? " (resumption)" : "");
    if (open_tracers(&t, o, label) != 0)
        return 2;
    note(&t, "start", o->address);
    int fd = latch_tcp_connect_captured((struct sockaddr *)&address, length, 5000, &t.capture,
                                        &capture_errno);
    if (fd < 0) {
        note(&t, "TCP connect", strerror(errno));
        finish_tracers(&t, o->rtt_report);
        return 1;
    }
    note(&t, "TCP connect", "SYN, SYN-ACK, ACK");
    if (t.capture == NULL)
        tcp_info_fallback(&t, fd, capture_errno);
    latch_conn *conn = latch_conn_new(config, o->name);
    latch_conn_set_observer(conn, observe, &t);
    if (*session != NULL)
        latch_conn_set_session(conn, *session);
    int error = latch_blocking_handshake(conn, fd);
    if (error != 0) {
        fprintf(stderr, "tcp_peer: handshake failed: %s\n", latch_conn_error_reason(conn));
        goto done;
    }
    snprintf(request, sizeof request,
             "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", o->name);
    if (latch_blocking_write(conn, fd, request, strlen(request)) < 0)
        goto done;
    long total = 0;
    for (;;) {
        ssize_t got = latch_blocking_read(conn, fd, response, sizeof response);
        if (got <= 0)
            break;
        total += got;
    }
    note(&t, "response received", NULL);
    fprintf(stderr, "tcp_peer: %ld response bytes, %s\n", total,
            latch_conn_resumed(conn) ? "resumed" : "full handshake");
    latch_session_free(*session);
    *session = latch_conn_get_session(conn);
    latch_blocking_close(conn, fd);
    status = 0;
done:
    close(fd);
    note(&t, "closed", NULL);
    sleep_ms(LINGER_MS);
    finish_tracers(&t, o->rtt_report);
    latch_conn_free(conn);
    return status;
}

static int run_tls(const options *o)
{
    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT);
    latch_session *session = NULL;
    int status;
    if (config == NULL || latch_config_set_ca(config, o->cacert, NULL) != 0) {
        fprintf(stderr, "tcp_peer: configuration failed\n");
        return 2;
    }
    if (o->tls_max != NULL)
        latch_config_set_versions(config, LATCH_VERSION_TLS12, latch_version_parse(o->tls_max));
    status = tls_get(o, config, &session, 1);
    if (status == 0 && o->resume) {
        if (session == NULL) {
            fprintf(stderr, "tcp_peer: no session to resume\n");
            status = 1;
        } else {
            status = tls_get(o, config, &session, 2);
        }
    }
    latch_session_free(session);
    latch_config_free(config);
    return status;
}

int main(int argc, char **argv)
{
    options o = {.close_mode = "client", .bytes = 1000, .fin_delay_ms = 10, .name = "localhost"};
    if (argc < 2) {
        fprintf(stderr, "usage: tcp_peer serve|connect|tls OPTIONS (see the source)\n");
        return 2;
    }
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--rtt-report") == 0) {
            o.rtt_report = 1;
            continue;
        }
        if (strcmp(arg, "--resume") == 0) {
            o.resume = 1;
            continue;
        }
        if (value == NULL) {
            fprintf(stderr, "tcp_peer: %s needs a value\n", arg);
            return 2;
        }
        i++;
        if (strcmp(arg, "--listen") == 0 || strcmp(arg, "--to") == 0)
            o.address = value;
        else if (strcmp(arg, "--close") == 0)
            o.close_mode = value;
        else if (strcmp(arg, "--bytes") == 0)
            o.bytes = atol(value);
        else if (strcmp(arg, "--fin-delay-ms") == 0)
            o.fin_delay_ms = atol(value);
        else if (strcmp(arg, "--name") == 0)
            o.name = value;
        else if (strcmp(arg, "--cacert") == 0)
            o.cacert = value;
        else if (strcmp(arg, "--tls-max") == 0)
            o.tls_max = value;
        else if (strcmp(arg, "--ready") == 0)
            o.ready = value;
        else if (strcmp(arg, "--trace") == 0 && o.traces < MAX_TRACERS)
            o.trace_spec[o.traces++] = value;
        else {
            fprintf(stderr, "tcp_peer: unknown option %s\n", arg);
            return 2;
        }
    }
    if (o.traces == 0)
        o.trace_spec[o.traces++] = "table";
    if (o.address == NULL || o.bytes < 0 || o.bytes > 100000000 ||
        (strcmp(o.close_mode, "client") != 0 && strcmp(o.close_mode, "server") != 0 &&
         strcmp(o.close_mode, "both") != 0)) {
        fprintf(stderr, "tcp_peer: missing or bad options\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(o.mode, "serve") == 0)
        return run_serve(&o);
    if (strcmp(o.mode, "connect") == 0)
        return run_connect(&o);
    if (strcmp(o.mode, "tls") == 0) {
        if (o.cacert == NULL) {
            fprintf(stderr, "tcp_peer: tls needs --cacert\n");
            return 2;
        }
        return run_tls(&o);
    }
    fprintf(stderr, "tcp_peer: unknown mode %s\n", o.mode);
    return 2;
}
