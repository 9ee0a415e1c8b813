/* The one table that maps each fault to its alert and its text. */
#include "util/error.h"

#include <stddef.h>

static const struct {
    int alert;
    const char *text;
} error_table[LATCH_ERR_COUNT] = {
    [LATCH_OK] = {-1, "success"},
    [LATCH_ERR_DECODE] = {LATCH_ALERT_DECODE_ERROR, "malformed message"},
    [LATCH_ERR_UNEXPECTED_MESSAGE] = {LATCH_ALERT_UNEXPECTED_MESSAGE, "unexpected message"},
    [LATCH_ERR_ILLEGAL_PARAMETER] = {LATCH_ALERT_ILLEGAL_PARAMETER, "illegal parameter"},
    [LATCH_ERR_HANDSHAKE_FAILURE] = {LATCH_ALERT_HANDSHAKE_FAILURE,
                                     "no acceptable parameters in common"},
    [LATCH_ERR_PROTOCOL_VERSION] = {LATCH_ALERT_PROTOCOL_VERSION,
                                    "peer's protocol version is refused"},
    [LATCH_ERR_BAD_RECORD_MAC] = {LATCH_ALERT_BAD_RECORD_MAC, "record failed authentication"},
    [LATCH_ERR_DECRYPT_ERROR] = {LATCH_ALERT_DECRYPT_ERROR,
                                 "signature or Finished verification failed"},
    [LATCH_ERR_RECORD_OVERFLOW] = {LATCH_ALERT_RECORD_OVERFLOW, "record too long"},
    [LATCH_ERR_NO_RENEGOTIATION] = {LATCH_ALERT_NO_RENEGOTIATION, "renegotiation refused"},
    [LATCH_ERR_UNSUPPORTED_EXTENSION] = {LATCH_ALERT_UNSUPPORTED_EXTENSION,
                                         "extension that was not offered"},
    [LATCH_ERR_NO_APPLICATION_PROTOCOL] = {LATCH_ALERT_NO_APPLICATION_PROTOCOL,
                                           "no application protocol in common"},
    [LATCH_ERR_UNRECOGNIZED_NAME] = {LATCH_ALERT_UNRECOGNIZED_NAME, "unrecognized server name"},
    [LATCH_ERR_INSUFFICIENT_SECURITY] = {LATCH_ALERT_INSUFFICIENT_SECURITY,
                                         "peer offers only insecure parameters"},
    [LATCH_ERR_BAD_CERTIFICATE] = {LATCH_ALERT_BAD_CERTIFICATE, "bad certificate"},
    [LATCH_ERR_UNSUPPORTED_CERTIFICATE] = {LATCH_ALERT_UNSUPPORTED_CERTIFICATE,
                                           "certificate not usable for this purpose"},
    [LATCH_ERR_CERTIFICATE_EXPIRED] = {LATCH_ALERT_CERTIFICATE_EXPIRED,
                                       "certificate expired or not yet valid"},
    [LATCH_ERR_UNKNOWN_CA] = {LATCH_ALERT_UNKNOWN_CA, "certificate not issued by a trusted CA"},
    [LATCH_ERR_CERTIFICATE_NAME] = {LATCH_ALERT_BAD_CERTIFICATE,
                                    "certificate does not match the host name"},
    [LATCH_ERR_MISSING_EXTENSION] = {LATCH_ALERT_MISSING_EXTENSION,
                                     "a required extension is missing"},
    [LATCH_ERR_CERTIFICATE_REQUIRED] = {LATCH_ALERT_CERTIFICATE_REQUIRED,
                                        "peer sent no certificate but one is required"},
    [LATCH_ERR_CERTIFICATE_UNKNOWN] = {LATCH_ALERT_CERTIFICATE_UNKNOWN,
                                       "certificate could not be accepted"},
    [LATCH_ERR_INTERNAL] = {LATCH_ALERT_INTERNAL_ERROR, "internal error"},
    [LATCH_ERR_PEER_ALERT] = {-1, "peer sent a fatal alert"},
    [LATCH_ERR_CLOSED] = {-1, "connection closed"},
    [LATCH_ERR_CONFIG] = {-1, "invalid configuration"},
    [LATCH_ERR_IO] = {-1, "I/O error"},
    [LATCH_ERR_WOULD_BLOCK] = {-1, "operation would block"},
};

const char *latch_error_string(latch_error err)
{
    if ((int)err < 0 || err >= LATCH_ERR_COUNT || error_table[err].text == NULL)
        return "unknown error";
    return error_table[err].text;
}

int latch_error_alert(latch_error err)
{
    if ((int)err < 0 || err >= LATCH_ERR_COUNT || error_table[err].text == NULL)
        return LATCH_ALERT_INTERNAL_ERROR;
    return error_table[err].alert;
}

static const struct {
    int description;
    const char *name;
} alert_names[] = {
    {0, "close_notify"},           {10, "unexpected_message"},
    {20, "bad_record_mac"},        {21, "decryption_failed"},
    {22, "record_overflow"},       {30, "decompression_failure"},
    {40, "handshake_failure"},     {41, "no_certificate"},
    {42, "bad_certificate"},       {43, "unsupported_certificate"},
    {44, "certificate_revoked"},   {45, "certificate_expired"},
    {46, "certificate_unknown"},   {47, "illegal_parameter"},
    {48, "unknown_ca"},            {49, "access_denied"},
    {50, "decode_error"},          {51, "decrypt_error"},
    {60, "export_restriction"},    {70, "protocol_version"},
    {71, "insufficient_security"}, {80, "internal_error"},
    {86, "inappropriate_fallback"}, {90, "user_canceled"},
    {100, "no_renegotiation"},     {109, "missing_extension"},
    {110, "unsupported_extension"}, {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"}, {115, "unknown_psk_identity"},
    {116, "certificate_required"}, {120, "no_application_protocol"},
};

const char *latch_alert_name(int description)
{
    for (size_t i = 0; i < sizeof alert_names / sizeof alert_names[0]; i++)
        if (alert_names[i].description == description)
            return alert_names[i].name;
    return "unknown";
}
