/* Resumption keeps the peer's identity, in memory, TLS 1.2 and 1.3:
 *  - a server requiring client certificates resumes (session ID, ticket,
 *    TLS 1.3 PSK) with the client's subject, and again from the session the
 *    resumed connection handed out;
 *  - the client keeps the server's subject across resumption, also through
 *    latch_session_serialize / latch_session_parse;
 *  - a session made without a client certificate is not resumed by a server
 *    that requires one (a full handshake asks for the certificate; without
 *    one the handshake fails), while an optional server resumes it
 *    anonymously;
 *  - a client that verifies does not offer a session made without
 *    verification. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pair.h"

enum how { BY_ID, BY_TICKET, BY_PSK };
static const char *const how_name[] = {"session id", "ticket", "TLS 1.3 PSK"};

static void configure(pair *p, enum how how, enum latch_client_auth mode, int client_cert)
{
    CHECK(pair_configs(p, "p256") == 0);
    if (how != BY_PSK)
        CHECK(latch_config_set_versions(p->client_config, LATCH_VERSION_TLS12,
                                        LATCH_VERSION_TLS12) == 0);
    if (how == BY_ID)
        CHECK(latch_config_set_tickets(p->server_config, 0, 3600) == 0);
    if (how == BY_TICKET)
        CHECK(latch_config_set_session_cache(p->server_config, 0, 0) == 0);
    if (mode != LATCH_CLIENT_AUTH_NONE)
        CHECK(latch_config_set_client_auth(p->server_config, mode, PKI "ca.pem") == 0);
    if (client_cert)
        CHECK(latch_config_add_cert_key_files(p->client_config, PKI "client-only-eku.pem",
                                              PKI "client-only-eku-key.pem") == 0);
}

/* A second client configuration for how: the test CA, verifying or not,
 * with the client certificate or not. */
static latch_config *another_client(enum how how, int verify, int client_cert)
{
    latch_config *cfg = latch_config_new(LATCH_ROLE_CLIENT);
    CHECK(cfg != NULL);
    CHECK(latch_config_set_ca(cfg, PKI "ca.pem", NULL) == 0);
    latch_config_set_verify(cfg, verify);
    if (how != BY_PSK)
        CHECK(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    if (client_cert)
        CHECK(latch_config_add_cert_key_files(cfg, PKI "client-only-eku.pem",
                                              PKI "client-only-eku-key.pem") == 0);
    return cfg;
}

typedef struct outcome {
    int ok, resumed;
    char client_subject[256]; /* what the server says about the client, "" if NULL */
    char server_subject[256]; /* what the client says about the server, "" if NULL */
    latch_session *session;   /* the client's session afterwards */
} outcome;

static void copy_subject(char *out, const char *subject)
{
    snprintf(out, 256, "%s", subject != NULL ? subject : "");
}

/* One connection from client_config (offering s if not NULL). */
static outcome connect_once(pair *p, latch_config *client_config, const latch_session *s)
{
    outcome o;
    memset(&o, 0, sizeof o);
    p->client = latch_conn_new(client_config, "localhost");
    p->server = latch_conn_new(p->server_config, NULL);
    CHECK(p->client != NULL && p->server != NULL);
    if (s != NULL)
        CHECK(latch_conn_set_session(p->client, s) == 0);
    o.ok = pair_handshake(p) == 0;
    if (o.ok) {
        o.resumed = latch_conn_resumed(p->server);
        CHECK_EQ_INT(latch_conn_resumed(p->client), o.resumed);
        CHECK(latch_conn_write(p->client, "ping", 4) == 4);
        pair_pump(p);
        char buf[8] = {0};
        CHECK(latch_conn_read(p->server, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
    }
    copy_subject(o.client_subject, latch_conn_peer_subject(p->server));
    copy_subject(o.server_subject, latch_conn_peer_subject(p->client));
    o.session = latch_conn_get_session(p->client);
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    p->client = p->server = NULL;
    return o;
}

/* Client certificates required: the full handshake and two resumptions (the
 * second from the session the first resumption handed out) name the same
 * client on the server and the same server on the client. */
static void test_required_resumes_with_identity(enum how how)
{
    pair p;
    fprintf(stderr, "-- required, resumed by %s\n", how_name[how]);
    configure(&p, how, LATCH_CLIENT_AUTH_REQUIRE, 1);
    outcome full = connect_once(&p, p.client_config, NULL);
    CHECK(full.ok && !full.resumed && full.session != NULL);
    CHECK(strstr(full.client_subject, "CN=") != NULL);
    CHECK(strstr(full.server_subject, "CN=") != NULL);
    if (full.session == NULL) {
        pair_free(&p);
        return;
    }
    latch_session *s = full.session;
    for (int round = 0; round < 2; round++) {
        outcome again = connect_once(&p, p.client_config, s);
        CHECK(again.ok);
        CHECK_EQ_INT(again.resumed, 1);
        CHECK(strcmp(again.client_subject, full.client_subject) == 0);
        CHECK(strcmp(again.server_subject, full.server_subject) == 0);
        if (strcmp(again.client_subject, full.client_subject) != 0)
            fprintf(stderr, "  round %d: server sees client '%s', want '%s'\n", round,
                    again.client_subject, full.client_subject);
        if (again.session != NULL) {
            latch_session_free(s);
            s = again.session;
        }
    }

    /* the session file keeps the server's identity for the client */
    uint8_t *bytes;
    size_t len;
    CHECK(latch_session_serialize(s, &bytes, &len) == 0);
    latch_session *parsed = latch_session_parse(bytes, len);
    CHECK(parsed != NULL);
    free(bytes);
    if (parsed != NULL) {
        outcome again = connect_once(&p, p.client_config, parsed);
        CHECK(again.ok && again.resumed);
        CHECK(strcmp(again.client_subject, full.client_subject) == 0);
        CHECK(strcmp(again.server_subject, full.server_subject) == 0);
        latch_session_free(again.session);
        latch_session_free(parsed);
    }
    latch_session_free(s);
    pair_free(&p);
}

/* A session made without a client certificate (the server then optional):
 * once the server requires one, the session is not resumed.  A client with a
 * certificate gets a full handshake (and is named); one without fails. */
static void test_anonymous_session_not_resumed(enum how how)
{
    pair p;
    fprintf(stderr, "-- anonymous session, required, %s\n", how_name[how]);
    configure(&p, how, LATCH_CLIENT_AUTH_OPTIONAL, 0);
    outcome anonymous = connect_once(&p, p.client_config, NULL);
    CHECK(anonymous.ok && !anonymous.resumed && anonymous.session != NULL);
    CHECK_EQ_INT(anonymous.client_subject[0], '\0');
    if (anonymous.session == NULL) {
        pair_free(&p);
        return;
    }

    /* optional: resumed, still anonymous */
    outcome again = connect_once(&p, p.client_config, anonymous.session);
    CHECK(again.ok && again.resumed);
    CHECK_EQ_INT(again.client_subject[0], '\0');
    latch_session_free(again.session);

    /* required now (same cache and ticket key): a full handshake */
    CHECK(latch_config_set_client_auth(p.server_config, LATCH_CLIENT_AUTH_REQUIRE,
                                       PKI "ca.pem") == 0);
    latch_config *with_cert = another_client(how, 1, 1);
    outcome full = connect_once(&p, with_cert, anonymous.session);
    CHECK(full.ok);
    CHECK_EQ_INT(full.resumed, 0);
    CHECK(strstr(full.client_subject, "CN=") != NULL);
    /* ... whose session then resumes with the identity */
    if (full.session != NULL) {
        outcome resumed = connect_once(&p, with_cert, full.session);
        CHECK(resumed.ok && resumed.resumed);
        CHECK(strcmp(resumed.client_subject, full.client_subject) == 0);
        latch_session_free(resumed.session);
    }
    latch_session_free(full.session);

    /* without a certificate: no resumption, and the full handshake fails */
    outcome refused = connect_once(&p, p.client_config, anonymous.session);
    CHECK_EQ_INT(refused.ok, 0);
    CHECK_EQ_INT(refused.resumed, 0);
    latch_session_free(refused.session);

    latch_config_free(with_cert);
    latch_session_free(anonymous.session);
    pair_free(&p);
}

/* A session made with verification off is not offered by a client that
 * verifies (a full handshake, which verifies the server). */
static void test_unverified_session_not_offered(enum how how)
{
    pair p;
    fprintf(stderr, "-- unverified session, %s\n", how_name[how]);
    configure(&p, how, LATCH_CLIENT_AUTH_NONE, 0);
    latch_config *careless = another_client(how, 0, 0);
    outcome first = connect_once(&p, careless, NULL);
    CHECK(first.ok && first.session != NULL);
    CHECK_EQ_INT(first.server_subject[0], '\0');
    if (first.session != NULL) {
        outcome same = connect_once(&p, careless, first.session); /* still careless: resumes */
        CHECK(same.ok && same.resumed);
        latch_session_free(same.session);
        outcome verifying = connect_once(&p, p.client_config, first.session);
        CHECK(verifying.ok);
        CHECK_EQ_INT(verifying.resumed, 0);
        CHECK(strstr(verifying.server_subject, "CN=") != NULL);
        latch_session_free(verifying.session);
    }
    latch_session_free(first.session);
    latch_config_free(careless);
    pair_free(&p);
}

int main(void)
{
    for (int how = BY_ID; how <= BY_PSK; how++) {
        test_required_resumes_with_identity((enum how)how);
        test_anonymous_session_not_resumed((enum how)how);
        test_unverified_session_not_offered((enum how)how);
    }
    return check_finish();
}
