/*
 * evo_file_write.c - writing compiled models (.evo; layout in evo_file.h).
 *
 * The sections are built in memory except DATA: constants are written
 * straight from the graph, each blob 64-byte aligned, through the streaming
 * checksum, so a large model is never copied whole. The file goes to
 * "<path>.tmp" first and is renamed into place, so a failed write never
 * leaves a truncated model under the final name.
 */
#include "plan/evo_file_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (data)
        memcpy(b->p + b->n, data, n);
    else
        memset(b->p + b->n, 0, n);
    b->n += n;
}

static void put_u32(buf *b, uint32_t v)
{
    put(b, &v, 4);
}
static void put_i32(buf *b, int32_t v)
{
    put(b, &v, 4);
}
static void put_u64(buf *b, uint64_t v)
{
    put(b, &v, 8);
}
static void put_i64(buf *b, int64_t v)
{
    put(b, &v, 8);
}

typedef struct blob {
    const void *data;
    uint64_t offset, bytes;
} blob;

typedef struct writer {
    const evo_graph *g;
    buf strings, values, nodes, io, npu; /* npu: the optional placement section */
    blob *blobs;
    int n_blobs, cap_blobs;
    uint64_t data_bytes;
    int *remap; /* old value id -> new id, -1 when dropped */
    bool oom;
} writer;

static uint32_t add_string(writer *w, const char *s)
{
    if (!s || !s[0])
        return 0; /* offset 0 holds "" */
    uint32_t at = (uint32_t)w->strings.n;
    put(&w->strings, s, strlen(s) + 1);
    return at;
}

/* Places a blob in the DATA section; returns its offset. */
static uint64_t add_blob(writer *w, const void *data, uint64_t bytes)
{
    if (w->n_blobs == w->cap_blobs) {
        int cap = w->cap_blobs ? w->cap_blobs * 2 : 256;
        blob *b = realloc(w->blobs, sizeof(*b) * (size_t)cap);
        if (!b) {
            w->oom = true;
            return 0;
        }
        w->blobs = b;
        w->cap_blobs = cap;
    }
    uint64_t at = ALIGN64(w->data_bytes);
    w->blobs[w->n_blobs++] = (blob){data, at, bytes};
    w->data_bytes = at + bytes;
    return at;
}

static void write_attrs(writer *w, buf *b, const evo_node *n)
{
    evo_attr_kind ak = evo_file_attr_kind(n->op);
    const evo_file_family *fam = &evo_file_families[ak];
    const uint8_t *base = (const uint8_t *)&n->a;
    for (int i = 0; i < fam->n_fields; i++) {
        const evo_file_field *fd = &fam->fields[i];
        if (fd->kind == FK_BOOL) {
            for (int c = 0; c < fd->count; c++) {
                uint8_t v = ((const bool *)(base + fd->offset))[c] ? 1 : 0;
                put(b, &v, 1);
            }
        } else {
            put(b, base + fd->offset, (size_t)fd->count * evo_file_kind_bytes[fd->kind]);
        }
    }
    if (ak == EVO_AK_SPLIT) {
        for (int i = 0; i < n->a.split.n_splits; i++)
            put_i64(b, n->a.split.sizes[i]);
    } else if (ak == EVO_AK_FILL) {
        const evo_value *y = n->n_out > 0 && n->out[0] >= 0 ? &w->g->values[n->out[0]] : NULL;
        if (n->a.fill.data && y) {
            uint64_t bytes = (uint64_t)evo_value_count(y) * evo_dtype_size(y->dtype);
            put_u64(b, add_blob(w, n->a.fill.data, bytes));
            put_u64(b, bytes);
        } else {
            put_u64(b, NO_DATA);
            put_u64(b, 0);
        }
    }
}

static evo_status write_values(writer *w, evo_error *err)
{
    const evo_graph *g = w->g;
    for (int id = 0; id < g->n_values; id++) {
        if (w->remap[id] < 0)
            continue;
        const evo_value *v = &g->values[id];
        int64_t count;
        if (evo_dtype_size(v->dtype) == 0 || v->rank < 0 || v->rank > EVO_MAX_RANK ||
            !evo_dims_count(v->dims, v->rank, EVO_MAX_ELEMENTS, &count))
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "%s: value \"%s\": type or shape not known; compile the graph first", g->file,
                              v->name);
        uint64_t bytes = (uint64_t)count * evo_dtype_size(v->dtype);
        uint32_t flags =
            (v->is_input ? FLAG_INPUT : 0) | (v->is_output ? FLAG_OUTPUT : 0) | (v->data ? FLAG_CONST : 0);
        if (v->data && v->size_bytes != bytes)
            return evo_errorf(err, EVO_ERR_INTERNAL, "%s: constant \"%s\": %zu bytes, shape says %llu",
                              g->file, v->name, v->size_bytes, (unsigned long long)bytes);
        put_u32(&w->values, add_string(w, v->name));
        put_i32(&w->values, (int32_t)v->dtype);
        put_i32(&w->values, v->rank);
        put_u32(&w->values, flags);
        for (int d = 0; d < EVO_MAX_RANK; d++)
            put_i64(&w->values, d < v->rank ? v->dims[d] : 0);
        put_u64(&w->values, v->data ? add_blob(w, v->data, bytes) : 0);
        put_u64(&w->values, v->data ? bytes : 0);
    }
    return EVO_OK;
}

static int live_nodes_and_values(writer *w)
{
    const evo_graph *g = w->g;
    int n_live = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        n_live++;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                w->remap[n->in[k]] = 0;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                w->remap[n->out[k]] = 0;
    }
    for (int k = 0; k < g->n_inputs; k++)
        w->remap[g->inputs[k]] = 0;
    for (int k = 0; k < g->n_outputs; k++)
        w->remap[g->outputs[k]] = 0;
    int next = 0;
    for (int v = 0; v < g->n_values; v++)
        if (w->remap[v] == 0)
            w->remap[v] = next++;
    return n_live;
}

static void write_nodes(writer *w)
{
    const evo_graph *g = w->g;
    buf attrs = {0};
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        attrs.n = 0;
        write_attrs(w, &attrs, n);
        put_u32(&w->nodes, add_string(w, evo_op_name(n->op)));
        put_u32(&w->nodes, add_string(w, n->name));
        put_u32(&w->nodes, add_string(w, n->op_type));
        put_u32(&w->nodes, add_string(w, n->domain));
        put_u32(&w->nodes, (uint32_t)n->n_in);
        put_u32(&w->nodes, (uint32_t)n->n_out);
        put_u32(&w->nodes, (uint32_t)attrs.n);
        for (int k = 0; k < n->n_in; k++)
            put_i32(&w->nodes, n->in[k] >= 0 ? w->remap[n->in[k]] : -1);
        for (int k = 0; k < n->n_out; k++)
            put_i32(&w->nodes, n->out[k] >= 0 ? w->remap[n->out[k]] : -1);
        put(&w->nodes, attrs.p, attrs.n);
        w->oom |= attrs.oom;
    }
    free(attrs.p);
}

/* Header, section table and metadata sections; DATA follows at data_offset. */
static void write_head(writer *w, buf *head, int n_values, int n_nodes, uint64_t *data_offset)
{
    const evo_graph *g = w->g;
    buf meta = {0};
    put_u32(&meta, add_string(w, g->producer_name));
    put_u32(&meta, add_string(w, "evo " EVO_VERSION_STRING));
    put_i64(&meta, g->ir_version);
    put_i64(&meta, g->opset);
    put_u32(&meta, (uint32_t)n_values);
    put_u32(&meta, (uint32_t)n_nodes);
    put_u32(&meta, (uint32_t)g->n_inputs);
    put_u32(&meta, (uint32_t)g->n_outputs);
    /* the in-memory sections, then the optional NPU placement, then DATA */
    const buf *secs[SEC_MAX];
    uint32_t ids[SEC_MAX + 1];
    int n_mem = 0;
    const buf *order[] = {&meta, &w->strings, &w->values, &w->nodes, &w->io, &w->npu};
    const uint32_t order_ids[] = {SEC_META, SEC_STRINGS, SEC_VALUES, SEC_NODES, SEC_IO, SEC_NPU};
    for (int k = 0; k < (int)(sizeof(order) / sizeof(order[0])); k++) {
        if (order_ids[k] == SEC_NPU && !w->npu.n)
            continue;
        secs[n_mem] = order[k];
        ids[n_mem++] = order_ids[k];
    }
    ids[n_mem] = SEC_DATA;
    int n_sec = n_mem + 1;
    uint64_t offsets[SEC_MAX + 1];
    uint64_t at = HEADER_BYTES + (uint64_t)SECTION_BYTES * (uint64_t)n_sec;
    for (int s = 0; s < n_mem; s++) {
        offsets[s] = at;
        at = (at + secs[s]->n + 7) & ~(uint64_t)7;
    }
    *data_offset = ALIGN64(at);
    uint64_t file_bytes = *data_offset + w->data_bytes + TRAILER_BYTES;
    put(head, EVO_FILE_MAGIC, 8);
    put_u32(head, EVO_FILE_VERSION);
    put_u32(head, ENDIAN_TAG);
    put_u32(head, HEADER_BYTES);
    put_u32(head, (uint32_t)n_sec);
    put_u64(head, file_bytes);
    put_u64(head, evo_file_schema());
    put_u64(head, HEADER_BYTES);
    put_u64(head, 0);
    put_u64(head, 0);
    for (int s = 0; s < n_sec; s++) {
        put_u32(head, ids[s]);
        put_u32(head, 0);
        put_u64(head, s < n_mem ? offsets[s] : *data_offset);
        put_u64(head, s < n_mem ? secs[s]->n : w->data_bytes);
    }
    for (int s = 0; s < n_mem; s++) {
        put(head, NULL, offsets[s] - head->n);
        put(head, secs[s]->p, secs[s]->n);
    }
    put(head, NULL, *data_offset - head->n);
    w->oom |= meta.oom;
    free(meta.p);
}

static bool write_all(FILE *f, evo_file_hasher *h, const void *data, size_t n)
{
    static const uint8_t zeros[64];
    if (!data) {
        while (n) {
            size_t k = EVO_MIN(n, sizeof(zeros));
            if (fwrite(zeros, 1, k, f) != k)
                return false;
            evo_file_hash_update(h, zeros, k);
            n -= k;
        }
        return true;
    }
    evo_file_hash_update(h, data, n);
    return fwrite(data, 1, n, f) == n;
}

static evo_status write_file(writer *w, const buf *head, const char *path, size_t *bytes_out, evo_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    evo_file_hasher h;
    evo_file_hash_init(&h);
    bool ok = write_all(f, &h, head->p, head->n);
    uint64_t at = 0;
    for (int i = 0; ok && i < w->n_blobs; i++) {
        ok = write_all(f, &h, NULL, w->blobs[i].offset - at) &&
             write_all(f, &h, w->blobs[i].data, w->blobs[i].bytes);
        at = w->blobs[i].offset + w->blobs[i].bytes;
    }
    uint64_t sum = evo_file_hash_final(&h);
    ok = ok && fwrite(&sum, 1, 8, f) == 8;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    if (bytes_out)
        *bytes_out = head->n + w->data_bytes + TRAILER_BYTES;
    return EVO_OK;
}

evo_status evo_file_write(const evo_graph *g, const char *path, size_t *bytes_out, evo_error *err)
{
    if (!g || !path)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_file_write: graph and path are required");
    writer w = {.g = g};
    buf head = {0};
    evo_status s = EVO_OK;
    w.remap = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    if (!w.remap) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int v = 0; v < g->n_values; v++)
        w.remap[v] = -1;
    put(&w.strings, "", 1);
    int n_nodes = live_nodes_and_values(&w);
    int n_values = 0;
    for (int v = 0; v < g->n_values; v++)
        n_values += w.remap[v] >= 0;
    if ((s = write_values(&w, err)))
        goto done;
    write_nodes(&w);
    for (int k = 0; k < g->n_inputs; k++)
        put_i32(&w.io, w.remap[g->inputs[k]]);
    for (int k = 0; k < g->n_outputs; k++)
        put_i32(&w.io, w.remap[g->outputs[k]]);
    if (g->npu_target && g->npu_place) {
        put_u32(&w.npu, NPU_SECTION_VERSION);
        put_u32(&w.npu, add_string(&w, g->npu_target));
        put_u32(&w.npu, (uint32_t)n_nodes);
        put_u32(&w.npu, 0);
        for (int i = 0; i < g->n_nodes; i++) {
            if (!g->nodes[i].is_dead)
                put(&w.npu, &g->npu_place[i], 1);
        }
    }
    uint64_t data_offset;
    write_head(&w, &head, n_values, n_nodes, &data_offset);
    if (w.oom || head.oom || w.strings.oom || w.values.oom || w.nodes.oom || w.io.oom || w.npu.oom ||
        w.strings.n > UINT32_MAX) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory writing the model", path);
        goto done;
    }
    s = write_file(&w, &head, path, bytes_out, err);
done:
    free(w.remap);
    free(w.blobs);
    free(w.strings.p);
    free(w.values.p);
    free(w.nodes.p);
    free(w.io.p);
    free(w.npu.p);
    free(head.p);
    return s;
}
