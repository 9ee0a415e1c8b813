/*
 * Replayability: with the random source and the clocks fixed, a handshake
 * (and the records after it) is the same byte for byte every time.  All of
 * latch's own randomness (randoms, session ids, ephemeral keys, ticket IVs)
 * comes from the configured callback, the ticket key is given; Ed25519
 * signatures are deterministic, RSA-PSS signatures are not (OpenSSL draws
 * the salt itself).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "latch/latch.h"
#include "pair.h"
#include "util/buffer.h"

/* ---- deterministic random source and clocks --------------------------------- */

typedef struct det_rng {
    uint64_t state;
    size_t requests, bytes;
} det_rng;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int det_random(void *arg, uint8_t *out, size_t n)
{
    det_rng *r = arg;
    uint64_t word = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0)
            word = splitmix64(&r->state);
        out[i] = (uint8_t)(word >> (8 * (i % 8)));
    }
    r->requests++;
    r->bytes += n;
    return 0;
}

static uint64_t fixed_monotonic_us(void *arg) { return 1234567890ull; }
static uint64_t fixed_wall_seconds(void *arg) { return 1893456000ull; } /* 2030-01-01 */

/* ---- capturing the bytes in flight ------------------------------------------- */

typedef struct capture {
    byte_queue from[2]; /* [0] server -> client, [1] client -> server */
    size_t chunks;
} capture;

static size_t record_bytes(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    capture *cap = arg;
    CHECK_EQ_INT(byte_queue_append(&cap->from[from_client ? 1 : 0], bytes, len), 0);
    cap->chunks++;
    return len;
}

static void capture_free(capture *cap)
{
    byte_queue_free(&cap->from[0]);
    byte_queue_free(&cap->from[1]);
}

static int same_bytes(const byte_queue *a, const byte_queue *b)
{
    return byte_queue_length(a) == byte_queue_length(b) &&
           memcmp(byte_queue_front(a), byte_queue_front(b), byte_queue_length(a)) == 0;
}

typedef struct run_options {
    const char *cert, *suite, *group;
    uint16_t max_version;
    uint64_t client_seed, server_seed;
} run_options;

/* Send len bytes one way and read them back; returns 1 if they arrived. */
static int transfer(pair *p, latch_conn *from, latch_conn *to, size_t len, uint8_t seed)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    size_t got = 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7 + seed);
    int ok = latch_conn_write(from, out, len) == (ssize_t)len;
    pair_pump(p);
    while (ok && got < len) {
        ssize_t n = latch_conn_read(to, in + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    ok = ok && got == len && memcmp(in, out, len) == 0;
    free(out);
    free(in);
    return ok;
}

/* One connection: handshake, data both ways, close.  Returns 1 if all of it
 * worked; every byte on the wire is in cap. */
static int run(const run_options *o, capture *cap, det_rng *client_rng, det_rng *server_rng)
{
    pair p;
    int ok = 1;
    memset(cap, 0, sizeof *cap);
    client_rng->state = o->client_seed;
    server_rng->state = o->server_seed;
    client_rng->requests = server_rng->requests = 0;
    client_rng->bytes = server_rng->bytes = 0;
    if (pair_configs(&p, o->cert) != 0)
        return 0;
    ok &= latch_config_set_ciphers(p.client_config, o->suite) == 0;
    ok &= latch_config_set_groups(p.client_config, o->group) == 0;
    ok &= latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, o->max_version) == 0;
    /* the default ticket key is drawn at config creation, before a random
     * source can be set: a replayable server names its own */
    uint8_t ticket_key[80];
    for (size_t i = 0; i < sizeof ticket_key; i++)
        ticket_key[i] = (uint8_t)(i * 3 + 1);
    ok &= latch_config_add_ticket_key(p.server_config, ticket_key, sizeof ticket_key) == 0;
    latch_config_set_random(p.client_config, det_random, client_rng);
    latch_config_set_random(p.server_config, det_random, server_rng);
    latch_config_set_clock(p.client_config, fixed_monotonic_us, fixed_wall_seconds, NULL);
    latch_config_set_clock(p.server_config, fixed_monotonic_us, fixed_wall_seconds, NULL);
    p.tamper = record_bytes;
    p.tamper_arg = cap;
    ok &= pair_connect(&p, "localhost") == 0;
    if (ok && pair_handshake(&p) != 0) {
        fprintf(stderr, "  %s/%s: client '%s' server '%s'\n", o->cert, o->suite,
                latch_conn_error_reason(p.client), latch_conn_error_reason(p.server));
        ok = 0;
    }
    if (ok) {
        ok &= strcmp(latch_conn_cipher_suite_name(p.client), o->suite) == 0;
        ok &= latch_conn_version(p.client) == o->max_version;
        ok &= transfer(&p, p.client, p.server, 100, 1);
        ok &= transfer(&p, p.server, p.client, 20000, 2); /* two records */
        ok &= latch_conn_close(p.client) == 0;
        pair_pump(&p);
        ok &= (latch_conn_status(p.server) & LATCH_STATUS_CLOSED) != 0;
    }
    pair_free(&p);
    return ok;
}

/* The first record one side sent. */
static size_t first_record(const byte_queue *q, const uint8_t **out)
{
    const uint8_t *b = byte_queue_front(q);
    size_t len = byte_queue_length(q);
    if (len < 5)
        return 0;
    size_t n = 5 + ((size_t)b[3] << 8 | b[4]);
    if (n > len)
        return 0;
    *out = b;
    return n;
}

/* ---- the tests ---------------------------------------------------------------- */

static void check_replayable(const run_options *o)
{
    capture a, b, c;
    det_rng crng, srng;
    run_options other = *o;
    fprintf(stderr, "replay: %s %s %s\n", o->cert, o->suite, o->group);

    CHECK(run(o, &a, &crng, &srng));
    size_t client_requests = crng.requests, server_requests = srng.requests;
    CHECK(client_requests >= 2); /* at least the random and a key */
    CHECK(server_requests >= 2);
    CHECK(byte_queue_length(&a.from[0]) > 1000); /* certificate and data */
    CHECK(byte_queue_length(&a.from[1]) > 100);

    /* The client's random is the first 32 bytes of its random stream */
    det_rng fresh = {o->client_seed, 0, 0};
    uint8_t expected_random[32];
    det_random(&fresh, expected_random, 32);
    CHECK(byte_queue_length(&a.from[1]) > 11 + 32);
    CHECK_EQ_INT(byte_queue_front(&a.from[1])[5], 1); /* ClientHello */
    CHECK_MEM(byte_queue_front(&a.from[1]) + 11, expected_random, 32);

    /* same seeds: the same bytes, both ways, and the same random requests */
    CHECK(run(o, &b, &crng, &srng));
    CHECK_EQ_INT(crng.requests, client_requests);
    CHECK_EQ_INT(srng.requests, server_requests);
    CHECK_EQ_INT(byte_queue_length(&b.from[1]), byte_queue_length(&a.from[1]));
    CHECK_EQ_INT(byte_queue_length(&b.from[0]), byte_queue_length(&a.from[0]));
    CHECK(same_bytes(&a.from[1], &b.from[1]));
    CHECK(same_bytes(&a.from[0], &b.from[0]));

    /* another client seed: both directions change (the server signs the
     * client random and derives other keys) */
    other.client_seed ^= 0x5555;
    CHECK(run(&other, &c, &crng, &srng));
    CHECK(!same_bytes(&a.from[1], &c.from[1]));
    CHECK(!same_bytes(&a.from[0], &c.from[0]));
    capture_free(&c);
    /* another server seed: the server's bytes change */
    other = *o;
    other.server_seed += 1;
    CHECK(run(&other, &c, &crng, &srng));
    CHECK(!same_bytes(&a.from[0], &c.from[0]));

    capture_free(&a);
    capture_free(&b);
    capture_free(&c);
}

/* RSA-PSS draws its own salt: only what precedes the signature repeats. */
static void check_rsa_client_hello(void)
{
    run_options o = {"rsa2048", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "x25519",
                     LATCH_VERSION_TLS12, 42, 4242};
    capture a, b;
    det_rng crng, srng;
    const uint8_t *ra = NULL, *rb = NULL;
    fprintf(stderr, "replay: rsa2048 ClientHello\n");
    CHECK(run(&o, &a, &crng, &srng));
    CHECK(run(&o, &b, &crng, &srng));
    size_t na = first_record(&a.from[1], &ra), nb = first_record(&b.from[1], &rb);
    CHECK(na > 5 + 4 + 2 + 32);
    CHECK_EQ_INT(na, nb);
    if (na == nb && na > 0) {
        CHECK_EQ_INT(ra[0], 22);
        CHECK_EQ_INT(ra[5], 1);
        CHECK_MEM(ra, rb, na);
    }
    /* the server's ServerHello (first message of its first record) as well */
    na = first_record(&a.from[0], &ra);
    nb = first_record(&b.from[0], &rb);
    CHECK(na > 9 && nb > 9);
    if (na > 9 && nb > 9) {
        size_t hello = 4 + ((size_t)ra[6] << 16 | (size_t)ra[7] << 8 | ra[8]);
        CHECK_EQ_INT(ra[5], 2);
        CHECK(5 + hello <= na && 5 + hello <= nb);
        if (5 + hello <= na && 5 + hello <= nb)
            CHECK_MEM(ra + 5, rb + 5, hello);
    }
    capture_free(&a);
    capture_free(&b);
}

int main(void)
{
    run_options ed12 = {"ed25519", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "x25519",
                        LATCH_VERSION_TLS12, 1, 2};
    check_replayable(&ed12);
    run_options ed12_p256 = {"ed25519", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                             "secp256r1", LATCH_VERSION_TLS12, 7, 8};
    check_replayable(&ed12_p256);
    run_options ed13 = {"ed25519", "TLS_AES_128_GCM_SHA256", "x25519", LATCH_VERSION_TLS13, 3,
                        4};
    check_replayable(&ed13);
    check_rsa_client_hello();
    return check_finish();
}
