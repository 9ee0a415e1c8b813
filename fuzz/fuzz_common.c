/* Shared, deterministic set-up for the fuzz harnesses: see fuzz_common.h. */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fuzz_rng fuzz_server_rng = {FUZZ_SERVER_SEED}, fuzz_client_rng = {FUZZ_CLIENT_SEED};

void fuzz_rng_reset(void)
{
    fuzz_server_rng.state = FUZZ_SERVER_SEED;
    fuzz_client_rng.state = FUZZ_CLIENT_SEED;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int fuzz_random(void *arg, uint8_t *out, size_t n)
{
    fuzz_rng *r = arg;
    uint64_t word = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0)
            word = splitmix64(&r->state);
        out[i] = (uint8_t)(word >> (8 * (i % 8)));
    }
    return 0;
}

static uint64_t fixed_monotonic_us(void *arg)
{
    (void)arg;
    return 1000000ull;
}

static uint64_t fixed_wall_seconds(void *arg)
{
    (void)arg;
    return FUZZ_WALL_SECONDS;
}

static void die(const char *what, latch_config *cfg)
{
    fprintf(stderr, "fuzz set-up: %s: %s\n", what, cfg ? latch_config_error(cfg) : "");
    abort();
}

/* Every suite: the largest attack surface.  Libraries without the CBC
 * suites refuse their names; then the list without them. */
#define FUZZ_AEAD_SUITES                                                                    \
    "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,"            \
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"       \
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"   \
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
#define FUZZ_RSA_SUITES "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384"
#define FUZZ_CBC_SUITES                                                                     \
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,"          \
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA"

static latch_config *server_config;
static latch_config *client_configs[FUZZ_CLIENT_VARIANTS];

latch_config *fuzz_server_config(void)
{
    uint8_t ticket_key[80]; /* fixed, so that recorded tickets open on replay */
    latch_config *cfg = server_config;
    if (cfg != NULL)
        return cfg;
    for (size_t i = 0; i < sizeof ticket_key; i++)
        ticket_key[i] = (uint8_t)(0xa5 ^ (i * 29));
    cfg = latch_config_new(LATCH_ROLE_SERVER);
    if (cfg == NULL)
        die("latch_config_new", NULL);
    if (latch_config_add_cert_key_files(cfg, FUZZ_PKI "server-ed25519.pem",
                                        FUZZ_PKI "server-ed25519-key.pem") != 0 ||
        latch_config_add_cert_key_files(cfg, FUZZ_PKI "server-rsa2048.pem",
                                        FUZZ_PKI "server-rsa2048-key.pem") != 0)
        die("server certificates", cfg);
    /* the CBC suites refine the old profile only */
    if (latch_config_set_profile(cfg, LATCH_PROFILE_OLD) != 0)
        die("server profile", cfg);
    if (latch_config_set_ciphers(cfg, FUZZ_AEAD_SUITES "," FUZZ_CBC_SUITES "," FUZZ_RSA_SUITES) !=
            0 &&
        latch_config_set_ciphers(cfg, FUZZ_AEAD_SUITES "," FUZZ_RSA_SUITES) != 0)
        die("server suites", cfg);
    if (latch_config_set_groups(cfg, "x25519,secp256r1") != 0 ||
        latch_config_set_alpn(cfg, "http/1.1") != 0 ||
        latch_config_add_ticket_key(cfg, ticket_key, sizeof ticket_key) != 0 ||
        latch_config_set_session_cache(cfg, 0, 0) != 0)
        die("server configuration", cfg);
    latch_config_set_random(cfg, fuzz_random, &fuzz_server_rng);
    latch_config_set_clock(cfg, fixed_monotonic_us, fixed_wall_seconds, NULL);
    return server_config = cfg;
}

static const struct {
    const char *name, *ciphers, *groups, *alpn;
    uint16_t min_version, max_version;
    const char *fallback_ciphers; /* if the library refuses `ciphers` */
} variants[FUZZ_CLIENT_VARIANTS] = {
    [FUZZ_CLIENT_DEFAULT] = {"default", NULL, NULL, "h2,http/1.1", LATCH_VERSION_TLS12,
                             LATCH_VERSION_TLS13, NULL},
    [FUZZ_CLIENT_TLS12_ECDHE] = {"tls12-ecdhe",
                                 "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,"
                                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                                 "secp256r1,x25519", NULL, LATCH_VERSION_TLS12,
                                 LATCH_VERSION_TLS12, NULL},
    [FUZZ_CLIENT_TLS12_RSA] = {"tls12-rsa", "TLS_RSA_WITH_AES_256_GCM_SHA384", NULL, NULL,
                               LATCH_VERSION_TLS12, LATCH_VERSION_TLS12, NULL},
    [FUZZ_CLIENT_TLS13_RETRY] = {"tls13-retry", NULL, "secp384r1,x25519", NULL,
                                 LATCH_VERSION_TLS13, LATCH_VERSION_TLS13, NULL},
    [FUZZ_CLIENT_TLS13_CHACHA] = {"tls13-chacha", "TLS_CHACHA20_POLY1305_SHA256", "secp256r1",
                                  "http/1.1", LATCH_VERSION_TLS13, LATCH_VERSION_TLS13, NULL},
    [FUZZ_CLIENT_TLS12_CBC] = {"tls12-cbc",
                               "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,"
                               "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
                               NULL, NULL, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12,
                               "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
};

const char *fuzz_client_variant_name(unsigned variant)
{
    return variant < FUZZ_CLIENT_VARIANTS ? variants[variant].name : "?";
}

latch_config *fuzz_client_config(unsigned variant)
{
    variant %= FUZZ_CLIENT_VARIANTS;
    latch_config *cfg = client_configs[variant];
    if (cfg != NULL)
        return cfg;
    cfg = latch_config_new(LATCH_ROLE_CLIENT);
    if (cfg == NULL)
        die("latch_config_new", NULL);
    if (latch_config_set_ca(cfg, FUZZ_PKI "ca.pem", NULL) != 0)
        die("client CA", cfg);
    if (variant == FUZZ_CLIENT_TLS12_CBC && latch_config_set_profile(cfg, LATCH_PROFILE_OLD) != 0)
        die(variants[variant].name, cfg); /* CBC suites refine the old profile only */
    if (variants[variant].ciphers && latch_config_set_ciphers(cfg, variants[variant].ciphers) &&
        (variants[variant].fallback_ciphers == NULL ||
         latch_config_set_ciphers(cfg, variants[variant].fallback_ciphers) != 0))
        die(variants[variant].name, cfg);
    if ((variants[variant].groups && latch_config_set_groups(cfg, variants[variant].groups)) ||
        (variants[variant].alpn && latch_config_set_alpn(cfg, variants[variant].alpn)) ||
        latch_config_set_versions(cfg, variants[variant].min_version,
                                  variants[variant].max_version) != 0)
        die(variants[variant].name, cfg);
    latch_config_set_random(cfg, fuzz_random, &fuzz_client_rng);
    latch_config_set_clock(cfg, fixed_monotonic_us, fixed_wall_seconds, NULL);
    return client_configs[variant] = cfg;
}

void fuzz_drain(latch_conn *conn)
{
    size_t len;
    uint8_t app[4096];
    int got_app = 0;
    (void)latch_conn_send_buf(conn, &len);
    latch_conn_send_done(conn, len);
    while (latch_conn_read(conn, app, sizeof app) > 0)
        got_app = 1;
    /* answer application data: exercises the write path after a handshake */
    if (got_app && (latch_conn_status(conn) & LATCH_STATUS_READY)) {
        (void)latch_conn_write(conn, "ok\n", 3);
        (void)latch_conn_send_buf(conn, &len);
        latch_conn_send_done(conn, len);
    }
}

void fuzz_feed(latch_conn *conn, const uint8_t *data, size_t len, uint8_t split)
{
    uint64_t state = 0x243f6a8885a308d3ull ^ split;
    size_t off = 0;
    fuzz_drain(conn);
    while (off < len) {
        size_t room, n = len - off;
        uint8_t *dst = latch_conn_recv_buf(conn, &room);
        if (room == 0)
            break;
        if (split != 0) { /* 1..63: chunks of 1..split bytes; 64..255: up to 256 * (split-63) */
            size_t max = split < 64 ? split : (size_t)(split - 63) * 256;
            size_t chunk = 1 + (size_t)(splitmix64(&state) % max);
            if (n > chunk)
                n = chunk;
        }
        if (n > room)
            n = room;
        memcpy(dst, data + off, n);
        off += n;
        int err = latch_conn_recv_done(conn, n);
        fuzz_drain(conn);
        if (err != 0)
            break;
    }
}

void fuzz_cleanup(void)
{
    latch_config_free(server_config);
    server_config = NULL;
    for (unsigned i = 0; i < FUZZ_CLIENT_VARIANTS; i++) {
        latch_config_free(client_configs[i]);
        client_configs[i] = NULL;
    }
}
