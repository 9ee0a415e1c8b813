/* The tracers watching one client connection, and its TCP segments. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

int get_trace_add(struct get_trace *trace, enum latch_trace_format format, FILE *out,
                  const char *label)
{
    if (trace->count >= GET_MAX_TRACERS)
        return -1;
    latch_tracer *tracer = latch_tracer_new(format, out, label);
    if (tracer == NULL)
        return -1;
    trace->tracers[trace->count++] = tracer;
    return 0;
}

/* Segments captured so far go before the next event or note. */
static void feed_segments(struct get_trace *trace, int end)
{
    if (trace->capture != NULL)
        latch_tracer_feed_tcp(trace->tracers, (size_t)trace->count, trace->capture, end);
}

void get_trace_observe(void *arg, const latch_event *event)
{
    struct get_trace *trace = arg;
    int first_byte = event->kind == LATCH_EVENT_APPLICATION_DATA_RECEIVED &&
                     !trace->first_byte_noted;
    trace->first_byte_noted |= first_byte;
    feed_segments(trace, 0);
    for (int i = 0; i < trace->count; i++) {
        if (first_byte)
            latch_tracer_note(trace->tracers[i], event->time_us, "first byte",
                              "of the response");
        latch_tracer_observe(trace->tracers[i], event);
    }
}

void get_trace_note(struct get_trace *trace, const char *step, const char *detail)
{
    if (trace == NULL || trace->count == 0)
        return;
    feed_segments(trace, 0);
    uint64_t now = latch_trace_now_us();
    for (int i = 0; i < trace->count; i++)
        latch_tracer_note(trace->tracers[i], now, step, detail);
}

void get_trace_finish(struct get_trace *trace)
{
    feed_segments(trace, 1);
    latch_tcp_capture_stop(trace->capture);
    trace->capture = NULL;
    for (int i = 0; i < trace->count; i++) {
        latch_tracer_finish(trace->tracers[i]);
        if (i == 0 && trace->rtt_report != NULL)
            latch_tracer_rtt_report(trace->tracers[i], trace->rtt_report);
        latch_tracer_free(trace->tracers[i]);
        trace->tracers[i] = NULL;
    }
    trace->count = 0;
    if (trace->null_out != NULL)
        fclose(trace->null_out);
    trace->null_out = NULL;
}

/* A plain connect bounded by timeout_ms (when not tracing). */
static int bounded_connect(const struct sockaddr *address, socklen_t length, int timeout_ms)
{
    int fd = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), saved;
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        goto fail;
    if (connect(fd, address, length) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        struct pollfd waiter = {.fd = fd, .events = POLLOUT};
        int ready;
        do
            ready = poll(&waiter, 1, timeout_ms);
        while (ready < 0 && errno == EINTR);
        int error = ETIMEDOUT;
        socklen_t error_length = sizeof error;
        if (ready > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) != 0)
            error = errno;
        if (error != 0) {
            errno = error;
            goto fail;
        }
    }
    if (fcntl(fd, F_SETFL, flags) != 0)
        goto fail;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int get_trace_connect(struct get_trace *trace, const struct sockaddr *address,
                      socklen_t length, int timeout_ms)
{
    if (trace == NULL || trace->count == 0)
        return bounded_connect(address, length, timeout_ms);
    if (trace->capture != NULL) { /* an earlier address failed: show its segments */
        feed_segments(trace, 1);
        latch_tcp_capture_stop(trace->capture);
        trace->capture = NULL;
    }
    int capture_errno = 0;
    int fd = latch_tcp_connect_captured(address, length, timeout_ms, &trace->capture,
                                        &capture_errno);
    int saved = errno;
    trace->capture_errno = capture_errno;
    if (fd >= 0 && trace->capture == NULL) {
        latch_tcp_info info;
        char why[160];
        snprintf(why, sizeof why,
                 "TCP segments not visible: packet capture refused (%s; needs CAP_NET_RAW)",
                 strerror(capture_errno));
        if (latch_tcp_info_get(fd, &info) == 0)
            for (int i = 0; i < trace->count; i++)
                latch_tracer_tcp_info(trace->tracers[i], latch_trace_now_us(), &info, why);
    }
    errno = saved;
    return fd;
}

void get_trace_before_close(struct get_trace *trace, int fd)
{
    latch_tcp_info info;
    if (trace == NULL || trace->count == 0 || trace->capture != NULL)
        return;
    if (latch_tcp_info_get(fd, &info) == 0)
        for (int i = 0; i < trace->count; i++)
            latch_tracer_tcp_info(trace->tracers[i], latch_trace_now_us(), &info,
                                  "TCP segments not visible: the state before close()");
}

void get_trace_after_close(struct get_trace *trace)
{
    if (trace == NULL || trace->capture == NULL)
        return;
    latch_tcp_tracker *tracker = latch_tcp_capture_tracker(trace->capture);
    uint64_t deadline = latch_trace_now_us() + 2000000u; /* at most 2 s */
    for (;;) {
        feed_segments(trace, 0);
        int state = latch_tcp_tracker_state(tracker, 1);
        if (state == LATCH_TCP_TIME_WAIT || state == LATCH_TCP_CLOSED)
            return;
        uint64_t now = latch_trace_now_us();
        if (now >= deadline)
            return;
        struct pollfd waiter = {.fd = latch_tcp_capture_fd(trace->capture), .events = POLLIN};
        uint64_t left_ms = (deadline - now) / 1000u + 1;
        (void)poll(&waiter, 1, left_ms > 100 ? 100 : (int)left_ms);
    }
}
