/* latch serve / proxy: building the server configuration (also on SIGHUP,
 * keeping the session-id cache),
 * the reference counts that keep an old one alive for its connections, and
 * the shared access log. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SESSION_LIFETIME_SECONDS = 7200, TICKET_FILE_MAX = 81 };

static int config_problem(const latch_config *config)
{
    fprintf(stderr, "latch: %s\n", latch_config_error(config));
    return CLI_EXIT_USAGE;
}

/* nginx's ssl_session_ticket_key file: exactly 80 or 48 bytes. */
static int add_ticket_key_file(latch_config *config, const char *path)
{
    uint8_t key[TICKET_FILE_MAX];
    size_t used = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "latch: --ticket-key %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    for (;;) {
        ssize_t got = read(fd, key + used, sizeof key - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || (used += (size_t)got) == sizeof key)
            break;
    }
    close(fd);
    int status = 0;
    if (used != 80 && used != 48) {
        fprintf(stderr, "latch: --ticket-key %s: a ticket key file holds 80 or 48 bytes "
                        "(e.g. openssl rand 80 > FILE), not %s%zu\n",
                path, used == sizeof key ? "more than " : "", used == sizeof key ? 80 : used);
        status = CLI_EXIT_USAGE;
    } else if (latch_config_add_ticket_key(config, key, used) != 0) {
        status = config_problem(config);
    }
    memset(key, 0, sizeof key);
    return status;
}

/* Client authentication, tickets, the session cache, the key log. */
static int apply_session_options(const struct serve_options *options, FILE *keylog,
                                 latch_config *config)
{
    if (options->client_ca != NULL &&
        latch_config_set_client_auth(config, options->client_auth, options->client_ca) != 0)
        return config_problem(config);
    for (int i = 0; i < options->ticket_key_count; i++) {
        int status = add_ticket_key_file(config, options->ticket_keys[i]);
        if (status != 0)
            return status;
    }
    if (options->no_tickets &&
        latch_config_set_tickets(config, 0, SESSION_LIFETIME_SECONDS) != 0)
        return config_problem(config);
    if (options->session_cache >= 0 &&
        latch_config_set_session_cache(config, (size_t)options->session_cache,
                                       SESSION_LIFETIME_SECONDS) != 0)
        return config_problem(config);
    if (keylog != NULL)
        latch_config_set_keylog(config, latch_keylog_write, keylog);
    /* the proxy relays a TLS 1.3 client's close_notify as a TCP half-close
     * and goes on sending what the backend answers */
    if (options->mode == SERVE_MODE_PROXY)
        latch_config_set_half_close(config, 1);
    return 0;
}

int serve_build_config(const struct serve_options *options, FILE *keylog, latch_config **out)
{
    *out = NULL;
    latch_config *config = latch_config_new(LATCH_ROLE_SERVER);
    if (config == NULL) {
        fprintf(stderr, "latch: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    int status = 0;
    for (int i = 0; status == 0 && i < options->cert_count; i++)
        if (latch_config_add_cert_key_files(config, options->certs[i], options->keys[i]) != 0)
            status = config_problem(config);
    if (status == 0)
        status = cli_apply_tls_options(config, &options->tls);
    if (status == 0)
        status = apply_session_options(options, keylog, config);
    if (status != 0) {
        latch_config_free(config);
        return status;
    }
    *out = config;
    return 0;
}

int serve_rebuild_config(const struct serve_options *options, FILE *keylog,
                         const latch_config *previous, latch_config **out)
{
    int status = serve_build_config(options, keylog, out);
    if (status != 0 || previous == NULL)
        return status;
    /* the session-id cache outlives the reload (tickets survive it through
     * their key files); both configurations use it while old connections run */
    if (latch_config_share_session_cache(*out, previous) != 0) {
        status = config_problem(*out);
        latch_config_free(*out);
        *out = NULL;
    }
    return status;
}

struct serve_config_ref *serve_config_ref_new(latch_config *config, unsigned generation)
{
    struct serve_config_ref *ref = calloc(1, sizeof *ref);
    if (ref == NULL) {
        latch_config_free(config);
        return NULL;
    }
    ref->config = config;
    ref->generation = generation;
    atomic_init(&ref->users, 1);
    return ref;
}

void serve_config_ref_release(struct serve_config_ref *ref)
{
    if (ref == NULL || atomic_fetch_sub(&ref->users, 1) > 1)
        return;
    latch_config_free(ref->config);
    free(ref);
}

struct serve_config_ref *serve_config_acquire(struct serve_shared *shared)
{
    pthread_mutex_lock(&shared->lock);
    struct serve_config_ref *ref = shared->current;
    atomic_fetch_add(&ref->users, 1);
    pthread_mutex_unlock(&shared->lock);
    return ref;
}

void serve_access_log_write(struct serve_shared *shared, const char *line, size_t length)
{
    pthread_mutex_lock(&shared->lock);
    if (shared->access_log_fd >= 0) {
        ssize_t written;
        do /* O_APPEND: one write per line keeps lines whole */
            written = write(shared->access_log_fd, line, length);
        while (written < 0 && errno == EINTR);
    }
    pthread_mutex_unlock(&shared->lock);
}
