/* Request heads with caller-supplied headers (latch get -H, -d). */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_token_char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int latch_http_method_valid(const char *method)
{
    size_t length = 0;
    for (; method[length] != '\0'; length++)
        if (!is_token_char((unsigned char)method[length]))
            return 0;
    return length > 0 && length < 32;
}

int latch_http_header_line_valid(const char *line)
{
    const char *colon = line;
    while (is_token_char((unsigned char)*colon))
        colon++;
    if (colon == line || *colon != ':')
        return 0;
    for (const char *p = colon + 1; *p != '\0'; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
            return 0;
    return 1;
}

/* The user's line for header name (case-insensitive), or NULL. */
static const char *user_header(const latch_http_request_spec *spec, const char *name)
{
    size_t length = strlen(name);
    for (size_t i = 0; i < spec->header_count; i++)
        if (strncasecmp(spec->headers[i], name, length) == 0 && spec->headers[i][length] == ':')
            return spec->headers[i];
    return NULL;
}

/* Append text to out at *used; -1 when it does not fit. */
static int append(char *out, size_t size, size_t *used, const char *text)
{
    size_t length = strlen(text);
    if (*used + length + 1 > size)
        return -1;
    memcpy(out + *used, text, length + 1);
    *used += length;
    return 0;
}

/* "Name: value\r\n" for a default header unless the user replaced it. */
static int append_default(char *out, size_t size, size_t *used,
                          const latch_http_request_spec *spec, const char *name,
                          const char *value)
{
    if (user_header(spec, name) != NULL)
        return 0;
    char line[LATCH_HTTP_MAX_HOST + 128];
    snprintf(line, sizeof line, "%s: %s\r\n", name, value);
    return append(out, size, used, line);
}

/* The user's lines; "Name:" alone only removes a default. */
static int append_user_headers(char *out, size_t size, size_t *used,
                               const latch_http_request_spec *spec)
{
    for (size_t i = 0; i < spec->header_count; i++) {
        const char *colon = strchr(spec->headers[i], ':');
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        if (*value == '\0')
            continue;
        if (append(out, size, used, spec->headers[i]) != 0 || append(out, size, used, "\r\n") != 0)
            return -1;
    }
    return 0;
}

int latch_http_write_request(char *out, size_t out_size, const latch_http_request_spec *spec)
{
    char host[LATCH_HTTP_MAX_HOST + 16], length[32];
    size_t used = 0;
    latch_url_host_header(spec->url, host, sizeof host);
    if (out_size == 0)
        return -1;
    out[0] = '\0';
    int failed = append(out, out_size, &used, spec->method) || append(out, out_size, &used, " ") ||
                 append(out, out_size, &used, spec->url->path) ||
                 append(out, out_size, &used, " HTTP/1.1\r\n") ||
                 append_default(out, out_size, &used, spec, "Host", host) ||
                 append_default(out, out_size, &used, spec, "User-Agent", spec->user_agent) ||
                 append_default(out, out_size, &used, spec, "Accept", "*/*");
    if (!failed && spec->has_body) {
        snprintf(length, sizeof length, "%llu", (unsigned long long)spec->body_length);
        failed = append_default(out, out_size, &used, spec, "Content-Length", length) ||
                 (spec->content_type != NULL &&
                  append_default(out, out_size, &used, spec, "Content-Type", spec->content_type));
    }
    if (!failed && !spec->keep_alive)
        failed = append_default(out, out_size, &used, spec, "Connection", "close");
    if (!failed)
        failed = append_user_headers(out, out_size, &used, spec) ||
                 append(out, out_size, &used, "\r\n");
    return failed ? -1 : (int)used;
}
