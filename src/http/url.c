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
