/* Names for wire numbers, falling back to hex for what latch does not know. */
#include <stdio.h>
#include <string.h>

#include "handshake/extensions.h"
#include "trace/trace_decode.h"

/* RFC 8701: 0x?a?a values are GREASE, sent to keep peers tolerant. */
static int is_grease(uint16_t value)
{
    return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
}

static void name_or_hex(const char *name, uint16_t value, char *out, size_t out_size)
{
    if (name != NULL && strcmp(name, "unknown") != 0)
        snprintf(out, out_size, "%s", name);
    else if (is_grease(value))
        snprintf(out, out_size, "GREASE");
    else
        snprintf(out, out_size, "0x%04x", value);
}

void trace_version_name(uint16_t version, char *out, size_t out_size)
{
    const char *name = NULL;
    switch (version) {
    case 0x0300: name = "SSL 3.0"; break;
    case LATCH_VERSION_TLS10: name = "TLS 1.0"; break;
    case LATCH_VERSION_TLS11: name = "TLS 1.1"; break;
    case LATCH_VERSION_TLS12: name = "TLS 1.2"; break;
    case LATCH_VERSION_TLS13: name = "TLS 1.3"; break;
    default: break;
    }
    name_or_hex(name, version, out, out_size);
}

void trace_suite_name(uint16_t suite, char *out, size_t out_size)
{
    const char *name = latch_cipher_suite_name(suite);
    if (suite == SUITE_EMPTY_RENEGOTIATION_INFO_SCSV)
        name = "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
    else if (suite == SUITE_FALLBACK_SCSV)
        name = "TLS_FALLBACK_SCSV";
    name_or_hex(name, suite, out, out_size);
}

void trace_group_name(uint16_t group, char *out, size_t out_size)
{
    const char *name = latch_group_name(group);
    switch (group) {
    case 0x0019: name = "secp521r1"; break;
    case 0x001e: name = "x448"; break;
    case 0x0100: name = "ffdhe2048"; break;
    case 0x0101: name = "ffdhe3072"; break;
    case 0x11ec: name = "X25519MLKEM768"; break;
    default: break;
    }
    name_or_hex(name, group, out, out_size);
}

void trace_scheme_name(uint16_t scheme, char *out, size_t out_size)
{
    name_or_hex(latch_signature_scheme_name(scheme), scheme, out, out_size);
}

static const struct {
    uint16_t type;
    const char *name;
} extension_names[] = {
    {EXT_SERVER_NAME, "server_name"},
    {5, "status_request"},
    {EXT_SUPPORTED_GROUPS, "supported_groups"},
    {EXT_EC_POINT_FORMATS, "ec_point_formats"},
    {EXT_SIGNATURE_ALGORITHMS, "signature_algorithms"},
    {EXT_ALPN, "application_layer_protocol_negotiation"},
    {18, "signed_certificate_timestamp"},
    {21, "padding"},
    {EXT_ENCRYPT_THEN_MAC, "encrypt_then_mac"},
    {EXT_EXTENDED_MASTER_SECRET, "extended_master_secret"},
    {27, "compress_certificate"},
    {28, "record_size_limit"},
    {EXT_SESSION_TICKET, "session_ticket"},
    {EXT_PRE_SHARED_KEY, "pre_shared_key"},
    {EXT_EARLY_DATA, "early_data"},
    {EXT_SUPPORTED_VERSIONS, "supported_versions"},
    {EXT_COOKIE, "cookie"},
    {EXT_PSK_KEY_EXCHANGE_MODES, "psk_key_exchange_modes"},
    {49, "post_handshake_auth"},
    {50, "signature_algorithms_cert"},
    {EXT_KEY_SHARE, "key_share"},
    {0xfe0d, "encrypted_client_hello"},
    {EXT_RENEGOTIATION_INFO, "renegotiation_info"},
};

void trace_extension_name(uint16_t type, char *out, size_t out_size)
{
    for (size_t i = 0; i < sizeof extension_names / sizeof extension_names[0]; i++)
        if (extension_names[i].type == type) {
            snprintf(out, out_size, "%s", extension_names[i].name);
            return;
        }
    name_or_hex(NULL, type, out, out_size);
}
