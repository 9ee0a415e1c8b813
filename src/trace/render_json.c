/* The JSON renderer: one object per line (schema in docs/TRACE.md). */
#include <stdio.h>
#include <string.h>

#include "trace/trace_internal.h"

/* Length of a valid UTF-8 sequence at text (1..4), or 0 if invalid. */
static size_t utf8_sequence_length(const unsigned char *text)
{
    size_t length;
    if (text[0] < 0x80)
        return 1;
    if (text[0] >= 0xc2 && text[0] <= 0xdf)
        length = 2;
    else if (text[0] >= 0xe0 && text[0] <= 0xef)
        length = 3;
    else if (text[0] >= 0xf0 && text[0] <= 0xf4)
        length = 4;
    else
        return 0;
    for (size_t i = 1; i < length; i++)
        if ((text[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
    return length;
}

/* A JSON string: quotes, backslash and controls escaped, invalid UTF-8 as U+FFFD. */
static void write_string(FILE *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    if (text == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    while (*p != '\0') {
        size_t length = utf8_sequence_length(p);
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else if (length == 0)
            fputs("\\ufffd", out);
        else
            fwrite(p, 1, length, out);
        p += length ? length : 1;
    }
    fputc('"', out);
}

static void write_key(FILE *out, const char *key)
{
    fputc(',', out);
    write_string(out, key);
    fputc(':', out);
}

static void write_fields(FILE *out, const trace_fields *fields)
{
    fputs(",\"fields\":{", out);
    for (size_t i = 0; i < fields->count; i++) {
        const trace_field *field = &fields->items[i];
        if (i > 0)
            fputc(',', out);
        write_string(out, field->key);
        fputc(':', out);
        if (field->kind == TRACE_VALUE_TEXT) {
            write_string(out, trace_field_text(fields, field));
        } else if (field->kind == TRACE_VALUE_NUMBER) {
            fprintf(out, "%llu", (unsigned long long)field->number);
        } else if (field->kind == TRACE_VALUE_BOOL) {
            fputs(field->number ? "true" : "false", out);
        } else {
            const char *item = trace_field_text(fields, field);
            fputc('[', out);
            for (size_t n = 0; item != NULL; item = trace_list_next(fields, field, item), n++) {
                if (n > 0)
                    fputc(',', out);
                write_string(out, item);
            }
            fputc(']', out);
        }
    }
    if (fields->malformed)
        fprintf(out, "%s\"malformed\":true", fields->count > 0 ? "," : "");
    fputc('}', out);
}

static const char *event_name(enum trace_category category)
{
    static const char *const names[] = {"handshake", "record",    "ccs",      "alert",
                                        "app_data",  "keys",      "note",     "done",
                                        "segment",   "tcp_state", "tcp_info"};
    return names[category];
}

/* The record content type (the engine leaves it 0 on some events). */
static unsigned content_type(const trace_item *item)
{
    switch (item->category) {
    case TRACE_CCS: return 20;
    case TRACE_ALERT: return 21;
    case TRACE_HANDSHAKE: return 22;
    case TRACE_APP_DATA: return 23;
    default: return item->event->content_type;
    }
}

/* Body bytes: the engine gives no length for CCS (1 byte) and alerts (2). */
static size_t message_length(const trace_item *item)
{
    if (item->category == TRACE_CCS)
        return 1;
    if (item->category == TRACE_ALERT)
        return 2;
    return item->event->length;
}

static void write_message(FILE *out, const trace_item *item)
{
    const latch_event *event = item->event;
    fprintf(out, ",\"content_type\":%u", content_type(item));
    if (item->category == TRACE_HANDSHAKE)
        fprintf(out, ",\"handshake_type\":%u", event->handshake_type);
    write_key(out, "name");
    if (item->category == TRACE_ALERT)
        write_string(out, latch_alert_name(event->alert_description));
    else if (item->category == TRACE_CCS)
        write_string(out, "ChangeCipherSpec");
    else if (item->category == TRACE_APP_DATA)
        write_string(out, "application data");
    else
        write_string(out, item->name ? item->name : "unknown");
    fprintf(out, ",\"length\":%zu", message_length(item));
    if (item->category == TRACE_RECORD)
        return;
    fprintf(out, ",\"encrypted\":%s", item->encrypted ? "true" : "false");
    if (item->category == TRACE_ALERT) {
        write_key(out, "level");
        write_string(out, event->alert_level == 2 ? "fatal"
                          : event->alert_level == 1 ? "warning" : "unknown");
        write_key(out, "alert");
        write_string(out, latch_alert_name(event->alert_description));
        fprintf(out, ",\"alert_description\":%u", event->alert_description);
    }
    if (item->category == TRACE_CCS && item->detail != NULL) {
        write_key(out, "detail");
        write_string(out, item->detail);
    }
    if (item->fields != NULL)
        write_fields(out, item->fields);
}

static void write_bool(FILE *out, const char *key, int value)
{
    write_key(out, key);
    fputs(value ? "true" : "false", out);
}

static void write_transition(FILE *out, const latch_tcp_transition *t)
{
    fputs("{\"side\":", out);
    write_string(out, t->client ? "client" : "server");
    write_key(out, "from");
    write_string(out, latch_tcp_state_name(t->from));
    write_key(out, "to");
    write_string(out, latch_tcp_state_name(t->to));
    write_key(out, "why");
    write_string(out, t->why ? t->why : "");
    write_bool(out, "inferred", t->inferred);
    fputc('}', out);
}

static void write_segment(FILE *out, const trace_item *item)
{
    const latch_tcp_segment *segment = item->segment;
    static const struct { uint8_t bit; const char *name; } flag_names[] = {
        {LATCH_TCP_SYN, "SYN"}, {LATCH_TCP_FIN, "FIN"}, {LATCH_TCP_RST, "RST"},
        {LATCH_TCP_PSH, "PSH"}, {LATCH_TCP_ACK, "ACK"}, {LATCH_TCP_URG, "URG"},
        {LATCH_TCP_ECE, "ECE"}, {LATCH_TCP_CWR, "CWR"}};
    size_t n = 0;
    write_key(out, "name");
    write_string(out, item->name);
    fprintf(out, ",\"number\":%u,\"mono_us\":%llu", segment->number,
            (unsigned long long)segment->time_us);
    write_bool(out, "outgoing", segment->outgoing);
    fputs(",\"flags\":[", out);
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (segment->flags & flag_names[i].bit) {
            if (n++ > 0)
                fputc(',', out);
            write_string(out, flag_names[i].name);
        }
    fputc(']', out);
    fprintf(out, ",\"tcp_seq\":%u,\"tcp_ack\":%u,\"window\":%u,\"window_bytes\":%u,\"length\":%u",
            segment->seq, segment->ack, segment->window, segment->window_bytes,
            segment->payload_length);
    write_bool(out, "retransmission", segment->retransmission);
    fputs(",\"options\":{", out);
    n = 0;
    if (segment->mss)
        fprintf(out, "%s\"mss\":%u", n++ ? "," : "", segment->mss);
    if (segment->wscale >= 0)
        fprintf(out, "%s\"wscale\":%d", n++ ? "," : "", segment->wscale);
    if (segment->sack_permitted)
        fprintf(out, "%s\"sack_permitted\":true", n++ ? "," : "");
    if (segment->sack_blocks)
        fprintf(out, "%s\"sack_blocks\":%u", n++ ? "," : "", segment->sack_blocks);
    if (segment->has_timestamps)
        fprintf(out, "%s\"tsval\":%u,\"tsecr\":%u", n++ ? "," : "", segment->tsval,
                segment->tsecr);
    fputc('}', out);
    if (segment->tls_records > 0) {
        fprintf(out, ",\"tls\":{\"records\":%u,\"first_type\":%u,\"bytes\":%u}",
                segment->tls_records, segment->tls_type, segment->tls_bytes);
    }
    write_key(out, "client_state");
    write_string(out, latch_tcp_state_name(segment->client_state));
    write_key(out, "server_state");
    write_string(out, latch_tcp_state_name(segment->server_state));
    fputs(",\"transitions\":[", out);
    for (size_t i = 0; i < segment->transition_count; i++) {
        if (i > 0)
            fputc(',', out);
        write_transition(out, &segment->transitions[i]);
    }
    fputc(']', out);
}

static void write_tcp_info(FILE *out, const trace_item *item)
{
    const latch_tcp_info *info = item->tcp_info;
    write_key(out, "name");
    write_string(out, "TCP_INFO");
    write_key(out, "state");
    write_string(out, latch_tcp_state_name(info->state));
    fprintf(out,
            ",\"rtt_us\":%u,\"rttvar_us\":%u,\"retransmits\":%u,\"total_retrans\":%u,"
            "\"snd_mss\":%u,\"rcv_mss\":%u,\"snd_cwnd\":%u",
            info->rtt_us, info->rttvar_us, info->retransmits, info->total_retrans, info->snd_mss,
            info->rcv_mss, info->snd_cwnd);
    write_key(out, "detail");
    write_string(out, item->detail);
}

void trace_json_item(latch_tracer *tracer, const trace_item *item)
{
    FILE *out = tracer->out;
    fputs("{\"conn\":", out);
    write_string(out, tracer->label[0] ? tracer->label : NULL);
    fprintf(out, ",\"seq\":%llu,\"t_us\":%lld,\"event\":\"%s\"",
            (unsigned long long)tracer->sequence, (long long)item->elapsed_us,
            event_name(item->category));
    if (item->has_direction)
        fprintf(out, ",\"dir\":\"%s\"", item->from_client ? "c2s" : "s2c");
    if (item->category == TRACE_SEGMENT) {
        write_segment(out, item);
    } else if (item->category == TRACE_TCP_STATE) {
        write_key(out, "name");
        write_string(out, "TCP state");
        fputs(",\"transition\":", out);
        write_transition(out, item->transition);
    } else if (item->category == TRACE_TCP_INFO) {
        write_tcp_info(out, item);
    } else if (item->category == TRACE_KEYS || item->category == TRACE_NOTE ||
               item->category == TRACE_DONE) {
        write_key(out, "name");
        write_string(out, item->name);
        write_key(out, "detail");
        write_string(out, item->detail);
        if (item->category != TRACE_KEYS) {
            write_key(out, "source");
            write_string(out, item->event != NULL ? "engine" : "caller");
        }
        if (item->category != TRACE_KEYS && item->event != NULL) {
            write_key(out, "side");
            write_string(out, item->event->from_client ? "client" : "server");
        }
    } else {
        write_message(out, item);
    }
    fputs("}\n", out);
}

void trace_json_finish(latch_tracer *tracer)
{
    FILE *out = tracer->out;
    trace_phase phases[3];
    size_t count = trace_round_trip_phases(tracer, phases, 3);
    for (size_t i = 0; i < count; i++) {
        tracer->sequence++;
        fputs("{\"conn\":", out);
        write_string(out, tracer->label[0] ? tracer->label : NULL);
        fprintf(out, ",\"seq\":%llu,\"t_us\":%lld,\"event\":\"round_trips\"",
                (unsigned long long)tracer->sequence, (long long)phases[i].start_us);
        write_key(out, "phase");
        write_string(out, phases[i].key);
        write_key(out, "name");
        write_string(out, phases[i].name);
        fprintf(out, ",\"round_trips\":%zu,\"time_us\":%lld", phases[i].round_trips,
                (long long)phases[i].time_us);
        write_key(out, "detail");
        write_string(out, phases[i].detail);
        fputs("}\n", out);
    }
    fputs("{\"conn\":", out);
    write_string(out, tracer->label[0] ? tracer->label : NULL);
    fprintf(out,
            ",\"seq\":%llu,\"t_us\":%lld,\"event\":\"end\",\"events\":%llu,"
            "\"messages\":%llu,\"records_c2s\":%zu,\"records_s2c\":%zu,"
            "\"segments_c2s\":%llu,\"segments_s2c\":%llu,\"retransmissions\":%llu}\n",
            (unsigned long long)tracer->sequence + 1, (long long)tracer->last_elapsed_us,
            (unsigned long long)tracer->sequence, (unsigned long long)tracer->messages,
            tracer->records[1], tracer->records[0], (unsigned long long)tracer->segments[1],
            (unsigned long long)tracer->segments[0], (unsigned long long)tracer->retransmissions);
}
