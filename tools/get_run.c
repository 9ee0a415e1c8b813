/* latch get URL...: each URL in turn, its output, -L redirects (bounded,
 * never to http://), one connection kept open while the next request goes
 * to the same origin, --connect-to, --max-time. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get_output.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

struct get_runner {
    const struct get_options *options;
    latch_config *config;
    struct get_link link;
    struct get_trace trace;       /* the open link's tracers */
    latch_session *session;       /* the latest, offered to the next link */
    latch_http_response *response;
    long links;                   /* connections opened so far */
};

/* One --connect-to HOST:PORT:ADDR:PORT rule; empty fields match anything
 * (HOST, PORT) or keep the URL's (ADDR, PORT). */
struct connect_rule {
    char host[LATCH_HTTP_MAX_HOST], port[8], address[LATCH_HTTP_MAX_HOST], address_port[8];
};

/* One field up to the next ':' outside brackets, brackets removed. */
static const char *take_field(const char *text, char *out, size_t size, int last)
{
    const char *end = text;
    if (*text == '[') {
        end = strchr(text, ']');
        if (end == NULL || (end[1] != ':' && end[1] != '\0'))
            return NULL;
        if ((size_t)(end - text - 1) >= size)
            return NULL;
        snprintf(out, size, "%.*s", (int)(end - text - 1), text + 1);
        end++;
    } else {
        end = text + strcspn(text, ":");
        if ((size_t)(end - text) >= size)
            return NULL;
        snprintf(out, size, "%.*s", (int)(end - text), text);
    }
    if (last)
        return *end == '\0' ? end : NULL;
    return *end == ':' ? end + 1 : NULL;
}

static int valid_port(const char *port)
{
    size_t digits = strspn(port, "0123456789");
    return port[digits] == '\0' && digits <= 5 && (digits == 0 || atol(port) <= 65535);
}

static int parse_connect_rule(const char *text, struct connect_rule *rule)
{
    const char *p = take_field(text, rule->host, sizeof rule->host, 0);
    p = p != NULL ? take_field(p, rule->port, sizeof rule->port, 0) : NULL;
    p = p != NULL ? take_field(p, rule->address, sizeof rule->address, 0) : NULL;
    p = p != NULL ? take_field(p, rule->address_port, sizeof rule->address_port, 1) : NULL;
    return p != NULL && valid_port(rule->port) && valid_port(rule->address_port) ? 0 : -1;
}

int get_connect_to_valid(const char *text)
{
    struct connect_rule rule;
    return parse_connect_rule(text, &rule) == 0;
}

/* Where to connect for url: the first matching --connect-to rule. */
static void connect_target(const struct get_options *options, const latch_url *url,
                           char *host, size_t host_size, char *port, size_t port_size)
{
    snprintf(host, host_size, "%s", url->host);
    snprintf(port, port_size, "%s", url->port);
    for (int i = 0; i < options->connect_to_count; i++) {
        struct connect_rule rule;
        if (parse_connect_rule(options->connect_to[i], &rule) != 0)
            continue;
        if ((rule.host[0] != '\0' && strcasecmp(rule.host, url->host) != 0) ||
            (rule.port[0] != '\0' && strcmp(rule.port, url->port) != 0))
            continue;
        if (rule.address[0] != '\0')
            snprintf(host, host_size, "%s", rule.address);
        if (rule.address_port[0] != '\0')
            snprintf(port, port_size, "%s", rule.address_port);
        return;
    }
}

static void close_link(struct get_runner *runner)
{
    if (runner->link.fd >= 0 || runner->link.conn != NULL) {
        latch_session *session = get_link_session(&runner->link);
        if (session != NULL) {
            latch_session_free(runner->session);
            runner->session = session;
        }
        get_link_close(&runner->link);
    }
    get_trace_finish(&runner->trace);
}

static int open_link(struct get_runner *runner, const latch_url *url, const char *host,
                     const char *port)
{
    const struct get_options *options = runner->options;
    char label[LATCH_HTTP_MAX_TARGET];
    close_link(runner);
    if (runner->links++ == 0)
        snprintf(label, sizeof label, "%s:%s", url->host, url->port);
    else
        snprintf(label, sizeof label, "%s:%s #%ld", url->host, url->port, runner->links);
    int status = get_trace_start(options, &runner->trace, label);
    if (status != 0)
        return status;
    struct get_link_target target = {
        .config = runner->config, .url = url, .connect_host = host, .connect_port = port,
        .offer = runner->session, .trace = &runner->trace, .verbose = options->verbose,
        .connect_timeout_ms = (int)options->connect_timeout_ms};
    status = get_link_open(&runner->link, &target);
    if (status != 0)
        close_link(runner);
    return status;
}

/* One request on a kept or a new connection; a kept connection the server
 * had closed meanwhile is replaced once. */
static int transfer(struct get_runner *runner, struct get_request *request, int keep_alive)
{
    char host[LATCH_HTTP_MAX_HOST], port[8];
    connect_target(runner->options, request->url, host, sizeof host, port, sizeof port);
    request->keep_alive = keep_alive;
    for (int attempt = 0; attempt < 2; attempt++) {
        int reuse = runner->link.reusable && get_link_matches(&runner->link, request->url, host,
                                                              port);
        if (reuse && runner->options->verbose)
            fprintf(stderr, "* Re-using the connection to %s port %s\n", host, port);
        int status = reuse ? 0 : open_link(runner, request->url, host, port);
        if (status != 0)
            return status;
        status = get_link_exchange(&runner->link, request, runner->response);
        if (!runner->link.reusable)
            close_link(runner);
        if (!(status != 0 && request->stale && reuse))
            return status;
        if (runner->options->verbose)
            fprintf(stderr, "* The kept connection was closed by the server; reconnecting\n");
    }
    return CLI_EXIT_RECEIVE;
}

/* Headers that must not follow a redirect to another origin. */
static int is_credential(const char *line)
{
    static const char *const names[] = {"Authorization:", "Cookie:", "Proxy-Authorization:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncasecmp(line, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

static void drop_credentials(struct get_request *request, const char **kept)
{
    size_t count = 0;
    for (size_t i = 0; i < request->header_count; i++)
        if (!is_credential(request->headers[i]))
            kept[count++] = request->headers[i];
    request->headers = kept;
    request->header_count = count;
}

/* Turn request into the one the redirect asks for.  Returns 0, or the exit
 * code (reported). */
static int follow_redirect(const latch_http_response *response, struct get_request *request,
                           latch_url *next, const char **kept_headers)
{
    size_t length = 0;
    const char *location = latch_http_response_header(response, "Location", &length);
    const char *error = NULL;
    int resolved = latch_url_resolve(request->url, location, length, next, &error);
    if (resolved == -2) {
        fprintf(stderr, "latch: refusing to follow the redirect to %.*s: latch get speaks only "
                        "https (following it would downgrade the connection to plain HTTP)\n",
                (int)length, location);
        return CLI_EXIT_FAILURE;
    }
    if (resolved != 0) {
        fprintf(stderr, "latch: bad redirect location '%.*s': %s\n", (int)length, location, error);
        return CLI_EXIT_RECEIVE;
    }
    int status = response->status;
    if ((status == 303 && strcmp(request->method, "HEAD") != 0) ||
        ((status == 301 || status == 302) && strcmp(request->method, "POST") == 0)) {
        request->method = "GET"; /* RFC 9110 15.4: the body does not follow */
        request->has_body = 0;
        request->body_length = 0;
    }
    if (strcasecmp(next->host, request->url->host) != 0 ||
        strcmp(next->port, request->url->port) != 0)
        drop_credentials(request, kept_headers);
    return 0;
}

static const char *request_method(const struct get_options *options)
{
    if (options->method != NULL)
        return options->method;
    if (options->head_only)
        return "HEAD";
    return options->data != NULL ? "POST" : "GET";
}

/* One URL with its redirects; the response ends in runner->response. */
static int fetch_with_redirects(struct get_runner *runner, const latch_url *first,
                                struct get_output *output, int keep_alive)
{
    const struct get_options *options = runner->options;
    latch_url urls[2];
    const char *kept_headers[GET_MAX_HEADERS];
    struct get_request request = {
        .method = request_method(options), .url = first, .headers = options->headers,
        .header_count = (size_t)options->header_count, .body = options->data,
        .body_length = options->data_length, .has_body = options->data != NULL,
        .verbose = options->verbose, .sink = &output->sink};
    for (long redirects = 0;; redirects++) {
        int status = transfer(runner, &request, keep_alive || options->follow);
        if (status != 0 || !get_output_follows(options, runner->response))
            return status;
        if (redirects == options->max_redirects) {
            fprintf(stderr, "latch: too many redirects (%ld; see --max-redirs)\n", redirects);
            return CLI_EXIT_TOO_MANY_REDIRECTS;
        }
        latch_url *next = &urls[redirects % 2];
        status = follow_redirect(runner->response, &request, next, kept_headers);
        if (status != 0)
            return status;
        if (options->verbose)
            fprintf(stderr, "* Following the redirect (HTTP %d) to %s%s\n",
                    runner->response->status, next->host, next->path);
        request.url = next;
    }
}

static int fetch_url(struct get_runner *runner, int index)
{
    const struct get_options *options = runner->options;
    latch_url url;
    const char *error = NULL;
    if (latch_url_parse(options->urls[index], &url, &error) != 0) {
        fprintf(stderr, "latch get: invalid URL '%s': %s\n", options->urls[index], error);
        return CLI_EXIT_USAGE;
    }
    struct get_output output;
    const struct get_output_spec *spec = index < options->output_count ? &options->outputs[index]
                                                                       : NULL;
    get_output_init(&output, options, spec != NULL ? spec->path : NULL,
                    spec != NULL && spec->remote_name, &url);
    int status = fetch_with_redirects(runner, &url, &output, index + 1 < options->url_count);
    int written = get_output_finish(&output);
    if (status == 0)
        status = written;
    if (status == 0 && options->fail && runner->response->status >= 400) {
        fprintf(stderr, "latch: server returned HTTP %d\n", runner->response->status);
        status = CLI_EXIT_HTTP_ERROR;
    }
    return status;
}

static void on_max_time(int signal_number)
{
    static const char message[] = "latch: operation timed out (--max-time)\n";
    (void)signal_number;
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    _exit(CLI_EXIT_TIMEOUT);
}

/* --max-time: the whole run, name resolution included, is bounded. */
static void arm_max_time(long milliseconds)
{
    if (milliseconds <= 0)
        return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_max_time;
    sigaction(SIGALRM, &action, NULL);
    struct itimerval timer = {.it_value = {.tv_sec = milliseconds / 1000,
                                           .tv_usec = (milliseconds % 1000) * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

int get_run(const struct get_options *options, latch_config *config)
{
    struct get_runner runner = {.options = options, .config = config};
    runner.link.fd = -1;
    runner.response = malloc(sizeof *runner.response);
    if (runner.response == NULL) {
        fprintf(stderr, "latch: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    if (options->session_file != NULL)
        runner.session = get_session_load(options->session_file);
    arm_max_time(options->max_time_ms);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error (23), as curl */
    int status = 0;
    for (int i = 0; i < options->url_count; i++)
        status = fetch_url(&runner, i); /* as curl: the last transfer decides */
    close_link(&runner);
    if (runner.session != NULL && options->session_file != NULL)
        (void)get_session_save(options->session_file, runner.session);
    latch_session_free(runner.session);
    free(runner.response);
    return status;
}
