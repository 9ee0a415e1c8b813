/* The tracer: observer events in, one of three renderings out. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace_internal.h"

uint64_t latch_trace_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

latch_tracer *latch_tracer_new(enum latch_trace_format format, FILE *out,
                               const char *connection_label)
{
    latch_tracer *tracer;
    if (out == NULL || (format != LATCH_TRACE_TABLE && format != LATCH_TRACE_TIMELINE &&
                        format != LATCH_TRACE_JSON))
        return NULL;
    tracer = calloc(1, sizeof *tracer);
    if (tracer == NULL)
        return NULL;
    tracer->format = format;
    tracer->out = out;
    tracer->local_is_client = -1;
    if (connection_label != NULL)
        snprintf(tracer->label, sizeof tracer->label, "%s", connection_label);
    trace_make_printable(tracer->label);
    tracer->colour = isatty(fileno(out)) && getenv("NO_COLOR") == NULL;
    return tracer;
}

void latch_tracer_free(latch_tracer *tracer)
{
    if (tracer == NULL)
        return;
    free(tracer->steps);
    free(tracer);
}

static int64_t elapsed_since_origin(latch_tracer *tracer, uint64_t time_us)
{
    if (!tracer->origin_set) {
        tracer->origin_set = 1;
        tracer->origin_us = time_us;
    }
    if (time_us >= tracer->origin_us)
        return (int64_t)(time_us - tracer->origin_us);
    return -(int64_t)(tracer->origin_us - time_us);
}

int64_t trace_elapsed(latch_tracer *tracer, uint64_t time_us)
{
    return elapsed_since_origin(tracer, time_us);
}

/* The first sent or received thing tells which side we are watching. */
static void learn_local_side(latch_tracer *tracer, const latch_event *event)
{
    int sent;
    if (tracer->local_is_client >= 0)
        return;
    switch (event->kind) {
    case LATCH_EVENT_RECORD_SENT: case LATCH_EVENT_HANDSHAKE_SENT:
    case LATCH_EVENT_CHANGE_CIPHER_SPEC_SENT: case LATCH_EVENT_ALERT_SENT:
    case LATCH_EVENT_APPLICATION_DATA_SENT:
        sent = 1;
        break;
    case LATCH_EVENT_RECORD_RECEIVED: case LATCH_EVENT_HANDSHAKE_RECEIVED:
    case LATCH_EVENT_CHANGE_CIPHER_SPEC_RECEIVED: case LATCH_EVENT_ALERT_RECEIVED:
    case LATCH_EVENT_APPLICATION_DATA_RECEIVED:
        sent = 0;
        break;
    default:
        return;
    }
    tracer->local_is_client = sent ? event->from_client != 0 : event->from_client == 0;
}

static void classify_handshake(latch_tracer *tracer, const latch_event *event, trace_item *item)
{
    item->category = TRACE_HANDSHAKE;
    item->encrypted = tracer->encrypted[item->from_client];
    if (item->name == NULL)
        item->name = latch_handshake_type_name(event->handshake_type);
    trace_decode_message(&tracer->decode, event->handshake_type, event->body,
                         event->body ? event->length : 0, &tracer->fields);
    item->fields = &tracer->fields;
}

/* Fill item from event; 0 for kinds the tracer does not know. */
static int classify(latch_tracer *tracer, const latch_event *event, trace_item *item)
{
    item->has_direction = 1;
    item->from_client = event->from_client != 0;
    switch (event->kind) {
    case LATCH_EVENT_RECORD_SENT: case LATCH_EVENT_RECORD_RECEIVED:
        item->category = TRACE_RECORD;
        tracer->records[item->from_client]++;
        return 1;
    case LATCH_EVENT_HANDSHAKE_SENT: case LATCH_EVENT_HANDSHAKE_RECEIVED:
        classify_handshake(tracer, event, item);
        return 1;
    case LATCH_EVENT_CHANGE_CIPHER_SPEC_SENT: case LATCH_EVENT_CHANGE_CIPHER_SPEC_RECEIVED:
        item->category = TRACE_CCS;
        /* the engine gives a received CCS the receiver's role: it came from the peer */
        if (event->kind == LATCH_EVENT_CHANGE_CIPHER_SPEC_RECEIVED && tracer->local_is_client >= 0)
            item->from_client = !tracer->local_is_client;
        /* TLS 1.3's compatibility CCS (with a detail) is always plaintext */
        item->encrypted = tracer->encrypted[item->from_client] && event->detail == NULL;
        return 1;
    case LATCH_EVENT_ALERT_SENT: case LATCH_EVENT_ALERT_RECEIVED:
        item->category = TRACE_ALERT;
        item->encrypted = tracer->encrypted[item->from_client];
        return 1;
    case LATCH_EVENT_APPLICATION_DATA_SENT: case LATCH_EVENT_APPLICATION_DATA_RECEIVED:
        item->category = TRACE_APP_DATA;
        item->encrypted = 1; /* application data only ever travels under keys */
        return 1;
    case LATCH_EVENT_KEYS_CHANGED: {
        /* "write keys active": the emitter's sending direction; "read ...": the other */
        int read = item->name != NULL && strncmp(item->name, "read", 4) == 0;
        item->category = TRACE_KEYS;
        item->from_client = read ? event->from_client == 0 : event->from_client != 0;
        item->encrypted = 1;
        tracer->encrypted[item->from_client] = 1;
        return 1;
    }
    case LATCH_EVENT_HANDSHAKE_DONE:
    case LATCH_EVENT_NOTE:
        item->category = event->kind == LATCH_EVENT_NOTE ? TRACE_NOTE : TRACE_DONE;
        item->has_direction = 0;
        return 1;
    default:
        return 0;
    }
}

/* Every format keeps the timeline's steps: the round-trip report uses them. */
void trace_render(latch_tracer *tracer, const trace_item *item)
{
    tracer->sequence++;
    tracer->last_elapsed_us = item->elapsed_us;
    if (item->category == TRACE_HANDSHAKE || item->category == TRACE_CCS ||
        item->category == TRACE_ALERT || item->category == TRACE_APP_DATA)
        tracer->messages++;
    trace_tcp_account(tracer, item);
    trace_timeline_item(tracer, item);
    /* one item's line(s) whole: tracers of other connections (other worker
     * threads of latch serve) may share the stream */
    flockfile(tracer->out);
    switch (tracer->format) {
    case LATCH_TRACE_TABLE: trace_table_item(tracer, item); break;
    case LATCH_TRACE_TIMELINE: break;
    case LATCH_TRACE_JSON: trace_json_item(tracer, item); break;
    }
    funlockfile(tracer->out);
}

void latch_tracer_observe(void *arg, const latch_event *event)
{
    latch_tracer *tracer = arg;
    trace_item item;
    if (tracer == NULL || event == NULL || tracer->finished)
        return;
    trace_tcp_drain(tracer);
    memset(&item, 0, sizeof item);
    item.event = event;
    item.elapsed_us = elapsed_since_origin(tracer, event->time_us);
    item.name = event->name;
    item.detail = event->detail;
    learn_local_side(tracer, event);
    if (classify(tracer, event, &item))
        trace_render(tracer, &item);
}

void latch_tracer_note(latch_tracer *tracer, uint64_t time_us, const char *step,
                       const char *detail)
{
    trace_item item;
    if (tracer == NULL || tracer->finished)
        return;
    trace_tcp_drain(tracer);
    memset(&item, 0, sizeof item);
    item.category = TRACE_NOTE;
    item.elapsed_us = elapsed_since_origin(tracer, time_us);
    item.name = step != NULL ? step : "note";
    item.detail = detail;
    trace_render(tracer, &item);
}

void latch_tracer_finish(latch_tracer *tracer)
{
    if (tracer == NULL || tracer->finished)
        return;
    trace_tcp_finish(tracer);
    flockfile(tracer->out); /* the summary lines together (see trace_render) */
    switch (tracer->format) {
    case LATCH_TRACE_TABLE: trace_table_finish(tracer); break;
    case LATCH_TRACE_TIMELINE: trace_timeline_finish(tracer); break;
    case LATCH_TRACE_JSON: trace_json_finish(tracer); break;
    }
    tracer->finished = 1;
    fflush(tracer->out);
    funlockfile(tracer->out);
}
