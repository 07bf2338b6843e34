/*
 * tflite_read.c - .tflite bytes -> tfl_model, for round-trip checks and
 * the fuzzer: a parser of untrusted input.
 *
 * Every access goes through rd_* helpers that check the position against
 * the buffer first: a table's vtable offset, the vtable's own size and the
 * table size it claims, each field's offset, each reference, each vector's
 * count times its element size, each string's terminator, and every
 * tensor, buffer and operator-code index. Reads use memcpy, so unaligned
 * fields are harmless. Allocation is bounded by the counts, which the
 * buffer's size bounds. Only the first subgraph is read.
 */
#include "tflite/tflite.h"

#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const uint8_t *p;
    size_t n;
    const char *name;
    evo_error *err;
    bool bad;
} rd;

static bool rd_fail(rd *r, const char *what, size_t at)
{
    if (!r->bad)
        evo_errorf(r->err, EVO_ERR_PARSE, "%s: not a valid TFLite file: %s (at byte %zu of %zu)", r->name, what,
                   at, r->n);
    r->bad = true;
    return false;
}

static bool rd_u32(rd *r, size_t at, uint32_t *v)
{
    if (at > r->n || r->n - at < 4)
        return rd_fail(r, "a 4-byte field past the end", at);
    memcpy(v, r->p + at, 4);
    return true;
}

static bool rd_u16(rd *r, size_t at, uint16_t *v)
{
    if (at > r->n || r->n - at < 2)
        return rd_fail(r, "a vtable entry past the end", at);
    memcpy(v, r->p + at, 2);
    return true;
}

/* The position a reference at `at` points to. */
static bool rd_ref(rd *r, size_t at, size_t *target)
{
    uint32_t off;
    if (!rd_u32(r, at, &off))
        return false;
    if ((size_t)off > r->n - at || r->n - (at + off) < 4)
        return rd_fail(r, "a reference past the end", at);
    *target = at + off;
    return true;
}

/*
 * The position of field `slot` of the table at `table` holding `bytes`
 * bytes; *present false when the field is absent (its default applies).
 */
static bool rd_field(rd *r, size_t table, int slot, size_t bytes, size_t *pos, bool *present)
{
    uint32_t soff;
    *present = false;
    if (!rd_u32(r, table, &soff))
        return false;
    int64_t vt = (int64_t)table - (int64_t)(int32_t)soff;
    uint16_t vt_bytes, table_bytes, fo;
    if (vt < 0 || (uint64_t)vt > r->n)
        return rd_fail(r, "a vtable outside the file", table);
    if (!rd_u16(r, (size_t)vt, &vt_bytes) || !rd_u16(r, (size_t)vt + 2, &table_bytes))
        return false;
    if (vt_bytes < 4 || (vt_bytes & 1) || (size_t)vt + vt_bytes > r->n)
        return rd_fail(r, "a vtable of a bad size", (size_t)vt);
    if (table_bytes < 4 || table_bytes > r->n - table)
        return rd_fail(r, "a table larger than the file", table);
    if (4 + 2 * (size_t)slot >= vt_bytes)
        return true;
    if (!rd_u16(r, (size_t)vt + 4 + 2 * (size_t)slot, &fo))
        return false;
    if (!fo)
        return true;
    if (fo < 4 || (size_t)fo + bytes > table_bytes)
        return rd_fail(r, "a field outside its table", table);
    *pos = table + fo;
    *present = true;
    return true;
}

static int32_t rd_i32(rd *r, size_t table, int slot, int32_t def)
{
    size_t pos;
    bool present;
    uint32_t v;
    if (!rd_field(r, table, slot, 4, &pos, &present) || !present || !rd_u32(r, pos, &v))
        return def;
    return (int32_t)v;
}

static int32_t rd_u8(rd *r, size_t table, int slot, int32_t def, bool is_signed)
{
    size_t pos;
    bool present;
    if (!rd_field(r, table, slot, 1, &pos, &present) || !present)
        return def;
    return is_signed ? (int32_t)(int8_t)r->p[pos] : (int32_t)r->p[pos];
}

/* A referenced table or vector: *present false when absent. */
static bool rd_child(rd *r, size_t table, int slot, size_t *target, bool *present)
{
    size_t pos;
    return rd_field(r, table, slot, 4, &pos, present) && (!*present || rd_ref(r, pos, target));
}

/* A vector field: its data position and count (0 when absent). */
static bool rd_vector(rd *r, size_t table, int slot, size_t elem_bytes, size_t *data, uint32_t *count)
{
    size_t v;
    bool present;
    *count = 0;
    *data = 0;
    if (!rd_child(r, table, slot, &v, &present))
        return false;
    if (!present)
        return true;
    uint32_t cnt;
    if (!rd_u32(r, v, &cnt))
        return false;
    if ((uint64_t)cnt * elem_bytes > r->n - v - 4)
        return rd_fail(r, "a vector longer than the file", v);
    *data = v + 4;
    *count = cnt;
    return true;
}

static const char *rd_string(rd *r, evo_mem *mem, size_t table, int slot)
{
    size_t data;
    uint32_t len;
    if (!rd_vector(r, table, slot, 1, &data, &len) || !data)
        return NULL;
    if (data + len >= r->n || r->p[data + len] != 0) {
        rd_fail(r, "a string without its terminator", data);
        return NULL;
    }
    return evo_mem_strndup(mem, (const char *)r->p + data, len);
}

/* The table of element i of a vector of tables at data. */
static bool rd_elem(rd *r, size_t data, uint32_t i, size_t *table)
{
    return rd_ref(r, data + 4 * (size_t)i, table);
}

static bool read_ints(rd *r, tfl_model *m, size_t table, int slot, int32_t **out, int *n, int lo, int hi)
{
    size_t data;
    uint32_t cnt;
    if (!rd_vector(r, table, slot, 4, &data, &cnt))
        return false;
    *out = evo_mem_alloc(&m->mem, 4 * (size_t)cnt + 4);
    if (!*out)
        return rd_fail(r, "out of memory", data);
    for (uint32_t i = 0; i < cnt; i++) {
        int32_t v;
        memcpy(&v, r->p + data + 4 * (size_t)i, 4);
        if (v < lo || v >= hi)
            return rd_fail(r, "a tensor index out of range", data + 4 * (size_t)i);
        (*out)[i] = v;
    }
    *n = (int)cnt;
    return true;
}

static bool read_quant(rd *r, tfl_model *m, size_t table, tfl_quant *q)
{
    size_t sd, zd;
    uint32_t ns, nz;
    if (!rd_vector(r, table, TFL_QUANT_SCALE, 4, &sd, &ns) || !rd_vector(r, table, TFL_QUANT_ZERO_POINT, 8, &zd, &nz))
        return false;
    if (nz && nz != ns)
        return rd_fail(r, "scale and zero_point counts differ", table);
    q->n = (int)ns;
    q->dim = rd_i32(r, table, TFL_QUANT_DIMENSION, 0);
    q->scale = evo_mem_alloc(&m->mem, 4 * (size_t)ns + 4);
    q->zero_point = evo_mem_alloc(&m->mem, 8 * (size_t)ns + 8);
    if (!q->scale || !q->zero_point)
        return rd_fail(r, "out of memory", table);
    memcpy(q->scale, r->p + sd, 4 * (size_t)ns);
    if (nz)
        memcpy(q->zero_point, r->p + zd, 8 * (size_t)nz);
    return !r->bad;
}

static bool read_tensor(rd *r, tfl_model *m, size_t table, tfl_tensor *t)
{
    size_t data, qt;
    uint32_t rank;
    bool present;
    if (!rd_vector(r, table, TFL_TENSOR_SHAPE, 4, &data, &rank))
        return false;
    if (rank > EVO_MAX_RANK)
        return rd_fail(r, "a tensor of rank above 8", table);
    t->rank = (int)rank;
    memcpy(t->shape, r->p + data, 4 * (size_t)rank);
    t->type = rd_u8(r, table, TFL_TENSOR_TYPE, 0, false);
    t->buffer = (uint32_t)rd_i32(r, table, TFL_TENSOR_BUFFER, 0);
    if (t->buffer >= (uint32_t)m->n_buffers)
        return rd_fail(r, "a tensor's buffer index out of range", table);
    t->name = rd_string(r, &m->mem, table, TFL_TENSOR_NAME);
    if (!rd_child(r, table, TFL_TENSOR_QUANTIZATION, &qt, &present))
        return false;
    return !present || read_quant(r, m, qt, &t->q);
}

static bool read_operator(rd *r, tfl_model *m, size_t table, tfl_operator *op)
{
    op->opcode_index = (uint32_t)rd_i32(r, table, TFL_OPERATOR_OPCODE_INDEX, 0);
    if (op->opcode_index >= (uint32_t)m->n_opcodes)
        return rd_fail(r, "an operator's opcode index out of range", table);
    if (!read_ints(r, m, table, TFL_OPERATOR_INPUTS, &op->in, &op->n_in, -1, m->n_tensors) ||
        !read_ints(r, m, table, TFL_OPERATOR_OUTPUTS, &op->out, &op->n_out, 0, m->n_tensors))
        return false;
    op->opt.type = rd_u8(r, table, TFL_OPERATOR_OPTIONS_TYPE, 0, false);
    const char *kinds = tfl_options_fields(op->opt.type);
    size_t ot;
    bool present;
    if (!rd_child(r, table, TFL_OPERATOR_OPTIONS, &ot, &present))
        return false;
    for (int s = 0; present && kinds && kinds[s]; s++) {
        if (kinds[s] == 'b') {
            op->opt.i[s] = rd_u8(r, ot, s, 0, true);
        } else if (kinds[s] == 'i') {
            op->opt.i[s] = rd_i32(r, ot, s, 0);
        } else if (kinds[s] == 'f') {
            int32_t bits = rd_i32(r, ot, s, 0);
            memcpy(&op->opt.f[s], &bits, 4);
        }
    }
    return !r->bad;
}

/* Allocates a zeroed array of count items of elem bytes in *out. */
static bool rd_array(rd *r, void **out, uint32_t count, size_t elem)
{
    *out = calloc((size_t)count + 1, elem);
    return *out ? true : rd_fail(r, "out of memory", 0);
}

static bool read_model(rd *r, tfl_model *m)
{
    size_t root, data, sg;
    uint32_t cnt;
    if (r->n < 8 || memcmp(r->p + 4, TFL_FILE_IDENTIFIER, 4) != 0)
        return rd_fail(r, "no \"TFL3\" file identifier", 4);
    if (!rd_ref(r, 0, &root))
        return false;
    m->version = (uint32_t)rd_i32(r, root, TFL_MODEL_VERSION, 0);
    m->description = rd_string(r, &m->mem, root, TFL_MODEL_DESCRIPTION);
    if (!rd_vector(r, root, TFL_MODEL_BUFFERS, 4, &data, &cnt) || !rd_array(r, (void **)&m->buffers, cnt, sizeof(tfl_buffer)))
        return false;
    for (uint32_t i = 0; i < cnt; i++, m->n_buffers++) {
        size_t bt, bd;
        uint32_t bn;
        if (!rd_elem(r, data, i, &bt) || !rd_vector(r, bt, TFL_BUFFER_DATA, 1, &bd, &bn))
            return false;
        m->buffers[i] = (tfl_buffer){bn ? r->p + bd : NULL, bn};
    }
    if (!rd_vector(r, root, TFL_MODEL_OPCODES, 4, &data, &cnt) || !rd_array(r, (void **)&m->opcodes, cnt, sizeof(tfl_opcode)))
        return false;
    for (uint32_t i = 0; i < cnt; i++, m->n_opcodes++) {
        size_t ct;
        if (!rd_elem(r, data, i, &ct))
            return false;
        int32_t old = rd_u8(r, ct, TFL_OPCODE_DEPRECATED_BUILTIN, 0, true);
        int32_t code = rd_i32(r, ct, TFL_OPCODE_BUILTIN, 0);
        m->opcodes[i] = (tfl_opcode){code > old ? code : old, rd_i32(r, ct, TFL_OPCODE_VERSION, 1)};
    }
    if (!rd_vector(r, root, TFL_MODEL_SUBGRAPHS, 4, &data, &cnt))
        return false;
    if (cnt < 1)
        return rd_fail(r, "no subgraph", root);
    if (!rd_elem(r, data, 0, &sg))
        return false;
    m->subgraph_name = rd_string(r, &m->mem, sg, TFL_SUBGRAPH_NAME);
    if (!rd_vector(r, sg, TFL_SUBGRAPH_TENSORS, 4, &data, &cnt) || !rd_array(r, (void **)&m->tensors, cnt, sizeof(tfl_tensor)))
        return false;
    for (uint32_t i = 0; i < cnt; i++, m->n_tensors++) {
        size_t tt;
        if (!rd_elem(r, data, i, &tt) || !read_tensor(r, m, tt, &m->tensors[i]))
            return false;
    }
    if (!read_ints(r, m, sg, TFL_SUBGRAPH_INPUTS, &m->inputs, &m->n_inputs, 0, m->n_tensors) ||
        !read_ints(r, m, sg, TFL_SUBGRAPH_OUTPUTS, &m->outputs, &m->n_outputs, 0, m->n_tensors))
        return false;
    if (!rd_vector(r, sg, TFL_SUBGRAPH_OPERATORS, 4, &data, &cnt) || !rd_array(r, (void **)&m->ops, cnt, sizeof(tfl_operator)))
        return false;
    for (uint32_t i = 0; i < cnt; i++, m->n_ops++) {
        size_t ot;
        if (!rd_elem(r, data, i, &ot) || !read_operator(r, m, ot, &m->ops[i]))
            return false;
    }
    return !r->bad;
}

evo_status evo_tflite_read(const uint8_t *data, size_t size_bytes, const char *name, tfl_model **out,
                           evo_error *err)
{
    rd r = {data, size_bytes, name ? name : "tflite", err, false};
    tfl_model *m = calloc(1, sizeof(*m));
    if (!m)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", r.name);
    if (!read_model(&r, m)) {
        tfl_model_free(m);
        return EVO_ERR_PARSE;
    }
    *out = m;
    return EVO_OK;
}
