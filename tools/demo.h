/* latch demo: the throwaway files (cmd_demo.c) and their PKI (demo_pki.c). */
#ifndef LATCH_TOOLS_DEMO_H
#define LATCH_TOOLS_DEMO_H

#include <limits.h>

struct demo_files {
    char dir[PATH_MAX];   /* the temporary directory holding everything */
    char www[PATH_MAX];   /* the served directory */
    char page[PATH_MAX];  /* www/index.html */
    char ca[PATH_MAX];    /* the throwaway CA certificate */
    char cert[PATH_MAX];  /* the server certificate (localhost, 127.0.0.1, ::1) */
    char key[PATH_MAX];   /* its private key (0600) */
    char log[PATH_MAX];   /* latch serve's stderr */
};

/* Make the CA and the server certificate and key (P-256, one day) with
 * libcrypto.  Returns 0 or -1. */
int demo_make_pki(const struct demo_files *files);

#endif
