/*
 * tensor_io.c - tensor files for `evo run`: NumPy .npy (version 1.0/2.0,
 * C order, little-endian) checked against the model's tensor description,
 * or raw little-endian bytes whose size must match exactly.
 */
#include "cli.h"
#include "graph/graph.h"

#include <stdlib.h>
#include <string.h>

static const char *npy_descr(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return "<f4";
    case EVO_DTYPE_DOUBLE: return "<f8";
    case EVO_DTYPE_FLOAT16: return "<f2";
    case EVO_DTYPE_INT8: return "|i1";
    case EVO_DTYPE_UINT8: return "|u1";
    case EVO_DTYPE_INT16: return "<i2";
    case EVO_DTYPE_UINT16: return "<u2";
    case EVO_DTYPE_INT32: return "<i4";
    case EVO_DTYPE_UINT32: return "<u4";
    case EVO_DTYPE_INT64: return "<i8";
    case EVO_DTYPE_UINT64: return "<u8";
    case EVO_DTYPE_BOOL: return "|b1";
    default: return NULL;
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Parses the header dict; returns the data offset or 0 on error (err set). */
static size_t npy_header(const char *path, const unsigned char *p, size_t n,
                         const evo_tensor_desc *desc, evo_error *err)
{
    if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
        evo_errorf(err, EVO_ERR_PARSE, "%s: not a .npy file", path);
        return 0;
    }
    size_t hlen, start;
    if (p[6] == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        start = 10;
    } else if (n >= 12 && (p[6] == 2 || p[6] == 3)) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        start = 12;
    } else {
        evo_errorf(err, EVO_ERR_PARSE, "%s: unsupported .npy version %d", path, p[6]);
        return 0;
    }
    if (hlen > n - start || hlen > 65536) {
        evo_errorf(err, EVO_ERR_PARSE, "%s: truncated .npy header", path);
        return 0;
    }
    char h[65537];
    memcpy(h, p + start, hlen);
    h[hlen] = 0;
    const char *want = npy_descr(desc->dtype);
    char *d = strstr(h, "'descr':");
    if (!want || !d || !strstr(d, want)) {
        evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: expected dtype %s for tensor \"%s\" (header: %s)", path,
                   want ? want : evo_dtype_name(desc->dtype), desc->name, h);
        return 0;
    }
    if (strstr(h, "'fortran_order': True")) {
        evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: Fortran-order arrays are not supported", path);
        return 0;
    }
    char *s = strstr(h, "'shape':");
    char *open = s ? strchr(s, '(') : NULL;
    if (!open) {
        evo_errorf(err, EVO_ERR_PARSE, "%s: .npy header has no shape", path);
        return 0;
    }
    int64_t dims[EVO_MAX_RANK];
    int rank = 0;
    for (char *q = open + 1; *q && *q != ')';) {
        while (*q == ' ' || *q == ',')
            q++;
        if (*q == ')')
            break;
        char *end;
        long long v = strtoll(q, &end, 10);
        if (end == q || rank >= EVO_MAX_RANK) {
            evo_errorf(err, EVO_ERR_PARSE, "%s: bad shape in .npy header", path);
            return 0;
        }
        dims[rank++] = v;
        q = end;
        while (*q == 'L' || *q == ' ')
            q++;
    }
    char got[160], exp[160];
    bool same = rank == desc->rank;
    for (int i = 0; same && i < rank; i++)
        same = dims[i] == desc->dims[i];
    if (!same) {
        evo_errorf(err, EVO_ERR_SHAPE, "%s: tensor \"%s\" expects shape %s, file has %s", path, desc->name,
                   evo_dims_str(desc->dims, desc->rank, exp, sizeof(exp)),
                   evo_dims_str(dims, rank, got, sizeof(got)));
        return 0;
    }
    return start + hlen;
}

evo_status cli_read_tensor(const char *path, const evo_tensor_desc *desc, void *buf,
                           evo_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open", path);
    evo_status s = EVO_OK;
    unsigned char *all = NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t limit = desc->size_bytes + 65536 + 16;
    if (size < 0 || (size_t)size > limit) {
        s = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: %ld bytes, tensor \"%s\" needs %zu", path, size,
                       desc->name, desc->size_bytes);
        goto done;
    }
    all = malloc((size_t)size + 1);
    if (!all || fread(all, 1, (size_t)size, f) != (size_t)size) {
        s = evo_errorf(err, EVO_ERR_IO, "%s: read failed", path);
        goto done;
    }
    size_t off = 0;
    if (size >= 6 && memcmp(all, "\x93NUMPY", 6) == 0) {
        off = npy_header(path, all, (size_t)size, desc, err);
        if (!off) {
            s = err ? err->code : EVO_ERR_PARSE;
            goto done;
        }
    }
    if ((size_t)size - off != desc->size_bytes) {
        s = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: %zu data bytes, tensor \"%s\" (%s) needs %zu", path,
                       (size_t)size - off, desc->name, evo_dtype_name(desc->dtype), desc->size_bytes);
        goto done;
    }
    memcpy(buf, all + off, desc->size_bytes);
done:
    free(all);
    fclose(f);
    return s;
}

evo_status cli_write_tensor(const char *path, const evo_tensor_desc *desc, const void *data,
                            evo_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot create", path);
    bool ok = true;
    if (ends_with(path, ".npy")) {
        char h[512];
        int n = snprintf(h, sizeof(h), "{'descr': '%s', 'fortran_order': False, 'shape': (",
                         npy_descr(desc->dtype) ? npy_descr(desc->dtype) : "<f4");
        for (int i = 0; i < desc->rank; i++)
            n += snprintf(h + n, sizeof(h) - (size_t)n, "%lld,%s", (long long)desc->dims[i],
                          i + 1 < desc->rank ? " " : "");
        n += snprintf(h + n, sizeof(h) - (size_t)n, "), }");
        int total = 10 + n + 1;
        int pad = (64 - total % 64) % 64;
        unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                 (unsigned char)((n + pad + 1) & 255),
                                 (unsigned char)((n + pad + 1) >> 8)};
        ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)n, f) == (size_t)n;
        for (int i = 0; ok && i < pad; i++)
            ok = fputc(' ', f) != EOF;
        ok = ok && fputc('\n', f) != EOF;
    }
    ok = ok && fwrite(data, 1, desc->size_bytes, f) == desc->size_bytes;
    ok = (fclose(f) == 0) && ok;
    return ok ? EVO_OK : evo_errorf(err, EVO_ERR_IO, "%s: write failed", path);
}
