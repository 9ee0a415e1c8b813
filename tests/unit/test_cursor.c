/*
 * Unit tests for src/util/cursor.c (bounds-checked reading and writing of
 * wire bytes) and src/util/buffer.c (the byte queue).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "latch/latch.h"
#include "util/buffer.h"
#include "util/cursor.h"

/* ---- reading -------------------------------------------------------- */

static void test_read_integers(void)
{
    static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
                                    0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8};
    cursor c;
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u24 = 0, u32 = 0;
    uint64_t u64 = 0;
    cursor_init(&c, bytes, sizeof bytes);
    CHECK_EQ_INT(cursor_remaining(&c), sizeof bytes);
    CHECK(cursor_position(&c) == bytes);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), 0);
    CHECK_EQ_INT(u8, 0x01);
    CHECK_EQ_INT(cursor_read_u16(&c, &u16), 0);
    CHECK_EQ_INT(u16, 0x0203);
    CHECK_EQ_INT(cursor_read_u24(&c, &u24), 0);
    CHECK_EQ_INT(u24, 0x040506);
    CHECK_EQ_INT(cursor_read_u32(&c, &u32), 0);
    CHECK_EQ_INT(u32, 0x0708090a);
    CHECK_EQ_INT(c.off, 10);
    CHECK(cursor_position(&c) == bytes + 10);
    CHECK_EQ_INT(cursor_read_u64(&c, &u64), 0);
    CHECK(u64 == 0x0b0c0d0e0f101112ull);
    /* high bits must not be sign-extended or truncated */
    CHECK_EQ_INT(cursor_read_u64(&c, &u64), 0);
    CHECK(u64 == 0xfffefdfcfbfaf9f8ull);
    CHECK_EQ_INT(cursor_remaining(&c), 0);
    CHECK_EQ_INT(cursor_expect_end(&c), 0);

    /* the largest values of each width */
    static const uint8_t ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cursor_init(&c, ones, 8);
    CHECK_EQ_INT(cursor_read_u24(&c, &u24), 0);
    CHECK_EQ_INT(u24, 0xffffff);
    CHECK_EQ_INT(cursor_read_u32(&c, &u32), 0);
    CHECK(u32 == 0xffffffffu);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), 0);
    CHECK_EQ_INT(u8, 0xff);
}

static void test_short_reads(void)
{
    static const uint8_t bytes[3] = {0xaa, 0xbb, 0xcc};
    cursor c;
    uint8_t u8 = 0x11;
    uint16_t u16 = 0x1111;
    uint32_t u32 = 0x11111111;
    uint64_t u64 = 0x1111111111111111ull;
    const uint8_t *p = NULL;
    uint8_t copy[4] = {0x55, 0x55, 0x55, 0x55};

    cursor_init(&c, bytes, sizeof bytes);
    CHECK_EQ_INT(cursor_read_u32(&c, &u32), LATCH_ERR_DECODE);
    CHECK_EQ_INT(c.off, 0);
    CHECK(u32 == 0x11111111); /* output untouched on failure */
    CHECK_EQ_INT(cursor_read_u64(&c, &u64), LATCH_ERR_DECODE);
    CHECK_EQ_INT(c.off, 0);
    CHECK_EQ_INT(cursor_read_bytes(&c, &p, 4), LATCH_ERR_DECODE);
    CHECK_EQ_INT(c.off, 0);
    CHECK_EQ_INT(cursor_copy_bytes(&c, copy, 4), LATCH_ERR_DECODE);
    CHECK_EQ_INT(copy[0], 0x55);
    CHECK_EQ_INT(cursor_skip(&c, 4), LATCH_ERR_DECODE);
    CHECK_EQ_INT(c.off, 0);

    /* exactly what is left still works */
    CHECK_EQ_INT(cursor_read_u24(&c, &u32), 0);
    CHECK_EQ_INT(u32, 0xaabbcc);
    CHECK_EQ_INT(c.off, 3);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), LATCH_ERR_DECODE);
    CHECK_EQ_INT(u8, 0x11);
    CHECK_EQ_INT(cursor_read_u16(&c, &u16), LATCH_ERR_DECODE);
    CHECK_EQ_INT(u16, 0x1111);
    CHECK_EQ_INT(c.off, 3);
    CHECK_EQ_INT(cursor_remaining(&c), 0);

    /* one byte short at every width */
    cursor_init(&c, bytes, 1);
    CHECK_EQ_INT(cursor_read_u16(&c, &u16), LATCH_ERR_DECODE);
    cursor_init(&c, bytes, 2);
    CHECK_EQ_INT(cursor_read_u24(&c, &u32), LATCH_ERR_DECODE);
    CHECK_EQ_INT(c.off, 0);

    /* an empty window */
    cursor_init(&c, bytes, 0);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_expect_end(&c), 0);
    CHECK_EQ_INT(cursor_skip(&c, 0), 0);
    CHECK_EQ_INT(cursor_read_bytes(&c, &p, 0), 0);

    /* borrowing and copying */
    cursor_init(&c, bytes, sizeof bytes);
    CHECK_EQ_INT(cursor_skip(&c, 1), 0);
    CHECK_EQ_INT(cursor_read_bytes(&c, &p, 1), 0);
    CHECK(p == bytes + 1);
    CHECK_EQ_INT(cursor_copy_bytes(&c, copy, 1), 0);
    CHECK_EQ_INT(copy[0], 0xcc);
    CHECK_EQ_INT(copy[1], 0x55);
}

static void test_read_vectors(void)
{
    static const uint8_t one[] = {0x03, 'a', 'b', 'c', 0x99};
    static const uint8_t two[] = {0x00, 0x02, 'x', 'y', 0x98};
    static const uint8_t three[] = {0x00, 0x00, 0x01, 'z'};
    static const uint8_t empty[] = {0x00, 0x00};
    cursor c, sub;
    uint8_t u8;

    cursor_init(&c, one, sizeof one);
    CHECK_EQ_INT(cursor_read_vector(&c, 1, 0, 255, &sub), 0);
    CHECK_EQ_INT(sub.len, 3);
    CHECK_EQ_INT(sub.off, 0);
    CHECK(sub.data == one + 1);
    CHECK_MEM(sub.data, "abc", 3);
    CHECK_EQ_INT(c.off, 4);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), 0);
    CHECK_EQ_INT(u8, 0x99);

    cursor_init(&c, two, sizeof two);
    CHECK_EQ_INT(cursor_read_vector(&c, 2, 2, 2, &sub), 0); /* min == max == length */
    CHECK_EQ_INT(sub.len, 2);
    CHECK_MEM(sub.data, "xy", 2);
    CHECK_EQ_INT(c.off, 4);

    cursor_init(&c, three, sizeof three);
    CHECK_EQ_INT(cursor_read_vector(&c, 3, 1, 0xffffff, &sub), 0);
    CHECK_EQ_INT(sub.len, 1);
    CHECK_EQ_INT(sub.data[0], 'z');
    CHECK_EQ_INT(cursor_expect_end(&c), 0);

    cursor_init(&c, empty, sizeof empty);
    CHECK_EQ_INT(cursor_read_vector(&c, 2, 0, 10, &sub), 0);
    CHECK_EQ_INT(sub.len, 0);
    CHECK_EQ_INT(cursor_expect_end(&sub), 0);

    /* below the minimum */
    cursor_init(&c, two, sizeof two);
    CHECK_EQ_INT(cursor_read_vector(&c, 2, 3, 10, &sub), LATCH_ERR_DECODE);
    CHECK(c.off <= c.len);
    cursor_init(&c, empty, sizeof empty);
    CHECK_EQ_INT(cursor_read_vector(&c, 2, 1, 10, &sub), LATCH_ERR_DECODE);
    /* above the maximum */
    cursor_init(&c, one, sizeof one);
    CHECK_EQ_INT(cursor_read_vector(&c, 1, 0, 2, &sub), LATCH_ERR_DECODE);
    CHECK(c.off <= c.len);
    cursor_init(&c, three, sizeof three);
    CHECK_EQ_INT(cursor_read_vector(&c, 3, 0, 0, &sub), LATCH_ERR_DECODE);
    /* longer than the bytes that are left */
    static const uint8_t too_long[] = {0x05, 'a', 'b', 'c'};
    cursor_init(&c, too_long, sizeof too_long);
    CHECK_EQ_INT(cursor_read_vector(&c, 1, 0, 255, &sub), LATCH_ERR_DECODE);
    CHECK(c.off <= c.len);
    static const uint8_t too_long2[] = {0x01, 0x00, 'a'};
    cursor_init(&c, too_long2, sizeof too_long2);
    CHECK_EQ_INT(cursor_read_vector(&c, 2, 0, 0xffff, &sub), LATCH_ERR_DECODE);
    /* the prefix itself is cut short */
    cursor_init(&c, too_long2, 1);
    CHECK_EQ_INT(cursor_read_vector(&c, 2, 0, 0xffff, &sub), LATCH_ERR_DECODE);
    CHECK_EQ_INT(c.off, 0);
    cursor_init(&c, three, 2);
    CHECK_EQ_INT(cursor_read_vector(&c, 3, 0, 0xffffff, &sub), LATCH_ERR_DECODE);
}

static void test_sub_cursor_isolation(void)
{
    /* outer: vec1(2 bytes) then 3 more bytes */
    static const uint8_t bytes[] = {0x02, 0x10, 0x20, 0x30, 0x40, 0x50};
    cursor c, sub, inner;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    cursor_init(&c, bytes, sizeof bytes);
    CHECK_EQ_INT(cursor_read_vector(&c, 1, 0, 255, &sub), 0);
    CHECK_EQ_INT(cursor_remaining(&sub), 2);
    /* the sub-cursor cannot read into the bytes after it */
    CHECK_EQ_INT(cursor_read_u24(&sub, &u32), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_read_u16(&sub, &u16), 0);
    CHECK_EQ_INT(u16, 0x1020);
    CHECK_EQ_INT(cursor_read_u8(&sub, &u8), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_expect_end(&sub), 0);
    /* reading the sub-cursor did not move the parent */
    CHECK_EQ_INT(c.off, 3);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), 0);
    CHECK_EQ_INT(u8, 0x30);
    CHECK_EQ_INT(cursor_expect_end(&c), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_remaining(&c), 2);

    /* a vector nested in a vector: inner length beyond the outer window */
    static const uint8_t nested[] = {0x02, 0x03, 0xaa, 0xbb, 0xcc};
    cursor_init(&c, nested, sizeof nested);
    CHECK_EQ_INT(cursor_read_vector(&c, 1, 0, 255, &sub), 0);
    CHECK_EQ_INT(cursor_read_vector(&sub, 1, 0, 255, &inner), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_remaining(&c), 2);
}

static void test_expect_end(void)
{
    static const uint8_t bytes[] = {1, 2};
    cursor c;
    uint8_t u8;
    cursor_init(&c, bytes, 2);
    CHECK_EQ_INT(cursor_expect_end(&c), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), 0);
    CHECK_EQ_INT(cursor_expect_end(&c), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cursor_read_u8(&c, &u8), 0);
    CHECK_EQ_INT(cursor_expect_end(&c), 0);
}

/* ---- writing -------------------------------------------------------- */

static void test_write_integers(void)
{
    uint8_t buf[32];
    static const uint8_t expected[] = {0x7f, 0x12, 0x34, 0xab, 0xcd, 0xef, 0xde, 0xad,
                                       0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                                       0xcd, 0xef, 'h',  'i',  0x03, 'a',  'b',  'c'};
    cursor w;
    memset(buf, 0xee, sizeof buf);
    cursor_init(&w, buf, sizeof buf);
    CHECK_EQ_INT(cursor_write_u8(&w, 0x7f), 0);
    CHECK_EQ_INT(cursor_write_u16(&w, 0x1234), 0);
    CHECK_EQ_INT(cursor_write_u24(&w, 0xabcdef), 0);
    CHECK_EQ_INT(cursor_write_u32(&w, 0xdeadbeefu), 0);
    CHECK_EQ_INT(cursor_write_u64(&w, 0x0123456789abcdefull), 0);
    CHECK_EQ_INT(cursor_write_bytes(&w, "hi", 2), 0);
    CHECK_EQ_INT(cursor_write_vector(&w, 1, "abc", 3), 0);
    CHECK_EQ_INT(w.off, sizeof expected);
    CHECK_MEM(buf, expected, sizeof expected);
    CHECK(cursor_written(&w) == buf);
    CHECK_EQ_INT(buf[sizeof expected], 0xee);

    /* a u24 only keeps the low 24 bits of its argument */
    cursor_init(&w, buf, 3);
    CHECK_EQ_INT(cursor_write_u24(&w, 0x00123456), 0);
    CHECK_EQ_INT(buf[0], 0x12);
    CHECK_EQ_INT(buf[1], 0x34);
    CHECK_EQ_INT(buf[2], 0x56);

    /* what the writer wrote, the reader reads back */
    cursor_init(&w, buf, sizeof buf);
    CHECK_EQ_INT(cursor_write_u64(&w, 0xfedcba9876543210ull), 0);
    CHECK_EQ_INT(cursor_write_u32(&w, 0x80000001u), 0);
    cursor r;
    uint64_t u64;
    uint32_t u32;
    cursor_init(&r, buf, w.off);
    CHECK_EQ_INT(cursor_read_u64(&r, &u64), 0);
    CHECK(u64 == 0xfedcba9876543210ull);
    CHECK_EQ_INT(cursor_read_u32(&r, &u32), 0);
    CHECK(u32 == 0x80000001u);
    CHECK_EQ_INT(cursor_expect_end(&r), 0);

    /* reserve hands out the next bytes and counts them as written */
    uint8_t *slot = NULL;
    cursor_init(&w, buf, sizeof buf);
    CHECK_EQ_INT(cursor_write_u8(&w, 9), 0);
    CHECK_EQ_INT(cursor_reserve(&w, 4, &slot), 0);
    CHECK(slot == buf + 1);
    CHECK_EQ_INT(w.off, 5);
}

static void test_vector_backpatching(void)
{
    uint8_t buf[64];
    cursor w;
    cursor_mark outer, inner, inner3, empty;
    /* outer(2) { 0x01, inner(1) { a b c }, inner(3) { d e }, empty(2) {} } */
    static const uint8_t expected[] = {0x00, 0x0e, 0x01, 0x03, 'a', 'b', 'c', 0x00, 0x00,
                                       0x02, 'd',  'e',  0x00, 0x00, 0xf0, 0x0d, 0x42};
    memset(buf, 0xee, sizeof buf);
    cursor_init(&w, buf, sizeof buf);
    CHECK_EQ_INT(cursor_open_vector(&w, 2, &outer), 0);
    CHECK_EQ_INT(outer.at, 0);
    CHECK_EQ_INT(outer.prefix_len, 2);
    CHECK_EQ_INT(cursor_write_u8(&w, 0x01), 0);
    CHECK_EQ_INT(cursor_open_vector(&w, 1, &inner), 0);
    CHECK_EQ_INT(inner.at, 3);
    CHECK_EQ_INT(cursor_write_bytes(&w, "abc", 3), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &inner), 0);
    CHECK_EQ_INT(cursor_open_vector(&w, 3, &inner3), 0);
    CHECK_EQ_INT(cursor_write_bytes(&w, "de", 2), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &inner3), 0);
    CHECK_EQ_INT(cursor_open_vector(&w, 2, &empty), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &empty), 0);
    CHECK_EQ_INT(cursor_write_u8(&w, 0xf0), 0);
    CHECK_EQ_INT(cursor_write_u8(&w, 0x0d), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &outer), 0);
    CHECK_EQ_INT(cursor_write_u8(&w, 0x42), 0); /* after the vector */
    CHECK_EQ_INT(w.off, sizeof expected);
    CHECK_MEM(buf, expected, sizeof expected);

    /* and the reader agrees with the layout */
    cursor r, o, i1, i2, e;
    uint8_t u8;
    cursor_init(&r, buf, w.off);
    CHECK_EQ_INT(cursor_read_vector(&r, 2, 0, 0xffff, &o), 0);
    CHECK_EQ_INT(o.len, 14);
    CHECK_EQ_INT(cursor_read_u8(&o, &u8), 0);
    CHECK_EQ_INT(cursor_read_vector(&o, 1, 0, 255, &i1), 0);
    CHECK_EQ_INT(i1.len, 3);
    CHECK_EQ_INT(cursor_read_vector(&o, 3, 0, 0xffffff, &i2), 0);
    CHECK_EQ_INT(i2.len, 2);
    CHECK_EQ_INT(cursor_read_vector(&o, 2, 0, 0xffff, &e), 0);
    CHECK_EQ_INT(e.len, 0);
    CHECK_EQ_INT(cursor_skip(&o, 2), 0);
    CHECK_EQ_INT(cursor_expect_end(&o), 0);
}

static void test_vector_overflow(void)
{
    uint8_t *buf = calloc(1, 70000);
    uint8_t body[256];
    cursor w;
    cursor_mark m;
    memset(body, 0x5a, sizeof body);

    /* 255 bytes fit a 1-byte prefix ... */
    cursor_init(&w, buf, 70000);
    CHECK_EQ_INT(cursor_open_vector(&w, 1, &m), 0);
    CHECK_EQ_INT(cursor_write_bytes(&w, body, 255), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &m), 0);
    CHECK_EQ_INT(buf[0], 0xff);
    /* ... 256 do not */
    cursor_init(&w, buf, 70000);
    CHECK_EQ_INT(cursor_open_vector(&w, 1, &m), 0);
    CHECK_EQ_INT(cursor_write_bytes(&w, body, 256), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &m), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_vector(&w, 1, body, 256), LATCH_ERR_INTERNAL);

    /* 2-byte prefix: 65535 fits, 65536 does not */
    cursor_init(&w, buf, 70000);
    CHECK_EQ_INT(cursor_open_vector(&w, 2, &m), 0);
    int ok = 1;
    for (int i = 0; i < 255; i++) /* 255 * 256 = 65280 */
        ok &= cursor_write_bytes(&w, body, 256) == 0;
    CHECK(ok);
    CHECK_EQ_INT(cursor_write_bytes(&w, body, 255), 0); /* 65535 */
    CHECK_EQ_INT(cursor_close_vector(&w, &m), 0);
    CHECK_EQ_INT(buf[0], 0xff);
    CHECK_EQ_INT(buf[1], 0xff);
    CHECK_EQ_INT(cursor_write_u8(&w, 0), 0);
    CHECK_EQ_INT(cursor_close_vector(&w, &m), LATCH_ERR_INTERNAL);
    free(buf);
}

static void test_write_capacity(void)
{
    uint8_t buf[9]; /* 8 usable bytes + a guard */
    cursor w;
    cursor_mark m;
    uint8_t *slot = NULL;

    memset(buf, 0xaa, sizeof buf);
    cursor_init(&w, buf, 8);
    CHECK_EQ_INT(cursor_write_u32(&w, 0x01020304), 0);
    CHECK_EQ_INT(cursor_write_u64(&w, 0x1111111111111111ull), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(w.off, 4);
    CHECK_EQ_INT(buf[4], 0xaa); /* nothing partially written */
    CHECK_EQ_INT(cursor_write_u24(&w, 0x050607), 0);
    CHECK_EQ_INT(cursor_write_u16(&w, 0x0809), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(buf[7], 0xaa);
    CHECK_EQ_INT(cursor_write_u8(&w, 0x08), 0);
    CHECK_EQ_INT(w.off, 8);
    /* full: every kind of write fails and leaves the guard alone */
    CHECK_EQ_INT(cursor_write_u8(&w, 0x99), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_u16(&w, 0x9999), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_u24(&w, 0x999999), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_u32(&w, 0x99999999), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_u64(&w, 0x9999999999999999ull), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_bytes(&w, "x", 1), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_reserve(&w, 1, &slot), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_open_vector(&w, 1, &m), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_vector(&w, 1, "", 0), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(cursor_write_bytes(&w, "", 0), 0); /* nothing is fine */
    CHECK_EQ_INT(w.off, 8);
    CHECK_EQ_INT(buf[8], 0xaa);
    static const uint8_t expected[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_MEM(buf, expected, 8);

    /* a vector whose prefix fits but whose body does not */
    memset(buf, 0xaa, sizeof buf);
    cursor_init(&w, buf, 8);
    CHECK_EQ_INT(cursor_write_vector(&w, 2, "abcdefg", 7), LATCH_ERR_INTERNAL);
    CHECK(w.off <= 8);
    CHECK_EQ_INT(buf[2], 0xaa); /* body not copied */
    CHECK_EQ_INT(buf[8], 0xaa);
    cursor_init(&w, buf, 8);
    CHECK_EQ_INT(cursor_write_vector(&w, 2, "abcdef", 6), 0);
    CHECK_EQ_INT(w.off, 8);
    CHECK_EQ_INT(buf[0], 0);
    CHECK_EQ_INT(buf[1], 6);
    CHECK_MEM(buf + 2, "abcdef", 6);
    CHECK_EQ_INT(buf[8], 0xaa);

    /* reserve past the end */
    cursor_init(&w, buf, 8);
    CHECK_EQ_INT(cursor_reserve(&w, 9, &slot), LATCH_ERR_INTERNAL);
    CHECK_EQ_INT(w.off, 0);
    CHECK_EQ_INT(cursor_reserve(&w, 8, &slot), 0);
    CHECK(slot == buf);
    CHECK_EQ_INT(w.off, 8);
}

/* ---- byte_queue ------------------------------------------------------- */

static void test_byte_queue(void)
{
    byte_queue q = {0};
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + 7);

    CHECK_EQ_INT(byte_queue_length(&q), 0);
    CHECK_EQ_INT(byte_queue_append(&q, data, 10), 0);
    CHECK_EQ_INT(byte_queue_length(&q), 10);
    CHECK_MEM(byte_queue_front(&q), data, 10);
    CHECK_EQ_INT(q.capacity, 1024);
    byte_queue_consume(&q, 4);
    CHECK_EQ_INT(byte_queue_length(&q), 6);
    CHECK_MEM(byte_queue_front(&q), data + 4, 6);
    CHECK_EQ_INT(byte_queue_append(&q, data + 10, 5), 0);
    CHECK_EQ_INT(byte_queue_length(&q), 11);
    CHECK_MEM(byte_queue_front(&q), data + 4, 11);
    /* consuming everything resets the positions */
    byte_queue_consume(&q, 11);
    CHECK_EQ_INT(byte_queue_length(&q), 0);
    CHECK_EQ_INT(q.start, 0);
    CHECK_EQ_INT(q.end, 0);
    CHECK_EQ_INT(byte_queue_append(&q, data, 0), 0);
    CHECK_EQ_INT(byte_queue_length(&q), 0);

    /* reserve + commit */
    uint8_t *dst = byte_queue_reserve(&q, 100);
    CHECK(dst != NULL);
    if (dst != NULL) {
        memcpy(dst, data, 100);
        CHECK_EQ_INT(byte_queue_length(&q), 0); /* not yet committed */
        byte_queue_commit(&q, 60);
        CHECK_EQ_INT(byte_queue_length(&q), 60);
        CHECK_MEM(byte_queue_front(&q), data, 60);
    }

    /* compaction: the front is consumed, the tail has no room, the total does */
    byte_queue_consume(&q, 60);
    CHECK_EQ_INT(byte_queue_append(&q, data, 1000), 0);
    CHECK_EQ_INT(q.capacity, 1024);
    byte_queue_consume(&q, 900);
    const uint8_t *before = q.data;
    CHECK_EQ_INT(byte_queue_append(&q, data + 1000, 500), 0);
    CHECK_EQ_INT(q.capacity, 1024); /* compacted, not grown */
    CHECK(q.data == before);
    CHECK_EQ_INT(q.start, 0);
    CHECK_EQ_INT(byte_queue_length(&q), 600);
    CHECK_MEM(byte_queue_front(&q), data + 900, 100);
    CHECK_MEM(byte_queue_front(&q) + 100, data + 1000, 500);

    /* growth keeps the contents */
    CHECK_EQ_INT(byte_queue_append(&q, data, 3000), 0);
    CHECK_EQ_INT(byte_queue_length(&q), 3600);
    CHECK(q.capacity >= 3600);
    CHECK_MEM(byte_queue_front(&q), data + 900, 100);
    CHECK_MEM(byte_queue_front(&q) + 600, data, 3000);
    byte_queue_free(&q);
    CHECK(q.data == NULL);
    CHECK_EQ_INT(q.capacity, 0);
    CHECK_EQ_INT(byte_queue_length(&q), 0);

    /* limit: growing past it is refused and nothing changes */
    byte_queue lim = {0};
    lim.limit = 2048;
    CHECK_EQ_INT(byte_queue_append(&lim, data, 2000), 0);
    CHECK_EQ_INT(byte_queue_append(&lim, data, 48), 0); /* exactly the limit */
    CHECK_EQ_INT(byte_queue_length(&lim), 2048);
    CHECK(byte_queue_append(&lim, data, 1) != 0);
    CHECK(byte_queue_reserve(&lim, 1) == NULL);
    CHECK_EQ_INT(byte_queue_length(&lim), 2048);
    CHECK_MEM(byte_queue_front(&lim) + 2000, data, 48);
    /* after consuming, the space can be used again (by compaction) */
    byte_queue_consume(&lim, 1000);
    CHECK_EQ_INT(byte_queue_append(&lim, data, 1000), 0);
    CHECK_EQ_INT(byte_queue_length(&lim), 2048);
    CHECK(byte_queue_append(&lim, data, 1) != 0);
    byte_queue_free(&lim);

    /* a single request beyond the limit on an empty queue */
    lim.limit = 100;
    CHECK(byte_queue_append(&lim, data, 101) != 0);
    CHECK(lim.data == NULL);
    CHECK_EQ_INT(byte_queue_append(&lim, data, 100), 0);
    CHECK_EQ_INT(byte_queue_length(&lim), 100);
    byte_queue_free(&lim);
}

int main(void)
{
    test_read_integers();
    test_short_reads();
    test_read_vectors();
    test_sub_cursor_isolation();
    test_expect_end();
    test_write_integers();
    test_vector_backpatching();
    test_vector_overflow();
    test_write_capacity();
    test_byte_queue();
    return check_finish();
}
