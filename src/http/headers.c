/* Header lines, shared by the request and response parsers. */
#include "http/http.h"

#include <string.h>
#include <strings.h>

static int is_token_char(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return 1;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int latch_http_header_is(const latch_http_header *header, const char *name)
{
    size_t length = strlen(name);
    return header->name_length == length && strncasecmp(header->name, name, length) == 0;
}

int latch_http_value_has_token(const char *value, size_t length, const char *token)
{
    size_t token_length = strlen(token), position = 0;
    while (position < length) {
        while (position < length && (is_space(value[position]) || value[position] == ','))
            position++;
        size_t start = position;
        while (position < length && value[position] != ',')
            position++;
        size_t end = position;
        while (end > start && is_space(value[end - 1]))
            end--;
        if (end - start == token_length && strncasecmp(value + start, token, token_length) == 0)
            return 1;
    }
    return 0;
}

int latch_http_parse_length(const char *value, size_t length, uint64_t *out)
{
    if (length == 0 || length > 18) /* 18 digits cannot overflow 64 bits */
        return -1;
    uint64_t total = 0;
    for (size_t i = 0; i < length; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        total = total * 10 + (uint64_t)(value[i] - '0');
    }
    *out = total;
    return 0;
}

/* One line in [start, end): returns its end (before CR LF / LF) and sets
 * *next past the terminator; NULL if there is no terminator or a bare CR. */
static const char *line_end(const char *start, const char *end, const char **next)
{
    const char *newline = memchr(start, '\n', (size_t)(end - start));
    if (newline == NULL)
        return NULL;
    *next = newline + 1;
    const char *stop = newline;
    if (stop > start && stop[-1] == '\r')
        stop--;
    if (memchr(start, '\r', (size_t)(stop - start)) != NULL)
        return NULL;
    return stop;
}

int latch_http_next_header(const char **cursor, const char *end, latch_http_header *header)
{
    const char *start = *cursor, *next = NULL;
    const char *stop = line_end(start, end, &next);
    if (stop == NULL)
        return -1;
    *cursor = next;
    if (stop == start)
        return 0;
    if (is_space(*start))
        return -1; /* obsolete line folding */
    const char *colon = start;
    while (colon < stop && is_token_char((unsigned char)*colon))
        colon++;
    if (colon == start || colon == stop || *colon != ':')
        return -1; /* also rejects "Name :" (whitespace before the colon) */
    const char *value = colon + 1, *value_end = stop;
    while (value < value_end && is_space(*value))
        value++;
    while (value_end > value && is_space(value_end[-1]))
        value_end--;
    for (const char *p = value; p < value_end; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return -1;
    header->name = start;
    header->name_length = (size_t)(colon - start);
    header->value = value;
    header->value_length = (size_t)(value_end - value);
    return 1;
}

size_t latch_http_head_length(const char *data, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (data[i] != '\n')
            continue;
        if (i + 1 < length && data[i + 1] == '\n')
            return i + 2;
        if (i + 2 < length && data[i + 1] == '\r' && data[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}
