/*
 * evo_file_read.c - reading compiled models (.evo; layout in evo_file.h).
 *
 * The reader trusts nothing: it checks sizes and offsets against the file,
 * ids against counts, dtypes, ranks, constant byte sizes, enum and bool
 * fields and node order (every input produced earlier, one producer per
 * value); evo_file_check_nodes (evo_file_check.c) then checks the op
 * semantics the planner and kernels index with. A 64-bit checksum over the
 * whole file rejects corruption. Every allocation is bounded by the file
 * size.
 */
#include "plan/evo_file_format.h"

#include "npu/npu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct reader {
    const uint8_t *base;
    size_t size;
    const char *file;
    evo_error *err;
    const uint8_t *sec[SEC_MAX + 1];
    uint64_t sec_bytes[SEC_MAX + 1];
    bool copy_data; /* the image is not 64-byte aligned: copy constants */
    evo_graph *g;
} reader;

static evo_status fail(reader *r, const char *what, const char *fmt, ...) EVO_PRINTF(3, 4);
static evo_status fail(reader *r, const char *what, const char *fmt, ...)
{
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return evo_errorf(r->err, EVO_ERR_PARSE, "%s: %s: %s", r->file, what, reason);
}

typedef struct cursor {
    const uint8_t *p;
    uint64_t left;
} cursor;

static bool take(cursor *c, void *out, uint64_t n)
{
    if (c->left < n)
        return false;
    memcpy(out, c->p, (size_t)n);
    c->p += n;
    c->left -= n;
    return true;
}

static uint32_t ld_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t ld_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static evo_status read_header(reader *r, unsigned flags)
{
    const uint8_t *b = r->base;
    if (r->size < HEADER_BYTES + TRAILER_BYTES || memcmp(b, EVO_FILE_MAGIC, 8) != 0)
        return fail(r, "header", "not an .evo file (%zu bytes, no \"%s\" magic)", r->size, EVO_FILE_MAGIC);
    uint32_t version = ld_u32(b + 8);
    if (ld_u32(b + 12) != ENDIAN_TAG)
        return fail(r, "header", "written on a host of the other byte order; recompile the model here");
    if (version != EVO_FILE_VERSION)
        return fail(r, "header",
                    "format version %u, this evo reads version %u; recompile the model with evo compile",
                    version, EVO_FILE_VERSION);
    if (ld_u32(b + 16) != HEADER_BYTES)
        return fail(r, "header", "header size %u, expected %d", ld_u32(b + 16), HEADER_BYTES);
    if (ld_u64(b + 24) != r->size)
        return fail(r, "header", "file is %zu bytes but the header says %llu: truncated or padded", r->size,
                    (unsigned long long)ld_u64(b + 24));
    if (!(flags & EVO_FILE_NO_CHECKSUM)) {
        uint64_t want = ld_u64(b + r->size - TRAILER_BYTES);
        if (evo_file_checksum(b, r->size - TRAILER_BYTES) != want)
            return fail(r, "checksum", "mismatch: the file is corrupt or was modified");
    }
    if (ld_u64(b + 32) != evo_file_schema())
        return fail(r, "header",
                    "compiled by an evo with different operator attributes (%s); recompile the model",
                    "schema fingerprint differs");
    uint32_t n_sec = ld_u32(b + 20);
    uint64_t table = ld_u64(b + 40), end = r->size - TRAILER_BYTES;
    if (n_sec > MAX_SECTIONS || table < HEADER_BYTES || table > end || (end - table) / SECTION_BYTES < n_sec)
        return fail(r, "section table", "%u sections at offset %llu do not fit in the file", n_sec,
                    (unsigned long long)table);
    for (uint32_t s = 0; s < n_sec; s++) {
        const uint8_t *e = b + table + (uint64_t)s * SECTION_BYTES;
        uint32_t id = ld_u32(e);
        uint64_t off = ld_u64(e + 8), bytes = ld_u64(e + 16);
        if (off < HEADER_BYTES || off > end || bytes > end - off)
            return fail(r, "section table", "section %u (%llu bytes at %llu) lies outside the file", id,
                        (unsigned long long)bytes, (unsigned long long)off);
        if (id < 1 || id > SEC_MAX)
            continue; /* added by a later minor revision */
        if (r->sec[id])
            return fail(r, "section table", "section %u appears twice", id);
        if (id == SEC_DATA && off % 64)
            return fail(r, "section table", "data section at offset %llu is not 64-byte aligned",
                        (unsigned long long)off);
        r->sec[id] = b + off;
        r->sec_bytes[id] = bytes;
    }
    static const char *names[] = {"", "meta", "strings", "values", "nodes", "io", "data"};
    for (int id = 1; id <= SEC_LAST; id++)
        if (!r->sec[id])
            return fail(r, "section table", "the %s section is missing", names[id]);
    return EVO_OK;
}

/* A string reference: offset into the strings section, which ends in NUL. */
static bool get_string(reader *r, uint32_t ref, const char **out)
{
    if (ref >= r->sec_bytes[SEC_STRINGS])
        return false;
    *out = (const char *)r->sec[SEC_STRINGS] + ref;
    return true;
}

static evo_status read_values(reader *r, uint32_t n_values)
{
    evo_graph *g = r->g;
    if (r->sec_bytes[SEC_VALUES] != (uint64_t)n_values * VALUE_BYTES)
        return fail(r, "values", "section is %llu bytes, expected %u values of %d bytes",
                    (unsigned long long)r->sec_bytes[SEC_VALUES], n_values, VALUE_BYTES);
    for (uint32_t i = 0; i < n_values; i++) {
        const uint8_t *rec = r->sec[SEC_VALUES] + (uint64_t)i * VALUE_BYTES;
        const char *name;
        int32_t dtype, rank;
        uint32_t flags = ld_u32(rec + 12);
        memcpy(&dtype, rec + 4, 4);
        memcpy(&rank, rec + 8, 4);
        if (!get_string(r, ld_u32(rec), &name))
            return fail(r, "values", "value %u: name reference out of range", i);
        size_t esize = dtype > 0 && dtype <= EVO_DTYPE_BFLOAT16 ? evo_dtype_size((evo_dtype)dtype) : 0;
        if (esize == 0)
            return fail(r, "values", "value %u \"%s\": unsupported dtype code %d", i, name, dtype);
        if (rank < 0 || rank > EVO_MAX_RANK)
            return fail(r, "values", "value %u \"%s\": rank %d, expected 0..%d", i, name, rank, EVO_MAX_RANK);
        if (flags > 7 || ((flags & FLAG_INPUT) && (flags & FLAG_CONST)))
            return fail(r, "values", "value %u \"%s\": bad flags 0x%x", i, name, flags);
        int64_t dims[EVO_MAX_RANK], count;
        memcpy(dims, rec + 16, sizeof(dims));
        if (!evo_dims_count(dims, rank, EVO_MAX_ELEMENTS, &count))
            return fail(r, "values", "value %u \"%s\": negative dim or more than 2^31 elements", i, name);
        uint64_t off = ld_u64(rec + 80), bytes = ld_u64(rec + 88);
        int id = evo_graph_add_value(g, name);
        if (id < 0)
            return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
        evo_value *v = &g->values[id];
        v->dtype = (evo_dtype)dtype;
        v->rank = rank;
        for (int d = 0; d < rank; d++)
            v->dims[d] = dims[d];
        v->is_input = flags & FLAG_INPUT;
        v->is_output = flags & FLAG_OUTPUT;
        if (!(flags & FLAG_CONST)) {
            if (off || bytes)
                return fail(r, "values", "value %u \"%s\": data on a non-constant", i, name);
            continue;
        }
        if (bytes != (uint64_t)count * esize)
            return fail(r, "values", "constant \"%s\": %llu bytes, but %lld elements of %s need %llu", name,
                        (unsigned long long)bytes, (long long)count, evo_dtype_name(v->dtype),
                        (unsigned long long)count * esize);
        if (off % 64 || off > r->sec_bytes[SEC_DATA] || bytes > r->sec_bytes[SEC_DATA] - off)
            return fail(
                r, "values",
                "constant \"%s\": data at %llu (+%llu bytes) is unaligned or outside the data section", name,
                (unsigned long long)off, (unsigned long long)bytes);
        const uint8_t *src = r->sec[SEC_DATA] + off;
        if (r->copy_data) {
            void *p = evo_mem_alloc(&g->mem, (size_t)bytes);
            if (!p)
                return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
            memcpy(p, src, (size_t)bytes);
            src = p;
        }
        v->data = src;
        v->size_bytes = (size_t)bytes;
    }
    return EVO_OK;
}

static evo_status read_attrs(reader *r, evo_node *n, cursor *c)
{
    evo_attr_kind ak = evo_file_attr_kind(n->op);
    const evo_file_family *fam = &evo_file_families[ak];
    uint8_t *base = (uint8_t *)&n->a;
    memset(&n->a, 0, sizeof(n->a));
    for (int i = 0; i < fam->n_fields; i++) {
        const evo_file_field *fd = &fam->fields[i];
        for (int k = 0; k < fd->count; k++) {
            uint8_t raw[8];
            uint8_t *dst = base + fd->offset + (size_t)k * evo_file_kind_bytes[fd->kind];
            if (!take(c, raw, evo_file_kind_bytes[fd->kind]))
                return fail(r, "nodes", "node \"%s\": attributes end early at %s", n->name, fd->name);
            if (fd->kind == FK_BOOL && raw[0] > 1)
                return fail(r, "nodes", "node \"%s\": attribute %s: bool byte %u", n->name, fd->name, raw[0]);
            if (fd->kind == FK_I32 && fd->max >= 0) {
                int32_t v;
                memcpy(&v, raw, 4);
                if (v < 0 || v > fd->max)
                    return fail(r, "nodes", "node \"%s\": attribute %s: %d is out of range 0..%d", n->name,
                                fd->name, v, fd->max);
            }
            if (fd->kind == FK_BOOL)
                *(bool *)dst = raw[0] != 0;
            else
                memcpy(dst, raw, evo_file_kind_bytes[fd->kind]);
        }
    }
    if (ak == EVO_AK_SPLIT) {
        int ns = n->a.split.n_splits;
        if (n->op == EVO_OP_UPDATE_SLICES ? ns != n->n_in - 1 : ns != n->n_out)
            return fail(r, "nodes", "node \"%s\": %d split sizes for %d %s", n->name, ns,
                        n->op == EVO_OP_UPDATE_SLICES ? n->n_in - 1 : n->n_out,
                        n->op == EVO_OP_UPDATE_SLICES ? "updates" : "outputs");
        int64_t *sizes = evo_mem_alloc(&r->g->mem, sizeof(int64_t) * (size_t)(ns ? ns : 1));
        if (!sizes)
            return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
        if (c->left < (uint64_t)ns * 8 || !take(c, sizes, (uint64_t)ns * 8))
            return fail(r, "nodes", "node \"%s\": split sizes end early", n->name);
        n->a.split.sizes = sizes;
    } else if (ak == EVO_AK_FILL) {
        uint64_t ref[2];
        if (!take(c, ref, 16))
            return fail(r, "nodes", "node \"%s\": constant data reference missing", n->name);
        if (ref[0] != NO_DATA) {
            const evo_value *y = n->n_out > 0 && n->out[0] >= 0 ? &r->g->values[n->out[0]] : NULL;
            if (!y || ref[1] != (uint64_t)evo_value_count(y) * evo_dtype_size(y->dtype) ||
                ref[0] > r->sec_bytes[SEC_DATA] || ref[1] > r->sec_bytes[SEC_DATA] - ref[0])
                return fail(r, "nodes",
                            "node \"%s\": constant data does not match its output or the data section",
                            n->name);
            n->a.fill.data = r->sec[SEC_DATA] + ref[0];
        }
    }
    if (c->left)
        return fail(r, "nodes", "node \"%s\": %llu attribute bytes left over", n->name,
                    (unsigned long long)c->left);
    return EVO_OK;
}

/* Reads ids, checking range; stores them into ids. */
static bool read_ids(cursor *c, int *ids, uint32_t count, int n_values)
{
    for (uint32_t k = 0; k < count; k++) {
        int32_t v;
        if (!take(c, &v, 4) || v < -1 || v >= n_values)
            return false;
        ids[k] = v;
    }
    return true;
}

static evo_status read_node(reader *r, cursor *c, uint32_t index)
{
    evo_graph *g = r->g;
    uint32_t f[7];
    const char *op_name, *name, *op_type, *domain;
    if (!take(c, f, sizeof(f)))
        return fail(r, "nodes", "node %u: record ends early", index);
    if (!get_string(r, f[0], &op_name) || !get_string(r, f[1], &name) || !get_string(r, f[2], &op_type) ||
        !get_string(r, f[3], &domain))
        return fail(r, "nodes", "node %u: string reference out of range", index);
    evo_op op = evo_op_from_table_name(op_name);
    if (op == EVO_OP_UNKNOWN)
        return fail(r, "nodes", "node %u \"%s\": unknown op \"%s\" (the file is newer than this evo?)", index,
                    name, op_name);
    uint64_t need = ((uint64_t)f[4] + f[5]) * 4 + f[6];
    if (need > c->left || f[4] > INT32_MAX / 8 || f[5] > INT32_MAX / 8)
        return fail(r, "nodes",
                    "node %u \"%s\": %u inputs, %u outputs and %u attribute bytes overrun the section", index,
                    name, f[4], f[5], f[6]);
    int id = evo_graph_add_node(g, op_type, name, (int)f[4], (int)f[5]);
    if (id < 0)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    evo_node *n = &g->nodes[id];
    n->op = op;
    n->domain = domain[0] ? evo_mem_strdup(&g->mem, domain) : "";
    if (!n->domain)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    if (!read_ids(c, n->in, f[4], g->n_values) || !read_ids(c, n->out, f[5], g->n_values))
        return fail(r, "nodes", "node \"%s\": value id out of range", n->name);
    cursor ac = {c->p, f[6]};
    c->p += f[6];
    c->left -= f[6];
    return read_attrs(r, n, &ac);
}

/* Every input is a constant, a graph input or produced by an earlier node; one producer per value. */
static evo_status check_order(reader *r)
{
    evo_graph *g = r->g;
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            const evo_value *v = n->in[k] >= 0 ? &g->values[n->in[k]] : NULL;
            if (v && !v->data && !v->is_input && v->producer < 0)
                return fail(r, "nodes", "node \"%s\": input \"%s\" is read before any node produces it",
                            n->name, v->name);
        }
        for (int k = 0; k < n->n_out; k++) {
            evo_value *v = n->out[k] >= 0 ? &g->values[n->out[k]] : NULL;
            if (!v)
                continue;
            if (v->data || v->is_input || v->producer >= 0)
                return fail(r, "nodes",
                            "node \"%s\": output \"%s\" is a constant, a graph input or produced twice",
                            n->name, v->name);
            v->producer = i;
        }
    }
    return EVO_OK;
}

static evo_status read_io(reader *r, uint32_t n_inputs, uint32_t n_outputs)
{
    evo_graph *g = r->g;
    if (r->sec_bytes[SEC_IO] != ((uint64_t)n_inputs + n_outputs) * 4)
        return fail(r, "io", "section is %llu bytes for %u inputs and %u outputs",
                    (unsigned long long)r->sec_bytes[SEC_IO], n_inputs, n_outputs);
    g->inputs = evo_mem_alloc(&g->mem, sizeof(int) * ((size_t)n_inputs + 1));
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int) * ((size_t)n_outputs + 1));
    if (!g->inputs || !g->outputs)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    cursor c = {r->sec[SEC_IO], r->sec_bytes[SEC_IO]};
    if (!read_ids(&c, g->inputs, n_inputs, g->n_values) || !read_ids(&c, g->outputs, n_outputs, g->n_values))
        return fail(r, "io", "value id out of range");
    g->n_inputs = (int)n_inputs;
    g->n_outputs = (int)n_outputs;
    int flagged_in = 0, flagged_out = 0;
    for (int v = 0; v < g->n_values; v++) {
        flagged_in += g->values[v].is_input;
        flagged_out += g->values[v].is_output;
    }
    for (uint32_t k = 0; k < n_inputs; k++) {
        int v = g->inputs[k];
        if (v < 0 || !g->values[v].is_input)
            return fail(r, "io", "input %u is not a value flagged as input", k);
        for (uint32_t j = 0; j < k; j++)
            if (g->inputs[j] == v)
                return fail(r, "io", "input \"%s\" is listed twice", g->values[v].name);
    }
    int distinct_out = 0;
    for (uint32_t k = 0; k < n_outputs; k++) {
        int v = g->outputs[k];
        if (v < 0 || !g->values[v].is_output)
            return fail(r, "io", "output %u is not a value flagged as output", k);
        const evo_value *ov = &g->values[v];
        if (!ov->data && !ov->is_input && ov->producer < 0)
            return fail(r, "io", "output \"%s\" is not produced by any node", ov->name);
        bool dup = false;
        for (uint32_t j = 0; j < k; j++)
            dup |= g->outputs[j] == v;
        distinct_out += !dup;
    }
    if (flagged_in != (int)n_inputs || flagged_out != distinct_out)
        return fail(r, "io", "input/output flags disagree with the input and output lists");
    return EVO_OK;
}

/*
 * The NPU placement section: a known target, one 0/1 byte per node, and
 * every node placed on the NPU accepted by the target's constraint table.
 */
static evo_status read_npu(reader *r)
{
    evo_graph *g = r->g;
    const uint8_t *p = r->sec[SEC_NPU];
    uint64_t bytes = r->sec_bytes[SEC_NPU];
    if (bytes < NPU_FIXED_BYTES)
        return fail(r, "npu placement", "section is %llu bytes, expected at least %d", (unsigned long long)bytes,
                    NPU_FIXED_BYTES);
    uint32_t version = ld_u32(p), n_nodes = ld_u32(p + 8);
    const char *name;
    if (version != NPU_SECTION_VERSION)
        return fail(r, "npu placement", "section version %u, expected %u", version, NPU_SECTION_VERSION);
    if (!get_string(r, ld_u32(p + 4), &name))
        return fail(r, "npu placement", "target name reference out of range");
    const evo_npu_target *t = evo_npu_target_find(name);
    if (!t) {
        char list[512];
        return fail(r, "npu placement", "unknown target \"%.64s\"; known targets: %s", name,
                    evo_npu_target_list(list, sizeof(list)));
    }
    if (n_nodes != (uint32_t)g->n_nodes || bytes != NPU_FIXED_BYTES + (uint64_t)n_nodes)
        return fail(r, "npu placement", "%u places in %llu bytes for a graph of %d nodes", n_nodes,
                    (unsigned long long)bytes, g->n_nodes);
    const uint8_t *place = p + NPU_FIXED_BYTES;
    for (int i = 0; i < g->n_nodes; i++) {
        if (place[i] > 1)
            return fail(r, "npu placement", "node \"%s\": place %u, expected 0 (CPU) or 1 (NPU)", g->nodes[i].name,
                        place[i]);
    }
    evo_npu_placement pl;
    evo_status s = evo_npu_place_graph(g, t, &pl, r->err);
    if (s)
        return s;
    for (int i = 0; i < pl.n_nodes && !s; i++) {
        const evo_npu_place *q = &pl.nodes[i];
        if (place[q->node] && !q->on_npu)
            s = fail(r, "npu placement", "node \"%s\" (%s) is placed on the NPU, but %s refuses it: %s",
                     g->nodes[q->node].name, g->nodes[q->node].op_type, t->name, q->reason);
    }
    evo_npu_placement_free(&pl);
    if (s)
        return s;
    g->npu_target = evo_mem_strdup(&g->mem, t->name);
    g->npu_place = evo_mem_alloc(&g->mem, (size_t)g->n_nodes + 1);
    if (!g->npu_target || !g->npu_place)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    memcpy(g->npu_place, place, (size_t)g->n_nodes);
    return EVO_OK;
}

static evo_status read_graph(reader *r)
{
    evo_graph *g = r->g;
    const uint8_t *m = r->sec[SEC_META];
    if (r->sec_bytes[SEC_META] < META_BYTES)
        return fail(r, "meta", "section is %llu bytes, expected %d",
                    (unsigned long long)r->sec_bytes[SEC_META], META_BYTES);
    if (r->sec_bytes[SEC_STRINGS] == 0 || r->sec[SEC_STRINGS][r->sec_bytes[SEC_STRINGS] - 1] != 0)
        return fail(r, "strings", "section does not end with a NUL");
    const char *producer, *version;
    if (!get_string(r, ld_u32(m), &producer) || !get_string(r, ld_u32(m + 4), &version))
        return fail(r, "meta", "string reference out of range");
    memcpy(&g->ir_version, m + 8, 8);
    memcpy(&g->opset, m + 16, 8);
    g->producer_name = evo_mem_strdup(&g->mem, producer);
    uint32_t n_values = ld_u32(m + 24), n_nodes = ld_u32(m + 28);
    uint32_t n_inputs = ld_u32(m + 32), n_outputs = ld_u32(m + 36);
    if (!g->producer_name)
        return evo_errorf(r->err, EVO_ERR_NOMEM, "%s: out of memory", r->file);
    if (n_values > INT32_MAX / 2 || n_nodes > r->sec_bytes[SEC_NODES] / NODE_FIXED_BYTES)
        return fail(r, "meta", "%u values and %u nodes do not fit in their sections", n_values, n_nodes);
    evo_status s = read_values(r, n_values);
    if (s)
        return s;
    cursor c = {r->sec[SEC_NODES], r->sec_bytes[SEC_NODES]};
    for (uint32_t i = 0; i < n_nodes; i++)
        if ((s = read_node(r, &c, i)))
            return s;
    if (c.left)
        return fail(r, "nodes", "%llu bytes left after %u nodes", (unsigned long long)c.left, n_nodes);
    if ((s = check_order(r)) || (s = read_io(r, n_inputs, n_outputs)) || (s = evo_file_check_nodes(g, r->err)))
        return s;
    return r->sec[SEC_NPU] ? read_npu(r) : EVO_OK;
}

evo_status evo_file_load_buffer(const void *data, size_t size_bytes, const char *name, unsigned flags,
                                evo_graph **out, evo_error *err)
{
    if (!data || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_file_load_buffer: data and out are required");
    reader r = {.base = data, .size = size_bytes, .file = name ? name : "<memory>", .err = err};
    r.copy_data = ((uintptr_t)data % 64) != 0;
    evo_status s = read_header(&r, flags);
    if (s)
        return s;
    r.g = evo_graph_new(r.file);
    if (!r.g)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", r.file);
    r.file = r.g->file;
    if ((s = read_graph(&r))) {
        evo_graph_free(r.g);
        return s;
    }
    *out = r.g;
    return EVO_OK;
}

evo_status evo_file_load(const char *path, evo_graph **out, evo_error *err)
{
    if (!path || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_file_load: path and out are required");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return evo_errorf(err, EVO_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size < HEADER_BYTES + TRAILER_BYTES) {
        close(fd);
        return evo_errorf(err, EVO_ERR_PARSE, "%s: header: file is %zu bytes, too short for an .evo file",
                          path, size);
    }
    void *addr = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (addr == MAP_FAILED)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    evo_graph *g = NULL;
    evo_status s = evo_file_load_buffer(addr, size, path, 0, &g, err);
    if (!s && (s = evo_graph_add_mapping(g, addr, size, err))) {
        evo_graph_free(g);
        g = NULL;
    }
    if (s) {
        munmap(addr, size);
        return s;
    }
    *out = g;
    return EVO_OK;
}

bool evo_file_has_magic(const void *data, size_t size_bytes)
{
    return data && size_bytes >= EVO_FILE_MAGIC_BYTES &&
           memcmp(data, EVO_FILE_MAGIC, EVO_FILE_MAGIC_BYTES) == 0;
}

bool evo_file_path_has_magic(const char *path)
{
    char magic[EVO_FILE_MAGIC_BYTES];
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return false;
    size_t got = fread(magic, 1, sizeof(magic), f);
    fclose(f);
    return evo_file_has_magic(magic, got);
}

evo_status evo_file_check_options(const evo_graph *g, const evo_compile_options *opts, evo_error *err)
{
    if (!opts)
        return EVO_OK;
    if (opts->n_const_inputs > 0)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                          "%s: constant inputs cannot be bound to a compiled model; bind them when compiling",
                          g->file);
    if (opts->act_levels && *opts->act_levels)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                          "%s: activation levels (%s) apply to a float ONNX model before quantization, not to a "
                          "compiled .evo",
                          g->file, opts->act_levels);
    for (int i = 0; i < opts->n_input_shapes; i++) {
        const evo_input_shape *is = &opts->input_shapes[i];
        const evo_value *v = NULL;
        for (int k = 0; k < g->n_inputs && !v; k++)
            if (is->name && strcmp(g->values[g->inputs[k]].name, is->name) == 0)
                v = &g->values[g->inputs[k]];
        if (!v)
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: --input-shape: no input named \"%s\"", g->file,
                              is->name ? is->name : "");
        bool same = v->rank == is->rank;
        for (int d = 0; same && d < v->rank; d++)
            same = v->dims[d] == is->dims[d];
        if (!same) {
            char have[128], want[128];
            return evo_errorf(
                err, EVO_ERR_INVALID_ARG,
                "%s: input \"%s\": compiled for %s, asked for %s; recompile with evo compile --input-shape",
                g->file, v->name, evo_dims_str(v->dims, v->rank, have, sizeof(have)),
                evo_dims_str(is->dims, is->rank, want, sizeof(want)));
        }
    }
    return EVO_OK;
}
