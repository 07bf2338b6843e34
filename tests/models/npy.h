/*
 * npy.h - a reader for the .npy files that models/export.py writes: format
 * version 1.0, 2.0 or 3.0, dtype little-endian float32 ('<f4'), C order.
 * Anything else (other dtypes, Fortran order, a size that does not match
 * the shape) is rejected with a message, so a stale or foreign file cannot
 * be compared by accident. Header-only: static functions for the tests.
 */
#ifndef EVO_TESTS_NPY_H
#define EVO_TESTS_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_RANK 8

typedef struct npy_array {
    int rank;
    int64_t dims[NPY_MAX_RANK];
    size_t count; /* number of elements */
    float *data;  /* malloc'ed, count elements */
} npy_array;

/* Finds `key` in the header dict and returns the text after its ':', or NULL. */
static const char *npy_find_value(const char *hdr, size_t hdr_len, const char *key)
{
    size_t key_len = strlen(key);
    for (size_t i = 0; i + key_len <= hdr_len; i++) {
        if (memcmp(hdr + i, key, key_len) != 0)
            continue;
        const char *p = hdr + i + key_len;
        const char *end = hdr + hdr_len;
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p != ':')
            return NULL;
        p++;
        while (p < end && *p == ' ')
            p++;
        return p;
    }
    return NULL;
}

/* Parses "(1, 3, 640, 640)" / "(9504,)" / "()". Returns 0 on success. */
static int npy_parse_shape(const char *p, const char *end, npy_array *a)
{
    if (p >= end || *p != '(')
        return -1;
    p++;
    a->rank = 0;
    a->count = 1;
    for (;;) {
        while (p < end && *p == ' ')
            p++;
        if (p < end && *p == ')')
            return 0;
        if (p >= end || *p < '0' || *p > '9' || a->rank == NPY_MAX_RANK)
            return -1;
        int64_t d = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (d > (INT64_MAX - 9) / 10)
                return -1;
            d = d * 10 + (*p++ - '0');
        }
        if (d != 0 && a->count > SIZE_MAX / 4 / (size_t)d)
            return -1;
        a->count *= (size_t)d;
        a->dims[a->rank++] = d;
        while (p < end && *p == ' ')
            p++;
        if (p < end && *p == ',')
            p++;
        else if (p >= end || *p != ')')
            return -1;
    }
}

/*
 * Parses an in-memory .npy image into *out (data is copied into a malloc'ed
 * buffer the caller frees with npy_free). Returns 0 on success; on failure
 * returns -1, writes the reason to msg and leaves *out untouched.
 */
static int npy_parse(const unsigned char *buf, size_t size, npy_array *out, char *msg,
                     size_t msg_size)
{
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    npy_array a;
    memset(&a, 0, sizeof(a));
    if (size < 10 || memcmp(buf, magic, 6) != 0) {
        snprintf(msg, msg_size, "not a .npy file (bad magic)");
        return -1;
    }
    int major = buf[6];
    size_t hdr_len, hdr_off;
    if (major == 1) {
        hdr_len = (size_t)buf[8] | (size_t)buf[9] << 8;
        hdr_off = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) {
            snprintf(msg, msg_size, "truncated header");
            return -1;
        }
        hdr_len = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                  (size_t)buf[11] << 24;
        hdr_off = 12;
    } else {
        snprintf(msg, msg_size, "unsupported .npy version %d", major);
        return -1;
    }
    if (hdr_len > size - hdr_off) {
        snprintf(msg, msg_size, "header length %zu exceeds file size %zu", hdr_len, size);
        return -1;
    }
    const char *hdr = (const char *)buf + hdr_off;
    const char *end = hdr + hdr_len;
    const char *v = npy_find_value(hdr, hdr_len, "'descr'");
    if (!v || end - v < 6 || memcmp(v, "'<f4'", 5) != 0) {
        snprintf(msg, msg_size, "dtype is not '<f4' (little-endian float32)");
        return -1;
    }
    v = npy_find_value(hdr, hdr_len, "'fortran_order'");
    if (!v || end - v < 5 || memcmp(v, "False", 5) != 0) {
        snprintf(msg, msg_size, "array is not in C order (fortran_order must be False)");
        return -1;
    }
    v = npy_find_value(hdr, hdr_len, "'shape'");
    if (!v || npy_parse_shape(v, end, &a) != 0) {
        snprintf(msg, msg_size, "missing or malformed 'shape'");
        return -1;
    }
    size_t data_off = hdr_off + hdr_len;
    if (size - data_off != a.count * 4) {
        snprintf(msg, msg_size, "data is %zu bytes, shape needs %zu", size - data_off,
                 a.count * 4);
        return -1;
    }
    a.data = malloc(a.count ? a.count * 4 : 1);
    if (!a.data) {
        snprintf(msg, msg_size, "out of memory");
        return -1;
    }
    // decode little-endian explicitly so the reader is right on any host
    const unsigned char *src = buf + data_off;
    for (size_t i = 0; i < a.count; i++) {
        uint32_t bits = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                        (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
        memcpy(&a.data[i], &bits, 4);
    }
    *out = a;
    return 0;
}

/* Reads and parses a .npy file; same contract as npy_parse. */
static int npy_load(const char *path, npy_array *out, char *msg, size_t msg_size)
{
    int rc = -1;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, msg_size, "%s: cannot open", path);
        goto done;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        snprintf(msg, msg_size, "%s: cannot seek", path);
        goto done;
    }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(msg, msg_size, "%s: cannot size", path);
        goto done;
    }
    buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(msg, msg_size, "%s: read failed", path);
        goto done;
    }
    char why[256];
    if (npy_parse(buf, (size_t)size, out, why, sizeof(why)) != 0) {
        snprintf(msg, msg_size, "%s: %s", path, why);
        goto done;
    }
    rc = 0;
done:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static void npy_free(npy_array *a)
{
    free(a->data);
    a->data = NULL;
}

#endif /* EVO_TESTS_NPY_H */
