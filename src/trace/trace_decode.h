/* Helpers shared by the tracer's message decoders.  Not a public header. */
#ifndef LATCH_TRACE_DECODE_H
#define LATCH_TRACE_DECODE_H

#include "trace/trace_internal.h"
#include "util/cursor.h"

typedef void (*trace_namer)(uint16_t value, char *out, size_t out_size);

/* A vector of any length with a prefix_len-byte length. */
int trace_read_vector(cursor *c, size_t prefix_len, cursor *sub);
/* 1 and the extension's body if the extensions block holds type. */
int trace_find_extension(const cursor *block, uint16_t type, cursor *body);
/* Add the "extensions" list (names); -1 if the block is malformed. */
int trace_list_extensions(trace_fields *out, const cursor *block);
/* A list of u16 values (no length prefix: the whole of list) named by namer. */
int trace_add_u16_list(trace_fields *out, const char *key, const char *label, cursor *list,
                       trace_namer namer);
/* An ALPN extension body (ProtocolNameList) as the "alpn" list. */
int trace_add_alpn_list(trace_fields *out, const char *label, cursor *data);
void trace_extension_name(uint16_t type, char *out, size_t out_size);

#endif
