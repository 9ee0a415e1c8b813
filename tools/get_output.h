/* latch get: where one URL's response goes (stdout, -o FILE, -O), with the
 * head for -i/-I, and a progress bar on a terminal (get_output.c). */
#ifndef LATCH_TOOLS_GET_OUTPUT_H
#define LATCH_TOOLS_GET_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "get_link.h"

struct get_output {
    struct get_sink sink;        /* first: the exchange calls through it */
    const struct get_options *options;
    const char *path;            /* -o FILE; NULL: stdout (or -O) */
    int remote_name;             /* -O: the file name from the URL */
    const latch_url *url;        /* the URL asked for (for -O) */
    FILE *file;                  /* opened at the first final response */
    int discard;                 /* this response's body is not kept */
    uint64_t written, expected;  /* body bytes; Content-Length or 0 */
    int progress;                /* drawing a progress bar */
    uint64_t started_us, drawn_us;
};

/* Prepare the output of one URL: path (or NULL), remote_name for -O. */
void get_output_init(struct get_output *output, const struct get_options *options,
                     const char *path, int remote_name, const latch_url *url);
/* Is this response a redirect that -L follows? */
int get_output_follows(const struct get_options *options, const latch_http_response *response);
/* Flush and close.  Returns 0 or CLI_EXIT_WRITE (reported). */
int get_output_finish(struct get_output *output);

#endif
