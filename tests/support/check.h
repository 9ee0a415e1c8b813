/* Minimal test harness: CHECK records a failure and goes on; the test's
 * main returns check_finish(), which prints "N passed, N failed". */
#ifndef LATCH_TEST_CHECK_H
#define LATCH_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            check_passed++;                                                          \
        } else {                                                                     \
            check_failed++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                             \
    do {                                                                               \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                \
        if (check_a_ == check_b_) {                                                    \
            check_passed++;                                                            \
        } else {                                                                       \
            check_failed++;                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,     \
                    __LINE__, #a, check_a_, #b, check_b_);                             \
        }                                                                              \
    } while (0)

#define CHECK_MEM(a, b, n)                                                            \
    do {                                                                              \
        if (memcmp((a), (b), (n)) == 0) {                                             \
            check_passed++;                                                           \
        } else {                                                                      \
            check_failed++;                                                           \
            fprintf(stderr, "%s:%d: bytes differ: %s vs %s (%zu bytes)\n", __FILE__, \
                    __LINE__, #a, #b, (size_t)(n));                                   \
        }                                                                             \
    } while (0)

static inline int check_finish(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
