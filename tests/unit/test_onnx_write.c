/*
 * test_onnx_write.c - the ONNX writer on small graphs: each fused epilogue
 * the passes make is written in standard ops at the graph's opset
 * (HardSwish as HardSigmoid + Mul before opset 14, Clip bounds as
 * attributes before opset 11), read back by the importer and compiled, and
 * must compute what the compiled original computes on a seeded input. The
 * written ops are checked by name before compiling. Graphs that cannot be
 * written are refused with the node named, never a crash.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "onnx/onnx.h"
#include "onnx/onnx_write.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

typedef void (*build_fn)(evo_builder *b);

/* Fills every input with a seeded pattern in [-2, 2), runs, copies output 0 into out[cap]. */
static size_t run(evo_model *m, float *out, size_t cap)
{
    evo_session *s = NULL;
    evo_error err = {0};
    evo_tensor_desc d;
    size_t n = 0;
    CHECK_MSG(evo_session_create(m, NULL, &s, &err) == EVO_OK, "%s", err.msg);
    for (int i = 0; s && i < evo_model_n_inputs(m); i++) {
        evo_model_input_desc(m, i, &d);
        float *p = evo_session_input_data(s, i);
        uint64_t seed = 99 + (uint64_t)i;
        for (size_t k = 0; k < d.size_bytes / 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            p[k] = (float)((seed >> 40) & 0xffff) / 16384.0f - 2.0f;
        }
    }
    if (s && evo_session_run(s, &err) == EVO_OK && evo_model_output_desc(m, 0, &d) == EVO_OK &&
        d.size_bytes / 4 <= cap) {
        n = d.size_bytes / 4;
        memcpy(out, evo_session_output_data(s, 0), d.size_bytes);
    }
    CHECK_MSG(n > 0, "run: %s", err.msg);
    evo_session_free(s);
    return n;
}

/* Count of nodes with op type op in the written model, as imported (before any pass). */
static int count_op(const uint8_t *buf, size_t size, const char *op)
{
    evo_graph *g = NULL;
    evo_error err = {0};
    int n = -1;
    if (evo_onnx_load_buffer(buf, size, "written.onnx", &g, &err) == EVO_OK) {
        n = 0;
        for (int i = 0; i < g->n_nodes; i++)
            n += strcmp(g->nodes[i].op_type, op) == 0;
        evo_graph_free(g);
    }
    CHECK_MSG(n >= 0, "%s", err.msg);
    return n;
}

/*
 * Builds at opset, compiles, writes, re-imports and compiles the written
 * bytes; checks the outputs agree and that op_in appears (op_out does not)
 * in the written model.
 */
static void round_trip(build_fn build, int64_t opset, const char *op_in, const char *op_out)
{
    static float ya[1 << 16], yb[1 << 16];
    evo_builder b;
    evo_error err = {0};
    evo_model *ma = NULL, *mb = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK(evo_builder_init(&b, "write", 3) == EVO_OK);
    b.g->opset = opset;
    build(&b);
    CHECK(b.ok);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    CHECK_MSG(evo_onnx_write_buffer(b.g, NULL, &buf, &size, &err) == EVO_OK, "write: %s", err.msg);
    CHECK_MSG(evo_model_from_graph(b.g, &ma, &err) == EVO_OK, "%s", err.msg);
    if (!ma)
        evo_graph_free(b.g);
    if (!buf || !ma)
        goto done;
    if (op_in)
        CHECK_MSG(count_op(buf, size, op_in) > 0, "opset %lld: no %s written", (long long)opset, op_in);
    if (op_out)
        CHECK_MSG(count_op(buf, size, op_out) == 0, "opset %lld: %s written", (long long)opset, op_out);
    CHECK_MSG(evo_model_load_buffer(buf, size, "written.onnx", NULL, &mb, &err) == EVO_OK, "%s", err.msg);
    if (!mb)
        goto done;
    size_t na = run(ma, ya, 1 << 16), nb = run(mb, yb, 1 << 16);
    CHECK(na == nb && na > 0);
    double max_err = 0;
    for (size_t i = 0; i < na && na == nb; i++)
        max_err = fmax(max_err, fabs((double)ya[i] - yb[i]));
    CHECK_MSG(max_err <= 1e-5, "opset %lld: max|diff| %g", (long long)opset, max_err);
done:
    evo_model_free(ma);
    evo_model_free(mb);
    free(buf);
}

static void conv_input(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 4, 7, 9});
    evo_build_weight(b, "w", 4, (int64_t[]){6, 4, 3, 3}, 0.3f);
    evo_build_weight(b, "bias", 1, (int64_t[]){6}, 0.5f);
    evo_build_node(b, "Conv", "x w bias", "c", "kernel_shape=3,3 pads=1,0,1,2 strides=1,2");
}

static void build_hard_swish(evo_builder *b)
{
    conv_input(b);
    evo_build_node(b, "HardSwish", "c", "y", "");
    evo_build_output(b, "y");
}

static void build_clip(evo_builder *b)
{
    conv_input(b);
    if (b->g->opset >= 11) {
        evo_build_weight(b, "lo", 0, NULL, 0.0f);
        evo_build_node(b, "Clip", "c lo", "y", "");
    } else {
        evo_build_node(b, "Clip", "c", "y", "min:-0.25 max:0.75");
    }
    evo_build_output(b, "y");
}

/* Relu(Conv(x) + r): the residual fused before the activation. */
static void build_residual(evo_builder *b)
{
    conv_input(b);
    evo_build_input(b, "r", 4, (int64_t[]){1, 6, 7, 5});
    evo_build_node(b, "Add", "c r", "s", "");
    evo_build_node(b, "LeakyRelu", "s", "y", "alpha:0.125");
    evo_build_output(b, "y");
}

/* x + SiLU(Conv(x)) written as Mul(Sigmoid): fused with the residual after the activation. */
static void build_silu_residual(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 4, 5, 6});
    evo_build_weight(b, "w", 4, (int64_t[]){4, 4, 1, 1}, 0.5f);
    evo_build_node(b, "Conv", "x w", "c", "");
    evo_build_node(b, "Sigmoid", "c", "s", "");
    evo_build_node(b, "Mul", "c s", "a", "");
    evo_build_node(b, "Add", "x a", "y", "");
    evo_build_output(b, "y");
}

static void build_gemm(evo_builder *b)
{
    evo_build_input(b, "x", 2, (int64_t[]){3, 10});
    evo_build_weight(b, "w", 2, (int64_t[]){7, 10}, 0.4f);
    evo_build_weight(b, "bias", 1, (int64_t[]){7}, 0.4f);
    evo_build_node(b, "Gemm", "x w bias", "g", "transB=1");
    evo_build_node(b, "HardSigmoid", "g", "y", "alpha:0.3 beta:0.4");
    evo_build_output(b, "y");
}

/*
 * x * Clip(x + 3, 0, 6) / 6 and Clip(x + 3, 0, 6) / 6 on a graph input:
 * fuse_hard makes them HardSwish and HardSigmoid (1/6, 1/2) without raw
 * attributes and with nothing to fuse into.
 */
static void build_hard_chains(evo_builder *b)
{
    evo_build_input(b, "x", 2, (int64_t[]){3, 17});
    float three = 3, zero = 0, six = 6;
    evo_build_weight(b, "three", 0, NULL, 0);
    evo_build_weight(b, "zero", 0, NULL, 0);
    evo_build_weight(b, "six", 0, NULL, 0);
    memcpy((void *)b->g->values[evo_build_value(b, "three")].data, &three, 4);
    memcpy((void *)b->g->values[evo_build_value(b, "zero")].data, &zero, 4);
    memcpy((void *)b->g->values[evo_build_value(b, "six")].data, &six, 4);
    evo_build_node(b, "Add", "x three", "p", "");
    evo_build_node(b, "Clip", "p zero six", "c", "");
    evo_build_node(b, "Div", "c six", "hs", "");
    evo_build_node(b, "Mul", "x hs", "sw", "");
    evo_build_node(b, "Add", "x three", "p2", "");
    evo_build_node(b, "Clip", "p2 zero six", "c2", "");
    evo_build_node(b, "Div", "c2 six", "hsig", "");
    evo_build_node(b, "Add", "sw hsig", "y", "");
    evo_build_output(b, "y");
}

static void test_hard_chains(void)
{
    round_trip(build_hard_chains, 11, "HardSigmoid", "HardSwish");
    round_trip(build_hard_chains, 17, "HardSwish", NULL);
}

static void test_hard_swish(void)
{
    round_trip(build_hard_swish, 17, "HardSwish", NULL);
    round_trip(build_hard_swish, 14, "HardSwish", NULL);
    round_trip(build_hard_swish, 13, "HardSigmoid", "HardSwish");
}

static void test_clip(void)
{
    round_trip(build_clip, 17, "Clip", NULL);
    round_trip(build_clip, 10, "Clip", NULL);
}

static void test_residual(void)
{
    round_trip(build_residual, 17, "LeakyRelu", NULL);
    round_trip(build_silu_residual, 12, "Sigmoid", NULL);
}

static void test_gemm(void)
{
    round_trip(build_gemm, 17, "HardSigmoid", NULL);
}

/* A graph output folded to a constant is written through an Identity and reads back equal. */
static void test_constant_output(void)
{
    evo_builder b;
    evo_error err = {0};
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK(evo_builder_init(&b, "const_out", 5) == EVO_OK);
    evo_build_input(&b, "x", 2, (int64_t[]){2, 3});
    evo_build_weight(&b, "w", 2, (int64_t[]){2, 3}, 1.0f);
    evo_build_node(&b, "Relu", "x", "y", "");
    evo_build_node(&b, "Relu", "w", "k", "");
    evo_build_node(&b, "Neg", "k", "nk", "");
    evo_build_output(&b, "y");
    evo_build_output(&b, "k");
    evo_build_output(&b, "nk");
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(b.ok && evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    CHECK_MSG(evo_onnx_write_buffer(b.g, NULL, &buf, &size, &err) == EVO_OK, "%s", err.msg);
    evo_graph *back = NULL;
    CHECK_MSG(buf && evo_onnx_load_buffer(buf, size, "written.onnx", &back, &err) == EVO_OK, "%s", err.msg);
    if (back && evo_passes_run(back, &(evo_pass_ctx){&co, &err}) == EVO_OK && back->n_outputs == 3) {
        for (int k = 1; k < 3; k++) {
            const evo_value *a = &b.g->values[b.g->outputs[k]], *c = &back->values[back->outputs[k]];
            CHECK(strcmp(a->name, c->name) == 0);
            CHECK(a->data && c->data && a->size_bytes == c->size_bytes &&
                  memcmp(a->data, c->data, a->size_bytes) == 0);
        }
    } else {
        CHECK_MSG(false, "re-import: %s", err.msg);
    }
    evo_graph_free(back);
    evo_graph_free(b.g);
    free(buf);
}

/* An attribute the importer kept only by type (a subgraph) is refused, naming the node. */
static void test_refused(void)
{
    evo_builder b;
    evo_error err = {0};
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK(evo_builder_init(&b, "refused", 5) == EVO_OK);
    evo_build_input(&b, "x", 1, (int64_t[]){4});
    evo_build_node(&b, "Relu", "x", "y", "");
    evo_build_output(&b, "y");
    evo_node *n = &b.g->nodes[0];
    evo_attr *a = evo_mem_alloc(&b.g->mem, sizeof(evo_attr));
    CHECK(a != NULL);
    if (a) {
        *a = (evo_attr){.name = "body", .type = EVO_ATTR_GRAPH, .tensor = -1};
        n->attrs = a;
        n->n_attrs = 1;
        n->name = "odd_node";
    }
    CHECK(evo_onnx_write_buffer(b.g, NULL, &buf, &size, &err) == EVO_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "odd_node") && strstr(err.msg, "body"), "%s", err.msg);
    CHECK(buf == NULL);
    evo_graph_free(b.g);
}

CHECK_MAIN(CHECK_TEST(test_hard_swish), CHECK_TEST(test_hard_chains), CHECK_TEST(test_clip),
           CHECK_TEST(test_residual), CHECK_TEST(test_gemm), CHECK_TEST(test_constant_output),
           CHECK_TEST(test_refused))
