#include "handshake/extensions.h"

#include <arpa/inet.h>
#include <string.h>

#include "handshake/handshake.h"
#include "handshake/suites.h"
#include "util/error.h"

#define MAX_EXTENSIONS 64

int extensions_walk(latch_conn *c, cursor *block, extension_handler handler)
{
    uint16_t seen[MAX_EXTENSIONS];
    size_t seen_count = 0;
    while (cursor_remaining(block) > 0) {
        uint16_t type;
        cursor data;
        TRY(cursor_read_u16(block, &type));
        TRY(cursor_read_vector(block, 2, 0, 0xffff, &data));
        for (size_t i = 0; i < seen_count; i++)
            if (seen[i] == type)
                return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                                   "extension %u appears twice", type);
        if (seen_count == MAX_EXTENSIONS)
            return engine_fail(c, LATCH_ERR_DECODE, "too many extensions");
        seen[seen_count++] = type;
        TRY(handler(c, type, &data));
        if (cursor_remaining(&data) != 0)
            return engine_fail(c, LATCH_ERR_DECODE, "extension %u has trailing bytes", type);
    }
    return 0;
}

int read_u16_list(cursor *data, uint16_t *out, size_t max, size_t *count)
{
    cursor list;
    TRY(cursor_read_vector(data, 2, 2, 0xfffe, &list));
    if (cursor_remaining(&list) % 2 != 0)
        return LATCH_ERR_DECODE;
    *count = 0;
    while (cursor_remaining(&list) > 0) {
        uint16_t v;
        TRY(cursor_read_u16(&list, &v));
        if (*count < max)
            out[(*count)++] = v;
    }
    return 0;
}

int is_ip_literal(const char *name)
{
    uint8_t addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* ---- encrypt-then-MAC (RFC 7366) ---- */

/* RFC 7366 2: offered in a ClientHello that offers a CBC suite. */
int client_offers_encrypt_then_mac(const latch_config *cfg)
{
    if (!cfg->encrypt_then_mac || cfg->min_version > LATCH_VERSION_TLS12)
        return 0;
    for (size_t i = 0; i < cfg->suite_count; i++) {
        const latch_suite *s = suite_find(cfg->suites[i]);
        if (s != NULL && s->record == RECORD_CBC)
            return 1;
    }
    return 0;
}

/* RFC 7366 3: "If a server receives an encrypt-then-MAC request extension
 * from a client and then selects a stream or AEAD cipher suite, it MUST NOT
 * send an encrypt-then-MAC response extension"; with a CBC suite latch
 * always accepts it. */
int server_encrypt_then_mac(const latch_conn *c, const latch_suite *suite)
{
    return c->config->encrypt_then_mac && c->hs->peer.encrypt_then_mac && suite != NULL &&
           suite->record == RECORD_CBC;
}

int client_encrypt_then_mac_check(latch_conn *c)
{
    if (c->hs->peer.encrypt_then_mac && c->suite->record != RECORD_CBC)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server answered encrypt_then_mac for %s, not a CBC suite",
                           c->suite->name);
    c->encrypt_then_mac = c->hs->peer.encrypt_then_mac;
    return 0;
}

/* ---- client writes ---- */

static int write_u16_list_extension(cursor *out, uint16_t type, const uint16_t *ids,
                                    size_t count)
{
    cursor_mark ext, list;
    TRY(cursor_write_u16(out, type));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_open_vector(out, 2, &list));
    for (size_t i = 0; i < count; i++)
        TRY(cursor_write_u16(out, ids[i]));
    TRY(cursor_close_vector(out, &list));
    return cursor_close_vector(out, &ext);
}

static int write_server_name(latch_conn *c, cursor *out)
{
    cursor_mark ext, list;
    size_t n = strlen(c->server_name);
    if (n == 0 || is_ip_literal(c->server_name)) /* RFC 6066 3: no IP literals */
        return 0;
    TRY(cursor_write_u16(out, EXT_SERVER_NAME));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_open_vector(out, 2, &list));
    TRY(cursor_write_u8(out, 0)); /* host_name */
    TRY(cursor_write_vector(out, 2, c->server_name, n));
    TRY(cursor_close_vector(out, &list));
    return cursor_close_vector(out, &ext);
}

/* supported_versions, key_share and (after a retry) cookie: RFC 8446 4.2 */
static int write_tls13_extensions(latch_conn *c, cursor *out)
{
    const latch_config *cfg = c->config;
    cursor_mark ext, list;
    TRY(cursor_write_u16(out, EXT_SUPPORTED_VERSIONS));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_open_vector(out, 1, &list));
    TRY(cursor_write_u16(out, LATCH_VERSION_TLS13));
    if (cfg->min_version <= LATCH_VERSION_TLS12)
        TRY(cursor_write_u16(out, LATCH_VERSION_TLS12));
    TRY(cursor_close_vector(out, &list));
    TRY(cursor_close_vector(out, &ext));
    TRY(cursor_write_u16(out, EXT_KEY_SHARE));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_open_vector(out, 2, &list));
    TRY(cursor_write_u16(out, c->offered_share_group));
    TRY(cursor_write_vector(out, 2, c->hs->our_key_share, c->hs->our_key_share_len));
    TRY(cursor_close_vector(out, &list));
    TRY(cursor_close_vector(out, &ext));
    if (c->hs->cookie_len > 0) {
        TRY(cursor_write_u16(out, EXT_COOKIE));
        TRY(cursor_open_vector(out, 2, &ext));
        TRY(cursor_write_vector(out, 2, c->hs->cookie, c->hs->cookie_len));
        TRY(cursor_close_vector(out, &ext));
    }
    return 0;
}

int client_extensions_write(latch_conn *c, cursor *out)
{
    const latch_config *cfg = c->config;
    static const uint8_t uncompressed_only[] = {1, 0};
    static const uint8_t empty_renegotiation_info[] = {0};
    TRY(write_server_name(c, out));
    TRY(write_u16_list_extension(out, EXT_SUPPORTED_GROUPS, cfg->groups, cfg->group_count));
    TRY(cursor_write_u16(out, EXT_EC_POINT_FORMATS));
    TRY(cursor_write_vector(out, 2, uncompressed_only, sizeof uncompressed_only));
    TRY(write_u16_list_extension(out, EXT_SIGNATURE_ALGORITHMS, signature_scheme_order,
                                 signature_scheme_count));
    if (cfg->alpn_len > 0) {
        cursor_mark ext;
        TRY(cursor_write_u16(out, EXT_ALPN));
        TRY(cursor_open_vector(out, 2, &ext));
        TRY(cursor_write_vector(out, 2, cfg->alpn, cfg->alpn_len));
        TRY(cursor_close_vector(out, &ext));
    }
    if (cfg->max_version >= LATCH_VERSION_TLS13)
        TRY(write_tls13_extensions(c, out));
    TRY(client_session_ticket_write(c, out));
    if (client_offers_encrypt_then_mac(cfg)) {
        TRY(cursor_write_u16(out, EXT_ENCRYPT_THEN_MAC));
        TRY(cursor_write_u16(out, 0));
    }
    TRY(cursor_write_u16(out, EXT_EXTENDED_MASTER_SECRET));
    TRY(cursor_write_u16(out, 0));
    TRY(cursor_write_u16(out, EXT_RENEGOTIATION_INFO));
    TRY(cursor_write_vector(out, 2, empty_renegotiation_info, sizeof empty_renegotiation_info));
    if (cfg->max_version >= LATCH_VERSION_TLS13) /* pre_shared_key comes last */
        TRY(client_psk_extensions_write(c, out));
    return 0;
}

/* ---- server reads the client's extensions ---- */

static int read_server_name(latch_conn *c, cursor *data)
{
    cursor list;
    TRY(cursor_read_vector(data, 2, 1, 0xffff, &list));
    while (cursor_remaining(&list) > 0) {
        uint8_t name_type;
        cursor name;
        TRY(cursor_read_u8(&list, &name_type));
        TRY(cursor_read_vector(&list, 2, 1, 0xffff, &name));
        if (name_type != 0 || c->server_name[0] != '\0')
            continue;
        if (cursor_remaining(&name) >= sizeof c->server_name)
            return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "server name too long");
        size_t n = cursor_remaining(&name);
        TRY(cursor_copy_bytes(&name, (uint8_t *)c->server_name, n));
        c->server_name[n] = '\0';
        if (memchr(c->server_name, '\0', n) != NULL)
            return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "server name contains NUL");
    }
    return 0;
}

static int read_point_formats(latch_conn *c, cursor *data)
{
    cursor list;
    int has_uncompressed = 0;
    TRY(cursor_read_vector(data, 1, 1, 0xff, &list));
    while (cursor_remaining(&list) > 0) {
        uint8_t format;
        TRY(cursor_read_u8(&list, &format));
        has_uncompressed |= format == 0;
    }
    /* RFC 8422 5.1.2 */
    if (!has_uncompressed)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "peer does not accept uncompressed points");
    c->hs->peer.sent_point_formats = 1;
    return 0;
}

static int read_renegotiation_info(latch_conn *c, cursor *data)
{
    cursor previous;
    TRY(cursor_read_vector(data, 1, 0, 0xff, &previous));
    /* RFC 5746 3.6/3.4: on an initial handshake it must be empty */
    if (cursor_remaining(&previous) != 0)
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE,
                           "renegotiation_info not empty on an initial handshake");
    c->hs->peer.secure_renegotiation = 1;
    return 0;
}

static int read_alpn_list(latch_conn *c, cursor *data)
{
    cursor list, check;
    TRY(cursor_read_vector(data, 2, 2, 0xffff, &list));
    check = list;
    while (cursor_remaining(&check) > 0) {
        cursor name;
        TRY(cursor_read_vector(&check, 1, 1, 0xff, &name));
    }
    if (cursor_remaining(&list) > sizeof c->hs->peer.alpn)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "ALPN list too long");
    c->hs->peer.alpn_len = cursor_remaining(&list);
    TRY(cursor_copy_bytes(&list, c->hs->peer.alpn, c->hs->peer.alpn_len));
    c->hs->peer.sent_alpn = 1;
    return 0;
}

static int read_supported_versions(latch_conn *c, cursor *data)
{
    cursor list;
    TRY(cursor_read_vector(data, 1, 2, 254, &list));
    if (cursor_remaining(&list) % 2 != 0)
        return LATCH_ERR_DECODE;
    c->peer_sent_versions = 1;
    while (cursor_remaining(&list) > 0) {
        uint16_t v;
        TRY(cursor_read_u16(&list, &v));
        if (c->hs->peer_version_count <
            sizeof c->hs->peer_versions / sizeof c->hs->peer_versions[0])
            c->hs->peer_versions[c->hs->peer_version_count++] = v;
    }
    return 0;
}

/* KeyShareClientHello: the list stays in the message; groups are noted. */
static int read_key_shares(latch_conn *c, cursor *data)
{
    cursor list, check;
    TRY(cursor_read_vector(data, 2, 0, 0xffff, &list));
    check = list;
    while (cursor_remaining(&check) > 0) {
        uint16_t group;
        cursor key;
        TRY(cursor_read_u16(&check, &group));
        TRY(cursor_read_vector(&check, 2, 1, 0xffff, &key));
        for (size_t i = 0; i < c->hs->peer_share_group_count; i++)
            if (c->hs->peer_share_groups[i] == group) /* RFC 8446 4.2.8 */
                return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "two key shares for %u",
                                   group);
        if (c->hs->peer_share_group_count < LATCH_MAX_PEER_LIST)
            c->hs->peer_share_groups[c->hs->peer_share_group_count++] = group;
    }
    c->peer_key_share_list = list;
    c->peer_sent_key_share = 1;
    return 0;
}

static int read_cookie(latch_conn *c, cursor *data)
{
    cursor cookie;
    TRY(cursor_read_vector(data, 2, 1, 0xffff, &cookie));
    if (!c->hello_retry || cookie.len != c->hs->cookie_len ||
        latch_ct_compare(cookie.data, c->hs->cookie, cookie.len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "cookie does not match");
    return 0;
}

static int read_psk_modes(latch_conn *c, cursor *data)
{
    cursor modes;
    TRY(cursor_read_vector(data, 1, 1, 0xff, &modes));
    while (cursor_remaining(&modes) > 0) {
        uint8_t mode;
        TRY(cursor_read_u8(&modes, &mode));
        c->psk_key_exchange_dhe |= mode == 1; /* psk_dhe_ke; psk_ke is never used */
    }
    return 0;
}

int client_extension_read(latch_conn *c, uint16_t type, cursor *data)
{
    peer_offer *p = &c->hs->peer;
    if (c->peer_psk.data != NULL) /* RFC 8446 4.2.11 */
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "pre_shared_key is not the last extension");
    switch (type) {
    case EXT_SESSION_TICKET:
        c->peer_sent_ticket_extension = 1;
        c->peer_ticket = cursor_position(data);
        c->peer_ticket_len = cursor_remaining(data);
        return cursor_skip(data, cursor_remaining(data));
    case EXT_PRE_SHARED_KEY:
        c->peer_psk = *data;
        return cursor_skip(data, cursor_remaining(data));
    case EXT_PSK_KEY_EXCHANGE_MODES:
        return read_psk_modes(c, data);
    case EXT_EARLY_DATA: /* refused: our EncryptedExtensions will not accept it */
        c->early_data_offered = 1;
        return cursor_expect_end(data);
    case EXT_SERVER_NAME:
        return read_server_name(c, data);
    case EXT_SUPPORTED_GROUPS:
        p->sent_groups = 1;
        return read_u16_list(data, p->groups, LATCH_MAX_PEER_LIST, &p->group_count);
    case EXT_EC_POINT_FORMATS:
        return read_point_formats(c, data);
    case EXT_SIGNATURE_ALGORITHMS:
        p->sent_signature_schemes = 1;
        return read_u16_list(data, p->signature_schemes, LATCH_MAX_PEER_LIST,
                             &p->signature_scheme_count);
    case EXT_ALPN:
        return read_alpn_list(c, data);
    case EXT_EXTENDED_MASTER_SECRET:
        p->extended_master_secret = 1;
        return cursor_expect_end(data);
    case EXT_ENCRYPT_THEN_MAC: /* RFC 7366 2: empty */
        p->encrypt_then_mac = 1;
        return cursor_expect_end(data);
    case EXT_RENEGOTIATION_INFO:
        return read_renegotiation_info(c, data);
    case EXT_SUPPORTED_VERSIONS:
        return read_supported_versions(c, data);
    case EXT_KEY_SHARE:
        return read_key_shares(c, data);
    case EXT_COOKIE:
        return read_cookie(c, data);
    default: /* unknown extensions are ignored (RFC 5246 7.4.1.4) */
        return cursor_skip(data, cursor_remaining(data));
    }
}

/* ---- server writes its extensions ---- */

int server_extensions_write(latch_conn *c, cursor *out)
{
    static const uint8_t uncompressed_only[] = {1, 0};
    static const uint8_t empty_renegotiation_info[] = {0};
    if (c->send_ticket) { /* RFC 5077 3.2: a NewSessionTicket will follow */
        TRY(cursor_write_u16(out, EXT_SESSION_TICKET));
        TRY(cursor_write_u16(out, 0));
    }
    if (c->hs->peer.secure_renegotiation) {
        TRY(cursor_write_u16(out, EXT_RENEGOTIATION_INFO));
        TRY(cursor_write_vector(out, 2, empty_renegotiation_info, 1));
    }
    if (c->extended_master_secret) {
        TRY(cursor_write_u16(out, EXT_EXTENDED_MASTER_SECRET));
        TRY(cursor_write_u16(out, 0));
    }
    if (c->encrypt_then_mac) { /* RFC 7366 3 */
        TRY(cursor_write_u16(out, EXT_ENCRYPT_THEN_MAC));
        TRY(cursor_write_u16(out, 0));
    }
    if (c->hs->peer.sent_point_formats && c->suite->key_exchange == KEY_EXCHANGE_ECDHE) {
        TRY(cursor_write_u16(out, EXT_EC_POINT_FORMATS));
        TRY(cursor_write_vector(out, 2, uncompressed_only, sizeof uncompressed_only));
    }
    if (c->alpn[0] != '\0') {
        cursor_mark ext, list;
        TRY(cursor_write_u16(out, EXT_ALPN));
        TRY(cursor_open_vector(out, 2, &ext));
        TRY(cursor_open_vector(out, 2, &list));
        TRY(cursor_write_vector(out, 1, c->alpn, strlen(c->alpn)));
        TRY(cursor_close_vector(out, &list));
        TRY(cursor_close_vector(out, &ext));
    }
    return 0;
}

/* ---- client reads the server's extensions ---- */

static int read_selected_alpn(latch_conn *c, cursor *data)
{
    cursor list, name, offered;
    TRY(cursor_read_vector(data, 2, 2, 0xffff, &list));
    TRY(cursor_read_vector(&list, 1, 1, 0xff, &name));
    TRY(cursor_expect_end(&list));
    cursor_init(&offered, c->config->alpn, c->config->alpn_len);
    while (cursor_remaining(&offered) > 0) {
        cursor candidate;
        TRY(cursor_read_vector(&offered, 1, 1, 0xff, &candidate));
        if (candidate.len == name.len && memcmp(candidate.data, name.data, name.len) == 0) {
            memcpy(c->alpn, name.data, name.len);
            c->alpn[name.len] = '\0';
            return cursor_skip(&name, name.len);
        }
    }
    return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                       "server selected an ALPN protocol that was not offered");
}

int server_extension_read(latch_conn *c, uint16_t type, cursor *data)
{
    switch (type) {
    case EXT_SERVER_NAME: /* an empty acknowledgement (RFC 6066 3) */
        return cursor_expect_end(data);
    case EXT_EC_POINT_FORMATS:
        return read_point_formats(c, data);
    case EXT_ALPN:
        if (c->config->alpn_len == 0)
            break;
        return read_selected_alpn(c, data);
    case EXT_EXTENDED_MASTER_SECRET:
        c->hs->peer.extended_master_secret = 1;
        return cursor_expect_end(data);
    case EXT_ENCRYPT_THEN_MAC: /* only if offered; checked against the suite later */
        if (!client_offers_encrypt_then_mac(c->config))
            break;
        c->hs->peer.encrypt_then_mac = 1;
        return cursor_expect_end(data);
    case EXT_RENEGOTIATION_INFO:
        return read_renegotiation_info(c, data);
    case EXT_SUPPORTED_GROUPS: /* some servers echo it; we did offer it */
        return cursor_skip(data, cursor_remaining(data));
    case EXT_SESSION_TICKET:
        c->send_ticket = 1;
        return cursor_expect_end(data);
    default:
        break;
    }
    /* RFC 5246 7.4.1.4: only extensions the client offered may come back */
    return engine_fail(c, LATCH_ERR_UNSUPPORTED_EXTENSION,
                       "server sent extension %u that was not offered", type);
}
