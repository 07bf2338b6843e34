/*
 * test_tflite.c - the TFLite export and reader without Python: an int8
 * graph built in code (QuantizeLinear, a QLinearConv with asymmetric pads
 * and a fused ReLU, a depthwise QLinearConv with a SiLU table, a
 * channel Concat, a flattening Reshape, a per-column QLinearMatMul,
 * DequantizeLinear) is exported, serialised and read back; the read model
 * must equal the exported one field by field (tensors, shapes, types,
 * buffers, per-channel quantization and its dimension, operators, their
 * options, inputs and outputs), and hold what the mapping promises: NHWC
 * activations, OHWI and 1HWO weights with per-channel scales, int32 bias
 * at x_scale * w_scale[c], the SiLU as LOGISTIC + MUL, the PAD before the
 * conv. SpaceToDepth and DCR DepthToSpace keep their block size through a
 * round trip, and a linear Resize its RESIZE_BILINEAR flags (half-pixel,
 * aligned corners or neither, as its coordinate mode reads; other modes
 * are refused). Ops without
 * a TFLite form are refused by name; every truncation and many
 * corruptions of a valid file are rejected or read, never crash (the
 * fuzzer's seeds are these files: EVO_TFLITE_SEED_DIR).
 */
#include "check.h"
#include "graph/builder.h"
#include "passes/passes.h"
#include "tflite/tflite.h"

#include <stdlib.h>
#include <string.h>

static void add_const(evo_builder *b, const char *name, evo_dtype t, int rank, const int64_t *dims,
                      const void *data)
{
    int v = evo_build_value(b, name);
    evo_error err = {0};
    if (v < 0 || evo_value_set_const(b->g, &b->g->values[v], t, rank, dims, data, &err) != EVO_OK)
        b->ok = false;
}

static float ws1[6], ws2[12], ws3[7];
static int8_t w1[6 * 5 * 9], w2[12 * 9], w3[576 * 7];

/* b's graph with the default passes run (shapes resolved, as evo compile leaves it); NULL on failure. */
static evo_graph *finish(evo_builder *b)
{
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(b->ok, "builder failed");
    if (!b->ok || evo_passes_run(b->g, &ctx) != EVO_OK) {
        CHECK_MSG(0, "%s", err.msg);
        evo_graph_free(b->g);
        return NULL;
    }
    return b->g;
}

/* x [1,5,7,6] -> Q -> conv 3x3 s(2,1) pads(1,0,1,2) + ReLU -> dw 3x3 x2 + SiLU -> concat -> flatten -> matmul -> DQ */
static evo_graph *build_graph(bool with_exp)
{
    evo_builder b;
    check_rng rng = {7};
    CHECK(evo_builder_init(&b, "tfl", 3) == EVO_OK);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 5, 7, 6});
    float xs = 0.02f, s1 = 0.05f, s2 = 0.04f, s3 = 0.1f;
    int8_t xz = -3, z1 = -128, z2 = 7, z3 = 2, zeros[12] = {0};
    for (size_t i = 0; i < sizeof(w1); i++)
        w1[i] = (int8_t)check_rng_int(&rng, -127, 127);
    for (size_t i = 0; i < sizeof(w2); i++)
        w2[i] = (int8_t)check_rng_int(&rng, -127, 127);
    for (size_t i = 0; i < sizeof(w3); i++)
        w3[i] = (int8_t)check_rng_int(&rng, -127, 127);
    for (int c = 0; c < 12; c++)
        ws1[c % 6] = check_rng_float(&rng, 0.002f, 0.008f), ws2[c] = check_rng_float(&rng, 0.002f, 0.008f);
    for (int c = 0; c < 7; c++)
        ws3[c] = check_rng_float(&rng, 0.002f, 0.008f);
    int32_t bias1[6] = {100, -200, 300, 0, 5, -7}, bias2[12] = {0};
    add_const(&b, "xs", EVO_DTYPE_FLOAT, 0, NULL, &xs);
    add_const(&b, "xz", EVO_DTYPE_INT8, 0, NULL, &xz);
    add_const(&b, "s1", EVO_DTYPE_FLOAT, 0, NULL, &s1);
    add_const(&b, "z1", EVO_DTYPE_INT8, 0, NULL, &z1);
    add_const(&b, "s2", EVO_DTYPE_FLOAT, 0, NULL, &s2);
    add_const(&b, "z2", EVO_DTYPE_INT8, 0, NULL, &z2);
    add_const(&b, "s3", EVO_DTYPE_FLOAT, 0, NULL, &s3);
    add_const(&b, "z3", EVO_DTYPE_INT8, 0, NULL, &z3);
    add_const(&b, "ws1", EVO_DTYPE_FLOAT, 1, (int64_t[]){6}, ws1);
    add_const(&b, "wz1", EVO_DTYPE_INT8, 1, (int64_t[]){6}, zeros);
    add_const(&b, "w1", EVO_DTYPE_INT8, 4, (int64_t[]){6, 5, 3, 3}, w1);
    add_const(&b, "b1", EVO_DTYPE_INT32, 1, (int64_t[]){6}, bias1);
    add_const(&b, "ws2", EVO_DTYPE_FLOAT, 1, (int64_t[]){12}, ws2);
    add_const(&b, "wz2", EVO_DTYPE_INT8, 1, (int64_t[]){12}, zeros);
    add_const(&b, "w2", EVO_DTYPE_INT8, 4, (int64_t[]){12, 1, 3, 3}, w2);
    add_const(&b, "b2", EVO_DTYPE_INT32, 1, (int64_t[]){12}, bias2);
    add_const(&b, "ws3", EVO_DTYPE_FLOAT, 1, (int64_t[]){7}, ws3);
    add_const(&b, "wz3", EVO_DTYPE_INT8, 1, (int64_t[]){7}, zeros);
    add_const(&b, "w3", EVO_DTYPE_INT8, 2, (int64_t[]){576, 7}, w3);
    evo_build_node(&b, "QuantizeLinear", "x xs xz", "xq", "");
    evo_build_node(&b, "QLinearConv", "xq xs xz w1 ws1 wz1 s1 z1 b1", "y1",
                   "kernel_shape=3,3 pads=1,0,1,2 strides=2,1");
    evo_build_node(&b, "QLinearConv", "y1 s1 z1 w2 ws2 wz2 s2 z2 b2", "y2",
                   "kernel_shape=3,3 pads=1,1,1,1 group=6");
    evo_build_node(&b, "Concat", "y2 y2", "y2c", "axis=1");
    evo_build_ints(&b, "shape", 2, (int64_t[]){1, 576});
    evo_build_node(&b, "Reshape", "y2c shape", "f", "");
    evo_build_node(&b, "QLinearMatMul", "f s2 z2 w3 ws3 wz3 s3 z3", "y3", "");
    evo_build_node(&b, "DequantizeLinear", "y3 s3 z3", "y", "");
    if (with_exp)
        evo_build_node(&b, "Exp", "y", "p", "");
    evo_build_output(&b, with_exp ? "p" : "y");
    if (!finish(&b))
        return NULL;
    for (int i = 0; i < b.g->n_nodes; i++) {
        evo_node *n = &b.g->nodes[i];
        if (n->is_dead || n->op != EVO_OP_QLINEAR_CONV)
            continue;
        n->a.conv.requant = EVO_REQUANT_FIXED;
        if (n->a.conv.group == 1) {
            n->a.conv.act = EVO_ACT_RELU;
        } else {
            n->a.conv.act = EVO_ACT_SILU;
            n->a.conv.act_scale = 0.06f;
            n->a.conv.act_zp = 10;
        }
    }
    return b.g;
}

static const tfl_tensor *find_tensor(const tfl_model *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].name && strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

static int count_ops(const tfl_model *m, int code)
{
    int n = 0;
    for (int i = 0; i < m->n_ops; i++)
        n += m->opcodes[m->ops[i].opcode_index].builtin == code;
    return n;
}

/* Every field of a equals b's. */
static void check_same(const tfl_model *a, const tfl_model *b)
{
    CHECK(a->version == b->version && b->version == TFL_SCHEMA_VERSION);
    CHECK(a->n_tensors == b->n_tensors && a->n_ops == b->n_ops && a->n_buffers == b->n_buffers);
    CHECK(a->n_opcodes == b->n_opcodes && a->n_inputs == b->n_inputs && a->n_outputs == b->n_outputs);
    if (a->n_tensors != b->n_tensors || a->n_ops != b->n_ops || a->n_buffers != b->n_buffers ||
        a->n_opcodes != b->n_opcodes)
        return;
    for (int i = 0; i < a->n_opcodes; i++)
        CHECK(a->opcodes[i].builtin == b->opcodes[i].builtin && a->opcodes[i].version == b->opcodes[i].version);
    for (int i = 0; i < a->n_buffers; i++) {
        CHECK_MSG(a->buffers[i].size_bytes == b->buffers[i].size_bytes, "buffer %d", i);
        if (a->buffers[i].size_bytes == b->buffers[i].size_bytes && a->buffers[i].size_bytes)
            CHECK_MSG(memcmp(a->buffers[i].data, b->buffers[i].data, a->buffers[i].size_bytes) == 0, "buffer %d", i);
        if (b->buffers[i].size_bytes)
            CHECK_MSG(((uintptr_t)b->buffers[i].data & 15) == 0, "buffer %d is not 16-byte aligned", i);
    }
    for (int i = 0; i < a->n_tensors; i++) {
        const tfl_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        CHECK_MSG(x->rank == y->rank && memcmp(x->shape, y->shape, sizeof(int32_t) * (size_t)x->rank) == 0 &&
                      x->type == y->type && x->buffer == y->buffer && y->name && strcmp(x->name, y->name) == 0,
                  "tensor %d (%s)", i, x->name);
        CHECK_MSG(x->q.n == y->q.n && x->q.dim == y->q.dim, "tensor %s quantization", x->name);
        for (int k = 0; k < x->q.n && x->q.n == y->q.n; k++)
            CHECK_MSG(x->q.scale[k] == y->q.scale[k] && x->q.zero_point[k] == y->q.zero_point[k],
                      "tensor %s channel %d", x->name, k);
    }
    for (int i = 0; i < a->n_ops; i++) {
        const tfl_operator *x = &a->ops[i], *y = &b->ops[i];
        CHECK_MSG(x->opcode_index == y->opcode_index && x->n_in == y->n_in && x->n_out == y->n_out &&
                      memcmp(x->in, y->in, sizeof(int32_t) * (size_t)x->n_in) == 0 &&
                      memcmp(x->out, y->out, sizeof(int32_t) * (size_t)x->n_out) == 0,
                  "operator %d", i);
        CHECK_MSG(x->opt.type == y->opt.type && memcmp(x->opt.i, y->opt.i, sizeof(x->opt.i)) == 0 &&
                      memcmp(x->opt.f, y->opt.f, sizeof(x->opt.f)) == 0,
                  "operator %d options", i);
    }
    CHECK(memcmp(a->inputs, b->inputs, sizeof(int32_t) * (size_t)a->n_inputs) == 0);
    CHECK(memcmp(a->outputs, b->outputs, sizeof(int32_t) * (size_t)a->n_outputs) == 0);
}

/* What the mapping promises, on the exported model. */
static void check_mapping(const tfl_model *m)
{
    CHECK(count_ops(m, TFL_OP_QUANTIZE) == 1 && count_ops(m, TFL_OP_DEQUANTIZE) == 1);
    CHECK(count_ops(m, TFL_OP_CONV_2D) == 1 && count_ops(m, TFL_OP_DEPTHWISE_CONV_2D) == 1);
    CHECK(count_ops(m, TFL_OP_PAD) == 1 && count_ops(m, TFL_OP_FULLY_CONNECTED) == 1);
    CHECK(count_ops(m, TFL_OP_LOGISTIC) == 1 && count_ops(m, TFL_OP_MUL) == 1);
    CHECK(count_ops(m, TFL_OP_CONCATENATION) == 1);
    /* the flatten of an NHWC feature map goes through its NCHW order: TRANSPOSE, then RESHAPE */
    CHECK(count_ops(m, TFL_OP_TRANSPOSE) == 1 && count_ops(m, TFL_OP_RESHAPE) == 1);
    for (int i = 0; i < m->n_ops; i++) {
        const tfl_operator *op = &m->ops[i];
        if (m->opcodes[op->opcode_index].builtin != TFL_OP_TRANSPOSE)
            continue;
        const tfl_tensor *perm = &m->tensors[op->in[1]];
        const int32_t *p = (const int32_t *)m->buffers[perm->buffer].data;
        CHECK(perm->type == TFL_INT32 && perm->shape[0] == 4 && p[0] == 0 && p[1] == 3 && p[2] == 1 && p[3] == 2);
        CHECK(i + 1 < m->n_ops && m->ops[i + 1].in[0] == op->out[0]); /* the RESHAPE reads it */
    }
    const tfl_tensor *x = &m->tensors[m->inputs[0]];
    CHECK(x->type == TFL_FLOAT32 && x->rank == 4 && x->shape[1] == 7 && x->shape[2] == 6 && x->shape[3] == 5);
    const tfl_tensor *f1 = find_tensor(m, "QLinearConv_1:filter"), *f2 = find_tensor(m, "QLinearConv_2:filter");
    const tfl_tensor *b1 = find_tensor(m, "QLinearConv_1:bias");
    CHECK(f1 && f2 && b1);
    if (!f1 || !f2 || !b1)
        return;
    CHECK(f1->rank == 4 && f1->shape[0] == 6 && f1->shape[1] == 3 && f1->shape[2] == 3 && f1->shape[3] == 5);
    CHECK(f1->q.n == 6 && f1->q.dim == 0 && f1->type == TFL_INT8);
    CHECK(f2->shape[0] == 1 && f2->shape[3] == 12 && f2->q.n == 12 && f2->q.dim == 3);
    const int8_t *d1 = (const int8_t *)m->buffers[f1->buffer].data;
    const int8_t *d2 = (const int8_t *)m->buffers[f2->buffer].data;
    for (int o = 0; o < 6; o++)
        for (int i = 0; i < 5; i++)
            for (int u = 0; u < 9; u++)
                CHECK(d1[(o * 9 + u) * 5 + i] == w1[(o * 5 + i) * 9 + u]);
    for (int o = 0; o < 12; o++)
        for (int u = 0; u < 9; u++)
            CHECK(d2[u * 12 + o] == w2[o * 9 + u]);
    for (int c = 0; c < 6; c++) {
        CHECK(f1->q.scale[c] == ws1[c] && f1->q.zero_point[c] == 0);
        CHECK(b1->q.scale[c] == 0.02f * ws1[c] && b1->type == TFL_INT32);
    }
    const tfl_tensor *y1 = find_tensor(m, "y1");
    CHECK(y1 && y1->q.n == 1 && y1->q.scale[0] == 0.05f && y1->q.zero_point[0] == -128);
    for (int i = 0; i < m->n_ops; i++) {
        const tfl_operator *op = &m->ops[i];
        int code = m->opcodes[op->opcode_index].builtin;
        if (code == TFL_OP_CONV_2D) /* VALID after the PAD, stride w 1, h 2, fused ReLU */
            CHECK(op->opt.i[0] == TFL_PAD_VALID && op->opt.i[1] == 1 && op->opt.i[2] == 2 &&
                  op->opt.i[3] == TFL_ACT_RELU);
        if (code == TFL_OP_DEPTHWISE_CONV_2D)
            CHECK(op->opt.i[0] == TFL_PAD_SAME && op->opt.i[3] == 2 && op->opt.i[4] == TFL_ACT_NONE);
        if (code == TFL_OP_CONCATENATION)
            CHECK(op->opt.i[0] == 3);
    }
}

static void write_seed(const char *name, const uint8_t *data, size_t n)
{
    const char *dir = getenv("EVO_TFLITE_SEED_DIR");
    if (!dir || !*dir)
        return;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f && fwrite(data, 1, n, f) == n, "cannot write %s", path);
    if (f)
        fclose(f);
}

/*
 * Exports g, serialises and reads it back (name for messages; seed: also
 * a fuzzer seed of that name) and checks the two models are equal: the
 * read model, or NULL; *exported gets the exported one and *bytes_out the
 * file (n_out its size), which the read model's buffers point into. The
 * caller frees all three, the file last.
 */
static tfl_model *roundtrip(evo_graph *g, const char *name, const char *seed, tfl_model **exported,
                            uint8_t **bytes_out, size_t *n_out)
{
    evo_error err = {0};
    tfl_model *back = NULL;
    uint8_t *bytes = NULL;
    size_t n = 0;
    *exported = NULL;
    CHECK_MSG(g && evo_tflite_export(g, exported, &err) == EVO_OK, "%s: %s", name, err.msg);
    if (*exported)
        CHECK_MSG(evo_tflite_serialize(*exported, &bytes, &n, &err) == EVO_OK, "%s", err.msg);
    if (bytes) {
        CHECK_MSG(evo_tflite_read(bytes, n, name, &back, &err) == EVO_OK, "%s", err.msg);
        CHECK(memcmp(bytes + 4, "TFL3", 4) == 0);
        if (seed)
            write_seed(seed, bytes, n);
    }
    if (*exported && back)
        check_same(*exported, back);
    *bytes_out = bytes, *n_out = n;
    return back;
}

static void test_roundtrip(void)
{
    evo_graph *g = build_graph(false);
    if (!g)
        return;
    evo_error err = {0};
    tfl_model *m = NULL;
    uint8_t *bytes = NULL;
    size_t n = 0;
    tfl_model *back = roundtrip(g, "roundtrip.tflite", "int8_net.tflite", &m, &bytes, &n);
    if (back)
        check_mapping(back);
    /* every truncation is refused cleanly; byte flips are read or refused, never crash */
    for (size_t k = 0; bytes && k < n; k++) {
        tfl_model *t = NULL;
        if (evo_tflite_read(bytes, k, "cut.tflite", &t, &err) == EVO_OK)
            tfl_model_free(t);
    }
    for (size_t k = 0; bytes && k < n; k += 3) {
        uint8_t *copy = malloc(n);
        memcpy(copy, bytes, n);
        copy[k] ^= (uint8_t)(0x5a + k);
        tfl_model *t = NULL;
        if (evo_tflite_read(copy, n, "flip.tflite", &t, &err) == EVO_OK)
            tfl_model_free(t);
        free(copy);
    }
    free(bytes);
    tfl_model_free(m);
    tfl_model_free(back);
    evo_graph_free(g);
}

static void test_refusals(void)
{
    evo_graph *g = build_graph(true);
    if (!g)
        return;
    evo_error err = {0};
    tfl_model *m = NULL;
    CHECK(evo_tflite_export(g, &m, &err) == EVO_ERR_UNSUPPORTED && m == NULL);
    CHECK_MSG(strstr(err.msg, "(Exp): no TFLite form") != NULL, "%s", err.msg);
    /* a weight zero point other than 0: TFLite's int8 weights are symmetric */
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, "wz1") == 0)
            ((int8_t *)(uintptr_t)g->values[i].data)[2] = 3;
    CHECK(evo_tflite_export(g, &m, &err) == EVO_ERR_UNSUPPORTED && m == NULL);
    CHECK_MSG(strstr(err.msg, "weight zero point 3 of channel 2 is not 0") != NULL &&
                  strstr(err.msg, "QLinearConv_1") != NULL,
              "%s", err.msg);
    evo_graph_free(g);
}

/* float x [1,3,4,6] -> SpaceToDepth(2) -> DepthToSpace(2, mode) -> y */
static evo_graph *build_d2s(const char *mode)
{
    evo_builder b;
    CHECK(evo_builder_init(&b, "d2s", 13) == EVO_OK);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 3, 4, 6});
    evo_build_node(&b, "SpaceToDepth", "x", "s", "blocksize=2");
    char attrs[64];
    snprintf(attrs, sizeof(attrs), "blocksize=2 mode=%s", mode);
    evo_build_node(&b, "DepthToSpace", "s", "y", attrs);
    evo_build_output(&b, "y");
    return finish(&b);
}

/* SPACE_TO_DEPTH and DCR DEPTH_TO_SPACE carry block_size through a round trip; CRD is refused by name */
static void test_space_depth(void)
{
    evo_graph *g = build_d2s("DCR");
    evo_error err = {0};
    uint8_t *bytes = NULL;
    size_t n = 0;
    tfl_model *m = NULL, *back = roundtrip(g, "d2s.tflite", "space_depth.tflite", &m, &bytes, &n);
    if (back) {
        CHECK(back->n_ops == 2 && count_ops(back, TFL_OP_SPACE_TO_DEPTH) == 1 &&
              count_ops(back, TFL_OP_DEPTH_TO_SPACE) == 1);
        for (int i = 0; i < back->n_ops; i++)
            CHECK(back->ops[i].opt.i[0] == 2 &&
                  back->ops[i].opt.type == (i == 0 ? TFL_OPT_SPACE_TO_DEPTH : TFL_OPT_DEPTH_TO_SPACE));
        const tfl_tensor *s = find_tensor(back, "s");
        CHECK(s && s->rank == 4 && s->shape[0] == 1 && s->shape[1] == 2 && s->shape[2] == 3 && s->shape[3] == 12);
    }
    tfl_model_free(m);
    tfl_model_free(back);
    free(bytes);
    evo_graph_free(g);
    g = build_d2s("CRD");
    m = NULL;
    CHECK(g && evo_tflite_export(g, &m, &err) == EVO_ERR_UNSUPPORTED && m == NULL);
    CHECK_MSG(strstr(err.msg, "DepthToSpace in CRD mode") != NULL, "%s", err.msg);
    evo_graph_free(g);
}

/* float x [1,3,5,6] -> Resize(scales 1,1,2,3; attrs) -> y, passes run */
static evo_graph *build_resize(const char *attrs)
{
    evo_builder b;
    CHECK(evo_builder_init(&b, "resize", 13) == EVO_OK);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 3, 5, 6});
    float sc[4] = {1, 1, 2, 3};
    evo_build_const(&b, "scales", EVO_DTYPE_FLOAT, 1, (int64_t[]){4}, sc);
    evo_build_node(&b, "Resize", "x _ scales", "y", attrs);
    evo_build_output(&b, "y");
    return finish(&b);
}

/* Exporting g fails naming node "Resize_0" and saying want. */
static void check_resize_refused(evo_graph *g, const char *want)
{
    evo_error err = {0};
    tfl_model *m = NULL;
    if (!g)
        return;
    CHECK_MSG(evo_tflite_export(g, &m, &err) == EVO_ERR_UNSUPPORTED && m == NULL, "%s: exported", want);
    CHECK_MSG(strstr(err.msg, want) != NULL && strstr(err.msg, "Resize") != NULL, "%s", err.msg);
    tfl_model_free(m);
    evo_graph_free(g);
}

/*
 * Linear Resize: RESIZE_BILINEAR with the flags under which TFLite reads
 * what evo reads (half-pixel, corners aligned, asymmetric), through a
 * round trip; cubic is refused by name.
 */
static void test_resize_bilinear(void)
{
    static const struct {
        const char *coord;
        int align, half;
    } cases[] = {{"half_pixel", 0, 1}, {"pytorch_half_pixel", 0, 1}, {"align_corners", 1, 0}, {"asymmetric", 0, 0}};
    for (size_t i = 0; i < EVO_ARRAY_LEN(cases); i++) {
        char attrs[128];
        snprintf(attrs, sizeof(attrs), "mode=linear coordinate_transformation_mode=%s", cases[i].coord);
        evo_graph *g = build_resize(attrs);
        uint8_t *bytes = NULL;
        size_t n = 0;
        tfl_model *m = NULL, *back = roundtrip(g, cases[i].coord, NULL, &m, &bytes, &n);
        if (back) {
            CHECK(back->n_ops == 1 && count_ops(back, TFL_OP_RESIZE_BILINEAR) == 1);
            const tfl_options *o = &back->ops[0].opt;
            CHECK_MSG(o->type == TFL_OPT_RESIZE_BILINEAR && o->i[2] == cases[i].align && o->i[3] == cases[i].half,
                      "%s: align_corners %d, half_pixel_centers %d", cases[i].coord, o->i[2], o->i[3]);
            const tfl_tensor *y = find_tensor(back, "y");
            CHECK(y && y->shape[1] == 10 && y->shape[2] == 18 && y->shape[3] == 3);
        }
        tfl_model_free(m);
        tfl_model_free(back);
        free(bytes);
        evo_graph_free(g);
    }
    check_resize_refused(build_resize("mode=cubic"), "only nearest and linear resizing");
    /* source (x + 0.5) / scale: none of TFLite's three flag settings reads that */
    check_resize_refused(build_resize("mode=linear coordinate_transformation_mode=tf_half_pixel_for_nn"),
                         "whose source coordinates TFLite's RESIZE_BILINEAR computes otherwise");
}

static void test_reader_rejects(void)
{
    evo_error err = {0};
    tfl_model *m = NULL;
    static const uint8_t junk[16] = {4, 0, 0, 0, 'T', 'F', 'L', '3', 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    CHECK(evo_tflite_read(junk, 4, "short.tflite", &m, &err) == EVO_ERR_PARSE);
    CHECK(strstr(err.msg, "short.tflite") != NULL);
    CHECK(evo_tflite_read((const uint8_t *)"ABCDEFGHIJKL", 12, "x.tflite", &m, &err) == EVO_ERR_PARSE);
    CHECK(strstr(err.msg, "TFL3") != NULL);
    CHECK(evo_tflite_read(junk, sizeof(junk), "vt.tflite", &m, &err) == EVO_ERR_PARSE && m == NULL);
}

CHECK_MAIN(CHECK_TEST(test_roundtrip), CHECK_TEST(test_refusals), CHECK_TEST(test_space_depth),
           CHECK_TEST(test_resize_bilinear), CHECK_TEST(test_reader_rejects))
