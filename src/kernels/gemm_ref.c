/*
 * gemm_ref.c - reference Gemm on the blocked SGEMM. Transposes become
 * operand strides; C enters through the epilogue's strided addend (a zero
 * stride broadcasts it), scaled by beta, so C is never copied. Tasks split
 * the output by rows or columns (evo_sgemm_split).
 */
#include "kernels/kernel.h"
#include "kernels/sgemm.h"

static size_t gemm_slice_bytes(int64_t m, int64_t n, int64_t k)
{
    return (evo_sgemm_scratch_bytes(m, n, k) + 63) & ~(size_t)63;
}

static size_t gemm_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    const evo_gemm_attrs *a = &n->a.gemm;
    const evo_value *av = &g->values[n->in[0]], *y = &g->values[n->out[0]];
    int64_t k = a->trans_a ? av->dims[0] : av->dims[1];
    return gemm_slice_bytes(y->dims[0], y->dims[1], k) * (size_t)n_tasks;
}

static void gemm_run(const evo_kernel_args *args, int task, int n_tasks)
{
    const evo_gemm_attrs *a = &args->node->a.gemm;
    const evo_tensor *at = &args->in[0], *bt = &args->in[1];
    const evo_tensor *ct = (args->n_in > 2 && args->in[2].data) ? &args->in[2] : NULL;
    int64_t m = args->out[0].dims[0], n = args->out[0].dims[1];
    int64_t k = a->trans_a ? at->dims[0] : at->dims[1];
    int64_t lda = at->dims[1], ldb = bt->dims[1];
    evo_sgemm_epilogue epi = {NULL, NULL, 0, 0, a->beta, a->act, a->act_alpha, a->act_beta};
    if (ct && a->beta != 0.0f) {
        epi.add = ct->data;
        epi.add_cs = (ct->rank >= 1 && ct->dims[ct->rank - 1] != 1) ? 1 : 0;
        epi.add_rs = (ct->rank == 2 && ct->dims[0] != 1) ? ct->dims[1] : 0;
    }
    evo_sgemm_args g = {m, n, k, a->alpha, 0.0f,
                        at->data, a->trans_a ? 1 : lda, a->trans_a ? lda : 1,
                        bt->data, a->trans_b ? 1 : ldb, a->trans_b ? ldb : 1,
                        args->out[0].data, n,
                        (epi.add || epi.act != EVO_ACT_NONE) ? &epi : NULL};
    void *slice = (unsigned char *)args->scratch + gemm_slice_bytes(m, n, k) * (size_t)task;
    evo_sgemm_ref_task(&g, slice, task, n_tasks);
}

const evo_kernel_def evo_kernel_gemm_ref = {"ref", EVO_ISA_REF, NULL, gemm_scratch, gemm_run};
