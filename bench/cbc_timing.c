/*
 * cbc_timing: does a MAC-then-encrypt CBC record that fails on its padding
 * take the same time as one that fails on its MAC?  (Lucky13: AlFardan and
 * Paterson, IEEE S&P 2013; latch's countermeasure is in src/record/cbc.c and
 * src/crypto/cbc_mac.c.)
 *
 * For each CBC MAC (HMAC-SHA1, -SHA256, -SHA384) it builds records of one
 * length of two kinds, both refused with bad_record_mac:
 *   bad MAC      valid padding of the maximum length (256 bytes of 0xff), a
 *                wrong MAC: a naive decoder hashes the fewest bytes here;
 *   bad padding  the last byte says 255 but the bytes before it do not: a
 *                naive decoder assumes no padding and hashes the most bytes;
 * then opens them through record_open, interleaved in random order, timing
 * each call, and prints the two distributions (p1, p10, p25, median, p75,
 * p90, p99 in ns), the ratio of the medians and the two-sample
 * Kolmogorov-Smirnov distance D between them (the largest gap between the
 * two empirical CDFs: near 0 when one cannot tell the kinds apart, 1 when
 * every record of one kind is slower than every record of the other).  As a reference it times what a naive decoder's
 * MAC would cost for each kind (a plain HMAC over the length it would
 * believe), to show the difference the countermeasure hides is measurable.
 *
 * Built with the other benchmarks (bench/CMakeLists.txt) as build/bench/cbc_timing.
 * Usage: cbc_timing [records-per-kind [content-bytes]]   (default 100000, 512);
 * e.g. `taskset -c 1 build/bench/cbc_timing` (docs/PERFORMANCE.md, "CBC timing").
 * Prints "RESULT key=value ..." lines.  Not a CTest test: timing depends on
 * the machine and its load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "handshake/suites.h"
#include "latch/latch.h"
#include "record/record.h"

#define VARIANTS 64 /* different records of each kind, cycled */

enum kind { BAD_MAC = 0, BAD_PADDING = 1 };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int fill_random(void *arg, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)next_random();
    return 0;
}

static const uint8_t enc_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t mac_key[48] = {0x42, 0x43, 0x44};

/* One record (header, IV, ciphertext of n bytes) of the given kind. */
static void build(latch_cbc_ctx *enc, size_t n, enum kind kind, uint8_t *wire)
{
    uint8_t *iv = wire + 5, *body = wire + 5 + 16;
    size_t len = 16 + n;
    wire[0] = 23, wire[1] = 3, wire[2] = 3, wire[3] = (uint8_t)(len >> 8), wire[4] = (uint8_t)len;
    fill_random(NULL, iv, 16);
    fill_random(NULL, body, n); /* content and a MAC that is wrong */
    if (kind == BAD_MAC) {
        memset(body + n - 256, 0xff, 256); /* padding_length 255: valid */
    } else {
        body[n - 1] = 0xff; /* says 255 ... */
        body[n - 2] = 0x00; /* ... but is not */
    }
    if (latch_cbc_crypt(enc, iv, body, n) != 0) {
        fprintf(stderr, "cbc_timing: encryption failed\n");
        exit(1);
    }
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct stats {
    double p1, p10, p25, median, p75, p90, p99;
} stats;

/* Sorts t. */
static stats summarize(uint64_t *t, size_t count)
{
    stats s;
    qsort(t, count, sizeof *t, compare_u64);
    s.p1 = (double)t[count / 100];
    s.p10 = (double)t[count / 10];
    s.p25 = (double)t[count / 4];
    s.median = (double)t[count / 2];
    s.p75 = (double)t[count * 3 / 4];
    s.p90 = (double)t[count * 9 / 10];
    s.p99 = (double)t[count * 99 / 100];
    return s;
}

/* Two-sample Kolmogorov-Smirnov distance of two sorted samples of count. */
static double ks_distance(const uint64_t *a, const uint64_t *b, size_t count)
{
    size_t i = 0, j = 0;
    double d = 0;
    while (i < count && j < count) {
        uint64_t x = a[i] < b[j] ? a[i] : b[j];
        while (i < count && a[i] == x)
            i++;
        while (j < count && b[j] == x)
            j++;
        double gap = ((double)i - (double)j) / (double)count;
        if (gap < 0)
            gap = -gap;
        if (gap > d)
            d = gap;
    }
    return d;
}

static void print_stats(const char *what, const stats *s)
{
    printf("  %-24s p1 %6.0f  p10 %6.0f  p25 %6.0f  median %6.0f  p75 %6.0f  p90 %6.0f"
           "  p99 %6.0f ns\n",
           what, s->p1, s->p10, s->p25, s->median, s->p75, s->p90, s->p99);
}

/* Time record_open on `count` records of each kind, in random order. */
static void time_record_open(record_protection *r, uint8_t *const *records, size_t wire_len,
                             size_t count, uint64_t *times[2])
{
    uint8_t *work = malloc(wire_len);
    size_t done[2] = {0, 0};
    while (done[0] < count || done[1] < count) {
        enum kind k = (next_random() & 1) ? BAD_PADDING : BAD_MAC;
        if (done[k] == count)
            k = k == BAD_MAC ? BAD_PADDING : BAD_MAC;
        memcpy(work, records[k * VARIANTS + done[k] % VARIANTS], wire_len);
        record_header h = {work[0], 0x0303, (uint16_t)(wire_len - 5)};
        uint8_t *plain, type;
        size_t plain_len;
        uint64_t start = now_ns();
        int err = record_open(r, &h, work + 5, &plain, &plain_len, &type);
        uint64_t took = now_ns() - start;
        if (err != LATCH_ERR_BAD_RECORD_MAC) {
            fprintf(stderr, "cbc_timing: record_open returned %d, not bad_record_mac\n", err);
            exit(1);
        }
        times[k][done[k]++] = took;
    }
    free(work);
}

/* The naive decoder's MAC: a plain HMAC over the content length it would
 * believe (n - mac - 256 for bad MAC, n - mac for bad padding). */
static void time_naive_mac(latch_cbc_ctx *ctx, size_t mac_len, size_t n, size_t count,
                           uint64_t *times[2])
{
    uint8_t header[LATCH_CBC_HEADER_LEN] = {0}, *data = malloc(n), out[LATCH_MAX_HASH_LEN];
    fill_random(NULL, data, n);
    for (size_t i = 0; i < 2 * count; i++) {
        enum kind k = (enum kind)(i & 1);
        size_t len = k == BAD_MAC ? n - mac_len - 256 : n - mac_len;
        uint64_t start = now_ns();
        latch_cbc_mac(ctx, header, data, len, out);
        times[k][i / 2] = now_ns() - start;
    }
    free(data);
}

static void run_suite(const latch_crypto *crypto, uint16_t id, size_t count, size_t content)
{
    const latch_suite *s = suite_find(id);
    size_t mac = s->mac_key_len;
    size_t n = ((content + mac + 256) / 16 + 1) * 16; /* room for 256 bytes of padding */
    size_t wire_len = 5 + 16 + n;
    record_cbc_keys keys = {enc_key, s->key_len, s->mac_hash, mac_key, mac, 0, fill_random, NULL};
    record_protection r = {0};
    latch_cbc_ctx enc;
    uint8_t *records[2 * VARIANTS];
    uint64_t *times[2] = {malloc(count * sizeof(uint64_t)), malloc(count * sizeof(uint64_t))};
    if (record_protection_init_cbc(crypto, &r, &keys, 0) != 0 ||
        latch_cbc_init(crypto, &enc, enc_key, s->key_len, s->mac_hash, mac_key, mac, 1) != 0) {
        fprintf(stderr, "cbc_timing: key set-up failed\n");
        exit(1);
    }
    for (size_t i = 0; i < 2 * VARIANTS; i++) {
        records[i] = malloc(wire_len);
        build(&enc, n, i < VARIANTS ? BAD_MAC : BAD_PADDING, records[i]);
    }
    time_record_open(&r, records, wire_len, count / 10, times); /* warm-up */
    time_record_open(&r, records, wire_len, count, times);
    stats bad_mac = summarize(times[BAD_MAC], count), bad_pad = summarize(times[BAD_PADDING], count);
    double ks = ks_distance(times[BAD_MAC], times[BAD_PADDING], count);
    printf("%s, record of %zu bytes (IV + %zu), %zu of each kind\n", s->name, 16 + n, n, count);
    print_stats("record_open bad MAC", &bad_mac);
    print_stats("record_open bad padding", &bad_pad);
    printf("  ratio bad padding / bad MAC (medians): %.3f, KS distance D = %.3f\n",
           bad_pad.median / bad_mac.median, ks);
    time_naive_mac(&enc, mac, n, count, times);
    stats naive_mac = summarize(times[BAD_MAC], count);
    stats naive_pad = summarize(times[BAD_PADDING], count);
    double naive_ks = ks_distance(times[BAD_MAC], times[BAD_PADDING], count);
    print_stats("naive MAC, bad MAC", &naive_mac);
    print_stats("naive MAC, bad padding", &naive_pad);
    printf("  reference, naive MAC only: ratio %.3f, KS distance D = %.3f\n",
           naive_pad.median / naive_mac.median, naive_ks);
    printf("RESULT suite=%s record=%zu bad_mac_median_ns=%.0f bad_mac_p10_ns=%.0f "
           "bad_mac_p90_ns=%.0f bad_padding_median_ns=%.0f bad_padding_p10_ns=%.0f "
           "bad_padding_p90_ns=%.0f ratio=%.3f ks=%.3f naive_ratio=%.3f naive_ks=%.3f\n",
           s->name, 16 + n, bad_mac.median, bad_mac.p10, bad_mac.p90, bad_pad.median,
           bad_pad.p10, bad_pad.p90, bad_pad.median / bad_mac.median, ks,
           naive_pad.median / naive_mac.median, naive_ks);
    for (size_t i = 0; i < 2 * VARIANTS; i++)
        free(records[i]);
    free(times[0]);
    free(times[1]);
    latch_cbc_free(&enc);
    record_protection_clear(&r);
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000;
    size_t content = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 512;
    latch_crypto crypto;
    if (count < 100 || content > 16000 || latch_crypto_init(&crypto) != 0) {
        fprintf(stderr, "usage: cbc_timing [records-per-kind >= 100 [content-bytes <= 16000]]\n");
        return 2;
    }
    run_suite(&crypto, 0xc013, count, content); /* HMAC-SHA1 */
    run_suite(&crypto, 0xc027, count, content); /* HMAC-SHA256 */
    run_suite(&crypto, 0xc028, count, content); /* HMAC-SHA384 */
    latch_crypto_cleanup(&crypto);
    return 0;
}
