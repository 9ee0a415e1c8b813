/*
 * latch tracer: every connection can explain itself.
 *
 * A tracer subscribes to one connection's observer events and renders them
 * as a packet-capture style table, a latency timeline, or JSON lines:
 *
 *   latch_tracer *t = latch_tracer_new(LATCH_TRACE_TABLE, stderr, "example.com");
 *   latch_config_set_observer(config, latch_tracer_observe, t);
 *   ... handshake, transfer ...
 *   latch_tracer_finish(t);
 *   latch_tracer_free(t);
 *
 * Steps the engine cannot see (DNS, TCP connect, first byte, close) are added
 * with latch_tracer_note(), timed with latch_trace_now_us() (the same clock
 * as the engine's default).  One tracer per connection: events carry no
 * connection identity.  See docs/TRACE.md for the output formats.
 */
#ifndef LATCH_TRACE_H
#define LATCH_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "latch/latch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct latch_tracer latch_tracer;

enum latch_trace_format {
    LATCH_TRACE_TABLE = 0,  /* one row per message, printed as it happens */
    LATCH_TRACE_TIMELINE,   /* per-flight latency bar chart, printed by finish */
    LATCH_TRACE_JSON        /* one JSON object per line (schema: docs/TRACE.md) */
};

/* out is not closed by the tracer.  connection_label (copied) names the
 * connection in headers and in the JSON "conn" key; may be NULL. */
latch_tracer *latch_tracer_new(enum latch_trace_format format, FILE *out,
                               const char *connection_label);
/* A latch_observer_fn: latch_config_set_observer(config, latch_tracer_observe, tracer). */
void latch_tracer_observe(void *tracer, const latch_event *event);
/* A step outside the engine, at time_us (monotonic microseconds, the clock
 * of latch_trace_now_us): "DNS resolution", "TCP connect", "first byte"...
 * The time marks the end of the step; detail may be NULL. */
void latch_tracer_note(latch_tracer *tracer, uint64_t time_us, const char *step,
                       const char *detail);
/* Print what is pending (table footer, the timeline, the JSON "end" line)
 * and flush.  Call once, after the connection is done. */
void latch_tracer_finish(latch_tracer *tracer);
void latch_tracer_free(latch_tracer *tracer);

/* CLOCK_MONOTONIC in microseconds: the engine's default event clock. */
uint64_t latch_trace_now_us(void);

/* ---- NSS key log (SSLKEYLOGFILE) ---- */

/* Open path for appending, created with mode 0600.  NULL on error (errno). */
FILE *latch_keylog_open(const char *path);
/* A latch_keylog_fn: file is the FILE* from latch_keylog_open.  Appends the
 * line and '\n', then flushes. */
void latch_keylog_write(void *file, const char *line);
/* getenv("SSLKEYLOGFILE") when set and not empty, else NULL. */
const char *latch_keylog_path_from_env(void);

#ifdef __cplusplus
}
#endif
#endif
