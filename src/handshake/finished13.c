/* TLS 1.3 Finished (20), key installation, KeyUpdate (24), and the
 * post-handshake messages (RFC 8446 4.4.4, 4.6). */
#include <string.h>

#include "handshake/handshake13.h"
#include "util/error.h"

int tls13_install_write(latch_conn *c, const uint8_t *secret, const char *what)
{
    record_protection fresh = {0};
    TRY(tls13_protection(c, secret, 1, &fresh));
    return engine_install_write_keys(c, &fresh, what);
}

int tls13_install_read(latch_conn *c, const uint8_t *secret, const char *what)
{
    record_protection fresh = {0};
    TRY(tls13_protection(c, secret, 0, &fresh));
    return engine_install_read_keys(c, &fresh, what);
}

int compat_change_cipher_spec_write(latch_conn *c, cursor *out) { return 0; }

static const uint8_t *finished_base(const latch_conn *c, int from_client)
{
    return from_client ? c->hs->client_handshake_secret : c->hs->server_handshake_secret;
}

int finished13_write(latch_conn *c, cursor *out)
{
    uint8_t hash[LATCH_MAX_HASH_LEN], verify[LATCH_MAX_HASH_LEN];
    size_t hash_len = sizeof hash;
    TRY(transcript_hash(c, hash, &hash_len));
    TRY(tls13_finished(c, finished_base(c, c->is_client), hash, hash_len, verify));
    return cursor_write_bytes(out, verify, c->hash_len);
}

/* After our Finished: the server starts sending application data; the
 * client switches to its application keys. */
int finished13_after_write(latch_conn *c)
{
    if (!c->is_client) {
        TRY(tls13_derive_application_secrets(c));
        return tls13_install_write(c, c->server_application_secret, "server application traffic");
    }
    TRY(tls13_install_write(c, c->client_application_secret, "client application traffic"));
    return tls13_derive_resumption_secret(c);
}

int finished13_read(latch_conn *c, cursor *body)
{
    uint8_t expected[LATCH_MAX_HASH_LEN];
    const uint8_t *received;
    TRY(cursor_read_bytes(body, &received, c->hash_len));
    TRY(cursor_expect_end(body));
    TRY(tls13_finished(c, finished_base(c, !c->is_client), c->hs->prior_hash, c->hs->prior_hash_len,
                       expected));
    if (latch_ct_compare(expected, received, c->hash_len) != 0)
        return engine_fail(c, LATCH_ERR_DECRYPT_ERROR,
                           "peer's Finished does not match the handshake transcript");
    engine_emit(c, LATCH_EVENT_NOTE, "Finished verified", c->is_client ? "server" : "client");
    if (c->is_client) {
        TRY(tls13_derive_application_secrets(c));
        return tls13_install_read(c, c->server_application_secret, "server application traffic");
    }
    TRY(tls13_install_read(c, c->client_application_secret, "client application traffic"));
    return tls13_derive_resumption_secret(c);
}

/* ---- KeyUpdate ---- */

static uint8_t *our_traffic_secret(latch_conn *c)
{
    return c->is_client ? c->client_application_secret : c->server_application_secret;
}

static uint8_t *peer_traffic_secret(latch_conn *c)
{
    return c->is_client ? c->server_application_secret : c->client_application_secret;
}

static int send_key_update(latch_conn *c, int request_peer)
{
    uint8_t body = request_peer ? 1 : 0;
    TRY(engine_queue_handshake(c, HANDSHAKE_KEY_UPDATE, &body, 1));
    TRY(engine_flush_handshake(c));
    TRY(tls13_next_traffic_secret(c, our_traffic_secret(c)));
    return tls13_install_write(c, our_traffic_secret(c), "updated write keys (KeyUpdate)");
}

int latch_conn_key_update(latch_conn *c, int request_peer)
{
    if (!c->handshake_done || c->failed || c->version != LATCH_VERSION_TLS13 || c->close_sent)
        return LATCH_ERR_UNEXPECTED_MESSAGE;
    return send_key_update(c, request_peer);
}

static int receive_key_update(latch_conn *c, cursor *body)
{
    uint8_t request;
    TRY(cursor_read_u8(body, &request));
    TRY(cursor_expect_end(body));
    if (request > 1)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "KeyUpdate request %u", request);
    TRY(tls13_next_traffic_secret(c, peer_traffic_secret(c)));
    TRY(tls13_install_read(c, peer_traffic_secret(c), "updated read keys (KeyUpdate)"));
    if (request == 1 && !c->close_sent)
        return send_key_update(c, 0);
    return 0;
}

int handshake_post_message(latch_conn *c, const uint8_t *msg, size_t len)
{
    cursor body;
    uint8_t type = msg[0];
    cursor_init(&body, msg + 4, len - 4);
    if (c->version != LATCH_VERSION_TLS13) {
        uint8_t asks = c->is_client ? HANDSHAKE_HELLO_REQUEST : HANDSHAKE_CLIENT_HELLO;
        if (type != asks)
            return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                               "%s received after the handshake",
                               latch_handshake_type_name(type));
        /* RFC 5746: latch never renegotiates */
        engine_emit(c, LATCH_EVENT_NOTE, "renegotiation refused", latch_handshake_type_name(type));
        return engine_send_alert(c, LATCH_ALERT_LEVEL_WARNING, LATCH_ALERT_NO_RENEGOTIATION);
    }
    if (type == HANDSHAKE_KEY_UPDATE)
        return receive_key_update(c, &body);
    if (type == HANDSHAKE_NEW_SESSION_TICKET && c->is_client)
        return new_session_ticket13_read(c, &body);
    return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "%s received after the handshake",
                       latch_handshake_type_name(type));
}
