/*
 * Unit tests for src/crypto: known-answer tests from the vector files in
 * tests/data/vectors plus round trips and negative cases.
 */
#include "check.h"
#include "crypto/crypto.h"
#include "json.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>

static latch_crypto crypto;

/* ---- helpers -------------------------------------------------------- */

static json_value *load(const char *name)
{
    char path[512];
    json_value *j;
    snprintf(path, sizeof(path), "%s/vectors/%s", LATCH_TEST_DATA, name);
    j = json_load_file(path);
    CHECK(j != NULL);
    return j;
}

/* Hex field as bytes; a missing field is a failed check and an empty buffer. */
static uint8_t *hx(const json_value *j, const char *path, size_t *len)
{
    uint8_t *b = json_hex(j, path, len);
    if (b == NULL) {
        fprintf(stderr, "missing hex field %s\n", path);
        CHECK(b != NULL);
        b = calloc(1, 1);
        *len = 0;
    }
    return b;
}

static uint8_t *unhex(const char *s, size_t *len)
{
    return json_hex_decode(s, strlen(s), len);
}

/* Key of a DER certificate stored in a vector file. */
static EVP_PKEY *cert_key(const json_value *j)
{
    size_t len;
    uint8_t *der = hx(j, "server_cert_der", &len);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY *key = x != NULL ? X509_get_pubkey(x) : NULL;
    CHECK(key != NULL);
    X509_free(x);
    free(der);
    return key;
}

/* HKDF-Expand-Label (RFC 8446 7.1), built here independently of the library. */
static int expand_label(enum latch_hash_id h, const uint8_t *secret, size_t secret_len,
                        const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                        size_t out_len)
{
    uint8_t info[300];
    size_t n = 0, ll = strlen(label);
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, ll);
    n += 6 + ll;
    info[n++] = (uint8_t)ctx_len;
    if (ctx_len > 0)
        memcpy(info + n, ctx, ctx_len);
    n += ctx_len;
    return latch_hkdf_expand(&crypto, h, secret, secret_len, info, n, out, out_len);
}

/* Deterministic byte stream (xorshift64*) for replayable key generation. */
static int test_rng(void *arg, uint8_t *out, size_t n)
{
    uint64_t *s = arg;
    for (size_t i = 0; i < n; i++) {
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        out[i] = (uint8_t)((*s * 0x2545F4914F6CDD1DULL) >> 56);
    }
    return 0;
}

/* ---- hashes and HMAC ---------------------------------------------------- */

static void test_hash(void)
{
    static const char *const abc[LATCH_HASH_COUNT] = {
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        "a9993e364706816aba3e25717850c26c9cd0d89d",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"};
    uint8_t out[LATCH_MAX_HASH_LEN], out2[LATCH_MAX_HASH_LEN];
    size_t len = 0, len2 = 0, want_len;

    for (int h = 0; h < LATCH_HASH_COUNT; h++) {
        uint8_t *want = unhex(abc[h], &want_len);
        latch_hash_ctx hc;
        CHECK_EQ_INT(latch_hash_oneshot(&crypto, h, (const uint8_t *)"abc", 3, out, &len), 0);
        CHECK_EQ_INT(len, latch_hash_len(h));
        CHECK(len == want_len && memcmp(out, want, len) == 0);
        /* Running hash: peek mid-way does not disturb it. */
        CHECK_EQ_INT(latch_hash_init(&crypto, &hc, h), 0);
        CHECK_EQ_INT(latch_hash_update(&hc, (const uint8_t *)"ab", 2), 0);
        CHECK_EQ_INT(latch_hash_peek(&hc, out2, &len2), 0);
        CHECK_EQ_INT(latch_hash_update(&hc, (const uint8_t *)"c", 1), 0);
        CHECK_EQ_INT(latch_hash_peek(&hc, out2, &len2), 0);
        CHECK(len2 == want_len && memcmp(out2, want, len2) == 0);
        latch_hash_free(&hc);
        free(want);
    }
    CHECK_EQ_INT(latch_hash_oneshot(&crypto, LATCH_HASH_COUNT, out, 0, out, &len), -1);
}

static void test_hmac(void)
{
    static const char *data = "what do ya want for nothing?";
    uint8_t out[LATCH_MAX_HASH_LEN];
    size_t len = 0, wlen;
    /* RFC 4231 test case 2 */
    uint8_t *want = unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", &wlen);

    CHECK_EQ_INT(latch_hmac(&crypto, LATCH_HASH_SHA256, (const uint8_t *)"Jefe", 4,
                            (const uint8_t *)data, strlen(data), out, &len), 0);
    CHECK_EQ_INT(len, 32);
    CHECK_MEM(out, want, 32);
    free(want);
    want = unhex("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                 "8e2240ca5e69e2c78b3239ecfab21649", &wlen);
    CHECK_EQ_INT(latch_hmac(&crypto, LATCH_HASH_SHA384, (const uint8_t *)"Jefe", 4,
                            (const uint8_t *)data, strlen(data), out, &len), 0);
    CHECK_EQ_INT(len, 48);
    CHECK_MEM(out, want, 48);
    free(want);
    /* Empty key and data are allowed. */
    CHECK_EQ_INT(latch_hmac(&crypto, LATCH_HASH_SHA256, NULL, 0, NULL, 0, out, &len), 0);
}

/* ---- TLS 1.2 PRF ---------------------------------------------------------- */

static void test_prf_vectors(void)
{
    json_value *j = load("prf-tls12.json");
    size_t n = json_count(j, "vectors"), tested = 0;

    CHECK_EQ_INT(n, 4);
    for (size_t i = 0; i < n; i++) {
        char p[64];
        const json_value *v = json_at(json_get(j, "vectors"), i);
        const char *hash = json_string(v, "hash"), *label = json_string(v, "label_ascii");
        enum latch_hash_id id;
        size_t slen, sdlen, olen;
        uint8_t *secret, *seed, *want, *out;

        snprintf(p, sizeof(p), "vectors[%zu]", i);
        CHECK(hash != NULL && label != NULL);
        if (hash == NULL || label == NULL)
            continue;
        if (strcmp(hash, "sha224") == 0) { /* not a TLS PRF hash: not supported */
            printf("prf: skipping %s (SHA-224 not supported)\n", json_string(v, "name"));
            continue;
        }
        id = strcmp(hash, "sha256") == 0 ? LATCH_HASH_SHA256
           : strcmp(hash, "sha384") == 0 ? LATCH_HASH_SHA384 : LATCH_HASH_SHA512;
        CHECK(strcmp(hash, "sha256") == 0 || strcmp(hash, "sha384") == 0 ||
              strcmp(hash, "sha512") == 0);
        secret = hx(v, "secret", &slen);
        seed = hx(v, "seed", &sdlen);
        want = hx(v, "output", &olen);
        out = malloc(olen + 1);
        /* Split the seed across seed1/seed2 to exercise concatenation. */
        CHECK_EQ_INT(latch_tls12_prf(&crypto, id, secret, slen, label, seed, sdlen / 2,
                                     seed + sdlen / 2, sdlen - sdlen / 2, NULL, 0, out, olen), 0);
        CHECK_MEM(out, want, olen);
        tested++;
        free(secret), free(seed), free(want), free(out);
    }
    CHECK_EQ_INT(tested, 3);
    json_free(j);
}

/* ---- TLS 1.2 handshake (illustrated-tls12) -------------------------------- */

static void check_x25519_pair(const json_value *j, const char *priv_f, const char *pub_f,
                              const char *peer_f, const uint8_t *pms, size_t pms_len)
{
    size_t plen, publen, peerlen, outlen = 0, slen = 0;
    uint8_t *priv = hx(j, priv_f, &plen), *pub = hx(j, pub_f, &publen);
    uint8_t *peer = hx(j, peer_f, &peerlen), out[LATCH_MAX_KX_PUBLIC], secret[64];
    EVP_PKEY *key = NULL;

    CHECK_EQ_INT(latch_kx_from_private(LATCH_GROUP_X25519, priv, plen, &key, out, &outlen), 0);
    CHECK(outlen == publen && memcmp(out, pub, publen) == 0);
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_X25519, key, peer, peerlen, secret, &slen), 0);
    CHECK(slen == pms_len && memcmp(secret, pms, slen) == 0);
    EVP_PKEY_free(key);
    free(priv), free(pub), free(peer);
}

static void check_verify_data(const json_value *j, const uint8_t *ms, const char *label,
                              const char *th_f, const char *want_f)
{
    size_t thlen, wlen;
    uint8_t *th = hx(j, th_f, &thlen), *want = hx(j, want_f, &wlen), out[12];
    CHECK_EQ_INT(latch_tls12_prf(&crypto, LATCH_HASH_SHA256, ms, 48, label, th, thlen, NULL, 0,
                                 NULL, 0, out, 12), 0);
    CHECK(wlen == 12 && memcmp(out, want, 12) == 0);
    free(th), free(want);
}

static void test_tls12_key_schedule(void)
{
    json_value *j = load("illustrated-tls12.json");
    size_t pl, cl, sl, ml, kl;
    uint8_t *pms = hx(j, "secrets.pre_master_secret", &pl);
    uint8_t *cr = hx(j, "client_random", &cl), *sr = hx(j, "server_random", &sl);
    uint8_t *ms_want = hx(j, "secrets.master_secret", &ml), *kb_want = hx(j, "secrets.key_block", &kl);
    uint8_t ms[48], kb[256];

    check_x25519_pair(j, "client_ephemeral_private", "client_ephemeral_public",
                      "server_ephemeral_public", pms, pl);
    check_x25519_pair(j, "server_ephemeral_private", "server_ephemeral_public",
                      "client_ephemeral_public", pms, pl);
    CHECK_EQ_INT(latch_tls12_prf(&crypto, LATCH_HASH_SHA256, pms, pl, "master secret", cr, cl,
                                 sr, sl, NULL, 0, ms, 48), 0);
    CHECK(ml == 48 && memcmp(ms, ms_want, 48) == 0);
    CHECK_EQ_INT(kl, 104);
    CHECK_EQ_INT(latch_tls12_prf(&crypto, LATCH_HASH_SHA256, ms, 48, "key expansion", sr, sl, cr,
                                 cl, NULL, 0, kb, kl), 0);
    CHECK_MEM(kb, kb_want, kl);
    check_verify_data(j, ms, "client finished", "transcript_hash_client_finished",
                      "client_verify_data");
    check_verify_data(j, ms, "server finished", "transcript_hash_server_finished",
                      "server_verify_data");
    free(pms), free(cr), free(sr), free(ms_want), free(kb_want);
    json_free(j);
}

/* Body of the first handshake message of the given type (malloc'd). */
static uint8_t *find_message(const json_value *j, int type, size_t *len)
{
    for (size_t r = 0; r < json_count(j, "records"); r++) {
        const json_value *msgs = json_member(json_at(json_get(j, "records"), r), "messages");
        for (size_t m = 0; msgs != NULL && m < msgs->count; m++) {
            double t;
            if (json_number(msgs->items[m], "type", &t) == 0 && (int)t == type)
                return hx(msgs->items[m], "bytes", len);
        }
    }
    *len = 0;
    return NULL;
}

static void test_tls12_server_key_exchange(void)
{
    json_value *j = load("illustrated-tls12.json");
    size_t len = 0, cl, sl, plen, siglen, mysiglen = 0;
    uint8_t *msg = find_message(j, 12, &len), *cr = hx(j, "client_random", &cl);
    uint8_t *sr = hx(j, "server_random", &sl), tbs[256], mysig[LATCH_MAX_SIGNATURE];
    const uint8_t *body, *sig;
    const char *pem = json_string(j, "server_cert_private_key_pem");
    EVP_PKEY *key = cert_key(j), *priv = NULL;
    BIO *bio;

    CHECK(msg != NULL && len > 8);
    if (msg == NULL || len <= 8)
        goto done;
    body = msg + 4;
    plen = 4 + body[3]; /* curve_type(1) named_curve(2) len(1) point */
    CHECK_EQ_INT(body[0], 3);
    CHECK_EQ_INT(body[1] << 8 | body[2], LATCH_GROUP_X25519);
    CHECK_EQ_INT(body[plen] << 8 | body[plen + 1], LATCH_SIG_RSA_PKCS1_SHA256);
    siglen = (size_t)(body[plen + 2] << 8 | body[plen + 3]);
    sig = body + plen + 4;
    CHECK_EQ_INT(4 + plen + 4 + siglen, len);
    memcpy(tbs, cr, 32);
    memcpy(tbs + 32, sr, 32);
    memcpy(tbs + 64, body, plen);
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PKCS1_SHA256, key, tbs, 64 + plen, sig,
                              siglen), 0);
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PKCS1_SHA384, key, tbs, 64 + plen, sig,
                              siglen), -1);
    msg[4 + plen + 4 + 17] ^= 0x01; /* one signature byte */
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PKCS1_SHA256, key, tbs, 64 + plen, sig,
                              siglen), -1);
    msg[4 + plen + 4 + 17] ^= 0x01;
    tbs[40] ^= 0x80; /* one signed byte */
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PKCS1_SHA256, key, tbs, 64 + plen, sig,
                              siglen), -1);
    tbs[40] ^= 0x80;
    /* PKCS#1 v1.5 is deterministic: signing with the server key reproduces it. */
    bio = BIO_new_mem_buf(pem, -1);
    priv = pem != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    CHECK(priv != NULL);
    CHECK_EQ_INT(latch_sign(&crypto, LATCH_SIG_RSA_PKCS1_SHA256, priv, tbs, 64 + plen, mysig,
                            &mysiglen), 0);
    CHECK(mysiglen == siglen && memcmp(mysig, sig, siglen) == 0);
done:
    EVP_PKEY_free(key);
    EVP_PKEY_free(priv);
    free(msg), free(cr), free(sr);
    json_free(j);
}

/* ---- TLS 1.3 key schedule pieces (RFC 8448, illustrated-tls13) --------------- */

/* Transcript hash of all messages in records [0, nrec) plus the first
 * `extra` messages of record nrec. */
static void transcript(const json_value *j, enum latch_hash_id h, size_t nrec, size_t extra,
                       uint8_t *out, size_t *out_len)
{
    latch_hash_ctx hc;
    CHECK_EQ_INT(latch_hash_init(&crypto, &hc, h), 0);
    for (size_t r = 0; r <= nrec; r++) {
        const json_value *msgs = json_member(json_at(json_get(j, "records"), r), "messages");
        size_t limit = r < nrec ? (size_t)-1 : extra;
        for (size_t m = 0; msgs != NULL && m < msgs->count && m < limit; m++) {
            size_t len;
            uint8_t *b = hx(msgs->items[m], "bytes", &len);
            CHECK_EQ_INT(latch_hash_update(&hc, b, len), 0);
            free(b);
        }
    }
    CHECK_EQ_INT(latch_hash_peek(&hc, out, out_len), 0);
    latch_hash_free(&hc);
}

static void check_certificate_verify(const json_value *j, const uint8_t *th, size_t th_len)
{
    static const char ctx[] = "TLS 1.3, server CertificateVerify";
    uint8_t content[64 + sizeof(ctx) + LATCH_MAX_HASH_LEN];
    size_t siglen;
    uint8_t *sig = hx(j, "certificate_verify.signature", &siglen);
    EVP_PKEY *key = cert_key(j);

    memset(content, 0x20, 64);
    memcpy(content + 64, ctx, sizeof(ctx)); /* includes the 0 separator */
    memcpy(content + 64 + sizeof(ctx), th, th_len);
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PSS_RSAE_SHA256, key, content,
                              64 + sizeof(ctx) + th_len, sig, siglen), 0);
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PKCS1_SHA256, key, content,
                              64 + sizeof(ctx) + th_len, sig, siglen), -1);
    content[70] ^= 1;
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_RSA_PSS_RSAE_SHA256, key, content,
                              64 + sizeof(ctx) + th_len, sig, siglen), -1);
    EVP_PKEY_free(key);
    free(sig);
}

static void test_rfc8448_schedule(void)
{
    json_value *j = load("rfc8448-1rtt.json");
    static const uint8_t zeros[32];
    uint8_t early[64], derived[32], hs[64], empty_hash[32], th[64], key[16], fk[32], vd[64];
    size_t len = 0, wl;
    uint8_t *w;

    CHECK_EQ_INT(latch_hkdf_extract(&crypto, LATCH_HASH_SHA256, NULL, 0, zeros, 32, early, &len), 0);
    w = hx(j, "secrets.early_secret", &wl);
    CHECK(len == 32 && wl == 32 && memcmp(early, w, 32) == 0);
    free(w);
    /* handshake_secret = Extract(Derive-Secret(early, "derived", ""), shared_secret) */
    CHECK_EQ_INT(latch_hash_oneshot(&crypto, LATCH_HASH_SHA256, NULL, 0, empty_hash, &len), 0);
    CHECK_EQ_INT(expand_label(LATCH_HASH_SHA256, early, 32, "derived", empty_hash, 32, derived, 32), 0);
    w = hx(j, "secrets.shared_secret", &wl);
    CHECK_EQ_INT(latch_hkdf_extract(&crypto, LATCH_HASH_SHA256, derived, 32, w, wl, hs, &len), 0);
    free(w);
    w = hx(j, "secrets.handshake_secret", &wl);
    CHECK(len == 32 && wl == 32 && memcmp(hs, w, 32) == 0);
    free(w);
    /* Traffic key from the server handshake traffic secret. */
    w = hx(j, "secrets.server_handshake_traffic_secret", &wl);
    CHECK_EQ_INT(expand_label(LATCH_HASH_SHA256, w, wl, "key", NULL, 0, key, 16), 0);
    free(w);
    w = hx(j, "traffic_keys.server_handshake.key", &wl);
    CHECK(wl == 16 && memcmp(key, w, 16) == 0);
    free(w);
    /* Transcript hash via the running hash, then the client Finished HMAC. */
    transcript(j, LATCH_HASH_SHA256, 2, 0, th, &len);
    w = hx(j, "transcript_hashes[\"client_hello..server_hello\"]", &wl);
    CHECK(len == 32 && wl == 32 && memcmp(th, w, 32) == 0);
    free(w);
    w = hx(j, "secrets.client_handshake_traffic_secret", &wl);
    CHECK_EQ_INT(expand_label(LATCH_HASH_SHA256, w, wl, "finished", NULL, 0, fk, 32), 0);
    free(w);
    w = hx(j, "transcript_hashes[\"client_hello..server_finished\"]", &wl);
    CHECK_EQ_INT(latch_hmac(&crypto, LATCH_HASH_SHA256, fk, 32, w, wl, vd, &len), 0);
    free(w);
    w = hx(j, "client_finished_verify_data", &wl);
    CHECK(len == 32 && wl == 32 && memcmp(vd, w, 32) == 0);
    free(w);
    /* CertificateVerify over CH..Certificate (record 2: EE, Certificate, CV, Fin). */
    transcript(j, LATCH_HASH_SHA256, 2, 2, th, &len);
    check_certificate_verify(j, th, len);
    json_free(j);
}

static void test_illustrated13_schedule(void)
{
    json_value *j = load("illustrated-tls13.json");
    static const uint8_t zeros[48];
    uint8_t early[64];
    size_t len = 0, wl;
    uint8_t *w = hx(j, "secrets.early_secret", &wl);

    CHECK_EQ_INT(latch_hkdf_extract(&crypto, LATCH_HASH_SHA384, NULL, 0, zeros, 48, early, &len), 0);
    CHECK(len == 48 && wl == 48 && memcmp(early, w, 48) == 0);
    free(w);
    w = hx(j, "transcript_hashes[\"client_hello..certificate\"]", &wl);
    check_certificate_verify(j, w, wl);
    free(w);
    json_free(j);
}

/* ---- AEAD ------------------------------------------------------------------ */

/* Seal every protected record of a TLS 1.3 file and compare to the wire bytes. */
static void test_aead_records(const char *file, enum latch_aead_id aead)
{
    json_value *j = load(file);
    size_t nrec = json_count(j, "records"), done = 0;

    for (size_t r = 0; r < nrec; r++) {
        const json_value *rec = json_at(json_get(j, "records"), r);
        const char *keys = json_string(rec, "keys");
        char kp[96];
        size_t kl, nl, rl, pl;
        uint8_t *k, *nonce, *record, *pt, *out, *back;
        latch_aead_ctx enc, dec;

        if (keys == NULL)
            continue;
        snprintf(kp, sizeof(kp), "traffic_keys.%s.key", keys);
        k = hx(j, kp, &kl);
        nonce = hx(rec, "nonce", &nl);
        record = hx(rec, "record", &rl);
        pt = hx(rec, "inner_plaintext", &pl);
        out = malloc(pl + 16);
        back = malloc(pl + 1);
        CHECK(nl == 12 && rl == 5 + pl + 16);
        CHECK_EQ_INT(latch_aead_init(&crypto, &enc, aead, k, kl, 1), 0);
        CHECK_EQ_INT(latch_aead_init(&crypto, &dec, aead, k, kl, 0), 0);
        CHECK_EQ_INT(latch_aead_seal(&enc, nonce, record, 5, pt, pl, out), 0);
        CHECK_MEM(out, record + 5, pl + 16);
        CHECK_EQ_INT(latch_aead_open(&dec, nonce, record, 5, record + 5, rl - 5, back), 0);
        CHECK_MEM(back, pt, pl);
        latch_aead_free(&enc);
        latch_aead_free(&dec);
        free(k), free(nonce), free(record), free(pt), free(out), free(back);
        done++;
    }
    CHECK(done >= 6);
    json_free(j);
}

static void test_chacha_kat(void)
{
    /* RFC 8439 section 2.8.2 */
    static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                             "only one tip for the future, sunscreen would be it.";
    size_t n, wl, pl = strlen(pt);
    uint8_t key[32], out[256], back[256];
    uint8_t *nonce = unhex("070000004041424344454647", &n);
    uint8_t *aad = unhex("50515253c0c1c2c3c4c5c6c7", &n);
    uint8_t *want = unhex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da"
        "92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585"
        "808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116" "1ae10b594f09e26a7e902ecbd0600691", &wl);
    latch_aead_ctx a;

    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(0x80 + i);
    CHECK_EQ_INT(latch_aead_init(&crypto, &a, LATCH_AEAD_CHACHA20_POLY1305, key, 32, 1), 0);
    CHECK_EQ_INT(latch_aead_seal(&a, nonce, aad, 12, (const uint8_t *)pt, pl, out), 0);
    CHECK(wl == pl + 16 && memcmp(out, want, wl) == 0);
    CHECK_EQ_INT(latch_aead_open(&a, nonce, aad, 12, want, wl, back), 0);
    CHECK_MEM(back, pt, pl);
    latch_aead_free(&a);
    free(nonce), free(aad), free(want);
}

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void test_aead_roundtrip(enum latch_aead_id id)
{
    uint8_t key[32], nonce[12], aad[13], pt[100], ct[116], back[100];
    size_t kl = latch_aead_key_len(id);
    latch_aead_ctx enc, dec;

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + id);
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)i;
    memset(nonce, 0xa5, sizeof(nonce));
    memset(aad, 0x17, sizeof(aad));
    CHECK_EQ_INT(latch_aead_init(&crypto, &enc, id, key, kl - 1, 1), -1);
    CHECK_EQ_INT(latch_aead_init(&crypto, &enc, id, key, kl, 1), 0);
    CHECK_EQ_INT(latch_aead_init(&crypto, &dec, id, key, kl, 0), 0);
    CHECK_EQ_INT(latch_aead_seal(&enc, nonce, aad, sizeof(aad), pt, sizeof(pt), ct), 0);
    CHECK(memcmp(ct, pt, sizeof(pt)) != 0);
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back), 0);
    CHECK_MEM(back, pt, sizeof(pt));

    ct[3] ^= 1; /* ciphertext byte */
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back), -1);
    CHECK(is_zero(back, sizeof(back))); /* no unauthenticated plaintext left */
    ct[3] ^= 1;
    ct[sizeof(ct) - 1] ^= 0x40; /* tag byte */
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back), -1);
    ct[sizeof(ct) - 1] ^= 0x40;
    aad[12] ^= 1; /* AAD byte */
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back), -1);
    aad[12] ^= 1;
    nonce[11] ^= 1; /* wrong nonce */
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, sizeof(ct), back), -1);
    nonce[11] ^= 1;
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, 15, back), -1);
    /* Still usable after failures; in-place open works. */
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, aad, sizeof(aad), ct, sizeof(ct), ct), 0);
    CHECK_MEM(ct, pt, sizeof(pt));
    /* Empty plaintext, no AAD. */
    CHECK_EQ_INT(latch_aead_seal(&enc, nonce, NULL, 0, NULL, 0, ct), 0);
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, NULL, 0, ct, 16, back), 0);
    ct[0] ^= 1;
    CHECK_EQ_INT(latch_aead_open(&dec, nonce, NULL, 0, ct, 16, back), -1);
    latch_aead_free(&enc);
    latch_aead_free(&dec);
}

/* ---- key exchange ------------------------------------------------------------ */

static void test_ec_invalid_peers(uint16_t group, EVP_PKEY *key, const uint8_t *pub, size_t len)
{
    uint8_t bad[LATCH_MAX_KX_PUBLIC], secret[64];
    size_t slen;

    memcpy(bad, pub, len);
    bad[len - 1] ^= 0x01; /* off the curve */
    CHECK_EQ_INT(latch_kx_derive(group, key, bad, len, secret, &slen), -1);
    CHECK_EQ_INT(latch_kx_derive(group, key, pub, len - 1, secret, &slen), -1);
    bad[len - 1] ^= 0x01;
    bad[0] = 0x02 | (pub[len - 1] & 1); /* compressed form of a valid point */
    CHECK_EQ_INT(latch_kx_derive(group, key, bad, 1 + (len - 1) / 2, secret, &slen), -1);
    CHECK_EQ_INT(latch_kx_derive(group, key, bad, len, secret, &slen), -1);
    memset(bad + 1, 0, len - 1); /* (0,0) */
    bad[0] = 0x04;
    CHECK_EQ_INT(latch_kx_derive(group, key, bad, len, secret, &slen), -1);
    bad[0] = 0x00; /* point at infinity encoding */
    CHECK_EQ_INT(latch_kx_derive(group, key, bad, 1, secret, &slen), -1);
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_X25519, key, pub, 32, secret, &slen), -1);
}

static void test_ec_group(uint16_t group, size_t field)
{
    uint64_t state = 0x1234567 + group;
    uint8_t pa[LATCH_MAX_KX_PUBLIC], pb[LATCH_MAX_KX_PUBLIC], sa[64], sb[64];
    size_t la = 0, lb = 0, lsa = 0, lsb = 0;
    EVP_PKEY *ka = NULL, *kb = NULL;

    CHECK(latch_group_supported(group));
    CHECK_EQ_INT(latch_kx_generate(&crypto, group, test_rng, &state, &ka, pa, &la), 0);
    CHECK_EQ_INT(latch_kx_generate(&crypto, group, test_rng, &state, &kb, pb, &lb), 0);
    CHECK(la == 1 + 2 * field && lb == la && pa[0] == 0x04 && pb[0] == 0x04);
    CHECK(memcmp(pa, pb, la) != 0);
    CHECK_EQ_INT(latch_kx_derive(group, ka, pb, lb, sa, &lsa), 0);
    CHECK_EQ_INT(latch_kx_derive(group, kb, pa, la, sb, &lsb), 0);
    CHECK(lsa == field && lsb == field && memcmp(sa, sb, field) == 0);
    test_ec_invalid_peers(group, ka, pb, lb);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
}

/* Scripted rng: first a zero scalar, then all-ones (>= order), then 0x42s. */
static int script_rng(void *arg, uint8_t *out, size_t n)
{
    int *call = arg;
    memset(out, *call == 0 ? 0x00 : *call == 1 ? 0xff : 0x42, n);
    (*call)++;
    return 0;
}

static void test_ec_retry_and_cross_check(uint16_t group, const char *curve, size_t field)
{
    uint8_t pub[LATCH_MAX_KX_PUBLIC], pub2[LATCH_MAX_KX_PUBLIC], scalar[48], ossl_pub[160];
    size_t len = 0, len2 = 0, olen = 0;
    int call = 0;
    EVP_PKEY *k = NULL, *k2 = NULL, *ref = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    BIGNUM *d = NULL;

    CHECK_EQ_INT(latch_kx_generate(&crypto, group, script_rng, &call, &k, pub, &len), 0);
    CHECK_EQ_INT(call, 3);
    memset(scalar, 0x42, field);
    CHECK_EQ_INT(latch_kx_from_private(group, scalar, field, &k2, pub2, &len2), 0);
    CHECK(len == len2 && memcmp(pub, pub2, len) == 0);
    EVP_PKEY_free(k2);
    memset(scalar, 0, field);
    CHECK_EQ_INT(latch_kx_from_private(group, scalar, field, &k2, pub2, &len2), -1);
    /* Our point multiplication agrees with OpenSSL's own key generation. */
    CHECK(ref != NULL && EVP_PKEY_get_bn_param(ref, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1);
    CHECK(EVP_PKEY_get_octet_string_param(ref, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, ossl_pub,
                                          sizeof(ossl_pub), &olen) == 1);
    CHECK(d != NULL && BN_bn2binpad(d, scalar, (int)field) == (int)field);
    CHECK_EQ_INT(latch_kx_from_private(group, scalar, field, &k2, pub2, &len2), 0);
    CHECK(len2 == olen && memcmp(pub2, ossl_pub, olen) == 0);
    BN_clear_free(d);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(ref);
}

static void test_x25519_generate(void)
{
    uint64_t state = 99, copy;
    uint8_t pub[64], pub2[64], priv[32], peer[32] = {0}, secret[64];
    size_t len = 0, len2 = 0, slen;
    EVP_PKEY *k = NULL, *k2 = NULL;

    copy = state;
    test_rng(&copy, priv, 32);
    CHECK_EQ_INT(latch_kx_generate(&crypto, LATCH_GROUP_X25519, test_rng, &state, &k, pub, &len), 0);
    CHECK_EQ_INT(latch_kx_from_private(LATCH_GROUP_X25519, priv, 32, &k2, pub2, &len2), 0);
    CHECK(len == 32 && len2 == 32 && memcmp(pub, pub2, 32) == 0);
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_X25519, k, peer, 32, secret, &slen), -1);
    peer[0] = 1; /* u = 1: small order, shared secret is all zero */
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_X25519, k, peer, 32, secret, &slen), -1);
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_X25519, k, pub2, 31, secret, &slen), -1);
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_X25519, k, pub2, 32, secret, &slen), 0);
    CHECK_EQ_INT(latch_kx_derive(LATCH_GROUP_SECP256R1, k, pub2, 32, secret, &slen), -1);
    CHECK(!latch_group_supported(0x001e));
    EVP_PKEY_free(k2);
    CHECK_EQ_INT(latch_kx_generate(&crypto, 0x001e, test_rng, &state, &k2, pub, &len), -1);
    CHECK(k2 == NULL);
    EVP_PKEY_free(k);
}

/* ---- signatures ---------------------------------------------------------------- */

static void sign_round_trip(uint16_t scheme, EVP_PKEY *key)
{
    uint8_t tbs[200], sig[LATCH_MAX_SIGNATURE];
    size_t len = 0;

    for (size_t i = 0; i < sizeof(tbs); i++)
        tbs[i] = (uint8_t)(i ^ scheme);
    CHECK(latch_sig_scheme_fits_key(scheme, key));
    CHECK_EQ_INT(latch_sign(&crypto, scheme, key, tbs, sizeof(tbs), sig, &len), 0);
    CHECK(len > 0 && len <= LATCH_MAX_SIGNATURE);
    CHECK_EQ_INT(latch_verify(&crypto, scheme, key, tbs, sizeof(tbs), sig, len), 0);
    tbs[5] ^= 1;
    CHECK_EQ_INT(latch_verify(&crypto, scheme, key, tbs, sizeof(tbs), sig, len), -1);
    tbs[5] ^= 1;
    sig[len / 2] ^= 0x10;
    CHECK_EQ_INT(latch_verify(&crypto, scheme, key, tbs, sizeof(tbs), sig, len), -1);
    sig[len / 2] ^= 0x10;
    CHECK_EQ_INT(latch_verify(&crypto, scheme, key, tbs, sizeof(tbs), sig, len - 1), -1);
    if ((scheme & 0xff) == 0x03)
        CHECK_EQ_INT(sig[0], 0x30); /* DER SEQUENCE */
    if (scheme == LATCH_SIG_ED25519)
        CHECK_EQ_INT(len, 64);
    if ((scheme & 0xff) == 0x01 || (scheme >> 8) == 0x08)
        CHECK_EQ_INT(len, scheme == LATCH_SIG_ED25519 ? 64 : 256);
}

static void test_signatures(void)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    static const uint16_t rsa_schemes[] = {
        LATCH_SIG_RSA_PKCS1_SHA256, LATCH_SIG_RSA_PKCS1_SHA384, LATCH_SIG_RSA_PKCS1_SHA512,
        LATCH_SIG_RSA_PSS_RSAE_SHA256, LATCH_SIG_RSA_PSS_RSAE_SHA384,
        LATCH_SIG_RSA_PSS_RSAE_SHA512};
    uint8_t sig[LATCH_MAX_SIGNATURE];
    size_t len;

    CHECK(rsa != NULL && p256 != NULL && p384 != NULL && ed != NULL);
    for (size_t i = 0; i < sizeof(rsa_schemes) / sizeof(rsa_schemes[0]); i++)
        sign_round_trip(rsa_schemes[i], rsa);
    sign_round_trip(LATCH_SIG_ECDSA_SECP256R1_SHA256, p256);
    sign_round_trip(LATCH_SIG_ECDSA_SECP384R1_SHA384, p384);
    sign_round_trip(LATCH_SIG_ED25519, ed);

    CHECK(latch_sig_scheme_fits_key(LATCH_SIG_RSA_PSS_RSAE_SHA256, rsa));
    CHECK(!latch_sig_scheme_fits_key(LATCH_SIG_RSA_PKCS1_SHA256, p256));
    CHECK(!latch_sig_scheme_fits_key(LATCH_SIG_ECDSA_SECP256R1_SHA256, p384));
    CHECK(!latch_sig_scheme_fits_key(LATCH_SIG_ECDSA_SECP384R1_SHA384, p256));
    CHECK(!latch_sig_scheme_fits_key(LATCH_SIG_ECDSA_SECP256R1_SHA256, rsa));
    CHECK(!latch_sig_scheme_fits_key(LATCH_SIG_ED25519, rsa));
    CHECK(!latch_sig_scheme_fits_key(LATCH_SIG_RSA_PSS_RSAE_SHA256, ed));
    CHECK(!latch_sig_scheme_fits_key(0x0201, rsa)); /* rsa_pkcs1_sha1: not offered */
    CHECK(!latch_sig_scheme_fits_key(0x0809, rsa)); /* rsa_pss_pss: not offered */
    CHECK_EQ_INT(latch_sign(&crypto, LATCH_SIG_ECDSA_SECP384R1_SHA384, p256,
                            (const uint8_t *)"x", 1, sig, &len), -1);
    CHECK_EQ_INT(latch_sign(&crypto, LATCH_SIG_ED25519, rsa, (const uint8_t *)"x", 1, sig, &len), -1);
    CHECK_EQ_INT(latch_sign(&crypto, LATCH_SIG_ECDSA_SECP256R1_SHA256, p256,
                            (const uint8_t *)"x", 1, sig, &len), 0);
    CHECK_EQ_INT(latch_verify(&crypto, LATCH_SIG_ECDSA_SECP256R1_SHA256, p384,
                              (const uint8_t *)"x", 1, sig, len), -1);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

static void test_misc(void)
{
    uint8_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8], r1[32] = {0}, r2[32] = {0};
    memcpy(b, a, 8);
    CHECK_EQ_INT(latch_ct_compare(a, b, 8), 0);
    b[7] ^= 1;
    CHECK(latch_ct_compare(a, b, 8) != 0);
    latch_wipe(b, 8);
    CHECK(is_zero(b, 8));
    CHECK_EQ_INT(latch_random_default(NULL, r1, 32), 0);
    CHECK_EQ_INT(latch_random_default(NULL, r2, 32), 0);
    CHECK(memcmp(r1, r2, 32) != 0);
    CHECK_EQ_INT(latch_hash_len(LATCH_HASH_SHA1), 20);
    CHECK_EQ_INT(latch_aead_key_len(LATCH_AEAD_CHACHA20_POLY1305), 32);
}

int main(void)
{
    if (latch_crypto_init(&crypto) != 0) {
        fprintf(stderr, "latch_crypto_init failed\n");
        return 1;
    }
    test_hash();
    test_hmac();
    test_prf_vectors();
    test_tls12_key_schedule();
    test_tls12_server_key_exchange();
    test_rfc8448_schedule();
    test_illustrated13_schedule();
    test_aead_records("illustrated-tls13.json", LATCH_AEAD_AES256_GCM);
    test_aead_records("rfc8448-1rtt.json", LATCH_AEAD_AES128_GCM);
    test_chacha_kat();
    for (int id = 0; id < LATCH_AEAD_COUNT; id++)
        test_aead_roundtrip(id);
    test_ec_group(LATCH_GROUP_SECP256R1, 32);
    test_ec_group(LATCH_GROUP_SECP384R1, 48);
    test_ec_retry_and_cross_check(LATCH_GROUP_SECP256R1, "P-256", 32);
    test_ec_retry_and_cross_check(LATCH_GROUP_SECP384R1, "P-384", 48);
    test_x25519_generate();
    test_signatures();
    test_misc();
    latch_crypto_cleanup(&crypto);
    return check_finish();
}
