/* Resumption: TLS 1.2 session IDs and tickets (RFC 5246 7.3, RFC 5077),
 * TLS 1.3 PSK from tickets (RFC 8446 2.2, 4.2.11, 4.6.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/session.h"
#include "handshake/extensions.h"
#include "handshake/handshake13.h"
#include "util/error.h"

#define TICKET_AGE_TOLERANCE_MS 10000

/* Client: the session offered for this version.  A client that verifies
 * does not offer a session whose server certificate was never verified (made
 * with verification off): resuming it would skip the check. */
const latch_session *client_offered_session(const latch_conn *c, uint16_t version)
{
    const latch_session *s = c->offered;
    if (s == NULL || s->version != version || (c->config->verify && !s->peer_verified))
        return NULL;
    return s;
}

/* ---- the peer's identity in the session ----
 * A resumed handshake has no Certificate: the identity verified in the full
 * handshake comes back from the session (server: the client's certificate,
 * mutual TLS; client: the server's). */

int resumption_restore_identity(latch_conn *c, const latch_session *s)
{
    if (!s->peer_verified)
        return 0;
    if (!c->is_client && c->config->client_auth == LATCH_CLIENT_AUTH_NONE)
        return 0; /* this server does not ask who the client is */
    TRY(engine_set_peer_subject(c, s->peer_subject));
    if (!c->is_client)
        c->peer_sent_certificate = 1; /* re-issued tickets keep the identity */
    engine_emit(c, LATCH_EVENT_NOTE,
                c->is_client ? "server identity resumed" : "client identity resumed",
                s->peer_subject);
    return 0;
}

/* Server: a session may be resumed only if it proves as much about the client
 * as a full handshake would: with client certificates required, a session
 * made without one means a full handshake (which then asks for one). */
static int identity_usable(latch_conn *c, const latch_session *s)
{
    if (c->config->client_auth == LATCH_CLIENT_AUTH_REQUIRE && !s->peer_verified) {
        engine_emit(c, LATCH_EVENT_NOTE, "resumption refused",
                    "the session has no client certificate, and one is required");
        return 0;
    }
    return 1;
}

/* ---- client: what the ClientHello offers ---- */

int client_choose_session_id(latch_conn *c)
{
    const latch_session *s = client_offered_session(c, LATCH_VERSION_TLS12);
    c->session_id_len = 0;
    if (s != NULL && s->ticket_len == 0 && s->session_id_len > 0) {
        c->session_id_len = s->session_id_len; /* resume by ID */
        memcpy(c->session_id, s->session_id, s->session_id_len);
        return 0;
    }
    /* RFC 5077 3.4: a random ID to recognise a ticket resumption; 1.3 middlebox
     * compatibility wants one too */
    if (s != NULL || c->config->max_version >= LATCH_VERSION_TLS13) {
        c->session_id_len = 32;
        return engine_random(c, c->session_id, 32);
    }
    return 0;
}

int client_session_ticket_write(latch_conn *c, cursor *out)
{
    const latch_session *s = client_offered_session(c, LATCH_VERSION_TLS12);
    if (c->config->min_version > LATCH_VERSION_TLS12)
        return 0;
    TRY(cursor_write_u16(out, EXT_SESSION_TICKET));
    return cursor_write_vector(out, 2, s ? s->ticket : NULL, s ? s->ticket_len : 0);
}

/* ---- TLS 1.2 server ---- */

static int session_usable12(latch_conn *c, const latch_session *s)
{
    const latch_suite *suite = suite_find(s->suite);
    int client_offers = 0;
    for (size_t i = 0; i < c->hs->peer.suite_count; i++)
        client_offers |= c->hs->peer.suites[i] == s->suite;
    if (s->version != LATCH_VERSION_TLS12 || suite == NULL || !client_offers)
        return 0;
    /* RFC 7627 5.3: the EMS state must match, else a full handshake */
    if (s->extended_master_secret != c->hs->peer.extended_master_secret) {
        engine_emit(c, LATCH_EVENT_NOTE, "resumption refused", "extended_master_secret mismatch");
        return 0;
    }
    /* RFC 7366: the resumed connection keeps the session's EtM state (no
     * downgrade to MAC-then-encrypt), else a full handshake */
    if (s->encrypt_then_mac != server_encrypt_then_mac(c, suite)) {
        engine_emit(c, LATCH_EVENT_NOTE, "resumption refused", "encrypt_then_mac mismatch");
        return 0;
    }
    return identity_usable(c, s);
}

static int resume_from(latch_conn *c, const latch_session *s, const char *how)
{
    c->resumed = 1;
    c->suite = suite_find(s->suite);
    c->extended_master_secret = s->extended_master_secret;
    c->encrypt_then_mac = s->encrypt_then_mac;
    memcpy(c->master_secret, s->secret, 48);
    handshake_switch_flow(c, &tls12_resumed_handshake);
    engine_emit(c, LATCH_EVENT_NOTE, "resumption accepted", how);
    return resumption_restore_identity(c, s);
}

/* Server: resume s.  The ServerHello echoes the client's session ID (RFC
 * 5246 7.4.1.3; with a ticket, RFC 5077 3.4), and a ticket issued in this
 * handshake keeps the session's first issue time. */
static int server_resume12(latch_conn *c, const latch_session *s, const char *how,
                           const uint8_t *client_id, size_t id_len)
{
    c->session_id_len = id_len;
    memcpy(c->session_id, client_id, id_len);
    c->hs->renew_issued_ms = s->issued_ms;
    return resume_from(c, s, how);
}

/* Before choosing fresh parameters: a ticket, then the session-id cache. */
int server_try_resume12(latch_conn *c, const uint8_t *client_id, size_t id_len)
{
    latch_config *cfg = c->config;
    latch_session cached;
    c->send_ticket = cfg->tickets_enabled && c->peer_sent_ticket_extension;
    if (c->send_ticket && c->peer_ticket_len > 0) {
        size_t key_index = 0;
        latch_session *s = ticket_open(cfg, c->peer_ticket, c->peer_ticket_len, &key_index);
        int ok = s != NULL && session_usable12(c, s), err = 0;
        if (ok) {
            err = server_resume12(c, s, "session ticket", client_id, id_len);
            /* RFC 5077 3.3: the server MAY renew the ticket.  Like nginx, only
             * when it was sealed under an older key (after a rotation), and
             * without extending the session (server_resume12).  Otherwise
             * the client keeps its ticket. */
            c->send_ticket = key_index != 0;
        } else {
            engine_emit(c, LATCH_EVENT_NOTE, "resumption refused", "ticket not accepted");
        }
        latch_session_free(s);
        TRY(err);
        if (ok)
            return 1;
    }
    if (cfg->cache != NULL && id_len > 0 &&
        session_cache_get(cfg->cache, client_id, id_len, session_now_ms(cfg), &cached)) {
        int ok = session_usable12(c, &cached), err = 0;
        if (ok)
            err = server_resume12(c, &cached, "session id", client_id, id_len);
        latch_wipe(&cached, sizeof cached);
        if (err != 0 || ok)
            return err != 0 ? err : 1;
        /* refused: a fresh ID for the full handshake (not the client's) */
    }
    if (cfg->cache != NULL) { /* a fresh ID for this session */
        c->session_id_len = 32;
        TRY(engine_random(c, c->session_id, 32));
    }
    return 0;
}

/* ---- TLS 1.2 client: did the server resume? ---- */

int client_check_resumed12(latch_conn *c, const uint8_t *id, size_t id_len)
{
    const latch_session *s = client_offered_session(c, LATCH_VERSION_TLS12);
    if (s == NULL || id_len == 0 || id_len != c->session_id_len ||
        memcmp(id, c->session_id, id_len) != 0)
        return 0;
    if (c->suite->id != s->suite)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server resumed with another cipher suite");
    if (c->hs->peer.extended_master_secret != s->extended_master_secret) /* RFC 7627 5.3 */
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE,
                           "server resumed with a different extended_master_secret state");
    if (c->encrypt_then_mac != s->encrypt_then_mac) /* RFC 7366: same EtM state */
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE,
                           "server resumed with a different encrypt_then_mac state");
    return resume_from(c, s, s->ticket_len > 0 ? "session ticket" : "session id");
}

/* ---- NewSessionTicket (4), TLS 1.2: RFC 5077 3.3 ---- */

int new_session_ticket_present(const latch_conn *c)
{
    return c->send_ticket ? ROW_PRESENT : ROW_ABSENT;
}

static void fill_session(latch_conn *c, latch_session *s)
{
    memset(s, 0, sizeof *s);
    s->version = c->version;
    s->suite = c->suite->id;
    s->extended_master_secret = c->extended_master_secret;
    s->encrypt_then_mac = c->encrypt_then_mac;
    s->issued_ms = session_now_ms(c->config);
    s->lifetime = c->config->ticket_lifetime;
    snprintf(s->server_name, sizeof s->server_name, "%s", c->server_name);
    /* the peer's verified identity: server, the client certificate (mutual
     * TLS); client, the server certificate when verification is on */
    s->peer_verified = c->is_client ? c->config->verify && c->peer_subject != NULL
                                    : c->peer_sent_certificate;
    if (s->peer_verified && c->peer_subject != NULL)
        snprintf(s->peer_subject, sizeof s->peer_subject, "%s", c->peer_subject);
    if (c->version == LATCH_VERSION_TLS12) {
        s->secret_len = 48;
        memcpy(s->secret, c->master_secret, 48);
        s->session_id_len = c->session_id_len;
        memcpy(s->session_id, c->session_id, c->session_id_len);
    }
}

static int seal(latch_conn *c, const latch_session *s, uint8_t *ticket, size_t *len)
{
    uint8_t iv[12];
    TRY(engine_random(c, iv, sizeof iv));
    return ticket_seal(c->config, s, iv, ticket, LATCH_TICKET_MAX, len);
}

int new_session_ticket12_write(latch_conn *c, cursor *out)
{
    latch_session s;
    uint8_t ticket[LATCH_TICKET_MAX];
    size_t len;
    uint32_t lifetime = c->config->ticket_lifetime;
    fill_session(c, &s);
    if (c->resumed) { /* a renewal: the session's own time, what is left of it */
        uint64_t first = c->hs->renew_issued_ms;
        uint64_t age_s = s.issued_ms > first ? (s.issued_ms - first) / 1000u : 0;
        s.issued_ms = first;
        lifetime = age_s < lifetime ? lifetime - (uint32_t)age_s : 1;
    }
    int err = seal(c, &s, ticket, &len);
    latch_wipe(&s, sizeof s);
    TRY(err);
    TRY(cursor_write_u32(out, lifetime)); /* hint: seconds from now */
    return cursor_write_vector(out, 2, ticket, len);
}

static int keep_ticket(latch_conn *c, const uint8_t *ticket, size_t len, uint32_t lifetime)
{
    if (c->fresh == NULL && (c->fresh = calloc(1, sizeof *c->fresh)) == NULL)
        return LATCH_ERR_INTERNAL;
    free(c->fresh->ticket);
    c->fresh->ticket = malloc(len);
    if (c->fresh->ticket == NULL)
        return LATCH_ERR_INTERNAL;
    memcpy(c->fresh->ticket, ticket, len);
    c->fresh->ticket_len = len;
    c->fresh->lifetime = lifetime;
    return 0;
}

int new_session_ticket12_read(latch_conn *c, cursor *body)
{
    uint32_t lifetime;
    cursor ticket;
    TRY(cursor_read_u32(body, &lifetime));
    TRY(cursor_read_vector(body, 2, 0, 0xffff, &ticket));
    TRY(cursor_expect_end(body));
    engine_emit(c, LATCH_EVENT_NOTE, "NewSessionTicket received", "TLS 1.2");
    if (ticket.len == 0) /* RFC 5077 3.3: the server will not issue one after all */
        return 0;
    return keep_ticket(c, ticket.data, ticket.len, lifetime);
}

/* ---- end of a handshake: remember the session ---- */

static int client_remember12(latch_conn *c)
{
    latch_session *s = c->fresh ? c->fresh : calloc(1, sizeof *s);
    uint8_t *ticket;
    size_t ticket_len;
    uint32_t lifetime;
    if (s == NULL)
        return LATCH_ERR_INTERNAL;
    ticket = s->ticket;
    ticket_len = s->ticket_len;
    lifetime = s->lifetime;
    fill_session(c, s);
    s->ticket = ticket;
    s->ticket_len = ticket_len;
    s->lifetime = lifetime;
    if (ticket == NULL && c->resumed && c->offered->ticket_len > 0) { /* not renewed */
        latch_session_free(s);
        c->fresh = session_copy(c->offered);
        return c->fresh ? 0 : LATCH_ERR_INTERNAL;
    }
    c->fresh = s;
    return 0;
}

int handshake_complete(latch_conn *c)
{
    latch_config *cfg = c->config;
    if (c->version == LATCH_VERSION_TLS13)
        return c->is_client ? 0 : new_session_ticket13_send(c);
    if (c->is_client)
        return client_remember12(c);
    if (cfg->cache != NULL && !c->resumed && c->session_id_len > 0) {
        latch_session s;
        fill_session(c, &s);
        session_cache_put(cfg->cache, &s);
        latch_wipe(&s, sizeof s);
    }
    return 0;
}

/* ---- TLS 1.3 tickets ---- */

int new_session_ticket13_send(latch_conn *c)
{
    latch_config *cfg = c->config;
    latch_session s;
    uint8_t body[16 + LATCH_TICKET_MAX], ticket[LATCH_TICKET_MAX], nonce[8];
    size_t len;
    cursor w;
    if (!cfg->tickets_enabled || cfg->ticket_key_count == 0)
        return 0;
    fill_session(c, &s);
    cursor_init(&w, nonce, sizeof nonce);
    TRY(cursor_write_u64(&w, c->tickets_sent++));
    TRY(engine_random(c, (uint8_t *)&s.age_add, sizeof s.age_add));
    s.secret_len = c->hash_len; /* PSK = HKDF-Expand-Label(res master, "resumption", nonce) */
    TRY(tls13_expand_label(&cfg->crypto, c->suite->hash, c->resumption_secret, c->hash_len,
                           "resumption", nonce, sizeof nonce, s.secret, c->hash_len));
    int err = seal(c, &s, ticket, &len);
    uint32_t age_add = s.age_add;
    latch_wipe(&s, sizeof s);
    TRY(err);
    cursor_init(&w, body, sizeof body);
    TRY(cursor_write_u32(&w, cfg->ticket_lifetime));
    TRY(cursor_write_u32(&w, age_add));
    TRY(cursor_write_vector(&w, 1, nonce, sizeof nonce));
    TRY(cursor_write_vector(&w, 2, ticket, len));
    TRY(cursor_write_u16(&w, 0)); /* no early_data: 0-RTT is not offered */
    TRY(engine_queue_handshake(c, HANDSHAKE_NEW_SESSION_TICKET, body, w.off));
    return engine_flush_handshake(c);
}

int new_session_ticket13_read(latch_conn *c, cursor *body)
{
    uint32_t lifetime, age_add;
    cursor nonce, ticket, extensions;
    TRY(cursor_read_u32(body, &lifetime));
    TRY(cursor_read_u32(body, &age_add));
    TRY(cursor_read_vector(body, 1, 0, 255, &nonce));
    TRY(cursor_read_vector(body, 2, 1, 0xffff, &ticket));
    TRY(cursor_read_vector(body, 2, 0, 0xfffe, &extensions));
    TRY(cursor_expect_end(body));
    if (lifetime > 604800) /* RFC 8446 4.6.1: at most seven days */
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "ticket lifetime over 7 days");
    latch_session_free(c->fresh);
    c->fresh = NULL;
    TRY(keep_ticket(c, ticket.data, ticket.len, lifetime));
    latch_session *s = c->fresh;
    uint8_t *kept = s->ticket;
    fill_session(c, s);
    s->ticket = kept;
    s->ticket_len = ticket.len;
    s->lifetime = lifetime;
    s->age_add = age_add;
    s->secret_len = c->hash_len;
    TRY(tls13_expand_label(&c->config->crypto, c->suite->hash, c->resumption_secret, c->hash_len,
                           "resumption", nonce.data, nonce.len, s->secret, c->hash_len));
    engine_emit(c, LATCH_EVENT_NOTE, "NewSessionTicket received", "TLS 1.3");
    return 0;
}

/* ---- TLS 1.3 PSK: binder (RFC 8446 4.2.11.2) ----
 *   binder_key = Derive-Secret(Early Secret, "res binder", "")
 *   binder = HMAC(finished_key(binder_key), Transcript-Hash(Truncate(ClientHello1))) */
static int compute_binder(const latch_crypto *crypto, const latch_suite *suite,
                          const uint8_t *psk, size_t psk_len, const uint8_t *truncated,
                          size_t truncated_len, uint8_t *binder)
{
    enum latch_hash_id hash = suite->hash;
    size_t hash_len = latch_hash_len(hash), n;
    uint8_t zeros[LATCH_MAX_HASH_LEN] = {0}, early[LATCH_MAX_HASH_LEN];
    uint8_t empty_hash[LATCH_MAX_HASH_LEN], binder_key[LATCH_MAX_HASH_LEN];
    uint8_t finished_key[LATCH_MAX_HASH_LEN], transcript[LATCH_MAX_HASH_LEN];
    int rc = latch_hkdf_extract(crypto, hash, zeros, hash_len, psk, psk_len, early, &n) ||
             latch_hash_oneshot(crypto, hash, NULL, 0, empty_hash, &n) ||
             tls13_expand_label(crypto, hash, early, hash_len, "res binder", empty_hash,
                                hash_len, binder_key, hash_len) ||
             tls13_expand_label(crypto, hash, binder_key, hash_len, "finished", NULL, 0,
                                finished_key, hash_len) ||
             latch_hash_oneshot(crypto, hash, truncated, truncated_len, transcript, &n) ||
             latch_hmac(crypto, hash, finished_key, hash_len, transcript, hash_len, binder, &n);
    latch_wipe(early, sizeof early);
    latch_wipe(binder_key, sizeof binder_key);
    latch_wipe(finished_key, sizeof finished_key);
    return rc ? LATCH_ERR_INTERNAL : 0;
}

/* Client: offer the 1.3 session?  Only with a suite of the same hash enabled. */
static const latch_session *psk_to_offer(const latch_conn *c)
{
    const latch_session *s = client_offered_session(c, LATCH_VERSION_TLS13);
    if (s == NULL || c->hello_retry || s->ticket_len == 0 || suite_find(s->suite) == NULL)
        return NULL;
    return s;
}

int client_psk_extensions_write(latch_conn *c, cursor *out)
{
    static const uint8_t psk_dhe_ke[] = {1, 1};
    const latch_session *s = psk_to_offer(c);
    cursor_mark ext, list;
    TRY(cursor_write_u16(out, EXT_PSK_KEY_EXCHANGE_MODES));
    TRY(cursor_write_vector(out, 2, psk_dhe_ke, sizeof psk_dhe_ke));
    if (s == NULL)
        return 0;
    uint32_t age = (uint32_t)(session_now_ms(c->config) - s->issued_ms) + s->age_add;
    size_t hash_len = latch_hash_len(suite_find(s->suite)->hash);
    uint8_t placeholder[LATCH_MAX_HASH_LEN] = {0};
    TRY(cursor_write_u16(out, EXT_PRE_SHARED_KEY)); /* must be the last extension */
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_open_vector(out, 2, &list));
    TRY(cursor_write_vector(out, 2, s->ticket, s->ticket_len));
    TRY(cursor_write_u32(out, age));
    TRY(cursor_close_vector(out, &list));
    TRY(cursor_open_vector(out, 2, &list));
    TRY(cursor_write_vector(out, 1, placeholder, hash_len));
    TRY(cursor_close_vector(out, &list));
    return cursor_close_vector(out, &ext);
}

/* The ClientHello body is complete: fill in the binder (its last bytes). */
int client_psk_binder_patch(latch_conn *c, cursor *out)
{
    const latch_session *s = psk_to_offer(c);
    if (s == NULL)
        return 0;
    const latch_suite *suite = suite_find(s->suite);
    size_t hash_len = latch_hash_len(suite->hash), body_len = out->off;
    size_t binders_len = 2 + 1 + hash_len;
    uint8_t *message = malloc(4 + body_len), binder[LATCH_MAX_HASH_LEN];
    cursor w;
    if (message == NULL)
        return LATCH_ERR_INTERNAL;
    cursor_init(&w, message, 4 + body_len);
    int err = cursor_write_u8(&w, HANDSHAKE_CLIENT_HELLO);
    if (err == 0)
        err = cursor_write_u24(&w, (uint32_t)body_len);
    if (err == 0)
        err = cursor_write_bytes(&w, cursor_written(out), body_len - binders_len);
    if (err == 0)
        err = compute_binder(&c->config->crypto, suite, s->secret, s->secret_len, message, w.off,
                             binder);
    free(message);
    TRY(err);
    memcpy(cursor_written(out) + body_len - hash_len, binder, hash_len);
    engine_emit(c, LATCH_EVENT_NOTE, "resumption offered", "TLS 1.3 PSK (psk_dhe_ke)");
    return 0;
}

/* ---- TLS 1.3 server: accept the PSK? ---- */

typedef struct psk_offer {
    cursor identity, binder;
    uint32_t obfuscated_age;
    size_t binders_size; /* the binders vector with its length */
} psk_offer;

static int parse_psk_offer(cursor psk, psk_offer *o)
{
    cursor identities, binders;
    TRY(cursor_read_vector(&psk, 2, 7, 0xffff, &identities));
    o->binders_size = cursor_remaining(&psk);
    TRY(cursor_read_vector(&psk, 2, 33, 0xffff, &binders));
    TRY(cursor_expect_end(&psk));
    TRY(cursor_read_vector(&identities, 2, 1, 0xffff, &o->identity));
    TRY(cursor_read_u32(&identities, &o->obfuscated_age));
    return cursor_read_vector(&binders, 1, 32, 255, &o->binder);
}

static int psk_acceptable(latch_conn *c, const latch_session *s, uint32_t obfuscated_age)
{
    uint64_t now = session_now_ms(c->config);
    uint32_t client_age = obfuscated_age - s->age_add;
    uint64_t server_age = now > s->issued_ms ? now - s->issued_ms : 0;
    if (s->version != LATCH_VERSION_TLS13 || suite_find(s->suite)->hash != c->suite->hash ||
        !identity_usable(c, s))
        return 0;
    if (client_age > server_age + TICKET_AGE_TOLERANCE_MS ||
        server_age > (uint64_t)client_age + TICKET_AGE_TOLERANCE_MS) {
        engine_emit(c, LATCH_EVENT_NOTE, "resumption refused", "ticket age out of window");
        return 0;
    }
    return 1;
}

int server_try_psk13(latch_conn *c)
{
    psk_offer o;
    uint8_t binder[LATCH_MAX_HASH_LEN];
    if (c->peer_psk.len == 0 || !c->psk_key_exchange_dhe || !c->config->tickets_enabled ||
        c->hello_retry)
        return 0;
    TRY(parse_psk_offer(c->peer_psk, &o));
    latch_session *s = ticket_open(c->config, o.identity.data, o.identity.len, NULL);
    if (s == NULL || !psk_acceptable(c, s, o.obfuscated_age)) {
        if (s == NULL)
            engine_emit(c, LATCH_EVENT_NOTE, "resumption refused", "ticket not accepted");
        latch_session_free(s);
        return 0;
    }
    int err = compute_binder(&c->config->crypto, c->suite, s->secret, s->secret_len,
                             c->current_message, c->current_message_len - o.binders_size,
                             binder);
    if (err == 0 && (o.binder.len != latch_hash_len(c->suite->hash) ||
                     latch_ct_compare(binder, o.binder.data, o.binder.len) != 0))
        err = engine_fail(c, LATCH_ERR_DECRYPT_ERROR, "PSK binder does not verify");
    if (err == 0) {
        c->resumed = 1;
        err = tls13_early_secret(c, s->secret, s->secret_len);
        handshake_switch_flow(c, &tls13_psk_handshake);
        engine_emit(c, LATCH_EVENT_NOTE, "resumption accepted", "TLS 1.3 PSK");
        if (err == 0)
            err = resumption_restore_identity(c, s);
    }
    latch_session_free(s);
    return err;
}
