#define _POSIX_C_SOURCE 200809L
#include "vector_pems.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_temp(char *path, size_t cap, const char *dir, const char *prefix,
                      const char *name, const char *text)
{
    snprintf(path, cap, "%s/%s-%s-XXXXXX", dir, prefix, name);
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

int vector_pems_write(const json_value *vec, const char *prefix, vector_pems *out)
{
    const char *cert = json_string(vec, "server_cert_pem");
    const char *key = json_string(vec, "server_cert_private_key_pem");
    const char *ca = json_string(vec, "ca_cert_pem");
    const char *dir = LATCH_TEST_WORK;
    memset(out, 0, sizeof *out);
    if (cert == NULL || key == NULL || ca == NULL)
        return -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        dir = "/tmp";
    if (write_temp(out->cert, sizeof out->cert, dir, prefix, "cert", cert) != 0 ||
        write_temp(out->key, sizeof out->key, dir, prefix, "key", key) != 0 ||
        write_temp(out->ca, sizeof out->ca, dir, prefix, "ca", ca) != 0)
        return -1;
    return 0;
}

void vector_pems_remove(const vector_pems *pems)
{
    if (pems->cert[0] != '\0')
        unlink(pems->cert);
    if (pems->key[0] != '\0')
        unlink(pems->key);
    if (pems->ca[0] != '\0')
        unlink(pems->ca);
}
