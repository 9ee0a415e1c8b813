/* TCP in the trace: segments, state changes, TCP_INFO, and the round-trip
 * report.  The renderers (table, timeline, JSON) print the items; this file
 * turns captures into items, words and phases. */
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"

/* ---- words ---- */

void trace_tcp_flags_text(uint8_t flags, char *out, size_t out_size)
{
    static const struct { uint8_t bit; const char *name; } order[] = {
        {LATCH_TCP_SYN, "SYN"}, {LATCH_TCP_FIN, "FIN"}, {LATCH_TCP_RST, "RST"},
        {LATCH_TCP_PSH, "PSH"}, {LATCH_TCP_ACK, "ACK"}, {LATCH_TCP_URG, "URG"},
        {LATCH_TCP_ECE, "ECE"}, {LATCH_TCP_CWR, "CWR"}};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit)
            trace_append(out, out_size, &used, "%s%s", used ? ", " : "", order[i].name);
    if (used == 0)
        trace_append(out, out_size, &used, "no flags");
}

static const char *tls_type_name(uint8_t type)
{
    switch (type) {
    case 20: return "change_cipher_spec";
    case 21: return "alert";
    case 22: return "handshake";
    case 23: return "application_data";
    case 24: return "heartbeat";
    default: return "?";
    }
}

void trace_segment_text(const latch_tcp_segment *segment, char *out, size_t out_size,
                        size_t *used)
{
    trace_append(out, out_size, used, "seq %u", segment->seq);
    if (segment->flags & LATCH_TCP_ACK)
        trace_append(out, out_size, used, ", ack %u", segment->ack);
    trace_append(out, out_size, used, ", win %u", segment->window);
    if (segment->window_bytes != segment->window)
        trace_append(out, out_size, used, " (%u B)", segment->window_bytes);
    trace_append(out, out_size, used, ", len %u", segment->payload_length);
    const char *separator = "; ";
#define OPTION(...)                                                      \
    do {                                                                 \
        trace_append(out, out_size, used, "%s", separator);              \
        trace_append(out, out_size, used, __VA_ARGS__);                  \
        separator = ", ";                                                \
    } while (0)
    if (segment->mss)
        OPTION("MSS %u", segment->mss);
    if (segment->wscale >= 0)
        OPTION("window scale %d (×%u)", segment->wscale, 1u << segment->wscale);
    if (segment->sack_permitted)
        OPTION("SACK permitted");
    if (segment->sack_blocks)
        OPTION("SACK %u block%s", segment->sack_blocks, segment->sack_blocks == 1 ? "" : "s");
    if (segment->has_timestamps && (segment->flags & LATCH_TCP_SYN))
        OPTION("timestamps");
#undef OPTION
    if (segment->tls_records == 1)
        trace_append(out, out_size, used, "; TLS %s record, %u B",
                     tls_type_name(segment->tls_type), segment->tls_bytes);
    else if (segment->tls_records > 1)
        trace_append(out, out_size, used, "; %u TLS records (first %s), %u B",
                     segment->tls_records, tls_type_name(segment->tls_type),
                     segment->tls_bytes);
}

void trace_transition_text(const latch_tcp_transition *transition, char *out, size_t out_size,
                           size_t *used)
{
    trace_append(out, out_size, used, "%s %s → %s (%s%s)", transition->client ? "client" : "server",
                 latch_tcp_state_name(transition->from), latch_tcp_state_name(transition->to),
                 transition->why ? transition->why : "", transition->inferred ? ", inferred" : "");
}

/* ---- feeding the tracer ---- */

void latch_tracer_segment(latch_tracer *tracer, const latch_tcp_segment *segment)
{
    trace_item item;
    char name[48];
    if (tracer == NULL || segment == NULL || tracer->finished)
        return;
    trace_tcp_drain(tracer); /* an attached capture's earlier segments first */
    if (tracer->local_is_client < 0 && segment->from_client >= 0)
        tracer->local_is_client = segment->outgoing ? segment->from_client != 0
                                                    : segment->from_client == 0;
    memset(&item, 0, sizeof item);
    item.category = TRACE_SEGMENT;
    item.segment = segment;
    item.elapsed_us = trace_elapsed(tracer, segment->time_us);
    item.has_direction = 1;
    if (segment->from_client >= 0)
        item.from_client = segment->from_client != 0;
    else
        item.from_client = segment->outgoing ? tracer->local_is_client != 0
                                             : tracer->local_is_client == 0;
    trace_tcp_flags_text(segment->flags, name, sizeof name);
    item.name = name;
    trace_render(tracer, &item);
}

void latch_tracer_tcp_transitions(latch_tracer *tracer, uint64_t time_us,
                                  const latch_tcp_transition *transitions, size_t count)
{
    if (tracer == NULL || transitions == NULL || tracer->finished)
        return;
    for (size_t i = 0; i < count; i++) {
        trace_item item;
        memset(&item, 0, sizeof item);
        item.category = TRACE_TCP_STATE;
        item.transition = &transitions[i];
        item.elapsed_us = trace_elapsed(tracer, time_us);
        item.name = "TCP state";
        trace_render(tracer, &item);
    }
}

void latch_tracer_tcp_info(latch_tracer *tracer, uint64_t time_us, const latch_tcp_info *info,
                           const char *detail)
{
    trace_item item;
    if (tracer == NULL || info == NULL || tracer->finished)
        return;
    memset(&item, 0, sizeof item);
    item.category = TRACE_TCP_INFO;
    item.tcp_info = info;
    item.elapsed_us = trace_elapsed(tracer, time_us);
    item.name = "TCP_INFO";
    item.detail = detail;
    trace_render(tracer, &item);
}

void latch_tracer_attach_tcp(latch_tracer *tracer, latch_tcp_capture *capture)
{
    if (tracer != NULL)
        tracer->capture = capture;
}

void latch_tracer_feed_tcp(latch_tracer *const *tracers, size_t count,
                           latch_tcp_capture *capture, int end)
{
    latch_tcp_segment batch[32];
    latch_tcp_transition transitions[LATCH_TCP_MAX_TRANSITIONS * 2];
    size_t got;
    char text[256];
    if (tracers == NULL || capture == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        if (tracers[i] != NULL)
            tracers[i]->draining++;
    do {
        got = latch_tcp_capture_poll(capture, batch, sizeof batch / sizeof batch[0]);
        for (size_t n = 0; n < got; n++)
            for (size_t i = 0; i < count; i++)
                latch_tracer_segment(tracers[i], &batch[n]);
    } while (got > 0);
    for (size_t i = 0; i < count; i++)
        if (tracers[i] != NULL)
            tracers[i]->draining--;
    if (!end)
        return;
    latch_tcp_tracker *tracker = latch_tcp_capture_tracker(capture);
    size_t changes = latch_tcp_tracker_finish(tracker, transitions,
                                              sizeof transitions / sizeof transitions[0]);
    uint64_t now = latch_trace_now_us();
    const char *reset = latch_tcp_tracker_reset_reason(tracker);
    if (latch_tcp_capture_dropped(capture) > 0)
        snprintf(text, sizeof text,
                 "%llu segments not recorded (list full or socket buffer overrun)",
                 (unsigned long long)latch_tcp_capture_dropped(capture));
    for (size_t i = 0; i < count; i++) {
        if (tracers[i] == NULL)
            continue;
        latch_tracer_tcp_transitions(tracers[i], now, transitions, changes);
        if (reset != NULL)
            latch_tracer_note(tracers[i], now, "TCP reset", reset);
        if (latch_tcp_capture_dropped(capture) > 0)
            latch_tracer_note(tracers[i], now, "TCP capture", text);
    }
}

void trace_tcp_drain(latch_tracer *tracer)
{
    if (tracer->capture == NULL || tracer->draining)
        return;
    latch_tracer_feed_tcp(&tracer, 1, tracer->capture, 0);
}

void trace_tcp_finish(latch_tracer *tracer)
{
    latch_tcp_capture *capture = tracer->capture;
    if (capture == NULL)
        return;
    tracer->capture = NULL; /* no more draining from here */
    latch_tracer_feed_tcp(&tracer, 1, capture, 1);
}

/* ---- bookkeeping for the report ---- */

void trace_tcp_account(latch_tracer *tracer, const trace_item *item)
{
    const latch_tcp_segment *segment = item->segment;
    switch (item->category) {
    case TRACE_SEGMENT: {
        int syn = (segment->flags & LATCH_TCP_SYN) != 0, ack = (segment->flags & LATCH_TCP_ACK) != 0;
        tracer->segments[item->from_client]++;
        tracer->retransmissions += segment->retransmission != 0;
        if (syn && !ack && !tracer->have_synack) {
            if (tracer->have_syn)
                tracer->syn_retransmissions++;
            tracer->have_syn = 1;
            tracer->syn_us = item->elapsed_us; /* the last SYN before the SYN-ACK */
            tracer->syn_outgoing = segment->outgoing;
        } else if (syn && ack && !tracer->have_synack) {
            tracer->have_synack = 1;
            tracer->synack_us = item->elapsed_us;
        } else if (!syn && ack && tracer->have_synack && !tracer->have_handshake_ack &&
                   item->from_client) {
            tracer->have_handshake_ack = 1;
            tracer->handshake_ack_us = item->elapsed_us;
            tracer->handshake_ack_number = segment->number;
        }
        break;
    }
    case TRACE_NOTE:
        if (item->event != NULL || item->name == NULL)
            break;
        if (strcmp(item->name, "DNS resolution") == 0 && !tracer->have_dns) {
            tracer->have_dns = 1;
            tracer->dns_us = item->elapsed_us;
        } else if (strcmp(item->name, "TCP connect") == 0 && !tracer->have_connect) {
            tracer->have_connect = 1;
            tracer->connect_us = item->elapsed_us;
        }
        break;
    case TRACE_APP_DATA: {
        int local_client = tracer->local_is_client != 0; /* unknown: as a client */
        int sent = item->from_client == local_client;
        if (sent && !tracer->have_app_sent) {
            tracer->have_app_sent = 1;
            tracer->app_sent_us = item->elapsed_us;
        } else if (!sent && tracer->have_app_sent && !tracer->have_app_reply) {
            tracer->have_app_reply = 1;
            tracer->app_reply_us = item->elapsed_us;
        }
        break;
    }
    case TRACE_DONE:
        if (tracer->handshake_flow[0] == '\0' && item->detail != NULL) {
            snprintf(tracer->handshake_flow, sizeof tracer->handshake_flow, "%s", item->detail);
            trace_make_printable(tracer->handshake_flow);
        }
        break;
    case TRACE_TCP_INFO:
        tracer->tcp_info_seen = 1;
        break;
    default:
        break;
    }
}

/* ---- the round-trip report ---- */

size_t trace_round_trip_phases(latch_tracer *tracer, trace_phase *out, size_t max)
{
    size_t count = 0;
    trace_phase *phase;
    if (max == 0)
        return 0;
    /* TCP: SYN → SYN-ACK seen by the client, SYN-ACK → ACK by the server */
    if (tracer->have_syn && tracer->have_synack &&
        (tracer->syn_outgoing || tracer->have_handshake_ack)) {
        phase = &out[count++];
        memset(phase, 0, sizeof *phase);
        phase->key = "tcp";
        phase->name = "TCP handshake";
        phase->round_trips = 1;
        if (tracer->syn_outgoing) {
            phase->start_us = tracer->syn_us;
            phase->time_us = tracer->synack_us - tracer->syn_us;
            if (tracer->syn_retransmissions)
                snprintf(phase->detail, sizeof phase->detail,
                         "SYN → SYN-ACK; the SYN was sent %u times, this is from the last: "
                         "ambiguous (Karn's rule)", tracer->syn_retransmissions + 1);
            else
                snprintf(phase->detail, sizeof phase->detail, "SYN → SYN-ACK");
        } else {
            phase->start_us = tracer->synack_us;
            phase->time_us = tracer->handshake_ack_us - tracer->synack_us;
            snprintf(phase->detail, sizeof phase->detail, "SYN-ACK → ACK");
        }
    } else if (tracer->have_connect && tracer->have_dns) {
        phase = &out[count++];
        memset(phase, 0, sizeof *phase);
        phase->key = "tcp";
        phase->name = "TCP handshake";
        phase->round_trips = 1;
        phase->start_us = tracer->dns_us;
        phase->time_us = tracer->connect_us - tracer->dns_us;
        snprintf(phase->detail, sizeof phase->detail, "connect() call (no segment capture)");
    }
    /* TLS: the flights from the first one to "handshake complete" */
    if (tracer->handshake_done && count < max) {
        const trace_step *first = NULL;
        size_t round_trips = 0;
        for (size_t i = 0; i < tracer->step_count; i++) {
            const trace_step *step = &tracer->steps[i];
            if (!step->is_flight || step->start_us > tracer->handshake_done_us)
                continue;
            if (first == NULL)
                first = step;
            else
                round_trips += strcmp(trace_step_gap_reason(tracer, i), "round trip") == 0;
        }
        if (first != NULL) {
            phase = &out[count++];
            memset(phase, 0, sizeof *phase);
            phase->key = "tls";
            phase->name = "TLS handshake";
            phase->round_trips = round_trips;
            phase->start_us = first->start_us;
            phase->time_us = tracer->handshake_done_us - first->start_us;
            snprintf(phase->detail, sizeof phase->detail, "%s",
                     tracer->handshake_flow[0] ? tracer->handshake_flow
                                               : "first flight → handshake complete");
        }
    }
    /* HTTP: request sent → first byte of the response */
    if (tracer->have_app_sent && tracer->have_app_reply && count < max) {
        phase = &out[count++];
        memset(phase, 0, sizeof *phase);
        phase->key = "http";
        phase->name = "HTTP";
        phase->round_trips = 1;
        phase->start_us = tracer->app_sent_us;
        phase->time_us = tracer->app_reply_us - tracer->app_sent_us;
        snprintf(phase->detail, sizeof phase->detail, "request → first byte of the response");
    }
    return count;
}

void latch_tracer_rtt_report(latch_tracer *tracer, FILE *out)
{
    trace_phase phases[3];
    char took[32], per[32];
    size_t total_round_trips = 0;
    int64_t total_us = 0;
    if (tracer == NULL || out == NULL)
        return;
    size_t count = trace_round_trip_phases(tracer, phases, 3);
    fprintf(out, "round trips%s%s%s\n", tracer->label[0] ? " of " : "", tracer->label,
            tracer->local_is_client < 0 ? ""
            : tracer->local_is_client ? " (client side)" : " (server side)");
    if (count == 0) {
        fprintf(out, "  no round trip seen\n");
        return;
    }
    fprintf(out, "  %-15s %11s  %12s  %14s  %s\n", "phase", "round trips", "time",
            "per round trip", "from → to");
    for (size_t i = 0; i < count; i++) {
        const trace_phase *phase = &phases[i];
        trace_duration_text(phase->time_us, took, sizeof took);
        if (phase->round_trips > 0)
            trace_duration_text(phase->time_us / (int64_t)phase->round_trips, per, sizeof per);
        else
            snprintf(per, sizeof per, "-");
        fprintf(out, "  %-15s %11zu  ", phase->name, phase->round_trips);
        trace_write_right_aligned(out, took, 12);
        fputs("  ", out);
        trace_write_right_aligned(out, per, 14);
        fprintf(out, "  %s\n", phase->detail);
        total_round_trips += phase->round_trips;
        total_us += phase->time_us;
    }
    trace_duration_text(total_us, took, sizeof took);
    fprintf(out, "  %-15s %11zu  ", "total", total_round_trips);
    trace_write_right_aligned(out, took, 12);
    fputc('\n', out);
    fflush(out);
}
