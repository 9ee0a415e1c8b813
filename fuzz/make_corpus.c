/*
 * make_corpus: writes the seed corpora of the fuzz harnesses from real
 * handshakes, in memory, between latch clients and the fuzz server
 * configuration (fuzz_common.h: deterministic random source and clocks).
 *
 *   make_corpus [OUTDIR]     (default: fuzz/corpus beside this file)
 *
 * Every recorded stream is checked by replaying it as the harness would:
 * a server fed the client's bytes must finish its handshake, a client fed
 * the server's bytes too.  Re-run it after a change to the handshake bytes
 * (new extension, other order); the files are small (< 200 KB in all).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/internal.h"
#include "fuzz_common.h"
#include "util/buffer.h"
#include "x509/x509.h"

static const char *outdir = LATCH_FUZZ_CORPUS;
static int failures;

static void write_file(const char *harness, const char *name, const uint8_t *prefix,
                       size_t prefix_len, const uint8_t *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, harness);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", outdir, harness, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(prefix, 1, prefix_len, f) != prefix_len ||
        (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- recording a connection ---- */

typedef struct recording {
    byte_queue to_server, to_client;
    size_t first_flight; /* bytes of the client's first flight (the ClientHello) */
} recording;

static size_t move(latch_conn *from, latch_conn *to, byte_queue *tape)
{
    size_t len, total = 0;
    const uint8_t *bytes = latch_conn_send_buf(from, &len);
    while (len > 0) {
        if (byte_queue_append(tape, bytes, len) != 0)
            abort();
        ssize_t n = latch_conn_feed(to, bytes, len);
        (void)n;
        latch_conn_send_done(from, len);
        total += len;
        bytes = latch_conn_send_buf(from, &len);
    }
    return total;
}

static void pump(latch_conn *client, latch_conn *server, recording *r)
{
    size_t moved;
    do {
        moved = move(client, server, &r->to_server);
        if (r->first_flight == 0)
            r->first_flight = byte_queue_length(&r->to_server);
        moved += move(server, client, &r->to_client);
    } while (moved > 0);
}

static int read_all(latch_conn *conn)
{
    uint8_t buf[4096];
    ssize_t n, total = 0;
    while ((n = latch_conn_read(conn, buf, sizeof buf)) > 0)
        total += n;
    return (int)total;
}

/* One connection: handshake, a request and a response, a KeyUpdate (1.3),
 * close_notify.  Returns the client's session (caller frees) if asked. */
static latch_session *record(unsigned variant, const latch_session *resume, recording *r)
{
    static const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    latch_session *session = NULL;
    memset(r, 0, sizeof *r);
    fuzz_rng_reset();
    latch_conn *client = latch_conn_new(fuzz_client_config(variant), FUZZ_SERVER_NAME);
    latch_conn *server = latch_conn_new(fuzz_server_config(), NULL);
    if (client == NULL || server == NULL)
        abort();
    if (resume != NULL && latch_conn_set_session(client, resume) != 0)
        abort();
    pump(client, server, r);
    if (!(latch_conn_status(client) & LATCH_STATUS_READY) ||
        !(latch_conn_status(server) & LATCH_STATUS_READY)) {
        fprintf(stderr, "%s: handshake failed: client '%s', server '%s'\n",
                fuzz_client_variant_name(variant), latch_conn_error_reason(client),
                latch_conn_error_reason(server));
        exit(1);
    }
    if (resume != NULL && !latch_conn_resumed(server)) {
        fprintf(stderr, "%s: the session was not resumed\n", fuzz_client_variant_name(variant));
        exit(1);
    }
    latch_conn_write(client, request, sizeof request - 1);
    pump(client, server, r);
    read_all(server);
    latch_conn_write(server, response, sizeof response - 1);
    pump(client, server, r);
    read_all(client);
    if (latch_conn_version(client) == LATCH_VERSION_TLS13) {
        latch_conn_key_update(client, 1);
        latch_conn_write(client, "more", 4);
        pump(client, server, r);
        read_all(server);
    }
    session = latch_conn_get_session(client);
    latch_conn_close(client);
    pump(client, server, r);
    latch_conn_free(client);
    latch_conn_free(server);
    return session;
}

/* ---- the self-check: replay as the harnesses do ---- */

static void check_server_replay(const char *name, const uint8_t *data, size_t len)
{
    fuzz_rng_reset();
    latch_conn *server = latch_conn_new(fuzz_server_config(), NULL);
    fuzz_feed(server, data, len, 0);
    unsigned st = latch_conn_status(server);
    if ((st & LATCH_STATUS_FAILED) || !(st & LATCH_STATUS_CLOSED)) {
        fprintf(stderr, "replay %s (server): status 0x%x: %s\n", name, st,
                latch_conn_error_reason(server));
        failures++;
    }
    latch_conn_free(server);
}

static void check_client_replay(const char *name, unsigned variant, const uint8_t *data,
                                size_t len)
{
    fuzz_rng_reset();
    latch_conn *client = latch_conn_new(fuzz_client_config(variant), FUZZ_SERVER_NAME);
    fuzz_drain(client);
    fuzz_feed(client, data, len, 0);
    unsigned st = latch_conn_status(client);
    if ((st & LATCH_STATUS_FAILED) || !(st & LATCH_STATUS_READY)) {
        fprintf(stderr, "replay %s (client): status 0x%x: %s\n", name, st,
                latch_conn_error_reason(client));
        failures++;
    }
    latch_conn_free(client);
}

static void handshake_corpora(void)
{
    for (unsigned v = 0; v < FUZZ_CLIENT_VARIANTS; v++) {
        recording r;
        char name[128];
        const char *vn = fuzz_client_variant_name(v);
        latch_session *session = record(v, NULL, &r);
        const uint8_t *cs = byte_queue_front(&r.to_server), *sc = byte_queue_front(&r.to_client);
        size_t cs_len = byte_queue_length(&r.to_server), sc_len = byte_queue_length(&r.to_client);
        uint8_t prefix[2];

        check_server_replay(vn, cs, cs_len);
        /* RSA key exchange: libcrypto pads the pre-master with its own random
         * bytes, so the server's Finished is not the same on replay */
        if (v != FUZZ_CLIENT_TLS12_RSA)
            check_client_replay(vn, v, sc, sc_len);

        prefix[0] = 0; /* whole */
        write_file("fuzz_server", vn, prefix, 1, cs, cs_len);
        if (v == FUZZ_CLIENT_DEFAULT || v == FUZZ_CLIENT_TLS12_ECDHE) {
            snprintf(name, sizeof name, "%s-split", vn);
            prefix[0] = 5; /* chunks of 1..5 bytes */
            write_file("fuzz_server", name, prefix, 1, cs, cs_len);
        }
        prefix[0] = (uint8_t)v;
        prefix[1] = 0;
        write_file("fuzz_server_after_hello", vn, prefix, 2, cs + r.first_flight,
                   cs_len - r.first_flight);
        write_file("fuzz_client", vn, prefix, 2, sc, sc_len);
        if (v == FUZZ_CLIENT_DEFAULT) {
            snprintf(name, sizeof name, "%s-split", vn);
            prefix[1] = 70; /* chunks up to 1792 bytes */
            write_file("fuzz_client", name, prefix, 2, sc, sc_len);
        }

        if (session != NULL) {
            uint8_t *bytes;
            size_t len;
            if (latch_session_serialize(session, &bytes, &len) != 0)
                abort();
            prefix[0] = 0;
            write_file("fuzz_session", vn, prefix, 1, bytes, len);
            /* the plaintext a server seals: the same encoding, no ticket inside */
            latch_session plain = *session;
            plain.ticket = NULL;
            plain.ticket_len = 0;
            uint8_t *plain_bytes;
            size_t plain_len;
            if (latch_session_serialize(&plain, &plain_bytes, &plain_len) != 0)
                abort();
            snprintf(name, sizeof name, "%s-sealed", vn);
            prefix[0] = 2;
            write_file("fuzz_session", name, prefix, 1, plain_bytes, plain_len);
            if (session->ticket_len > 0) {
                snprintf(name, sizeof name, "%s-ticket", vn);
                prefix[0] = 1;
                write_file("fuzz_session", name, prefix, 1, session->ticket, session->ticket_len);
            }
            free(plain_bytes);
            free(bytes);
        }

        /* resumption: the server's side of a resumed handshake */
        if (session != NULL && (v == FUZZ_CLIENT_DEFAULT || v == FUZZ_CLIENT_TLS12_ECDHE)) {
            recording again;
            latch_session *next = record(v, session, &again);
            snprintf(name, sizeof name, "%s-resumed", vn);
            check_server_replay(name, byte_queue_front(&again.to_server),
                                byte_queue_length(&again.to_server));
            prefix[0] = 0;
            write_file("fuzz_server", name, prefix, 1, byte_queue_front(&again.to_server),
                       byte_queue_length(&again.to_server));
            latch_session_free(next);
            byte_queue_free(&again.to_server);
            byte_queue_free(&again.to_client);
        }
        latch_session_free(session);
        byte_queue_free(&r.to_server);
        byte_queue_free(&r.to_client);
    }
}

/* ---- certificates: the test PKI's chains, as DER concatenations ---- */

static void certificate_corpus(void)
{
    static const struct {
        const char *file;
        uint8_t flags; /* fuzz_certificate: host index, time */
    } chains[] = {
        {"server-ed25519.pem", 1}, {"server-p256.pem", 1},   {"server-rsa2048.pem", 1},
        {"server-p384.pem", 0},    {"expired.pem", 1},       {"wrong-name.pem", 1},
        {"self-signed.pem", 1},    {"weak-sha1.pem", 1},     {"client-only-eku.pem", 1},
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        char path[512], reason[256];
        snprintf(path, sizeof path, FUZZ_PKI "%s", chains[i].file);
        latch_cert_key *ck = latch_certificates_load(path, reason, sizeof reason);
        if (ck == NULL) {
            fprintf(stderr, "%s: %s\n", path, reason);
            exit(1);
        }
        byte_queue all = {0};
        for (size_t k = 0; k < ck->count && k < 3; k++)
            if (byte_queue_append(&all, ck->der[k], ck->der_len[k]) != 0)
                abort();
        write_file("fuzz_certificate", chains[i].file, &chains[i].flags, 1, byte_queue_front(&all),
                   byte_queue_length(&all));
        byte_queue_free(&all);
        latch_cert_key_free(ck);
    }
}

/* ---- HTTP: a few heads and bodies ---- */

static void http_corpus(void)
{
    static const struct {
        const char *name;
        uint8_t mode;
        const char *text;
    } samples[] = {
        {"url", 0, "https://localhost:8443/index.html?q=1"},
        {"url-ipv6", 0, "https://[::1]:8443/a/b"},
        {"url-bare", 0, "https://example.com"},
        {"request", 1, "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"},
        {"request-body", 1, "POST /x HTTP/1.0\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
        {"request-lf", 1, "HEAD / HTTP/1.1\nHost: a\n\n"},
        {"response-length", 2, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"},
        {"response-chunked", 2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: 1\r\n\r\n"},
        {"response-close", 2, "HTTP/1.0 200 OK\r\n\r\nuntil close"},
        {"response-100", 2, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"},
        {"response-head", 3, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"},
        {"headers", 4, "Host: a\r\nContent-Length: 12\r\nConnection: keep-alive, Upgrade\r\n\r\n"},
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        write_file("fuzz_http", samples[i].name, &samples[i].mode, 1,
                   (const uint8_t *)samples[i].text, strlen(samples[i].text));
}

int main(int argc, char **argv)
{
    if (argc > 1)
        outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        perror(outdir);
        return 1;
    }
    handshake_corpora();
    certificate_corpus();
    http_corpus();
    fuzz_cleanup();
    if (failures) {
        fprintf(stderr, "%d recorded stream(s) do not replay: the fuzz set-up is not "
                        "deterministic\n", failures);
        return 1;
    }
    printf("corpus written to %s\n", outdir);
    return 0;
}
