/* latch trace URL: one connection, a HEAD request, then the message table
 * and the latency timeline on stdout. */
#include "get.h"

static int trace_url(const struct get_options *options, const latch_url *url,
                     latch_config *config)
{
    char label[LATCH_HTTP_MAX_TARGET];
    snprintf(label, sizeof label, "%s:%s", url->host, url->port);
    struct get_trace trace = {.rtt_report = options->rtt_report ? stdout : NULL};
    if (get_trace_add(&trace, LATCH_TRACE_TABLE, stdout, label) != 0 ||
        get_trace_add(&trace, LATCH_TRACE_TIMELINE, stdout, label) != 0) {
        get_trace_finish(&trace);
        fprintf(stderr, "latch: cannot create a tracer\n");
        return CLI_EXIT_FAILURE;
    }
    latch_session *offer = NULL;
    if (options->session_file != NULL)
        offer = get_session_load(options->session_file);
    struct get_fetch fetch = {.url = url, .config = config, .method = "HEAD",
                              .trace = &trace, .offer = offer};
    int status = get_fetch_run(&fetch);
    get_trace_finish(&trace); /* the table's footer, then the timeline */
    if (fetch.session != NULL && options->session_file != NULL)
        (void)get_session_save(options->session_file, fetch.session);
    latch_session_free(fetch.session);
    latch_session_free(offer);
    return status;
}

int cli_command_trace(int argc, char **argv)
{
    struct get_options options = {0};
    int status = get_parse_options(GET_COMMAND_TRACE, argc, argv, &options);
    if (status >= 0)
        return status;
    latch_url url;
    const char *url_error = NULL;
    if (latch_url_parse(options.url, &url, &url_error) != 0) {
        fprintf(stderr, "latch trace: invalid URL '%s': %s\n", options.url, url_error);
        return CLI_EXIT_USAGE;
    }
    latch_config *config = NULL;
    FILE *keylog = NULL;
    status = get_build_config("trace", &options, &config, &keylog);
    if (status == 0)
        status = trace_url(&options, &url, config);
    latch_config_free(config);
    if (keylog != NULL)
        fclose(keylog);
    return status;
}
