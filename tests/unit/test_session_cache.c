/*
 * Unit tests for src/engine/session_cache.c, the server's session-ID cache:
 * least-recently-used eviction, lifetime, a large cache filled past its
 * capacity, and what a cached copy keeps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/internal.h"
#include "engine/session.h"

static latch_session make_session(uint32_t n, uint64_t issued_ms)
{
    latch_session s;
    memset(&s, 0, sizeof s);
    s.version = 0x0303;
    s.suite = 0xc02b;
    s.secret_len = 48;
    memset(s.secret, (int)(n & 0xff), 48);
    s.session_id_len = 32;
    for (size_t i = 0; i < 32; i++) /* distinct, and far from random */
        s.session_id[i] = (uint8_t)(n >> (8 * (i % 4)));
    s.issued_ms = issued_ms;
    return s;
}

static int has(struct session_cache *cache, uint32_t n, uint64_t now_ms)
{
    latch_session want = make_session(n, 0), got;
    int found = session_cache_get(cache, want.session_id, want.session_id_len, now_ms, &got);
    if (found && (got.secret[0] != (uint8_t)n || memcmp(got.session_id, want.session_id, 32)))
        return -1; /* found the wrong one */
    return found;
}

static void test_least_recently_used_goes(void)
{
    struct session_cache *cache = session_cache_new(3, 60);
    CHECK(cache != NULL);
    for (uint32_t n = 1; n <= 3; n++) {
        latch_session s = make_session(n, 1000);
        session_cache_put(cache, &s);
    }
    CHECK_EQ_INT(session_cache_count(cache), 3);
    CHECK_EQ_INT(has(cache, 1, 1000), 1); /* 1 used: 2 is now the oldest */
    latch_session s4 = make_session(4, 1000);
    session_cache_put(cache, &s4);
    CHECK_EQ_INT(session_cache_count(cache), 3);
    CHECK_EQ_INT(has(cache, 2, 1000), 0);
    CHECK_EQ_INT(has(cache, 1, 1000), 1);
    CHECK_EQ_INT(has(cache, 3, 1000), 1);
    CHECK_EQ_INT(has(cache, 4, 1000), 1);
    /* looked up in the order 1, 3, 4: 5 and 6 push out 1 and 3 */
    latch_session s5 = make_session(5, 1000), s6 = make_session(6, 1000);
    session_cache_put(cache, &s5);
    session_cache_put(cache, &s6);
    CHECK_EQ_INT(has(cache, 1, 1000), 0);
    CHECK_EQ_INT(has(cache, 3, 1000), 0);
    CHECK_EQ_INT(has(cache, 4, 1000), 1);
    CHECK_EQ_INT(has(cache, 5, 1000), 1);
    CHECK_EQ_INT(has(cache, 6, 1000), 1);
    session_cache_free(cache);
}

static void test_lifetime(void)
{
    struct session_cache *cache = session_cache_new(8, 10);
    latch_session s = make_session(7, 5000);
    session_cache_put(cache, &s);
    CHECK_EQ_INT(has(cache, 7, 5000 + 10000), 1); /* exactly the lifetime: still good */
    CHECK_EQ_INT(session_cache_count(cache), 1);
    CHECK_EQ_INT(has(cache, 7, 5000 + 10001), 0);  /* expired: gone */
    CHECK_EQ_INT(session_cache_count(cache), 0);
    CHECK_EQ_INT(has(cache, 7, 5000), 0); /* forgotten, not just refused */
    /* the freed entry is reused */
    for (uint32_t n = 10; n < 18; n++) {
        latch_session t = make_session(n, 5000);
        session_cache_put(cache, &t);
    }
    CHECK_EQ_INT(session_cache_count(cache), 8);
    for (uint32_t n = 10; n < 18; n++)
        CHECK_EQ_INT(has(cache, n, 6000), 1);
    session_cache_free(cache);
}

/* Filled two and a half times over: the newest capacity sessions stay, all
 * others are gone, and every lookup finds its own session. */
static void test_large_cache(void)
{
    enum { CAPACITY = 100000, PUT = 250000 };
    struct session_cache *cache = session_cache_new(CAPACITY, 3600);
    CHECK(cache != NULL);
    for (uint32_t n = 0; n < PUT; n++) {
        latch_session s = make_session(n, 1);
        session_cache_put(cache, &s);
    }
    CHECK_EQ_INT(session_cache_count(cache), CAPACITY);
    int kept = 0, gone = 0, wrong = 0;
    for (uint32_t n = 0; n < PUT; n++) {
        int r = has(cache, n, 2);
        if (r < 0)
            wrong++;
        else if (n >= PUT - CAPACITY)
            kept += r;
        else
            gone += !r;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(kept, CAPACITY);
    CHECK_EQ_INT(gone, PUT - CAPACITY);
    session_cache_free(cache);
}

static void test_what_is_kept(void)
{
    struct session_cache *cache = session_cache_new(4, 77);
    latch_session s = make_session(9, 1000), got;
    uint8_t ticket[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    s.ticket = ticket;
    s.ticket_len = sizeof ticket;
    s.lifetime = 5;
    strcpy(s.server_name, "example.test");
    session_cache_put(cache, &s);
    CHECK_EQ_INT(session_cache_get(cache, s.session_id, 32, 1000, &got), 1);
    CHECK(got.ticket == NULL && got.ticket_len == 0);
    CHECK_EQ_INT(got.lifetime, 77); /* the cache's lifetime */
    CHECK(strcmp(got.server_name, "example.test") == 0);
    CHECK_MEM(got.secret, s.secret, 48);
    /* a prefix of a cached ID, an empty one and an oversized one find nothing */
    CHECK_EQ_INT(session_cache_get(cache, s.session_id, 31, 1000, &got), 0);
    CHECK_EQ_INT(session_cache_get(cache, s.session_id, 0, 1000, &got), 0);
    CHECK_EQ_INT(session_cache_get(cache, s.session_id, 33, 1000, &got), 0);
    latch_session empty = make_session(10, 1000);
    empty.session_id_len = 0; /* never stored */
    session_cache_put(cache, &empty);
    CHECK_EQ_INT(session_cache_count(cache), 1);
    CHECK(session_cache_new(0, 60) == NULL);
    CHECK(session_cache_new((size_t)UINT32_MAX, 60) == NULL); /* beyond its 32-bit indices */
    /* shared by reference: the last free releases it */
    CHECK(session_cache_ref(cache) == cache);
    session_cache_free(cache);
    CHECK_EQ_INT(session_cache_count(cache), 1);
    session_cache_free(cache);
}

int main(void)
{
    test_least_recently_used_goes();
    test_lifetime();
    test_large_cache();
    test_what_is_kept();
    return check_finish();
}
