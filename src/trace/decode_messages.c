/* Decoding the handshake messages after the hellos, for the tracer.  Every
 * read goes through the cursor; a body that does not parse is "malformed". */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "handshake/extensions.h"
#include "trace/trace_decode.h"

/* ---- Certificate ---- */

typedef struct certificate_summary {
    size_t count;
    const uint8_t *leaf;
    size_t leaf_length;
} certificate_summary;

/* TLS 1.2: certificate_list<3>.  TLS 1.3: request_context<1>, then entries
 * of cert_data<3> and extensions<2>.  0 if body parses to its end. */
static int certificate_layout(const uint8_t *body, size_t length, int tls13,
                              certificate_summary *summary)
{
    cursor c, context, list;
    memset(summary, 0, sizeof *summary);
    cursor_init(&c, body, length);
    if (tls13 && trace_read_vector(&c, 1, &context) != 0)
        return -1;
    if (trace_read_vector(&c, 3, &list) != 0 || cursor_expect_end(&c) != 0)
        return -1;
    while (cursor_remaining(&list) > 0) {
        cursor certificate, extensions;
        if (trace_read_vector(&list, 3, &certificate) != 0)
            return -1;
        if (tls13 && trace_read_vector(&list, 2, &extensions) != 0)
            return -1;
        if (summary->count++ == 0) {
            summary->leaf = cursor_position(&certificate);
            summary->leaf_length = cursor_remaining(&certificate);
        }
    }
    return 0;
}

static void add_x509_name(trace_fields *out, const char *key, const char *label,
                          const X509_NAME *name)
{
    char text[512];
    if (name == NULL || X509_NAME_oneline(name, text, sizeof text) == NULL)
        return;
    trace_add_wire_text(out, key, label, (const uint8_t *)text, strlen(text));
}

static void add_leaf_fields(trace_fields *out, const uint8_t *der, size_t length)
{
    const unsigned char *p = der;
    X509 *leaf = d2i_X509(NULL, &p, (long)length);
    EVP_PKEY *key;
    char text[96];
    if (leaf == NULL) {
        trace_add_text(out, "subject", "leaf {}", "(not parseable)");
        return;
    }
    add_x509_name(out, "subject", "leaf {}", X509_get_subject_name(leaf));
    add_x509_name(out, "issuer", "issued by {}", X509_get_issuer_name(leaf));
    key = X509_get0_pubkey(leaf);
    if (key != NULL) {
        const char *type = EVP_PKEY_get0_type_name(key);
        snprintf(text, sizeof text, "%s %d-bit", type ? type : "?", EVP_PKEY_get_bits(key));
        trace_add_text(out, "public_key", "{} key", text);
    }
    X509_free(leaf);
}

static void decode_certificate(trace_decode_state *state, const uint8_t *body, size_t length,
                               trace_fields *out)
{
    certificate_summary summary;
    int tls13 = state->version == LATCH_VERSION_TLS13;
    int parsed = certificate_layout(body, length, tls13, &summary) == 0;
    if (!parsed && state->version != LATCH_VERSION_TLS12 && state->version != LATCH_VERSION_TLS13)
        parsed = certificate_layout(body, length, !tls13, &summary) == 0;
    if (!parsed) {
        out->malformed = 1;
        return;
    }
    trace_add_number(out, "certificates", "{} certificates", summary.count);
    if (summary.leaf != NULL)
        add_leaf_fields(out, summary.leaf, summary.leaf_length);
}

/* ---- key exchange and signatures ---- */

/* SignatureScheme and signature<2>; length_label shows the size in the table. */
static void add_signature(trace_fields *out, cursor *c, const char *length_label)
{
    uint16_t scheme;
    cursor signature;
    char name[64];
    if (cursor_read_u16(c, &scheme) != 0 || trace_read_vector(c, 2, &signature) != 0) {
        out->malformed = 1;
        return;
    }
    trace_scheme_name(scheme, name, sizeof name);
    trace_add_text(out, "signature_scheme", "signed with {}", name);
    trace_add_number(out, "signature_length", length_label, cursor_remaining(&signature));
    out->malformed = cursor_expect_end(c) != 0;
}

/* ECDHE parameters (RFC 8422 5.4): curve_type 3, named group, point, signature. */
static void decode_server_key_exchange(const uint8_t *body, size_t length, trace_fields *out)
{
    cursor c, point;
    uint8_t curve_type;
    uint16_t group;
    char name[64];
    cursor_init(&c, body, length);
    if (cursor_read_u8(&c, &curve_type) != 0 || curve_type != 3 ||
        cursor_read_u16(&c, &group) != 0 || trace_read_vector(&c, 1, &point) != 0) {
        out->malformed = 1;
        return;
    }
    trace_group_name(group, name, sizeof name);
    trace_add_text(out, "group", "group {}", name);
    trace_add_number(out, "public_key_length", "public key {} B", cursor_remaining(&point));
    add_signature(out, &c, NULL);
}

/* ECDHE: the client's point<1>; RSA: the encrypted premaster secret<2>. */
static void decode_client_key_exchange(const uint8_t *body, size_t length, trace_fields *out)
{
    cursor c, value;
    cursor_init(&c, body, length);
    if (trace_read_vector(&c, 1, &value) == 0 && cursor_expect_end(&c) == 0) {
        trace_add_number(out, "public_key_length", "public key {} B", cursor_remaining(&value));
        return;
    }
    cursor_init(&c, body, length);
    if (trace_read_vector(&c, 2, &value) == 0 && cursor_expect_end(&c) == 0) {
        trace_add_number(out, "encrypted_premaster_length", "RSA-encrypted premaster {} B",
                         cursor_remaining(&value));
        return;
    }
    out->malformed = 1;
}

static void decode_certificate_verify(const uint8_t *body, size_t length, trace_fields *out)
{
    cursor c;
    cursor_init(&c, body, length);
    add_signature(out, &c, "signature {} B");
}

/* ---- tickets, key updates, extensions, certificate requests ---- */

static void decode_new_session_ticket(trace_decode_state *state, const uint8_t *body,
                                      size_t length, trace_fields *out)
{
    cursor c, nonce, ticket, extensions;
    uint32_t lifetime, age_add;
    int tls13 = state->version == LATCH_VERSION_TLS13 ||
                (state->version == 0 && length >= 8 + 1 + 2 + 2);
    cursor_init(&c, body, length);
    if (cursor_read_u32(&c, &lifetime) != 0 ||
        (tls13 && (cursor_read_u32(&c, &age_add) != 0 ||
                   trace_read_vector(&c, 1, &nonce) != 0)) ||
        trace_read_vector(&c, 2, &ticket) != 0 ||
        (tls13 && trace_read_vector(&c, 2, &extensions) != 0)) {
        out->malformed = 1;
        return;
    }
    trace_add_number(out, "lifetime", "lifetime {} s", lifetime);
    trace_add_number(out, "ticket_length", "ticket {} B", cursor_remaining(&ticket));
    out->malformed = cursor_expect_end(&c) != 0;
}

static void decode_key_update(const uint8_t *body, size_t length, trace_fields *out)
{
    cursor c;
    uint8_t request;
    cursor_init(&c, body, length);
    if (cursor_read_u8(&c, &request) != 0 || cursor_expect_end(&c) != 0 || request > 1) {
        out->malformed = 1;
        return;
    }
    trace_add_text(out, "request_update", "{}",
                   request ? "update_requested" : "update_not_requested");
}

static void decode_encrypted_extensions(const uint8_t *body, size_t length, trace_fields *out)
{
    cursor c, extensions, data, list;
    int failed = 0;
    cursor_init(&c, body, length);
    if (trace_read_vector(&c, 2, &extensions) != 0 || cursor_expect_end(&c) != 0) {
        out->malformed = 1;
        return;
    }
    if (trace_find_extension(&extensions, EXT_ALPN, &data))
        failed |= trace_add_alpn_list(out, "ALPN {}", &data) != 0;
    trace_add_bool(out, "sni_acknowledged", "SNI acknowledged",
                   trace_find_extension(&extensions, EXT_SERVER_NAME, &data));
    trace_add_bool(out, "early_data", "early data accepted",
                   trace_find_extension(&extensions, EXT_EARLY_DATA, &data));
    if (trace_find_extension(&extensions, EXT_SUPPORTED_GROUPS, &data))
        failed |= trace_read_vector(&data, 2, &list) != 0 ||
                  trace_add_u16_list(out, "groups", NULL, &list, trace_group_name) != 0;
    failed |= trace_list_extensions(out, &extensions) != 0;
    out->malformed = failed;
}

/* TLS 1.2: certificate_types<1>, signature schemes<2>, authorities<2>.
 * TLS 1.3: request_context<1>, extensions<2> (signature_algorithms inside). */
static void decode_certificate_request(trace_decode_state *state, const uint8_t *body,
                                       size_t length, trace_fields *out)
{
    cursor c, first, schemes, rest;
    int tls13 = state->version == LATCH_VERSION_TLS13;
    cursor_init(&c, body, length);
    if (trace_read_vector(&c, 1, &first) != 0 || trace_read_vector(&c, 2, &rest) != 0) {
        out->malformed = 1;
        return;
    }
    if (tls13) {
        cursor extensions = rest;
        if (trace_find_extension(&extensions, EXT_SIGNATURE_ALGORITHMS, &rest) &&
            trace_read_vector(&rest, 2, &schemes) == 0)
            out->malformed |= trace_add_u16_list(out, "signature_schemes",
                                                 "{n} signature schemes", &schemes,
                                                 trace_scheme_name) != 0;
        out->malformed |= trace_list_extensions(out, &extensions) != 0;
        out->malformed |= cursor_expect_end(&c) != 0;
        return;
    }
    out->malformed |= trace_add_u16_list(out, "signature_schemes", "{n} signature schemes",
                                         &rest, trace_scheme_name) != 0;
    if (trace_read_vector(&c, 2, &rest) != 0 || cursor_expect_end(&c) != 0)
        out->malformed = 1;
    else
        trace_add_number(out, "authorities_length", NULL, cursor_remaining(&rest));
}

static void expect_empty(size_t length, trace_fields *out) { out->malformed = length != 0; }

void trace_decode_message(trace_decode_state *state, uint8_t handshake_type,
                          const uint8_t *body, size_t length, trace_fields *out)
{
    trace_fields_reset(out);
    if (body == NULL)
        length = 0;
    switch (handshake_type) {
    case 0: case 5: case 14: expect_empty(length, out); break;
    case 1: trace_decode_client_hello(state, body, length, out); break;
    case 2: trace_decode_server_hello(state, body, length, out); break;
    case 4: decode_new_session_ticket(state, body, length, out); break;
    case 8: decode_encrypted_extensions(body, length, out); break;
    case 11: decode_certificate(state, body, length, out); break;
    case 12: decode_server_key_exchange(body, length, out); break;
    case 13: decode_certificate_request(state, body, length, out); break;
    case 15: decode_certificate_verify(body, length, out); break;
    case 16: decode_client_key_exchange(body, length, out); break;
    case 20: trace_add_number(out, "verify_data_length", "verify_data {} B", length); break;
    case 24: decode_key_update(body, length, out); break;
    default: break;
    }
}
