/*
 * cache.c - the compile cache of `evo compile --target`: compiled files
 * kept under a key (a 128-bit hash of the model's bytes, the target and the
 * options) in $EVO_CACHE_DIR, else ~/.cache/evo. Each entry is KEY.evo and
 * KEY.sum ("evo-cache 1 SIZE HASH": the file's size and the hash of its
 * bytes). A lookup re-hashes the entry and compares before using it; a
 * missing, truncated or altered entry is removed and rebuilt, never used.
 * Entries are written under a temporary name and renamed into place, so a
 * reader sees a whole entry or none. The hash is not cryptographic: it
 * guards against corruption and stale entries, not against an adversary
 * who can write the cache directory.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t mix(uint64_t x) /* splitmix64's finalizer */
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void cli_hash_init(cli_hash *h)
{
    h->a = 0x736f6d6570736575ull;
    h->b = 0x646f72616e646f6dull;
    h->n = 0;
}

static void word(cli_hash *h, uint64_t w)
{
    h->a = rotl((h->a ^ w) * 0x9e3779b97f4a7c15ull, 31);
    h->b = (h->b + w) * 0xc2b2ae3d27d4eb4full;
    h->b ^= h->b >> 33;
}

void cli_hash_update(cli_hash *h, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        word(h, w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, n - i);
    word(h, tail ^ ((uint64_t)(n - i) << 56));
    h->n += n;
}

void cli_hash_str(const cli_hash *h, char out[33])
{
    uint64_t a = mix(h->a ^ h->n), b = mix(h->b + rotl(h->n, 17) + a);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

int cli_hash_file(const char *path, cli_hash *h)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_size == 0) {
            cli_hash_update(h, "", 0);
            rc = 0;
        } else {
            void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                cli_hash_update(h, p, (size_t)st.st_size);
                munmap(p, (size_t)st.st_size);
                rc = 0;
            }
        }
    }
    close(fd);
    return rc;
}

/* mkdir -p of path (at most a few levels under an existing one). */
static int make_dirs(char *path)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int cli_cache_dir(char *buf, size_t cap)
{
    const char *env = getenv("EVO_CACHE_DIR"), *home = getenv("HOME");
    int n = env && *env ? snprintf(buf, cap, "%s", env)
            : home && *home ? snprintf(buf, cap, "%s/.cache/evo", home)
                            : -1;
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return make_dirs(buf);
}

static void entry_paths(const char *dir, const char *key, char *evo, char *sum, size_t cap)
{
    snprintf(evo, cap, "%s/%s.evo", dir, key);
    snprintf(sum, cap, "%s/%s.sum", dir, key);
}

int cli_cache_lookup(const char *dir, const char *key, char *path, size_t cap, char *note, size_t note_cap)
{
    char sum[4200];
    entry_paths(dir, key, path, sum, cap < sizeof(sum) ? cap : sizeof(sum));
    note[0] = 0;
    FILE *f = fopen(sum, "r");
    struct stat st;
    bool have_evo = stat(path, &st) == 0;
    if (!f) {
        if (have_evo) {
            snprintf(note, note_cap, "cache entry %s has no checksum: rebuilt", path);
            unlink(path);
        }
        return 0;
    }
    unsigned long long size = 0;
    char want[40] = "", got[33];
    int version = 0, k = fscanf(f, "evo-cache %d %llu %39s", &version, &size, want);
    fclose(f);
    cli_hash h;
    cli_hash_init(&h);
    const char *bad = k != 3 || version != 1 ? "a bad checksum file"
                      : !have_evo            ? "no file"
                      : (unsigned long long)st.st_size != size ? "a wrong size"
                      : cli_hash_file(path, &h) != 0           ? "an unreadable file"
                                                               : NULL;
    if (!bad) {
        cli_hash_str(&h, got);
        if (strcmp(got, want) != 0)
            bad = "contents that do not match its checksum";
    }
    if (!bad)
        return 1;
    snprintf(note, note_cap, "cache entry %s has %s: rebuilt", path, bad);
    unlink(path);
    unlink(sum);
    return 0;
}

int cli_cache_store(const char *dir, const char *key, const char *tmp_path)
{
    char evo[4200], sum[4200], tsum[4300], hex[33];
    entry_paths(dir, key, evo, sum, sizeof(evo));
    cli_hash h;
    cli_hash_init(&h);
    struct stat st;
    if (stat(tmp_path, &st) != 0 || cli_hash_file(tmp_path, &h) != 0)
        return -1;
    cli_hash_str(&h, hex);
    snprintf(tsum, sizeof(tsum), "%s.%ld.%lx.tmp", sum, (long)getpid(), (unsigned long)pthread_self());
    FILE *f = fopen(tsum, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "evo-cache 1 %llu %s\n", (unsigned long long)st.st_size, hex) < 0;
    bad |= fclose(f) != 0;
    /* the file first, then its checksum: a reader that finds the checksum finds the file it describes */
    if (bad || rename(tmp_path, evo) != 0 || rename(tsum, sum) != 0) {
        unlink(tsum);
        return -1;
    }
    return 0;
}

int cli_copy_file(const char *from, const char *to)
{
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.%ld.%lx.tmp", to, (long)getpid(), (unsigned long)pthread_self());
    /* a hard link when the cache and the output share a file system: no bytes copied (an output later
       changed in place would change the entry too, which its checksum then rejects) */
    if (link(from, tmp) == 0) {
        int rc = rename(tmp, to);
        unlink(tmp); /* renaming onto another link of the same file leaves tmp in place */
        if (rc == 0)
            return 0;
    }
    int in = open(from, O_RDONLY), out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = in < 0 || out < 0 ? -1 : 0;
    char *buf = rc ? NULL : malloc(1 << 20);
    rc |= rc || !buf ? -1 : 0;
    while (!rc) {
        ssize_t n = read(in, buf, 1 << 20);
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        for (ssize_t done = 0; done < n && !rc;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            rc = w <= 0 ? -1 : 0;
            done += w > 0 ? w : 0;
        }
    }
    free(buf);
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    if (!rc && rename(tmp, to) != 0)
        rc = -1;
    if (rc && out >= 0)
        unlink(tmp);
    return rc;
}
