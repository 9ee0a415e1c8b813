/*
 * fuzz_certificate: latch_verify_chain on a fuzzed chain of up to three DER
 * certificates, against the test root (tests/data/pki/ca.pem).
 *
 * Input: flags(1) || DER...  The DER bytes are cut into certificates by their
 * outer TLV headers (the last one takes whatever is left); flags picks the
 * host name checked (none, "localhost", an IP literal) and the time.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "fuzz_common.h"
#include "x509/x509.h"

static X509_STORE *store;

/* Length of the DER TLV at data (header included), or len if it does not parse. */
static size_t tlv_length(const uint8_t *data, size_t len)
{
    size_t body, header = 2;
    if (len < 2)
        return len;
    if (data[1] < 0x80) {
        body = data[1];
    } else {
        size_t n = data[1] & 0x7f;
        if (n == 0 || n > 3 || len < 2 + n)
            return len;
        body = 0;
        for (size_t i = 0; i < n; i++)
            body = (body << 8) | data[2 + i];
        header += n;
    }
    return header + body > len ? len : header + body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = {NULL, "localhost", "127.0.0.1", "a.example.com"};
    const uint8_t *der[3];
    size_t der_len[3], count = 0, off = 1;
    char reason[256];
    EVP_PKEY *leaf = NULL;
    if (size < 2)
        return 0;
    if (store == NULL) {
        store = latch_trust_store_new(FUZZ_PKI "ca.pem", NULL, reason, sizeof reason);
        if (store == NULL) {
            fprintf(stderr, "fuzz_certificate: %s\n", reason);
            abort();
        }
    }
    while (off < size && count < 3) {
        size_t n = count == 2 ? size - off : tlv_length(data + off, size - off);
        der[count] = data + off;
        der_len[count++] = n;
        off += n;
    }
    int64_t when = (data[0] & 0x04) ? 0 : (int64_t)FUZZ_WALL_SECONDS;
    latch_error err = latch_verify_chain(store, der, der_len, count, hosts[data[0] & 3], when,
                                         (data[0] & 0x08) ? NULL : &leaf, reason, sizeof reason);
    if (err == LATCH_OK && leaf == NULL && !(data[0] & 0x08))
        abort(); /* the contract: a leaf key on success */
    EVP_PKEY_free(leaf);
    /* the leaf alone, as a client with verification off would read it */
    EVP_PKEY_free(latch_leaf_public_key(der[0], der_len[0]));
    return 0;
}

void fuzz_certificate_cleanup(void);
void fuzz_certificate_cleanup(void)
{
    X509_STORE_free(store);
    store = NULL;
}
