/*
 * Shared pieces of the fuzz harnesses (fuzz/fuzz_*.c), the corpus generator
 * (fuzz/make_corpus.c) and the replay driver (fuzz/replay_main.c).
 *
 * Everything is deterministic: a counter-based random source reset at the
 * start of every input, fixed clocks, a fixed ticket key, no session cache.
 * A recorded handshake therefore replays byte for byte against the same
 * configuration, which lets the corpus reach the Finished messages and the
 * application data instead of stopping at the first signature.
 *
 * Servers use an Ed25519 certificate (deterministic signatures) and an RSA
 * certificate for RSA key exchange (the server signs nothing there), and
 * enable every suite latch has: TLS 1.3, ECDHE with AEAD, ECDHE with AES-CBC,
 * RSA key exchange (the CBC ones only where the library knows them).
 */
#ifndef LATCH_FUZZ_COMMON_H
#define LATCH_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "latch/latch.h"

#ifndef LATCH_TEST_DATA
#error "LATCH_TEST_DATA must name tests/data"
#endif
#define FUZZ_PKI LATCH_TEST_DATA "/pki/"

/* 2030-01-01: inside the validity of the test PKI. */
#define FUZZ_WALL_SECONDS 1893456000ull

/* Random sources: one for servers, one for clients. */
typedef struct fuzz_rng {
    uint64_t state;
} fuzz_rng;

extern fuzz_rng fuzz_server_rng, fuzz_client_rng;
#define FUZZ_SERVER_SEED 0x5e5e5e5e00000001ull
#define FUZZ_CLIENT_SEED 0xc11e0c11e0000002ull

void fuzz_rng_reset(void);
int fuzz_random(void *arg, uint8_t *out, size_t n);

/* The one server configuration every server harness uses (built once,
 * reachable from a static pointer, so LeakSanitizer does not count it). */
latch_config *fuzz_server_config(void);

/* Client variants. */
enum {
    FUZZ_CLIENT_DEFAULT = 0,   /* TLS 1.3 preferred, 1.2 allowed, ALPN */
    FUZZ_CLIENT_TLS12_ECDHE,   /* TLS 1.2 only, ECDHE */
    FUZZ_CLIENT_TLS12_RSA,     /* TLS 1.2 only, RSA key exchange */
    FUZZ_CLIENT_TLS13_RETRY,   /* TLS 1.3 only, first share for secp384r1: HelloRetryRequest */
    FUZZ_CLIENT_TLS13_CHACHA,  /* TLS 1.3 only, ChaCha20-Poly1305, secp256r1 */
    FUZZ_CLIENT_TLS12_CBC,     /* TLS 1.2 only, ECDHE with AES-CBC (encrypt-then-MAC) where
                                  the library has CBC suites, else AES-256-GCM */
    FUZZ_CLIENT_VARIANTS
};
latch_config *fuzz_client_config(unsigned variant);
const char *fuzz_client_variant_name(unsigned variant);
#define FUZZ_SERVER_NAME "localhost"

/* Feed len bytes to conn in chunks derived from split (0: all at once),
 * draining its output (and reading and answering application data) after
 * each chunk.  Stops when the connection fails or closes. */
void fuzz_feed(latch_conn *conn, const uint8_t *data, size_t len, uint8_t split);
/* Throw away what conn wants to send. */
void fuzz_drain(latch_conn *conn);

/* The libFuzzer entry point of each harness (renamed per harness in the
 * replay driver build). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Free the shared configurations (the replay driver calls it at exit). */
void fuzz_cleanup(void);

#endif
