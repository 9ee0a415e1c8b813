/* latch serve and latch proxy: options, limits, and the run (the engine is
 * serve_engine.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli.h"
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_detail.h"

enum {
    MAX_SESSION_CACHE = 1000000,
    DEFAULT_MAX_CONNECTIONS = 10000,
    DEFAULT_HANDSHAKE_TIMEOUT_MS = 10000,
    DEFAULT_IDLE_TIMEOUT_MS = 60000,
    DEFAULT_REQUEST_TIMEOUT_MS = 30000,
    DEFAULT_SHUTDOWN_TIMEOUT_MS = 10000,
    DEFAULT_MAX_BODY_SIZE = 1048576,
    RESERVED_DESCRIPTORS = 64 /* listeners, epoll, files being sent, logs */
};

static void print_usage(const struct serve_options *options, FILE *out)
{
    if (options->mode == SERVE_MODE_PROXY)
        cli_usage_proxy(out);
    else
        cli_usage_serve(out);
}

static int add_file(const struct serve_options *options, const char **list, int *count, int limit,
                    const char *flag, const char *value)
{
    if (*count >= limit) {
        fprintf(stderr, "latch %s: at most %d %s options\n", options->command, limit, flag);
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
        fprintf(stderr, "latch: --verify-client %s: use optional or require\n", text);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* A count option into a long. */
static int take_count(const struct serve_options *options, const char *flag, const char *text,
                      long long min, long long max, long *out)
{
    long long value = 0;
    int status = cli_parse_count(options->command, flag, text, min, max, &value);
    if (status < 0)
        *out = (long)value;
    return status;
}

/* The engine's limits and timeouts. */
static int take_limit_option(struct serve_options *options, int option, const char *value)
{
    const char *command = options->command;
    switch (option) {
    case CLI_OPTION_WORKERS:
        return take_count(options, "--workers", value, 1, SERVE_MAX_WORKERS, &options->workers);
    case CLI_OPTION_MAX_CONNECTIONS:
        return take_count(options, "--max-connections", value, 1, 1000000,
                          &options->max_connections);
    case CLI_OPTION_HANDSHAKE_TIMEOUT:
        return cli_parse_seconds(command, "--handshake-timeout", value, 0.1, 3600,
                                 &options->handshake_timeout_ms);
    case CLI_OPTION_IDLE_TIMEOUT:
        return cli_parse_seconds(command, "--idle-timeout", value, 0.1, 86400,
                                 &options->idle_timeout_ms);
    case CLI_OPTION_SHUTDOWN_TIMEOUT:
        return cli_parse_seconds(command, "--shutdown-timeout", value, 0, 3600,
                                 &options->shutdown_timeout_ms);
    default: return 0;
    }
}

/* Options only latch serve takes (0 if option is none of them). */
static int take_http_option(struct serve_options *options, int option, const char *value)
{
    long long size = 0;
    int status;
    switch (option) {
    case CLI_OPTION_REQUEST_TIMEOUT:
        return cli_parse_seconds("serve", "--request-timeout", value, 0.1, 3600,
                                 &options->request_timeout_ms);
    case CLI_OPTION_MAX_HEADER_SIZE:
        return take_count(options, "--max-header-size", value, 1024, 65536,
                          &options->max_header_size);
    case CLI_OPTION_MAX_BODY_SIZE:
        status = cli_parse_count("serve", "--max-body-size", value, 0, 1LL << 40, &size);
        options->max_body_size = size;
        return status;
    case CLI_OPTION_ACCESS_LOG: options->access_log = value; return -1;
    default: return 0;
    }
}

/* TLS, certificate and session options; 0 if option is none of them. */
static int take_tls_option(struct serve_options *options, int option, const char *value)
{
    if (cli_tls_option(&options->tls, option, value))
        return -1;
    switch (option) {
    case CLI_OPTION_CERT:
        return add_file(options, options->certs, &options->cert_count, SERVE_MAX_CERTIFICATES,
                        "--cert", value);
    case CLI_OPTION_KEY:
        return add_file(options, options->keys, &options->key_count, SERVE_MAX_CERTIFICATES,
                        "--key", value);
    case CLI_OPTION_CLIENT_CA: options->client_ca = value; return -1;
    case CLI_OPTION_VERIFY_CLIENT: return parse_client_auth(value, &options->client_auth);
    case CLI_OPTION_TICKET_KEY:
        return add_file(options, options->ticket_keys, &options->ticket_key_count,
                        SERVE_MAX_TICKET_KEYS, "--ticket-key", value);
    case CLI_OPTION_NO_TICKETS: options->no_tickets = 1; return -1;
    case CLI_OPTION_SESSION_CACHE:
        return take_count(options, "--session-cache", value, 0, MAX_SESSION_CACHE,
                          &options->session_cache);
    case CLI_OPTION_KEYLOG: options->keylog = value; return -1;
    case CLI_OPTION_TRACE:
        options->trace = 1;
        return cli_parse_trace_format(options->command, value, &options->trace_format)
                   ? CLI_EXIT_USAGE
                   : -1;
    default: return 0;
    }
}

/* One option; returns -1 to go on, else the exit code (0 after --help). */
static int take_option(struct serve_options *options, int option, char **argv)
{
    int status = take_tls_option(options, option, optarg);
    if (status == 0)
        status = take_limit_option(options, option, optarg);
    if (status == 0 && options->mode == SERVE_MODE_HTTP)
        status = take_http_option(options, option, optarg);
    if (status != 0)
        return status;
    switch (option) {
    case CLI_OPTION_LISTEN: options->listen = optarg; return -1;
    case 'q': options->quiet = 1; return -1;
    case CLI_OPTION_BACKEND:
        if (options->mode == SERVE_MODE_PROXY) {
            options->backend = optarg;
            return -1;
        }
        break;
    case 'h':
    case CLI_OPTION_HELP: print_usage(options, stdout); return CLI_EXIT_OK;
    default: break;
    }
    if (option == ':' || option == '?')
        cli_option_error(options->command, option, argv);
    else
        fprintf(stderr, "latch %s: option '%s' is not for latch %s\n", options->command,
                argv[optind - 1], options->command);
    print_usage(options, stderr);
    return CLI_EXIT_USAGE;
}

static int check_arguments(int argc, char **argv, struct serve_options *options)
{
    const char *command = options->command;
    int max_arguments = options->mode == SERVE_MODE_HTTP ? 1 : 0;
    if (argc - optind > max_arguments) {
        fprintf(stderr, "latch %s: too many arguments\n", command);
        return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        options->directory = argv[optind];
    if (options->cert_count == 0 || options->cert_count != options->key_count) {
        fprintf(stderr, "latch %s: %s\n", command,
                options->cert_count == 0 ? "--cert FILE and --key FILE are required"
                                         : "each --cert needs a matching --key");
        return CLI_EXIT_USAGE;
    }
    if (options->mode == SERVE_MODE_PROXY && options->backend == NULL) {
        fprintf(stderr, "latch proxy: --backend HOST:PORT is required\n");
        return CLI_EXIT_USAGE;
    }
    if (options->client_auth != LATCH_CLIENT_AUTH_NONE && options->client_ca == NULL) {
        fprintf(stderr, "latch %s: --verify-client needs --client-ca FILE\n", command);
        return CLI_EXIT_USAGE;
    }
    if (options->client_ca != NULL && options->client_auth == LATCH_CLIENT_AUTH_NONE)
        options->client_auth = LATCH_CLIENT_AUTH_REQUIRE;
    return -1;
}

static void set_defaults(enum serve_mode mode, struct serve_options *options)
{
    options->mode = mode;
    options->command = mode == SERVE_MODE_PROXY ? "proxy" : "serve";
    options->listen = "127.0.0.1:8443";
    options->directory = ".";
    options->session_cache = -1;
    options->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    options->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
    options->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
    options->shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
    options->max_header_size = LATCH_HTTP_MAX_REQUEST_HEAD;
    options->max_body_size = DEFAULT_MAX_BODY_SIZE;
    options->ready_fd = -1;
}

int serve_parse_options(enum serve_mode mode, int argc, char **argv,
                        struct serve_options *options)
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
        {"workers", required_argument, NULL, CLI_OPTION_WORKERS},
        {"handshake-timeout", required_argument, NULL, CLI_OPTION_HANDSHAKE_TIMEOUT},
        {"idle-timeout", required_argument, NULL, CLI_OPTION_IDLE_TIMEOUT},
        {"request-timeout", required_argument, NULL, CLI_OPTION_REQUEST_TIMEOUT},
        {"shutdown-timeout", required_argument, NULL, CLI_OPTION_SHUTDOWN_TIMEOUT},
        {"max-connections", required_argument, NULL, CLI_OPTION_MAX_CONNECTIONS},
        {"max-header-size", required_argument, NULL, CLI_OPTION_MAX_HEADER_SIZE},
        {"max-body-size", required_argument, NULL, CLI_OPTION_MAX_BODY_SIZE},
        {"access-log", required_argument, NULL, CLI_OPTION_ACCESS_LOG},
        {"backend", required_argument, NULL, CLI_OPTION_BACKEND},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    set_defaults(mode, options);
    int option, status = -1;
    optind = 1;
    opterr = 0;
    while (status < 0 && (option = getopt_long(argc, argv, ":hq", long_options, NULL)) != -1)
        status = take_option(options, option, argv);
    if (status >= 0)
        return status;
    return check_arguments(argc, argv, options);
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

/* The backend's address, resolved once at start. */
static int resolve_backend(struct serve_options *options)
{
    char host[256], port[8];
    if (latch_net_split_host_port(options->backend, host, sizeof host, port, sizeof port) != 0 ||
        host[0] == '\0') {
        fprintf(stderr, "latch proxy: --backend %s: expected HOST:PORT (e.g. 127.0.0.1:8080)\n",
                options->backend);
        return CLI_EXIT_USAGE;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int status = getaddrinfo(host, port, &hints, &list);
    if (status != 0) {
        fprintf(stderr, "latch proxy: --backend %s: %s\n", options->backend,
                gai_strerror(status));
        return CLI_EXIT_RESOLVE;
    }
    memcpy(&options->backend_address, list->ai_addr, list->ai_addrlen);
    options->backend_address_length = list->ai_addrlen;
    freeaddrinfo(list);
    return 0;
}

/* Raise the descriptor limit to its maximum and fit the defaults to it. */
static void fit_limits(struct serve_options *options)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &limit);
        (void)getrlimit(RLIMIT_NOFILE, &limit);
    }
    long per_connection = 2; /* the socket, and a file being sent or the backend */
    long available = limit.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)limit.rlim_cur;
    long fitting = (available - RESERVED_DESCRIPTORS) / per_connection;
    if (fitting < 1)
        fitting = 1;
    if (options->max_connections == 0)
        options->max_connections = fitting < DEFAULT_MAX_CONNECTIONS ? fitting
                                                                     : DEFAULT_MAX_CONNECTIONS;
    else if (options->max_connections > fitting)
        fprintf(stderr, "latch %s: warning: --max-connections %ld exceeds what %ld descriptors "
                        "allow (about %ld)\n",
                options->command, options->max_connections, available, fitting);
    if (options->workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        options->workers = cores < 1 ? 1 : cores > SERVE_MAX_WORKERS ? SERVE_MAX_WORKERS : cores;
    }
}

static int open_access_log(const struct serve_options *options, int *fd)
{
    *fd = -1;
    if (options->access_log == NULL)
        return 0;
    *fd = open(options->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (*fd < 0) {
        fprintf(stderr, "latch serve: --access-log %s: %s\n", options->access_log,
                strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int run_shared(struct serve_options *options, struct serve_shared *shared)
{
    latch_config *config = NULL;
    int status = cli_open_keylog(options->command, options->keylog, &shared->keylog);
    if (status == 0)
        status = open_access_log(options, &shared->access_log_fd);
    if (status == 0)
        status = serve_build_config(options, shared->keylog, &config);
    if (status == 0) {
        shared->current = serve_config_ref_new(config, 1);
        status = shared->current != NULL ? serve_run(shared) : CLI_EXIT_FAILURE;
    }
    serve_config_ref_release(shared->current);
    if (shared->keylog != NULL)
        fclose(shared->keylog);
    if (shared->access_log_fd >= 0)
        close(shared->access_log_fd);
    return status;
}

int serve_main(struct serve_options *options)
{
    char root[PATH_MAX] = "";
    int status = 0;
    if (options->mode == SERVE_MODE_HTTP)
        status = resolve_root(options->directory, root);
    else
        status = resolve_backend(options);
    if (status != 0)
        return status;
    fit_limits(options);
    struct serve_shared shared = {.options = options, .root = root, .access_log_fd = -1,
                                  .stop_fd = -1};
    pthread_mutex_init(&shared.lock, NULL);
    atomic_init(&shared.connections, 0);
    atomic_init(&shared.next_id, 0);
    atomic_init(&shared.stopping, 0);
    atomic_init(&shared.aborting, 0);
    status = run_shared(options, &shared);
    pthread_mutex_destroy(&shared.lock);
    return status;
}

int cli_command_serve(int argc, char **argv)
{
    struct serve_options options = {0};
    int status = serve_parse_options(SERVE_MODE_HTTP, argc, argv, &options);
    return status >= 0 ? status : serve_main(&options);
}

int cli_command_proxy(int argc, char **argv)
{
    struct serve_options options = {0};
    int status = serve_parse_options(SERVE_MODE_PROXY, argc, argv, &options);
    return status >= 0 ? status : serve_main(&options);
}
