/* latch serve / proxy: worker threads, each with an epoll loop and its own
 * listening socket (SO_REUSEPORT: the kernel spreads new connections);
 * the main thread handles signals: SIGHUP reloads the configuration and
 * reopens the access log, SIGTERM/SIGINT stop gracefully (a second one
 * stops at once). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "serve.h"
#include "serve_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "net/net_detail.h"

enum { MAX_EVENTS = 64, LISTEN_BACKLOG = 511, SWEEP_INTERVAL_MS = 250 };

static void say(const struct serve_shared *shared, const char *format, const char *text)
{
    fprintf(stderr, "latch %s: ", shared->options->command);
    fprintf(stderr, format, text);
    fputc('\n', stderr);
}

/* A listening socket on address (SO_REUSEPORT when reuse_port) in *fd. */
static int open_listener(const struct serve_shared *shared, const char *address, int reuse_port,
                         int *fd_out)
{
    int fd = latch_net_listen_reuse(address, LISTEN_BACKLOG, reuse_port);
    if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        int usage = errno == EINVAL;
        fprintf(stderr, "latch %s: cannot listen on %s: %s\n", shared->options->command,
                address,
                usage ? "expected ADDR:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)" : strerror(errno));
        return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    *fd_out = fd;
    return 0;
}

/* "host:PORT": the host given, the port fd is bound to (also noted, as
 * the address bound, in shared->bound). */
static int bound_address(struct serve_shared *shared, int fd, char *out, size_t size)
{
    struct sockaddr_storage bound;
    socklen_t length = sizeof bound;
    char host[256], given_port[8];
    if (getsockname(fd, (struct sockaddr *)&bound, &length) != 0 ||
        latch_net_split_host_port(shared->options->listen, host, sizeof host, given_port,
                                  sizeof given_port) != 0)
        return -1;
    unsigned port = bound.ss_family == AF_INET6
                        ? ntohs(((const struct sockaddr_in6 *)&bound)->sin6_port)
                        : ntohs(((const struct sockaddr_in *)&bound)->sin_port);
    int v6 = strchr(host, ':') != NULL;
    snprintf(out, size, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
    latch_net_format_address((struct sockaddr *)&bound, length, shared->bound,
                             sizeof shared->bound);
    return 0;
}

/* One worker: its socket on the address given.  Several: first a plain
 * socket proves the address free (SO_REUSEPORT would quietly share a port
 * another server holds with it) and fixes the port (for port 0), then one
 * SO_REUSEPORT socket per worker on that port. */
static int open_all_listeners(struct serve_shared *shared, struct serve_worker *workers,
                              long count)
{
    char address[300];
    int probe = -1;
    if (count == 1)
        return open_listener(shared, shared->options->listen, 0, &workers[0].listen_fd);
    int status = open_listener(shared, shared->options->listen, 0, &probe);
    if (status == 0 && bound_address(shared, probe, address, sizeof address) != 0)
        status = CLI_EXIT_FAILURE;
    if (probe >= 0)
        close(probe);
    for (long i = 0; status == 0 && i < count; i++)
        status = open_listener(shared, address, 1, &workers[i].listen_fd);
    return status;
}

static int add_watch(int epoll_fd, int fd, struct serve_tag *tag)
{
    struct epoll_event event = {.events = EPOLLIN};
    event.data.ptr = tag;
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

static int setup_worker(struct serve_worker *worker)
{
    worker->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    worker->listener_tag.kind = SERVE_TAG_LISTENER;
    worker->stop_tag.kind = SERVE_TAG_STOP;
    if (worker->epoll_fd < 0 ||
        add_watch(worker->epoll_fd, worker->listen_fd, &worker->listener_tag) != 0 ||
        add_watch(worker->epoll_fd, worker->shared->stop_fd, &worker->stop_tag) != 0) {
        fprintf(stderr, "latch %s: epoll: %s\n", worker->shared->options->command,
                strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    serve_trace_open(worker); /* --trace: the listening port's TCP segments */
    /* serve: files are opened beneath this (no realpath per request) */
    if (worker->shared->options->mode == SERVE_MODE_HTTP && worker->shared->root != NULL)
        worker->root_fd = open(worker->shared->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return 0;
}

/* At the connection limit a new connection is closed at once (logged at
 * most once a second). */
static int over_limit(struct serve_worker *worker)
{
    struct serve_shared *shared = worker->shared;
    if (atomic_load(&shared->connections) < shared->options->max_connections)
        return 0;
    uint64_t now = serve_now_ms();
    if (now - worker->refused_logged_ms >= 1000) {
        worker->refused_logged_ms = now;
        fprintf(stderr, "latch %s: connection limit (%ld) reached; refusing new connections\n",
                shared->options->command, shared->options->max_connections);
    }
    return 1;
}

static void accept_connections(struct serve_worker *worker)
{
    for (int accepted = 0; accepted < 256 && worker->listen_fd >= 0; accepted++) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        int fd = accept4(worker->listen_fd, (struct sockaddr *)&peer, &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "latch %s: accept: %s\n", worker->shared->options->command,
                        strerror(errno));
            return;
        }
        if (over_limit(worker)) {
            close(fd);
            continue;
        }
        serve_conn_open(worker, fd, (struct sockaddr *)&peer, length);
    }
}

/* Stop accepting; idle connections close now, busy ones when done. */
static void begin_stop(struct serve_worker *worker)
{
    if (worker->stopping)
        return;
    worker->stopping = 1;
    worker->stop_deadline_ms =
        serve_now_ms() + (uint64_t)worker->shared->options->shutdown_timeout_ms;
    if (worker->listen_fd >= 0) {
        close(worker->listen_fd);
        worker->listen_fd = -1;
    }
    /* the eventfd stays readable (every worker sees it): stop watching it */
    epoll_ctl(worker->epoll_fd, EPOLL_CTL_DEL, worker->shared->stop_fd, NULL);
    for (struct serve_conn *conn = worker->connections, *next; conn != NULL; conn = next) {
        next = conn->next;
        serve_conn_stop(conn);
    }
    /* closed ones are freed after the event batch: later events may name them */
}

static void abort_all(struct serve_worker *worker)
{
    while (worker->connections != NULL)
        serve_conn_abort(worker->connections);
    serve_conn_bury(worker);
}

/* One batch of events; returns -1 if epoll failed. */
static int run_batch(struct serve_worker *worker, int timeout_ms)
{
    struct epoll_event events[MAX_EVENTS];
    int count = epoll_wait(worker->epoll_fd, events, MAX_EVENTS, timeout_ms);
    if (count < 0 && errno != EINTR) {
        fprintf(stderr, "latch %s: epoll_wait: %s\n", worker->shared->options->command,
                strerror(errno));
        return -1;
    }
    for (int i = 0; i < count; i++) {
        struct serve_tag *tag = events[i].data.ptr;
        if (tag->kind == SERVE_TAG_LISTENER)
            accept_connections(worker);
        else if (tag->kind == SERVE_TAG_STOP)
            begin_stop(worker);
        else if (tag->kind == SERVE_TAG_CAPTURE)
            serve_trace_segments(worker);
        else
            serve_conn_handle(tag, events[i].events);
    }
    serve_conn_bury(worker);
    return 0;
}

static void *worker_main(void *arg)
{
    struct serve_worker *worker = arg;
    struct serve_shared *shared = worker->shared;
    uint64_t last_sweep = serve_now_ms();
    for (;;) {
        if (atomic_load(&shared->stopping))
            begin_stop(worker);
        if (worker->stopping && ((worker->connection_count == 0 && worker->lingering == NULL) ||
                                 atomic_load(&shared->aborting) ||
                                 serve_now_ms() >= worker->stop_deadline_ms))
            break;
        serve_http_flush_logs(worker); /* the lines of the last batch, before sleeping */
        if (run_batch(worker, serve_trace_wait_ms(worker, SWEEP_INTERVAL_MS)) != 0) {
            worker->status = CLI_EXIT_FAILURE;
            break;
        }
        if (worker->lingering != NULL)
            serve_trace_sweep(worker, 0);
        if (serve_now_ms() - last_sweep >= SWEEP_INTERVAL_MS) {
            serve_conn_sweep(worker);
            serve_conn_bury(worker);
            last_sweep = serve_now_ms();
        }
    }
    abort_all(worker);
    serve_http_flush_logs(worker);
    serve_trace_close(worker);
    return NULL;
}

/* SIGTERM/SIGINT (stop) and SIGHUP (reload) arrive through a signalfd in
 * the main thread; workers start with them blocked.  SIGPIPE is ignored. */
static int open_signal_fd(sigset_t *handled)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(handled);
    sigaddset(handled, SIGTERM);
    sigaddset(handled, SIGINT);
    sigaddset(handled, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, handled, NULL) != 0)
        return -1;
    return signalfd(-1, handled, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void reopen_access_log(struct serve_shared *shared)
{
    const char *path = shared->options->access_log;
    if (path == NULL)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "latch %s: SIGHUP: cannot reopen the access log %s: %s\n",
                shared->options->command, path, strerror(errno));
        return;
    }
    pthread_mutex_lock(&shared->lock);
    int old = shared->access_log_fd;
    shared->access_log_fd = fd;
    pthread_mutex_unlock(&shared->lock);
    if (old >= 0)
        close(old);
}

/* SIGHUP: a new configuration (ticket key files re-read) for new
 * connections; the old one stays with its connections until they end. */
static void reload_config(struct serve_shared *shared)
{
    latch_config *config = NULL;
    const struct serve_options *options = shared->options;
    pthread_mutex_lock(&shared->lock);
    struct serve_config_ref *old = shared->current;
    pthread_mutex_unlock(&shared->lock);
    unsigned generation = old->generation + 1;
    if (serve_rebuild_config(options, shared->keylog, old->config, &config) != 0) {
        fprintf(stderr, "latch %s: SIGHUP: reload failed; keeping configuration %u\n",
                options->command, old->generation);
        return;
    }
    struct serve_config_ref *ref = serve_config_ref_new(config, generation);
    if (ref == NULL) {
        fprintf(stderr, "latch %s: SIGHUP: out of memory; keeping configuration %u\n",
                options->command, old->generation);
        return;
    }
    pthread_mutex_lock(&shared->lock);
    shared->current = ref;
    size_t open_connections = atomic_load(&old->users) - 1;
    pthread_mutex_unlock(&shared->lock);
    fprintf(stderr, "latch %s: SIGHUP: configuration %u (%d ticket key file%s re-read) "
                    "for new connections; %zu open connection%s keep configuration %u\n",
            options->command, generation, options->ticket_key_count,
            options->ticket_key_count == 1 ? "" : "s", open_connections,
            open_connections == 1 ? "" : "s", old->generation);
    serve_config_ref_release(old);
    reopen_access_log(shared);
}

static void request_stop(struct serve_shared *shared)
{
    uint64_t one = 1;
    if (atomic_exchange(&shared->stopping, 1)) {
        atomic_store(&shared->aborting, 1);
        say(shared, "%s", "second signal: stopping now");
    } else {
        say(shared, "%s", "stopping: no new connections; finishing the open ones");
    }
    if (write(shared->stop_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        say(shared, "stop: %s", strerror(errno));
}

/* The main thread: signals until every worker has returned. */
static void supervise(struct serve_shared *shared, int signal_fd, int done_fd, long workers)
{
    long finished = 0;
    while (finished < workers) {
        struct pollfd waiters[2] = {{.fd = signal_fd, .events = POLLIN},
                                    {.fd = done_fd, .events = POLLIN}};
        if (poll(waiters, 2, -1) < 0 && errno != EINTR)
            break;
        struct signalfd_siginfo info;
        while (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
            if (info.ssi_signo == SIGHUP && !atomic_load(&shared->stopping))
                reload_config(shared);
            else if (info.ssi_signo != SIGHUP)
                request_stop(shared);
        }
        uint64_t count = 0;
        if (read(done_fd, &count, sizeof count) == (ssize_t)sizeof count)
            finished += (long)count;
    }
}

struct worker_start {
    struct serve_worker *worker;
    int done_fd;
};

static void *worker_thread(void *arg)
{
    struct worker_start *start = arg;
    uint64_t one = 1;
    worker_main(start->worker);
    if (write(start->done_fd, &one, sizeof one) < 0)
        perror("latch: worker exit");
    return NULL;
}

/* Listening sockets and epoll sets for every worker. */
static int open_workers(struct serve_shared *shared, struct serve_worker *workers, long count)
{
    int status = open_all_listeners(shared, workers, count);
    /* --trace with several workers: steer connections by client port, so
     * that each worker's capture needs only its own (serve_trace_open) */
    if (status == 0 && shared->options->trace && count > 1 &&
        latch_net_reuseport_by_client_port(workers[0].listen_fd, (unsigned)count) == 0)
        shared->trace_steered = (unsigned)count;
    for (long i = 0; status == 0 && i < count; i++)
        status = setup_worker(&workers[i]);
    if (status == 0 && count == 1) {
        char address[300];
        if (bound_address(shared, workers[0].listen_fd, address, sizeof address) != 0)
            status = CLI_EXIT_FAILURE;
    }
    return status;
}

static void announce(const struct serve_shared *shared, long workers)
{
    const struct serve_options *options = shared->options;
    if (options->mode == SERVE_MODE_PROXY)
        fprintf(stderr, "latch proxy: forwarding to %s\n", options->backend);
    fprintf(stderr, "latch %s: %ld worker%s, up to %ld connections\n", options->command, workers,
            workers == 1 ? "" : "s", options->max_connections);
    fprintf(stderr, "latch %s: listening on %s\n", options->command, shared->bound);
    if (options->ready_fd >= 0) {
        const char *colon = strrchr(shared->bound, ':');
        dprintf(options->ready_fd, "%s\n", colon != NULL ? colon + 1 : "0");
        close(options->ready_fd);
    }
}

static int start_workers(struct serve_shared *shared, struct serve_worker *workers,
                         struct worker_start *starts, long count, int done_fd)
{
    for (long i = 0; i < count; i++) {
        starts[i].worker = &workers[i];
        starts[i].done_fd = done_fd;
        if (pthread_create(&workers[i].thread, NULL, worker_thread, &starts[i]) != 0) {
            fprintf(stderr, "latch %s: cannot start worker %ld\n", shared->options->command, i);
            return (int)i;
        }
        workers[i].thread_started = 1;
    }
    return (int)count;
}

static void close_workers(struct serve_worker *workers, long count)
{
    for (long i = 0; i < count; i++) {
        if (workers[i].thread_started)
            pthread_join(workers[i].thread, NULL);
        serve_trace_close(&workers[i]);
        if (workers[i].listen_fd >= 0)
            close(workers[i].listen_fd);
        if (workers[i].epoll_fd >= 0)
            close(workers[i].epoll_fd);
        if (workers[i].root_fd >= 0)
            close(workers[i].root_fd);
    }
}

/* Workers started, then supervised until they all returned. */
static int run_workers(struct serve_shared *shared, struct serve_worker *workers, long count,
                       int signal_fd)
{
    int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct worker_start *starts = calloc((size_t)count, sizeof *starts);
    int status = done_fd < 0 || starts == NULL ? CLI_EXIT_FAILURE : 0;
    if (status == 0) {
        long started = start_workers(shared, workers, starts, count, done_fd);
        if (started < count)
            request_stop(shared);
        supervise(shared, signal_fd, done_fd, started);
        say(shared, "%s", "stopped");
        if (started < count)
            status = CLI_EXIT_FAILURE;
    }
    close_workers(workers, count);
    for (long i = 0; i < count && status == 0; i++)
        status = workers[i].status;
    free(starts);
    if (done_fd >= 0)
        close(done_fd);
    return status;
}

int serve_run(struct serve_shared *shared)
{
    long count = shared->options->workers;
    sigset_t handled;
    int signal_fd = open_signal_fd(&handled);
    shared->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct serve_worker *workers = calloc((size_t)count, sizeof *workers);
    if (signal_fd < 0 || shared->stop_fd < 0 || workers == NULL) {
        fprintf(stderr, "latch %s: %s\n", shared->options->command, strerror(errno));
        free(workers);
        return CLI_EXIT_FAILURE;
    }
    for (long i = 0; i < count; i++) {
        workers[i].shared = shared;
        workers[i].index = (int)i;
        workers[i].listen_fd = -1;
        workers[i].epoll_fd = -1;
        workers[i].root_fd = -1;
    }
    int status = open_workers(shared, workers, count);
    if (status == 0) {
        announce(shared, count);
        status = run_workers(shared, workers, count, signal_fd);
    } else {
        close_workers(workers, count);
    }
    free(workers);
    close(shared->stop_fd);
    close(signal_fd); /* the signals stay blocked: one arriving now is ignored */
    return status;
}
