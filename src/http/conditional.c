/* Validators and ranges for the static server (RFC 9110 8.8, 13, 14):
 * HTTP dates, entity tags, If-None-Match / If-Modified-Since / If-Range,
 * and a single byte range. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "http/conditional.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A server formats the same few dates over and over (now, for Date; a
 * file's mtime, for Last-Modified): each thread keeps its last two. */
enum { DATE_CACHE = 2, DATE_LENGTH = 29 };
static _Thread_local struct {
    int64_t t;
    int valid;
    char text[DATE_LENGTH + 1];
} date_cache[DATE_CACHE];
static _Thread_local unsigned date_cache_next;

void latch_http_format_date(int64_t t, char *out, size_t out_size)
{
    time_t seconds = (time_t)t;
    struct tm utc;
    if (out_size < 30) {
        if (out_size > 0)
            out[0] = '\0';
        return;
    }
    for (unsigned i = 0; i < DATE_CACHE; i++) {
        if (date_cache[i].valid && date_cache[i].t == t) {
            memcpy(out, date_cache[i].text, DATE_LENGTH + 1);
            return;
        }
    }
    if (gmtime_r(&seconds, &utc) == NULL) {
        out[0] = '\0';
        return;
    }
    size_t length = strftime(out, out_size, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    if (length == DATE_LENGTH) { /* years 1000-9999: the fixed-length form */
        unsigned slot = date_cache_next++ % DATE_CACHE;
        date_cache[slot].t = t;
        date_cache[slot].valid = 1;
        memcpy(date_cache[slot].text, out, DATE_LENGTH + 1);
    }
}

/* One of the three HTTP-date forms (RFC 9110 5.6.7), "C" locale names. */
int latch_http_parse_date(const char *text, int64_t *t)
{
    static const char *const forms[] = {
        "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 (obsolete) */
        "%a %b %e %H:%M:%S %Y",      /* asctime (obsolete) */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct tm parsed;
        memset(&parsed, 0, sizeof parsed);
        const char *end = strptime(text, forms[i], &parsed);
        if (end == NULL || *end != '\0')
            continue;
        time_t value = timegm(&parsed);
        if (value == (time_t)-1)
            return -1;
        *t = (int64_t)value;
        return 0;
    }
    return -1;
}

void http_file_validators(const struct stat *info, struct http_validators *out)
{
    snprintf(out->etag, sizeof out->etag, "\"%llx.%lx-%llx\"",
             (unsigned long long)info->st_mtim.tv_sec, (unsigned long)info->st_mtim.tv_nsec,
             (unsigned long long)info->st_size);
    out->modified = (int64_t)info->st_mtim.tv_sec;
    latch_http_format_date(out->modified, out->last_modified, sizeof out->last_modified);
}

/* The opaque part of an entity tag at *cursor (W/ skipped, *weak set);
 * advances past it.  Returns its length with the quotes, 0 if malformed. */
static size_t next_entity_tag(const char **cursor, int *weak, const char **tag)
{
    const char *p = *cursor;
    *weak = 0;
    if (p[0] == 'W' && p[1] == '/') {
        *weak = 1;
        p += 2;
    }
    if (*p != '"')
        return 0;
    const char *close = strchr(p + 1, '"');
    if (close == NULL)
        return 0;
    *tag = p;
    *cursor = close + 1;
    return (size_t)(close + 1 - p);
}

/* If-None-Match: "*" or a list of entity tags, compared weakly. */
static int none_match_hits(const char *list, const char *etag)
{
    size_t etag_length = strlen(etag);
    const char *cursor = list;
    while (*cursor != '\0') {
        while (*cursor == ' ' || *cursor == '\t' || *cursor == ',')
            cursor++;
        if (*cursor == '\0')
            break;
        if (*cursor == '*')
            return 1;
        int weak = 0;
        const char *tag = NULL;
        size_t length = next_entity_tag(&cursor, &weak, &tag);
        if (length == 0)
            return 0; /* malformed: do not claim a match */
        if (length == etag_length && memcmp(tag, etag, length) == 0)
            return 1;
    }
    return 0;
}

int http_not_modified(const latch_http_request *request, const struct http_validators *validators)
{
    if (request->if_none_match[0] != '\0')
        return none_match_hits(request->if_none_match, validators->etag);
    int64_t since = 0;
    if (request->if_modified_since[0] != '\0' &&
        latch_http_parse_date(request->if_modified_since, &since) == 0)
        return validators->modified <= since;
    return 0;
}

/* If-Range: the Range applies only while the representation is the one the
 * client has: a strong ETag match or the exact Last-Modified date. */
static int if_range_holds(const char *value, const struct http_validators *validators)
{
    if (value[0] == '\0')
        return 1;
    if (value[0] == '"')
        return strcmp(value, validators->etag) == 0;
    if (value[0] == 'W' && value[1] == '/')
        return 0; /* weak tags never match here */
    int64_t date = 0;
    return latch_http_parse_date(value, &date) == 0 && date == validators->modified;
}

/* Decimal digits at *cursor (at most 18); advances.  -1 if none. */
static int parse_number(const char **cursor, uint64_t *out)
{
    const char *p = *cursor;
    uint64_t value = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 18)
            return -1;
        value = value * 10 + (uint64_t)(*p - '0');
    }
    if (digits == 0)
        return -1;
    *cursor = p;
    *out = value;
    return 0;
}

/* "bytes=first-last", "bytes=first-", "bytes=-suffix" (one range only). */
static int parse_byte_range(const char *text, uint64_t size, struct http_range *range)
{
    if (strncasecmp(text, "bytes", 5) != 0)
        return HTTP_RANGE_IGNORE;
    const char *p = text + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '=')
        return HTTP_RANGE_IGNORE;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t first = 0, last = 0;
    int has_first = parse_number(&p, &first) == 0, has_last = 0;
    if (*p++ != '-')
        return HTTP_RANGE_IGNORE;
    has_last = parse_number(&p, &last) == 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0' || (!has_first && !has_last) || (has_first && has_last && last < first))
        return HTTP_RANGE_IGNORE; /* several ranges or invalid: serve it all */
    if (!has_first) { /* the last `last` bytes */
        if (last == 0 || size == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        first = last >= size ? 0 : size - last;
        last = size - 1;
    } else {
        if (first >= size)
            return HTTP_RANGE_UNSATISFIABLE;
        if (!has_last || last >= size)
            last = size - 1;
    }
    range->first = first;
    range->length = last - first + 1;
    return HTTP_RANGE_PARTIAL;
}

int http_select_range(const latch_http_request *request, const struct http_validators *validators,
                      uint64_t size, struct http_range *range)
{
    if (request->range[0] == '\0' || strcmp(request->method, "GET") != 0)
        return HTTP_RANGE_IGNORE;
    if (!if_range_holds(request->if_range, validators))
        return HTTP_RANGE_IGNORE;
    return parse_byte_range(request->range, size, range);
}
