/*
 * fuzz_http: the HTTP/1.1 parsers of src/http/http.h.
 *
 * Input: mode(1) || bytes.
 *   0: latch_url_parse (the bytes as a C string) and the Host header.
 *   1: latch_http_parse_request.
 *   2/3: latch_http_response_feed in chunks (3: response to HEAD), then
 *        latch_http_response_finish.
 *   4: the header walker, head length, Content-Length and token helpers.
 * The parsers get exactly-sized heap copies, so ASan sees any over-read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http/http.h"

static int count_body(void *arg, const char *data, size_t length)
{
    size_t *total = arg;
    if (length > 0) /* touch every byte delivered */
        *total += (size_t)(unsigned char)data[0] + (size_t)(unsigned char)data[length - 1];
    *total += length;
    return 0;
}

static void fuzz_url(const char *text)
{
    latch_url *url = malloc(sizeof *url);
    const char *error = NULL;
    char host[LATCH_HTTP_MAX_HOST + 16];
    if (url == NULL)
        return;
    if (latch_url_parse(text, url, &error) == 0) {
        latch_url_host_header(url, host, sizeof host);
        char *request = malloc(LATCH_HTTP_MAX_TARGET + 1024);
        if (request != NULL)
            (void)latch_http_format_request(request, LATCH_HTTP_MAX_TARGET + 1024, "GET", url,
                                            "latch-fuzz");
        free(request);
    } else if (error == NULL) {
        abort(); /* the contract: a reason with every failure */
    }
    free(url);
}

static void fuzz_request(const char *data, size_t len)
{
    latch_http_request *request = malloc(sizeof *request);
    if (request == NULL)
        return;
    int n = latch_http_parse_request(data, len, request);
    if (n > 0 && (size_t)n > len)
        abort();
    free(request);
}

static void fuzz_response(const char *data, size_t len, int head_request)
{
    latch_http_response *response = malloc(sizeof *response);
    size_t total = 0, off = 0, step = 1;
    if (response == NULL)
        return;
    latch_http_response_init(response, head_request, count_body, &total);
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        ssize_t used = latch_http_response_feed(response, data + off, n);
        if (used < 0)
            break;
        if ((size_t)used > n)
            abort();
        if (used == 0) /* done, or stuck: either way no more progress */
            break;
        off += (size_t)used;
        step = step * 3 + 1; /* 1, 4, 13, 40, ...: cuts in many places */
        if (step > 4096)
            step = 1;
    }
    (void)latch_http_response_finish(response);
    free(response);
}

static void fuzz_headers(const char *data, size_t len)
{
    latch_http_header header;
    uint64_t value;
    size_t head = latch_http_head_length(data, len);
    const char *cursor = data, *end = data + (head ? head : len);
    if (head > len)
        abort();
    for (int i = 0; i < 200 && latch_http_next_header(&cursor, end, &header) == 1; i++) {
        (void)latch_http_header_is(&header, "content-length");
        (void)latch_http_value_has_token(header.value, header.value_length, "chunked");
        (void)latch_http_parse_length(header.value, header.value_length, &value);
    }
    (void)latch_http_parse_length(data, len, &value);
    (void)latch_http_value_has_token(data, len, "close");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    int is_url = data[0] % 5 == 0;
    /* exactly sized: the URL gets its NUL, the others none (ASan sees one
     * byte past the length) */
    char *copy = malloc(len + (is_url ? 1 : 0) + (len == 0 ? 1 : 0));
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1, len);
    if (is_url)
        copy[len] = '\0';
    switch (data[0] % 5) {
    case 0:
        fuzz_url(copy);
        break;
    case 1:
        fuzz_request(copy, len);
        break;
    case 2:
    case 3:
        fuzz_response(copy, len, data[0] % 5 == 3);
        break;
    default:
        fuzz_headers(copy, len);
        break;
    }
    free(copy);
    return 0;
}
