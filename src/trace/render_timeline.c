/* The timeline renderer: where the time went, flight by flight.
 *
 * A flight is a run of messages in one direction.  Its "took" is the gap
 * since the previous entry ended: local think time when we send, a round
 * trip when we waited for the peer.  Notes from latch_tracer_note (DNS, TCP
 * connect, first byte...) mark the end of their step.  Printed by finish.
 */
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"

#define BAR_WIDTH 24
#define MAX_STEPS 65536

static trace_step *new_step(latch_tracer *tracer, int64_t at_us)
{
    trace_step *step;
    if (tracer->step_count == tracer->step_capacity) {
        size_t capacity = tracer->step_capacity ? tracer->step_capacity * 2 : 16;
        trace_step *grown;
        if (capacity > MAX_STEPS)
            return NULL;
        grown = realloc(tracer->steps, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        tracer->steps = grown;
        tracer->step_capacity = capacity;
    }
    step = &tracer->steps[tracer->step_count++];
    memset(step, 0, sizeof *step);
    step->start_us = step->end_us = at_us;
    return step;
}

/* " ×3" when the last name came several times in a row. */
static void close_repeat(trace_step *step)
{
    size_t used = strlen(step->label);
    if (step->repeat > 1)
        trace_append(step->label, sizeof step->label, &used, " ×%zu", step->repeat);
    step->repeat = 0;
}

static void add_message_name(trace_step *step, const char *name)
{
    size_t used;
    if (step->repeat > 0 && strcmp(step->last_name, name) == 0) {
        step->repeat++;
        return;
    }
    close_repeat(step);
    used = strlen(step->label);
    trace_append(step->label, sizeof step->label, &used, "%s%s", used ? ", " : "", name);
    snprintf(step->last_name, sizeof step->last_name, "%s", name);
    step->repeat = 1;
}

static void add_to_flight(latch_tracer *tracer, const trace_item *item)
{
    trace_step *step = tracer->step_count ? &tracer->steps[tracer->step_count - 1] : NULL;
    char name[64];
    if (step == NULL || !step->is_flight || step->from_client != item->from_client) {
        step = new_step(tracer, item->elapsed_us);
        if (step == NULL)
            return;
        step->is_flight = 1;
        step->from_client = item->from_client;
    }
    step->end_us = item->elapsed_us;
    step->messages++;
    switch (item->category) {
    case TRACE_HANDSHAKE:
        step->bytes += 4 + item->event->length;
        add_message_name(step, item->name);
        break;
    case TRACE_CCS:
        step->bytes += 1;
        add_message_name(step, "ChangeCipherSpec");
        break;
    case TRACE_ALERT:
        step->bytes += 2;
        snprintf(name, sizeof name, "Alert %s", latch_alert_name(item->event->alert_description));
        add_message_name(step, name);
        break;
    default:
        step->bytes += item->event->length;
        add_message_name(step, "Application data");
        break;
    }
}

/* Segments that shape the connection get a line: SYN, SYN-ACK, the ACK
 * that completes the handshake, FIN, RST, retransmissions, and any segment
 * that changes a state.  Data segments are the flights' business. */
static void add_segment(latch_tracer *tracer, const trace_item *item)
{
    const latch_tcp_segment *segment = item->segment;
    char flags[48];
    size_t used = 0;
    if (!(segment->flags & (LATCH_TCP_SYN | LATCH_TCP_FIN | LATCH_TCP_RST)) &&
        !segment->retransmission && segment->transition_count == 0 &&
        !(tracer->have_handshake_ack && tracer->handshake_ack_number == segment->number))
        return;
    trace_step *step = new_step(tracer, item->elapsed_us);
    if (step == NULL)
        return;
    step->is_segment = 1;
    step->outgoing = segment->outgoing;
    step->from_client = item->from_client;
    trace_tcp_flags_text(segment->flags, flags, sizeof flags);
    trace_append(step->label, sizeof step->label, &used, "TCP %s", flags);
    if (segment->payload_length > 0)
        trace_append(step->label, sizeof step->label, &used, " %u B", segment->payload_length);
    if (segment->retransmission)
        trace_append(step->label, sizeof step->label, &used, " RETRANSMISSION");
    for (size_t i = 0; i < segment->transition_count; i++) {
        const latch_tcp_transition *t = &segment->transitions[i];
        trace_append(step->label, sizeof step->label, &used, "%s%s %s → %s%s", i ? ", " : "; ",
                     t->client ? "client" : "server", latch_tcp_state_name(t->from),
                     latch_tcp_state_name(t->to), t->inferred ? " (inferred)" : "");
    }
}

void trace_timeline_item(latch_tracer *tracer, const trace_item *item)
{
    trace_step *step;
    switch (item->category) {
    case TRACE_HANDSHAKE: case TRACE_CCS: case TRACE_ALERT: case TRACE_APP_DATA:
        add_to_flight(tracer, item);
        break;
    case TRACE_DONE:
        if (!tracer->handshake_done) {
            tracer->handshake_done = 1;
            tracer->handshake_done_us = item->elapsed_us;
        }
        break;
    case TRACE_NOTE:
        if (item->event != NULL)
            break; /* engine notes belong to the table */
        step = new_step(tracer, item->elapsed_us);
        if (step != NULL)
            snprintf(step->label, sizeof step->label, "%s%s%s", item->name,
                     item->detail ? ": " : "", item->detail ? item->detail : "");
        if (step != NULL)
            trace_make_printable(step->label);
        break;
    case TRACE_SEGMENT:
        add_segment(tracer, item);
        break;
    case TRACE_TCP_STATE: case TRACE_TCP_INFO:
        step = new_step(tracer, item->elapsed_us);
        if (step != NULL) {
            size_t used = 0;
            if (item->category == TRACE_TCP_STATE) {
                trace_append(step->label, sizeof step->label, &used, "TCP ");
                trace_transition_text(item->transition, step->label, sizeof step->label, &used);
            } else {
                const latch_tcp_info *info = item->tcp_info;
                trace_append(step->label, sizeof step->label, &used,
                             "TCP_INFO: %s, rtt %u.%03u ms, %u retransmitted",
                             latch_tcp_state_name(info->state), info->rtt_us / 1000,
                             info->rtt_us % 1000, info->total_retrans);
                if (item->detail != NULL)
                    trace_append(step->label, sizeof step->label, &used, " (%s)", item->detail);
            }
            trace_make_printable(step->label);
        }
        break;
    default:
        break;
    }
}

/* ---- printing ---- */

/* A segment: sent by us, or received after we sent something (a round trip). */
static const char *segment_gap_reason(const latch_tracer *tracer, size_t index)
{
    const trace_step *step = &tracer->steps[index];
    if (step->outgoing)
        return step->from_client ? "sent by the client" : "sent by the server";
    for (size_t i = index; i-- > 0;) {
        const trace_step *previous = &tracer->steps[i];
        int previous_outgoing;
        if (previous->is_segment)
            previous_outgoing = previous->outgoing;
        else if (previous->is_flight && tracer->local_is_client >= 0)
            previous_outgoing = previous->from_client == tracer->local_is_client;
        else
            continue;
        return previous_outgoing ? "round trip" : "wait";
    }
    return "received";
}

const char *trace_step_gap_reason(const latch_tracer *tracer, size_t index)
{
    const trace_step *step = &tracer->steps[index];
    const trace_step *previous_flight = NULL;
    if (step->is_segment)
        return segment_gap_reason(tracer, index);
    for (size_t i = index; i-- > 0;)
        if (tracer->steps[i].is_flight) {
            previous_flight = &tracer->steps[i];
            break;
        }
    if (tracer->local_is_client < 0)
        return step->from_client ? "client side" : "server side";
    if (step->from_client == tracer->local_is_client)
        return step->from_client ? "client think time" : "server think time";
    if (previous_flight != NULL && previous_flight->from_client == tracer->local_is_client)
        return "round trip";
    return "wait";
}

/* Eighth-block bar: value/maximum of BAR_WIDTH cells, at least a sliver. */
static void write_bar(FILE *out, int64_t value, int64_t maximum)
{
    static const char *const partial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    int64_t eighths = maximum > 0 && value > 0 ? value * BAR_WIDTH * 8 / maximum : 0;
    size_t cells = 0;
    if (value > 0 && eighths == 0)
        eighths = 1;
    for (; eighths >= 8; eighths -= 8, cells++)
        fputs("█", out);
    if (eighths > 0) {
        fputs(partial[eighths], out);
        cells++;
    }
    for (; cells < BAR_WIDTH; cells++)
        fputc(' ', out);
}

static void print_step(latch_tracer *tracer, size_t index, int64_t gap, int64_t largest_gap)
{
    const trace_step *step = &tracer->steps[index];
    FILE *out = tracer->out;
    char took[32];
    if (index == 0)
        snprintf(took, sizeof took, "-");
    else
        trace_duration_text(gap, took, sizeof took);
    fprintf(out, "%10.3f ms  ", (double)step->start_us / 1000.0);
    trace_write_right_aligned(out, took, 10);
    fputs("  ", out);
    if (tracer->colour)
        fputs(step->is_flight || step->is_segment ? (step->from_client ? "\033[36m" : "\033[35m")
                                                  : "\033[2m",
              out);
    write_bar(out, index == 0 ? 0 : gap, largest_gap);
    fputs(tracer->colour ? "\033[0m  " : "  ", out);
    if (step->is_segment) {
        fprintf(out, "%s  %s (%s)\n", step->from_client ? "client → server" : "server → client",
                step->label, trace_step_gap_reason(tracer, index));
        return;
    }
    if (!step->is_flight) {
        fprintf(out, "· %s\n", step->label);
        return;
    }
    fprintf(out, "%s  %s (%zu message%s, %llu B", step->from_client ? "client → server" : "server → client",
            step->label, step->messages, step->messages == 1 ? "" : "s",
            (unsigned long long)step->bytes);
    if (step->end_us > step->start_us) {
        trace_duration_text(step->end_us - step->start_us, took, sizeof took);
        fprintf(out, " over %s", took);
    }
    fprintf(out, "; %s)\n", trace_step_gap_reason(tracer, index));
}

/* "handshake 1.234 ms, 2 round trips": first flight to handshake complete. */
static void print_handshake_summary(latch_tracer *tracer)
{
    const trace_step *first = NULL;
    size_t round_trips = 0;
    char text[32];
    for (size_t i = 0; i < tracer->step_count; i++) {
        const trace_step *step = &tracer->steps[i];
        if (!step->is_flight || step->start_us > tracer->handshake_done_us)
            continue;
        if (first == NULL)
            first = step;
        round_trips += i > 0 && strcmp(trace_step_gap_reason(tracer, i), "round trip") == 0;
    }
    if (!tracer->handshake_done || first == NULL)
        return;
    trace_duration_text(tracer->handshake_done_us - first->start_us, text, sizeof text);
    fprintf(tracer->out, "%13s  ", "");
    trace_write_right_aligned(tracer->out, text, 10);
    fprintf(tracer->out, "  TLS handshake, %zu round trip%s\n", round_trips,
            round_trips == 1 ? "" : "s");
}

/* "100.412 ms  TCP handshake, 1 round trip (SYN → SYN-ACK)" */
static void print_phase(latch_tracer *tracer, const char *key)
{
    trace_phase phases[3];
    char text[32];
    size_t count = trace_round_trip_phases(tracer, phases, 3);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(phases[i].key, key) != 0)
            continue;
        trace_duration_text(phases[i].time_us, text, sizeof text);
        fprintf(tracer->out, "%13s  ", "");
        trace_write_right_aligned(tracer->out, text, 10);
        fprintf(tracer->out, "  %s, %zu round trip%s (%s)\n", phases[i].name, phases[i].round_trips,
                phases[i].round_trips == 1 ? "" : "s", phases[i].detail);
    }
}

void trace_timeline_finish(latch_tracer *tracer)
{
    FILE *out = tracer->out;
    int64_t largest_gap = 0, total;
    char text[32];
    if (tracer->step_count == 0)
        return;
    for (size_t i = 0; i < tracer->step_count; i++)
        close_repeat(&tracer->steps[i]);
    for (size_t i = 1; i < tracer->step_count; i++) {
        int64_t gap = tracer->steps[i].start_us - tracer->steps[i - 1].end_us;
        if (gap > largest_gap)
            largest_gap = gap;
    }
    fprintf(out, "timeline%s%s%s\n", tracer->label[0] ? " of " : "", tracer->label,
            tracer->local_is_client < 0 ? ""
            : tracer->local_is_client ? " (client side)" : " (server side)");
    fprintf(out, "%13s  %10s\n", "at", "took");
    for (size_t i = 0; i < tracer->step_count; i++)
        print_step(tracer, i,
                   i ? tracer->steps[i].start_us - tracer->steps[i - 1].end_us : 0,
                   largest_gap);
    total = tracer->steps[tracer->step_count - 1].end_us - tracer->steps[0].start_us;
    trace_duration_text(total, text, sizeof text);
    fprintf(out, "%13s  ", "");
    trace_write_right_aligned(out, text, 10);
    fprintf(out, "  total over %zu step%s\n", tracer->step_count,
            tracer->step_count == 1 ? "" : "s");
    print_phase(tracer, "tcp");
    print_handshake_summary(tracer);
    print_phase(tracer, "http");
}
