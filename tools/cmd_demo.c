/* latch demo: the whole stack on one machine, with no arguments.  A
 * throwaway CA and server certificate (libcrypto), latch serve in a child
 * process on a free loopback port, two fetches with the handshake trace
 * (the second resumes the first's session), a summary, then everything is
 * stopped and removed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "demo.h"
#include "get.h"
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char demo_page[] =
    "<!doctype html>\n<title>latch demo</title>\n"
    "<h1>Hello from latch serve</h1>\n<p>Served over TLS by latch, fetched by latch get.</p>\n";

static struct demo_files files;
static volatile sig_atomic_t server_pid;

/* Remove every file the demo made (async-signal-safe: unlink, rmdir). */
static void remove_files(void)
{
    const char *paths[] = {files.page, files.ca, files.cert, files.key, files.log};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (paths[i][0] != '\0')
            unlink(paths[i]);
    if (files.www[0] != '\0')
        rmdir(files.www);
    if (files.dir[0] != '\0')
        rmdir(files.dir);
}

static void on_interrupt(int signal_number)
{
    if (server_pid > 0)
        kill(server_pid, SIGKILL);
    remove_files();
    _exit(128 + signal_number);
}

static int write_file(const char *path, const char *text)
{
    FILE *out = fopen(path, "we");
    if (out == NULL)
        return -1;
    int ok = fputs(text, out) >= 0;
    return fclose(out) == 0 && ok ? 0 : -1;
}

static int make_files(void)
{
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(files.dir, sizeof files.dir, "%s/latch-demo.XXXXXX", tmp);
    if (mkdtemp(files.dir) == NULL) {
        fprintf(stderr, "latch demo: cannot make a temporary directory in %s: %s\n", tmp,
                strerror(errno));
        files.dir[0] = '\0';
        return -1;
    }
    snprintf(files.www, sizeof files.www, "%.4000s/www", files.dir);
    snprintf(files.page, sizeof files.page, "%.4000s/index.html", files.www);
    snprintf(files.ca, sizeof files.ca, "%.4000s/ca.pem", files.dir);
    snprintf(files.cert, sizeof files.cert, "%.4000s/server.pem", files.dir);
    snprintf(files.key, sizeof files.key, "%.4000s/server-key.pem", files.dir);
    snprintf(files.log, sizeof files.log, "%.4000s/serve.log", files.dir);
    if (mkdir(files.www, 0755) != 0 || write_file(files.page, demo_page) != 0) {
        fprintf(stderr, "latch demo: cannot write %s: %s\n", files.page, strerror(errno));
        return -1;
    }
    if (demo_make_pki(&files) != 0) {
        fprintf(stderr, "latch demo: making the throwaway certificates failed\n");
        return -1;
    }
    return 0;
}

/* The child: latch serve on 127.0.0.1:0, its log in the temporary dir. */
static void run_server(int ready_fd)
{
    char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--workers", "1", "--cert", files.cert,
                    "--key", files.key, files.www, NULL};
    struct serve_options options = {0};
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    FILE *log = freopen(files.log, "w", stderr);
    if (log == NULL || serve_parse_options(SERVE_MODE_HTTP, 10, argv, &options) >= 0)
        _exit(CLI_EXIT_FAILURE);
    setvbuf(stderr, NULL, _IOLBF, 0);
    options.ready_fd = ready_fd;
    _exit(serve_main(&options));
}

/* Fork the server and wait (10 s at most) for the port it bound. */
static int start_server(char *port, size_t size)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        run_server(pipe_fds[1]);
    }
    close(pipe_fds[1]);
    server_pid = pid;
    struct pollfd waiter = {.fd = pipe_fds[0], .events = POLLIN};
    ssize_t got = -1;
    if (pid > 0 && poll(&waiter, 1, 10000) == 1)
        got = read(pipe_fds[0], port, size - 1);
    close(pipe_fds[0]);
    if (got <= 1)
        return -1;
    port[got] = '\0';
    port[strcspn(port, "\n")] = '\0';
    return 0;
}

static int stop_server(void)
{
    int status = -1;
    if (server_pid <= 0)
        return -1;
    kill(server_pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(server_pid, &status, WNOHANG) == 0; i++)
        usleep(50000);
    if (waitpid(server_pid, &status, WNOHANG) == 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, &status, 0);
        status = -1;
    }
    server_pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_log(void)
{
    FILE *log = fopen(files.log, "re");
    char line[512];
    if (log == NULL)
        return;
    printf("\n==> latch serve's log\n");
    for (int count = 0; count < 20 && fgets(line, sizeof line, log) != NULL; count++)
        printf("    %s", line);
    fclose(log);
}

/* One fetch of https://localhost:PORT/ through 127.0.0.1, traced on stdout. */
static int fetch(latch_config *config, const latch_url *url, const char *label,
                 const latch_session *offer, struct get_fetch *result)
{
    struct get_trace trace = {0};
    printf("\n==> %s connection: latch get https://localhost:%s/ (handshake trace)\n",
           offer != NULL ? "second" : "first", url->port);
    fflush(stdout);
    if (get_trace_add(&trace, LATCH_TRACE_TABLE, stdout, label) != 0)
        return CLI_EXIT_FAILURE;
    *result = (struct get_fetch){.url = url, .config = config, .method = "GET",
                                 .trace = &trace, .offer = offer,
                                 .connect_host = "127.0.0.1"};
    int status = get_fetch_run(result);
    get_trace_finish(&trace);
    fflush(stdout);
    return status;
}

static double ms(uint64_t microseconds)
{
    return (double)microseconds / 1000.0;
}

static void print_connection(const char *label, const struct get_fetch *fetch)
{
    printf("  %-17s HTTP %d, %llu bytes; TCP %.1f ms, TLS handshake %.1f ms, total %.1f ms; "
           "resumed: %s\n",
           label, fetch->http_status, (unsigned long long)fetch->body_bytes, ms(fetch->connect_us),
           ms(fetch->handshake_us), ms(fetch->total_us), fetch->resumed ? "yes" : "no");
}

static void print_summary(const char *port, const struct get_fetch *first,
                          const struct get_fetch *second)
{
    printf("\n==> summary\n");
    printf("  %-17s latch serve on 127.0.0.1:%s, a throwaway CA made with libcrypto\n",
           "server", port);
    printf("  %-17s %s\n", "version", first->version);
    printf("  %-17s %s\n", "cipher suite", first->suite);
    printf("  %-17s %s (ECDHE)\n", "key exchange", first->group);
    printf("  %-17s yes: %s, issued by the demo CA, for the name localhost\n", "chain verified",
           first->peer_subject[0] != '\0' ? first->peer_subject : "CN=localhost");
    print_connection("first connection", first);
    print_connection("second connection", second);
    printf("  resumed: %s\n", second->resumed ? "yes (the second connection resumed the first's "
                                                "session: no certificate, a shorter handshake)"
                                              : "no");
}

/* Both fetches against the running server; returns the exit code. */
static int run_client(const char *port)
{
    char text[64];
    latch_url url;
    const char *error = NULL;
    snprintf(text, sizeof text, "https://localhost:%s/", port);
    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT);
    if (config == NULL || latch_url_parse(text, &url, &error) != 0 ||
        latch_config_set_ca(config, files.ca, NULL) != 0) {
        fprintf(stderr, "latch demo: cannot set up the client\n");
        latch_config_free(config);
        return CLI_EXIT_FAILURE;
    }
    struct get_fetch first, second;
    char first_label[32], second_label[40];
    snprintf(first_label, sizeof first_label, "localhost:%s", port);
    snprintf(second_label, sizeof second_label, "localhost:%s #2", port);
    memset(&second, 0, sizeof second);
    int status = fetch(config, &url, first_label, NULL, &first);
    if (status == 0)
        status = fetch(config, &url, second_label, first.session, &second);
    if (status == 0 && (first.http_status != 200 || second.http_status != 200 ||
                        first.body_bytes != sizeof demo_page - 1))
        status = CLI_EXIT_FAILURE;
    if (status == 0)
        print_summary(port, &first, &second);
    if (status == 0 && !second.resumed) {
        fprintf(stderr, "latch demo: the second connection did not resume\n");
        status = CLI_EXIT_FAILURE;
    }
    latch_session_free(first.session);
    latch_session_free(second.session);
    latch_config_free(config);
    return status;
}

static int run_demo(void)
{
    char port[16];
    printf("==> latch demo: a throwaway CA and a certificate for localhost (libcrypto) in %s\n",
           files.dir);
    if (start_server(port, sizeof port) != 0) {
        fprintf(stderr, "latch demo: latch serve did not start\n");
        stop_server();
        print_log();
        return CLI_EXIT_FAILURE;
    }
    printf("==> latch serve %s on 127.0.0.1:%s (pid %d)\n", files.www, port, (int)server_pid);
    int status = run_client(port);
    int server_status = stop_server();
    print_log();
    if (server_status != 0) {
        fprintf(stderr, "latch demo: latch serve exited with status %d\n", server_status);
        status = status != 0 ? status : CLI_EXIT_FAILURE;
    }
    printf("\n==> stopped latch serve, removed %s\n", files.dir);
    printf("latch demo: %s\n", status == 0 ? "OK" : "FAILED");
    return status;
}

int cli_command_demo(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_usage_demo(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "latch demo: takes no arguments\n");
        cli_usage_demo(stderr);
        return CLI_EXIT_USAGE;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    int status = make_files() == 0 ? run_demo() : CLI_EXIT_FAILURE;
    remove_files();
    return status;
}
