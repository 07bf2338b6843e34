/*
 * simulate.c - a placed int8 graph computed as its NPU would compute it.
 *
 * Arm's NPUs (Ethos-U through Vela, Ethos-N through its driver stack) run
 * TFLite's integer semantics. Most of evo's int8 arithmetic already is
 * TFLite's: QLinearConv and QLinearMatMul with EVO_REQUANT_FIXED are
 * bit-exact with LiteRT's reference CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED, and the ops that move bytes (reshape, transpose, slice,
 * concat of equal parameters, max pool, nearest resize, pad) are exact by
 * construction. A fused table activation is the one place where evo's own
 * choice (f rounded once, in double) differs: NPU nodes get TFLite's
 * tables (EVO_ACT_TABLE_TFLITE; also imported QLinearSigmoid and
 * QLinearLeakyRelu, whose tables are ONNX Runtime's), and imported convolutions,
 * QLinearAdds and QLinearMuls with ONNX Runtime's float requantization get
 * the fixed-point one TFLite's CONV_2D, ADD and MUL use (a QLinearConcat's
 * inputs of other parameters TFLite's QUANTIZE, a QLinearGlobalAveragePool
 * TFLite's int8 MEAN). Nodes whose arithmetic evo has only in ONNX
 * Runtime's form (a windowed QLinearAveragePool, which no NPU description
 * places today) are counted and named, never claimed exact. CPU nodes keep
 * their semantics.
 */
#include "npu/npu.h"

#include "kernels/quant_common.h"

#include <stdio.h>
#include <string.h>

/* Why node n, placed on the NPU, does not compute TFLite's integer arithmetic in evo; NULL when it does. */
static const char *inexact_reason(const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_QLINEAR_AVERAGE_POOL: return "ONNX Runtime's float rescale of the sum";
    default: return NULL;
    }
}

/* The first element of constant v (a scale or zero point) as a double; 0 when v is absent (a zero point). */
static double scalar_of(const evo_value *v)
{
    if (!v || !v->data)
        return 0;
    switch (v->dtype) {
    case EVO_DTYPE_FLOAT: return *(const float *)v->data;
    case EVO_DTYPE_INT8: return *(const int8_t *)v->data;
    case EVO_DTYPE_UINT8: return *(const uint8_t *)v->data;
    default: return 0;
    }
}

/* Does QLinearConcat n have an input whose scale or zero point differs from Y's (requantized, not copied)? */
static bool concat_requantizes(evo_graph *g, const evo_node *n)
{
    for (int i = 2; i + 2 < n->n_in; i += 3)
        if (scalar_of(evo_node_input(g, n, i + 1)) != scalar_of(evo_node_input(g, n, 0)) ||
            scalar_of(evo_node_input(g, n, i + 2)) != scalar_of(evo_node_input(g, n, 1)))
            return true;
    return false;
}

/* Counts one more inexact node of op (reason why) in out's kinds. */
static void count_op(evo_npu_sim *out, const char *op, const char *why)
{
    for (int i = 0; i < out->n_kinds; i++)
        if (strcmp(out->kinds[i].op, op) == 0) {
            out->kinds[i].count++;
            return;
        }
    if (out->n_kinds < EVO_NPU_SIM_KINDS) {
        out->kinds[out->n_kinds].op = op;
        out->kinds[out->n_kinds].reason = why;
        out->kinds[out->n_kinds++].count = 1;
    }
}

void evo_npu_apply_semantics(evo_graph *g, const evo_npu_placement *pl, evo_npu_sim *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < pl->n_nodes; i++) {
        if (!pl->nodes[i].on_npu)
            continue;
        evo_node *n = &g->nodes[pl->nodes[i].node];
        out->n_npu++;
        /* an imported node's ONNX Runtime float requantization: TFLite's CONV_2D and FULLY_CONNECTED rescale in
         * fixed point from the same double multiplier, its ADD and MUL in fixed point from double multipliers
         * of the scales (kernels/qbinary.h), and a concatenation's inputs of other parameters through QUANTIZE,
         * in fixed point from (double)x_scale / y_scale, and a global average pool as MEAN, its multiplier over
         * the count in fixed point (kernels/qpool_ref.c): all EVO_REQUANT_FIXED */
        evo_requant *rq = n->op == EVO_OP_QLINEAR_CONV     ? &n->a.conv.requant
                          : n->op == EVO_OP_QLINEAR_MATMUL ? &n->a.gemm.requant
                          : n->op == EVO_OP_QLINEAR_ADD || n->op == EVO_OP_QLINEAR_MUL ? &n->a.qbinary.requant
                          : n->op == EVO_OP_QLINEAR_CONCAT && concat_requantizes(g, n) ? &n->a.axis.requant
                          : n->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL                ? &n->a.pool.requant
                                                                                        : NULL;
        if (rq && *rq != EVO_REQUANT_FIXED) {
            *rq = EVO_REQUANT_FIXED;
            out->n_requant++;
        }
        if (n->op == EVO_OP_QLINEAR_CONV && evo_act_is_table(n->a.conv.act)) {
            n->a.conv.act_table = EVO_ACT_TABLE_TFLITE;
            out->n_tables++;
        } else if (n->op == EVO_OP_QLINEAR_MATMUL && evo_act_is_table(n->a.gemm.act)) {
            n->a.gemm.act_table = EVO_ACT_TABLE_TFLITE;
            out->n_tables++;
        } else if (n->op == EVO_OP_QLINEAR_SIGMOID || n->op == EVO_OP_QLINEAR_LEAKY_RELU) {
            n->a.unary.table = EVO_ACT_TABLE_TFLITE;
            out->n_tables++;
        }
        const char *why = inexact_reason(n);
        if (why) {
            out->n_inexact++;
            count_op(out, n->op_type, why);
        }
    }
}

evo_status evo_npu_simulate(evo_graph *g, const evo_npu_target *target, evo_npu_sim *out, evo_error *err)
{
    evo_npu_placement pl;
    evo_status s = evo_npu_place_graph(g, target, &pl, err);
    if (s)
        return s;
    evo_npu_apply_semantics(g, &pl, out);
    out->n_nodes = pl.n_nodes;
    evo_npu_placement_free(&pl);
    return EVO_OK;
}

char *evo_npu_sim_summary(const evo_npu_sim *s, const char *target, char *buf, size_t cap)
{
    int len = snprintf(buf, cap,
                       "%s: %d of %d nodes on the NPU with TFLite's integer semantics (TFLite's tables for %d "
                       "fused activations)",
                       target, s->n_npu - s->n_inexact, s->n_nodes, s->n_tables);
    if (s->n_requant && len > 0 && (size_t)len < cap)
        len += snprintf(buf + len, cap - (size_t)len, "; %d imported nodes requantized in fixed point",
                        s->n_requant);
    if (s->n_inexact && len > 0 && (size_t)len < cap)
        len += snprintf(buf + len, cap - (size_t)len, "; %d NPU nodes not TFLite-exact:", s->n_inexact);
    for (int i = 0; i < s->n_kinds && len > 0 && (size_t)len < cap; i++)
        len += snprintf(buf + len, cap - (size_t)len, "%s %s x%d (%s)", i ? "," : "", s->kinds[i].op,
                        s->kinds[i].count, s->kinds[i].reason);
    return buf;
}
