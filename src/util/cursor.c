#include "util/cursor.h"

#include <string.h>

#include "latch/latch.h"

void cursor_init(cursor *c, const uint8_t *data, size_t len)
{
    c->data = (uint8_t *)data;
    c->len = len;
    c->off = 0;
}

size_t cursor_remaining(const cursor *c) { return c->len - c->off; }

const uint8_t *cursor_position(const cursor *c) { return c->data + c->off; }

uint8_t *cursor_written(const cursor *c) { return c->data; }

static int read_uint(cursor *c, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (cursor_remaining(c) < n)
        return LATCH_ERR_DECODE;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | c->data[c->off + i];
    c->off += n;
    *out = v;
    return 0;
}

int cursor_read_u8(cursor *c, uint8_t *out)
{
    uint64_t v;
    int err = read_uint(c, 1, &v);
    if (err == 0)
        *out = (uint8_t)v;
    return err;
}

int cursor_read_u16(cursor *c, uint16_t *out)
{
    uint64_t v;
    int err = read_uint(c, 2, &v);
    if (err == 0)
        *out = (uint16_t)v;
    return err;
}

int cursor_read_u24(cursor *c, uint32_t *out)
{
    uint64_t v;
    int err = read_uint(c, 3, &v);
    if (err == 0)
        *out = (uint32_t)v;
    return err;
}

int cursor_read_u32(cursor *c, uint32_t *out)
{
    uint64_t v;
    int err = read_uint(c, 4, &v);
    if (err == 0)
        *out = (uint32_t)v;
    return err;
}

int cursor_read_u64(cursor *c, uint64_t *out) { return read_uint(c, 8, out); }

int cursor_read_bytes(cursor *c, const uint8_t **out, size_t n)
{
    if (cursor_remaining(c) < n)
        return LATCH_ERR_DECODE;
    *out = c->data + c->off;
    c->off += n;
    return 0;
}

int cursor_copy_bytes(cursor *c, uint8_t *out, size_t n)
{
    const uint8_t *p;
    int err = cursor_read_bytes(c, &p, n);
    if (err == 0 && n > 0)
        memcpy(out, p, n);
    return err;
}

int cursor_skip(cursor *c, size_t n)
{
    const uint8_t *p;
    return cursor_read_bytes(c, &p, n);
}

int cursor_read_vector(cursor *c, size_t prefix_len, size_t min, size_t max, cursor *sub)
{
    uint64_t n;
    const uint8_t *p;
    int err = read_uint(c, prefix_len, &n);
    if (err != 0)
        return err;
    if (n < min || n > max)
        return LATCH_ERR_DECODE;
    err = cursor_read_bytes(c, &p, (size_t)n);
    if (err != 0)
        return err;
    cursor_init(sub, p, (size_t)n);
    return 0;
}

int cursor_expect_end(const cursor *c) { return cursor_remaining(c) == 0 ? 0 : LATCH_ERR_DECODE; }

/* ---- writing ---- */

static int write_uint(cursor *c, size_t n, uint64_t v)
{
    if (c->len - c->off < n)
        return LATCH_ERR_INTERNAL;
    for (size_t i = 0; i < n; i++)
        c->data[c->off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    c->off += n;
    return 0;
}

int cursor_write_u8(cursor *c, uint8_t v) { return write_uint(c, 1, v); }
int cursor_write_u16(cursor *c, uint16_t v) { return write_uint(c, 2, v); }
int cursor_write_u24(cursor *c, uint32_t v) { return write_uint(c, 3, v); }
int cursor_write_u32(cursor *c, uint32_t v) { return write_uint(c, 4, v); }
int cursor_write_u64(cursor *c, uint64_t v) { return write_uint(c, 8, v); }

int cursor_reserve(cursor *c, size_t n, uint8_t **out)
{
    if (c->len - c->off < n)
        return LATCH_ERR_INTERNAL;
    *out = c->data + c->off;
    c->off += n;
    return 0;
}

int cursor_write_bytes(cursor *c, const void *bytes, size_t n)
{
    uint8_t *dst;
    int err = cursor_reserve(c, n, &dst);
    if (err == 0 && n > 0)
        memcpy(dst, bytes, n);
    return err;
}

int cursor_open_vector(cursor *c, size_t prefix_len, cursor_mark *mark)
{
    mark->at = c->off;
    mark->prefix_len = prefix_len;
    return write_uint(c, prefix_len, 0);
}

int cursor_close_vector(cursor *c, const cursor_mark *mark)
{
    size_t body = c->off - mark->at - mark->prefix_len;
    if (mark->prefix_len < 8 && body >> (8 * mark->prefix_len) != 0)
        return LATCH_ERR_INTERNAL;
    for (size_t i = 0; i < mark->prefix_len; i++)
        c->data[mark->at + i] = (uint8_t)(body >> (8 * (mark->prefix_len - 1 - i)));
    return 0;
}

int cursor_write_vector(cursor *c, size_t prefix_len, const void *bytes, size_t n)
{
    cursor_mark mark;
    int err = cursor_open_vector(c, prefix_len, &mark);
    if (err == 0)
        err = cursor_write_bytes(c, bytes, n);
    if (err == 0)
        err = cursor_close_vector(c, &mark);
    return err;
}
