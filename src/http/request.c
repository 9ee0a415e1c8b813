/* HTTP/1.1 request head parser for the server. */
#include "http/http.h"

#include <string.h>

static int is_method_char(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* Bytes of leading empty lines (RFC 9112 2.2: ignore at least one). */
static size_t leading_blank_lines(const char *data, size_t length)
{
    size_t skip = 0;
    while (skip < length && (data[skip] == '\r' || data[skip] == '\n'))
        skip++;
    return skip;
}

static int parse_version(const char *text, size_t length, latch_http_request *request)
{
    if (length != 8 || memcmp(text, "HTTP/", 5) != 0 || text[6] != '.')
        return -400;
    if (text[5] < '0' || text[5] > '9' || text[7] < '0' || text[7] > '9')
        return -400;
    if (text[5] != '1' || (text[7] != '0' && text[7] != '1'))
        return -505;
    request->version_minor = text[7] - '0';
    request->keep_alive = request->version_minor == 1;
    return 0;
}

/* "METHOD SP target SP HTTP/1.x" in [line, end). */
static int parse_request_line(const char *line, const char *end, latch_http_request *request)
{
    const char *space = memchr(line, ' ', (size_t)(end - line));
    if (space == NULL || space == line || (size_t)(space - line) >= sizeof request->method)
        return -400;
    for (const char *p = line; p < space; p++)
        if (!is_method_char(*p))
            return -400;
    memcpy(request->method, line, (size_t)(space - line));
    request->method[space - line] = '\0';

    const char *target = space + 1;
    const char *target_end = memchr(target, ' ', (size_t)(end - target));
    if (target_end == NULL || target_end == target)
        return -400;
    if ((size_t)(target_end - target) >= sizeof request->target)
        return -414;
    for (const char *p = target; p < target_end; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return -400;
    memcpy(request->target, target, (size_t)(target_end - target));
    request->target[target_end - target] = '\0';
    return parse_version(target_end + 1, (size_t)(end - target_end - 1), request);
}

/* Keep a condition's value; one too long to keep is dropped (ignored). */
static void keep_value(char *out, size_t out_size, const latch_http_header *header)
{
    if (header->value_length >= out_size || out[0] != '\0') {
        out[0] = '\0';
        out[out_size - 1] = 1; /* marks "dropped": a second copy is not taken either */
        return;
    }
    if (out[out_size - 1] == 1)
        return;
    memcpy(out, header->value, header->value_length);
    out[header->value_length] = '\0';
}

/* Conditional and range headers the static server acts on; returns 1 if
 * the header was one of them. */
static int keep_condition(latch_http_request *request, const latch_http_header *header)
{
    if (latch_http_header_is(header, "If-None-Match"))
        keep_value(request->if_none_match, sizeof request->if_none_match, header);
    else if (latch_http_header_is(header, "If-Modified-Since"))
        keep_value(request->if_modified_since, sizeof request->if_modified_since, header);
    else if (latch_http_header_is(header, "Range"))
        keep_value(request->range, sizeof request->range, header);
    else if (latch_http_header_is(header, "If-Range"))
        keep_value(request->if_range, sizeof request->if_range, header);
    else if (latch_http_header_is(header, "Expect"))
        request->expect_continue =
            latch_http_value_has_token(header->value, header->value_length, "100-continue");
    else
        return 0;
    return 1;
}

static int apply_header(latch_http_request *request, const latch_http_header *header,
                        int *has_length)
{
    if (keep_condition(request, header))
        return 0;
    if (latch_http_header_is(header, "Host")) {
        if (request->has_host)
            return -400; /* RFC 9112 3.2: more than one Host */
        request->has_host = 1;
    } else if (latch_http_header_is(header, "Content-Length")) {
        uint64_t length;
        if (latch_http_parse_length(header->value, header->value_length, &length) != 0)
            return -400;
        if (*has_length && length != request->content_length)
            return -400;
        *has_length = 1;
        request->content_length = length;
    } else if (latch_http_header_is(header, "Transfer-Encoding")) {
        return -501; /* no request bodies of unknown length */
    } else if (latch_http_header_is(header, "Connection")) {
        if (latch_http_value_has_token(header->value, header->value_length, "close"))
            request->keep_alive = 0;
        else if (latch_http_value_has_token(header->value, header->value_length, "keep-alive"))
            request->keep_alive = 1;
    }
    return 0;
}

static int parse_headers(const char *cursor, const char *end, latch_http_request *request)
{
    latch_http_header header;
    int count = 0, has_length = 0, more;
    while ((more = latch_http_next_header(&cursor, end, &header)) == 1) {
        if (++count > LATCH_HTTP_MAX_HEADERS)
            return -431;
        int error = apply_header(request, &header, &has_length);
        if (error != 0)
            return error;
    }
    if (more < 0)
        return -400;
    if (request->version_minor == 1 && !request->has_host)
        return -400;
    return 0;
}

/* The head has not ended within the limit: 414 while the request line
 * itself is still running (its target is the only long part), else 431. */
static int oversized_head(const char *data, size_t length)
{
    return memchr(data, '\n', length) == NULL ? -414 : -431;
}

/* The dropped-value marks of keep_value are internal: clear them. */
static void clear_marks(latch_http_request *request)
{
    request->if_none_match[sizeof request->if_none_match - 1] = '\0';
    request->if_modified_since[sizeof request->if_modified_since - 1] = '\0';
    request->range[sizeof request->range - 1] = '\0';
    request->if_range[sizeof request->if_range - 1] = '\0';
}

int latch_http_parse_request(const char *data, size_t length, latch_http_request *request)
{
    return latch_http_parse_request_limited(data, length, LATCH_HTTP_MAX_REQUEST_HEAD, request);
}

int latch_http_parse_request_limited(const char *data, size_t length, size_t max_head,
                                     latch_http_request *request)
{
    memset(request, 0, sizeof *request);
    size_t skip = leading_blank_lines(data, length);
    if (skip > 64)
        return -400;
    size_t head = latch_http_head_length(data + skip, length - skip);
    if (head == 0)
        return length >= max_head ? oversized_head(data + skip, length - skip) : 0;
    if (skip + head > max_head)
        return oversized_head(data + skip, max_head > skip ? max_head - skip : 0);
    const char *start = data + skip, *end = start + head;
    const char *newline = memchr(start, '\n', head);
    const char *line_end = newline;
    if (line_end > start && line_end[-1] == '\r')
        line_end--;
    if (memchr(start, '\r', (size_t)(line_end - start)) != NULL)
        return -400;
    int error = parse_request_line(start, line_end, request);
    if (error == 0)
        error = parse_headers(newline + 1, end, request);
    clear_marks(request);
    if (error != 0)
        return error;
    return (int)(skip + head);
}
