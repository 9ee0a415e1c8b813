/* Static files for the server: map a request target under a root
 * directory, refusing anything that resolves outside it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *latch_http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

const char *latch_http_content_type(const char *path)
{
    static const struct {
        const char *extension, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"}, {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"xml", "application/xml"}, {"svg", "image/svg+xml"}, {"png", "image/png"},
        {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
        {"webp", "image/webp"}, {"ico", "image/x-icon"}, {"pdf", "application/pdf"},
        {"wasm", "application/wasm"}, {"pem", "application/x-pem-file"},
    };
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    if (dot != NULL && (slash == NULL || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].extension) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static void format_head(latch_http_reply *reply, const char *content_type, uint64_t length,
                        const char *extra)
{
    char date[64];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    int written = snprintf(reply->head, sizeof reply->head,
                           "HTTP/1.1 %d %s\r\nServer: latch/0.1\r\nDate: %s\r\n"
                           "Content-Type: %s\r\nContent-Length: %llu\r\n%s"
                           "Connection: %s\r\n\r\n",
                           reply->status, latch_http_status_text(reply->status), date,
                           content_type, (unsigned long long)length, extra,
                           reply->keep_alive ? "keep-alive" : "close");
    if (written < 0 || (size_t)written >= sizeof reply->head)
        written = 0; /* cannot happen: extra is bounded by the target size */
    reply->head_length = (size_t)written;
}

static void reply_reset(latch_http_reply *reply, int status, int keep_alive)
{
    reply->status = status;
    reply->head_length = 0;
    reply->body_length = 0;
    reply->file_fd = -1;
    reply->file_size = 0;
    reply->keep_alive = keep_alive;
}

static void reply_with_body(latch_http_reply *reply, int status, int keep_alive,
                            int head_only, const char *extra)
{
    reply_reset(reply, status, keep_alive);
    int length = snprintf(reply->body, sizeof reply->body, "%d %s\n", status,
                          latch_http_status_text(status));
    size_t body_length = length > 0 ? (size_t)length : 0;
    format_head(reply, "text/plain; charset=utf-8", body_length, extra);
    reply->body_length = head_only ? 0 : body_length;
}

void latch_http_reply_error(latch_http_reply *reply, int status, int keep_alive, int head_only)
{
    reply_with_body(reply, status, keep_alive, head_only,
                    status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

void latch_http_reply_release(latch_http_reply *reply)
{
    if (reply->file_fd >= 0)
        close(reply->file_fd);
    reply->file_fd = -1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode the path part of target (query dropped) into out.
 * Returns 0, or -400 for bad escapes/NUL, -403 for a ".." segment. */
static int decode_path(const char *target, char *out, size_t out_size)
{
    if (target[0] != '/')
        return -400;
    size_t length = 0;
    for (const char *p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int high = hex_value(p[1]), low = high < 0 ? -1 : hex_value(p[2]);
            if (low < 0)
                return -400;
            c = high << 4 | low;
            p += 2;
        }
        if (c == 0 || length + 1 >= out_size)
            return -400;
        out[length++] = (char)c;
    }
    out[length] = '\0';
    /* Refuse ".." as a whole segment; realpath's prefix check backs this up. */
    for (const char *segment = out; segment != NULL;) {
        segment++;
        const char *next = strchr(segment, '/');
        size_t segment_length = next ? (size_t)(next - segment) : strlen(segment);
        if (segment_length == 2 && segment[0] == '.' && segment[1] == '.')
            return -403;
        segment = next;
    }
    return 0;
}

static int inside_root(const char *root, const char *resolved)
{
    size_t root_length = strlen(root);
    if (strcmp(root, "/") == 0)
        return 1;
    return strncmp(resolved, root, root_length) == 0 &&
           (resolved[root_length] == '\0' || resolved[root_length] == '/');
}

/* Resolve root + path with realpath; 0, or -404 / -403. */
static int resolve_inside(const char *root, const char *path, char *resolved)
{
    char joined[PATH_MAX + LATCH_HTTP_MAX_TARGET];
    int length = snprintf(joined, sizeof joined, "%s%s", root, path);
    if (length < 0 || (size_t)length >= sizeof joined || (size_t)length >= PATH_MAX)
        return -404;
    if (realpath(joined, resolved) == NULL)
        return errno == EACCES ? -403 : -404;
    return inside_root(root, resolved) ? 0 : -403;
}

static void reply_redirect(latch_http_reply *reply, const latch_http_request *request,
                           int head_only)
{
    char location[LATCH_HTTP_MAX_TARGET + 32];
    const char *query = strchr(request->target, '?');
    size_t path_length = query ? (size_t)(query - request->target) : strlen(request->target);
    snprintf(location, sizeof location, "Location: %.*s/%s\r\n", (int)path_length,
             request->target, query ? query : "");
    reply_with_body(reply, 301, request->keep_alive, head_only, location);
}

/* Open a regular file; 0 with reply filled, or -403 / -404. */
static int open_file(const char *resolved, int head_only, latch_http_reply *reply)
{
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? -404 : -403;
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return -403;
    }
    reply->status = 200;
    format_head(reply, latch_http_content_type(resolved), (uint64_t)info.st_size, "");
    reply->file_size = (uint64_t)info.st_size;
    if (head_only || info.st_size == 0)
        close(fd);
    else
        reply->file_fd = fd;
    return 0;
}

static int serve_path(const char *root, const latch_http_request *request, int head_only,
                      latch_http_reply *reply)
{
    char path[LATCH_HTTP_MAX_TARGET], resolved[PATH_MAX];
    int error = decode_path(request->target, path, sizeof path);
    if (error == 0)
        error = resolve_inside(root, path, resolved);
    if (error != 0)
        return error;
    struct stat info;
    if (stat(resolved, &info) != 0)
        return -404;
    if (S_ISDIR(info.st_mode)) {
        if (path[strlen(path) - 1] != '/') {
            reply_redirect(reply, request, head_only);
            return 0;
        }
        char index[PATH_MAX + 16];
        snprintf(index, sizeof index, "%s/index.html", resolved);
        error = resolve_inside(root, index + strlen(root), resolved);
        if (error != 0)
            return error == -404 ? -403 : error; /* no listing of directories */
    }
    return open_file(resolved, head_only, reply);
}

void latch_http_serve_static(const char *root, const latch_http_request *request,
                             latch_http_reply *reply)
{
    int head_only = strcmp(request->method, "HEAD") == 0;
    reply_reset(reply, 200, request->keep_alive);
    if (!head_only && strcmp(request->method, "GET") != 0) {
        latch_http_reply_error(reply, 405, request->keep_alive, 0);
        return;
    }
    int error = serve_path(root, request, head_only, reply);
    if (error != 0)
        latch_http_reply_error(reply, -error, request->keep_alive, head_only);
}
