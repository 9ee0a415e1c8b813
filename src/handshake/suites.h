/* Cipher suites, groups and signature schemes latch knows, with what each implies. */
#ifndef LATCH_SUITES_H
#define LATCH_SUITES_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

enum suite_key_exchange { KEY_EXCHANGE_ECDHE, KEY_EXCHANGE_RSA, KEY_EXCHANGE_TLS13 };
enum suite_auth { AUTH_ECDSA, AUTH_RSA, AUTH_TLS13 };
/* Record protection: an AEAD, or AES-CBC with HMAC (RFC 5246 6.2.3.2). */
enum suite_record { RECORD_AEAD, RECORD_CBC };

typedef struct latch_suite {
    uint16_t id;
    const char *name;          /* IANA */
    enum suite_key_exchange key_exchange;
    enum suite_auth auth;
    enum latch_aead_id aead;
    enum latch_hash_id hash;   /* PRF / HKDF hash */
    uint16_t min_version, max_version;
    uint8_t key_len;
    uint8_t fixed_iv_len;      /* TLS 1.2: 4 for GCM (salt), 12 for ChaCha20 */
    uint8_t explicit_nonce_len;/* TLS 1.2: 8 for GCM, 0 for ChaCha20 */
    enum suite_record record;
    enum latch_hash_id mac_hash; /* CBC: the HMAC hash (SHA-1, -256, -384) */
    uint8_t mac_key_len;       /* CBC: 20, 32 or 48; AEAD: 0 */
} latch_suite;

const latch_suite *suite_find(uint16_t id);
const latch_suite *suite_by_name(const char *name);
/* Default preference order (ECDHE-ECDSA first, AES-GCM then ChaCha20):
 * the intermediate profile's list. */
extern const uint16_t suite_default_order[];
extern const size_t suite_default_count;

/* Security profiles after Mozilla's server-side TLS guidelines: the suites
 * each one enables, in preference order (see latch_config_set_profile). */
typedef struct suite_profile {
    const char *name;
    const uint16_t *suites;
    size_t suite_count;
    uint16_t min_version, max_version;
    int sha1_signatures;       /* RFC 5246 7.4.1.4.1 defaults for TLS 1.2 peers */
} suite_profile;
/* profile is a latch_profile value; NULL if unknown. */
const suite_profile *suite_profile_find(int profile);

/* Named groups: default order and names. */
extern const uint16_t group_default_order[];
extern const size_t group_default_count;
uint16_t group_by_name(const char *name);

/* Signature schemes we offer/accept, in preference order. */
extern const uint16_t signature_scheme_order[];
extern const size_t signature_scheme_count;

/* Parse a comma/colon list with a name->id function into ids[]; returns the
 * count or -1 naming the bad entry in bad[]. */
int parse_name_list(const char *list, uint16_t (*lookup)(const char *), uint16_t *ids,
                    size_t max, char *bad, size_t bad_len);
uint16_t suite_id_by_name(const char *name);

#endif
