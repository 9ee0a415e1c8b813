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

enum { MAX_CERTIFICATES = 8, MAX_CONNECTIONS = 1000, MAX_EVENTS = 64, LISTEN_BACKLOG = 128 };

struct serve_options {
    struct cli_tls_options tls;
    const char *listen;
    const char *certs[MAX_CERTIFICATES], *keys[MAX_CERTIFICATES];
    int cert_count, key_count;
    const char *directory;
};

static int add_file(const char **list, int *count, const char *flag, const char *value)
{
    if (*count >= MAX_CERTIFICATES) {
        fprintf(stderr, "latch serve: at most %d %s options\n", MAX_CERTIFICATES, flag);
        return CLI_EXIT_USAGE;
    }
    list[(*count)++] = value;
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
    return -1;
}

/* Returns -1 to go on, else the exit code (0 after --help). */
static int parse_serve_options(int argc, char **argv, struct serve_options *options)
{
    static const struct option long_options[] = {
        CLI_TLS_LONG_OPTIONS,
        {"listen", required_argument, NULL, CLI_OPTION_LISTEN},
        {"cert", required_argument, NULL, CLI_OPTION_CERT},
        {"key", required_argument, NULL, CLI_OPTION_KEY},
        {NULL, 0, NULL, 0},
    };
    options->listen = "127.0.0.1:8443";
    options->directory = ".";
    int option, status = -1;
    optind = 1;
    opterr = 0;
    while (status < 0 && (option = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (cli_tls_option(&options->tls, option, optarg))
            continue;
        switch (option) {
        case CLI_OPTION_LISTEN: options->listen = optarg; break;
        case CLI_OPTION_CERT:
            status = add_file(options->certs, &options->cert_count, "--cert", optarg);
            break;
        case CLI_OPTION_KEY:
            status = add_file(options->keys, &options->key_count, "--key", optarg);
            break;
        case 'h':
        case CLI_OPTION_HELP: cli_usage_serve(stdout); return CLI_EXIT_OK;
        default:
            cli_option_error("serve", option, argv);
            cli_usage_serve(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (status >= 0)
        return status;
    return check_serve_arguments(argc, argv, options);
}

static int build_config(const struct serve_options *options, latch_config **out)
{
    latch_config *config = latch_config_new(LATCH_ROLE_SERVER);
    if (config == NULL) {
        fprintf(stderr, "latch serve: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    *out = config;
    for (int i = 0; i < options->cert_count; i++) {
        if (latch_config_add_cert_key_files(config, options->certs[i], options->keys[i]) != 0) {
            fprintf(stderr, "latch serve: %s\n", latch_config_error(config));
            return CLI_EXIT_USAGE;
        }
    }
    return cli_apply_tls_options(config, &options->tls);
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

/* SIGTERM/SIGINT arrive through a signalfd; SIGPIPE is ignored. */
static int open_signal_fd(void)
{
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop_signals, NULL) != 0)
        return -1;
    return signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
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
                running = 0;
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

static int serve(const struct serve_options *options, latch_config *config, const char *root)
{
    int listen_fd = -1, status = open_listener(options->listen, &listen_fd);
    if (status != 0)
        return status;
    struct serve_context context = {.root = root, .config = config};
    int signal_fd = open_signal_fd();
    context.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (signal_fd < 0 || context.epoll_fd < 0) {
        fprintf(stderr, "latch serve: %s\n", strerror(errno));
        status = CLI_EXIT_FAILURE;
    } else {
        status = run_loop(&context, listen_fd, signal_fd);
    }
    while (context.connections != NULL)
        serve_conn_destroy(context.connections);
    if (context.epoll_fd >= 0)
        close(context.epoll_fd);
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
    latch_config *config = NULL;
    status = build_config(&options, &config);
    if (status == 0)
        status = serve(&options, config, root);
    latch_config_free(config);
    return status;
}
