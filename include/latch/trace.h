/**
 * @file latch/trace.h
 * @brief Tracers (table, timeline, JSON) over a connection's observer
 *        events, TCP segments in the trace, and the NSS key log.
 *
 * latch tracer: every connection can explain itself.
 *
 * A tracer subscribes to one connection's observer events and renders them
 * as a packet-capture style table, a latency timeline, or JSON lines:
 *
 *     latch_tracer *t = latch_tracer_new(LATCH_TRACE_TABLE, stderr, "example.com");
 *     latch_config_set_observer(config, latch_tracer_observe, t);
 *     ... handshake, transfer ...
 *     latch_tracer_finish(t);
 *     latch_tracer_free(t);
 *
 * Steps the engine cannot see (DNS, TCP connect, first byte, close) are added
 * with latch_tracer_note(), timed with latch_trace_now_us() (the same clock
 * as the engine's default).  One tracer per connection: events carry no
 * connection identity.  See docs/TRACE.md for the output formats.
 *
 * Thread safety: a tracer is used by the thread of its connection only
 * (the observer runs inside that connection's calls).  Writes go to the
 * FILE given; several tracers may share a FILE (stdio locks each call),
 * but their lines may interleave.
 */
#ifndef LATCH_TRACE_H
#define LATCH_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "latch/latch.h"
#include "latch/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A renderer of one connection's events.  Opaque; see latch_tracer_new(). */
typedef struct latch_tracer latch_tracer;

/** How a tracer renders (docs/TRACE.md). */
enum latch_trace_format {
    LATCH_TRACE_TABLE = 0,  /**< one row per message, printed as it happens */
    LATCH_TRACE_TIMELINE,   /**< per-flight latency bar chart, printed by finish */
    LATCH_TRACE_JSON        /**< one JSON object per line (schema: docs/TRACE.md) */
};

/** A new tracer writing to out in format.
 * out is not closed by the tracer.  connection_label (copied) names the
 * connection in headers and in the JSON "conn" key; may be NULL.
 * Returns NULL when out is NULL, format is unknown or memory runs out.
 * Free with latch_tracer_free(). */
latch_tracer *latch_tracer_new(enum latch_trace_format format, FILE *out,
                               const char *connection_label);
/** A latch_observer_fn: latch_config_set_observer(config, latch_tracer_observe, tracer).
 *  (or latch_conn_set_observer() for one connection of a shared configuration). */
void latch_tracer_observe(void *tracer, const latch_event *event);
/** A step outside the engine, at time_us (monotonic microseconds, the clock
 * of latch_trace_now_us): "DNS resolution", "TCP connect", "first byte"...
 * The time marks the end of the step; detail may be NULL. */
void latch_tracer_note(latch_tracer *tracer, uint64_t time_us, const char *step,
                       const char *detail);
/** Print what is pending (table footer, the timeline, the JSON "end" line)
 * and flush.  Call once, after the connection is done. */
void latch_tracer_finish(latch_tracer *tracer);
/** Free a tracer (NULL is fine); does not close its FILE.  Detach it from
 *  the configuration or connection first. */
void latch_tracer_free(latch_tracer *tracer);

/* ---- TCP segments and states (latch/tcp.h; docs/TRACE.md) ----
 *
 * Segments are rendered in the order they are given, between the TLS
 * messages: give each one before the next event (an attached capture is
 * drained before every event and note, so this happens by itself). */

/** One captured segment (with its states and transitions). */
void latch_tracer_segment(latch_tracer *tracer, const latch_tcp_segment *segment);
/** State changes known only at the end (latch_tcp_tracker_finish), at time_us. */
void latch_tracer_tcp_transitions(latch_tracer *tracer, uint64_t time_us,
                                  const latch_tcp_transition *transitions, size_t count);
/** What TCP_INFO says, when segments cannot be captured; detail says why
 * (for example "no CAP_NET_RAW: segments not visible"), may be NULL. */
void latch_tracer_tcp_info(latch_tracer *tracer, uint64_t time_us, const latch_tcp_info *info,
                           const char *detail);
/** Drain capture into this tracer before every event and note; finish drains
 * the rest and adds the end-of-capture state changes.  The capture is not
 * owned (stop it after latch_tracer_finish).  One tracer per capture: to feed
 * several, poll the capture yourself and call latch_tracer_segment on each. */
void latch_tracer_attach_tcp(latch_tracer *tracer, latch_tcp_capture *capture);
/** Several tracers on one connection: drain capture into each (call it before
 * passing each event on, and once with end = 1 before latch_tracer_finish:
 * that also adds the end-of-capture state changes and any RST reason). */
void latch_tracer_feed_tcp(latch_tracer *const *tracers, size_t count,
                           latch_tcp_capture *capture, int end);
/** The round trips spent per phase (TCP handshake, TLS handshake, HTTP
 * request to first byte), any format, best after latch_tracer_finish. */
void latch_tracer_rtt_report(latch_tracer *tracer, FILE *out);

/** CLOCK_MONOTONIC in microseconds: the engine's default event clock.
 *  Thread-safe. */
uint64_t latch_trace_now_us(void);

/* ---- NSS key log (SSLKEYLOGFILE) ---- */

/** Open path for appending, created with mode 0600.  NULL on error (errno).
 *  The caller closes it (fclose) after the connections using it are freed. */
FILE *latch_keylog_open(const char *path);
/** A latch_keylog_fn: file is the FILE* from latch_keylog_open.  Appends the
 * line and '\n', then flushes.  NULL file or line: nothing.  One fprintf
 * per line, so connections in several threads may share the file. */
void latch_keylog_write(void *file, const char *line);
/** getenv("SSLKEYLOGFILE") when set and not empty, else NULL. */
const char *latch_keylog_path_from_env(void);

#ifdef __cplusplus
}
#endif
#endif
