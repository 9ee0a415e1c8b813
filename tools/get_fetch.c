/* One HTTP/1.1 request over one new TLS connection (latch trace, latch get
 * --reconnect, latch demo): open a link, exchange, close.  Each step is
 * noted on the connection's tracers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get_link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fetch_sink {
    struct get_sink sink;
    struct get_fetch *fetch;
};

static int fetch_head(struct get_sink *sink, const latch_http_response *response)
{
    (void)sink;
    (void)response;
    return 0;
}

static int fetch_body(struct get_sink *sink, const char *data, size_t length)
{
    struct fetch_sink *self = (struct fetch_sink *)sink;
    self->fetch->body_bytes += length;
    if (!self->fetch->write_body || fwrite(data, 1, length, stdout) == length)
        return 0;
    fprintf(stderr, "latch: writing the body failed: %s\n", strerror(errno));
    sink->status = CLI_EXIT_WRITE;
    return -1;
}

/* What the handshake negotiated, kept after the connection is gone. */
static void note_parameters(struct get_fetch *fetch, const struct get_link *link)
{
    const char *subject = latch_conn_peer_subject(link->conn);
    fetch->resumed = latch_conn_resumed(link->conn);
    snprintf(fetch->version, sizeof fetch->version, "%s",
             cli_version_name(latch_conn_version(link->conn)));
    snprintf(fetch->suite, sizeof fetch->suite, "%s", latch_conn_cipher_suite_name(link->conn));
    snprintf(fetch->group, sizeof fetch->group, "%s", latch_conn_group_name(link->conn));
    cli_printable(subject != NULL ? subject : "", fetch->peer_subject, sizeof fetch->peer_subject);
    fetch->connect_us = link->connected_us - link->start_us;
    fetch->handshake_us = link->handshake_us - link->connected_us;
}

static int exchange(struct get_fetch *fetch, struct get_link *link)
{
    struct fetch_sink sink = {{fetch_head, fetch_body, 0}, fetch};
    struct get_request request = {.method = fetch->method, .url = fetch->url, .keep_alive = 0,
                                  .verbose = fetch->verbose, .sink = &sink.sink};
    latch_http_response *response = malloc(sizeof *response);
    if (response == NULL) {
        fprintf(stderr, "latch: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    int status = get_link_exchange(link, &request, response);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "latch: writing the body failed: %s\n", strerror(errno));
        status = CLI_EXIT_WRITE;
    }
    fetch->http_status = response->status;
    if (status == 0 && response->status >= 400 && fetch->fail_on_error) {
        fprintf(stderr, "latch: server returned HTTP %d\n", response->status);
        status = CLI_EXIT_HTTP_ERROR;
    }
    free(response);
    return status;
}

int get_fetch_run(struct get_fetch *fetch)
{
    struct get_link link;
    struct get_link_target target = {.config = fetch->config, .url = fetch->url,
                                     .connect_host = fetch->connect_host,
                                     .connect_port = fetch->connect_port, .offer = fetch->offer,
                                     .trace = fetch->trace, .verbose = fetch->verbose};
    fetch->session = NULL;
    fetch->resumed = 0;
    fetch->body_bytes = 0;
    int status = get_link_open(&link, &target);
    if (status == 0) {
        note_parameters(fetch, &link);
        status = exchange(fetch, &link);
        /* TLS 1.3 tickets arrive after the handshake: ask once the response is in. */
        fetch->session = get_link_session(&link);
    }
    get_link_close(&link);
    fetch->total_us = latch_trace_now_us() - link.start_us;
    return status;
}
