/* HTTP/1.1 pieces for the CLI: URL parsing, a request writer, an
 * incremental response parser (client), a request parser and a static-file
 * responder (server).  No I/O here: callers move the bytes.  Every parser
 * works on (pointer, length) and never reads past the length. */
#ifndef LATCH_HTTP_H
#define LATCH_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- limits --------------------------------------------------------- */

#define LATCH_HTTP_MAX_HOST 256
#define LATCH_HTTP_MAX_TARGET 4096          /* request-target / URL path */
#define LATCH_HTTP_MAX_REQUEST_HEAD 16384   /* request line + headers */
#define LATCH_HTTP_MAX_RESPONSE_HEAD 65536  /* status line + headers */
#define LATCH_HTTP_MAX_HEADERS 100

/* ---- URL ------------------------------------------------------------ */

typedef struct latch_url {
    char host[LATCH_HTTP_MAX_HOST]; /* without brackets for IPv6 literals */
    char port[6];                    /* decimal, "443" by default */
    char path[LATCH_HTTP_MAX_TARGET]; /* "/..." including any query */
    int host_is_ipv6;
} latch_url;

/* Parse https://host[:port][/path].  Returns 0, or -1 with *error set. */
int latch_url_parse(const char *text, latch_url *url, const char **error);

/* Resolve a redirect's Location value against base (RFC 3986 5.2: an
 * absolute https URL, "//host/path", "/path", "relative", "?query").
 * Returns 0; -1 with *error set if malformed; -2 if it names another scheme
 * (http://...: a downgrade latch refuses). */
int latch_url_resolve(const latch_url *base, const char *location, size_t location_length,
                      latch_url *out, const char **error);
/* "https://host[:port]/path" (IPv6 hosts in brackets, port omitted if 443). */
void latch_url_format(const latch_url *url, char *out, size_t out_size);

/* Host header value: "example.com", "example.com:8443", "[::1]:8443". */
void latch_url_host_header(const latch_url *url, char *out, size_t out_size);

/* ---- headers -------------------------------------------------------- */

typedef struct latch_http_header {
    const char *name;
    size_t name_length;
    const char *value; /* leading and trailing whitespace removed */
    size_t value_length;
} latch_http_header;

/* Case-insensitive name match. */
int latch_http_header_is(const latch_http_header *header, const char *name);
/* Does the comma-separated value contain token (case-insensitive)? */
int latch_http_value_has_token(const char *value, size_t length, const char *token);
/* Parse a decimal Content-Length value; 0 or -1 if malformed/overflowing. */
int latch_http_parse_length(const char *value, size_t length, uint64_t *out);

/* Walk header lines in [*cursor, end), where end is just past the blank
 * line.  Returns 1 with *header filled, 0 at the blank line, -1 if a line
 * is malformed (bare CR, obsolete folding, bad name, missing colon). */
int latch_http_next_header(const char **cursor, const char *end, latch_http_header *header);

/* Length of the head (through the blank line) in data, or 0 if the blank
 * line has not arrived yet.  Accepts CRLF and bare LF line ends. */
size_t latch_http_head_length(const char *data, size_t length);

/* ---- client side ---------------------------------------------------- */

/* "GET /path HTTP/1.1" with Host, User-Agent, Accept, Connection: close.
 * Returns the length written (NUL-terminated) or -1 if out is too small. */
int latch_http_format_request(char *out, size_t out_size, const char *method,
                              const latch_url *url, const char *user_agent);

/* A request head with caller-supplied header lines ("Name: value"; a user
 * line replaces the default of the same name, "Name:" with no value removes
 * it).  has_body adds Content-Length (and content_type unless a
 * Content-Type line is given).  keep_alive 0 adds "Connection: close". */
typedef struct latch_http_request_spec {
    const char *method;
    const latch_url *url;
    const char *user_agent;
    const char *const *headers;
    size_t header_count;
    int has_body;
    uint64_t body_length;
    const char *content_type;
    int keep_alive;
} latch_http_request_spec;
/* Returns the length written (NUL-terminated) or -1 if out is too small. */
int latch_http_write_request(char *out, size_t out_size, const latch_http_request_spec *spec);
/* Is line a valid "Name: value" (or "Name:") header for a request?  No CR,
 * LF or NUL, a token name, nothing between name and colon. */
int latch_http_header_line_valid(const char *line);
/* Is method a token (RFC 9110 9.1)? */
int latch_http_method_valid(const char *method);

/* Called with body bytes (already de-chunked).  Non-zero stops parsing. */
typedef int (*latch_http_body_fn)(void *arg, const char *data, size_t length);

enum latch_http_response_state {
    LATCH_HTTP_RESPONSE_HEAD = 0,
    LATCH_HTTP_RESPONSE_BODY_LENGTH,  /* Content-Length bytes remain */
    LATCH_HTTP_RESPONSE_BODY_CLOSE,   /* body runs until the peer closes */
    LATCH_HTTP_RESPONSE_CHUNK_SIZE,
    LATCH_HTTP_RESPONSE_CHUNK_DATA,
    LATCH_HTTP_RESPONSE_CHUNK_END,    /* CRLF after chunk data */
    LATCH_HTTP_RESPONSE_TRAILERS,
    LATCH_HTTP_RESPONSE_DONE,
    LATCH_HTTP_RESPONSE_ERROR
};

typedef struct latch_http_response {
    enum latch_http_response_state state;
    int head_request;              /* response to HEAD: never a body */
    latch_http_body_fn on_body;
    void *arg;
    /* Filled once the head is parsed (head_complete = 1). */
    int head_complete;
    int status;
    int version_minor;
    int keep_alive;
    int chunked;
    int has_length;
    uint64_t content_length;
    char head[LATCH_HTTP_MAX_RESPONSE_HEAD];
    size_t head_length;            /* bytes of head[] in use */
    /* Internal. */
    uint64_t remaining;
    char line[256];
    size_t line_length;
    size_t trailer_bytes;
    const char *error;
} latch_http_response;

void latch_http_response_init(latch_http_response *response, int head_request,
                              latch_http_body_fn on_body, void *arg);
/* The value of the first header called name in a parsed head (trimmed), or
 * NULL; *length gets its length.  Not NUL-terminated. */
const char *latch_http_response_header(const latch_http_response *response, const char *name,
                                       size_t *length);
/* Feed bytes; returns bytes consumed (stops at the end of the response)
 * or -1 on error (response->error says why). */
ssize_t latch_http_response_feed(latch_http_response *response, const char *data,
                                 size_t length);
/* The peer closed: 0 if the response is complete, -1 if truncated. */
int latch_http_response_finish(latch_http_response *response);

/* ---- server side ---------------------------------------------------- */

#define LATCH_HTTP_MAX_CONDITION 512      /* If-None-Match, Range, ... kept */

typedef struct latch_http_request {
    char method[16];
    char target[LATCH_HTTP_MAX_TARGET];
    int version_minor;       /* HTTP/1.0 or HTTP/1.1 */
    int keep_alive;          /* after Connection: and the version default */
    int has_host;
    uint64_t content_length; /* request body to skip */
    int expect_continue;     /* Expect: 100-continue */
    /* Conditional and range fields, "" when absent.  A value too long to
     * keep is dropped: the condition is then not applied (a full 200). */
    char if_none_match[LATCH_HTTP_MAX_CONDITION];
    char if_modified_since[64];
    char range[128];
    char if_range[128];
} latch_http_request;

/* Parse a request head from data.  Returns its length (> 0), 0 if more
 * bytes are needed, or -STATUS for the error reply to send (-400, -414,
 * -431, -501, -505).  The head may be LATCH_HTTP_MAX_REQUEST_HEAD bytes. */
int latch_http_parse_request(const char *data, size_t length, latch_http_request *request);
/* The same with a head limit of max_head bytes (<= LATCH_HTTP_MAX_REQUEST_HEAD
 * is not required; any positive value). */
int latch_http_parse_request_limited(const char *data, size_t length, size_t max_head,
                                     latch_http_request *request);

typedef struct latch_http_reply {
    int status;
    char head[LATCH_HTTP_MAX_TARGET + 1024];
    size_t head_length;
    char body[512];           /* small generated body (errors, redirects) */
    size_t body_length;
    int file_fd;              /* -1, or a file to send after head */
    uint64_t file_offset;     /* first file byte to send (a Range) */
    uint64_t file_size;       /* file bytes to send from file_offset */
    uint64_t content_length;  /* the body length the head announces */
    int keep_alive;
} latch_http_reply;

/* Answer request from the directory root (already a realpath).  Never
 * fails: problems become 400/403/404/405/416 replies.  GET and HEAD;
 * ETag and Last-Modified with 304 for If-None-Match / If-Modified-Since;
 * a single byte range (206, or 416); no directory listings. */
void latch_http_serve_static(const char *root, const latch_http_request *request,
                             latch_http_reply *reply);
/* The same with root_fd, a descriptor of root (O_PATH is enough) or -1: a
 * path without symlinks is opened beneath it, one openat per component
 * below the root, instead of realpath's readlink per component of the whole
 * path; other paths take the realpath route, so the answers are the same. */
void latch_http_serve_static_at(int root_fd, const char *root, const latch_http_request *request,
                                latch_http_reply *reply);
/* An error reply (e.g. for a request that did not parse). */
void latch_http_reply_error(latch_http_reply *reply, int status, int keep_alive,
                            int head_only);
/* Turn a prepared reply into one that closes the connection
 * ("Connection: close" in its head). */
void latch_http_reply_set_close(latch_http_reply *reply);
/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of t into out (>= 30 bytes). */
void latch_http_format_date(int64_t t, char *out, size_t out_size);
/* Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime form); -1 if invalid. */
int latch_http_parse_date(const char *text, int64_t *t);
void latch_http_reply_release(latch_http_reply *reply);

const char *latch_http_status_text(int status);
const char *latch_http_content_type(const char *path);

#endif
