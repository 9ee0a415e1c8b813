/*
 * Replay driver: runs the fuzz harnesses without libFuzzer, so any compiler
 * (gcc in CI) can replay the corpus, or a crash file, under ASan + UBSan.
 *
 *   fuzz_replay                       every harness over fuzz/corpus/<harness>/
 *   fuzz_replay --roots DIR...        every harness over DIR/<harness>/ for each DIR
 *   fuzz_replay HARNESS PATH...       one harness over files or directories
 *
 * Each harness is compiled in with its entry point renamed (the build writes
 * a wrapper per harness: #define LLVMFuzzerTestOneInput fuzz_entry_<name>).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#ifndef LATCH_FUZZ_CORPUS
#error "LATCH_FUZZ_CORPUS must name fuzz/corpus"
#endif

typedef int (*fuzz_entry)(const uint8_t *data, size_t size);

int fuzz_entry_fuzz_server(const uint8_t *data, size_t size);
int fuzz_entry_fuzz_server_after_hello(const uint8_t *data, size_t size);
int fuzz_entry_fuzz_client(const uint8_t *data, size_t size);
int fuzz_entry_fuzz_certificate(const uint8_t *data, size_t size);
int fuzz_entry_fuzz_session(const uint8_t *data, size_t size);
int fuzz_entry_fuzz_http(const uint8_t *data, size_t size);
void fuzz_certificate_cleanup(void);

static const struct {
    const char *name;
    fuzz_entry entry;
} harnesses[] = {
    {"fuzz_server", fuzz_entry_fuzz_server},
    {"fuzz_server_after_hello", fuzz_entry_fuzz_server_after_hello},
    {"fuzz_client", fuzz_entry_fuzz_client},
    {"fuzz_certificate", fuzz_entry_fuzz_certificate},
    {"fuzz_session", fuzz_entry_fuzz_session},
    {"fuzz_http", fuzz_entry_fuzz_http},
};
#define HARNESS_COUNT (sizeof harnesses / sizeof harnesses[0])

static int run_file(fuzz_entry entry, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t len = 0, cap = 0, n;
    uint8_t chunk[65536];
    if (f == NULL) {
        perror(path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            uint8_t *grown = realloc(data, cap);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return -1;
            }
            data = grown;
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    /* an exactly-sized copy, as libFuzzer passes it */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(data);
        return -1;
    }
    if (len)
        memcpy(exact, data, len);
    free(data);
    entry(exact, len);
    free(exact);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order (a stable replay). Returns the count, or -1. */
static long run_path(fuzz_entry entry, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(entry, path) == 0 ? 1 : -1;
    DIR *dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return -1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (grown == NULL)
                break;
            names = grown;
        }
        names[count++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    long done = 0;
    for (size_t i = 0; i < count; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && run_file(entry, file) == 0)
            done++;
        free(names[i]);
    }
    free(names);
    return done;
}

static void cleanup(void)
{
    fuzz_cleanup();
    fuzz_certificate_cleanup();
}

/* Every harness over root/<harness>; returns the number of harnesses without
 * any input there. */
static int replay_root(const char *root, int required, int *passed)
{
    int failed = 0;
    for (size_t h = 0; h < HARNESS_COUNT; h++) {
        char dir[4096];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/%s", root, harnesses[h].name);
        if (!required && stat(dir, &st) != 0)
            continue;
        long n = run_path(harnesses[h].entry, dir);
        printf("%s: %ld input(s) replayed from %s\n", harnesses[h].name, n, root);
        if (n <= 0) {
            fprintf(stderr, "%s: no corpus in %s\n", harnesses[h].name, dir);
            failed++;
        } else {
            (*passed)++;
        }
    }
    return failed;
}

int main(int argc, char **argv)
{
    int failed = 0, passed = 0;
    if (argc >= 2 && strcmp(argv[1], "--roots") == 0) {
        for (int i = 2; i < argc; i++)
            failed += replay_root(argv[i], 1, &passed);
    } else if (argc >= 2) {
        for (size_t h = 0; h < HARNESS_COUNT; h++) {
            if (strcmp(argv[1], harnesses[h].name) != 0)
                continue;
            for (int i = 2; i < argc; i++) {
                long n = run_path(harnesses[h].entry, argv[i]);
                printf("%s: %s: %ld input(s)\n", harnesses[h].name, argv[i], n);
                failed |= n < 0;
            }
            cleanup();
            return failed;
        }
        fprintf(stderr, "usage: %s [--roots DIR... | HARNESS FILE|DIR...]\nharnesses:", argv[0]);
        for (size_t h = 0; h < HARNESS_COUNT; h++)
            fprintf(stderr, " %s", harnesses[h].name);
        fprintf(stderr, "\n");
        return 2;
    } else {
        failed += replay_root(LATCH_FUZZ_CORPUS, 1, &passed);
    }
    cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
