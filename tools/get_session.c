/* latch get --session FILE: a saved session, read before the connection
 * and replaced atomically after it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "get.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_SESSION_FILE = 65536 };

/* Read a whole small file; returns the byte count or -1 (errno set). */
static ssize_t read_small_file(const char *path, uint8_t *buffer, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t used = 0;
    for (;;) {
        ssize_t got = read(fd, buffer + used, size - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || (used += (size_t)got) == size)
            break;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (used == size) {
        errno = EFBIG;
        return -1;
    }
    return (ssize_t)used;
}

latch_session *get_session_load(const char *path)
{
    uint8_t *buffer = malloc(MAX_SESSION_FILE);
    if (buffer == NULL)
        return NULL;
    ssize_t length = read_small_file(path, buffer, MAX_SESSION_FILE);
    latch_session *session = NULL;
    if (length < 0 && errno != ENOENT)
        fprintf(stderr, "latch: ignoring the session file %s: %s\n", path, strerror(errno));
    if (length > 0) {
        session = latch_session_parse(buffer, (size_t)length);
        if (session == NULL)
            fprintf(stderr, "latch: ignoring the session file %s: not a latch session\n", path);
    }
    if (length > 0)
        memset(buffer, 0, (size_t)length); /* it holds a resumption secret */
    free(buffer);
    return session;
}

/* Write bytes to a new temporary file beside path, then rename it over path. */
static int replace_file(const char *path, const uint8_t *bytes, size_t length)
{
    char temporary[PATH_MAX];
    if (snprintf(temporary, sizeof temporary, "%s.XXXXXX", path) >= (int)sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(temporary, O_CLOEXEC); /* created 0600 */
    if (fd < 0)
        return -1;
    int failed = fchmod(fd, S_IRUSR | S_IWUSR) != 0 || cli_write_all(fd, bytes, length) != 0 ||
                 fsync(fd) != 0;
    int saved = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed && rename(temporary, path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        unlink(temporary);
        errno = saved;
        return -1;
    }
    return 0;
}

int get_session_save(const char *path, const latch_session *session)
{
    uint8_t *bytes = NULL;
    size_t length = 0;
    if (latch_session_serialize(session, &bytes, &length) != 0) {
        fprintf(stderr, "latch: cannot serialize the session\n");
        return -1;
    }
    int status = replace_file(path, bytes, length);
    if (status != 0)
        fprintf(stderr, "latch: cannot save the session to %s: %s\n", path, strerror(errno));
    memset(bytes, 0, length);
    free(bytes);
    return status;
}
