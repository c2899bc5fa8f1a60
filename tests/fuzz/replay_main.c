/*
 * replay_main.c - runs a libFuzzer harness over files and directories without
 * libFuzzer, so every build (gcc + ASan under ctest) replays the corpus and
 * the harnesses never rot.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input gets a buffer of exactly its size, as under libFuzzer, so ASan
 * reports a read one byte past the end instead of it landing in slack. */
static int replay_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t *buf = malloc(size ? size : 1);
    size_t n = buf ? fread(buf, 1, size, f) : 0;
    fclose(f);
    if (!buf || n != size) {
        fprintf(stderr, "%s: short read\n", path);
        free(buf);
        return 1;
    }
    printf("%s (%zu bytes)\n", path, size);
    fflush(stdout); /* name the input before a crash report */
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

static int replay(const char *path, unsigned *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path, (size_t)st.st_size);
    }
    DIR *d = opendir(path);
    if (!d) return 1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        rc |= replay(child, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= replay(argv[i], &count);
    printf("replayed %u inputs\n", count);
    return rc || count == 0;
}
