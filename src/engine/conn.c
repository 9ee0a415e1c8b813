/* latch_conn: the sans-I/O connection.  Bytes in, bytes out. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/session.h"
#include "handshake/handshake.h"
#include "util/error.h"

/* ---- events ---- */

void engine_emit_event(latch_conn *c, latch_event *ev)
{
    const latch_config *cfg = c->config;
    latch_observer_fn fn = c->observer ? c->observer : cfg->observer;
    if (fn == NULL)
        return;
    ev->time_us = cfg->clock_us(cfg->clock_arg);
    fn(c->observer ? c->observer_arg : cfg->observer_arg, ev);
}

void latch_conn_set_observer(latch_conn *c, latch_observer_fn fn, void *arg)
{
    c->observer = fn;
    c->observer_arg = arg;
}

void engine_emit(latch_conn *c, latch_event_kind kind, const char *name, const char *detail)
{
    latch_event ev = {0};
    ev.kind = kind;
    ev.from_client = c->is_client;
    ev.name = name;
    ev.detail = detail;
    engine_emit_event(c, &ev);
}

/* Write one record and report it (protected length on the wire). */
int engine_write_record(latch_conn *c, record_protection *p, uint8_t type, uint16_t version,
                        const uint8_t *data, size_t len)
{
    size_t before = byte_queue_length(&c->send);
    TRY(record_write(p, &c->send, type, version, data, len));
    latch_event ev = {0};
    ev.kind = LATCH_EVENT_RECORD_SENT;
    ev.from_client = c->is_client;
    ev.content_type = type;
    ev.length = byte_queue_length(&c->send) - before - RECORD_HEADER_LEN;
    ev.name = latch_content_type_name(type);
    engine_emit_event(c, &ev);
    return 0;
}

static void emit_change_cipher_spec(latch_conn *c, latch_event_kind kind, int from_client,
                                    const char *detail)
{
    latch_event ev = {0};
    ev.kind = kind;
    ev.from_client = from_client;
    ev.content_type = CONTENT_CHANGE_CIPHER_SPEC;
    ev.length = 1;
    ev.name = "ChangeCipherSpec";
    ev.detail = detail;
    engine_emit_event(c, &ev);
}

void engine_emit_change_cipher_spec_received(latch_conn *c, const char *detail)
{
    emit_change_cipher_spec(c, LATCH_EVENT_CHANGE_CIPHER_SPEC_RECEIVED, !c->is_client, detail);
}

/* ---- failure: one sticky error, one alert ---- */

int engine_send_alert(latch_conn *c, uint8_t level, uint8_t description)
{
    uint8_t body[2] = {level, description};
    latch_event ev = {0};
    int err = engine_write_record(c, &c->write, CONTENT_ALERT, c->record_version, body, 2);
    ev.kind = LATCH_EVENT_ALERT_SENT;
    ev.from_client = c->is_client;
    ev.content_type = CONTENT_ALERT;
    ev.alert_level = level;
    ev.alert_description = description;
    ev.name = latch_alert_name(description);
    engine_emit_event(c, &ev);
    return err;
}

int engine_fail(latch_conn *c, int err, const char *fmt, ...)
{
    va_list ap;
    if (c->failed)
        return err;
    c->failed = 1;
    c->error = (latch_error)err;
    char reason[320];
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    c->reason = strdup(reason); /* NULL: latch_conn_error_reason falls back */
    int alert = latch_error_alert((latch_error)err);
    if (alert >= 0 && !c->close_sent) {
        c->alert = alert;
        c->alert_sent = 1;
        (void)engine_flush_handshake(c);
        (void)engine_send_alert(c, LATCH_ALERT_LEVEL_FATAL, (uint8_t)alert);
        c->close_sent = 1;
    }
    engine_emit(c, LATCH_EVENT_NOTE, "failed", latch_conn_error_reason(c));
    return err;
}

int engine_random(latch_conn *c, uint8_t *out, size_t n)
{
    if (c->config->random(c->config->random_arg, out, n) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "random generator failed");
    return 0;
}

/* ---- sending ---- */

static void emit_handshake(latch_conn *c, latch_event_kind kind, const uint8_t *msg, size_t len,
                           int from_client)
{
    latch_event ev = {0};
    ev.kind = kind;
    ev.from_client = from_client;
    ev.content_type = CONTENT_HANDSHAKE;
    ev.handshake_type = msg[0];
    ev.length = len - 4;
    ev.body = msg + 4;
    ev.name = latch_handshake_type_name(msg[0]);
    engine_emit_event(c, &ev);
}

int engine_queue_handshake(latch_conn *c, uint8_t type, const uint8_t *body, size_t len)
{
    uint8_t *dst = byte_queue_reserve(&c->handshake_out, len + 4);
    cursor w;
    if (dst == NULL)
        return engine_fail(c, LATCH_ERR_INTERNAL, "out of memory");
    cursor_init(&w, dst, len + 4);
    TRY(cursor_write_u8(&w, type));
    TRY(cursor_write_u24(&w, (uint32_t)len));
    TRY(cursor_write_bytes(&w, body, len));
    emit_handshake(c, LATCH_EVENT_HANDSHAKE_SENT, dst, len + 4, c->is_client);
    TRY(transcript_add(c, dst, len + 4));
    byte_queue_commit(&c->handshake_out, len + 4);
    return 0;
}

/* Several messages share a record where they fit; a long one spans records. */
int engine_flush_handshake(latch_conn *c)
{
    while (byte_queue_length(&c->handshake_out) > 0) {
        size_t n = byte_queue_length(&c->handshake_out);
        if (n > RECORD_MAX_PLAINTEXT)
            n = RECORD_MAX_PLAINTEXT;
        TRY(engine_write_record(c, &c->write, CONTENT_HANDSHAKE, c->record_version,
                                byte_queue_front(&c->handshake_out), n));
        byte_queue_consume(&c->handshake_out, n);
    }
    return 0;
}

static void install_keys(record_protection *current, record_protection *pending)
{
    record_protection_clear(current);
    *current = *pending;
    memset(pending, 0, sizeof *pending);
}

int engine_send_change_cipher_spec(latch_conn *c)
{
    static const uint8_t change_cipher_spec[1] = {1};
    TRY(engine_flush_handshake(c));
    TRY(engine_write_record(c, &c->write, CONTENT_CHANGE_CIPHER_SPEC, c->record_version,
                            change_cipher_spec, 1));
    emit_change_cipher_spec(c, LATCH_EVENT_CHANGE_CIPHER_SPEC_SENT, c->is_client, NULL);
    install_keys(&c->write, &c->hs->pending_write);
    engine_emit(c, LATCH_EVENT_KEYS_CHANGED, "write keys active",
                c->is_client ? "client write" : "server write");
    return 0;
}

int engine_activate_read_keys(latch_conn *c)
{
    return engine_install_read_keys(c, &c->hs->pending_read,
                                    c->is_client ? "server write" : "client write");
}

int engine_install_write_keys(latch_conn *c, record_protection *fresh, const char *what)
{
    TRY(engine_flush_handshake(c));
    install_keys(&c->write, fresh);
    engine_emit(c, LATCH_EVENT_KEYS_CHANGED, "write keys active", what);
    return 0;
}

int engine_install_read_keys(latch_conn *c, record_protection *fresh, const char *what)
{
    install_keys(&c->read, fresh);
    c->read_keys_changed = 1;
    engine_emit(c, LATCH_EVENT_KEYS_CHANGED, "read keys active", what);
    return 0;
}

/* RFC 8446 D.4: a plaintext ChangeCipherSpec that changes nothing. */
int engine_send_compat_change_cipher_spec(latch_conn *c)
{
    static const uint8_t change_cipher_spec[1] = {1};
    record_protection plaintext = {0};
    TRY(engine_flush_handshake(c));
    TRY(engine_write_record(c, &plaintext, CONTENT_CHANGE_CIPHER_SPEC, LATCH_VERSION_TLS12,
                            change_cipher_spec, 1));
    emit_change_cipher_spec(c, LATCH_EVENT_CHANGE_CIPHER_SPEC_SENT, c->is_client,
                            "middlebox compatibility (RFC 8446 D.4)");
    return 0;
}

void engine_keylog(latch_conn *c, const char *label, const uint8_t *secret, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char line[64 + 1 + 64 + 1 + 2 * LATCH_MAX_HASH_LEN + 1];
    size_t n = 0;
    if (c->config->keylog == NULL || strlen(label) > 63 || len > LATCH_MAX_HASH_LEN)
        return;
    n += (size_t)snprintf(line, sizeof line, "%s ", label);
    for (size_t i = 0; i < 32; i++) {
        line[n++] = hex[c->client_random[i] >> 4];
        line[n++] = hex[c->client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < len; i++) {
        line[n++] = hex[secret[i] >> 4];
        line[n++] = hex[secret[i] & 15];
    }
    line[n] = '\0';
    c->config->keylog(c->config->keylog_arg, line);
    latch_wipe(line, sizeof line);
}

/* ---- lifecycle ---- */

/* A client configuration without CA settings gets the system store from its
 * first connection.  Connections may be made from several threads: one of
 * them loads it (cheaply: src/x509/verify.c reads it on demand). */
static int load_system_store(latch_config *cfg)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int err = 0;
    pthread_mutex_lock(&lock);
    if (cfg->trust == NULL)
        err = latch_config_set_ca(cfg, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return err;
}

latch_conn *latch_conn_new(latch_config *cfg, const char *server_name)
{
    latch_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if ((c->hs = calloc(1, sizeof *c->hs)) == NULL) {
        free(c);
        return NULL;
    }
    c->config = cfg; /* the receive buffer is allocated when bytes are expected */
    c->is_client = cfg->role == LATCH_ROLE_CLIENT;
    c->record_version = c->is_client ? LATCH_VERSION_TLS10 : LATCH_VERSION_TLS12;
    c->handshake_in.limit = LATCH_MAX_HANDSHAKE_MESSAGE + 4 + RECORD_MAX_PLAINTEXT;
    c->send.public_only = 1; /* records as sent: ciphertext and public handshake bytes */
    if (server_name != NULL)
        snprintf(c->server_name, sizeof c->server_name, "%s", server_name);
    if (!c->is_client) {
        (void)handshake_begin(c);
        return c;
    }
    if (cfg->verify && load_system_store(cfg) != 0)
        (void)engine_fail(c, LATCH_ERR_CONFIG, "%s", cfg->error);
    return c; /* the ClientHello is written when first asked for (engine_start) */
}

/* Client: write the ClientHello (lazily, so a session can be set first). */
void engine_start(latch_conn *c)
{
    if (!c->is_client || c->started || c->failed)
        return;
    c->started = 1;
    (void)handshake_begin(c);
    c->record_version = LATCH_VERSION_TLS12;
}

int latch_conn_set_session(latch_conn *c, const latch_session *session)
{
    if (!c->is_client || c->started || session == NULL)
        return LATCH_ERR_CONFIG;
    if (strcmp(session->server_name, c->server_name) != 0) /* never offer it elsewhere */
        return LATCH_ERR_CONFIG;
    latch_session_free(c->offered);
    c->offered = session_copy(session);
    return c->offered ? 0 : LATCH_ERR_INTERNAL;
}

latch_session *latch_conn_get_session(const latch_conn *c)
{
    if (!c->is_client || c->fresh == NULL || !c->handshake_done || c->failed)
        return NULL;
    return session_copy(c->fresh);
}

int latch_conn_resumed(const latch_conn *c) { return c->resumed; }

void engine_release_handshake(latch_conn *c)
{
    struct latch_handshake *hs = c->hs;
    if (hs == NULL)
        return;
    record_protection_clear(&hs->pending_read);
    record_protection_clear(&hs->pending_write);
    byte_queue_free(&hs->transcript_pending);
    if (hs->transcript_ready)
        latch_hash_free(&hs->transcript);
    latch_wipe(hs, sizeof *hs);
    free(hs);
    c->hs = NULL;
}

int engine_set_peer_subject(latch_conn *c, const char *subject)
{
    char *copy = strdup(subject);
    if (copy == NULL)
        return engine_fail(c, LATCH_ERR_INTERNAL, "out of memory");
    free(c->peer_subject);
    c->peer_subject = copy;
    return 0;
}

void latch_conn_free(latch_conn *c)
{
    if (c == NULL)
        return;
    record_protection_clear(&c->read);
    record_protection_clear(&c->write);
    engine_release_handshake(c);
    byte_queue_free(&c->send);
    byte_queue_free(&c->app_in);
    byte_queue_free(&c->handshake_in);
    byte_queue_free(&c->handshake_out);
    free(c->reason);
    free(c->peer_subject);
    EVP_PKEY_free(c->key_exchange_key);
    EVP_PKEY_free(c->peer_public_key);
    latch_session_free(c->offered);
    latch_session_free(c->fresh);
    engine_release_receive_buffer(c);
    latch_wipe(c, sizeof *c);
    free(c);
}
