/*
 * Certificates: loading our own chain and key, verifying the peer's chain.
 * Everything here goes through libcrypto (X509_STORE / X509_verify_cert).
 */
#ifndef LATCH_X509_H
#define LATCH_X509_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "latch/latch.h"

/* A certificate chain we send, with its private key. */
typedef struct latch_cert_key {
    STACK_OF(X509) *chain;   /* leaf first, then intermediates in order */
    uint8_t **der;           /* DER of each chain entry (what goes on the wire) */
    size_t *der_len;
    size_t count;
    EVP_PKEY *key;           /* private key matching chain[0] */
    int key_type;            /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519 */
    int key_bits;
    int ec_curve_nid;        /* NID_X9_62_prime256v1 / NID_secp384r1 for EC keys */
    char **names;            /* DNS SANs (and CN when no SAN) for SNI selection */
    size_t name_count;
} latch_cert_key;

/* Load a chain (PEM with several certs, or one DER cert) and a private key
 * (PKCS#8 or traditional PEM, or DER).  A key that does not match the leaf is
 * an error naming both files.  On error returns NULL and writes a reason. */
latch_cert_key *latch_cert_key_load(const char *cert_file, const char *key_file,
                                    char *reason, size_t reason_len);
void latch_cert_key_free(latch_cert_key *ck);
/* Certificates only (PEM with several, or one DER): key is NULL. */
latch_cert_key *latch_certificates_load(const char *cert_file, char *reason, size_t reason_len);
/* 1 if ck's leaf covers host (DNS SAN, RFC 6125 wildcard in the left label). */
int latch_cert_key_matches_name(const latch_cert_key *ck, const char *host);
/* The same with latch_host_is_ip(host) already known (one check per handshake). */
int latch_cert_key_matches_host(const latch_cert_key *ck, const char *host, int host_is_ip);

/* Trust store: ca_file and/or ca_path; both NULL = system default store. */
X509_STORE *latch_trust_store_new(const char *ca_file, const char *ca_path,
                                  char *reason, size_t reason_len);

/* Verify the peer chain (DER entries, leaf first) as a client would:
 * chain to a trusted root, validity at `when` (Unix seconds; 0 = now),
 * EKU serverAuth, host name (DNS, or IP literal) when host is non-NULL.
 * Returns LATCH_OK or the latch_error for the first fault; reason gets one
 * line naming the certificate.  *leaf_key receives the leaf's public key
 * (caller frees) when non-NULL, also on LATCH_OK only. */
latch_error latch_verify_chain(X509_STORE *store, const uint8_t *const *der,
                               const size_t *der_len, size_t count, const char *host,
                               int64_t when, EVP_PKEY **leaf_key, char *reason,
                               size_t reason_len);

/* The one verification used by `latch get`, `serve --verify-client` and
 * `latch verify`. */
#define LATCH_PURPOSE_SERVER 0 /* EKU serverAuth */
#define LATCH_PURPOSE_CLIENT 1 /* EKU clientAuth (mutual TLS) */
#define LATCH_MAX_VERIFY_PATH 12

typedef struct latch_verify_options {
    int purpose;
    const char *host;  /* DNS name or IP literal; NULL: no name check */
    int64_t when;      /* Unix seconds; 0: now */
    int max_depth;     /* 0: libcrypto's default */
    uint32_t key_usage; /* leaf key usage the handshake needs (KU_* bits); 0: none */
} latch_verify_options;

typedef struct latch_verify_step {
    char subject[256], issuer[256];
    char not_after[32];
    char key[48];      /* "EC P-256", "RSA 2048", "ED25519" */
} latch_verify_step;

typedef struct latch_verify_report {
    size_t path_len;   /* the path built, leaf first, root last */
    latch_verify_step path[LATCH_MAX_VERIFY_PATH];
} latch_verify_report;

latch_error latch_verify_chain_for(X509_STORE *store, const latch_verify_options *options,
                                   const uint8_t *const *der, const size_t *der_len,
                                   size_t count, EVP_PKEY **leaf_key,
                                   latch_verify_report *report, char *reason,
                                   size_t reason_len);

/* The checks beyond libcrypto's, on the chain it built (strict.c). */
latch_error latch_strict_checks(STACK_OF(X509) *chain, const latch_verify_options *options,
                                char *reason, size_t reason_len);

/* Parse the leaf only (no verification): its public key, or NULL. */
EVP_PKEY *latch_leaf_public_key(const uint8_t *der, size_t der_len);

/* 1 if host matches one certificate name pattern: case-insensitive; a "*"
 * left-most label stands for exactly one non-empty label ("*.example.com"
 * covers "a.example.com", not "example.com" nor "a.b.example.com"); partial
 * wildcards ("f*.example.com") and wildcards over a single label are refused.
 * One trailing dot on host is ignored. */
int latch_name_matches_pattern(const char *pattern, const char *host);
/* 1 if host is an IPv4 or IPv6 address literal (no SNI, IP SAN check). */
int latch_host_is_ip(const char *host);
/* The names a certificate is for: its DNS SANs.  Not the subject CN: the
 * client never accepts it (RFC 6125 6.4.4), so a server choosing by SNI must
 * not either.  Returns a malloc'd array (free with latch_x509_names_free),
 * NULL on allocation failure; *count may be 0 (then the array is still
 * non-NULL). */
char **latch_x509_names(X509 *cert, size_t *count);
void latch_x509_names_free(char **names, size_t count);

#endif
