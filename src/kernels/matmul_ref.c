/*
 * matmul_ref.c - reference MatMul on the blocked SGEMM, one GEMM per
 * output batch with broadcast batch offsets. When B has no batch (a linear
 * layer) and A's batch is not broadcast, the batch folds into M: one big
 * GEMM. Tasks take whole batches when there are enough, otherwise every
 * task takes a row/column block of each batch.
 */
#include "kernels/kernel.h"
#include "kernels/sgemm.h"

typedef struct matmul_plan {
    int64_t m, n, k, n_batch;
    int batch_rank;
    int64_t batch[EVO_MAX_RANK];
    int64_t a_stride[EVO_MAX_RANK], b_stride[EVO_MAX_RANK]; /* per batch dim; 0 = broadcast */
} matmul_plan;

static void matmul_plan_make(matmul_plan *pl, int a_rank, const int64_t *a_dims, int b_rank,
                             const int64_t *b_dims)
{
    pl->m = a_rank >= 2 ? a_dims[a_rank - 2] : 1;
    pl->k = a_dims[a_rank - 1];
    pl->n = b_rank >= 2 ? b_dims[b_rank - 1] : 1;
    int ra = a_rank >= 2 ? a_rank - 2 : 0, rb = b_rank >= 2 ? b_rank - 2 : 0;
    pl->batch_rank = ra > rb ? ra : rb;
    int64_t sa = pl->m * pl->k, sb = pl->k * pl->n;
    pl->n_batch = 1;
    for (int i = pl->batch_rank - 1; i >= 0; i--) {
        int ia = i - (pl->batch_rank - ra), ib = i - (pl->batch_rank - rb);
        int64_t da = ia >= 0 ? a_dims[ia] : 1, db = ib >= 0 ? b_dims[ib] : 1;
        pl->batch[i] = da > db ? da : db;
        pl->a_stride[i] = da == 1 ? 0 : sa;
        pl->b_stride[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        pl->n_batch *= pl->batch[i];
    }
    /* B shared by every batch and A not broadcast: fold the batch into M. */
    bool b_shared = true, a_full = true;
    for (int i = 0; i < pl->batch_rank; i++) {
        b_shared = b_shared && (pl->b_stride[i] == 0);
        a_full = a_full && (pl->a_stride[i] != 0 || pl->batch[i] == 1);
    }
    if (b_shared && a_full && pl->batch_rank > 0) {
        pl->m *= pl->n_batch;
        pl->n_batch = 1;
        pl->batch_rank = 0;
    }
}

static size_t matmul_slice_bytes(const matmul_plan *pl)
{
    return (evo_sgemm_scratch_bytes(pl->m, pl->n, pl->k) + 63) & ~(size_t)63;
}

static size_t matmul_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    const evo_value *a = &g->values[n->in[0]], *b = &g->values[n->in[1]];
    matmul_plan pl;
    matmul_plan_make(&pl, a->rank, a->dims, b->rank, b->dims);
    return matmul_slice_bytes(&pl) * (size_t)n_tasks;
}

static void matmul_run(const evo_kernel_args *args, int task, int n_tasks)
{
    const evo_gemm_attrs *at = &args->node->a.gemm;
    matmul_plan pl;
    matmul_plan_make(&pl, args->in[0].rank, args->in[0].dims, args->in[1].rank,
                     args->in[1].dims);
    const float *a = args->in[0].data, *b = args->in[1].data;
    float *y = args->out[0].data;
    void *slice = (unsigned char *)args->scratch + matmul_slice_bytes(&pl) * (size_t)task;
    evo_sgemm_epilogue epi = {NULL, NULL, 0, 0, 0.0f, at->act, at->act_alpha, at->act_beta};
    evo_sgemm_args g = {pl.m, pl.n, pl.k, 1.0f, 0.0f, a, pl.k, 1, b, pl.n, 1, y, pl.n,
                        at->act != EVO_ACT_NONE ? &epi : NULL};
    bool whole_batches = pl.n_batch >= n_tasks;
    int64_t begin = 0, end = pl.n_batch;
    if (whole_batches)
        evo_task_range(pl.n_batch, task, n_tasks, &begin, &end);
    for (int64_t bi = begin; bi < end; bi++) {
        int64_t rem = bi, a_off = 0, b_off = 0;
        for (int i = pl.batch_rank - 1; i >= 0; i--) {
            int64_t idx = rem % pl.batch[i];
            rem /= pl.batch[i];
            a_off += idx * pl.a_stride[i];
            b_off += idx * pl.b_stride[i];
        }
        g.a = a + a_off;
        g.b = b + b_off;
        g.c = y + bi * pl.m * pl.n;
        if (whole_batches)
            evo_sgemm_ref(&g, slice);
        else
            evo_sgemm_ref_task(&g, slice, task, n_tasks);
    }
}

const evo_kernel_def evo_kernel_matmul_ref = {"ref", EVO_ISA_REF, NULL, matmul_scratch,
                                              matmul_run};
