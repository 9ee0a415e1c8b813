/* latch serve: options, listening socket, and the epoll loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli.h"
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latch/net.h"
#include "net/net_detail.h"

enum {
    MAX_CONNECTIONS = 1000,
    MAX_EVENTS = 64,
    LISTEN_BACKLOG = 128,
    MAX_SESSION_CACHE = 1000000
};

static int add_file(const char **list, int *count, int limit, const char *flag, const char *value)
{
    if (*count >= limit) {
        fprintf(stderr, "latch serve: at most %d %s options\n", limit, flag);
        return CLI_EXIT_USAGE;
    }
    list[(*count)++] = value;
    return -1;
}

static int parse_client_auth(const char *text, enum latch_client_auth *mode)
{
    if (strcmp(text, "optional") == 0)
        *mode = LATCH_CLIENT_AUTH_OPTIONAL;
    else if (strcmp(text, "require") == 0)
        *mode = LATCH_CLIENT_AUTH_REQUIRE;
    else {
        fprintf(stderr, "latch serve: --verify-client %s: use optional or require\n", text);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int parse_session_cache(const char *text, long *entries)
{
    char *end = NULL;
    errno = 0;
    *entries = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || *entries < 0 ||
        *entries > MAX_SESSION_CACHE) {
        fprintf(stderr, "latch serve: --session-cache %s: expected 0 (off) to %d entries\n",
                text, MAX_SESSION_CACHE);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int check_serve_arguments(int argc, char **argv, struct serve_options *options)
{
    if (optind < argc - 1) {
        fprintf(stderr, "latch serve: too many arguments\n");
        return CLI_EXIT_USAGE;
    }
    if (optind == argc - 1)
        options->directory = argv[optind];
    if (options->cert_count == 0 || options->cert_count != options->key_count) {
        fprintf(stderr, "latch serve: %s\n", options->cert_count == 0
                                                 ? "--cert FILE and --key FILE are required"
                                                 : "each --cert needs a matching --key");
        return CLI_EXIT_USAGE;
    }
    if (options->client_auth != LATCH_CLIENT_AUTH_NONE && options->client_ca == NULL) {
        fprintf(stderr, "latch serve: --verify-client needs --client-ca FILE\n");
        return CLI_EXIT_USAGE;
    }
    if (options->client_ca != NULL && options->client_auth == LATCH_CLIENT_AUTH_NONE)
        options->client_auth = LATCH_CLIENT_AUTH_REQUIRE;
    return -1;
}

/* One option; returns -1 to go on, else the exit code (0 after --help). */
static int take_option(struct serve_options *options, int option, char **argv)
{
    if (cli_tls_option(&options->tls, option, optarg))
        return -1;
    switch (option) {
    case CLI_OPTION_LISTEN: options->listen = optarg; return -1;
    case CLI_OPTION_CERT:
        return add_file(options->certs, &options->cert_count, SERVE_MAX_CERTIFICATES, "--cert",
                        optarg);
    case CLI_OPTION_KEY:
        return add_file(options->keys, &options->key_count, SERVE_MAX_CERTIFICATES, "--key",
                        optarg);
    case CLI_OPTION_CLIENT_CA: options->client_ca = optarg; return -1;
    case CLI_OPTION_VERIFY_CLIENT: return parse_client_auth(optarg, &options->client_auth);
    case CLI_OPTION_TICKET_KEY:
        return add_file(options->ticket_keys, &options->ticket_key_count,
                        SERVE_MAX_TICKET_KEYS, "--ticket-key", optarg);
    case CLI_OPTION_NO_TICKETS: options->no_tickets = 1; return -1;
    case CLI_OPTION_SESSION_CACHE: return parse_session_cache(optarg, &options->session_cache);
    case CLI_OPTION_KEYLOG: options->keylog = optarg; return -1;
    case CLI_OPTION_TRACE:
        options->trace = 1;
        return cli_parse_trace_format("serve", optarg, &options->trace_format) ? CLI_EXIT_USAGE
                                                                                 : -1;
    case 'h':
    case CLI_OPTION_HELP: cli_usage_serve(stdout); return CLI_EXIT_OK;
    default:
        cli_option_error("serve", option, argv);
        cli_usage_serve(stderr);
        return CLI_EXIT_USAGE;
    }
}

/* Returns -1 to go on, else the exit code (0 after --help). */
static int parse_serve_options(int argc, char **argv, struct serve_options *options)
{
    static const struct option long_options[] = {
        CLI_TLS_LONG_OPTIONS,
        {"listen", required_argument, NULL, CLI_OPTION_LISTEN},
        {"cert", required_argument, NULL, CLI_OPTION_CERT},
        {"key", required_argument, NULL, CLI_OPTION_KEY},
        {"client-ca", required_argument, NULL, CLI_OPTION_CLIENT_CA},
        {"verify-client", required_argument, NULL, CLI_OPTION_VERIFY_CLIENT},
        {"ticket-key", required_argument, NULL, CLI_OPTION_TICKET_KEY},
        {"no-tickets", no_argument, NULL, CLI_OPTION_NO_TICKETS},
        {"session-cache", required_argument, NULL, CLI_OPTION_SESSION_CACHE},
        {"keylog", required_argument, NULL, CLI_OPTION_KEYLOG},
        {"trace", optional_argument, NULL, CLI_OPTION_TRACE},
        {NULL, 0, NULL, 0},
    };
    options->listen = "127.0.0.1:8443";
    options->directory = ".";
    options->session_cache = -1;
    int option, status = -1;
    optind = 1;
    opterr = 0;
    while (status < 0 && (option = getopt_long(argc, argv, ":h", long_options, NULL)) != -1)
        status = take_option(options, option, argv);
    if (status >= 0)
        return status;
    return check_serve_arguments(argc, argv, options);
}

static int open_listener(const char *address, int *fd_out)
{
    int fd = latch_net_listen(address, LISTEN_BACKLOG);
    if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        int usage = errno == EINVAL;
        fprintf(stderr, "latch serve: cannot listen on %s: %s\n", address,
                usage ? "expected ADDR:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)"
                      : strerror(errno));
        return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    struct sockaddr_storage bound;
    socklen_t length = sizeof bound;
    char text[80] = "?";
    if (getsockname(fd, (struct sockaddr *)&bound, &length) == 0)
        latch_net_format_address((struct sockaddr *)&bound, length, text, sizeof text);
    fprintf(stderr, "latch serve: listening on %s\n", text);
    *fd_out = fd;
    return 0;
}

/* SIGTERM/SIGINT (stop) and SIGHUP (reload) arrive through a signalfd;
 * SIGPIPE is ignored. */
static int open_signal_fd(void)
{
    signal(SIGPIPE, SIG_IGN);
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &handled, NULL) != 0)
        return -1;
    return signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* SIGHUP: a new configuration (ticket key files re-read) for new
 * connections; the old one stays with its connections until they end. */
static void reload_config(struct serve_context *context)
{
    latch_config *config = NULL;
    struct serve_config_ref *old = context->current;
    unsigned generation = old->generation + 1;
    if (serve_build_config(context->options, context->keylog, &config) != 0) {
        fprintf(stderr, "latch serve: SIGHUP: reload failed; keeping configuration %u\n",
                old->generation);
        return;
    }
    struct serve_config_ref *ref = serve_config_ref_new(config, generation);
    if (ref == NULL) {
        fprintf(stderr, "latch serve: SIGHUP: out of memory; keeping configuration %u\n",
                old->generation);
        return;
    }
    fprintf(stderr, "latch serve: SIGHUP: configuration %u (%d ticket key file%s re-read) "
                    "for new connections; %zu open connection%s keep configuration %u\n",
            generation, context->options->ticket_key_count,
            context->options->ticket_key_count == 1 ? "" : "s", old->users - 1,
            old->users == 2 ? "" : "s", old->generation);
    context->current = ref;
    serve_config_ref_release(old);
}

/* Drain the signalfd; returns 0 when asked to stop, 1 to keep running. */
static int handle_signals(struct serve_context *context, int signal_fd)
{
    struct signalfd_siginfo info;
    int running = 1;
    while (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (info.ssi_signo == SIGHUP)
            reload_config(context);
        else
            running = 0;
    }
    return running;
}

static void accept_connections(struct serve_context *context, int listen_fd)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        int fd = accept4(listen_fd, (struct sockaddr *)&peer, &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "serve: accept: %s\n", strerror(errno));
            return;
        }
        if (context->connection_count >= MAX_CONNECTIONS) {
            close(fd);
            continue;
        }
        serve_conn_open(context, fd, (struct sockaddr *)&peer, length);
    }
}

static int add_watch(int epoll_fd, int fd, void *tag)
{
    struct epoll_event event = {.events = EPOLLIN};
    event.data.ptr = tag;
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

static int run_loop(struct serve_context *context, int listen_fd, int signal_fd)
{
    static char listener_tag, signal_tag;
    if (add_watch(context->epoll_fd, listen_fd, &listener_tag) != 0 ||
        add_watch(context->epoll_fd, signal_fd, &signal_tag) != 0) {
        fprintf(stderr, "latch serve: epoll: %s\n", strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    uint64_t last_sweep = serve_now_ms();
    for (int running = 1; running;) {
        struct epoll_event events[MAX_EVENTS];
        int count = epoll_wait(context->epoll_fd, events, MAX_EVENTS, 1000);
        if (count < 0 && errno != EINTR) {
            fprintf(stderr, "latch serve: epoll_wait: %s\n", strerror(errno));
            return CLI_EXIT_FAILURE;
        }
        for (int i = 0; i < count; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &listener_tag)
                accept_connections(context, listen_fd);
            else if (tag == &signal_tag)
                running = handle_signals(context, signal_fd);
            else
                serve_conn_handle(tag, events[i].events);
        }
        if (serve_now_ms() - last_sweep >= 1000) {
            serve_conn_sweep(context);
            last_sweep = serve_now_ms();
        }
    }
    fprintf(stderr, "latch serve: shutting down\n");
    return 0;
}

static int resolve_root(const char *directory, char *root)
{
    struct stat info;
    if (realpath(directory, root) == NULL || stat(root, &info) != 0 || !S_ISDIR(info.st_mode)) {
        fprintf(stderr, "latch serve: %s: not a directory\n", directory);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int serve(const struct serve_options *options, struct serve_context *context)
{
    int listen_fd = -1, status = open_listener(options->listen, &listen_fd);
    if (status != 0)
        return status;
    int signal_fd = open_signal_fd();
    context->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (signal_fd < 0 || context->epoll_fd < 0) {
        fprintf(stderr, "latch serve: %s\n", strerror(errno));
        status = CLI_EXIT_FAILURE;
    } else {
        status = run_loop(context, listen_fd, signal_fd);
    }
    while (context->connections != NULL)
        serve_conn_destroy(context->connections);
    if (context->epoll_fd >= 0)
        close(context->epoll_fd);
    if (signal_fd >= 0)
        close(signal_fd);
    close(listen_fd);
    return status;
}

int cli_command_serve(int argc, char **argv)
{
    struct serve_options options = {0};
    int status = parse_serve_options(argc, argv, &options);
    if (status >= 0)
        return status;
    char root[PATH_MAX];
    status = resolve_root(options.directory, root);
    if (status != 0)
        return status;
    struct serve_context context = {.root = root, .options = &options, .epoll_fd = -1};
    status = cli_open_keylog("serve", options.keylog, &context.keylog);
    latch_config *config = NULL;
    if (status == 0)
        status = serve_build_config(&options, context.keylog, &config);
    if (status == 0) {
        context.current = serve_config_ref_new(config, 1);
        status = context.current != NULL ? serve(&options, &context) : CLI_EXIT_FAILURE;
    }
    serve_config_ref_release(context.current);
    if (context.keylog != NULL)
        fclose(context.keylog);
    return status;
}
