/* latch get: response bodies to stdout or files, heads for -i/-I, and the
 * progress bar (stderr, only on a terminal, only for large bodies). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get_output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum {
    PROGRESS_THRESHOLD = 1048576, /* bodies from 1 MiB get a bar */
    PROGRESS_INTERVAL_US = 200000
};

int get_output_follows(const struct get_options *options, const latch_http_response *response)
{
    size_t length = 0;
    int status = response->status;
    return options->follow && (status == 301 || status == 302 || status == 303 ||
                               status == 307 || status == 308) &&
           latch_http_response_header(response, "Location", &length) != NULL;
}

/* -O: the last path segment of the URL, refused if empty or a dot name. */
static int remote_file_name(const latch_url *url, char *out, size_t size)
{
    size_t end = strcspn(url->path, "?");
    size_t start = end;
    while (start > 0 && url->path[start - 1] != '/')
        start--;
    if (end == start || end - start >= size) {
        fprintf(stderr, "latch: -O: the URL %s has no file name (use -o FILE)\n", url->path);
        return CLI_EXIT_WRITE;
    }
    snprintf(out, size, "%.*s", (int)(end - start), url->path + start);
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        fprintf(stderr, "latch: -O: refusing the file name '%s'\n", out);
        return CLI_EXIT_WRITE;
    }
    return 0;
}

static int open_output(struct get_output *output)
{
    char name[256];
    const char *path = output->path;
    if (output->file != NULL)
        return 0;
    if (path == NULL && output->remote_name) {
        int status = remote_file_name(output->url, name, sizeof name);
        if (status != 0)
            return status;
        path = name;
    }
    if (path == NULL || strcmp(path, "-") == 0) {
        output->file = stdout;
        return 0;
    }
    output->file = fopen(path, "wbe");
    if (output->file == NULL) {
        fprintf(stderr, "latch: cannot write %s: %s\n", path, strerror(errno));
        return CLI_EXIT_WRITE;
    }
    return 0;
}

static int write_bytes(struct get_output *output, const char *data, size_t length)
{
    if (length == 0 || fwrite(data, 1, length, output->file) == length)
        return 0;
    fprintf(stderr, "latch: writing the output failed: %s\n", strerror(errno));
    output->sink.status = CLI_EXIT_WRITE;
    return -1;
}

/* A bar on stderr when it is a terminal that the body does not go to. */
static int wants_progress(const struct get_output *output, const latch_http_response *response)
{
    const struct get_options *options = output->options;
    if (options->silent || options->verbose || !isatty(STDERR_FILENO))
        return 0;
    if (output->file == stdout && isatty(STDOUT_FILENO))
        return 0;
    return !response->has_length || response->content_length >= PROGRESS_THRESHOLD;
}

static int on_head(struct get_sink *sink, const latch_http_response *response)
{
    struct get_output *output = (struct get_output *)sink;
    const struct get_options *options = output->options;
    int follow = get_output_follows(options, response);
    int failed = options->fail && response->status >= 400;
    output->discard = follow || failed || options->head_only;
    output->written = 0;
    if (failed || (follow && !options->include_head && !options->head_only))
        return 0;
    int status = open_output(output);
    if (status != 0) {
        sink->status = status;
        return -1;
    }
    if ((options->include_head || options->head_only) &&
        write_bytes(output, response->head, response->head_length) != 0)
        return -1;
    output->expected = response->has_length ? response->content_length : 0;
    output->progress = !output->discard && wants_progress(output, response);
    output->started_us = output->drawn_us = latch_trace_now_us();
    return 0;
}

static void draw_progress(struct get_output *output, int final)
{
    uint64_t now = latch_trace_now_us();
    if (!final && now - output->drawn_us < PROGRESS_INTERVAL_US)
        return;
    output->drawn_us = now;
    double seconds = (double)(now - output->started_us) / 1e6;
    double mib = (double)output->written / 1048576.0;
    double rate = seconds > 0 ? mib / seconds : 0;
    if (output->expected > 0)
        fprintf(stderr, "\r%3d%%  %8.1f of %.1f MiB  %7.1f MiB/s ",
                (int)(output->written * 100 / output->expected), mib,
                (double)output->expected / 1048576.0, rate);
    else
        fprintf(stderr, "\r%8.1f MiB  %7.1f MiB/s ", mib, rate);
    if (final)
        fputc('\n', stderr);
}

static int on_body(struct get_sink *sink, const char *data, size_t length)
{
    struct get_output *output = (struct get_output *)sink;
    if (output->discard)
        return 0;
    if (write_bytes(output, data, length) != 0)
        return -1;
    output->written += length;
    if (output->progress && (output->expected > 0 || output->written >= PROGRESS_THRESHOLD))
        draw_progress(output, 0);
    return 0;
}

void get_output_init(struct get_output *output, const struct get_options *options,
                     const char *path, int remote_name, const latch_url *url)
{
    memset(output, 0, sizeof *output);
    output->sink.on_head = on_head;
    output->sink.on_body = on_body;
    output->options = options;
    output->path = path;
    output->remote_name = remote_name;
    output->url = url;
}

int get_output_finish(struct get_output *output)
{
    int status = 0;
    if (output->progress && output->written > 0 &&
        (output->expected > 0 || output->written >= PROGRESS_THRESHOLD))
        draw_progress(output, 1);
    if (output->file == NULL)
        return 0;
    int failed = output->file == stdout ? fflush(stdout) != 0 : fclose(output->file) != 0;
    if (failed) {
        fprintf(stderr, "latch: writing the output failed: %s\n", strerror(errno));
        status = CLI_EXIT_WRITE;
    }
    output->file = NULL;
    return status;
}
