/*
 * fold_qdq_ms.c - folds the QDQ patterns that become ONNX Runtime's
 * com.microsoft quantized ops, as ORT's own QDQ transformer does, so evo
 * computes what ORT computes:
 *
 *   DQ(a), DQ(b) -> Add | Mul -> Q            becomes QLinearAdd | QLinearMul;
 *   DQ -> Sigmoid | LeakyRelu -> Q            QLinearSigmoid | QLinearLeakyRelu;
 *   DQ... -> Concat -> Q (parameters differ)  QLinearConcat;
 *   DQ -> GlobalAveragePool | AveragePool -> Q   the QLinear pools;
 *   DQ(a), DQ(const B) [, DQ(const int32 C) | const C] -> Gemm -> Q   QGemm.
 *
 * Every tensor is quantized per tensor (B of Gemm also per output column),
 * inputs and output share one type, uint8 or int8, and the float op's
 * output is read by its QuantizeLinear only. Runs after fold_qdq (which
 * takes Concat with equal parameters as a byte copy). The matcher returns
 * NULL when a pattern holds, else the reason it does not, which `evo info`
 * shows for a float op left between DQ and Q (evo_fold_qdq_ms_island).
 */
#include "graph/op.h"
#include "passes/passes.h"
#include "passes/qdq.h"
#include "passes/rewrite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MS_MAX_IN 64

/* q from quantization node id (see evo_qparam_of), which must be uint8/int8. */
static const char *qref_of(const evo_graph *g, int id, evo_qparam *q)
{
    if (evo_qparam_of(g, id, q))
        return "a scale or zero point is not constant";
    if (q->dtype != EVO_DTYPE_UINT8 && q->dtype != EVO_DTYPE_INT8)
        return "a quantized tensor is not uint8/int8";
    return NULL;
}

/* The DequantizeLinear producing v (live, or dead when v is a folded constant). */
static const char *dq_of(const evo_graph *g, int v, evo_qparam *q)
{
    int p = evo_qdq_dq_node(g, v);
    return p < 0 ? "an input is not dequantized" : qref_of(g, p, q);
}

/* A match: the data inputs' parameters, Gemm's bias, the output's QuantizeLinear. */
typedef struct ms_match {
    evo_op op;
    int n_data;
    evo_qparam in[MS_MAX_IN];
    int bias;              /* Gemm: the bias value or -1 */
    const int32_t *bias_q; /* Gemm: its int32 values when dequantized at scale a_scale * b_scale */
    evo_qparam out;
} ms_match;

static evo_op ms_op_of(const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_ADD: return EVO_OP_QLINEAR_ADD;
    case EVO_OP_MUL: return EVO_OP_QLINEAR_MUL;
    case EVO_OP_SIGMOID: return EVO_OP_QLINEAR_SIGMOID;
    case EVO_OP_LEAKY_RELU: return EVO_OP_QLINEAR_LEAKY_RELU;
    case EVO_OP_CONCAT: return EVO_OP_QLINEAR_CONCAT;
    case EVO_OP_GLOBAL_AVERAGE_POOL: return EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL;
    case EVO_OP_AVERAGE_POOL: return EVO_OP_QLINEAR_AVERAGE_POOL;
    case EVO_OP_GEMM: return EVO_OP_QGEMM;
    default: return EVO_OP_UNKNOWN;
    }
}

/* Gemm: B constant, per tensor or per output column; beta 1; C a constant [N] bias. */
static const char *match_gemm(const evo_graph *g, const evo_node *n, ms_match *m)
{
    const evo_gemm_attrs *at = &n->a.gemm;
    if (at->act != EVO_ACT_NONE || at->beta != 1.0f)
        return "beta is not 1, or an activation is fused";
    const evo_value *b = &g->values[m->in[1].data];
    int64_t cols = g->values[n->out[0]].dims[1];
    if (!evo_qdq_is_const(g, m->in[1].data))
        return "B is not a constant";
    if (m->in[1].count != 1 &&
        (m->in[1].count != cols || g->nodes[m->in[1].node].a.quant.axis != (at->trans_b ? 0 : b->rank - 1)))
        return "B is not quantized per tensor or per output column";
    m->bias = n->n_in > 2 ? n->in[2] : -1;
    m->bias_q = NULL;
    if (m->bias < 0)
        return NULL;
    const evo_value *c = &g->values[m->bias];
    if (!evo_qdq_is_const(g, m->bias) || c->dtype != EVO_DTYPE_FLOAT || c->rank != 1 || c->dims[0] != cols)
        return "C is not a constant [N] bias";
    m->bias_q = evo_qdq_int32_bias(g, m->bias, &m->in[0], &m->in[1], cols);
    return NULL;
}

/* Op-specific conditions beyond the shared ones. */
static const char *match_op(const evo_graph *g, const evo_node *n, ms_match *m)
{
    if (n->op == EVO_OP_GEMM)
        return match_gemm(g, n, m);
    for (int i = 0; n->op == EVO_OP_AVERAGE_POOL && i < n->a.pool.n_spatial; i++) {
        if (n->a.pool.dilation[i] != 1)
            return "dilations are not 1";
    }
    return NULL;
}

/* Inputs that carry data (the rest are Gemm's C): every one of Concat, two of Add, Mul and Gemm. */
static int n_data_inputs(const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_CONCAT: return n->n_in;
    case EVO_OP_ADD:
    case EVO_OP_MUL:
    case EVO_OP_GEMM: return 2;
    default: return 1;
    }
}

/* NULL when node id folds into its com.microsoft op (filling m), else the reason. */
static const char *match(const evo_graph *g, int id, ms_match *m)
{
    const evo_node *n = &g->nodes[id];
    m->op = ms_op_of(n);
    if (m->op == EVO_OP_UNKNOWN)
        return "no int8 kernel for this op";
    m->n_data = n_data_inputs(n);
    if (m->n_data > MS_MAX_IN)
        return "too many inputs";
    const char *why;
    for (int i = 0; i < m->n_data; i++) {
        if ((why = dq_of(g, n->in[i], &m->in[i])))
            return why;
        bool per_column_b = n->op == EVO_OP_GEMM && i == 1;
        if (m->in[i].count != 1 && !per_column_b)
            return "an input is not quantized per tensor";
        if (m->in[i].dtype != m->in[0].dtype && !per_column_b)
            return "its inputs are quantized to different types";
    }
    int r = evo_qdq_single_reader(g, n->out[0]);
    if (r < 0 || g->nodes[r].op != EVO_OP_QUANTIZE_LINEAR)
        return "its output is not read by one QuantizeLinear only";
    if ((why = qref_of(g, r, &m->out)))
        return why;
    if (m->out.count != 1 || m->out.dtype != m->in[0].dtype)
        return "its QuantizeLinear is not per tensor, or not of its inputs' type";
    return match_op(g, n, m);
}

/* Gemm's bias as int32 [N] at scale a_scale * b_scale[n]: -2 without one, -1 when a value overflows. */
static int gemm_bias(evo_graph *g, const ms_match *m, int64_t cols, const char *base)
{
    if (m->bias < 0)
        return -2;
    int32_t *q = malloc(sizeof(int32_t) * (size_t)(cols ? cols : 1));
    if (!q)
        return -1;
    const float *f = g->values[m->bias].data;
    bool fits = true;
    for (int64_t i = 0; i < cols; i++) {
        double s = (double)evo_qparam_scale(g, &m->in[0], 0) * evo_qparam_scale(g, &m->in[1], i);
        double v = m->bias_q ? m->bias_q[i] : nearbyint((double)f[i] / s);
        fits = fits && fabs(v) < 2147483647.0;
        q[i] = fits ? (int32_t)v : 0;
    }
    int id = fits ? evo_new_const(g, base, EVO_DTYPE_INT32, 1, &cols, q) : -1;
    free(q);
    return id;
}

/* The com.microsoft op's inputs for match m into in[]; returns their count, or -1 (stays float). */
static int ms_inputs(evo_graph *g, const evo_node *n, const ms_match *m, int *in)
{
    const evo_qparam *y = &m->out;
    int k = 0;
    switch (m->op) {
    case EVO_OP_QLINEAR_CONCAT:
        in[k++] = y->scale;
        if ((in[k++] = evo_qparam_zp_value(g, y, n->name)) < 0)
            return -1;
        for (int i = 0; i < m->n_data; i++) {
            in[k++] = m->in[i].data, in[k++] = m->in[i].scale;
            in[k++] = m->in[i].zp;
        }
        return k;
    case EVO_OP_QGEMM: {
        int bias = gemm_bias(g, m, g->values[n->out[0]].dims[1], n->name);
        int y_zp = evo_qparam_zp_value(g, y, n->name);
        if (bias == -1 || y_zp < 0)
            return -1;
        int ins[9] = {m->in[0].data, m->in[0].scale,        m->in[0].zp, m->in[1].data, m->in[1].scale,
                      m->in[1].zp,   bias >= 0 ? bias : -1, y->scale,    y_zp};
        memcpy(in, ins, sizeof(ins));
        return 9;
    }
    default:
        for (int i = 0; i < m->n_data; i++)
            in[k++] = m->in[i].data, in[k++] = m->in[i].scale, in[k++] = m->in[i].zp;
        in[k++] = y->scale, in[k++] = y->zp;
        return k;
    }
}

/*
 * Keeps the raw attributes the com.microsoft op defines (the ONNX writer
 * copies them): Gemm's beta (1 here) and AveragePool's dilations (1) go.
 */
static void keep_ms_attrs(evo_node *n)
{
    static const char *const gemm[] = {"alpha", "transA", "transB", NULL};
    static const char *const pool[] = {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                                       "strides",  NULL};
    static const char *const leaky[] = {"alpha", NULL}, *const concat[] = {"axis", NULL},
                             *const none[] = {NULL};
    const char *const *keep = n->op == EVO_OP_QGEMM                  ? gemm
                              : n->op == EVO_OP_QLINEAR_AVERAGE_POOL ? pool
                              : n->op == EVO_OP_QLINEAR_LEAKY_RELU   ? leaky
                              : n->op == EVO_OP_QLINEAR_CONCAT       ? concat
                                                                     : none;
    int k = 0;
    for (int i = 0; i < n->n_attrs; i++) {
        bool listed = false;
        for (int j = 0; keep[j] && !listed; j++)
            listed = strcmp(n->attrs[i].name, keep[j]) == 0;
        if (listed)
            n->attrs[k++] = n->attrs[i];
    }
    n->n_attrs = k;
}

/* Rewrites node id as its com.microsoft op; leaves it float when that cannot be. */
static evo_status fold(evo_graph *g, int id, const ms_match *m, evo_error *err)
{
    int tmp[3 * MS_MAX_IN + 2];
    int n_in = ms_inputs(g, &g->nodes[id], m, tmp);
    int *in = n_in > 0 ? evo_mem_alloc(&g->mem, sizeof(int) * (size_t)n_in) : NULL;
    if (!in)
        return EVO_OK;
    memcpy(in, tmp, sizeof(int) * (size_t)n_in);
    evo_node *n = &g->nodes[id];
    n->op = m->op;
    n->op_type = evo_op_type(m->op);
    n->domain = "com.microsoft";
    n->in = in;
    n->n_in = n_in;
    if (m->op == EVO_OP_QLINEAR_AVERAGE_POOL || m->op == EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL)
        n->a.pool.channels_last = false;
    /* ONNX Runtime's arithmetic, nothing fused */
    if (m->op == EVO_OP_QLINEAR_ADD || m->op == EVO_OP_QLINEAR_MUL)
        n->a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FLOAT, EVO_ACT_NONE, 0, 0};
    keep_ms_attrs(n);
    g->nodes[m->out.node].is_dead = true;
    evo_redirect_output(g, id, m->out.data);
    return evo_op_get(n->op)->infer(g, n, err);
}

evo_status evo_pass_fold_qdq_ms(evo_graph *g, evo_pass_ctx *ctx)
{
    ms_match m;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].is_dead || ms_op_of(&g->nodes[i]) == EVO_OP_UNKNOWN || match(g, i, &m))
            continue;
        evo_status s = fold(g, i, &m, ctx->err);
        if (s)
            return s;
    }
    evo_qdq_drop_unread_dq(g);
    return EVO_OK;
}

const char *evo_fold_qdq_ms_island(const evo_graph *g, const evo_node *n)
{
    if (n->is_dead || ms_op_of(n) == EVO_OP_UNKNOWN)
        return NULL;
    ms_match m;
    const char *why = match(g, (int)(n - g->nodes), &m);
    return why ? why : "would fold (pass fold_qdq_ms disabled)";
}
