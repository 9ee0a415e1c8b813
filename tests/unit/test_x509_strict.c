/* The checks beyond libcrypto (src/x509/strict.c), each on a certificate of
 * the generated test PKI, through the one verification function. */
#include <openssl/x509v3.h>
#include <string.h>

#include "check.h"
#include "x509/x509.h"

#define PKI LATCH_TEST_DATA "/pki/"

static X509_STORE *store;

/* Verify FILE for host; return the error and leave the reason in *reason. */
static latch_error verify(const char *file, const char *host, uint32_t key_usage, char *reason,
                          size_t reason_len)
{
    char path[512];
    snprintf(path, sizeof path, PKI "%s.pem", file);
    latch_cert_key *ck = latch_certificates_load(path, reason, reason_len);
    if (ck == NULL)
        return LATCH_ERR_INTERNAL;
    latch_verify_options options = {LATCH_PURPOSE_SERVER, host, 0, 0, key_usage};
    latch_error err = latch_verify_chain_for(store, &options, (const uint8_t *const *)ck->der,
                                             ck->der_len, ck->count, NULL, NULL, reason,
                                             reason_len);
    latch_cert_key_free(ck);
    return err;
}

static void expect(const char *file, const char *host, uint32_t key_usage, latch_error want,
                   const char *reason_part)
{
    char reason[512] = "";
    latch_error got = verify(file, host, key_usage, reason, sizeof reason);
    CHECK_EQ_INT(got, want);
    if (reason_part != NULL && strstr(reason, reason_part) == NULL) {
        fprintf(stderr, "  %s: reason '%s' lacks '%s'\n", file, reason, reason_part);
        CHECK(0);
    }
}

int main(void)
{
    char reason[256];
    store = latch_trust_store_new(PKI "ca.pem", NULL, reason, sizeof reason);
    CHECK(store != NULL);
    /* RFC 5280 4.2.1.9 */
    expect("leaf-is-ca", "localhost", KU_DIGITAL_SIGNATURE, LATCH_ERR_BAD_CERTIFICATE, "is a CA");
    /* CA/B BR 7.1.2.7.12, RFC 6125 6.4.4 */
    expect("no-san", NULL, KU_DIGITAL_SIGNATURE, LATCH_OK, NULL); /* no name checked */
    expect("no-san", "localhost", KU_DIGITAL_SIGNATURE, LATCH_ERR_CERTIFICATE_NAME, "CN is not");
    /* RFC 6125 6.4.3 */
    expect("bad-wildcard", "localhost", KU_DIGITAL_SIGNATURE, LATCH_ERR_BAD_CERTIFICATE,
           "wildcard");
    expect("wildcard", "a.example.test", KU_DIGITAL_SIGNATURE, LATCH_OK, NULL);
    expect("wildcard", "b.a.example.test", KU_DIGITAL_SIGNATURE, LATCH_ERR_CERTIFICATE_NAME,
           NULL);
    expect("wildcard", "example.test", KU_DIGITAL_SIGNATURE, LATCH_ERR_CERTIFICATE_NAME, NULL);
    /* RFC 5280 4.2.1.3: ECDHE signs, RSA key exchange encrypts */
    expect("ku-encipher-only", "localhost", KU_DIGITAL_SIGNATURE,
           LATCH_ERR_UNSUPPORTED_CERTIFICATE, "key usage");
    expect("ku-encipher-only", "localhost", KU_KEY_ENCIPHERMENT, LATCH_OK, NULL);
    /* no CN fallback for host names; IP SANs for IP literals */
    expect("ip-only", "localhost", KU_DIGITAL_SIGNATURE, LATCH_ERR_CERTIFICATE_NAME, "CN is not");
    expect("ip-only", "127.0.0.1", KU_DIGITAL_SIGNATURE, LATCH_OK, NULL);
    expect("ip-only", "::1", KU_DIGITAL_SIGNATURE, LATCH_ERR_CERTIFICATE_NAME, NULL);
    /* libcrypto's own checks, mapped */
    expect("under-not-a-ca", "localhost", KU_DIGITAL_SIGNATURE, LATCH_ERR_BAD_CERTIFICATE,
           "invalid CA");
    expect("not-yet-valid", "localhost", KU_DIGITAL_SIGNATURE, LATCH_ERR_CERTIFICATE_EXPIRED,
           "not yet valid");
    expect("server-p256", "localhost", KU_DIGITAL_SIGNATURE, LATCH_OK, NULL);
    expect("server-rsa2048", "localhost", KU_KEY_ENCIPHERMENT, LATCH_OK, NULL);
    X509_STORE_free(store);
    return check_finish();
}
