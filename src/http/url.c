/* https:// URLs and the request line that fetches them. */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int url_error(const char **error, const char *message)
{
    *error = message;
    return -1;
}

static int is_host_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-' ||
           c == '.' || c == '_';
}

static int parse_host(const char *start, const char *end, latch_url *url, const char **rest,
                      const char **error)
{
    const char *host_end;
    if (*start == '[') {
        start++;
        host_end = memchr(start, ']', (size_t)(end - start));
        if (host_end == NULL)
            return url_error(error, "unterminated IPv6 address");
        for (const char *p = start; p < host_end; p++)
            if (!is_host_char((unsigned char)*p) && *p != ':' && *p != '%')
                return url_error(error, "invalid IPv6 address");
        if (memchr(start, ':', (size_t)(host_end - start)) == NULL)
            return url_error(error, "invalid IPv6 address");
        url->host_is_ipv6 = 1;
        *rest = host_end + 1;
    } else {
        host_end = start;
        while (host_end < end && *host_end != ':')
            host_end++;
        for (const char *p = start; p < host_end; p++)
            if (!is_host_char((unsigned char)*p))
                return url_error(error, "invalid character in host name");
        *rest = host_end;
    }
    size_t length = (size_t)(host_end - start);
    if (length == 0)
        return url_error(error, "missing host name");
    if (length >= sizeof url->host)
        return url_error(error, "host name too long");
    memcpy(url->host, start, length);
    url->host[length] = '\0';
    return 0;
}

static int parse_port(const char *start, const char *end, latch_url *url, const char **error)
{
    if (start == end) {
        snprintf(url->port, sizeof url->port, "443");
        return 0;
    }
    if (*start != ':')
        return url_error(error, "unexpected text after host");
    start++;
    unsigned long value = 0;
    size_t digits = (size_t)(end - start);
    if (digits == 0 || digits > 5)
        return url_error(error, "invalid port");
    for (const char *p = start; p < end; p++) {
        if (*p < '0' || *p > '9')
            return url_error(error, "invalid port");
        value = value * 10 + (unsigned long)(*p - '0');
    }
    if (value == 0 || value > 65535)
        return url_error(error, "port out of range");
    snprintf(url->port, sizeof url->port, "%lu", value);
    return 0;
}

/* Copy the path (and query), dropping any fragment; spaces and non-ASCII
 * bytes are percent-encoded, control characters refused. */
static int copy_path(const char *start, latch_url *url, const char **error)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t out = 0;
    if (*start != '/')
        url->path[out++] = '/';
    for (const unsigned char *p = (const unsigned char *)start; *p && *p != '#'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return url_error(error, "control character in URL");
        if (out + 4 >= sizeof url->path)
            return url_error(error, "URL path too long");
        if (*p == ' ' || *p >= 0x80) {
            url->path[out++] = '%';
            url->path[out++] = hex[*p >> 4];
            url->path[out++] = hex[*p & 15];
        } else {
            url->path[out++] = (char)*p;
        }
    }
    url->path[out] = '\0';
    return 0;
}

int latch_url_parse(const char *text, latch_url *url, const char **error)
{
    const char *ignored;
    if (error == NULL)
        error = &ignored;
    memset(url, 0, sizeof *url);
    if (text == NULL)
        return url_error(error, "missing URL");
    if (strncasecmp(text, "https://", 8) != 0)
        return url_error(error, strstr(text, "://") ? "only https:// URLs are supported"
                                                    : "URL must start with https://");
    const char *authority = text + 8;
    const char *authority_end = authority + strcspn(authority, "/?#");
    if (memchr(authority, '@', (size_t)(authority_end - authority)) != NULL)
        return url_error(error, "credentials in URLs are not supported");
    const char *rest = NULL;
    if (parse_host(authority, authority_end, url, &rest, error) != 0)
        return -1;
    if (parse_port(rest, authority_end, url, error) != 0)
        return -1;
    return copy_path(authority_end, url, error);
}

/* RFC 3986 5.2.4 on path (no query), in place. */
static void remove_dot_segments(char *path)
{
    char *out = path;
    const char *in = path;
    while (*in != '\0') {
        if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in += 1;
            *out++ = '/';
            break;
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            int last = in[3] == '\0';
            in += 3;
            while (out > path && *--out != '/')
                ;
            if (last) {
                *out++ = '/';
                break;
            }
        } else {
            do
                *out++ = *in++;
            while (*in != '\0' && *in != '/');
        }
    }
    *out = '\0';
    if (path[0] == '\0')
        strcpy(path, "/");
}

/* scheme ":" at the start of text (RFC 3986 3.1); its length, or 0. */
static size_t scheme_length(const char *text, size_t length)
{
    size_t i = 0;
    unsigned char first = (unsigned char)text[0] | 0x20;
    if (length == 0 || first < 'a' || first > 'z')
        return 0;
    while (i < length && (is_host_char((unsigned char)text[i]) || text[i] == '+'))
        i++;
    return i < length && text[i] == ':' ? i : 0;
}

/* The reference's path joined to base's (query kept), dots removed. */
static int merge_reference(const latch_url *base, const char *reference, char *out, size_t size)
{
    const char *query = strpbrk(reference, "?#");
    size_t path_length = query != NULL ? (size_t)(query - reference) : strlen(reference);
    size_t base_path = strcspn(base->path, "?");
    int written;
    if (path_length == 0) /* "?q" or "#f" or "": base path, new query */
        written = snprintf(out, size, "%.*s%s", (int)base_path, base->path, reference);
    else if (reference[0] == '/')
        written = snprintf(out, size, "%s", reference);
    else {
        size_t directory = base_path;
        while (directory > 0 && base->path[directory - 1] != '/')
            directory--;
        written = snprintf(out, size, "%.*s%s", (int)directory, base->path, reference);
    }
    if (written < 0 || (size_t)written >= size)
        return -1;
    size_t path_end = strcspn(out, "?#");
    char saved = out[path_end];
    out[path_end] = '\0';
    char tail[LATCH_HTTP_MAX_TARGET];
    snprintf(tail, sizeof tail, "%c%s", saved, saved != '\0' ? out + path_end + 1 : "");
    remove_dot_segments(out);
    if (strlen(out) + strlen(tail) >= size)
        return -1;
    strcat(out, tail);
    return 0;
}

int latch_url_resolve(const latch_url *base, const char *location, size_t location_length,
                      latch_url *out, const char **error)
{
    char text[LATCH_HTTP_MAX_TARGET + LATCH_HTTP_MAX_HOST + 16];
    if (location_length >= LATCH_HTTP_MAX_TARGET)
        return url_error(error, "redirect location too long");
    memcpy(text, location, location_length);
    text[location_length] = '\0';
    size_t scheme = scheme_length(text, location_length);
    if (scheme > 0) {
        if (scheme != 5 || strncasecmp(text, "https", 5) != 0) {
            *error = "redirect to another scheme than https";
            return -2;
        }
        return latch_url_parse(text, out, error);
    }
    if (text[0] == '/' && text[1] == '/') {
        char absolute[sizeof text + 8];
        snprintf(absolute, sizeof absolute, "https:%s", text);
        return latch_url_parse(absolute, out, error);
    }
    char merged[LATCH_HTTP_MAX_TARGET];
    if (merge_reference(base, text, merged, sizeof merged) != 0)
        return url_error(error, "redirect location too long");
    memset(out, 0, sizeof *out);
    memcpy(out->host, base->host, sizeof out->host);
    memcpy(out->port, base->port, sizeof out->port);
    out->host_is_ipv6 = base->host_is_ipv6;
    return copy_path(merged, out, error);
}

void latch_url_format(const latch_url *url, char *out, size_t out_size)
{
    char host[LATCH_HTTP_MAX_HOST + 16];
    latch_url_host_header(url, host, sizeof host);
    snprintf(out, out_size, "https://%s%s", host, url->path);
}

void latch_url_host_header(const latch_url *url, char *out, size_t out_size)
{
    const char *open = url->host_is_ipv6 ? "[" : "", *close = url->host_is_ipv6 ? "]" : "";
    if (strcmp(url->port, "443") == 0)
        snprintf(out, out_size, "%s%s%s", open, url->host, close);
    else
        snprintf(out, out_size, "%s%s%s:%s", open, url->host, close, url->port);
}

int latch_http_format_request(char *out, size_t out_size, const char *method,
                              const latch_url *url, const char *user_agent)
{
    char host[LATCH_HTTP_MAX_HOST + 16];
    latch_url_host_header(url, host, sizeof host);
    int length = snprintf(out, out_size,
                          "%s %s HTTP/1.1\r\n"
                          "Host: %s\r\n"
                          "User-Agent: %s\r\n"
                          "Accept: */*\r\n"
                          "Connection: close\r\n"
                          "\r\n",
                          method, url->path, host, user_agent);
    if (length < 0 || (size_t)length >= out_size)
        return -1;
    return length;
}
