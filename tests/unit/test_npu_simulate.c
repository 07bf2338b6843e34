/*
 * test_npu_simulate.c - simulating an NPU target on a placed int8 graph:
 * the fused activation tables of NPU nodes become TFLite's, CPU nodes keep
 * theirs, imported QLinearAdd/QLinearMul take TFLite's fixed-point
 * arithmetic, nodes with ONNX Runtime's arithmetic are counted and named, and
 * loading with evo_compile_options.npu_target does the same (an unknown
 * target or a float model is refused with a message). The run of the
 * simulated graph uses the TFLite table: its outputs are the TFLite
 * table's entries.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "kernels/quant_common.h"
#include "npu/npu.h"
#include "passes/passes.h"

#include <stdio.h>
#include <string.h>

/* A 1x1 QLinearConv of c channels (uint8, identity-like weights) reading x, writing y. */
static void qconv(evo_builder *b, const char *x, const char *y, int c, const char *tag)
{
    char names[9][32], ins[320];
    const char *suffix[9] = {"", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"};
    for (int i = 1; i < 9; i++)
        snprintf(names[i], sizeof(names[i]), "%s_%s", tag, suffix[i]);
    float xs = 0.05f, ys = 0.1f, ws[8];
    uint8_t zp = 128;
    int8_t wz[8] = {0}, w[64] = {0};
    int32_t bias[8] = {0};
    for (int i = 0; i < c; i++) {
        ws[i] = 0.01f;
        w[i * c + i] = 100;
    }
    evo_build_const(b, names[1], EVO_DTYPE_FLOAT, 0, NULL, &xs);
    evo_build_const(b, names[2], EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_const(b, names[3], EVO_DTYPE_INT8, 4, (int64_t[]){c, c, 1, 1}, w);
    evo_build_const(b, names[4], EVO_DTYPE_FLOAT, 1, (int64_t[]){c}, ws);
    evo_build_const(b, names[5], EVO_DTYPE_INT8, 1, (int64_t[]){c}, wz);
    evo_build_const(b, names[6], EVO_DTYPE_FLOAT, 0, NULL, &ys);
    evo_build_const(b, names[7], EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_const(b, names[8], EVO_DTYPE_INT32, 1, (int64_t[]){c}, bias);
    snprintf(ins, sizeof(ins), "%s %s %s %s %s %s %s %s %s", x, names[1], names[2], names[3], names[4], names[5],
             names[6], names[7], names[8]);
    evo_build_node(b, "QLinearConv", ins, y, "kernel_shape=1,1");
}

/* The live node writing the value named out. */
static evo_node *find(evo_graph *g, const char *out)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].is_dead && g->nodes[i].n_out > 0 && strcmp(g->values[g->nodes[i].out[0]].name, out) == 0)
            return &g->nodes[i];
    return NULL;
}

/*
 * x -> c1 (LeakyReLU table, FIXED) -> c2 (SiLU table, FIXED) -> c3 (imported:
 * FLOAT requantization) -> y. Ethos-N78 (this table revision) takes c1 and c3
 * but not SiLU's MUL by a tensor: c2 stays on the CPU.
 */
static evo_graph *build(void)
{
    evo_builder b;
    CHECK(evo_builder_init(&b, "sim_small", 7) == EVO_OK);
    evo_build_input_typed(&b, "x", EVO_DTYPE_UINT8, 4, (int64_t[]){1, 8, 4, 4});
    qconv(&b, "x", "a", 8, "c1");
    qconv(&b, "a", "s", 8, "c2");
    qconv(&b, "s", "y", 8, "c3");
    evo_build_output(&b, "y");
    CHECK(b.ok);
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    const evo_act acts[2] = {EVO_ACT_LEAKY_RELU, EVO_ACT_SILU};
    const char *names[2] = {"a", "s"};
    for (int i = 0; i < 2; i++) {
        evo_node *n = find(b.g, names[i]);
        CHECK(n && n->op == EVO_OP_QLINEAR_CONV);
        if (!n)
            continue;
        n->a.conv.requant = EVO_REQUANT_FIXED;
        n->a.conv.act = acts[i];
        n->a.conv.act_alpha = 0.125f;
        n->a.conv.act_scale = 0.1f;
        n->a.conv.act_zp = 128;
    }
    return b.g;
}

static void test_apply(void)
{
    evo_graph *g = build();
    evo_error err = {0};
    evo_npu_sim sim;
    CHECK(evo_npu_simulate(g, evo_npu_target_find("ethos-n78-1tops-2ple"), &sim, &err) == EVO_OK);
    evo_node *c1 = find(g, "a"), *c2 = find(g, "s");
    CHECK(c1 && c1->a.conv.act_table == EVO_ACT_TABLE_TFLITE);
    CHECK(c2 && c2->a.conv.act_table == EVO_ACT_TABLE_FLOAT);
    evo_node *c3 = find(g, "y");
    CHECK(c3 && c3->a.conv.requant == EVO_REQUANT_FIXED); /* imported: ONNX Runtime's float requantization before */
    CHECK_MSG(sim.n_nodes == 3 && sim.n_npu == 2 && sim.n_tables == 1 && sim.n_requant == 1 && sim.n_inexact == 0,
              "%d %d %d %d %d", sim.n_nodes, sim.n_npu, sim.n_tables, sim.n_requant, sim.n_inexact);
    char line[512];
    evo_npu_sim_summary(&sim, "ethos-n78-1tops-2ple", line, sizeof(line));
    CHECK_MSG(strstr(line, "2 of 3 nodes on the NPU with TFLite's integer semantics (TFLite's tables for 1 fused") &&
                  strstr(line, "; 1 imported nodes requantized in fixed point") && !strstr(line, "not TFLite"),
              "%s", line);
    /* Ethos-U takes all three: both tables TFLite's */
    CHECK(evo_npu_simulate(g, evo_npu_target_find("ethos-u55-128"), &sim, &err) == EVO_OK);
    CHECK(c2 && c2->a.conv.act_table == EVO_ACT_TABLE_TFLITE && sim.n_tables == 2 && sim.n_npu == 3);
    evo_graph_free(g);
}

/* The first three live non-constant nodes of g, all placed on the NPU. */
static evo_npu_placement all_on_npu(const evo_graph *g, evo_npu_place places[3])
{
    memset(places, 0, 3 * sizeof(*places));
    evo_npu_placement pl = {NULL, places, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].is_dead && g->nodes[i].op != EVO_OP_CONSTANT && pl.n_nodes < 3)
            places[pl.n_nodes++] = (evo_npu_place){.node = i, .on_npu = true};
    return pl;
}

/* A node evo computes only in ONNX Runtime's form, on the NPU: counted and named, its arithmetic untouched. */
static void test_inexact(void)
{
    evo_graph *g = build();
    evo_node *c2 = find(g, "s");
    CHECK(c2 != NULL);
    if (!c2) {
        evo_graph_free(g);
        return;
    }
    c2->op = EVO_OP_QLINEAR_AVERAGE_POOL; /* only the op is read: a stand-in for an imported QLinearAveragePool */
    c2->op_type = "com.microsoft.QLinearAveragePool";
    evo_npu_place places[3];
    evo_npu_placement pl = all_on_npu(g, places);
    evo_npu_sim sim;
    evo_npu_apply_semantics(g, &pl, &sim);
    sim.n_nodes = pl.n_nodes;
    CHECK_MSG(sim.n_npu == 3 && sim.n_inexact == 1 && sim.n_kinds == 1 && sim.kinds[0].count == 1 &&
                  strcmp(sim.kinds[0].op, "com.microsoft.QLinearAveragePool") == 0,
              "%d %d %d", sim.n_npu, sim.n_inexact, sim.n_kinds);
    char line[512];
    evo_npu_sim_summary(&sim, "ethos-u55-128", line, sizeof(line));
    CHECK_MSG(strstr(line, "2 of 3 nodes on the NPU with TFLite's integer semantics") &&
                  strstr(line, "; 1 NPU nodes not TFLite-exact: com.microsoft.QLinearAveragePool x1 (ONNX Runtime's "
                               "float rescale"),
              "%s", line);
    evo_graph_free(g);
}

/*
 * An imported QLinearAdd and QLinearMul (ONNX Runtime's FLOAT requantization) on the NPU take TFLite's
 * fixed-point ADD and MUL (FIXED) and count as requantized, not as inexact; on the CPU they keep FLOAT.
 */
static void test_qbinary_fixed(void)
{
    const evo_op ops[2] = {EVO_OP_QLINEAR_ADD, EVO_OP_QLINEAR_MUL};
    for (int k = 0; k < 2; k++) {
        evo_graph *g = build();
        evo_node *c2 = find(g, "s"), *c3 = find(g, "y");
        CHECK(c2 != NULL && c3 != NULL);
        if (!c2 || !c3) {
            evo_graph_free(g);
            return;
        }
        c2->op = c3->op = ops[k]; /* stand-ins: only the op and its requantization mode are read */
        c2->a.qbinary = c3->a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FLOAT, EVO_ACT_NONE, 0, 0};
        evo_npu_place places[3];
        evo_npu_placement pl = all_on_npu(g, places);
        places[2].on_npu = false; /* c3 on the CPU */
        evo_npu_sim sim;
        evo_npu_apply_semantics(g, &pl, &sim);
        CHECK_MSG(sim.n_npu == 2 && sim.n_requant == 1 && sim.n_inexact == 0, "%d %d %d", sim.n_npu, sim.n_requant,
                  sim.n_inexact);
        CHECK(c2->a.qbinary.requant == EVO_REQUANT_FIXED && c3->a.qbinary.requant == EVO_REQUANT_FLOAT);
        evo_graph_free(g);
    }
}

/* x -> c1 (LeakyReLU alpha 1/8 table) -> y: the one-conv graph the run test simulates. */
static evo_graph *build_one(void)
{
    evo_builder b;
    CHECK(evo_builder_init(&b, "sim_one", 7) == EVO_OK);
    evo_build_input_typed(&b, "x", EVO_DTYPE_UINT8, 4, (int64_t[]){1, 8, 4, 4});
    qconv(&b, "x", "y", 8, "c1");
    evo_build_output(&b, "y");
    CHECK(b.ok);
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK_MSG(evo_passes_run(b.g, &ctx) == EVO_OK, "%s", err.msg);
    evo_node *n = find(b.g, "y");
    CHECK(n != NULL);
    if (n) {
        n->a.conv.requant = EVO_REQUANT_FIXED;
        n->a.conv.act = EVO_ACT_LEAKY_RELU;
        n->a.conv.act_alpha = 0.125f;
        n->a.conv.act_scale = 0.1f;
        n->a.conv.act_zp = 128;
    }
    return b.g;
}

/* The simulated graph runs the TFLite table, with the reference and the fastest kernels alike. */
static void test_run(void)
{
    evo_graph *g = build_one();
    evo_error err = {0};
    evo_npu_sim sim;
    CHECK(evo_npu_simulate(g, evo_npu_target_find("ethos-u55-128"), &sim, &err) == EVO_OK && sim.n_tables == 1);
    evo_model *m = NULL;
    if (evo_model_from_graph(g, &m, &err) != EVO_OK) {
        CHECK_MSG(0, "%s", err.msg);
        evo_graph_free(g);
        return;
    }
    uint8_t tt[256], tf[256];
    evo_quant_act_table(EVO_ACT_TABLE_TFLITE, EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 128, 0.1f, 128, EVO_DTYPE_UINT8,
                        tt);
    evo_quant_act_table(EVO_ACT_TABLE_FLOAT, EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 128, 0.1f, 128, EVO_DTYPE_UINT8,
                        tf);
    int32_t q;
    int shift;
    evo_quant_multiplier(0.05 * 0.01 / 0.1, &q, &shift);
    const char *isas[2] = {"ref", NULL};
    for (int k = 0; k < 2; k++) {
        evo_session_options so = evo_session_options_default();
        so.isa = isas[k];
        evo_session *s = NULL;
        CHECK_MSG(evo_session_create(m, &so, &s, &err) == EVO_OK, "%s", err.msg);
        if (!s)
            continue;
        uint8_t *x = evo_session_input_data(s, 0);
        for (int i = 0; i < 128; i++)
            x[i] = (uint8_t)(i * 2);
        CHECK(evo_session_run(s, &err) == EVO_OK);
        const uint8_t *y = evo_session_output_data(s, 0);
        int wrong = 0, differ = 0;
        for (int c = 0; c < 8; c++)
            for (int p = 0; p < 16; p++) {
                int i = c * 16 + p; /* the diagonal weight: channel c reads channel c only */
                int32_t pre = evo_requant_fixed((x[i] - 128) * 100, q, shift) + 128;
                pre = pre < 0 ? 0 : pre > 255 ? 255 : pre;
                wrong += y[i] != tt[pre];
                differ += tt[pre] != tf[pre];
            }
        CHECK_MSG(wrong == 0, "isa %s: %d outputs are not the TFLite table's entries", isas[k] ? isas[k] : "best",
                  wrong);
        CHECK_MSG(differ > 0, "the inputs never reach an entry where the two tables differ");
        evo_session_free(s);
    }
    evo_model_free(m); /* frees g */
}

static void test_load_option(void)
{
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    co.npu_target = "ethos-x99";
    evo_graph *g = NULL;
    const char *relu = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx";
    CHECK(evo_graph_load_compiled(relu, NULL, 0, &co, &g, &err) == EVO_ERR_INVALID_ARG &&
          strstr(err.msg, "unknown NPU target \"ethos-x99\"") && strstr(err.msg, "ethos-u55-128"));
    co.npu_target = "ethos-u55-256";
    CHECK(evo_graph_load_compiled(relu, NULL, 0, &co, &g, &err) == EVO_ERR_INVALID_ARG &&
          strstr(err.msg, "needs an int8 model"));
    co.npu_target = "cpu";
    CHECK(evo_graph_load_compiled(relu, NULL, 0, &co, &g, &err) == EVO_OK);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_apply), CHECK_TEST(test_inexact), CHECK_TEST(test_qbinary_fixed), CHECK_TEST(test_run), CHECK_TEST(test_load_option))
