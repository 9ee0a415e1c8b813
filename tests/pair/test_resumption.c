/* Resumption in memory: TLS 1.2 session IDs and tickets, TLS 1.3 PSK,
 * ticket key rotation, tampered tickets, the EMS rule of RFC 7627 5.3, a
 * session-id cache shared by a reloaded configuration. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/internal.h"
#include "engine/session.h"
#include "pair.h"

static const uint8_t key_one[80] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 7};
static const uint8_t key_two[80] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 9, 9};

/* A full handshake; returns the client's session (NULL on failure). */
static latch_session *first_connection(pair *p)
{
    CHECK(pair_connect(p, "localhost") == 0);
    CHECK(pair_handshake(p) == 0);
    CHECK_EQ_INT(latch_conn_resumed(p->client), 0);
    latch_session *s = latch_conn_get_session(p->client);
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    p->client = p->server = NULL;
    return s;
}

/* Connect again offering s; returns 1 if both sides say resumed. */
static int resumes(pair *p, const latch_session *s)
{
    p->client = latch_conn_new(p->client_config, "localhost");
    p->server = latch_conn_new(p->server_config, NULL);
    CHECK(latch_conn_set_session(p->client, s) == 0);
    int ok = pair_handshake(p) == 0;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  resume: client '%s' server '%s'\n", latch_conn_error_reason(p->client),
                latch_conn_error_reason(p->server));
    int resumed = latch_conn_resumed(p->client);
    CHECK_EQ_INT(latch_conn_resumed(p->server), resumed);
    /* data still flows under the new keys */
    CHECK(latch_conn_write(p->client, "ping", 4) == 4);
    pair_pump(p);
    char buf[8] = {0};
    CHECK(latch_conn_read(p->server, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    p->client = p->server = NULL;
    return resumed;
}

/* A pair whose client speaks TLS 1.2 only, resuming by session ID (tickets
 * off), by ticket (the cache off) or either. */
enum resume_by { BY_ID = 1, BY_TICKET = 2, BY_EITHER = 3 };

static void tls12_pair(pair *p, const char *cert, enum resume_by by)
{
    CHECK(pair_configs(p, cert) == 0);
    CHECK(latch_config_set_versions(p->client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    if (!(by & BY_TICKET))
        CHECK(latch_config_set_tickets(p->server_config, 0, 3600) == 0);
    if (!(by & BY_ID))
        CHECK(latch_config_set_session_cache(p->server_config, 0, 0) == 0);
}

static void test_tls12_session_id(void)
{
    pair p;
    tls12_pair(&p, "p256", BY_ID);
    latch_session *s = first_connection(&p);
    CHECK(s != NULL && s->ticket_len == 0 && s->session_id_len == 32);
    CHECK(resumes(&p, s) == 1);
    CHECK(resumes(&p, s) == 1);
    /* the cache turned off: a full handshake, not a failure */
    CHECK(latch_config_set_session_cache(p.server_config, 0, 0) == 0);
    CHECK(resumes(&p, s) == 0);
    latch_session_free(s);
    pair_free(&p);
}

/* A reloaded configuration shares the old one's session-id cache: sessions
 * cached before resume after, also once the old configuration is gone. */
static void test_shared_session_cache(void)
{
    pair p;
    tls12_pair(&p, "p256", BY_ID);
    latch_session *s = first_connection(&p);
    CHECK(s != NULL && s->ticket_len == 0 && s->session_id_len == 32);
    latch_config *old = p.server_config;
    latch_config *fresh = latch_config_new(LATCH_ROLE_SERVER);
    CHECK(fresh != NULL);
    CHECK(latch_config_add_cert_key_files(fresh, PKI "server-p256.pem", PKI "server-p256-key.pem") == 0);
    CHECK(latch_config_set_tickets(fresh, 0, 3600) == 0);
    p.server_config = fresh; /* its own cache: the session is unknown */
    CHECK(resumes(&p, s) == 0);
    CHECK(latch_config_share_session_cache(fresh, old) == 0);
    CHECK(resumes(&p, s) == 1);
    latch_config_free(old); /* the cache lives on with fresh */
    CHECK(resumes(&p, s) == 1);
    /* a client configuration has no cache to share */
    CHECK(latch_config_share_session_cache(p.client_config, fresh) == LATCH_ERR_CONFIG);
    CHECK(latch_config_share_session_cache(fresh, fresh) == 0);
    CHECK(resumes(&p, s) == 1);
    latch_session_free(s);
    pair_free(&p);
}

static void test_tls12_ticket(void)
{
    pair p;
    tls12_pair(&p, "rsa2048", BY_TICKET);
    latch_session *s = first_connection(&p);
    CHECK(s != NULL && s->ticket_len > 0);
    CHECK(resumes(&p, s) == 1);
    /* a tampered ticket: full handshake */
    s->ticket[s->ticket_len / 2] ^= 0x40;
    CHECK(resumes(&p, s) == 0);
    latch_session_free(s);
    pair_free(&p);
}

/* Resumes s and returns the client's session after it (NULL on failure). */
static latch_session *resume_and_keep(pair *p, const latch_session *s)
{
    p->client = latch_conn_new(p->client_config, "localhost");
    p->server = latch_conn_new(p->server_config, NULL);
    CHECK(latch_conn_set_session(p->client, s) == 0);
    CHECK(pair_handshake(p) == 0);
    CHECK_EQ_INT(latch_conn_resumed(p->client), 1);
    CHECK_EQ_INT(latch_conn_resumed(p->server), 1);
    latch_session *after = latch_conn_get_session(p->client);
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    p->client = p->server = NULL;
    return after;
}

static latch_config *server_with_keys(const uint8_t *first, const uint8_t *second)
{
    latch_config *cfg = latch_config_new(LATCH_ROLE_SERVER);
    CHECK(latch_config_add_cert_key_files(cfg, PKI "server-p256.pem",
                                          PKI "server-p256-key.pem") == 0);
    CHECK(latch_config_set_session_cache(cfg, 0, 0) == 0);
    CHECK(latch_config_add_ticket_key(cfg, first, 80) == 0);
    if (second != NULL)
        CHECK(latch_config_add_ticket_key(cfg, second, 80) == 0);
    return cfg;
}

/* RFC 5077 3.3: a TLS 1.2 ticket under the current key is not renewed (the
 * client keeps it and resumes with it again); one under an older key is
 * renewed under the current key, keeping the session's first issue time. */
static void test_tls12_ticket_renewal(void)
{
    pair p;
    tls12_pair(&p, "p256", BY_EITHER);
    latch_config_free(p.server_config);
    p.server_config = server_with_keys(key_one, NULL);
    latch_session *first = first_connection(&p);
    CHECK(first != NULL && first->ticket_len > 0);
    latch_session *kept = first ? resume_and_keep(&p, first) : NULL;
    CHECK(kept != NULL && kept->ticket_len == first->ticket_len &&
          memcmp(kept->ticket, first->ticket, first->ticket_len) == 0);
    latch_session *again = kept ? resume_and_keep(&p, kept) : NULL; /* and again */
    CHECK(again != NULL && again->ticket_len == first->ticket_len);

    latch_config_free(p.server_config); /* rotated: key_two seals, key_one still opens */
    p.server_config = server_with_keys(key_two, key_one);
    latch_session *renewed = first ? resume_and_keep(&p, first) : NULL;
    CHECK(renewed != NULL && renewed->ticket_len > 0 &&
          memcmp(renewed->ticket, key_two, 16) == 0 && memcmp(first->ticket, key_one, 16) == 0);
    CHECK(renewed != NULL && renewed->lifetime <= first->lifetime);
    if (renewed != NULL && first != NULL) {
        size_t index_first = 9, index_renewed = 9;
        latch_session *a = ticket_open(p.server_config, first->ticket, first->ticket_len,
                                       &index_first);
        latch_session *b = ticket_open(p.server_config, renewed->ticket, renewed->ticket_len,
                                       &index_renewed);
        CHECK(a != NULL && b != NULL);
        CHECK_EQ_INT(index_first, 1);
        CHECK_EQ_INT(index_renewed, 0);
        CHECK(a != NULL && b != NULL && a->issued_ms == b->issued_ms); /* not extended */
        CHECK(a != NULL && b != NULL && memcmp(a->secret, b->secret, 48) == 0);
        latch_session_free(a);
        latch_session_free(b);
    }

    latch_config_free(p.server_config); /* key_one dropped: only the renewed ticket works */
    p.server_config = server_with_keys(key_two, NULL);
    CHECK(renewed != NULL && resumes(&p, renewed) == 1);
    CHECK(first != NULL && resumes(&p, first) == 0);
    latch_session_free(first);
    latch_session_free(kept);
    latch_session_free(again);
    latch_session_free(renewed);
    pair_free(&p);
}

/* The first key seals, every key opens; a dropped key means a full handshake. */
static void test_ticket_key_rotation(int version)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, version) == 0);
    CHECK(latch_config_set_session_cache(p.server_config, 0, 0) == 0);
    CHECK(latch_config_add_ticket_key(p.server_config, key_one, 80) == 0);
    latch_session *s = first_connection(&p);
    CHECK(s != NULL);
    latch_config_free(p.server_config); /* a new server process: two, then one */
    p.server_config = latch_config_new(LATCH_ROLE_SERVER);
    CHECK(latch_config_add_cert_key_files(p.server_config, PKI "server-p256.pem",
                                          PKI "server-p256-key.pem") == 0);
    CHECK(latch_config_add_ticket_key(p.server_config, key_two, 80) == 0);
    CHECK(latch_config_add_ticket_key(p.server_config, key_one, 80) == 0);
    CHECK(resumes(&p, s) == 1);
    latch_config_free(p.server_config);
    p.server_config = latch_config_new(LATCH_ROLE_SERVER);
    CHECK(latch_config_add_cert_key_files(p.server_config, PKI "server-p256.pem",
                                          PKI "server-p256-key.pem") == 0);
    CHECK(latch_config_add_ticket_key(p.server_config, key_two, 80) == 0);
    CHECK(resumes(&p, s) == 0);
    latch_session_free(s);
    pair_free(&p);
}

static void test_tls13_psk(void)
{
    pair p;
    CHECK(pair_configs(&p, "ed25519") == 0);
    latch_session *s = first_connection(&p);
    CHECK(s != NULL && s->version == LATCH_VERSION_TLS13 && s->ticket_len > 0);
    CHECK(resumes(&p, s) == 1);
    s->ticket[20] ^= 1; /* tampered: full handshake */
    CHECK(resumes(&p, s) == 0);
    s->ticket[20] ^= 1;
    /* a wrong binder (PSK secret changed on the client) is decrypt_error */
    s->secret[0] ^= 1;
    p.client = latch_conn_new(p.client_config, "localhost");
    p.server = latch_conn_new(p.server_config, NULL);
    CHECK(latch_conn_set_session(p.client, s) == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_DECRYPT_ERROR);
    latch_session_free(s);
    pair_free(&p);
}

/* RFC 7627 5.3: a session without EMS is not resumed by a client sending EMS. */
static void test_ems_mismatch(void)
{
    pair p;
    tls12_pair(&p, "p256", BY_EITHER);
    latch_session *s = first_connection(&p);
    CHECK(s != NULL && s->extended_master_secret == 1);
    latch_session forged = *s;
    uint8_t ticket[LATCH_TICKET_MAX], iv[12] = {0};
    size_t len;
    forged.extended_master_secret = 0;
    CHECK(ticket_seal(p.server_config, &forged, iv, ticket, sizeof ticket, &len) == 0);
    memcpy(s->ticket, ticket, len < s->ticket_len ? len : s->ticket_len);
    s->ticket_len = len < s->ticket_len ? len : s->ticket_len;
    CHECK(resumes(&p, s) == 0);
    latch_session_free(s);
    pair_free(&p);
}

static void test_session_encoding(void)
{
    pair p;
    uint8_t *bytes;
    size_t len;
    CHECK(pair_configs(&p, "p384") == 0);
    latch_session *s = first_connection(&p);
    CHECK(latch_session_serialize(s, &bytes, &len) == 0);
    latch_session *back = latch_session_parse(bytes, len);
    CHECK(back != NULL && back->ticket_len == s->ticket_len &&
          memcmp(back->secret, s->secret, s->secret_len) == 0);
    CHECK(strcmp(latch_session_server_name(back), "localhost") == 0);
    CHECK(latch_session_parse(bytes, len - 1) == NULL);
    CHECK(resumes(&p, back) == 1);
    /* never offered to another name */
    p.client = latch_conn_new(p.client_config, "example.com");
    CHECK(latch_conn_set_session(p.client, back) != 0);
    latch_conn_free(p.client);
    p.client = NULL;
    free(bytes);
    latch_session_free(back);
    latch_session_free(s);
    pair_free(&p);
}

int main(void)
{
    test_tls12_session_id();
    test_shared_session_cache();
    test_tls12_ticket();
    test_tls12_ticket_renewal();
    test_ticket_key_rotation(LATCH_VERSION_TLS12);
    test_ticket_key_rotation(LATCH_VERSION_TLS13);
    test_tls13_psk();
    test_ems_mismatch();
    test_session_encoding();
    return check_finish();
}
