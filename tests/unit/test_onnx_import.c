/*
 * test_onnx_import.c - the ONNX importer on models built byte by byte here
 * (so every expected value is known), on malformed variants of them, on
 * external data files, and on real files from Debian's libonnx-testdata,
 * including every truncation and random corruptions of one.
 */
#include "check.h"
#include "onnx/onnx.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a tiny protobuf writer ------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put_raw(buf *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_varint(buf *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        put_raw(b, &c, 1);
    } while (v);
}

static void put_tag(buf *b, uint32_t field, int wire)
{
    put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

static void put_int(buf *b, uint32_t field, int64_t v)
{
    put_tag(b, field, 0);
    put_varint(b, (uint64_t)v);
}

static void put_bytes(buf *b, uint32_t field, const void *data, size_t n)
{
    put_tag(b, field, 2);
    put_varint(b, n);
    put_raw(b, data, n);
}

static void put_str(buf *b, uint32_t field, const char *s)
{
    put_bytes(b, field, s, strlen(s));
}

static void put_f32(buf *b, uint32_t field, float f)
{
    put_tag(b, field, 5);
    put_raw(b, &f, 4);
}

/* Appends sub as a nested message and frees it. */
static void put_msg(buf *b, uint32_t field, buf *sub)
{
    put_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof(*sub));
}

/* TensorProto with dims and raw data (raw may be NULL: no raw_data field). */
static buf tensor(const char *name, int dtype, const int64_t *dims, int rank, const void *raw,
                  size_t raw_len)
{
    buf t = {0};
    for (int i = 0; i < rank; i++)
        put_int(&t, 1, dims[i]);
    put_int(&t, 2, dtype);
    if (name)
        put_str(&t, 8, name);
    if (raw)
        put_bytes(&t, 9, raw, raw_len);
    return t;
}

/* ValueInfoProto; rank -1: no shape. dims < 0 become dim_param "N". */
static buf value_info(const char *name, int elem_type, const int64_t *dims, int rank)
{
    buf shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int i = 0; i < rank; i++) {
        buf d = {0};
        if (dims[i] >= 0)
            put_int(&d, 1, dims[i]);
        else
            put_str(&d, 2, "N");
        put_msg(&shape, 1, &d);
    }
    put_int(&tt, 1, elem_type);
    if (rank >= 0)
        put_msg(&tt, 2, &shape);
    put_msg(&type, 1, &tt);
    put_str(&vi, 1, name);
    put_msg(&vi, 2, &type);
    free(shape.p);
    return vi;
}

static buf model(buf *graph, int64_t opset)
{
    buf m = {0};
    put_int(&m, 1, 8);
    put_str(&m, 2, "evo-test");
    if (opset > 0) {
        buf os = {0};
        put_str(&os, 1, "");
        put_int(&os, 2, opset);
        put_msg(&m, 8, &os);
    }
    put_msg(&m, 7, graph);
    return m;
}

static evo_status load(const buf *m, evo_graph **g, evo_error *err)
{
    *g = NULL;
    memset(err, 0, sizeof(*err));
    return evo_onnx_load_buffer(m->p, m->n, "t.onnx", g, err);
}

/* Loads m, expects failure with code and msg containing needle; frees m. */
static void expect_fail(buf *m, evo_status code, const char *needle)
{
    evo_graph *g = (evo_graph *)0x1;
    evo_error err;
    memset(&err, 0, sizeof(err));
    evo_status s = evo_onnx_load_buffer(m->p, m->n, "t.onnx", &g, &err);
    CHECK_MSG(s == code, "expected %s, got %s (%s)", evo_status_name(code), evo_status_name(s),
              err.msg);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err.msg, needle);
    CHECK_MSG(strncmp(err.msg, "t.onnx: ", 8) == 0, "message \"%s\" lacks the file", err.msg);
    CHECK(g == (evo_graph *)0x1); // out untouched on failure
    CHECK(evo_onnx_load_buffer(m->p, m->n, "t.onnx", &g, NULL) == code); // err may be NULL
    if (s == EVO_OK && g != (evo_graph *)0x1)
        evo_graph_free(g);
    free(m->p);
    memset(m, 0, sizeof(*m));
}

/* ---- a model using every feature ------------------------------------------- */

static const float w_vals[6] = {1.0f, -2.0f, 3.5f, 0.25f, -0.125f, 8.0f};

static buf full_model(void)
{
    buf g = {0}, t = {0};
    static const int64_t w_dims[2] = {2, 3};
    // W: raw float [2,3]
    t = tensor("W", EVO_DTYPE_FLOAT, w_dims, 2, w_vals, sizeof(w_vals));
    put_msg(&g, 5, &t);
    // B: float_data, one packed run and one unpacked element
    static const int64_t b_dims[1] = {2};
    t = tensor("B", EVO_DTYPE_FLOAT, b_dims, 1, NULL, 0);
    float b0 = 0.5f;
    put_bytes(&t, 4, &b0, 4);
    put_f32(&t, 4, -1.5f);
    put_msg(&g, 5, &t);
    // S: int64 scalar -7 (unpacked)
    t = tensor("S", EVO_DTYPE_INT64, NULL, 0, NULL, 0);
    put_int(&t, 7, -7);
    put_msg(&g, 5, &t);
    // Q: uint8 [3] via int32_data {0, 200, 255}; H: float16 [1] bits 0x3c00 via int32_data
    static const int64_t q_dims[1] = {3};
    t = tensor("Q", EVO_DTYPE_UINT8, q_dims, 1, NULL, 0);
    buf packed = {0};
    put_varint(&packed, 0);
    put_varint(&packed, 200);
    put_varint(&packed, 255);
    put_msg(&t, 5, &packed);
    put_msg(&g, 5, &t);
    static const int64_t h_dims[1] = {1};
    t = tensor("H", EVO_DTYPE_FLOAT16, h_dims, 1, NULL, 0);
    put_int(&t, 5, 0x3c00);
    put_msg(&g, 5, &t);
    // D: double [1] = 2.5 ; I8: int8 [2] = {-1, -128} (negative int32 as 10-byte varints)
    t = tensor("D", EVO_DTYPE_DOUBLE, h_dims, 1, NULL, 0);
    double d = 2.5;
    put_tag(&t, 10, 1);
    put_raw(&t, &d, 8);
    put_msg(&g, 5, &t);
    static const int64_t i8_dims[1] = {2};
    t = tensor("I8", EVO_DTYPE_INT8, i8_dims, 1, NULL, 0);
    put_int(&t, 5, -1);
    put_int(&t, 5, -128);
    put_msg(&g, 5, &t);
    // Str: a string tensor
    t = tensor("Str", EVO_DTYPE_STRING, h_dims, 1, NULL, 0);
    put_str(&t, 6, "hello");
    put_msg(&g, 5, &t);

    // inputs: X [N,3] float, W again (old exporters list initializers), M without shape
    static const int64_t x_dims[2] = {-1, 3};
    buf vi = value_info("X", EVO_DTYPE_FLOAT, x_dims, 2);
    put_msg(&g, 11, &vi);
    vi = value_info("W", EVO_DTYPE_FLOAT, w_dims, 2);
    put_msg(&g, 11, &vi);
    vi = value_info("M", EVO_DTYPE_INT64, NULL, -1);
    put_msg(&g, 11, &vi);

    // node 0: Gemm(X, W, B) -> Y, named, with attributes of each type
    buf n = {0}, a = {0};
    put_str(&n, 1, "X");
    put_str(&n, 1, "W");
    put_str(&n, 1, "B");
    put_str(&n, 2, "Y");
    put_str(&n, 3, "gemm0");
    put_str(&n, 4, "Gemm");
    put_str(&a, 1, "alpha");
    put_int(&a, 20, 1);
    put_f32(&a, 2, 0.75f);
    put_msg(&n, 5, &a);
    put_str(&a, 1, "transB");
    put_int(&a, 20, 2);
    put_int(&a, 3, 1);
    put_msg(&n, 5, &a);
    put_str(&a, 1, "ints");
    put_int(&a, 20, 7);
    put_int(&a, 8, 4);
    buf pk = {0};
    put_varint(&pk, (uint64_t)-5);
    put_varint(&pk, 1000000000000ull);
    put_msg(&a, 8, &pk);
    put_msg(&n, 5, &a);
    put_str(&a, 1, "floats");
    put_int(&a, 20, 6);
    float fl[2] = {1.5f, -3.0f};
    put_bytes(&a, 7, fl, sizeof(fl));
    put_msg(&n, 5, &a);
    put_str(&a, 1, "mode");
    put_int(&a, 20, 3);
    put_str(&a, 4, "nearest");
    put_msg(&n, 5, &a);
    put_str(&a, 1, "names");
    put_int(&a, 20, 8);
    put_str(&a, 9, "a");
    put_str(&a, 9, "bc");
    put_str(&a, 9, "");
    put_msg(&n, 5, &a);
    put_str(&a, 1, "body"); // a nested graph: recorded by type, skipped
    put_int(&a, 20, 5);
    put_bytes(&a, 6, "\x0a\x02\x08\x01", 4);
    put_msg(&n, 5, &a);
    put_str(&a, 1, "legacy"); // no type field: inferred from the value
    put_int(&a, 3, 42);
    put_msg(&n, 5, &a);
    put_msg(&g, 1, &n);

    // node 1: Constant (no name) with a TENSOR attribute -> C
    put_str(&n, 2, "C");
    put_str(&n, 4, "Constant");
    put_str(&a, 1, "value");
    put_int(&a, 20, 4);
    static const int64_t c_dims[1] = {2};
    static const int64_t c_vals[2] = {3, -4};
    t = tensor("ignored", EVO_DTYPE_INT64, c_dims, 1, c_vals, sizeof(c_vals));
    put_msg(&a, 5, &t);
    put_msg(&n, 5, &a);
    put_msg(&g, 1, &n);

    // node 2: Resize(Y, "", C) -> 443, empty optional input, custom-domain op after
    put_str(&n, 1, "Y");
    put_str(&n, 1, "");
    put_str(&n, 1, "C");
    put_str(&n, 2, "443");
    put_str(&n, 2, "");
    put_str(&n, 4, "Resize");
    put_msg(&g, 1, &n);
    put_str(&n, 1, "443");
    put_str(&n, 2, "Z");
    put_str(&n, 4, "MyOp");
    put_str(&n, 7, "com.example");
    put_msg(&g, 1, &n);

    // outputs listed before... nothing: field order in the file must not matter
    vi = value_info("443", EVO_DTYPE_FLOAT, NULL, -1);
    put_msg(&g, 12, &vi);
    vi = value_info("Z", EVO_DTYPE_FLOAT, NULL, -1);
    put_msg(&g, 12, &vi);
    put_str(&g, 2, "main");
    return model(&g, 13);
}

static const evo_value *value(const evo_graph *g, const char *name)
{
    int id = evo_graph_find_value(g, name);
    CHECK_MSG(id >= 0, "value %s missing", name);
    return id >= 0 ? &g->values[id] : NULL;
}

static void check_full(const evo_graph *g)
{
    CHECK(g->ir_version == 8 && g->opset == 13);
    CHECK(strcmp(g->producer_name, "evo-test") == 0);

    const evo_value *w = value(g, "W");
    CHECK(w && w->dtype == EVO_DTYPE_FLOAT && w->rank == 2 && w->dims[0] == 2 && w->dims[1] == 3);
    CHECK(w && w->data && w->size_bytes == 24 && memcmp(w->data, w_vals, 24) == 0);
    CHECK(w && !w->is_input && w->producer == -1);
    const evo_value *b = value(g, "B");
    CHECK(b && b->rank == 1 && b->dims[0] == 2 && b->size_bytes == 8);
    CHECK(b && ((const float *)b->data)[0] == 0.5f && ((const float *)b->data)[1] == -1.5f);
    const evo_value *s = value(g, "S");
    CHECK(s && s->rank == 0 && s->size_bytes == 8 && *(const int64_t *)s->data == -7);
    const evo_value *q = value(g, "Q");
    CHECK(q && q->size_bytes == 3 && memcmp(q->data, "\x00\xc8\xff", 3) == 0);
    const evo_value *h = value(g, "H");
    CHECK(h && h->size_bytes == 2 && *(const uint16_t *)h->data == 0x3c00);
    const evo_value *d = value(g, "D");
    CHECK(d && d->size_bytes == 8 && *(const double *)d->data == 2.5);
    const evo_value *i8 = value(g, "I8");
    CHECK(i8 && ((const int8_t *)i8->data)[0] == -1 && ((const int8_t *)i8->data)[1] == -128);
    const evo_value *str = value(g, "Str");
    CHECK(str && str->dtype == EVO_DTYPE_STRING && str->data == NULL && !str->is_input);

    CHECK(g->n_inputs == 2);
    const evo_value *x = &g->values[g->inputs[0]];
    CHECK(strcmp(x->name, "X") == 0 && x->is_input && x->dtype == EVO_DTYPE_FLOAT);
    CHECK(x->rank == 2 && x->dims[0] == -1 && x->dims[1] == 3 && x->data == NULL);
    const evo_value *m = &g->values[g->inputs[1]];
    CHECK(strcmp(m->name, "M") == 0 && m->is_input && m->dtype == EVO_DTYPE_INT64 && m->rank == -1);

    CHECK(g->n_outputs == 2);
    CHECK(strcmp(g->values[g->outputs[0]].name, "443") == 0 && g->values[g->outputs[0]].is_output);
    CHECK(strcmp(g->values[g->outputs[1]].name, "Z") == 0);

    CHECK(g->n_nodes == 4);
    const evo_node *n = &g->nodes[0];
    CHECK(strcmp(n->name, "gemm0") == 0 && strcmp(n->op_type, "Gemm") == 0);
    CHECK(n->op == evo_op_from_name("", "Gemm") && strcmp(n->domain, "") == 0);
    CHECK(n->n_in == 3 && n->n_out == 1);
    CHECK(n->in[0] == evo_graph_find_value(g, "X") && n->in[1] == evo_graph_find_value(g, "W"));
    CHECK(n->out[0] == evo_graph_find_value(g, "Y"));
    CHECK(g->values[n->out[0]].producer == 0);
    CHECK(n->n_attrs == 8);
    const evo_attr *a = evo_attr_find(n, "alpha");
    CHECK(a && a->type == EVO_ATTR_FLOAT && a->f == 0.75f);
    a = evo_attr_find(n, "transB");
    CHECK(a && a->type == EVO_ATTR_INT && a->i == 1);
    a = evo_attr_find(n, "ints");
    CHECK(a && a->type == EVO_ATTR_INTS && a->n == 3);
    CHECK(a && a->ints[0] == 4 && a->ints[1] == -5 && a->ints[2] == 1000000000000ll);
    a = evo_attr_find(n, "floats");
    CHECK(a && a->type == EVO_ATTR_FLOATS && a->n == 2 && a->floats[0] == 1.5f &&
          a->floats[1] == -3.0f);
    a = evo_attr_find(n, "mode");
    CHECK(a && a->type == EVO_ATTR_STRING && strcmp(a->s, "nearest") == 0 && a->s_len == 7);
    a = evo_attr_find(n, "names");
    CHECK(a && a->type == EVO_ATTR_STRINGS && a->n == 3);
    a = evo_attr_find(n, "body");
    CHECK(a && a->type == EVO_ATTR_GRAPH);
    a = evo_attr_find(n, "legacy");
    CHECK(a && a->type == EVO_ATTR_INT && a->i == 42);

    n = &g->nodes[1];
    CHECK(strcmp(n->name, "Constant_1") == 0 && n->n_in == 0 && n->n_out == 1);
    a = evo_attr_find(n, "value");
    CHECK(a && a->type == EVO_ATTR_TENSOR && a->tensor >= 0);
    if (a && a->tensor >= 0) {
        const evo_value *c = &g->values[a->tensor];
        CHECK(c->dtype == EVO_DTYPE_INT64 && c->rank == 1 && c->dims[0] == 2);
        CHECK(c->data && ((const int64_t *)c->data)[0] == 3 && ((const int64_t *)c->data)[1] == -4);
        CHECK(c->producer == -1 && !c->is_input && a->tensor != evo_graph_find_value(g, "C"));
    }

    n = &g->nodes[2];
    CHECK(strcmp(n->op_type, "Resize") == 0 && n->n_in == 3 && n->n_out == 2);
    CHECK(n->in[1] == -1 && n->in[2] == evo_graph_find_value(g, "C") && n->out[1] == -1);
    n = &g->nodes[3];
    CHECK(n->op == EVO_OP_UNKNOWN && strcmp(n->domain, "com.example") == 0);
}

static void test_full_model(void)
{
    buf m = full_model();
    evo_graph *g;
    evo_error err;
    CHECK_MSG(load(&m, &g, &err) == EVO_OK, "%s", err.msg);
    if (g) {
        check_full(g);
        evo_graph_free(g);
    }
    // Raw data is used in place when aligned and copied otherwise: place the
    // model at every offset 0..7 of an aligned block.
    const uint8_t *raw = NULL;
    for (size_t i = 0; i + sizeof(w_vals) <= m.n; i++) {
        if (memcmp(m.p + i, w_vals, sizeof(w_vals)) == 0)
            raw = m.p + i;
    }
    CHECK(raw != NULL);
    size_t raw_off = (size_t)(raw - m.p);
    uint8_t *block = aligned_alloc(64, (m.n + 64 + 63) / 64 * 64);
    int n_in_place = 0;
    for (size_t shift = 0; shift < 8; shift++) {
        memcpy(block + shift, m.p, m.n);
        CHECK(evo_onnx_load_buffer(block + shift, m.n, "t.onnx", &g, &err) == EVO_OK);
        const evo_value *w = value(g, "W");
        const uint8_t *at = block + shift + raw_off;
        if ((uintptr_t)at % 4 == 0) {
            CHECK(w->data == at);
            n_in_place++;
        } else {
            CHECK(w->data != at && memcmp(w->data, w_vals, 24) == 0);
        }
        evo_graph_free(g);
    }
    CHECK(n_in_place == 2);
    free(block);
    free(m.p);
}

/* ---- malformed models ------------------------------------------------------ */

static buf one_initializer(buf *t)
{
    buf g = {0};
    put_msg(&g, 5, t);
    return model(&g, 13);
}

static void test_bad_tensors(void)
{
    static const int64_t d23[2] = {2, 3};
    float six[6] = {0};
    buf t, m;

    t = tensor("w", EVO_DTYPE_FLOAT, d23, 2, six, 20);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "initializer \"w\": raw_data is 20 bytes, expected 24");

    t = tensor("w", EVO_DTYPE_FLOAT, d23, 2, NULL, 0);
    put_bytes(&t, 4, six, 20);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "holds 5 elements, expected 6");

    t = tensor("w", EVO_DTYPE_FLOAT, d23, 2, NULL, 0);
    put_bytes(&t, 4, six, 22); // not a multiple of 4
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "multiple of the element size");

    static const int64_t neg[2] = {2, -3};
    t = tensor("w", EVO_DTYPE_FLOAT, neg, 2, six, 24);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "negative");

    static const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    t = tensor("w", EVO_DTYPE_FLOAT, nine, 9, six, 4);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_LIMIT, "more than 8 dims");

    static const int64_t huge[3] = {1 << 20, 1 << 20, 1 << 20};
    t = tensor("w", EVO_DTYPE_FLOAT, huge, 3, NULL, 0);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_LIMIT, "exceed");

    // Declares 2^31 floats (8 GiB) with no data: must fail without allocating.
    static const int64_t big[1] = {(int64_t)1 << 31};
    t = tensor("w", EVO_DTYPE_FLOAT, big, 1, NULL, 0);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "holds 0 elements, expected 2147483648");

    static const int64_t overflow[2] = {(int64_t)1 << 62, 4};
    t = tensor("w", EVO_DTYPE_FLOAT, overflow, 2, NULL, 0);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_LIMIT, "exceed");

    t = tensor("w", 99, d23, 2, six, 24);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_UNSUPPORTED, "data type code 99");

    t = tensor("w", EVO_DTYPE_FLOAT, d23, 2, six, 24);
    put_int(&t, 14, 1); // external, but loaded from a buffer
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_UNSUPPORTED, "external data");

    t = tensor(NULL, EVO_DTYPE_FLOAT, d23, 2, six, 24);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "without a name");

    // dims with the wrong wire type
    t = tensor("w", EVO_DTYPE_FLOAT, NULL, 0, six, 4);
    put_f32(&t, 1, 2.0f);
    m = one_initializer(&t);
    expect_fail(&m, EVO_ERR_PARSE, "wrong wire type");
}

static buf node_msg(const char *name, const char *op, const char *in, const char *out)
{
    buf n = {0};
    if (in)
        put_str(&n, 1, in);
    if (out)
        put_str(&n, 2, out);
    if (name)
        put_str(&n, 3, name);
    if (op)
        put_str(&n, 4, op);
    return n;
}

static void test_bad_graphs(void)
{
    static const int64_t d1[1] = {1};
    float one = 1.0f;
    buf g = {0}, t, n, m;

    // duplicate initializer
    t = tensor("w", EVO_DTYPE_FLOAT, d1, 1, &one, 4);
    put_msg(&g, 5, &t);
    t = tensor("w", EVO_DTYPE_FLOAT, d1, 1, &one, 4);
    put_msg(&g, 5, &t);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "duplicate initializer \"w\"");

    // a node writing an initializer
    t = tensor("w", EVO_DTYPE_FLOAT, d1, 1, &one, 4);
    put_msg(&g, 5, &t);
    n = node_msg("r", "Relu", "x", "w");
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "node \"r\" (Relu): output \"w\" is already produced by an initializer");

    // two nodes writing one name
    n = node_msg("a", "Relu", "x", "y");
    put_msg(&g, 1, &n);
    n = node_msg("b", "Sigmoid", "x", "y");
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "node \"b\" (Sigmoid): output \"y\" is already produced by another node \"a\"");

    // a node writing a graph input
    buf vi = value_info("x", EVO_DTYPE_FLOAT, d1, 1);
    put_msg(&g, 11, &vi);
    n = node_msg("a", "Relu", NULL, "x");
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "already produced by a graph input");

    // node without op_type; a broken field after the node's name
    n = node_msg(NULL, NULL, "x", "y");
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "node 0: node without an op_type");
    n = node_msg("conv7", "Conv", "x", "y");
    put_raw(&n, "\x0a\x05x", 3);
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "node 0 (\"conv7\"): length runs past the end");

    // attribute of an unknown type, and a FLOAT attribute encoded as varint
    n = node_msg("a", "Relu", "x", "y");
    buf a = {0};
    put_str(&a, 1, "k");
    put_int(&a, 20, 99);
    put_msg(&n, 5, &a);
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "unknown attribute type 99");
    n = node_msg("a", "LeakyRelu", "x", "y");
    put_str(&a, 1, "alpha");
    put_int(&a, 20, 1);
    put_int(&a, 2, 1);
    put_msg(&n, 5, &a);
    put_msg(&g, 1, &n);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_PARSE, "node \"a\" (LeakyRelu): attribute 0: field 2");

    // an input with 9 dims, an unknown element type, a sequence type
    static const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    vi = value_info("x", EVO_DTYPE_FLOAT, nine, 9);
    put_msg(&g, 11, &vi);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_LIMIT, "input \"x\": more than 8 dims");
    vi = value_info("x", 99, d1, 1);
    put_msg(&g, 11, &vi);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_UNSUPPORTED, "element type code 99");
    buf seq = {0}, type = {0};
    put_bytes(&type, 4, "", 0);
    put_str(&seq, 1, "x");
    put_msg(&seq, 2, &type);
    put_msg(&g, 11, &seq);
    m = model(&g, 13);
    expect_fail(&m, EVO_ERR_UNSUPPORTED, "only tensor types");

    // no graph; an opset_import without the default domain while nodes use it
    m = (buf){0};
    put_int(&m, 1, 8);
    expect_fail(&m, EVO_ERR_PARSE, "no graph");
    n = node_msg("a", "Relu", "x", "y");
    put_msg(&g, 1, &n);
    m = (buf){0};
    buf os = {0};
    put_str(&os, 1, "com.example");
    put_int(&os, 2, 1);
    put_msg(&m, 8, &os);
    put_msg(&m, 7, &g);
    expect_fail(&m, EVO_ERR_PARSE, "no opset_import for the default domain");

    // a model without opset_import at all reads as opset 1
    n = node_msg("a", "Relu", "x", "y");
    put_msg(&g, 1, &n);
    m = model(&g, 0);
    evo_graph *gr;
    evo_error err;
    CHECK_MSG(load(&m, &gr, &err) == EVO_OK, "%s", err.msg);
    if (gr) {
        CHECK(gr->opset == 1 && gr->n_nodes == 1);
        evo_graph_free(gr);
    }
    free(m.p);

    // wire-level garbage: wrong wire type for ir_version, truncated field, empty file
    m = (buf){0};
    put_str(&m, 1, "8");
    expect_fail(&m, EVO_ERR_PARSE, "model: field 1 at byte 0: expected varint");
    m = (buf){0};
    put_raw(&m, "\x3a\x10\x0a", 3);
    expect_fail(&m, EVO_ERR_PARSE, "past the end");
    m = (buf){0};
    put_raw(&m, "", 0);
    expect_fail(&m, EVO_ERR_PARSE, "empty");
    free(g.p);
}

/* ---- external data --------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, n, f) == n);
        fclose(f);
    }
}

static buf external_model(const char *location, const char *offset, const char *length)
{
    static const int64_t d23[2] = {2, 3};
    buf t = tensor("w", EVO_DTYPE_FLOAT, d23, 2, NULL, 0);
    buf kv = {0};
    put_str(&kv, 1, "location");
    put_str(&kv, 2, location);
    put_msg(&t, 13, &kv);
    if (offset) {
        put_str(&kv, 1, "offset");
        put_str(&kv, 2, offset);
        put_msg(&t, 13, &kv);
    }
    if (length) {
        put_str(&kv, 1, "length");
        put_str(&kv, 2, length);
        put_msg(&t, 13, &kv);
    }
    put_int(&t, 14, 1);
    return one_initializer(&t);
}

static void expect_file(const char *dir, buf *m, evo_status code, const char *needle)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/m.onnx", dir);
    write_file(path, m->p, m->n);
    free(m->p);
    evo_graph *g = NULL;
    evo_error err;
    memset(&err, 0, sizeof(err));
    evo_status s = evo_onnx_load_file(path, &g, &err);
    CHECK_MSG(s == code, "expected %s, got %s (%s)", evo_status_name(code), evo_status_name(s),
              err.msg);
    if (s == EVO_OK) {
        const evo_value *w = value(g, "w");
        CHECK(w && w->size_bytes == 24 && memcmp(w->data, w_vals, 24) == 0);
        evo_graph_free(g);
    } else {
        CHECK_MSG(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err.msg, needle);
        CHECK(g == NULL);
    }
}

static void test_external(void)
{
    char dir[] = "/tmp/evo_onnx_ext_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512];
    uint8_t data[64 + 24 + 3];
    memset(data, 0xee, sizeof(data));
    memcpy(data + 64, w_vals, 24);
    memcpy(data + 1, w_vals, 24); // an unaligned copy too
    snprintf(path, sizeof(path), "%s/weights.bin", dir);
    write_file(path, data, sizeof(data));
    snprintf(path, sizeof(path), "%s/sub", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/sub/w.bin", dir);
    write_file(path, w_vals, 24);

    buf m = external_model("weights.bin", "64", "24");
    expect_file(dir, &m, EVO_OK, "");
    m = external_model("weights.bin", "1", NULL);
    expect_file(dir, &m, EVO_OK, "");
    m = external_model("sub/w.bin", NULL, NULL);
    expect_file(dir, &m, EVO_OK, "");
    m = external_model("./sub/w.bin", "0", "24");
    expect_file(dir, &m, EVO_OK, "");
    m = external_model("weights.bin", "80", NULL);
    expect_file(dir, &m, EVO_ERR_PARSE, "past the end");
    m = external_model("weights.bin", "18446744073709551615", "24");
    expect_file(dir, &m, EVO_ERR_PARSE, "past the end");
    m = external_model("weights.bin", "99999999999999999999", "24");
    expect_file(dir, &m, EVO_ERR_PARSE, "not a number");
    m = external_model("weights.bin", "-1", "24");
    expect_file(dir, &m, EVO_ERR_PARSE, "not a number");
    m = external_model("weights.bin", "0", "20");
    expect_file(dir, &m, EVO_ERR_PARSE, "length 20, expected 24");
    m = external_model("../weights.bin", NULL, NULL);
    expect_file(dir, &m, EVO_ERR_PARSE, "without \"..\"");
    m = external_model("sub/../../x", NULL, NULL);
    expect_file(dir, &m, EVO_ERR_PARSE, "without \"..\"");
    m = external_model("/etc/passwd", NULL, NULL);
    expect_file(dir, &m, EVO_ERR_PARSE, "relative path");
    m = external_model("missing.bin", NULL, NULL);
    expect_file(dir, &m, EVO_ERR_IO, "cannot open");
    m = external_model("sub", NULL, NULL);
    expect_file(dir, &m, EVO_ERR_IO, "not a regular file");

    evo_graph *g = NULL;
    evo_error err;
    snprintf(path, sizeof(path), "%s/nope.onnx", dir);
    CHECK(evo_onnx_load_file(path, &g, &err) == EVO_ERR_IO && g == NULL);
    CHECK(evo_onnx_load_file(dir, &g, &err) == EVO_ERR_IO && g == NULL);

    const char *names[] = {"weights.bin", "sub/w.bin", "m.onnx"};
    for (size_t i = 0; i < EVO_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

/* ---- real files ------------------------------------------------------------ */

#define TESTDATA "/usr/share/libonnx-testdata/data"

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)size + 1);
    *n = fread(p, 1, (size_t)size, f);
    fclose(f);
    return p;
}

static void test_testdata_conv(void)
{
    evo_graph *g = NULL;
    evo_error err;
    evo_status s = evo_onnx_load_file(TESTDATA "/node/test_conv_with_strides_padding/model.onnx",
                                      &g, &err);
    CHECK_MSG(s == EVO_OK, "%s", err.msg);
    if (s != EVO_OK)
        return;
    CHECK(g->ir_version == 6 && g->opset == 11);
    CHECK(strcmp(g->producer_name, "backend-test") == 0);
    CHECK(g->n_inputs == 2 && g->n_outputs == 1 && g->n_nodes == 1);
    const evo_value *x = value(g, "x");
    CHECK(x && x->is_input && x->rank == 4 && x->dims[0] == 1 && x->dims[1] == 1 &&
          x->dims[2] == 7 && x->dims[3] == 5 && x->dtype == EVO_DTYPE_FLOAT);
    const evo_value *w = value(g, "W");
    CHECK(w && w->is_input && w->rank == 4 && w->dims[2] == 3 && w->dims[3] == 3);
    const evo_node *n = &g->nodes[0];
    CHECK(strcmp(n->op_type, "Conv") == 0 && n->op == evo_op_from_name("", "Conv"));
    CHECK(strcmp(n->name, "Conv_0") == 0);
    CHECK(g->values[n->out[0]].is_output && strcmp(g->values[n->out[0]].name, "y") == 0);
    const evo_attr *a = evo_attr_find(n, "pads");
    CHECK(a && a->type == EVO_ATTR_INTS && a->n == 4 && a->ints[0] == 1 && a->ints[3] == 1);
    a = evo_attr_find(n, "strides");
    CHECK(a && a->n == 2 && a->ints[0] == 2 && a->ints[1] == 2);
    a = evo_attr_find(n, "kernel_shape");
    CHECK(a && a->n == 2 && a->ints[0] == 3 && a->ints[1] == 3);
    evo_graph_free(g);
}

static void test_testdata_pytorch(void)
{
    // PyTorch 0.3-era export: numeric names, initializers also listed as inputs.
    evo_graph *g = NULL;
    evo_error err;
    const char *path = TESTDATA "/pytorch-converted/test_Conv2d/model.onnx";
    evo_status s = evo_onnx_load_file(path, &g, &err);
    CHECK_MSG(s == EVO_OK, "%s", err.msg);
    if (s != EVO_OK)
        return;
    CHECK(g->ir_version == 3 && g->opset == 6 && strcmp(g->producer_name, "pytorch") == 0);
    CHECK(g->n_inputs == 1 && strcmp(g->values[g->inputs[0]].name, "0") == 0);
    const evo_value *w = value(g, "1");
    CHECK(w && !w->is_input && w->data && w->dtype == EVO_DTYPE_FLOAT && w->rank == 4);
    CHECK(w && w->dims[0] == 4 && w->dims[1] == 3 && w->dims[2] == 3 && w->dims[3] == 2);
    CHECK(w && w->size_bytes == 288);
    // The weights are the raw_data bytes of the file: find them there.
    size_t n_file;
    uint8_t *file = read_all(path, &n_file);
    bool found = false;
    for (size_t i = 0; file && w && i + 288 <= n_file; i++)
        found |= memcmp(file + i, w->data, 288) == 0;
    CHECK(found);
    free(file);
    const evo_value *b = value(g, "2");
    CHECK(b && b->data && b->rank == 1 && b->dims[0] == 4 && b->size_bytes == 16);
    CHECK(g->n_outputs == 1 && strcmp(g->values[g->outputs[0]].name, "3") == 0);
    const evo_attr *a = evo_attr_find(&g->nodes[0], "group");
    CHECK(a && a->type == EVO_ATTR_INT && a->i == 1);
    evo_graph_free(g);

    // Constant node with a TENSOR attribute; its value matches the expected output.
    s = evo_onnx_load_file(TESTDATA "/node/test_constant/model.onnx", &g, &err);
    CHECK_MSG(s == EVO_OK, "%s", err.msg);
    if (s != EVO_OK)
        return;
    a = evo_attr_find(&g->nodes[0], "value");
    CHECK(a && a->type == EVO_ATTR_TENSOR && a->tensor >= 0);
    if (a && a->tensor >= 0) {
        const evo_value *c = &g->values[a->tensor];
        CHECK(c->dtype == EVO_DTYPE_FLOAT && c->rank == 2 && c->dims[0] == 5 && c->dims[1] == 5);
        uint8_t *out = read_all(TESTDATA "/node/test_constant/test_data_set_0/output_0.pb", &n_file);
        found = false;
        for (size_t i = 0; out && i + 100 <= n_file; i++)
            found |= memcmp(out + i, c->data, 100) == 0;
        CHECK(found);
        free(out);
    }
    evo_graph_free(g);
}

/* Every prefix of a real model either loads or fails cleanly with a message. */
static void truncations(const char *path)
{
    size_t n;
    uint8_t *full = read_all(path, &n);
    CHECK_MSG(full != NULL, "cannot read %s", path);
    if (!full)
        return;
    int n_ok = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1); // exact size, so ASan sees any overread
        memcpy(p, full, cut);
        evo_graph *g = NULL;
        evo_error err;
        memset(&err, 0, sizeof(err));
        evo_status s = evo_onnx_load_buffer(p, cut, "cut.onnx", &g, &err);
        if (s == EVO_OK) {
            n_ok++;
            CHECK(g != NULL);
            evo_graph_free(g);
        } else {
            CHECK_MSG(g == NULL && strncmp(err.msg, "cut.onnx: ", 10) == 0 && err.code == s,
                      "cut %zu: \"%s\"", cut, err.msg);
        }
        free(p);
    }
    CHECK(n_ok >= 1); // at least the whole file
    free(full);
}

static void test_truncate(void)
{
    truncations(TESTDATA "/pytorch-converted/test_Conv2d/model.onnx");
    truncations(TESTDATA "/node/test_constant/model.onnx");
    buf m = full_model();
    char path[] = "/tmp/evo_onnx_full_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, m.p, m.n) == (ssize_t)m.n);
    close(fd);
    truncations(path);
    unlink(path);
    free(m.p);
}

/* Random byte corruptions of real models never crash (run under ASan in CI). */
static void test_corrupt(void)
{
    size_t n;
    uint8_t *full = read_all(TESTDATA "/pytorch-converted/test_Conv2d/model.onnx", &n);
    CHECK(full != NULL);
    if (!full)
        return;
    check_rng rng = {12345};
    uint8_t *p = malloc(n);
    int n_fail = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(p, full, n);
        int flips = check_rng_int(&rng, 1, 4);
        for (int k = 0; k < flips; k++)
            p[check_rng_int(&rng, 0, (int)n - 1)] = (uint8_t)check_rng_u64(&rng);
        evo_graph *g = NULL;
        evo_error err;
        if (evo_onnx_load_buffer(p, n, "x.onnx", &g, &err) == EVO_OK)
            evo_graph_free(g);
        else
            n_fail += strncmp(err.msg, "x.onnx: ", 8) == 0;
    }
    CHECK(n_fail > 0);
    free(p);
    free(full);
}

/* An ONNX node named like one of evo's internal ops (made only by passes) imports as unknown and is refused. */
static void test_internal_op_name(void)
{
    static const int64_t d1[1] = {1};
    buf g = {0};
    buf vi = value_info("x", EVO_DTYPE_FLOAT, d1, 1);
    put_msg(&g, 11, &vi);
    buf n = node_msg("u", "evo.UpdateSlices", "x", "y");
    put_msg(&g, 1, &n);
    vi = value_info("y", EVO_DTYPE_FLOAT, d1, 1);
    put_msg(&g, 12, &vi);
    buf m = model(&g, 13);
    evo_graph *gr = NULL;
    evo_error err = {0};
    CHECK_MSG(evo_onnx_load_buffer(m.p, m.n, "t.onnx", &gr, &err) == EVO_OK, "%s", err.msg);
    if (gr) {
        CHECK(gr->n_nodes == 1 && gr->nodes[0].op == EVO_OP_UNKNOWN);
        evo_compile_options o = evo_compile_options_default();
        evo_pass_ctx ctx = {&o, &err};
        CHECK(evo_pass_check(gr, &ctx) == EVO_ERR_UNSUPPORTED);
        CHECK_MSG(strstr(err.msg, "evo.UpdateSlices") != NULL, "%s", err.msg);
        evo_graph_free(gr);
    }
    free(m.p);
}

/* A one-node model x -> y whose node has op_type op in domain (NULL: none); ms_opset > 0 imports com.microsoft. */
static buf domain_model(const char *op, const char *domain, int64_t ms_opset)
{
    static const int64_t d1[1] = {1};
    buf g = {0};
    buf vi = value_info("x", EVO_DTYPE_UINT8, d1, 1);
    put_msg(&g, 11, &vi);
    buf n = node_msg("n", op, "x", "y");
    if (domain)
        put_str(&n, 7, domain);
    put_msg(&g, 1, &n);
    vi = value_info("y", EVO_DTYPE_UINT8, d1, 1);
    put_msg(&g, 12, &vi);
    buf m = model(&g, 13);
    if (ms_opset > 0) {
        buf os = {0};
        put_str(&os, 1, "com.microsoft");
        put_int(&os, 2, ms_opset);
        put_msg(&m, 8, &os);
    }
    return m;
}

/* Loads m; expects the node's op, and (when needle) the check pass to refuse it with needle in its message. */
static void expect_domain(buf *m, evo_op op, const char *needle)
{
    evo_graph *gr = NULL;
    evo_error err = {0};
    CHECK_MSG(load(m, &gr, &err) == EVO_OK, "%s", err.msg);
    if (gr) {
        CHECK(gr->n_nodes == 1 && gr->nodes[0].op == op);
        if (needle) {
            evo_compile_options o = evo_compile_options_default();
            evo_pass_ctx ctx = {&o, &err};
            CHECK(evo_pass_check(gr, &ctx) == EVO_ERR_UNSUPPORTED);
            CHECK_MSG(strstr(err.msg, needle) != NULL, "%s", err.msg);
        }
        evo_graph_free(gr);
    }
    free(m->p);
}

/*
 * com.microsoft ops import under their domain with its opset recorded; the
 * same names in the default or another domain, and the internal "evo"
 * domain, are unsupported, and the message names the domain.
 */
static void test_ms_domain(void)
{
    buf m = domain_model("QLinearSigmoid", "com.microsoft", 1);
    evo_graph *gr = NULL;
    evo_error err = {0};
    CHECK_MSG(load(&m, &gr, &err) == EVO_OK, "%s", err.msg);
    if (gr) {
        CHECK(gr->nodes[0].op == EVO_OP_QLINEAR_SIGMOID && strcmp(gr->nodes[0].domain, "com.microsoft") == 0);
        CHECK(gr->opset == 13 && gr->opset_ms == 1);
        evo_graph_free(gr);
    }
    free(m.p);
    m = domain_model("QLinearSigmoid", "com.microsoft", 0);
    expect_fail(&m, EVO_ERR_PARSE, "no opset_import for the domain \"com.microsoft\"");
    m = domain_model("QLinearSigmoid", "com.microsoft", 5000);
    expect_fail(&m, EVO_ERR_PARSE, "invalid opset version 5000");
    m = domain_model("QLinearSigmoid", NULL, 1);
    expect_domain(&m, EVO_OP_UNKNOWN, "unsupported op");
    m = domain_model("QLinearSigmoid", "com.example", 1);
    expect_domain(&m, EVO_OP_UNKNOWN, "unsupported op in domain \"com.example\"");
    m = domain_model("UpdateSlices", "evo", 1);
    expect_domain(&m, EVO_OP_UNKNOWN, "unsupported op in domain \"evo\"");
    m = domain_model("Relu", "com.microsoft", 1);
    expect_domain(&m, EVO_OP_UNKNOWN, "unsupported op in domain \"com.microsoft\"");
    m = domain_model("Relu", "ai.onnx", 1);
    expect_domain(&m, EVO_OP_RELU, NULL);
}

CHECK_MAIN(CHECK_TEST(test_full_model), CHECK_TEST(test_bad_tensors), CHECK_TEST(test_bad_graphs),
           CHECK_TEST(test_internal_op_name), CHECK_TEST(test_ms_domain),
           CHECK_TEST(test_external), CHECK_TEST(test_testdata_conv),
           CHECK_TEST(test_testdata_pytorch), CHECK_TEST(test_truncate), CHECK_TEST(test_corrupt))
