/*
 * qmatmul_ref.c - reference QLinearMatMul and MatMulInteger with numpy
 * MatMul semantics (1-D operands, broadcast batch dims), integer-exact.
 *
 * acc[i][j] = sum_k (a[i][k] - a_zp[i]) * (b[k][j] - b_zp[j]) in int32
 * (wrapping); MatMulInteger stores it, QLinearMatMul requantizes it per
 * column (quant_out.h, FLOAT: m = (a_scale * b_scale[j]) / y_scale in
 * float32, as ONNX Runtime). Tasks take ranges of output rows over all
 * batches; each accumulates one row in its int64 scratch slice.
 */
#include "kernels/kernel.h"
#include "kernels/quant_out.h"

typedef struct qmm_plan {
    int64_t m, n, k, n_batch;
    int batch_rank;
    int64_t batch[EVO_MAX_RANK];
    int64_t a_stride[EVO_MAX_RANK], b_stride[EVO_MAX_RANK]; /* per batch dim; 0 = broadcast */
} qmm_plan;

static void qmm_plan_make(qmm_plan *pl, const evo_tensor *a, const evo_tensor *b)
{
    pl->m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    pl->k = a->dims[a->rank - 1];
    pl->n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    int ra = a->rank >= 2 ? a->rank - 2 : 0, rb = b->rank >= 2 ? b->rank - 2 : 0;
    pl->batch_rank = ra > rb ? ra : rb;
    int64_t sa = pl->m * pl->k, sb = pl->k * pl->n;
    pl->n_batch = 1;
    for (int i = pl->batch_rank - 1; i >= 0; i--) {
        int ia = i - (pl->batch_rank - ra), ib = i - (pl->batch_rank - rb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        pl->batch[i] = da > db ? da : db;
        pl->a_stride[i] = da == 1 ? 0 : sa;
        pl->b_stride[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        pl->n_batch *= pl->batch[i];
    }
}

static size_t qmm_slice_bytes(int64_t n)
{
    return ((size_t)n * sizeof(int64_t) + 63) & ~(size_t)63;
}

static size_t qmm_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    const evo_value *b = &g->values[n->in[n->op == EVO_OP_QLINEAR_MATMUL ? 3 : 1]];
    return qmm_slice_bytes(b->rank >= 2 ? b->dims[b->rank - 1] : 1) * (size_t)n_tasks;
}

/* Operands and zero points; a zero point with more than one element is per row (a) or per column (b). */
typedef struct qmm_src {
    const void *a, *b;
    evo_dtype at, bt;
    const void *a_zp, *b_zp; /* NULL: 0 */
    int64_t n_a_zp, n_b_zp;
} qmm_src;

/* acc[j] for row i of batch bi. */
static void qmm_row(const qmm_plan *pl, const qmm_src *s, int64_t bi, int64_t i, int64_t *acc)
{
    int64_t rem = bi, a_off = 0, b_off = 0;
    for (int d = pl->batch_rank - 1; d >= 0; d--) {
        int64_t idx = rem % pl->batch[d];
        rem /= pl->batch[d];
        a_off += idx * pl->a_stride[d];
        b_off += idx * pl->b_stride[d];
    }
    int32_t a_zp = s->a_zp ? evo_quant_load(s->a_zp, s->at, s->n_a_zp > 1 ? i : 0) : 0;
    for (int64_t j = 0; j < pl->n; j++)
        acc[j] = 0;
    for (int64_t kk = 0; kk < pl->k; kk++) {
        int32_t av = evo_quant_load(s->a, s->at, a_off + i * pl->k + kk) - a_zp;
        for (int64_t j = 0; j < pl->n; j++) {
            int32_t b_zp = s->b_zp ? evo_quant_load(s->b_zp, s->bt, s->n_b_zp > 1 ? j : 0) : 0;
            acc[j] += (int64_t)(av * (evo_quant_load(s->b, s->bt, b_off + kk * pl->n + j) - b_zp));
        }
    }
}

static void qmm_run(const evo_kernel_args *a, int task, int n_tasks)
{
    bool qlinear = a->node->op == EVO_OP_QLINEAR_MATMUL;
    const evo_gemm_attrs *at = &a->node->a.gemm;
    const evo_tensor *ta = &a->in[0], *tb = &a->in[qlinear ? 3 : 1];
    int za = 2, zb = qlinear ? 5 : 3;
    qmm_src s = {ta->data, tb->data, ta->dtype, tb->dtype, NULL, NULL, 0, 0};
    if (a->n_in > za && a->in[za].data) {
        s.a_zp = a->in[za].data;
        s.n_a_zp = evo_tensor_count(&a->in[za]);
    }
    if (a->n_in > zb && a->in[zb].data) {
        s.b_zp = a->in[zb].data;
        s.n_b_zp = evo_tensor_count(&a->in[zb]);
    }
    qmm_plan pl;
    qmm_plan_make(&pl, ta, tb);
    evo_quant_out o;
    const float *b_scale = NULL;
    int64_t n_b_scale = 0;
    if (qlinear) {
        int32_t y_zp = a->in[7].data ? evo_quant_load(a->in[7].data, a->out[0].dtype, 0) : 0;
        evo_quant_out_init(&o, at->requant, at->act_table, a->out[0].dtype, at->act, at->act_alpha, at->act_beta,
                           at->act_scale, at->act_zp, *(const float *)a->in[1].data, *(const float *)a->in[6].data, y_zp);
        b_scale = a->in[4].data;
        n_b_scale = evo_tensor_count(&a->in[4]);
    }
    int64_t *acc = (int64_t *)(void *)((unsigned char *)a->scratch + qmm_slice_bytes(pl.n) * (size_t)task);
    int64_t begin, end;
    evo_task_range(pl.n_batch * pl.m, task, n_tasks, &begin, &end);
    for (int64_t r = begin; r < end; r++) {
        qmm_row(&pl, &s, r / pl.m, r % pl.m, acc);
        for (int64_t j = 0; j < pl.n; j++) {
            int32_t v = (int32_t)(uint32_t)(uint64_t)acc[j];
            if (!qlinear) {
                ((int32_t *)a->out[0].data)[r * pl.n + j] = v;
                continue;
            }
            evo_quant_chan ch = evo_quant_out_chan(&o, b_scale[n_b_scale > 1 ? j : 0]);
            evo_quant_store(a->out[0].data, o.dtype, r * pl.n + j, evo_quant_out_value(&o, &ch, v));
        }
    }
}

const evo_kernel_def evo_kernel_qmatmul_ref = {"ref", EVO_ISA_REF, NULL, qmm_scratch, qmm_run};
