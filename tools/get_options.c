/* latch get: the options that make it curl-like (-o, -O, -I, -i, -X, -H,
 * -d, --data-binary, -L, --max-redirs, --fail, -s, --connect-to,
 * --max-time, --connect-timeout), and the tracers of a connection. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DATA = 64 * 1024 * 1024 };

/* Read all of path ("-": stdin); returns a malloc'd buffer or NULL. */
static char *read_all(const char *path, size_t *length)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rbe");
    if (in == NULL)
        return NULL;
    size_t capacity = 4096, used = 0;
    char *data = malloc(capacity);
    while (data != NULL) {
        if (used == capacity) {
            char *bigger = capacity < MAX_DATA ? realloc(data, capacity * 2) : NULL;
            if (bigger == NULL) {
                free(data);
                data = NULL;
                errno = capacity < MAX_DATA ? ENOMEM : EFBIG;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
        size_t got = fread(data + used, 1, capacity - used, in);
        used += got;
        if (got == 0)
            break;
    }
    if (data != NULL && ferror(in)) {
        free(data);
        data = NULL;
    }
    if (in != stdin)
        fclose(in);
    *length = used;
    return data;
}

/* -d @FILE drops CR and LF as curl does; --data-binary keeps every byte. */
static void strip_newlines(char *data, size_t *length)
{
    size_t kept = 0;
    for (size_t i = 0; i < *length; i++)
        if (data[i] != '\r' && data[i] != '\n')
            data[kept++] = data[i];
    *length = kept;
}

/* Append one -d value ("&" between values); @FILE reads the file. */
static int add_data(struct get_options *options, const char *value, int binary)
{
    size_t length = strlen(value);
    char *piece = NULL;
    if (value[0] == '@') {
        piece = read_all(value + 1, &length);
        if (piece == NULL) {
            fprintf(stderr, "latch get: cannot read %s: %s\n", value + 1, strerror(errno));
            return CLI_EXIT_READ;
        }
        if (!binary)
            strip_newlines(piece, &length);
        value = piece;
    }
    size_t separator = options->data != NULL ? 1 : 0;
    char *joined = realloc(options->data, options->data_length + separator + length + 1);
    if (joined == NULL) {
        free(piece);
        fprintf(stderr, "latch get: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    if (separator)
        joined[options->data_length++] = '&';
    memcpy(joined + options->data_length, value, length);
    options->data_length += length;
    joined[options->data_length] = '\0';
    options->data = joined;
    free(piece);
    return -1;
}

static int add_output(struct get_options *options, const char *path, int remote_name)
{
    if (options->output_count >= GET_MAX_URLS) {
        fprintf(stderr, "latch get: at most %d -o/-O options\n", GET_MAX_URLS);
        return CLI_EXIT_USAGE;
    }
    options->outputs[options->output_count].path = path;
    options->outputs[options->output_count].remote_name = remote_name;
    options->output_count++;
    return -1;
}

static int add_header(struct get_options *options, const char *line)
{
    if (!latch_http_header_line_valid(line)) {
        fprintf(stderr, "latch get: -H '%s': expected 'Name: value' (a token name, no CR/LF)\n",
                line);
        return CLI_EXIT_USAGE;
    }
    if (options->header_count >= GET_MAX_HEADERS) {
        fprintf(stderr, "latch get: at most %d -H options\n", GET_MAX_HEADERS);
        return CLI_EXIT_USAGE;
    }
    options->headers[options->header_count++] = line;
    return -1;
}

static int add_connect_to(struct get_options *options, const char *rule)
{
    if (!get_connect_to_valid(rule)) {
        fprintf(stderr, "latch get: --connect-to %s: expected HOST:PORT:ADDR:PORT "
                        "(IPv6 in brackets; empty fields allowed)\n", rule);
        return CLI_EXIT_USAGE;
    }
    if (options->connect_to_count >= GET_MAX_CONNECT_TO) {
        fprintf(stderr, "latch get: at most %d --connect-to options\n", GET_MAX_CONNECT_TO);
        return CLI_EXIT_USAGE;
    }
    options->connect_to[options->connect_to_count++] = rule;
    return -1;
}

static int set_method(struct get_options *options, const char *method)
{
    if (!latch_http_method_valid(method)) {
        fprintf(stderr, "latch get: -X '%s': not an HTTP method name\n", method);
        return CLI_EXIT_USAGE;
    }
    options->method = method;
    return -1;
}

int get_http_option(struct get_options *options, int option, const char *value)
{
    long long count = 0;
    int status;
    switch (option) {
    case 'o': return add_output(options, value, 0);
    case 'O': return add_output(options, NULL, 1);
    case 'I': options->head_only = 1; return -1;
    case 'i': options->include_head = 1; return -1;
    case 'X': return set_method(options, value);
    case 'H': return add_header(options, value);
    case 'd': return add_data(options, value, 0);
    case CLI_OPTION_DATA_BINARY: return add_data(options, value, 1);
    case 'L': options->follow = 1; return -1;
    case 'f':
    case CLI_OPTION_FAIL: options->fail = 1; return -1;
    case 's': options->silent = 1; return -1;
    case CLI_OPTION_CONNECT_TO: return add_connect_to(options, value);
    case 'm':
    case CLI_OPTION_MAX_TIME:
        return cli_parse_seconds("get", "--max-time", value, 0.001, 86400, &options->max_time_ms);
    case CLI_OPTION_CONNECT_TIMEOUT:
        return cli_parse_seconds("get", "--connect-timeout", value, 0.001, 3600,
                                 &options->connect_timeout_ms);
    case CLI_OPTION_MAX_REDIRS:
        status = cli_parse_count("get", "--max-redirs", value, 0, 1000, &count);
        options->max_redirects = (long)count;
        return status;
    default: return 0;
    }
}

int get_trace_start(const struct get_options *options, struct get_trace *trace,
                    const char *label)
{
    memset(trace, 0, sizeof *trace);
    if (options->trace && get_trace_add(trace, options->trace_format, stderr, label) != 0) {
        fprintf(stderr, "latch: cannot create a tracer\n");
        return CLI_EXIT_FAILURE;
    }
    if (options->rtt_report) { /* the report needs a tracer: a silent one without --trace */
        trace->rtt_report = stderr;
        if (!options->trace &&
            ((trace->null_out = fopen("/dev/null", "w")) == NULL ||
             get_trace_add(trace, LATCH_TRACE_JSON, trace->null_out, label) != 0)) {
            get_trace_finish(trace);
            fprintf(stderr, "latch: cannot create a tracer\n");
            return CLI_EXIT_FAILURE;
        }
    }
    return 0;
}
