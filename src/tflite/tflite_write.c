/*
 * tflite_write.c - tfl_model -> .tflite bytes (schema version 3).
 *
 * Objects are built children first (fb_build is back to front): buffers,
 * tensors, operators, operator codes, the subgraph, then the Model root.
 * Buffer data is 16-byte aligned (force_align in the schema). Each
 * OperatorCode carries its builtin code in both fields, the byte-wide
 * deprecated one (every code evo writes is below 127) and the int32 one
 * readers have used since TensorFlow 2.4.
 */
#include "tflite/fb_build.h"
#include "tflite/tflite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tfl_model_free(tfl_model *m)
{
    if (!m)
        return;
    free(m->opcodes);
    free(m->tensors);
    free(m->ops);
    free(m->buffers);
    evo_mem_free(&m->mem);
    free(m);
}

static fb_ref write_quant(fb_builder *b, const tfl_quant *q)
{
    if (q->n <= 0)
        return 0;
    fb_ref scale = fb_vector_f32(b, q->scale, (size_t)q->n);
    fb_ref zp = fb_vector_i64(b, q->zero_point, (size_t)q->n);
    fb_table_start(b);
    fb_add_ref(b, TFL_QUANT_SCALE, scale);
    fb_add_ref(b, TFL_QUANT_ZERO_POINT, zp);
    if (q->dim)
        fb_add_i32(b, TFL_QUANT_DIMENSION, q->dim);
    return fb_table_end(b);
}

static fb_ref write_tensor(fb_builder *b, const tfl_tensor *t)
{
    fb_ref shape = fb_vector_i32(b, t->shape, (size_t)t->rank);
    fb_ref name = t->name ? fb_string(b, t->name) : 0;
    fb_ref quant = write_quant(b, &t->q);
    fb_table_start(b);
    fb_add_ref(b, TFL_TENSOR_SHAPE, shape);
    fb_add_u8(b, TFL_TENSOR_TYPE, (uint8_t)t->type);
    if (t->buffer)
        fb_add_i32(b, TFL_TENSOR_BUFFER, (int32_t)t->buffer);
    fb_add_ref(b, TFL_TENSOR_NAME, name);
    fb_add_ref(b, TFL_TENSOR_QUANTIZATION, quant);
    return fb_table_end(b);
}

static fb_ref write_options(fb_builder *b, const tfl_options *o)
{
    const char *kinds = tfl_options_fields(o->type);
    if (!kinds) /* an exporter bug: fb_finish reports the failure */
        return b->failed = true, 0;
    fb_table_start(b);
    for (int s = 0; kinds[s]; s++) {
        if (kinds[s] == 'b')
            fb_add_u8(b, s, (uint8_t)o->i[s]);
        else if (kinds[s] == 'i')
            fb_add_i32(b, s, o->i[s]);
        else if (kinds[s] == 'f')
            fb_add_f32(b, s, o->f[s]);
    }
    return fb_table_end(b);
}

static fb_ref write_operator(fb_builder *b, const tfl_operator *op)
{
    fb_ref in = fb_vector_i32(b, op->in, (size_t)op->n_in);
    fb_ref out = fb_vector_i32(b, op->out, (size_t)op->n_out);
    fb_ref opt = op->opt.type != TFL_OPT_NONE ? write_options(b, &op->opt) : 0;
    fb_table_start(b);
    fb_add_i32(b, TFL_OPERATOR_OPCODE_INDEX, (int32_t)op->opcode_index);
    fb_add_ref(b, TFL_OPERATOR_INPUTS, in);
    fb_add_ref(b, TFL_OPERATOR_OUTPUTS, out);
    if (opt) {
        fb_add_u8(b, TFL_OPERATOR_OPTIONS_TYPE, (uint8_t)op->opt.type);
        fb_add_ref(b, TFL_OPERATOR_OPTIONS, opt);
    }
    return fb_table_end(b);
}

/* Writes n objects with fn into a vector of references (refs: scratch of n entries). */
#define WRITE_ALL(b, refs, items, n, fn)                                                           \
    do {                                                                                           \
        for (int k_ = 0; k_ < (n); k_++)                                                           \
            (refs)[k_] = fn((b), &(items)[k_]);                                                    \
    } while (0)

static fb_ref write_buffer(fb_builder *b, const tfl_buffer *buf)
{
    fb_ref data = buf->size_bytes ? fb_vector(b, buf->data, buf->size_bytes, 1, 16) : 0;
    fb_table_start(b);
    fb_add_ref(b, TFL_BUFFER_DATA, data);
    return fb_table_end(b);
}

static fb_ref write_opcode(fb_builder *b, const tfl_opcode *c)
{
    fb_table_start(b);
    fb_add_u8(b, TFL_OPCODE_DEPRECATED_BUILTIN, (uint8_t)(c->builtin < 127 ? c->builtin : 127));
    fb_add_i32(b, TFL_OPCODE_VERSION, c->version);
    fb_add_i32(b, TFL_OPCODE_BUILTIN, c->builtin);
    return fb_table_end(b);
}

evo_status evo_tflite_serialize(const tfl_model *m, uint8_t **out, size_t *size_bytes,
                                evo_error *err)
{
    int most = EVO_MAX(EVO_MAX(m->n_tensors, m->n_ops), EVO_MAX(m->n_buffers, m->n_opcodes));
    fb_ref *refs = malloc(sizeof(fb_ref) * (size_t)(most + 1));
    if (!refs)
        return evo_errorf(err, EVO_ERR_NOMEM, "tflite: out of memory");
    fb_builder b;
    fb_init(&b);
    WRITE_ALL(&b, refs, m->buffers, m->n_buffers, write_buffer);
    fb_ref buffers = fb_vector_refs(&b, refs, (size_t)m->n_buffers);
    WRITE_ALL(&b, refs, m->tensors, m->n_tensors, write_tensor);
    fb_ref tensors = fb_vector_refs(&b, refs, (size_t)m->n_tensors);
    WRITE_ALL(&b, refs, m->ops, m->n_ops, write_operator);
    fb_ref ops = fb_vector_refs(&b, refs, (size_t)m->n_ops);
    WRITE_ALL(&b, refs, m->opcodes, m->n_opcodes, write_opcode);
    fb_ref opcodes = fb_vector_refs(&b, refs, (size_t)m->n_opcodes);
    fb_ref inputs = fb_vector_i32(&b, m->inputs, (size_t)m->n_inputs);
    fb_ref outputs = fb_vector_i32(&b, m->outputs, (size_t)m->n_outputs);
    fb_ref sg_name = fb_string(&b, m->subgraph_name ? m->subgraph_name : "main");
    fb_table_start(&b);
    fb_add_ref(&b, TFL_SUBGRAPH_TENSORS, tensors);
    fb_add_ref(&b, TFL_SUBGRAPH_INPUTS, inputs);
    fb_add_ref(&b, TFL_SUBGRAPH_OUTPUTS, outputs);
    fb_add_ref(&b, TFL_SUBGRAPH_OPERATORS, ops);
    fb_add_ref(&b, TFL_SUBGRAPH_NAME, sg_name);
    refs[0] = fb_table_end(&b);
    fb_ref subgraphs = fb_vector_refs(&b, refs, 1);
    fb_ref desc = fb_string(&b, m->description ? m->description : "evo");
    fb_table_start(&b);
    fb_add_i32(&b, TFL_MODEL_VERSION, (int32_t)m->version);
    fb_add_ref(&b, TFL_MODEL_OPCODES, opcodes);
    fb_add_ref(&b, TFL_MODEL_SUBGRAPHS, subgraphs);
    fb_add_ref(&b, TFL_MODEL_DESCRIPTION, desc);
    fb_add_ref(&b, TFL_MODEL_BUFFERS, buffers);
    fb_ref root = fb_table_end(&b);
    free(refs);
    if (!fb_finish(&b, root, TFL_FILE_IDENTIFIER, out, size_bytes))
        return evo_errorf(err, EVO_ERR_LIMIT,
                          "tflite: the model does not fit a flatbuffer (over 2 GB, or out of memory)");
    return EVO_OK;
}

evo_status evo_tflite_write_file(evo_graph *g, const char *path, size_t *bytes_out, evo_error *err)
{
    tfl_model *m = NULL;
    evo_status s = evo_tflite_export(g, &m, err);
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (s == EVO_OK)
        s = evo_tflite_serialize(m, &bytes, &n, err);
    tfl_model_free(m);
    if (s != EVO_OK)
        return s;
    FILE *fp = fopen(path, "wb");
    bool ok = fp && fwrite(bytes, 1, n, fp) == n;
    int saved = errno;
    if (fp && fclose(fp) != 0)
        ok = false;
    free(bytes);
    if (!ok)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot write: %s", path, strerror(saved ? saved : EIO));
    if (bytes_out)
        *bytes_out = n;
    return EVO_OK;
}
