/* The tracers watching one client connection. */
#include "get.h"

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

void get_trace_observe(void *arg, const latch_event *event)
{
    struct get_trace *trace = arg;
    int first_byte = event->kind == LATCH_EVENT_APPLICATION_DATA_RECEIVED &&
                     !trace->first_byte_noted;
    trace->first_byte_noted |= first_byte;
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
    uint64_t now = latch_trace_now_us();
    for (int i = 0; i < trace->count; i++)
        latch_tracer_note(trace->tracers[i], now, step, detail);
}

void get_trace_finish(struct get_trace *trace)
{
    for (int i = 0; i < trace->count; i++) {
        latch_tracer_finish(trace->tracers[i]);
        latch_tracer_free(trace->tracers[i]);
        trace->tracers[i] = NULL;
    }
    trace->count = 0;
}
