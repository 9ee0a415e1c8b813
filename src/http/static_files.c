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

/* Appends text to a head being built; the head is sized for the longest
 * extra lines (bounded by the target size), so this never truncates in
 * practice, and it never writes past the end. */
struct head_builder {
    char *out;
    size_t used, size;
};

static void head_add(struct head_builder *b, const char *text, size_t length)
{
    if (length > b->size - b->used)
        length = b->size - b->used;
    memcpy(b->out + b->used, text, length);
    b->used += length;
}

static void head_add_string(struct head_builder *b, const char *text)
{
    head_add(b, text, strlen(text));
}

static void head_add_number(struct head_builder *b, uint64_t value)
{
    char digits[24];
    size_t at = sizeof digits;
    do
        digits[--at] = (char)('0' + value % 10);
    while ((value /= 10) != 0);
    head_add(b, digits + at, sizeof digits - at);
}

/* Status line, Server, Date, then (unless content_type is NULL, as for a
 * 304) Content-Type and Content-Length, then extra lines, Connection. */
static void format_head(latch_http_reply *reply, const char *content_type, uint64_t length,
                        const char *extra)
{
    char date[64];
    struct head_builder b = {reply->head, 0, sizeof reply->head};
    latch_http_format_date((int64_t)time(NULL), date, sizeof date);
    head_add_string(&b, "HTTP/1.1 ");
    head_add_number(&b, (uint64_t)(reply->status > 0 ? reply->status : 0));
    head_add_string(&b, " ");
    head_add_string(&b, latch_http_status_text(reply->status));
    head_add_string(&b, "\r\nServer: latch/0.1\r\nDate: ");
    head_add_string(&b, date);
    head_add_string(&b, "\r\n");
    if (content_type != NULL) {
        head_add_string(&b, "Content-Type: ");
        head_add_string(&b, content_type);
        head_add_string(&b, "\r\nContent-Length: ");
        head_add_number(&b, length);
        head_add_string(&b, "\r\n");
    }
    head_add_string(&b, extra);
    head_add_string(&b, reply->keep_alive ? "Connection: keep-alive\r\n\r\n"
                                          : "Connection: close\r\n\r\n");
    if (b.used == b.size)
        b.used = 0; /* cannot happen: extra is bounded by the target size */
    reply->head_length = b.used;
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

/* Open relative (components separated by '/', none of them "..": see
 * decode_path) beneath dir_fd, one component at a time with O_NOFOLLOW: a
 * symlink anywhere fails instead of being followed.  That is what the
 * realpath route checks with a readlink per component of the whole path,
 * done in one openat per component below the root.  Returns the fd or
 * -errno (-ENOENT: something on the way does not exist). */
static int open_beneath(int dir_fd, const char *relative)
{
    char name[NAME_MAX + 1];
    int at = dir_fd;
    const char *p = relative;
    for (;;) {
        while (*p == '/')
            p++;
        const char *slash = strchr(p, '/');
        size_t length = slash != NULL ? (size_t)(slash - p) : strlen(p);
        const char *rest = p + length;
        while (*rest == '/')
            rest++;
        int last = *rest == '\0';
        if (length == 0)
            snprintf(name, sizeof name, ".");
        else if (length < sizeof name)
            snprintf(name, sizeof name, "%.*s", (int)length, p);
        else {
            if (at != dir_fd)
                close(at);
            return -ENAMETOOLONG;
        }
        int flags = !last ? O_PATH | O_DIRECTORY
                    : p[length] == '/' ? O_RDONLY | O_NONBLOCK | O_DIRECTORY /* "dir/" */
                                       : O_RDONLY | O_NONBLOCK;
        int fd;
        do
            fd = openat(at, name, flags | O_NOFOLLOW | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        int error = errno;
        if (at != dir_fd)
            close(at);
        if (fd < 0)
            return -error;
        if (last)
            return fd;
        at = fd;
        p = rest;
    }
}

/* A path with no symlinks on the way, answered from root_fd.  Returns 1
 * with *error (0 or -STATUS) when it answered, 0 to take the realpath
 * route (a symlink, which may stay inside the root; a permission problem;
 * anything unexpected), which gives the same answers. */
static int serve_beneath(int root_fd, const char *target, const char *path,
                         const latch_http_request *request, latch_http_reply *reply, int *error)
{
    int head_only = strcmp(request->method, "HEAD") == 0;
    const char *name = path;
    struct stat info;
    int fd = open_beneath(root_fd, path + 1);
    if (fd == -ENOENT) {
        *error = -404;
        return 1;
    }
    if (fd < 0) /* a symlink (ELOOP, or ENOTDIR for one on the way), EACCES, ... */
        return 0;
    if (fstat(fd, &info) != 0) {
        close(fd);
        return 0;
    }
    if (S_ISDIR(info.st_mode)) {
        if (path[strlen(path) - 1] != '/') {
            close(fd);
            reply_redirect(reply, target, request->keep_alive, head_only);
            return 1;
        }
        int index = open_beneath(fd, "index.html");
        close(fd);
        if (index == -ENOENT) {
            *error = -403; /* no listing of directories */
            return 1;
        }
        if (index < 0)
            return 0;
        fd = index;
        name = "index.html";
        if (fstat(fd, &info) != 0) {
            close(fd);
            return 0;
        }
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        *error = -403;
        return 1;
    }
    reply_file(fd, &info, name, request, reply);
    return 1;
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

static int serve_path(int root_fd, const char *root, const latch_http_request *request,
                      latch_http_reply *reply)
{
    int head_only = strcmp(request->method, "HEAD") == 0;
    const char *target = origin_form(request->target);
    char path[LATCH_HTTP_MAX_TARGET], resolved[PATH_MAX];
    int error = decode_path(target, path, sizeof path);
    if (error == 0 && root_fd >= 0 && serve_beneath(root_fd, target, path, request, reply, &error))
        return error;
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
    latch_http_serve_static_at(-1, root, request, reply);
}

void latch_http_serve_static_at(int root_fd, const char *root, const latch_http_request *request,
                                latch_http_reply *reply)
{
    int head_only = strcmp(request->method, "HEAD") == 0;
    reply_reset(reply, 200, request->keep_alive);
    if (!head_only && strcmp(request->method, "GET") != 0) {
        latch_http_reply_error(reply, 405, request->keep_alive, 0);
        return;
    }
    int error = serve_path(root_fd, root, request, reply);
    if (error != 0)
        latch_http_reply_error(reply, -error, request->keep_alive, head_only);
}
