/* Static files for the server: map a request target under a root
 * directory, refusing anything that resolves outside it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "http/http.h"
#include "http/conditional.h"

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
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
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
        {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"}, {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"}, {"xml", "application/xml"},
        {"svg", "image/svg+xml"}, {"png", "image/png"}, {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"webp", "image/webp"},
        {"avif", "image/avif"}, {"ico", "image/x-icon"}, {"pdf", "application/pdf"},
        {"wasm", "application/wasm"}, {"pem", "application/x-pem-file"},
        {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"mp4", "video/mp4"},
        {"webm", "video/webm"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"},
        {"zip", "application/zip"}, {"gz", "application/gzip"}, {"tar", "application/x-tar"},
    };
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    if (dot != NULL && (slash == NULL || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].extension) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Status line, Server, Date, then (unless content_type is NULL, as for a
 * 304) Content-Type and Content-Length, then extra lines, Connection. */
static void format_head(latch_http_reply *reply, const char *content_type, uint64_t length,
                        const char *extra)
{
    char date[64], entity[160] = "";
    latch_http_format_date((int64_t)time(NULL), date, sizeof date);
    if (content_type != NULL)
        snprintf(entity, sizeof entity, "Content-Type: %s\r\nContent-Length: %llu\r\n",
                 content_type, (unsigned long long)length);
    int written = snprintf(reply->head, sizeof reply->head,
                           "HTTP/1.1 %d %s\r\nServer: latch/0.1\r\nDate: %s\r\n%s%s"
                           "Connection: %s\r\n\r\n",
                           reply->status, latch_http_status_text(reply->status), date, entity,
                           extra, reply->keep_alive ? "keep-alive" : "close");
    if (written < 0 || (size_t)written >= sizeof reply->head)
        written = 0; /* cannot happen: extra is bounded by the target size */
    reply->head_length = (size_t)written;
    reply->content_length = content_type != NULL ? length : 0;
}

static void reply_reset(latch_http_reply *reply, int status, int keep_alive)
{
    reply->status = status;
    reply->head_length = 0;
    reply->body_length = 0;
    reply->file_fd = -1;
    reply->file_offset = 0;
    reply->file_size = 0;
    reply->content_length = 0;
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

void latch_http_reply_set_close(latch_http_reply *reply)
{
    static const char keep[] = "Connection: keep-alive\r\n\r\n";
    static const char close_line[] = "Connection: close\r\n\r\n";
    size_t keep_length = sizeof keep - 1, close_length = sizeof close_line - 1;
    reply->keep_alive = 0;
    if (reply->head_length < keep_length ||
        memcmp(reply->head + reply->head_length - keep_length, keep, keep_length) != 0)
        return;
    memcpy(reply->head + reply->head_length - keep_length, close_line, close_length);
    reply->head_length -= keep_length - close_length;
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

static void reply_redirect(latch_http_reply *reply, const char *target, int keep_alive,
                           int head_only)
{
    char location[LATCH_HTTP_MAX_TARGET + 32];
    const char *query = strchr(target, '?');
    size_t path_length = query ? (size_t)(query - target) : strlen(target);
    snprintf(location, sizeof location, "Location: %.*s/%s\r\n", (int)path_length, target,
             query ? query : "");
    reply_with_body(reply, 301, keep_alive, head_only, location);
}

/* The validator lines every file reply carries. */
static void validator_lines(const struct http_validators *validators, char *out, size_t size)
{
    snprintf(out, size, "ETag: %s\r\nLast-Modified: %s\r\nAccept-Ranges: bytes\r\n",
             validators->etag, validators->last_modified);
}

/* 200, 206, 304 or 416 for an open regular file; takes fd. */
static void reply_file(int fd, const struct stat *info, const char *path,
                       const latch_http_request *request, latch_http_reply *reply)
{
    int head_only = strcmp(request->method, "HEAD") == 0;
    uint64_t size = (uint64_t)info->st_size;
    struct http_validators validators;
    char extra[512];
    http_file_validators(info, &validators);
    validator_lines(&validators, extra, sizeof extra);
    struct http_range range = {0, size};
    int selected = http_select_range(request, &validators, size, &range);
    if (http_not_modified(request, &validators)) {
        reply->status = 304;
        format_head(reply, NULL, 0, extra);
        close(fd);
        return;
    }
    if (selected == HTTP_RANGE_UNSATISFIABLE) {
        close(fd);
        char unsatisfied[96];
        snprintf(unsatisfied, sizeof unsatisfied, "Content-Range: bytes */%llu\r\n",
                 (unsigned long long)size);
        reply_with_body(reply, 416, reply->keep_alive, head_only, unsatisfied);
        return;
    }
    reply->status = selected == HTTP_RANGE_PARTIAL ? 206 : 200;
    if (selected == HTTP_RANGE_PARTIAL) {
        size_t used = strlen(extra);
        snprintf(extra + used, sizeof extra - used, "Content-Range: bytes %llu-%llu/%llu\r\n",
                 (unsigned long long)range.first,
                 (unsigned long long)(range.first + range.length - 1), (unsigned long long)size);
    }
    format_head(reply, latch_http_content_type(path), range.length, extra);
    reply->file_offset = range.first;
    reply->file_size = head_only ? 0 : range.length;
    if (reply->file_size == 0)
        close(fd);
    else
        reply->file_fd = fd;
}

/* Open a regular file and answer from it; 0, or -403 / -404. */
static int open_file(const char *resolved, const latch_http_request *request,
                     latch_http_reply *reply)
{
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? -404 : -403;
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return -403;
    }
    reply_file(fd, &info, resolved, request, reply);
    return 0;
}

/* "https://host/path" (absolute-form, RFC 9112 3.2.2): the path part. */
static const char *origin_form(const char *target)
{
    const char *scheme_end = strstr(target, "://");
    if (target[0] == '/' || scheme_end == NULL)
        return target;
    const char *path = strchr(scheme_end + 3, '/');
    return path != NULL ? path : "/";
}

static int serve_path(const char *root, const latch_http_request *request,
                      latch_http_reply *reply)
{
    int head_only = strcmp(request->method, "HEAD") == 0;
    const char *target = origin_form(request->target);
    char path[LATCH_HTTP_MAX_TARGET], resolved[PATH_MAX];
    int error = decode_path(target, path, sizeof path);
    if (error == 0)
        error = resolve_inside(root, path, resolved);
    if (error != 0)
        return error;
    struct stat info;
    if (stat(resolved, &info) != 0)
        return -404;
    if (S_ISDIR(info.st_mode)) {
        if (path[strlen(path) - 1] != '/') {
            reply_redirect(reply, target, request->keep_alive, head_only);
            return 0;
        }
        char index[PATH_MAX + 16];
        snprintf(index, sizeof index, "%s/index.html", resolved);
        error = resolve_inside(root, index + strlen(root), resolved);
        if (error != 0)
            return error == -404 ? -403 : error; /* no listing of directories */
    }
    return open_file(resolved, request, reply);
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
    int error = serve_path(root, request, reply);
    if (error != 0)
        latch_http_reply_error(reply, -error, request->keep_alive, head_only);
}
