/* Sessions: their encoding and tickets sealed with AES-256-GCM under named
 * keys (the session-id cache is in engine/session_cache.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"
#include "engine/session.h"
#include "util/cursor.h"
#include "util/error.h"

/* The version of the encoding (client session files and ticket plaintext):
 * "LTS2" added the peer's verified identity; an "LTS1" session no longer
 * parses (a full handshake instead). */
#define SESSION_MAGIC 0x4c545332u /* "LTS2" */

/* ---- encoding ---- */

static int session_write(const latch_session *s, cursor *w)
{
    TRY(cursor_write_u32(w, SESSION_MAGIC));
    TRY(cursor_write_u16(w, s->version));
    TRY(cursor_write_u16(w, s->suite));
    /* flags: bit 0 extended master secret, bit 1 encrypt-then-MAC, bit 2 the
     * peer's certificate was verified (its subject follows the server name) */
    TRY(cursor_write_u8(w, (uint8_t)((s->extended_master_secret ? 1 : 0) |
                                     (s->encrypt_then_mac ? 2 : 0) |
                                     (s->peer_verified ? 4 : 0))));
    TRY(cursor_write_vector(w, 1, s->secret, s->secret_len));
    TRY(cursor_write_vector(w, 1, s->session_id, s->session_id_len));
    TRY(cursor_write_vector(w, 2, s->ticket, s->ticket_len));
    TRY(cursor_write_u32(w, s->lifetime));
    TRY(cursor_write_u32(w, s->age_add));
    TRY(cursor_write_u64(w, s->issued_ms));
    TRY(cursor_write_vector(w, 1, s->server_name, strlen(s->server_name)));
    return cursor_write_vector(w, 1, s->peer_subject,
                               s->peer_verified ? strlen(s->peer_subject) : 0);
}

static size_t session_encoded_size(const latch_session *s)
{
    return 4 + 2 + 2 + 1 + 1 + s->secret_len + 1 + s->session_id_len + 2 + s->ticket_len + 4 +
           4 + 8 + 1 + strlen(s->server_name) + 1 +
           (s->peer_verified ? strlen(s->peer_subject) : 0);
}

static int session_read(cursor *r, latch_session *s)
{
    uint32_t magic;
    uint8_t ems;
    cursor secret, id, ticket, name, subject;
    TRY(cursor_read_u32(r, &magic));
    if (magic != SESSION_MAGIC)
        return LATCH_ERR_DECODE;
    TRY(cursor_read_u16(r, &s->version));
    TRY(cursor_read_u16(r, &s->suite));
    TRY(cursor_read_u8(r, &ems));
    TRY(cursor_read_vector(r, 1, 1, LATCH_MAX_HASH_LEN, &secret));
    TRY(cursor_read_vector(r, 1, 0, 32, &id));
    TRY(cursor_read_vector(r, 2, 0, 0xffff, &ticket));
    TRY(cursor_read_u32(r, &s->lifetime));
    TRY(cursor_read_u32(r, &s->age_add));
    TRY(cursor_read_u64(r, &s->issued_ms));
    TRY(cursor_read_vector(r, 1, 0, 255, &name));
    TRY(cursor_read_vector(r, 1, 0, 255, &subject));
    TRY(cursor_expect_end(r));
    if (suite_find(s->suite) == NULL ||
        (s->version != LATCH_VERSION_TLS12 && s->version != LATCH_VERSION_TLS13) ||
        (ems & ~7u) != 0 || ((ems & 4) == 0 && subject.len > 0) ||
        memchr(name.data, 0, name.len) != NULL || memchr(subject.data, 0, subject.len) != NULL)
        return LATCH_ERR_DECODE;
    s->extended_master_secret = (ems & 1) != 0;
    s->encrypt_then_mac = (ems & 2) != 0;
    s->peer_verified = (ems & 4) != 0;
    s->secret_len = secret.len;
    TRY(cursor_copy_bytes(&secret, s->secret, secret.len));
    s->session_id_len = id.len;
    TRY(cursor_copy_bytes(&id, s->session_id, id.len));
    TRY(cursor_copy_bytes(&name, (uint8_t *)s->server_name, name.len));
    s->server_name[name.len] = '\0';
    TRY(cursor_copy_bytes(&subject, (uint8_t *)s->peer_subject, subject.len));
    s->peer_subject[subject.len] = '\0';
    if (ticket.len > 0) {
        s->ticket = malloc(ticket.len);
        if (s->ticket == NULL)
            return LATCH_ERR_INTERNAL;
        s->ticket_len = ticket.len;
        TRY(cursor_copy_bytes(&ticket, s->ticket, ticket.len));
    }
    return 0;
}

int latch_session_serialize(const latch_session *s, uint8_t **out, size_t *out_len)
{
    size_t n = session_encoded_size(s);
    cursor w;
    *out = calloc(1, n);
    if (*out == NULL)
        return LATCH_ERR_INTERNAL;
    cursor_init(&w, *out, n);
    int err = session_write(s, &w);
    if (err != 0) {
        free(*out);
        *out = NULL;
        return err;
    }
    *out_len = w.off;
    return 0;
}

latch_session *latch_session_parse(const uint8_t *data, size_t len)
{
    latch_session *s = calloc(1, sizeof *s);
    cursor r;
    if (s == NULL)
        return NULL;
    cursor_init(&r, data, len);
    if (session_read(&r, s) != 0) {
        latch_session_free(s);
        return NULL;
    }
    return s;
}

void latch_session_free(latch_session *s)
{
    if (s == NULL)
        return;
    free(s->ticket);
    latch_wipe(s, sizeof *s);
    free(s);
}

const char *latch_session_server_name(const latch_session *s) { return s->server_name; }

latch_session *session_copy(const latch_session *s)
{
    latch_session *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return NULL;
    *copy = *s;
    copy->ticket = NULL;
    if (s->ticket_len > 0 && (copy->ticket = malloc(s->ticket_len)) == NULL) {
        free(copy);
        return NULL;
    }
    if (s->ticket_len > 0)
        memcpy(copy->ticket, s->ticket, s->ticket_len);
    return copy;
}

uint64_t session_now_ms(const latch_config *cfg)
{
    if (cfg->clock_wall != NULL)
        return cfg->clock_wall(cfg->clock_arg) * 1000u;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- tickets: key_name(16) || iv(12) || AES-256-GCM(session) || tag(16) ---- */

int ticket_seal(const latch_config *cfg, const latch_session *s, const uint8_t iv[12],
                uint8_t *out, size_t cap, size_t *len)
{
    const ticket_key *key = &cfg->ticket_keys[0];
    latch_session plain = *s;
    latch_aead_ctx aead;
    cursor w;
    plain.ticket = NULL;
    plain.ticket_len = 0;
    size_t body = session_encoded_size(&plain);
    if (cfg->ticket_key_count == 0 || cap < 16 + 12 + body + LATCH_AEAD_TAG_LEN)
        return LATCH_ERR_INTERNAL;
    cursor_init(&w, out, cap);
    TRY(cursor_write_bytes(&w, key->name, 16));
    TRY(cursor_write_bytes(&w, iv, 12));
    size_t at = w.off;
    TRY(session_write(&plain, &w));
    if (latch_aead_init(&cfg->crypto, &aead, LATCH_AEAD_AES256_GCM, key->key, 32, 1) != 0)
        return LATCH_ERR_INTERNAL;
    int rc = latch_aead_seal(&aead, iv, key->name, 16, out + at, w.off - at, out + at);
    latch_aead_free(&aead);
    *len = w.off + LATCH_AEAD_TAG_LEN;
    return rc == 0 ? 0 : LATCH_ERR_INTERNAL;
}

/* NULL for an unknown key, a tampered ticket or an expired one: the
 * caller then falls back to a full handshake. */
latch_session *ticket_open(const latch_config *cfg, const uint8_t *ticket, size_t len,
                           size_t *key_index)
{
    cursor r;
    const uint8_t *name, *iv;
    cursor_init(&r, ticket, len);
    if (cursor_read_bytes(&r, &name, 16) != 0 || cursor_read_bytes(&r, &iv, 12) != 0 ||
        cursor_remaining(&r) < LATCH_AEAD_TAG_LEN + 4)
        return NULL;
    for (size_t i = 0; i < cfg->ticket_key_count; i++) {
        if (memcmp(cfg->ticket_keys[i].name, name, 16) != 0)
            continue;
        size_t n = cursor_remaining(&r);
        uint8_t *plain = malloc(n);
        latch_aead_ctx aead;
        latch_session *s = NULL;
        if (plain == NULL ||
            latch_aead_init(&cfg->crypto, &aead, LATCH_AEAD_AES256_GCM, cfg->ticket_keys[i].key,
                            32, 0) != 0) {
            free(plain);
            return NULL;
        }
        if (latch_aead_open(&aead, iv, name, 16, cursor_position(&r), n, plain) == 0)
            s = latch_session_parse(plain, n - LATCH_AEAD_TAG_LEN);
        latch_aead_free(&aead);
        latch_wipe(plain, n);
        free(plain);
        if (s != NULL && session_now_ms(cfg) > s->issued_ms + (uint64_t)s->lifetime * 1000u) {
            latch_session_free(s);
            s = NULL;
        }
        if (key_index != NULL)
            *key_index = i;
        return s;
    }
    return NULL;
}
