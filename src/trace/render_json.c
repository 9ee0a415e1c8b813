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
    static const char *const names[] = {"handshake", "record", "ccs",  "alert",
                                        "app_data",  "keys",   "note", "done"};
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
    if (item->category == TRACE_KEYS || item->category == TRACE_NOTE ||
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
    fputs("{\"conn\":", out);
    write_string(out, tracer->label[0] ? tracer->label : NULL);
    fprintf(out,
            ",\"seq\":%llu,\"t_us\":%lld,\"event\":\"end\",\"events\":%llu,"
            "\"messages\":%llu,\"records_c2s\":%zu,\"records_s2c\":%zu}\n",
            (unsigned long long)tracer->sequence + 1, (long long)tracer->last_elapsed_us,
            (unsigned long long)tracer->sequence, (unsigned long long)tracer->messages,
            tracer->records[1], tracer->records[0]);
}
