/* Mutual TLS in memory, TLS 1.2 and 1.3: required, optional, missing,
 * untrusted and wrong-purpose client certificates, with their alerts. */
#include <string.h>

#include "check.h"
#include "pair.h"

static void setup(pair *p, uint16_t version, enum latch_client_auth mode, const char *client_cert)
{
    char cert[256], key[256];
    CHECK(pair_configs(p, "p256") == 0);
    CHECK(latch_config_set_versions(p->client_config, LATCH_VERSION_TLS12, version) == 0);
    CHECK(latch_config_set_client_auth(p->server_config, mode, PKI "ca.pem") == 0);
    if (client_cert != NULL) {
        snprintf(cert, sizeof cert, PKI "%s.pem", client_cert);
        snprintf(key, sizeof key, PKI "%s-key.pem", client_cert);
        CHECK(latch_config_add_cert_key_files(p->client_config, cert, key) == 0);
    }
    CHECK(pair_connect(p, "localhost") == 0);
}

static void test_required_and_given(uint16_t version)
{
    pair p;
    setup(&p, version, LATCH_CLIENT_AUTH_REQUIRE, "client-only-eku");
    CHECK(pair_handshake(&p) == 0);
    CHECK_EQ_INT(latch_conn_version(p.server), version);
    CHECK(latch_conn_peer_subject(p.server) != NULL &&
          strstr(latch_conn_peer_subject(p.server), "CN=") != NULL);
    CHECK(latch_conn_write(p.client, "hi", 2) == 2);
    pair_pump(&p);
    char b[4];
    CHECK(latch_conn_read(p.server, b, sizeof b) == 2);
    pair_free(&p);
}

static void test_required_missing(uint16_t version)
{
    pair p;
    int sent;
    setup(&p, version, LATCH_CLIENT_AUTH_REQUIRE, NULL);
    CHECK(pair_handshake(&p) != 0);
    if (version == LATCH_VERSION_TLS13) {
        CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_CERTIFICATE_REQUIRED);
        CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 116);
    } else {
        CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_HANDSHAKE_FAILURE);
        CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 40);
    }
    pair_free(&p);
}

static void test_optional_missing(uint16_t version)
{
    pair p;
    setup(&p, version, LATCH_CLIENT_AUTH_OPTIONAL, NULL);
    CHECK(pair_handshake(&p) == 0);
    CHECK(latch_conn_peer_subject(p.server) == NULL);
    pair_free(&p);
}

/* A server certificate (EKU serverAuth only) offered as a client's. */
static void test_wrong_purpose(uint16_t version)
{
    pair p;
    int sent;
    setup(&p, version, LATCH_CLIENT_AUTH_REQUIRE, "server-rsa2048");
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_UNSUPPORTED_CERTIFICATE);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 43);
    pair_free(&p);
}

/* Not issued by the CA the server trusts. */
static void test_untrusted(uint16_t version)
{
    pair p;
    int sent;
    setup(&p, version, LATCH_CLIENT_AUTH_REQUIRE, NULL);
    latch_conn_free(p.client);
    latch_config_free(p.client_config);
    p.client_config = latch_config_new(LATCH_ROLE_CLIENT);
    CHECK(latch_config_set_ca(p.client_config, PKI "ca.pem", NULL) == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, version) == 0);
    CHECK(latch_config_add_cert_key_files(p.client_config, PKI "self-signed.pem",
                                          PKI "self-signed-key.pem") == 0);
    p.client = latch_conn_new(p.client_config, "localhost");
    CHECK(pair_handshake(&p) != 0);
    int err = latch_conn_error(p.server);
    CHECK(err == LATCH_ERR_UNKNOWN_CA || err == LATCH_ERR_UNSUPPORTED_CERTIFICATE);
    CHECK(latch_conn_alert(p.client, &sent) == 48 || latch_conn_alert(p.client, &sent) == 43);
    pair_free(&p);
}

int main(void)
{
    static const uint16_t versions[] = {LATCH_VERSION_TLS12, LATCH_VERSION_TLS13};
    for (int i = 0; i < 2; i++) {
        test_required_and_given(versions[i]);
        test_required_missing(versions[i]);
        test_optional_missing(versions[i]);
        test_wrong_purpose(versions[i]);
        test_untrusted(versions[i]);
    }
    return check_finish();
}
