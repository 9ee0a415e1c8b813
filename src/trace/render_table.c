/* The table renderer: one row per message, like a packet capture.
 *
 *  No.       time  direction        message                     type   meaning
 *    1      0.000  client → server  ClientHello                 22/1   offers TLS 1.3, ...
 *           0.812                   · negotiated: TLS_AES_128_GCM_SHA256
 */
#include <stdio.h>
#include <string.h>

#include "trace/trace_internal.h"

#define COLUMN_MESSAGE 30
#define COLUMN_TYPE 6
#define COLUMN_DIRECTION 15

#define ANSI_RESET "\033[0m"
#define ANSI_BOLD "\033[1m"
#define ANSI_DIM "\033[2m"
#define ANSI_RED "\033[31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_MAGENTA "\033[35m"
#define ANSI_CYAN "\033[36m"

static const char *paint(const latch_tracer *tracer, const char *code)
{
    return tracer->colour ? code : "";
}

static const char *direction_text(int from_client)
{
    return from_client ? "client → server" : "server → client";
}

/* A field's label with "{}" (value) and "{n}" (list count) filled in. */
static void expand_label(const trace_fields *fields, const trace_field *field, char *out,
                         size_t out_size, size_t *used)
{
    char value[512];
    const char *label = field->label;
    trace_field_value_text(fields, field, value, sizeof value);
    if (field->kind == TRACE_VALUE_BOOL) {
        trace_append(out, out_size, used, "%s", label);
        return;
    }
    if (strstr(label, "{}") == NULL) {
        trace_append(out, out_size, used, "%s %s", label, value);
        return;
    }
    while (*label != '\0') {
        if (strncmp(label, "{}", 2) == 0) {
            trace_append(out, out_size, used, "%s", value);
            label += 2;
        } else if (strncmp(label, "{n}", 3) == 0) {
            trace_append(out, out_size, used, "%llu", (unsigned long long)field->number);
            label += 3;
        } else {
            trace_append(out, out_size, used, "%c", *label++);
        }
    }
}

static void meaning_text(const trace_fields *fields, char *out, size_t out_size, size_t *used)
{
    for (size_t i = 0; i < fields->count; i++) {
        const trace_field *field = &fields->items[i];
        if (field->label == NULL || (field->kind == TRACE_VALUE_BOOL && !field->number))
            continue;
        if (*used > 0)
            trace_append(out, out_size, used, "; ");
        expand_label(fields, field, out, out_size, used);
    }
    if (fields->malformed)
        trace_append(out, out_size, used, "%smalformed body", *used > 0 ? "; " : "");
}

static void message_text(const trace_item *item, char *message, size_t message_size,
                         char *type, size_t type_size)
{
    const latch_event *event = item->event;
    switch (item->category) {
    case TRACE_HANDSHAKE:
        snprintf(message, message_size, "%s", item->name);
        snprintf(type, type_size, "22/%u", event->handshake_type);
        break;
    case TRACE_CCS:
        snprintf(message, message_size, "ChangeCipherSpec");
        snprintf(type, type_size, "20");
        break;
    case TRACE_ALERT:
        snprintf(message, message_size, "Alert %s (%s)",
                 latch_alert_name(event->alert_description),
                 event->alert_level == 2 ? "fatal" : event->alert_level == 1 ? "warning" : "?");
        snprintf(type, type_size, "21");
        break;
    default:
        snprintf(message, message_size, "Application data %zu B", event->length);
        snprintf(type, type_size, "23");
        break;
    }
}

static void print_header(latch_tracer *tracer)
{
    FILE *out = tracer->out;
    if (tracer->header_printed)
        return;
    tracer->header_printed = 1;
    if (tracer->label[0] != '\0')
        fprintf(out, "%sconnection %s%s\n", paint(tracer, ANSI_BOLD), tracer->label,
                paint(tracer, ANSI_RESET));
    fprintf(out, "%s No.       time  ", paint(tracer, ANSI_BOLD));
    trace_write_padded(out, "direction", COLUMN_DIRECTION + 2);
    trace_write_padded(out, "message", COLUMN_MESSAGE + 2);
    trace_write_padded(out, "type", COLUMN_TYPE + 1);
    fprintf(out, "meaning%s\n", paint(tracer, ANSI_RESET));
}

static void print_message_row(latch_tracer *tracer, const trace_item *item)
{
    FILE *out = tracer->out;
    char message[96], type[16], meaning[1024];
    size_t used = 0;
    int fatal = item->category == TRACE_ALERT && item->event->alert_level == 2;
    message_text(item, message, sizeof message, type, sizeof type);
    meaning[0] = '\0';
    if (item->fields != NULL)
        meaning_text(item->fields, meaning, sizeof meaning, &used);
    else if (item->category == TRACE_CCS && item->detail != NULL)
        trace_append(meaning, sizeof meaning, &used, "%s", item->detail);
    trace_make_printable(meaning);
    fprintf(out, "%4llu %10.3f  %s", (unsigned long long)tracer->messages,
            (double)item->elapsed_us / 1000.0,
            paint(tracer, item->from_client ? ANSI_CYAN : ANSI_MAGENTA));
    trace_write_padded(out, direction_text(item->from_client), COLUMN_DIRECTION);
    fprintf(out, "%s  %s", paint(tracer, ANSI_RESET), paint(tracer, fatal ? ANSI_RED : ""));
    trace_write_padded(out, message, COLUMN_MESSAGE);
    fprintf(out, "%s  ", paint(tracer, fatal ? ANSI_RESET : ""));
    if (!item->encrypted && meaning[0] == '\0') {
        fprintf(out, "%s\n", type); /* no trailing blanks */
        return;
    }
    trace_write_padded(out, type, COLUMN_TYPE);
    if (item->encrypted)
        fprintf(out, " %s(encrypted)%s%s", paint(tracer, ANSI_YELLOW), paint(tracer, ANSI_RESET),
                meaning[0] ? " " : "");
    else
        fputc(' ', out);
    fprintf(out, "%s\n", meaning);
}

static void print_note_row(latch_tracer *tracer, const trace_item *item)
{
    char text[512];
    size_t used = 0;
    if (item->category == TRACE_KEYS)
        trace_append(text, sizeof text, &used, "%s encrypted from here", direction_text(item->from_client));
    else
        trace_append(text, sizeof text, &used, "%s", item->name ? item->name : "note");
    if (item->detail != NULL)
        trace_append(text, sizeof text, &used, item->category == TRACE_KEYS ? " (%s)" : ": %s",
                     item->detail);
    trace_make_printable(text);
    fprintf(tracer->out, "     %10.3f  %*s%s· %s%s\n", (double)item->elapsed_us / 1000.0,
            COLUMN_DIRECTION + 2, "", paint(tracer, ANSI_DIM), text, paint(tracer, ANSI_RESET));
}

/* A TCP segment: no message number; "tcp" in the type column. */
static void print_segment_row(latch_tracer *tracer, const trace_item *item)
{
    const latch_tcp_segment *segment = item->segment;
    FILE *out = tracer->out;
    char message[64], flags[48], meaning[1024];
    size_t used = 0;
    trace_tcp_flags_text(segment->flags, flags, sizeof flags);
    snprintf(message, sizeof message, "TCP %s", flags);
    meaning[0] = '\0';
    trace_segment_text(segment, meaning, sizeof meaning, &used);
    for (size_t i = 0; i < segment->transition_count; i++) {
        trace_append(meaning, sizeof meaning, &used, "; ");
        trace_transition_text(&segment->transitions[i], meaning, sizeof meaning, &used);
    }
    fprintf(out, "     %10.3f  %s", (double)item->elapsed_us / 1000.0,
            paint(tracer, item->from_client ? ANSI_CYAN : ANSI_MAGENTA));
    trace_write_padded(out, direction_text(item->from_client), COLUMN_DIRECTION);
    fprintf(out, "%s  %s", paint(tracer, ANSI_RESET), paint(tracer, ANSI_DIM));
    trace_write_padded(out, message, COLUMN_MESSAGE);
    fprintf(out, "%s  ", paint(tracer, ANSI_RESET));
    trace_write_padded(out, "tcp", COLUMN_TYPE);
    if (segment->retransmission)
        fprintf(out, " %sRETRANSMISSION%s", paint(tracer, ANSI_RED), paint(tracer, ANSI_RESET));
    fprintf(out, " %s\n", meaning);
}

static void print_tcp_note_row(latch_tracer *tracer, const trace_item *item)
{
    char text[512];
    size_t used = 0;
    if (item->category == TRACE_TCP_STATE) {
        trace_append(text, sizeof text, &used, "TCP state: ");
        trace_transition_text(item->transition, text, sizeof text, &used);
    } else {
        const latch_tcp_info *info = item->tcp_info;
        trace_append(text, sizeof text, &used,
                     "TCP_INFO: %s, rtt %u.%03u ms (±%u.%03u ms), %u retransmitted, MSS %u",
                     latch_tcp_state_name(info->state), info->rtt_us / 1000, info->rtt_us % 1000,
                     info->rttvar_us / 1000, info->rttvar_us % 1000, info->total_retrans,
                     info->snd_mss);
        if (item->detail != NULL)
            trace_append(text, sizeof text, &used, " (%s)", item->detail);
    }
    trace_make_printable(text);
    fprintf(tracer->out, "     %10.3f  %*s%s· %s%s\n", (double)item->elapsed_us / 1000.0,
            COLUMN_DIRECTION + 2, "", paint(tracer, ANSI_DIM), text, paint(tracer, ANSI_RESET));
}

void trace_table_item(latch_tracer *tracer, const trace_item *item)
{
    if (item->category == TRACE_RECORD)
        return; /* folded into the footer count */
    print_header(tracer);
    if (item->category == TRACE_SEGMENT)
        print_segment_row(tracer, item);
    else if (item->category == TRACE_TCP_STATE || item->category == TRACE_TCP_INFO)
        print_tcp_note_row(tracer, item);
    else if (item->category == TRACE_KEYS || item->category == TRACE_NOTE ||
             item->category == TRACE_DONE)
        print_note_row(tracer, item);
    else
        print_message_row(tracer, item);
}

void trace_table_finish(latch_tracer *tracer)
{
    size_t to_server = tracer->records[1], to_client = tracer->records[0];
    if (!tracer->header_printed && to_server + to_client == 0)
        return;
    fprintf(tracer->out, "%s%llu messages; records: %zu (client → server %zu, server → client %zu)%s\n",
            paint(tracer, ANSI_DIM), (unsigned long long)tracer->messages, to_server + to_client,
            to_server, to_client, paint(tracer, ANSI_RESET));
    if (tracer->segments[0] + tracer->segments[1] > 0)
        fprintf(tracer->out,
                "%s%llu TCP segments (client → server %llu, server → client %llu), %llu retransmitted%s\n",
                paint(tracer, ANSI_DIM),
                (unsigned long long)(tracer->segments[0] + tracer->segments[1]),
                (unsigned long long)tracer->segments[1], (unsigned long long)tracer->segments[0],
                (unsigned long long)tracer->retransmissions, paint(tracer, ANSI_RESET));
}
