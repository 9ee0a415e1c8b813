/* The tracer's insides, shared by the files of src/trace.  Not a public header. */
#ifndef LATCH_TRACE_INTERNAL_H
#define LATCH_TRACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "latch/latch.h"
#include "latch/tcp.h"
#include "latch/trace.h"

/* ---- decoded fields of one handshake message ---- */

#define TRACE_MAX_FIELDS 24
#define TRACE_FIELD_STORAGE 8192

enum trace_value_kind { TRACE_VALUE_TEXT, TRACE_VALUE_NUMBER, TRACE_VALUE_BOOL, TRACE_VALUE_LIST };

typedef struct trace_field {
    const char *key;            /* JSON member name */
    /* Words for the table's meaning column; NULL = JSON only.  "{}" is
     * replaced by the value, "{n}" by a list's item count; without "{}" the
     * value follows the label.  A false bool is not shown. */
    const char *label;
    enum trace_value_kind kind;
    uint64_t number;            /* NUMBER and BOOL; LIST: item count */
    size_t text_offset;         /* TEXT, LIST: into storage; list items are */
    size_t text_length;         /* consecutive NUL-terminated strings */
} trace_field;

typedef struct trace_fields {
    trace_field items[TRACE_MAX_FIELDS];
    size_t count;
    char storage[TRACE_FIELD_STORAGE];
    size_t used;
    int malformed;              /* the body did not decode to its end */
} trace_fields;

void trace_fields_reset(trace_fields *fields);
void trace_add_text(trace_fields *fields, const char *key, const char *label, const char *text);
/* Wire bytes as text: printable ASCII kept, anything else as \xNN. */
void trace_add_wire_text(trace_fields *fields, const char *key, const char *label,
                         const uint8_t *bytes, size_t len);
void trace_add_number(trace_fields *fields, const char *key, const char *label, uint64_t value);
void trace_add_bool(trace_fields *fields, const char *key, const char *label, int value);
/* Start a list (returns its index, or TRACE_MAX_FIELDS when full); add the
 * items before adding any other field. */
size_t trace_list_begin(trace_fields *fields, const char *key, const char *label);
void trace_list_add(trace_fields *fields, size_t list, const char *item);
void trace_list_add_wire_text(trace_fields *fields, size_t list, const uint8_t *bytes,
                              size_t len);
/* Text of a TEXT field, first item of a LIST. */
const char *trace_field_text(const trace_fields *fields, const trace_field *field);
/* Next item of a list after item, or NULL. */
const char *trace_list_next(const trace_fields *fields, const trace_field *field,
                            const char *item);

/* ---- message body decoding (src/trace/decode_*.c) ---- */

typedef struct trace_decode_state {
    uint16_t version;           /* from the ServerHello; 0 until seen */
} trace_decode_state;

/* Decode a handshake body into fields (never reads outside body[0..length)). */
void trace_decode_message(trace_decode_state *state, uint8_t handshake_type,
                          const uint8_t *body, size_t length, trace_fields *out);
void trace_decode_client_hello(trace_decode_state *state, const uint8_t *body, size_t length,
                               trace_fields *out);
void trace_decode_server_hello(trace_decode_state *state, const uint8_t *body, size_t length,
                               trace_fields *out);
/* Names: "TLS 1.3", an IANA suite/group/scheme name, or "0x1234". */
void trace_version_name(uint16_t version, char *out, size_t out_size);
void trace_suite_name(uint16_t suite, char *out, size_t out_size);
void trace_group_name(uint16_t group, char *out, size_t out_size);
void trace_scheme_name(uint16_t scheme, char *out, size_t out_size);

/* ---- the tracer ---- */

enum trace_category {
    TRACE_HANDSHAKE, TRACE_RECORD, TRACE_CCS, TRACE_ALERT, TRACE_APP_DATA,
    TRACE_KEYS, TRACE_NOTE, TRACE_DONE,
    TRACE_SEGMENT,      /* a TCP segment (latch_tracer_segment) */
    TRACE_TCP_STATE,    /* a TCP state change known only at the end (latch_tracer_tcp_transitions) */
    TRACE_TCP_INFO      /* TCP_INFO instead of segments (latch_tracer_tcp_info) */
};

/* One event, normalized for the renderers. */
typedef struct trace_item {
    enum trace_category category;
    const latch_event *event;   /* NULL for latch_tracer_note */
    int64_t elapsed_us;         /* since the tracer's first event */
    int has_direction;
    int from_client;            /* direction; keys: the direction now protected */
    int encrypted;
    const char *name, *detail;
    const trace_fields *fields; /* handshake messages only */
    const latch_tcp_segment *segment;       /* TRACE_SEGMENT */
    const latch_tcp_transition *transition; /* TRACE_TCP_STATE */
    const latch_tcp_info *tcp_info;         /* TRACE_TCP_INFO */
} trace_item;

/* A timeline entry: a flight (consecutive messages one way) or a step note. */
typedef struct trace_step {
    int is_flight, from_client;
    int is_segment, outgoing;   /* a TCP segment (SYN, FIN, RST, retransmission...) */
    int64_t start_us, end_us;
    size_t messages;
    uint64_t bytes;
    char label[256];
    char last_name[48];
    size_t repeat;              /* times last_name came in a row */
} trace_step;

struct latch_tracer {
    enum latch_trace_format format;
    FILE *out;
    char label[128];
    int colour;
    int origin_set;
    uint64_t origin_us;
    uint64_t sequence;          /* every event (JSON "seq") */
    uint64_t messages;          /* handshake, CCS, alert, app data (table "No.") */
    int64_t last_elapsed_us;
    int header_printed, finished;
    int encrypted[2];           /* by direction: [1] client -> server */
    int local_is_client;        /* -1 until a sent/received event tells */
    size_t records[2];
    trace_decode_state decode;
    trace_fields fields;
    trace_step *steps;
    size_t step_count, step_capacity;
    int handshake_done;
    int64_t handshake_done_us;
    char handshake_flow[96];    /* the "done" event's detail */
    /* TCP (src/trace/render_tcp.c) */
    latch_tcp_capture *capture; /* latch_tracer_attach_tcp: drained before each item */
    int draining;
    uint64_t segments[2];       /* by direction: [1] client -> server */
    uint64_t retransmissions;
    int have_syn, have_synack, have_handshake_ack;
    int syn_outgoing;           /* we sent the SYN (client side of the capture) */
    int64_t syn_us, synack_us, handshake_ack_us;
    uint32_t handshake_ack_number; /* the segment that completed the three-way handshake */
    unsigned syn_retransmissions;
    int have_dns, have_connect; /* caller notes, the TCP phase without a capture */
    int64_t dns_us, connect_us;
    int have_app_sent, have_app_reply;
    int64_t app_sent_us, app_reply_us;
    int tcp_info_seen;
};

/* One line of the round-trip report. */
typedef struct trace_phase {
    const char *key;            /* "tcp", "tls", "http" */
    const char *name;           /* "TCP handshake", ... */
    size_t round_trips;
    int64_t start_us, time_us;
    char detail[128];
} trace_phase;

/* The phases seen so far (at most 3); see docs/TRACE.md. */
size_t trace_round_trip_phases(latch_tracer *tracer, trace_phase *out, size_t max);
/* "SYN", "SYN, ACK", "PSH, ACK"... */
void trace_tcp_flags_text(uint8_t flags, char *out, size_t out_size);
/* "seq 1, ack 1, win 502 (64256 B), len 517; MSS 1460, ..." */
void trace_segment_text(const latch_tcp_segment *segment, char *out, size_t out_size,
                        size_t *used);
/* "client SYN_SENT → ESTABLISHED (got SYN-ACK)" */
void trace_transition_text(const latch_tcp_transition *transition, char *out,
                           size_t out_size, size_t *used);
/* Gap reason of a timeline step ("round trip", "client think time"...). */
const char *trace_step_gap_reason(const latch_tracer *tracer, size_t index);
/* Drain an attached capture into the tracer (before each item, at finish). */
void trace_tcp_drain(latch_tracer *tracer);
void trace_tcp_finish(latch_tracer *tracer);
/* Bookkeeping shared by every format (phases, counts). */
void trace_tcp_account(latch_tracer *tracer, const trace_item *item);

/* Count, account and render one item (src/trace/tracer.c). */
void trace_render(latch_tracer *tracer, const trace_item *item);
/* Microseconds since the tracer's first item (sets the origin). */
int64_t trace_elapsed(latch_tracer *tracer, uint64_t time_us);
void trace_table_item(latch_tracer *tracer, const trace_item *item);
void trace_table_finish(latch_tracer *tracer);
void trace_json_item(latch_tracer *tracer, const trace_item *item);
void trace_json_finish(latch_tracer *tracer);
void trace_timeline_item(latch_tracer *tracer, const trace_item *item);
void trace_timeline_finish(latch_tracer *tracer);

/* Render a field's value for humans: lists as "a, b, c +N more". */
void trace_field_value_text(const trace_fields *fields, const trace_field *field, char *out,
                            size_t out_size);
/* Append formatted text to out[*used..size), always NUL-terminated. */
void trace_append(char *out, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Duration as "850 µs" or "12.345 ms". */
void trace_duration_text(int64_t microseconds, char *out, size_t out_size);
/* Replace control characters (terminal escapes from a peer) with '?'. */
void trace_make_printable(char *text);
/* Terminal columns used by UTF-8 text. */
size_t trace_display_width(const char *text);
/* Write text padded with spaces to width columns. */
void trace_write_padded(FILE *out, const char *text, size_t width);
void trace_write_right_aligned(FILE *out, const char *text, size_t width);

#endif
