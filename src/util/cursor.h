/*
 * The cursor: the one way latch reads and writes wire bytes.
 *
 * A cursor is a window [data, data+len) with a position.  Every read is
 * bounds-checked: a short read fails with LATCH_ERR_DECODE and never reads
 * past the window.  Writing uses the same type; a length prefix is opened
 * with cursor_open_vector() and back-patched by cursor_close_vector().
 */
#ifndef LATCH_CURSOR_H
#define LATCH_CURSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct cursor {
    uint8_t *data;
    size_t len;  /* readable bytes (reader) or capacity (writer) */
    size_t off;  /* read position / bytes written */
} cursor;

/* A position of an open length prefix while writing. */
typedef struct cursor_mark {
    size_t at;          /* where the prefix starts */
    size_t prefix_len;  /* 1, 2 or 3 bytes */
} cursor_mark;

void cursor_init(cursor *c, const uint8_t *data, size_t len);
size_t cursor_remaining(const cursor *c);
/* Pointer to the unread bytes (for hashing a whole window, say). */
const uint8_t *cursor_position(const cursor *c);

/* ---- reading: 0 or LATCH_ERR_DECODE ---- */
int cursor_read_u8(cursor *c, uint8_t *out);
int cursor_read_u16(cursor *c, uint16_t *out);
int cursor_read_u24(cursor *c, uint32_t *out);
int cursor_read_u32(cursor *c, uint32_t *out);
int cursor_read_u64(cursor *c, uint64_t *out);
/* Borrow n bytes (no copy). */
int cursor_read_bytes(cursor *c, const uint8_t **out, size_t n);
int cursor_copy_bytes(cursor *c, uint8_t *out, size_t n);
int cursor_skip(cursor *c, size_t n);
/* A vector with a prefix_len-byte length, min <= length <= max, as a
 * sub-cursor over its contents. */
int cursor_read_vector(cursor *c, size_t prefix_len, size_t min, size_t max, cursor *sub);
/* Nothing may be left over. */
int cursor_expect_end(const cursor *c);

/* ---- writing: 0 or LATCH_ERR_INTERNAL (capacity exceeded) ---- */
int cursor_write_u8(cursor *c, uint8_t v);
int cursor_write_u16(cursor *c, uint16_t v);
int cursor_write_u24(cursor *c, uint32_t v);
int cursor_write_u32(cursor *c, uint32_t v);
int cursor_write_u64(cursor *c, uint64_t v);
int cursor_write_bytes(cursor *c, const void *bytes, size_t n);
/* Reserve room for n bytes, returning where to write them. */
int cursor_reserve(cursor *c, size_t n, uint8_t **out);
int cursor_open_vector(cursor *c, size_t prefix_len, cursor_mark *mark);
int cursor_close_vector(cursor *c, const cursor_mark *mark);
/* Write a whole vector: prefix then bytes. */
int cursor_write_vector(cursor *c, size_t prefix_len, const void *bytes, size_t n);
/* Bytes written so far start here. */
uint8_t *cursor_written(const cursor *c);

#endif
