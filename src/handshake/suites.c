#include "handshake/suites.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "latch/latch.h"

#define V12 LATCH_VERSION_TLS12
#define V13 LATCH_VERSION_TLS13

/* Rows: id, IANA name, key exchange, authentication, AEAD, PRF hash,
 * versions, key length, fixed IV, explicit nonce, record kind, MAC hash,
 * MAC key length. */
#define AEAD_SUITE(id, name, kx, auth, aead, hash, min, max, key, fixed, explicit_nonce) \
    {id, name, kx, auth, aead, hash, min, max, key, fixed, explicit_nonce, RECORD_AEAD,   \
     LATCH_HASH_SHA256, 0}
/* RFC 5246 6.2.3.2, RFC 5289: AES-CBC with HMAC; TLS 1.2 generates no IVs for
 * them (each record carries its own). */
#define CBC_SUITE(id, name, kx, auth, prf, key, mac, mac_len)                              \
    {id, name, kx, auth, LATCH_AEAD_COUNT, prf, V12, V12, key, 0, 0, RECORD_CBC, mac, mac_len}

static const latch_suite suites[] = {
    AEAD_SUITE(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
               LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V12, V12, 16, 4, 8),
    AEAD_SUITE(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
               LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V12, V12, 32, 4, 8),
    AEAD_SUITE(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", KEY_EXCHANGE_ECDHE,
               AUTH_ECDSA, LATCH_AEAD_CHACHA20_POLY1305, LATCH_HASH_SHA256, V12, V12, 32, 12, 0),
    AEAD_SUITE(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KEY_EXCHANGE_ECDHE, AUTH_RSA,
               LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V12, V12, 16, 4, 8),
    AEAD_SUITE(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", KEY_EXCHANGE_ECDHE, AUTH_RSA,
               LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V12, V12, 32, 4, 8),
    AEAD_SUITE(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", KEY_EXCHANGE_ECDHE,
               AUTH_RSA, LATCH_AEAD_CHACHA20_POLY1305, LATCH_HASH_SHA256, V12, V12, 32, 12, 0),
    AEAD_SUITE(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", KEY_EXCHANGE_RSA, AUTH_RSA,
               LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V12, V12, 16, 4, 8),
    AEAD_SUITE(0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", KEY_EXCHANGE_RSA, AUTH_RSA,
               LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V12, V12, 32, 4, 8),
    AEAD_SUITE(0x1301, "TLS_AES_128_GCM_SHA256", KEY_EXCHANGE_TLS13, AUTH_TLS13,
               LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V13, V13, 16, 12, 0),
    AEAD_SUITE(0x1302, "TLS_AES_256_GCM_SHA384", KEY_EXCHANGE_TLS13, AUTH_TLS13,
               LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V13, V13, 32, 12, 0),
    AEAD_SUITE(0x1303, "TLS_CHACHA20_POLY1305_SHA256", KEY_EXCHANGE_TLS13, AUTH_TLS13,
               LATCH_AEAD_CHACHA20_POLY1305, LATCH_HASH_SHA256, V13, V13, 32, 12, 0),
    /* RFC 4492 / RFC 8422: ECDHE with HMAC-SHA1, SHA-256 PRF in TLS 1.2 */
    CBC_SUITE(0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
              LATCH_HASH_SHA256, 16, LATCH_HASH_SHA1, 20),
    CBC_SUITE(0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
              LATCH_HASH_SHA256, 32, LATCH_HASH_SHA1, 20),
    CBC_SUITE(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", KEY_EXCHANGE_ECDHE, AUTH_RSA,
              LATCH_HASH_SHA256, 16, LATCH_HASH_SHA1, 20),
    CBC_SUITE(0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", KEY_EXCHANGE_ECDHE, AUTH_RSA,
              LATCH_HASH_SHA256, 32, LATCH_HASH_SHA1, 20),
    /* RFC 5289 3.2: the SHA-384 suites use the SHA-384 PRF */
    CBC_SUITE(0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
              LATCH_HASH_SHA256, 16, LATCH_HASH_SHA256, 32),
    CBC_SUITE(0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
              LATCH_HASH_SHA384, 32, LATCH_HASH_SHA384, 48),
    CBC_SUITE(0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", KEY_EXCHANGE_ECDHE, AUTH_RSA,
              LATCH_HASH_SHA256, 16, LATCH_HASH_SHA256, 32),
    CBC_SUITE(0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", KEY_EXCHANGE_ECDHE, AUTH_RSA,
              LATCH_HASH_SHA384, 32, LATCH_HASH_SHA384, 48),
    /* RFC 5246 A.5: RSA key exchange */
    CBC_SUITE(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", KEY_EXCHANGE_RSA, AUTH_RSA,
              LATCH_HASH_SHA256, 16, LATCH_HASH_SHA1, 20),
    CBC_SUITE(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", KEY_EXCHANGE_RSA, AUTH_RSA,
              LATCH_HASH_SHA256, 32, LATCH_HASH_SHA1, 20),
    CBC_SUITE(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", KEY_EXCHANGE_RSA, AUTH_RSA,
              LATCH_HASH_SHA256, 16, LATCH_HASH_SHA256, 32),
    CBC_SUITE(0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", KEY_EXCHANGE_RSA, AUTH_RSA,
              LATCH_HASH_SHA256, 32, LATCH_HASH_SHA256, 32),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Mozilla "modern": TLS 1.3 only. */
static const uint16_t modern_suites[] = {0x1301, 0x1302, 0x1303};

/* Mozilla "intermediate", latch's default: TLS 1.3, then ECDHE with an AEAD
 * (forward secret, authenticated encryption). */
const uint16_t suite_default_order[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c,
                                        0xcca9, 0xc02f, 0xc030, 0xcca8};
const size_t suite_default_count = COUNT(suite_default_order);

/* Mozilla "old" without what latch never does (DHE, 3DES): intermediate,
 * then ECDHE with CBC, then RSA key exchange (no forward secrecy). */
static const uint16_t old_suites[] = {
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8,
    0xc023, 0xc027, 0xc009, 0xc013, 0xc024, 0xc028, 0xc00a, 0xc014,
    0x009c, 0x009d, 0x003c, 0x003d, 0x002f, 0x0035};

static const suite_profile profiles[] = {
    [LATCH_PROFILE_MODERN] = {"modern", modern_suites, COUNT(modern_suites), V13, V13, 0},
    [LATCH_PROFILE_INTERMEDIATE] = {"intermediate", suite_default_order,
                                    COUNT(suite_default_order), V12, V13, 0},
    [LATCH_PROFILE_OLD] = {"old", old_suites, COUNT(old_suites), V12, V13, 1},
};

const suite_profile *suite_profile_find(int profile)
{
    return profile >= 0 && (size_t)profile < COUNT(profiles) ? &profiles[profile] : NULL;
}

const uint16_t group_default_order[] = {LATCH_GROUP_X25519, LATCH_GROUP_SECP256R1,
                                        LATCH_GROUP_SECP384R1};
const size_t group_default_count = sizeof group_default_order / sizeof group_default_order[0];

const uint16_t signature_scheme_order[] = {
    LATCH_SIG_ED25519,             LATCH_SIG_ECDSA_SECP256R1_SHA256,
    LATCH_SIG_ECDSA_SECP384R1_SHA384, LATCH_SIG_RSA_PSS_RSAE_SHA256,
    LATCH_SIG_RSA_PSS_RSAE_SHA384, LATCH_SIG_RSA_PSS_RSAE_SHA512,
    LATCH_SIG_RSA_PKCS1_SHA256,    LATCH_SIG_RSA_PKCS1_SHA384,
    LATCH_SIG_RSA_PKCS1_SHA512,
};
const size_t signature_scheme_count =
    sizeof signature_scheme_order / sizeof signature_scheme_order[0];

const latch_suite *suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

const latch_suite *suite_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (strcasecmp(suites[i].name, name) == 0)
            return &suites[i];
    return NULL;
}

uint16_t suite_id_by_name(const char *name)
{
    const latch_suite *s = suite_by_name(name);
    return s ? s->id : 0;
}

const char *latch_cipher_suite_name(uint16_t id)
{
    const latch_suite *s = suite_find(id);
    return s ? s->name : "unknown";
}

static const struct {
    uint16_t id;
    const char *name;
} group_names[] = {
    {LATCH_GROUP_X25519, "x25519"},
    {LATCH_GROUP_SECP256R1, "secp256r1"},
    {LATCH_GROUP_SECP384R1, "secp384r1"},
};

uint16_t group_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof group_names / sizeof group_names[0]; i++)
        if (strcasecmp(group_names[i].name, name) == 0)
            return group_names[i].id;
    if (strcasecmp(name, "P-256") == 0 || strcasecmp(name, "prime256v1") == 0)
        return LATCH_GROUP_SECP256R1;
    if (strcasecmp(name, "P-384") == 0)
        return LATCH_GROUP_SECP384R1;
    return 0;
}

const char *latch_group_name(uint16_t group)
{
    for (size_t i = 0; i < sizeof group_names / sizeof group_names[0]; i++)
        if (group_names[i].id == group)
            return group_names[i].name;
    return "unknown";
}

int parse_name_list(const char *list, uint16_t (*lookup)(const char *), uint16_t *ids,
                    size_t max, char *bad, size_t bad_len)
{
    char item[128];
    size_t count = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",: ");
        if (n > 0) {
            if (n >= sizeof item || count >= max) {
                snprintf(bad, bad_len, "%.*s", (int)(n < 100 ? n : 100), p);
                return -1;
            }
            memcpy(item, p, n);
            item[n] = '\0';
            uint16_t id = lookup(item);
            if (id == 0) {
                snprintf(bad, bad_len, "%s", item);
                return -1;
            }
            ids[count++] = id;
        }
        p += n;
        if (*p != '\0')
            p++;
    }
    return (int)count;
}
