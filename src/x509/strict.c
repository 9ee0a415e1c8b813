/* Checks libcrypto's verifier leaves out, applied to the chain it built
 * (rules cited in docs/CERTIFICATES.md; rustls's webpki is the model). */
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "x509/x509.h"

#define STRICT_FAIL(reason, len, ...) (snprintf(reason, len, __VA_ARGS__), LATCH_ERR_BAD_CERTIFICATE)

/* RFC 5280 4.1.2.2: a positive integer of at most 20 octets. */
static int serial_ok(X509 *cert)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    int ok = bn != NULL && !BN_is_negative(bn) && !BN_is_zero(bn) && BN_num_bytes(bn) <= 20;
    BN_free(bn);
    return ok;
}

/* RFC 5280 4.1.2.5: notBefore must not be after notAfter. */
static int validity_ok(X509 *cert)
{
    int days, seconds;
    if (!ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)))
        return 0;
    return days > 0 || (days == 0 && seconds >= 0);
}

/* A DNS name whose only wildcard, if any, is the whole left-most label and
 * is followed by at least two labels (RFC 6125 6.4.3; CA/B BR 3.2.2.6). */
static int dns_name_ok(const char *name, size_t len)
{
    const char *star = memchr(name, '*', len);
    if (len == 0 || memchr(name, '\0', len) != NULL)
        return 0;
    if (star == NULL)
        return 1;
    if (star != name || len < 2 || name[1] != '.' || memchr(name + 1, '*', len - 1) != NULL)
        return 0;
    const char *rest = name + 2, *dot = memchr(rest, '.', len - 2);
    return dot != NULL && dot != rest && dot[1] != '\0';
}

/* Server certificates: every DNS name in subjectAltName well formed.  (A
 * certificate without DNS names never matches a host name: latch never
 * falls back to the CN, RFC 6125 6.4.4, CA/B BR 7.1.2.7.12.) */
static latch_error check_san(X509 *leaf, char *reason, size_t len)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    latch_error err = LATCH_OK;
    int count = names ? sk_GENERAL_NAME_num(names) : 0;
    for (int i = 0; err == LATCH_OK && i < count; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS &&
            !dns_name_ok((const char *)ASN1_STRING_get0_data(gn->d.dNSName),
                         (size_t)ASN1_STRING_length(gn->d.dNSName)))
            err = STRICT_FAIL(reason, len, "malformed DNS name or wildcard in subjectAltName: "
                                           "%.*s (RFC 6125 6.4.3)",
                              ASN1_STRING_length(gn->d.dNSName) > 100
                                  ? 100 : ASN1_STRING_length(gn->d.dNSName),
                              (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
    }
    GENERAL_NAMES_free(names);
    return err;
}

static latch_error check_leaf(X509 *leaf, const latch_verify_options *options, char *reason,
                              size_t len)
{
    /* RFC 5280 4.2.1.9: an end entity that is a CA is not a leaf */
    if (X509_get_extension_flags(leaf) & EXFLAG_CA)
        return STRICT_FAIL(reason, len, "end-entity certificate is a CA (RFC 5280 4.2.1.9)");
    /* RFC 5280 4.2.1.3: the key usage must allow what the handshake does */
    uint32_t usage = X509_get_key_usage(leaf);
    if (options->key_usage != 0 && usage != UINT32_MAX && (usage & options->key_usage) == 0) {
        snprintf(reason, len, "key usage does not allow %s (RFC 5280 4.2.1.3)",
                 options->key_usage == KU_KEY_ENCIPHERMENT ? "key encipherment (RSA key exchange)"
                                                           : "digital signatures");
        return LATCH_ERR_UNSUPPORTED_CERTIFICATE;
    }
    if (options->purpose == LATCH_PURPOSE_SERVER)
        return check_san(leaf, reason, len);
    return LATCH_OK;
}

latch_error latch_strict_checks(STACK_OF(X509) *chain, const latch_verify_options *options,
                                char *reason, size_t len)
{
    int n = sk_X509_num(chain);
    for (int i = 0; i < n; i++) {
        X509 *cert = sk_X509_value(chain, i);
        char subject[200];
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        if (!serial_ok(cert))
            return STRICT_FAIL(reason, len, "serial number not a positive integer of at most "
                                            "20 octets: %s (depth %d, RFC 5280 4.1.2.2)",
                               subject, i);
        if (!validity_ok(cert))
            return STRICT_FAIL(reason, len, "notBefore is after notAfter: %s (depth %d, "
                                            "RFC 5280 4.1.2.5)", subject, i);
    }
    return n > 0 ? check_leaf(sk_X509_value(chain, 0), options, reason, len) : LATCH_OK;
}
