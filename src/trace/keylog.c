/* NSS key log file (SSLKEYLOGFILE) for Wireshark / tshark. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "latch/trace.h"

FILE *latch_keylog_open(const char *path)
{
    int fd;
    FILE *file;
    if (path == NULL || path[0] == '\0')
        return NULL;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    file = fdopen(fd, "a");
    if (file == NULL)
        close(fd);
    return file;
}

void latch_keylog_write(void *file, const char *line)
{
    if (file == NULL || line == NULL)
        return;
    fprintf(file, "%s\n", line);
    fflush(file);
}

const char *latch_keylog_path_from_env(void)
{
    const char *path = getenv("SSLKEYLOGFILE");
    return path != NULL && path[0] != '\0' ? path : NULL;
}
