/*
 * (EC)DH key exchange: X25519, secp256r1, secp384r1.
 * Private keys come from a caller-supplied rng (replayable handshakes);
 * NIST public points are computed with the (non-deprecated) EC_POINT API.
 */
#include "crypto/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KX_MAX_TRIES 64

typedef struct kx_curve {
    uint16_t group;
    const char *name; /* OpenSSL group name */
    int nid;
    size_t field_len; /* scalar / coordinate bytes */
} kx_curve;

static const kx_curve nist_curves[] = {
    {LATCH_GROUP_SECP256R1, "prime256v1", NID_X9_62_prime256v1, 32},
    {LATCH_GROUP_SECP384R1, "secp384r1", NID_secp384r1, 48},
};

/* The curve groups are read-only once built: made once per process. */
static EC_GROUP *curve_groups[sizeof nist_curves / sizeof nist_curves[0]];
static pthread_once_t curve_groups_once = PTHREAD_ONCE_INIT;

static void build_curve_groups(void)
{
    for (size_t i = 0; i < sizeof nist_curves / sizeof nist_curves[0]; i++)
        curve_groups[i] = EC_GROUP_new_by_curve_name(nist_curves[i].nid);
}

static const EC_GROUP *curve_group(const kx_curve *c)
{
    pthread_once(&curve_groups_once, build_curve_groups);
    return curve_groups[c - nist_curves];
}

static const kx_curve *nist_curve(uint16_t group)
{
    for (size_t i = 0; i < sizeof(nist_curves) / sizeof(nist_curves[0]); i++)
        if (nist_curves[i].group == group)
            return &nist_curves[i];
    return NULL;
}

int latch_group_supported(uint16_t group)
{
    return group == LATCH_GROUP_X25519 || nist_curve(group) != NULL;
}

/* ---- X25519 ----------------------------------------------------------- */

static int x25519_from_private(const uint8_t *priv, size_t priv_len, EVP_PKEY **out,
                               uint8_t *public_out, size_t *public_len)
{
    size_t len = 32;
    EVP_PKEY *pkey;

    if (priv_len != 32)
        return -1;
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, priv_len);
    if (pkey == NULL || EVP_PKEY_get_raw_public_key(pkey, public_out, &len) != 1 || len != 32) {
        EVP_PKEY_free(pkey);
        return -1;
    }
    *out = pkey;
    *public_len = len;
    return 0;
}

/*
 * With the default rng, OpenSSL generates the key itself.  Making a context
 * (EVP_PKEY_CTX_new_*) walks the whole name map in OpenSSL 3.0 and a
 * keygen context cannot be duplicated, so one context per configuration is
 * kept through keygen_init and used under a lock; a thread that finds it
 * busy makes its own rather than wait.
 */
struct latch_kx_cache {
    pthread_mutex_t lock;
    EVP_PKEY_CTX *x25519;
};

struct latch_kx_cache *latch_kx_cache_new(void)
{
    struct latch_kx_cache *cache = calloc(1, sizeof *cache);
    if (cache == NULL)
        return NULL;
    cache->x25519 = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
    if (cache->x25519 == NULL || EVP_PKEY_keygen_init(cache->x25519) != 1 ||
        pthread_mutex_init(&cache->lock, NULL) != 0) {
        EVP_PKEY_CTX_free(cache->x25519);
        free(cache);
        return NULL;
    }
    return cache;
}

void latch_kx_cache_free(struct latch_kx_cache *cache)
{
    if (cache == NULL)
        return;
    EVP_PKEY_CTX_free(cache->x25519);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

static int x25519_keygen(struct latch_kx_cache *cache, EVP_PKEY **out, uint8_t *public_out,
                         size_t *public_len)
{
    size_t len = 32;
    EVP_PKEY *pkey = NULL;
    int ok;

    if (cache != NULL && pthread_mutex_trylock(&cache->lock) == 0) {
        ok = EVP_PKEY_keygen(cache->x25519, &pkey) == 1;
        pthread_mutex_unlock(&cache->lock);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
        ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pkey) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    if (!ok || EVP_PKEY_get_raw_public_key(pkey, public_out, &len) != 1 || len != 32) {
        EVP_PKEY_free(pkey);
        return -1;
    }
    *out = pkey;
    *public_len = len;
    return 0;
}

/* ---- NIST curves ------------------------------------------------------ */

/* Public point d*G, uncompressed; 1 on success, 0 on failure. */
static int ec_public_point(const EC_GROUP *grp, const BIGNUM *d, uint8_t *out, size_t out_len)
{
    EC_POINT *pt = EC_POINT_new(grp);
    int ok = pt != NULL && EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) == 1 &&
             EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, out, out_len, NULL) ==
                 out_len;
    EC_POINT_free(pt);
    return ok;
}

/* EVP_PKEY from group name plus optional private scalar and public point. */
static EVP_PKEY *ec_pkey_fromdata(const kx_curve *c, const BIGNUM *d, const uint8_t *pub,
                                  size_t pub_len)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey = NULL;
    int selection = d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;

    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->name, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) ||
        (d != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &pkey, selection, params) != 1)
        pkey = NULL;
done:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/*
 * Key pair from a big-endian scalar.  Returns 0, 1 when the scalar is out
 * of range (0 or >= order: caller may retry), -1 on other errors.
 */
static int ec_from_scalar(const kx_curve *c, const uint8_t *priv, size_t priv_len,
                          EVP_PKEY **out, uint8_t *public_out, size_t *public_len)
{
    const EC_GROUP *grp = curve_group(c);
    BIGNUM *d = BN_secure_new();
    size_t pub_len = 1 + 2 * c->field_len;
    int rc = -1;

    if (grp == NULL || d == NULL || priv_len != c->field_len ||
        BN_bin2bn(priv, (int)priv_len, d) == NULL)
        goto done;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
        rc = 1;
        goto done;
    }
    if (!ec_public_point(grp, d, public_out, pub_len))
        goto done;
    *out = ec_pkey_fromdata(c, d, public_out, pub_len);
    if (*out != NULL) {
        *public_len = pub_len;
        rc = 0;
    }
done:
    BN_clear_free(d);
    return rc;
}

/* ---- public API --------------------------------------------------------- */

int latch_kx_from_private(uint16_t group, const uint8_t *priv, size_t priv_len,
                          EVP_PKEY **private_key, uint8_t *public_out, size_t *public_len)
{
    const kx_curve *c = nist_curve(group);

    *private_key = NULL;
    if (group == LATCH_GROUP_X25519)
        return x25519_from_private(priv, priv_len, private_key, public_out, public_len);
    if (c == NULL)
        return -1;
    return ec_from_scalar(c, priv, priv_len, private_key, public_out, public_len) == 0 ? 0 : -1;
}

int latch_kx_generate(const latch_crypto *crypto, uint16_t group,
                      int (*rng)(void *, uint8_t *, size_t), void *rng_arg,
                      EVP_PKEY **private_key, uint8_t *public_out, size_t *public_len)
{
    const kx_curve *c = nist_curve(group);
    size_t len = c != NULL ? c->field_len : 32;
    uint8_t priv[48];
    int rc = -1;

    *private_key = NULL;
    if (rng == NULL || !latch_group_supported(group))
        return -1;
    if (c == NULL && rng == latch_random_default) /* an injected rng replays: from scalar */
        return x25519_keygen(crypto != NULL ? crypto->kx_cache : NULL, private_key, public_out,
                             public_len);
    for (int tries = 0; tries < KX_MAX_TRIES; tries++) {
        if (rng(rng_arg, priv, len) != 0)
            break;
        if (c == NULL) {
            rc = x25519_from_private(priv, len, private_key, public_out, public_len);
            break;
        }
        rc = ec_from_scalar(c, priv, len, private_key, public_out, public_len);
        if (rc != 1)
            break;
        rc = -1; /* out of range: draw again */
    }
    OPENSSL_cleanse(priv, sizeof(priv));
    return rc == 0 ? 0 : -1;
}

/* Peer key from its TLS encoding, validated; NULL if invalid. */
static EVP_PKEY *peer_key(uint16_t group, const uint8_t *peer, size_t peer_len)
{
    const kx_curve *c = nist_curve(group);
    EVP_PKEY_CTX *check;
    EVP_PKEY *pkey;
    int ok;

    if (group == LATCH_GROUP_X25519)
        return peer_len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32)
                              : NULL;
    if (c == NULL || peer_len != 1 + 2 * c->field_len || peer[0] != 0x04)
        return NULL;
    if ((pkey = ec_pkey_fromdata(c, NULL, peer, peer_len)) == NULL)
        return NULL;
    /* on the curve and not the identity; P-256/P-384 have cofactor 1, so
     * the quick check is the full validation (SP 800-56A 5.6.2.3.4) */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    ok = check != NULL && EVP_PKEY_public_check_quick(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

static int all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

int latch_kx_derive(uint16_t group, EVP_PKEY *private_key, const uint8_t *peer_public,
                    size_t peer_len, uint8_t *secret, size_t *secret_len)
{
    const kx_curve *c = nist_curve(group);
    size_t want = c != NULL ? c->field_len : 32, len = want;
    EVP_PKEY *peer;
    EVP_PKEY_CTX *dctx = NULL;
    int ok;

    if (private_key == NULL || peer_public == NULL ||
        !EVP_PKEY_is_a(private_key, c != NULL ? "EC" : "X25519") ||
        (peer = peer_key(group, peer_public, peer_len)) == NULL)
        return -1;
    dctx = EVP_PKEY_CTX_new_from_pkey(NULL, private_key, NULL);
    ok = dctx != NULL && EVP_PKEY_derive_init(dctx) == 1 &&
         EVP_PKEY_derive_set_peer_ex(dctx, peer, 0) == 1 && /* validated above */
         EVP_PKEY_derive(dctx, secret, &len) == 1 && len == want && !all_zero(secret, len);
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(peer);
    if (!ok) {
        OPENSSL_cleanse(secret, want);
        return -1;
    }
    *secret_len = len;
    return 0;
}
