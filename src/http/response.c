/* Incremental HTTP/1.1 response parser: status line, headers, and a body
 * framed by Content-Length, chunked coding, or the end of the connection. */
#include "http/http.h"

#include <string.h>
#include <strings.h>

void latch_http_response_init(latch_http_response *response, int head_request,
                              latch_http_body_fn on_body, void *arg)
{
    memset(response, 0, sizeof *response);
    response->state = LATCH_HTTP_RESPONSE_HEAD;
    response->head_request = head_request;
    response->on_body = on_body;
    response->arg = arg;
}

static ssize_t fail(latch_http_response *response, const char *why)
{
    response->error = why;
    response->state = LATCH_HTTP_RESPONSE_ERROR;
    return -1;
}

/* "HTTP/1.1 200 OK": returns 0 and sets status/version, -1 if malformed. */
static int parse_status_line(latch_http_response *response, const char *line, size_t length)
{
    if (length < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1'))
        return -1;
    if (line[8] != ' ' || (length > 12 && line[12] != ' '))
        return -1;
    for (size_t i = 13; i < length; i++) /* reason-phrase: HTAB, SP, VCHAR, obs-text */
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
            return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100 || status > 599)
        return -1;
    response->status = status;
    response->version_minor = line[7] - '0';
    response->keep_alive = response->version_minor == 1;
    return 0;
}

/* Transfer-Encoding: chunked must be the last coding and appear once;
 * another final coding means the body runs to the end of the connection. */
static const char *apply_transfer_encoding(latch_http_response *response,
                                           const latch_http_header *header, int *other_coding)
{
    if (response->chunked)
        return "Transfer-Encoding after chunked";
    const char *value = header->value;
    size_t length = header->value_length;
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == ','))
        length--;
    size_t start = length;
    while (start > 0 && value[start - 1] != ',' && value[start - 1] != ' ')
        start--;
    if (length - start == 7 && strncasecmp(value + start, "chunked", 7) == 0)
        response->chunked = 1;
    else if (latch_http_value_has_token(value, header->value_length, "chunked"))
        return "chunked is not the last transfer coding";
    else
        *other_coding = 1;
    return NULL;
}

static const char *apply_header(latch_http_response *response, const latch_http_header *header,
                                int *other_coding)
{
    if (latch_http_header_is(header, "Content-Length")) {
        uint64_t length;
        if (latch_http_parse_length(header->value, header->value_length, &length) != 0)
            return "invalid Content-Length";
        if (response->has_length && length != response->content_length)
            return "conflicting Content-Length headers";
        response->has_length = 1;
        response->content_length = length;
    } else if (latch_http_header_is(header, "Transfer-Encoding")) {
        return apply_transfer_encoding(response, header, other_coding);
    } else if (latch_http_header_is(header, "Connection")) {
        if (latch_http_value_has_token(header->value, header->value_length, "close"))
            response->keep_alive = 0;
        else if (latch_http_value_has_token(header->value, header->value_length, "keep-alive"))
            response->keep_alive = 1;
    }
    return NULL;
}

static void choose_body_framing(latch_http_response *response, int other_coding)
{
    int status = response->status;
    if (response->head_request || status == 204 || status == 304 || status == 101)
        response->state = LATCH_HTTP_RESPONSE_DONE;
    else if (response->chunked && !other_coding)
        response->state = LATCH_HTTP_RESPONSE_CHUNK_SIZE;
    else if (response->chunked || other_coding)
        response->state = LATCH_HTTP_RESPONSE_BODY_CLOSE; /* unknown coding */
    else if (response->has_length)
        response->state = response->content_length == 0 ? LATCH_HTTP_RESPONSE_DONE
                                                         : LATCH_HTTP_RESPONSE_BODY_LENGTH;
    else
        response->state = LATCH_HTTP_RESPONSE_BODY_CLOSE;
    response->remaining = response->content_length;
}

static ssize_t parse_head(latch_http_response *response)
{
    const char *cursor = response->head, *end = response->head + response->head_length;
    const char *newline = memchr(cursor, '\n', response->head_length);
    size_t line_length = (size_t)(newline - cursor);
    if (line_length > 0 && cursor[line_length - 1] == '\r')
        line_length--;
    if (parse_status_line(response, cursor, line_length) != 0)
        return fail(response, "malformed status line");
    cursor = newline + 1;
    int other_coding = 0, count = 0, more;
    latch_http_header header;
    while ((more = latch_http_next_header(&cursor, end, &header)) == 1) {
        if (++count > LATCH_HTTP_MAX_HEADERS)
            return fail(response, "too many response headers");
        const char *problem = apply_header(response, &header, &other_coding);
        if (problem != NULL)
            return fail(response, problem);
    }
    if (more < 0)
        return fail(response, "malformed response header");
    if ((response->chunked || other_coding) && response->has_length)
        return fail(response, "both Transfer-Encoding and Content-Length (RFC 9112 6.3)");
    response->head_complete = 1;
    choose_body_framing(response, other_coding);
    return 0;
}

/* An interim 1xx response: forget it and parse the next head. */
static void reset_for_final_response(latch_http_response *response)
{
    response->head_complete = 0;
    response->head_length = 0;
    response->status = 0;
    response->has_length = 0;
    response->chunked = 0;
    response->content_length = 0;
    response->state = LATCH_HTTP_RESPONSE_HEAD;
}

static ssize_t feed_head(latch_http_response *response, const char *data, size_t length)
{
    size_t old = response->head_length, room = sizeof response->head - old;
    size_t take = length < room ? length : room;
    memcpy(response->head + old, data, take);
    response->head_length += take;
    size_t search_from = old >= 3 ? old - 3 : 0;
    size_t end = latch_http_head_length(response->head + search_from,
                                        response->head_length - search_from);
    if (end == 0) {
        if (response->head_length == sizeof response->head)
            return fail(response, "response head too large");
        return (ssize_t)take;
    }
    end += search_from;
    response->head_length = end;
    if (parse_head(response) != 0)
        return -1;
    if (response->status >= 100 && response->status < 200 && response->status != 101)
        reset_for_final_response(response);
    return (ssize_t)(end - old);
}

/* Collect one line (without its CR LF) into response->line.
 * Returns 1 when complete, 0 if more bytes are needed; *used is set. */
static int take_line(latch_http_response *response, const char *data, size_t length,
                     size_t *used)
{
    const char *newline = memchr(data, '\n', length);
    size_t take = newline ? (size_t)(newline - data) : length;
    if (response->line_length + take >= sizeof response->line)
        return -1;
    memcpy(response->line + response->line_length, data, take);
    response->line_length += take;
    *used = newline ? take + 1 : take;
    if (newline == NULL)
        return 0;
    if (response->line_length > 0 && response->line[response->line_length - 1] == '\r')
        response->line_length--;
    response->line[response->line_length] = '\0';
    return 1;
}

static int parse_chunk_size(const char *line, uint64_t *size)
{
    uint64_t value = 0;
    size_t digits = 0;
    for (; line[digits] != '\0'; digits++) {
        char c = line[digits];
        int nibble = (c >= '0' && c <= '9')   ? c - '0'
                     : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                     : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                              : -1;
        if (nibble < 0)
            break;
        if (value >> 59)
            return -1;
        value = value << 4 | (uint64_t)nibble;
    }
    size_t after = digits;
    while (line[after] == ' ' || line[after] == '\t') /* BWS before a chunk extension */
        after++;
    if (digits == 0 || (line[after] != '\0' && line[after] != ';'))
        return -1;
    *size = value;
    return 0;
}

static ssize_t deliver(latch_http_response *response, const char *data, size_t length)
{
    if (response->on_body != NULL && length > 0 &&
        response->on_body(response->arg, data, length) != 0)
        return fail(response, "body consumer failed");
    return (ssize_t)length;
}

static ssize_t feed_counted(latch_http_response *response, const char *data, size_t length,
                            enum latch_http_response_state next)
{
    size_t take = length < response->remaining ? length : (size_t)response->remaining;
    if (deliver(response, data, take) < 0)
        return -1;
    response->remaining -= take;
    if (response->remaining == 0)
        response->state = next;
    return (ssize_t)take;
}

static ssize_t feed_line_state(latch_http_response *response, const char *data, size_t length)
{
    size_t used = 0;
    int complete = take_line(response, data, length, &used);
    if (complete < 0)
        return fail(response, "chunk line too long");
    if (!complete)
        return (ssize_t)used;
    response->line_length = 0;
    if (response->state == LATCH_HTTP_RESPONSE_CHUNK_SIZE) {
        if (parse_chunk_size(response->line, &response->remaining) != 0)
            return fail(response, "malformed chunk size");
        response->state = response->remaining == 0 ? LATCH_HTTP_RESPONSE_TRAILERS
                                                   : LATCH_HTTP_RESPONSE_CHUNK_DATA;
    } else if (response->state == LATCH_HTTP_RESPONSE_CHUNK_END) {
        if (response->line[0] != '\0')
            return fail(response, "missing CRLF after chunk data");
        response->state = LATCH_HTTP_RESPONSE_CHUNK_SIZE;
    } else if (response->line[0] == '\0') { /* end of trailers */
        response->state = LATCH_HTTP_RESPONSE_DONE;
    } else if ((response->trailer_bytes += used) > LATCH_HTTP_MAX_RESPONSE_HEAD) {
        return fail(response, "trailer section too large");
    }
    return (ssize_t)used;
}

static ssize_t feed_step(latch_http_response *response, const char *data, size_t length)
{
    switch (response->state) {
    case LATCH_HTTP_RESPONSE_HEAD:
        return feed_head(response, data, length);
    case LATCH_HTTP_RESPONSE_BODY_LENGTH:
        return feed_counted(response, data, length, LATCH_HTTP_RESPONSE_DONE);
    case LATCH_HTTP_RESPONSE_BODY_CLOSE:
        return deliver(response, data, length);
    case LATCH_HTTP_RESPONSE_CHUNK_DATA:
        return feed_counted(response, data, length, LATCH_HTTP_RESPONSE_CHUNK_END);
    case LATCH_HTTP_RESPONSE_CHUNK_SIZE:
    case LATCH_HTTP_RESPONSE_CHUNK_END:
    case LATCH_HTTP_RESPONSE_TRAILERS:
        return feed_line_state(response, data, length);
    default:
        return 0;
    }
}

ssize_t latch_http_response_feed(latch_http_response *response, const char *data,
                                 size_t length)
{
    if (response->state == LATCH_HTTP_RESPONSE_ERROR)
        return -1;
    size_t used = 0;
    while (used < length && response->state != LATCH_HTTP_RESPONSE_DONE) {
        ssize_t step = feed_step(response, data + used, length - used);
        if (step < 0)
            return -1;
        if (step == 0)
            break;
        used += (size_t)step;
    }
    return (ssize_t)used;
}

const char *latch_http_response_header(const latch_http_response *response, const char *name,
                                       size_t *length)
{
    if (!response->head_complete)
        return NULL;
    const char *cursor = memchr(response->head, '\n', response->head_length);
    const char *end = response->head + response->head_length;
    latch_http_header header;
    if (cursor == NULL)
        return NULL;
    cursor++;
    while (latch_http_next_header(&cursor, end, &header) == 1) {
        if (latch_http_header_is(&header, name)) {
            *length = header.value_length;
            return header.value;
        }
    }
    return NULL;
}

int latch_http_response_finish(latch_http_response *response)
{
    if (response->state == LATCH_HTTP_RESPONSE_BODY_CLOSE)
        response->state = LATCH_HTTP_RESPONSE_DONE;
    if (response->state == LATCH_HTTP_RESPONSE_DONE)
        return 0;
    if (response->state != LATCH_HTTP_RESPONSE_ERROR)
        fail(response, response->head_complete ? "connection closed before the body was complete"
                                               : "connection closed before the response head");
    return -1;
}
