/*
 * hs_client: the OpenSSL libssl client that drives both bench servers.
 * Runs N connections one after the other against 127.0.0.1:PORT; each does
 * a full or resumed handshake, writes a 32-byte request, reads the reply and
 * sends close_notify.  With --pid it reads the server's CPU time (and RSS)
 * from /proc before and after the measured connections.
 *
 *   hs_client --port P [--pid PID] [--tls 1.2|1.3] [--cipher L] [--suites L]
 *             [--groups L] [--sigalgs L] [--resume none|ticket|id|psk]
 *             [-n N] [--warmup W] [--hold] [--label NAME]
 *
 * Prints one line:
 *   RESULT label=.. n=.. server_cpu_us=.. us_per_op=.. ops_per_cpu_s=.. ...
 * With --hold the N connections stay open and the line adds the server's
 * RSS before/after and bytes per idle connection.
 */
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

enum resume_mode { RESUME_NONE, RESUME_TICKET, RESUME_ID, RESUME_PSK };

struct options {
    int port;
    pid_t pid;
    int tls13;
    const char *cipher, *suites, *groups, *sigalgs, *label;
    enum resume_mode resume;
    int count, warmup, hold;
};

struct outcome {
    int resumed;
    char version[16], cipher[64], group[32];
};

static void fail_ssl(const char *what)
{
    fprintf(stderr, "hs_client: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static SSL_CTX *make_context(const struct options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int version = o->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (ctx == NULL)
        fail_ssl("SSL_CTX_new");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* same cost against both servers */
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (o->cipher != NULL && SSL_CTX_set_cipher_list(ctx, o->cipher) != 1)
        fail_ssl("cipher list");
    if (o->suites != NULL && SSL_CTX_set_ciphersuites(ctx, o->suites) != 1)
        fail_ssl("TLS 1.3 suites");
    if (o->groups != NULL && SSL_CTX_set1_groups_list(ctx, o->groups) != 1)
        fail_ssl("groups");
    if (o->sigalgs != NULL && SSL_CTX_set1_sigalgs_list(ctx, o->sigalgs) != 1)
        fail_ssl("signature algorithms");
    if (o->resume == RESUME_ID)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* sessions are kept by hand */
    return ctx;
}

/* One connection.  *session (if any) is offered and replaced by the newest
 * resumable one.  With keep != NULL the connection stays open. */
static void run_connection(SSL_CTX *ctx, const struct options *o, SSL_SESSION **session,
                           struct outcome *out, SSL **keep, int *keep_fd)
{
    static const char request[32] = "ping: latch bench request ....\n";
    char reply[256];
    int fd = bench_connect(o->port);
    if (fd < 0) {
        perror("hs_client: connect");
        exit(1);
    }
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
        fail_ssl("SSL_new");
    if (session != NULL && *session != NULL)
        SSL_set_session(ssl, *session);
    if (SSL_connect(ssl) != 1)
        fail_ssl("handshake");
    if (SSL_write(ssl, request, sizeof request) != (int)sizeof request)
        fail_ssl("write");
    if (SSL_read(ssl, reply, sizeof reply) <= 0) /* TLS 1.3 tickets arrive before it */
        fail_ssl("read");
    out->resumed += SSL_session_reused(ssl);
    snprintf(out->version, sizeof out->version, "%s", SSL_get_version(ssl));
    snprintf(out->cipher, sizeof out->cipher, "%s", SSL_get_cipher_name(ssl));
    int nid = SSL_get_negotiated_group(ssl);
    snprintf(out->group, sizeof out->group, "%s", nid > 0 ? OBJ_nid2sn(nid & 0xffff) : "-");
    if (session != NULL) {
        SSL_SESSION *fresh = SSL_get1_session(ssl);
        if (fresh != NULL && SSL_SESSION_is_resumable(fresh)) {
            SSL_SESSION_free(*session);
            *session = fresh;
        } else {
            SSL_SESSION_free(fresh);
        }
    }
    if (keep != NULL) {
        *keep = ssl;
        *keep_fd = fd;
        return;
    }
    SSL_shutdown(ssl); /* our close_notify; the server then frees the connection */
    SSL_free(ssl);
    close(fd);
}

static void parse(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},   {"pid", required_argument, NULL, 'P'},
        {"tls", required_argument, NULL, 'v'},    {"cipher", required_argument, NULL, 'c'},
        {"suites", required_argument, NULL, 's'}, {"groups", required_argument, NULL, 'g'},
        {"sigalgs", required_argument, NULL, 'a'}, {"resume", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, 'w'}, {"hold", no_argument, NULL, 'H'},
        {"label", required_argument, NULL, 'l'},  {NULL, 0, NULL, 0}};
    int option;
    memset(o, 0, sizeof *o);
    o->count = 1000;
    o->warmup = 20;
    o->label = "handshake";
    o->groups = "X25519";
    while ((option = getopt_long(argc, argv, "n:", options, NULL)) != -1) {
        switch (option) {
        case 'p': o->port = atoi(optarg); break;
        case 'P': o->pid = (pid_t)atoi(optarg); break;
        case 'v': o->tls13 = strcmp(optarg, "1.3") == 0; break;
        case 'c': o->cipher = optarg; break;
        case 's': o->suites = optarg; break;
        case 'g': o->groups = optarg; break;
        case 'a': o->sigalgs = optarg; break;
        case 'r':
            o->resume = strcmp(optarg, "ticket") == 0 ? RESUME_TICKET
                        : strcmp(optarg, "id") == 0   ? RESUME_ID
                        : strcmp(optarg, "psk") == 0  ? RESUME_PSK
                                                      : RESUME_NONE;
            break;
        case 'n': o->count = atoi(optarg); break;
        case 'w': o->warmup = atoi(optarg); break;
        case 'H': o->hold = 1; break;
        case 'l': o->label = optarg; break;
        default:
            bench_die("usage: hs_client --port P [--pid PID] [--tls 1.2|1.3] [--cipher L] "
                      "[--suites L] [--groups L] [--sigalgs L] [--resume none|ticket|id|psk] "
                      "[-n N] [--warmup W] [--hold] [--label NAME]");
        }
    }
    if (o->port <= 0 || o->count <= 0)
        bench_die("hs_client: --port and a positive -n are required");
}

int main(int argc, char **argv)
{
    struct options o;
    parse(argc, argv, &o);
    bench_raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    SSL_CTX *ctx = make_context(&o);
    SSL_SESSION *session = NULL, **sessionp = o.resume != RESUME_NONE ? &session : NULL;
    struct outcome out = {0};

    if (sessionp != NULL) /* a full handshake to get the first session */
        run_connection(ctx, &o, sessionp, &out, NULL, NULL);
    for (int i = 0; i < o.warmup; i++)
        run_connection(ctx, &o, sessionp, &out, NULL, NULL);
    memset(&out, 0, sizeof out);

    SSL **held = o.hold ? calloc((size_t)o.count, sizeof *held) : NULL;
    int *held_fd = o.hold ? calloc((size_t)o.count, sizeof *held_fd) : NULL;
    if (o.hold && (held == NULL || held_fd == NULL))
        bench_die("out of memory");
    usleep(100000); /* let the server settle after the warm-up */
    long rss_before = o.pid ? bench_proc_rss_kb(o.pid) : -1;
    int64_t cpu_before = o.pid ? bench_proc_cpu_ns(o.pid) : -1;
    uint64_t client_before = bench_self_cpu_us(), wall_before = bench_now_ns();
    for (int i = 0; i < o.count; i++)
        run_connection(ctx, &o, sessionp, &out, o.hold ? &held[i] : NULL,
                       o.hold ? &held_fd[i] : NULL);
    uint64_t wall = bench_now_ns() - wall_before, client = bench_self_cpu_us() - client_before;
    if (o.hold)
        usleep(200000); /* the last reply is out before the server files it */
    int64_t cpu_after = o.pid ? bench_proc_cpu_ns(o.pid) : -1;
    long rss_after = o.pid ? bench_proc_rss_kb(o.pid) : -1;

    double server_us = cpu_before >= 0 && cpu_after >= 0 ? (double)(cpu_after - cpu_before) / 1e3
                                                         : -1;
    printf("RESULT label=%s n=%d server_cpu_us=%.0f us_per_op=%.2f ops_per_cpu_s=%.1f "
           "client_cpu_us=%llu wall_s=%.3f resumed=%d version=%s cipher=%s group=%s",
           o.label, o.count, server_us, server_us / o.count,
           server_us > 0 ? o.count / (server_us / 1e6) : 0.0, (unsigned long long)client,
           (double)wall / 1e9, out.resumed, out.version, out.cipher, out.group);
    if (o.hold)
        printf(" rss_before_kb=%ld rss_after_kb=%ld bytes_per_conn=%.0f", rss_before, rss_after,
               (double)(rss_after - rss_before) * 1024.0 / o.count);
    printf("\n");
    if (o.resume != RESUME_NONE && out.resumed != o.count) {
        fprintf(stderr, "hs_client: %s: only %d of %d handshakes resumed\n", o.label,
                out.resumed, o.count);
        return 1;
    }
    if (o.hold)
        for (int i = 0; i < o.count; i++) {
            SSL_free(held[i]);
            close(held_fd[i]);
        }
    SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
    return 0;
}
