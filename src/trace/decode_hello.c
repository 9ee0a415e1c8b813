/* Decoding ClientHello and ServerHello bodies for the tracer: what was
 * offered, what was chosen.  Every read goes through the cursor. */
#include <stdio.h>
#include <string.h>

#include "handshake/extensions.h"
#include "handshake/handshake13.h"
#include "trace/trace_decode.h"
#include "util/cursor.h"

int trace_read_vector(cursor *c, size_t prefix_len, cursor *sub)
{
    return cursor_read_vector(c, prefix_len, 0, 0xffffffu, sub);
}

int trace_find_extension(const cursor *block, uint16_t type, cursor *body)
{
    cursor walk = *block;
    while (cursor_remaining(&walk) > 0) {
        uint16_t found;
        cursor data;
        if (cursor_read_u16(&walk, &found) != 0 || trace_read_vector(&walk, 2, &data) != 0)
            return 0;
        if (found == type) {
            *body = data;
            return 1;
        }
    }
    return 0;
}

int trace_list_extensions(trace_fields *out, const cursor *block)
{
    cursor walk = *block;
    size_t list = trace_list_begin(out, "extensions", NULL);
    while (cursor_remaining(&walk) > 0) {
        uint16_t type;
        cursor data;
        char name[48];
        if (cursor_read_u16(&walk, &type) != 0 || trace_read_vector(&walk, 2, &data) != 0)
            return -1;
        trace_extension_name(type, name, sizeof name);
        trace_list_add(out, list, name);
    }
    return 0;
}

int trace_add_u16_list(trace_fields *out, const char *key, const char *label, cursor *list,
                       trace_namer namer)
{
    size_t index = trace_list_begin(out, key, label);
    while (cursor_remaining(list) >= 2) {
        uint16_t value;
        char name[64];
        (void)cursor_read_u16(list, &value);
        namer(value, name, sizeof name);
        trace_list_add(out, index, name);
    }
    return cursor_expect_end(list);
}

int trace_add_alpn_list(trace_fields *out, const char *label, cursor *data)
{
    cursor names;
    size_t index;
    if (trace_read_vector(data, 2, &names) != 0)
        return -1;
    index = trace_list_begin(out, "alpn", label);
    while (cursor_remaining(&names) > 0) {
        cursor name;
        if (trace_read_vector(&names, 1, &name) != 0)
            return -1;
        trace_list_add_wire_text(out, index, cursor_position(&name), cursor_remaining(&name));
    }
    return cursor_expect_end(data);
}

/* ---- ClientHello ---- */

static int client_versions(trace_fields *out, const cursor *extensions, uint16_t legacy)
{
    cursor data, list;
    char name[32];
    if (!trace_find_extension(extensions, EXT_SUPPORTED_VERSIONS, &data)) {
        size_t index = trace_list_begin(out, "versions", "offers {}");
        trace_version_name(legacy, name, sizeof name);
        trace_list_add(out, index, name);
        return 0;
    }
    if (trace_read_vector(&data, 1, &list) != 0)
        return -1;
    return trace_add_u16_list(out, "versions", "offers {}", &list, trace_version_name);
}

static int client_groups_and_shares(trace_fields *out, const cursor *extensions)
{
    cursor data, list;
    if (trace_find_extension(extensions, EXT_SUPPORTED_GROUPS, &data)) {
        if (trace_read_vector(&data, 2, &list) != 0 ||
            trace_add_u16_list(out, "groups", "groups {}", &list, trace_group_name) != 0)
            return -1;
    }
    if (trace_find_extension(extensions, EXT_KEY_SHARE, &data)) {
        size_t index;
        if (trace_read_vector(&data, 2, &list) != 0)
            return -1;
        index = trace_list_begin(out, "key_share_groups", "key share {}");
        while (cursor_remaining(&list) > 0) {
            uint16_t group;
            cursor key;
            char name[64];
            if (cursor_read_u16(&list, &group) != 0 || trace_read_vector(&list, 2, &key) != 0)
                return -1;
            trace_group_name(group, name, sizeof name);
            trace_list_add(out, index, name);
        }
    }
    return 0;
}

static int client_server_name(trace_fields *out, const cursor *extensions)
{
    cursor data, list;
    if (!trace_find_extension(extensions, EXT_SERVER_NAME, &data))
        return 0;
    if (trace_read_vector(&data, 2, &list) != 0)
        return -1;
    while (cursor_remaining(&list) > 0) {
        uint8_t type;
        cursor name;
        if (cursor_read_u8(&list, &type) != 0 || trace_read_vector(&list, 2, &name) != 0)
            return -1;
        if (type == 0) { /* host_name */
            trace_add_wire_text(out, "sni", "SNI {}", cursor_position(&name),
                                cursor_remaining(&name));
            return 0;
        }
    }
    return 0;
}

static int client_extension_fields(trace_fields *out, const cursor *extensions)
{
    cursor data, list;
    int failed = client_groups_and_shares(out, extensions) != 0;
    failed |= client_server_name(out, extensions) != 0;
    if (trace_find_extension(extensions, EXT_ALPN, &data))
        failed |= trace_add_alpn_list(out, "ALPN {}", &data) != 0;
    trace_add_bool(out, "ems", "EMS offered",
                   trace_find_extension(extensions, EXT_EXTENDED_MASTER_SECRET, &data));
    trace_add_bool(out, "renegotiation_info", NULL,
                   trace_find_extension(extensions, EXT_RENEGOTIATION_INFO, &data));
    trace_add_bool(out, "session_ticket", NULL,
                   trace_find_extension(extensions, EXT_SESSION_TICKET, &data));
    trace_add_bool(out, "psk", "PSK offered",
                   trace_find_extension(extensions, EXT_PRE_SHARED_KEY, &data));
    if (trace_find_extension(extensions, EXT_SIGNATURE_ALGORITHMS, &data))
        failed |= trace_read_vector(&data, 2, &list) != 0 ||
                  trace_add_u16_list(out, "signature_schemes", NULL, &list,
                                     trace_scheme_name) != 0;
    return failed ? -1 : 0;
}

void trace_decode_client_hello(trace_decode_state *state, const uint8_t *body, size_t length,
                               trace_fields *out)
{
    cursor c, session_id, suites, compression, extensions;
    uint16_t legacy_version;
    char name[32];
    (void)state;
    cursor_init(&c, body, length);
    cursor_init(&extensions, NULL, 0);
    if (cursor_read_u16(&c, &legacy_version) != 0 || cursor_skip(&c, 32) != 0 ||
        trace_read_vector(&c, 1, &session_id) != 0 || trace_read_vector(&c, 2, &suites) != 0 ||
        trace_read_vector(&c, 1, &compression) != 0 ||
        (cursor_remaining(&c) > 0 && trace_read_vector(&c, 2, &extensions) != 0)) {
        out->malformed = 1;
        return;
    }
    int failed = cursor_expect_end(&c) != 0;
    failed |= client_versions(out, &extensions, legacy_version) != 0;
    failed |= trace_add_u16_list(out, "suites", "{n} suites: {}", &suites, trace_suite_name) != 0;
    failed |= client_extension_fields(out, &extensions) != 0;
    trace_add_number(out, "session_id_length", "session id {} B", cursor_remaining(&session_id));
    trace_version_name(legacy_version, name, sizeof name);
    trace_add_text(out, "legacy_version", NULL, name);
    failed |= trace_list_extensions(out, &extensions) != 0;
    out->malformed = failed;
}

/* ---- ServerHello (and HelloRetryRequest) ---- */

static int server_key_share(trace_fields *out, const cursor *extensions, int retry)
{
    cursor data, key;
    uint16_t group;
    char name[64];
    if (!trace_find_extension(extensions, EXT_KEY_SHARE, &data))
        return 0;
    if (cursor_read_u16(&data, &group) != 0)
        return -1;
    trace_group_name(group, name, sizeof name);
    trace_add_text(out, "group", retry ? "asks for key share {}" : "key share {}", name);
    if (retry) /* a HelloRetryRequest names the group only */
        return cursor_expect_end(&data);
    if (trace_read_vector(&data, 2, &key) != 0)
        return -1;
    trace_add_number(out, "public_key_length", NULL, cursor_remaining(&key));
    return cursor_expect_end(&data);
}

static int server_extension_fields(trace_fields *out, const cursor *extensions, int retry)
{
    cursor data;
    uint16_t identity;
    int failed = server_key_share(out, extensions, retry) != 0;
    if (trace_find_extension(extensions, EXT_ALPN, &data))
        failed |= trace_add_alpn_list(out, "ALPN {}", &data) != 0;
    trace_add_bool(out, "ems", "EMS accepted",
                   trace_find_extension(extensions, EXT_EXTENDED_MASTER_SECRET, &data));
    trace_add_bool(out, "secure_renegotiation", "renegotiation_info accepted",
                   trace_find_extension(extensions, EXT_RENEGOTIATION_INFO, &data));
    if (trace_find_extension(extensions, EXT_PRE_SHARED_KEY, &data)) {
        failed |= cursor_read_u16(&data, &identity) != 0;
        if (!failed)
            trace_add_number(out, "psk_identity", "resumes with PSK {}", identity);
    }
    trace_add_bool(out, "cookie", NULL, trace_find_extension(extensions, EXT_COOKIE, &data));
    return failed ? -1 : 0;
}

/* The chosen version: supported_versions if present, else the legacy field. */
static int server_version(const cursor *extensions, uint16_t legacy, uint16_t *version)
{
    cursor data;
    *version = legacy;
    if (!trace_find_extension(extensions, EXT_SUPPORTED_VERSIONS, &data))
        return 0;
    if (cursor_read_u16(&data, version) != 0)
        return -1;
    return cursor_expect_end(&data);
}

void trace_decode_server_hello(trace_decode_state *state, const uint8_t *body, size_t length,
                               trace_fields *out)
{
    cursor c, session_id, extensions;
    const uint8_t *random;
    uint16_t legacy_version, version, suite;
    uint8_t compression;
    char name[64];
    cursor_init(&c, body, length);
    cursor_init(&extensions, NULL, 0);
    if (cursor_read_u16(&c, &legacy_version) != 0 || cursor_read_bytes(&c, &random, 32) != 0 ||
        trace_read_vector(&c, 1, &session_id) != 0 || cursor_read_u16(&c, &suite) != 0 ||
        cursor_read_u8(&c, &compression) != 0 ||
        (cursor_remaining(&c) > 0 && trace_read_vector(&c, 2, &extensions) != 0)) {
        out->malformed = 1;
        return;
    }
    int retry = memcmp(random, tls13_hello_retry_random, 32) == 0;
    int failed = cursor_expect_end(&c) != 0;
    failed |= server_version(&extensions, legacy_version, &version) != 0;
    state->version = version;
    trace_version_name(version, name, sizeof name);
    trace_add_text(out, "version", "chose {}", name);
    trace_suite_name(suite, name, sizeof name);
    trace_add_text(out, "suite", "{}", name);
    trace_add_bool(out, "hello_retry_request", "HelloRetryRequest", retry);
    failed |= server_extension_fields(out, &extensions, retry) != 0;
    trace_add_number(out, "session_id_length", NULL, cursor_remaining(&session_id));
    failed |= trace_list_extensions(out, &extensions) != 0;
    out->malformed = failed;
}
