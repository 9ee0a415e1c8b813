/* latch_config: built once, then shared read-only by its connections. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/internal.h"
#include "engine/session.h"
#include "util/error.h"

static uint64_t default_monotonic_us(void *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int config_fail(latch_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int config_fail(latch_config *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
    va_end(ap);
    return LATCH_ERR_CONFIG;
}

/* Tickets with a random key made now, and a session-id cache. */
static int server_resumption_defaults(latch_config *cfg)
{
    ticket_key *key = &cfg->ticket_keys[0];
    cfg->tickets_enabled = 1;
    cfg->ticket_lifetime = 7200;
    if (latch_random_default(NULL, key->name, 16) != 0 ||
        latch_random_default(NULL, key->key, 32) != 0)
        return -1;
    cfg->ticket_key_count = 1;
    cfg->cache = session_cache_new(1024, 7200);
    return cfg->cache == NULL ? -1 : 0;
}

latch_config *latch_config_new(enum latch_role role)
{
    latch_config *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return NULL;
    if (latch_crypto_init(&cfg->crypto) != 0) {
        free(cfg);
        return NULL;
    }
    cfg->role = role;
    if (latch_config_set_profile(cfg, LATCH_PROFILE_INTERMEDIATE) != 0) {
        latch_config_free(cfg);
        return NULL;
    }
    cfg->verify = role == LATCH_ROLE_CLIENT;
    cfg->encrypt_then_mac = 1;
    cfg->random = latch_random_default;
    cfg->clock_us = default_monotonic_us;
    if (role == LATCH_ROLE_SERVER && server_resumption_defaults(cfg) != 0) {
        latch_config_free(cfg);
        return NULL;
    }
    return cfg;
}

void latch_config_free(latch_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->cert_count; i++)
        latch_cert_key_free(cfg->certs[i]);
    X509_STORE_free(cfg->trust);
    session_cache_free(cfg->cache);
    latch_wipe(cfg->ticket_keys, sizeof cfg->ticket_keys);
    free(cfg->ca_file);
    free(cfg->ca_path);
    latch_crypto_cleanup(&cfg->crypto);
    free(cfg);
}

const char *latch_config_error(const latch_config *cfg) { return cfg->error; }

int latch_config_add_cert_key_files(latch_config *cfg, const char *cert_file,
                                    const char *key_file)
{
    char reason[400];
    if (cfg->cert_count == LATCH_MAX_CERTS)
        return config_fail(cfg, "at most %d certificate/key pairs", LATCH_MAX_CERTS);
    latch_cert_key *ck = latch_cert_key_load(cert_file, key_file, reason, sizeof reason);
    if (ck == NULL)
        return config_fail(cfg, "%s", reason);
    cfg->certs[cfg->cert_count++] = ck;
    return 0;
}

int latch_config_set_ca(latch_config *cfg, const char *ca_file, const char *ca_path)
{
    char reason[400];
    X509_STORE *store = latch_trust_store_new(ca_file, ca_path, reason, sizeof reason);
    if (store == NULL)
        return config_fail(cfg, "%s", reason);
    X509_STORE_free(cfg->trust);
    cfg->trust = store;
    return 0;
}

void latch_config_set_verify(latch_config *cfg, int verify) { cfg->verify = verify != 0; }

int latch_config_set_client_auth(latch_config *cfg, enum latch_client_auth mode,
                                 const char *ca_file)
{
    if (cfg->role != LATCH_ROLE_SERVER)
        return config_fail(cfg, "client authentication is set on a server configuration");
    if (mode != LATCH_CLIENT_AUTH_NONE) {
        if (ca_file == NULL)
            return config_fail(cfg, "client authentication needs a CA file (--client-ca)");
        TRY(latch_config_set_ca(cfg, ca_file, NULL));
    }
    cfg->client_auth = mode;
    return 0;
}

/* Names of things latch refuses outright, with the reason. */
static const char *insecure_reason(const char *name)
{
    static const struct {
        const char *needle, *why;
    } refused[] = {
        {"RC4", "RC4 is broken (RFC 7465)"},   {"3DES", "3DES is a 64-bit block cipher (Sweet32)"},
        {"_DES_", "DES is broken"},            {"MD5", "MD5 is broken"},
        {"EXPORT", "export ciphers are broken (FREAK/Logjam)"},
        {"NULL", "NULL ciphers do not encrypt"}, {"anon", "anonymous suites have no authentication"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strstr(name, refused[i].needle) != NULL)
            return refused[i].why;
    return NULL;
}

/* A version with no configured suite is not offered: --ciphers with only
 * TLS 1.2 names means TLS 1.2, and the other way round. */
static int settle_versions(latch_config *cfg)
{
    int has12 = 0, has13 = 0;
    for (size_t i = 0; i < cfg->suite_count; i++) {
        const latch_suite *s = suite_find(cfg->suites[i]);
        has13 |= s->key_exchange == KEY_EXCHANGE_TLS13;
        has12 |= s->key_exchange != KEY_EXCHANGE_TLS13;
    }
    uint16_t lo = cfg->asked_min_version, hi = cfg->asked_max_version;
    if (!has12 && lo == LATCH_VERSION_TLS12)
        lo = LATCH_VERSION_TLS13;
    if (!has13 && hi == LATCH_VERSION_TLS13)
        hi = LATCH_VERSION_TLS12;
    if (lo > hi)
        return config_fail(cfg, "no cipher suite for the enabled protocol versions");
    cfg->min_version = lo;
    cfg->max_version = hi;
    return 0;
}

/* ---- security profiles (Mozilla server-side TLS: modern, intermediate, old) ---- */

/* A profile sets everything it governs; explicit calls made after it refine
 * it.  The suite lists are in suites.c. */
int latch_config_set_profile(latch_config *cfg, latch_profile profile)
{
    const suite_profile *p = suite_profile_find((int)profile);
    if (p == NULL)
        return config_fail(cfg, "unknown profile %d (modern, intermediate, old)", (int)profile);
    memcpy(cfg->suites, p->suites, p->suite_count * sizeof(uint16_t));
    cfg->suite_count = p->suite_count;
    memcpy(cfg->groups, group_default_order, group_default_count * sizeof(uint16_t));
    cfg->group_count = group_default_count;
    cfg->asked_min_version = p->min_version;
    cfg->asked_max_version = p->max_version;
    cfg->sha1_signatures = p->sha1_signatures;
    cfg->profile = profile;
    return settle_versions(cfg);
}

int latch_profile_parse(const char *text)
{
    for (int i = LATCH_PROFILE_MODERN; i <= LATCH_PROFILE_OLD; i++)
        if (text != NULL && strcasecmp(text, suite_profile_find(i)->name) == 0)
            return i;
    return -1;
}

const char *latch_profile_name(latch_profile profile)
{
    const suite_profile *p = suite_profile_find((int)profile);
    return p != NULL ? p->name : "unknown";
}

/* Explicit names may be any AEAD suite latch implements, whatever the
 * profile (naming an RSA key exchange suite enables it); the AES-CBC suites
 * only refine the old profile: set it first.  The defaults never include
 * either. */
int latch_config_set_ciphers(latch_config *cfg, const char *list)
{
    uint16_t ids[LATCH_MAX_SUITES];
    char bad[128] = "";
    int n = parse_name_list(list, suite_id_by_name, ids, LATCH_MAX_SUITES, bad, sizeof bad);
    if (n < 0) {
        const char *why = insecure_reason(bad);
        if (why != NULL)
            return config_fail(cfg, "cipher suite %s refused: %s", bad, why);
        return config_fail(cfg, "unknown cipher suite '%s' (use IANA names, e.g. "
                                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)", bad);
    }
    if (n == 0)
        return config_fail(cfg, "empty cipher suite list");
    for (int i = 0; i < n && cfg->profile != LATCH_PROFILE_OLD; i++) {
        const latch_suite *s = suite_find(ids[i]);
        if (s != NULL && s->record == RECORD_CBC)
            return config_fail(cfg, "%s needs the old profile (--profile old); the %s profile "
                                    "has AEAD suites only",
                               s->name, latch_profile_name(cfg->profile));
    }
    uint16_t saved[LATCH_MAX_SUITES];
    size_t saved_count = cfg->suite_count;
    memcpy(saved, cfg->suites, sizeof saved);
    memcpy(cfg->suites, ids, (size_t)n * sizeof ids[0]);
    cfg->suite_count = (size_t)n;
    int err = settle_versions(cfg);
    if (err != 0) { /* keep the previous list */
        memcpy(cfg->suites, saved, sizeof saved);
        cfg->suite_count = saved_count;
    }
    return err;
}

int latch_config_set_groups(latch_config *cfg, const char *list)
{
    uint16_t ids[LATCH_MAX_GROUPS];
    char bad[128] = "";
    int n = parse_name_list(list, group_by_name, ids, LATCH_MAX_GROUPS, bad, sizeof bad);
    if (n < 0)
        return config_fail(cfg, "unknown group '%s' (x25519, secp256r1, secp384r1)", bad);
    if (n == 0)
        return config_fail(cfg, "empty group list");
    memcpy(cfg->groups, ids, (size_t)n * sizeof ids[0]);
    cfg->group_count = (size_t)n;
    return 0;
}

uint16_t latch_version_parse(const char *text)
{
    if (strcmp(text, "1.2") == 0 || strcasecmp(text, "TLSv1.2") == 0)
        return LATCH_VERSION_TLS12;
    if (strcmp(text, "1.3") == 0 || strcasecmp(text, "TLSv1.3") == 0)
        return LATCH_VERSION_TLS13;
    return 0;
}

int latch_config_set_versions(latch_config *cfg, uint16_t min_version, uint16_t max_version)
{
    if (min_version < LATCH_VERSION_TLS12 || max_version < LATCH_VERSION_TLS12)
        return config_fail(cfg, "SSL 3.0, TLS 1.0 and TLS 1.1 are refused (RFC 8996); "
                                "the minimum is TLS 1.2");
    if (min_version > max_version)
        return config_fail(cfg, "minimum version is above the maximum");
    if (max_version > LATCH_VERSION_TLS13)
        return config_fail(cfg, "unknown protocol version 0x%04x", max_version);
    cfg->asked_min_version = min_version;
    cfg->asked_max_version = max_version;
    return settle_versions(cfg);
}

int latch_config_set_alpn(latch_config *cfg, const char *list)
{
    size_t len = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n == 0 || n > 255 || len + 1 + n > sizeof cfg->alpn)
            return config_fail(cfg, "invalid ALPN list '%s'", list);
        cfg->alpn[len++] = (uint8_t)n;
        memcpy(cfg->alpn + len, p, n);
        len += n;
        p += n;
        if (*p == ',')
            p++;
    }
    cfg->alpn_len = len;
    return 0;
}

void latch_config_set_observer(latch_config *cfg, latch_observer_fn fn, void *arg)
{
    cfg->observer = fn;
    cfg->observer_arg = arg;
}

void latch_config_set_keylog(latch_config *cfg, latch_keylog_fn fn, void *arg)
{
    cfg->keylog = fn;
    cfg->keylog_arg = arg;
}

void latch_config_set_random(latch_config *cfg, latch_random_fn fn, void *arg)
{
    cfg->random = fn ? fn : latch_random_default;
    cfg->random_arg = fn ? arg : NULL;
}

void latch_config_set_clock(latch_config *cfg, latch_clock_fn monotonic_us,
                            latch_clock_fn wall_seconds, void *arg)
{
    cfg->clock_us = monotonic_us ? monotonic_us : default_monotonic_us;
    cfg->clock_wall = wall_seconds;
    cfg->clock_arg = arg;
}

/* nginx's ssl_session_ticket_key: 80 bytes (name 16, secrets 64) or 48
 * (name 16, secrets 32).  The AES-256-GCM key is HKDF-Extract of the secrets. */
int latch_config_add_ticket_key(latch_config *cfg, const uint8_t *bytes, size_t len)
{
    ticket_key key;
    size_t out_len;
    if (len != 80 && len != 48)
        return config_fail(cfg, "a ticket key is 80 or 48 bytes, not %zu", len);
    memcpy(key.name, bytes, 16);
    if (latch_hkdf_extract(&cfg->crypto, LATCH_HASH_SHA256, NULL, 0, bytes + 16, len - 16,
                           key.key, &out_len) != 0)
        return config_fail(cfg, "ticket key derivation failed");
    if (cfg->ticket_key_count > 0 && !cfg->ticket_keys_given)
        cfg->ticket_key_count = 0; /* the first given key replaces the random one */
    if (cfg->ticket_key_count == LATCH_MAX_TICKET_KEYS)
        return config_fail(cfg, "at most %d ticket keys", LATCH_MAX_TICKET_KEYS);
    cfg->ticket_keys[cfg->ticket_key_count++] = key;
    cfg->ticket_keys_given = 1;
    latch_wipe(&key, sizeof key);
    return 0;
}

int latch_config_set_tickets(latch_config *cfg, int enabled, uint32_t lifetime_seconds)
{
    if (lifetime_seconds == 0 || lifetime_seconds > 604800)
        return config_fail(cfg, "ticket lifetime must be 1 s to 7 days");
    cfg->tickets_enabled = enabled != 0;
    cfg->ticket_lifetime = lifetime_seconds;
    return 0;
}

int latch_config_set_half_close(latch_config *cfg, int enabled)
{
    cfg->half_close = enabled != 0;
    return 0;
}

int latch_config_set_session_cache(latch_config *cfg, size_t max_entries,
                                   uint32_t lifetime_seconds)
{
    session_cache_free(cfg->cache);
    cfg->cache = NULL;
    if (max_entries == 0)
        return 0;
    cfg->cache = session_cache_new(max_entries, lifetime_seconds);
    return cfg->cache == NULL ? config_fail(cfg, "out of memory") : 0;
}

/* The cache is reference counted and locked: from may be in use by its
 * connections meanwhile (taking a reference only touches the cache's lock). */
int latch_config_share_session_cache(latch_config *cfg, const latch_config *from)
{
    if (cfg->role != LATCH_ROLE_SERVER || from == NULL || from->role != LATCH_ROLE_SERVER)
        return config_fail(cfg, "a session cache is shared between server configurations");
    if (cfg == from)
        return 0;
    struct session_cache *cache = from->cache != NULL ? session_cache_ref(from->cache) : NULL;
    session_cache_free(cfg->cache);
    cfg->cache = cache;
    return 0;
}
