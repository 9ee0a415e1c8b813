/* Validators and ranges of the static server (internal to src/http). */
#ifndef LATCH_HTTP_CONDITIONAL_H
#define LATCH_HTTP_CONDITIONAL_H

#include <stdint.h>
#include <sys/stat.h>

#include "http/http.h"

struct http_validators {
    char etag[64];            /* strong: "mtime.ns-size" in hex, quoted */
    char last_modified[40];   /* IMF-fixdate */
    int64_t modified;         /* seconds */
};

/* The ETag and Last-Modified of a file. */
void http_file_validators(const struct stat *info, struct http_validators *out);
/* 1 if the request's If-None-Match (weak comparison) or, without it,
 * If-Modified-Since says the client's copy is current: answer 304. */
int http_not_modified(const latch_http_request *request, const struct http_validators *validators);

enum http_range_result {
    HTTP_RANGE_IGNORE = 0,        /* no (usable) Range: the whole file, 200 */
    HTTP_RANGE_PARTIAL = 1,       /* one range: 206 */
    HTTP_RANGE_UNSATISFIABLE = 2  /* 416 */
};
struct http_range {
    uint64_t first, length;
};
/* The Range of a GET (after If-Range) over a file of size bytes. */
int http_select_range(const latch_http_request *request, const struct http_validators *validators,
                      uint64_t size, struct http_range *range);

#endif
