/* latch verify: check a certificate chain offline, exactly as `latch get`
 * would (the same latch_verify_chain_for), and show the path it built. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "cli.h"
#include "x509/x509.h"

typedef struct verify_args {
    const char *cert, *cacert, *capath, *untrusted, *host;
    latch_verify_options options;
    int json;
} verify_args;

static void verify_usage(FILE *out)
{
    fputs("NAME\n"
          "    latch verify - check a certificate chain offline, as latch get would\n"
          "\n"
          "SYNOPSIS\n"
          "    latch verify [OPTIONS] CERT\n"
          "\n"
          "DESCRIPTION\n"
          "    Builds the path from CERT to a trust anchor and applies the checks of a\n"
          "    handshake (signatures, validity, name, key usage and purpose, and latch's\n"
          "    own rules: docs/CERTIFICATES.md); prints each link of the path and the\n"
          "    verdict.\n"
          "\n"
          "OPTIONS\n"
          "    CERT                 the peer certificate (PEM or DER); further\n"
          "                         certificates in the same PEM file are the\n"
          "                         intermediates the peer sent\n"
          "    --cacert FILE        trust anchors (PEM) instead of the system store\n"
          "    --capath DIR         directory of trust anchors\n"
          "    --untrusted FILE     extra intermediates (PEM)\n"
          "    --host NAME          check the certificate covers this DNS name\n"
          "    --ip ADDR            check the certificate covers this IP address\n"
          "    --purpose P          server (EKU serverAuth, default) or client (clientAuth)\n"
          "    --at TIME            verify at TIME: Unix seconds or ISO 8601 (2024-05-01 or\n"
          "                         2024-05-01T12:00:00Z); default now\n"
          "    --max-depth N        longest chain accepted\n"
          "    --json               one JSON object instead of text\n"
          "    -h, --help           show this text\n"
          "\n"
          "EXIT STATUS\n"
          "    0   trusted\n"
          "    2   usage\n"
          "    60  not trusted (as latch get)\n"
          "\n"
          "EXAMPLES\n"
          "    latch verify --cacert ca.pem --host localhost server.pem\n"
          "    latch verify --at 2030-01-01 --json chain.pem\n",
          out);
}

/* Unix seconds, or ISO 8601 date / date-time in UTC; -1 if invalid. */
static int64_t parse_time(const char *text)
{
    struct tm tm;
    char *end;
    long long seconds = strtoll(text, &end, 10);
    if (*text != '\0' && *end == '\0')
        return seconds;
    memset(&tm, 0, sizeof tm);
    end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL) {
        memset(&tm, 0, sizeof tm);
        end = strptime(text, "%Y-%m-%d", &tm);
    }
    if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
        return -1;
    return (int64_t)timegm(&tm);
}

static int parse_verify_args(int argc, char **argv, verify_args *a)
{
    memset(a, 0, sizeof *a);
    a->options.key_usage = KU_DIGITAL_SIGNATURE; /* as for ECDHE and TLS 1.3 handshakes */
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(opt, "--json") == 0) {
            a->json = 1, takes = 0;
        } else if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            verify_usage(stdout);
            exit(CLI_EXIT_OK);
        } else if (opt[0] != '-') {
            a->cert = opt, takes = 0;
        } else if (val == NULL) {
            fprintf(stderr, "latch verify: %s needs a value\n", opt);
            return -1;
        } else if (strcmp(opt, "--cacert") == 0) {
            a->cacert = val;
        } else if (strcmp(opt, "--capath") == 0) {
            a->capath = val;
        } else if (strcmp(opt, "--untrusted") == 0) {
            a->untrusted = val;
        } else if (strcmp(opt, "--host") == 0 || strcmp(opt, "--ip") == 0) {
            a->options.host = val;
        } else if (strcmp(opt, "--purpose") == 0) {
            if (strcmp(val, "server") != 0 && strcmp(val, "client") != 0) {
                fprintf(stderr, "latch verify: --purpose is server or client\n");
                return -1;
            }
            a->options.purpose = strcmp(val, "client") == 0 ? LATCH_PURPOSE_CLIENT
                                                            : LATCH_PURPOSE_SERVER;
        } else if (strcmp(opt, "--at") == 0) {
            if ((a->options.when = parse_time(val)) <= 0) {
                fprintf(stderr, "latch verify: --at %s: not Unix seconds or ISO 8601\n", val);
                return -1;
            }
        } else if (strcmp(opt, "--max-depth") == 0) {
            a->options.max_depth = atoi(val);
        } else {
            fprintf(stderr, "latch verify: unknown option %s\n", opt);
            return -1;
        }
        i += takes;
    }
    if (a->cert == NULL) {
        verify_usage(stderr);
        return -1;
    }
    return 0;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_report(const verify_args *a, latch_error err, const char *reason,
                         const latch_verify_report *report)
{
    if (!a->json) {
        if (err != LATCH_OK) {
            fprintf(stderr, "latch verify: %s (%s)\n", reason, latch_error_string(err));
            return;
        }
        puts("OK");
        for (size_t i = 0; i < report->path_len; i++)
            printf("  %zu  %s <- %s  (not after %s, %s)\n", i, report->path[i].subject,
                   report->path[i].issuer, report->path[i].not_after, report->path[i].key);
        return;
    }
    printf("{\"ok\":%s", err == LATCH_OK ? "true" : "false");
    if (err != LATCH_OK) {
        printf(",\"error\":");
        json_string(latch_error_string(err));
        printf(",\"alert\":");
        json_string(latch_alert_name(latch_error_alert(err)));
        printf(",\"reason\":");
        json_string(reason);
    }
    printf(",\"path\":[");
    for (size_t i = 0; err == LATCH_OK && i < report->path_len; i++) {
        printf("%s{\"subject\":", i ? "," : "");
        json_string(report->path[i].subject);
        printf(",\"issuer\":");
        json_string(report->path[i].issuer);
        printf(",\"not_after\":");
        json_string(report->path[i].not_after);
        printf(",\"key\":");
        json_string(report->path[i].key);
        putchar('}');
    }
    puts("]}");
}

/* The certificates of CERT, then those of --untrusted, as one DER list. */
static latch_error verify_files(const verify_args *a, X509_STORE *store,
                                latch_verify_report *report, char *reason, size_t reason_len)
{
    latch_cert_key *peer = latch_certificates_load(a->cert, reason, reason_len);
    latch_cert_key *extra = NULL;
    const uint8_t *der[LATCH_MAX_VERIFY_PATH * 2];
    size_t len[LATCH_MAX_VERIFY_PATH * 2], count = 0;
    latch_error err = LATCH_ERR_BAD_CERTIFICATE;
    if (peer != NULL && a->untrusted != NULL)
        extra = latch_certificates_load(a->untrusted, reason, reason_len);
    if (peer != NULL && (a->untrusted == NULL || extra != NULL)) {
        const latch_cert_key *sets[2] = {peer, extra};
        for (int s = 0; s < 2; s++)
            for (size_t i = 0; sets[s] != NULL && i < sets[s]->count && count < 24; i++) {
                der[count] = sets[s]->der[i];
                len[count++] = sets[s]->der_len[i];
            }
        err = latch_verify_chain_for(store, &a->options, der, len, count, NULL, report, reason,
                                     reason_len);
    }
    latch_cert_key_free(peer);
    latch_cert_key_free(extra);
    return err;
}

int cli_verify(int argc, char **argv)
{
    verify_args a;
    char reason[512] = "";
    latch_verify_report report;
    if (parse_verify_args(argc, argv, &a) != 0)
        return CLI_EXIT_USAGE;
    X509_STORE *store = latch_trust_store_new(a.cacert, a.capath, reason, sizeof reason);
    if (store == NULL) {
        fprintf(stderr, "latch verify: %s\n", reason);
        return CLI_EXIT_USAGE;
    }
    memset(&report, 0, sizeof report);
    latch_error err = verify_files(&a, store, &report, reason, sizeof reason);
    X509_STORE_free(store);
    print_report(&a, err, reason, &report);
    return err == LATCH_OK ? CLI_EXIT_OK : CLI_EXIT_CERTIFICATE;
}
