#include "handshake/suites.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "latch/latch.h"

#define V12 LATCH_VERSION_TLS12
#define V13 LATCH_VERSION_TLS13

static const latch_suite suites[] = {
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
     LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V12, V12, 16, 4, 8},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
     LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V12, V12, 32, 4, 8},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", KEY_EXCHANGE_ECDHE, AUTH_ECDSA,
     LATCH_AEAD_CHACHA20_POLY1305, LATCH_HASH_SHA256, V12, V12, 32, 12, 0},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KEY_EXCHANGE_ECDHE, AUTH_RSA,
     LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V12, V12, 16, 4, 8},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", KEY_EXCHANGE_ECDHE, AUTH_RSA,
     LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V12, V12, 32, 4, 8},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", KEY_EXCHANGE_ECDHE, AUTH_RSA,
     LATCH_AEAD_CHACHA20_POLY1305, LATCH_HASH_SHA256, V12, V12, 32, 12, 0},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", KEY_EXCHANGE_RSA, AUTH_RSA,
     LATCH_AEAD_AES128_GCM, LATCH_HASH_SHA256, V12, V12, 16, 4, 8},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", KEY_EXCHANGE_RSA, AUTH_RSA,
     LATCH_AEAD_AES256_GCM, LATCH_HASH_SHA384, V12, V12, 32, 4, 8},
    {0x1301, "TLS_AES_128_GCM_SHA256", KEY_EXCHANGE_TLS13, AUTH_TLS13, LATCH_AEAD_AES128_GCM,
     LATCH_HASH_SHA256, V13, V13, 16, 12, 0},
    {0x1302, "TLS_AES_256_GCM_SHA384", KEY_EXCHANGE_TLS13, AUTH_TLS13, LATCH_AEAD_AES256_GCM,
     LATCH_HASH_SHA384, V13, V13, 32, 12, 0},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", KEY_EXCHANGE_TLS13, AUTH_TLS13,
     LATCH_AEAD_CHACHA20_POLY1305, LATCH_HASH_SHA256, V13, V13, 32, 12, 0},
};

/* TLS 1.3, then ECDHE (forward secret), RSA key exchange last */
const uint16_t suite_default_order[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9,
                                        0xc02f, 0xc030, 0xcca8, 0x009c, 0x009d};
const size_t suite_default_count = sizeof suite_default_order / sizeof suite_default_order[0];

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
