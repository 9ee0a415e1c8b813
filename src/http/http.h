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
    const char *error;
} latch_http_response;

void latch_http_response_init(latch_http_response *response, int head_request,
                              latch_http_body_fn on_body, void *arg);
/* Feed bytes; returns bytes consumed (stops at the end of the response)
 * or -1 on error (response->error says why). */
ssize_t latch_http_response_feed(latch_http_response *response, const char *data,
                                 size_t length);
/* The peer closed: 0 if the response is complete, -1 if truncated. */
int latch_http_response_finish(latch_http_response *response);

/* ---- server side ---------------------------------------------------- */

typedef struct latch_http_request {
    char method[16];
    char target[LATCH_HTTP_MAX_TARGET];
    int version_minor;       /* HTTP/1.0 or HTTP/1.1 */
    int keep_alive;          /* after Connection: and the version default */
    int has_host;
    uint64_t content_length; /* request body to skip */
} latch_http_request;

/* Parse a request head from data.  Returns its length (> 0), 0 if more
 * bytes are needed, or -STATUS for the error reply to send (-400, -414,
 * -431, -501, -505). */
int latch_http_parse_request(const char *data, size_t length, latch_http_request *request);

typedef struct latch_http_reply {
    int status;
    char head[LATCH_HTTP_MAX_TARGET + 1024];
    size_t head_length;
    char body[512];           /* small generated body (errors, redirects) */
    size_t body_length;
    int file_fd;              /* -1, or a file to send after head */
    uint64_t file_size;
    int keep_alive;
} latch_http_reply;

/* Answer request from the directory root (already a realpath).  Never
 * fails: problems become 400/403/404/405 replies. */
void latch_http_serve_static(const char *root, const latch_http_request *request,
                             latch_http_reply *reply);
/* An error reply (e.g. for a request that did not parse). */
void latch_http_reply_error(latch_http_reply *reply, int status, int keep_alive,
                            int head_only);
void latch_http_reply_release(latch_http_reply *reply);

const char *latch_http_status_text(int status);
const char *latch_http_content_type(const char *path);

#endif
