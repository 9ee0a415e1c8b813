/*
 * Certificate names: DNS SAN / CN extraction and RFC 6125 name matching.
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509.h"

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive (ASCII) comparison of a[0..n) and b[0..n). */
static int equal_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/*
 * Cheap necessary condition for a2i_IPADDRESS: without a ':' only IPv4 can
 * parse (sscanf "%d.%d.%d.%d"), which needs a digit or sign first (after
 * optional white space) and three dots.  Host names fail here, unparsed.
 */
static int could_be_ip(const char *host)
{
    const char *p = host;
    size_t dots = 0;
    if (strchr(host, ':') != NULL)
        return 1; /* IPv6: let OpenSSL decide */
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    if (!((*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
        return 0;
    for (; *p != '\0'; p++)
        dots += *p == '.';
    return dots >= 3;
}

int latch_host_is_ip(const char *host)
{
    if (host == NULL || *host == '\0' || !could_be_ip(host))
        return 0;
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
    if (ip == NULL) {
        ERR_clear_error();
        return 0;
    }
    ASN1_OCTET_STRING_free(ip);
    return 1;
}

int latch_name_matches_pattern(const char *pattern, const char *host)
{
    if (pattern == NULL || host == NULL || *pattern == '\0' || *host == '\0')
        return 0;
    size_t plen = strlen(pattern), hlen = strlen(host);
    if (host[hlen - 1] == '.')
        hlen--;
    if (pattern[plen - 1] == '.')
        plen--;
    if (hlen == 0 || plen == 0 || memchr(host, '*', hlen) != NULL)
        return 0;
    if (pattern[0] != '*')
        return plen == hlen && memchr(pattern, '*', plen) == NULL &&
               equal_nocase(pattern, host, hlen);
    /* "*.rest": rest must have two labels at least and no other '*'. */
    const char *rest = pattern + 1;
    size_t rlen = plen - 1;
    if (rlen < 4 || rest[0] != '.' || memchr(rest, '*', rlen) != NULL ||
        memchr(rest + 1, '.', rlen - 1) == NULL || latch_host_is_ip(host))
        return 0;
    /* host = label + rest, label non-empty and without dots. */
    if (hlen <= rlen)
        return 0;
    size_t label = hlen - rlen;
    if (memchr(host, '.', label) != NULL)
        return 0;
    return equal_nocase(rest, host + label, rlen);
}

static char *dup_n(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

/* Append a copy of an IA5/UTF-8 string; embedded NULs are skipped. */
static int push_name(char ***names, size_t *count, const ASN1_STRING *str)
{
    const char *data = (const char *)ASN1_STRING_get0_data(str);
    int len = ASN1_STRING_length(str);
    if (data == NULL || len <= 0 || memchr(data, '\0', (size_t)len) != NULL)
        return 1;
    char **grown = realloc(*names, (*count + 1) * sizeof **names);
    if (grown == NULL)
        return 0;
    *names = grown;
    if ((grown[*count] = dup_n(data, (size_t)len)) == NULL)
        return 0;
    (*count)++;
    return 1;
}

static int push_dns_sans(X509 *cert, char ***names, size_t *count)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int ok = 1;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type == GEN_DNS)
            ok = push_name(names, count, gn->d.dNSName);
    }
    GENERAL_NAMES_free(sans);
    return ok;
}

char **latch_x509_names(X509 *cert, size_t *count)
{
    *count = 0;
    char **names = malloc(sizeof *names);
    if (names == NULL)
        return NULL;
    int ok = push_dns_sans(cert, &names, count);
    ERR_clear_error();
    if (!ok) {
        latch_x509_names_free(names, *count);
        *count = 0;
        return NULL;
    }
    return names;
}

void latch_x509_names_free(char **names, size_t count)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}
