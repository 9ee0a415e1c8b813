/* Decoded message fields (a small key/value list with its own storage) and
 * text helpers shared by the renderers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/trace_internal.h"

void trace_fields_reset(trace_fields *fields)
{
    fields->count = 0;
    fields->used = 0;
    fields->malformed = 0;
    fields->storage[0] = '\0';
}

static trace_field *new_field(trace_fields *fields, const char *key, const char *label,
                              enum trace_value_kind kind)
{
    trace_field *field;
    if (fields->count >= TRACE_MAX_FIELDS)
        return NULL;
    field = &fields->items[fields->count++];
    memset(field, 0, sizeof *field);
    field->key = key;
    field->label = label;
    field->kind = kind;
    field->text_offset = fields->used;
    return field;
}

/* Store len bytes of text plus a NUL; 0 if there is no room (nothing stored). */
static int store(trace_fields *fields, const char *text, size_t len)
{
    if (len + 1 > sizeof fields->storage - fields->used)
        return 0;
    memcpy(fields->storage + fields->used, text, len);
    fields->storage[fields->used + len] = '\0';
    fields->used += len + 1;
    return 1;
}

/* Printable ASCII as is, the rest as \xNN (never a terminal control). */
static size_t wire_to_text(const uint8_t *bytes, size_t len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 <= out_size; i++) {
        if (bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '\\') {
            out[n++] = (char)bytes[i];
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[bytes[i] >> 4];
            out[n++] = hex[bytes[i] & 15];
        }
    }
    out[n] = '\0';
    return n;
}

void trace_add_text(trace_fields *fields, const char *key, const char *label, const char *text)
{
    size_t mark = fields->used;
    trace_field *field = new_field(fields, key, label, TRACE_VALUE_TEXT);
    if (field == NULL)
        return;
    if (!store(fields, text, strlen(text))) {
        fields->count--;
        fields->used = mark;
        return;
    }
    field->text_length = fields->used - mark;
}

void trace_add_wire_text(trace_fields *fields, const char *key, const char *label,
                         const uint8_t *bytes, size_t len)
{
    char text[1024];
    wire_to_text(bytes, len, text, sizeof text);
    trace_add_text(fields, key, label, text);
}

void trace_add_number(trace_fields *fields, const char *key, const char *label, uint64_t value)
{
    trace_field *field = new_field(fields, key, label, TRACE_VALUE_NUMBER);
    if (field != NULL)
        field->number = value;
}

void trace_add_bool(trace_fields *fields, const char *key, const char *label, int value)
{
    trace_field *field = new_field(fields, key, label, TRACE_VALUE_BOOL);
    if (field != NULL)
        field->number = value != 0;
}

size_t trace_list_begin(trace_fields *fields, const char *key, const char *label)
{
    if (new_field(fields, key, label, TRACE_VALUE_LIST) == NULL)
        return TRACE_MAX_FIELDS;
    return fields->count - 1;
}

void trace_list_add(trace_fields *fields, size_t list, const char *item)
{
    trace_field *field;
    if (list >= fields->count || list != fields->count - 1)
        return; /* not the list being built */
    field = &fields->items[list];
    if (field->kind != TRACE_VALUE_LIST || !store(fields, item, strlen(item)))
        return;
    field->number++;
    field->text_length = fields->used - field->text_offset;
}

void trace_list_add_wire_text(trace_fields *fields, size_t list, const uint8_t *bytes,
                              size_t len)
{
    char text[1024];
    wire_to_text(bytes, len, text, sizeof text);
    trace_list_add(fields, list, text);
}

const char *trace_field_text(const trace_fields *fields, const trace_field *field)
{
    if (field->kind != TRACE_VALUE_TEXT && field->kind != TRACE_VALUE_LIST)
        return NULL;
    if (field->kind == TRACE_VALUE_LIST && field->number == 0)
        return NULL;
    return fields->storage + field->text_offset;
}

const char *trace_list_next(const trace_fields *fields, const trace_field *field,
                            const char *item)
{
    const char *end = fields->storage + field->text_offset + field->text_length;
    const char *next = item + strlen(item) + 1;
    return next < end ? next : NULL;
}

void trace_append(char *out, size_t size, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (*used >= size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(out + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

void trace_field_value_text(const trace_fields *fields, const trace_field *field, char *out,
                            size_t out_size)
{
    size_t used = 0, shown = 0;
    out[0] = '\0';
    switch (field->kind) {
    case TRACE_VALUE_TEXT:
        trace_append(out, out_size, &used, "%s", trace_field_text(fields, field));
        break;
    case TRACE_VALUE_NUMBER:
        trace_append(out, out_size, &used, "%llu", (unsigned long long)field->number);
        break;
    case TRACE_VALUE_BOOL:
        trace_append(out, out_size, &used, "%s", field->number ? "yes" : "no");
        break;
    case TRACE_VALUE_LIST: {
        size_t limit = field->number > 4 ? 3 : 4;
        for (const char *item = trace_field_text(fields, field); item != NULL && shown < limit;
             item = trace_list_next(fields, field, item))
            trace_append(out, out_size, &used, "%s%s", shown++ ? ", " : "", item);
        if (field->number > shown)
            trace_append(out, out_size, &used, " +%llu more",
                         (unsigned long long)(field->number - shown));
        if (field->number == 0)
            trace_append(out, out_size, &used, "none");
        break;
    }
    }
}

void trace_duration_text(int64_t microseconds, char *out, size_t out_size)
{
    int negative = microseconds < 0;
    uint64_t magnitude = negative ? (uint64_t)(-(microseconds + 1)) + 1 : (uint64_t)microseconds;
    if (magnitude < 1000)
        snprintf(out, out_size, "%s%llu µs", negative ? "-" : "",
                 (unsigned long long)magnitude);
    else
        snprintf(out, out_size, "%s%llu.%03llu ms", negative ? "-" : "",
                 (unsigned long long)(magnitude / 1000),
                 (unsigned long long)(magnitude % 1000));
}

size_t trace_display_width(const char *text)
{
    size_t width = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        if ((*p & 0xc0) != 0x80) /* not a UTF-8 continuation byte */
            width++;
    return width;
}

void trace_write_padded(FILE *out, const char *text, size_t width)
{
    size_t used = trace_display_width(text);
    fputs(text, out);
    while (used++ < width)
        fputc(' ', out);
}

void trace_write_right_aligned(FILE *out, const char *text, size_t width)
{
    for (size_t used = trace_display_width(text); used < width; used++)
        fputc(' ', out);
    fputs(text, out);
}

void trace_make_printable(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}
