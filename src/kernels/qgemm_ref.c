/*
 * qgemm_ref.c - reference kernel of com.microsoft QGemm, as ONNX Runtime's
 * CPU kernel computes it: an exact int32 accumulator per output,
 * acc = C[m, n] + sum_k (A'[m, k] - a_zp)(B'[k, n] - b_zp[n]), and the
 * output scale per column s[n] = alpha * a_scale * b_scale[n] (float, in
 * that order), divided by y_scale for a quantized Y; then
 * Y = clamp(nearbyintf(acc * s[n]) + y_zp), or acc * s[n] for a float Y.
 * Tasks split the rows.
 */
#include "kernels/qlinear_ref.h"

/* C broadcast to [M, N]: its element for (m, n). */
static int32_t bias_at(const evo_tensor *c, int64_t m, int64_t n)
{
    if (!c->data)
        return 0;
    const int32_t *p = c->data;
    int64_t cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1, rows = c->rank == 2 ? c->dims[0] : 1;
    return p[(rows == 1 ? 0 : m) * cols + (cols == 1 ? 0 : n)];
}

static void qgemm_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_gemm_attrs *at = &a->node->a.gemm;
    const evo_tensor *ta = &a->in[0], *tb = &a->in[3], *y = &a->out[0];
    const evo_tensor *tc = a->n_in > 6 ? &a->in[6] : NULL;
    evo_qparam qa = evo_qparam_read(a, 1, 2, ta->dtype);
    bool quant_y = a->n_in > 8 && a->in[7].data && a->in[8].data;
    evo_qparam qy = quant_y ? evo_qparam_read(a, 7, 8, y->dtype) : (evo_qparam){1.0f, 0};
    int64_t rows = y->dims[0], cols = y->dims[1], k_len = at->trans_a ? ta->dims[0] : ta->dims[1];
    int64_t n_bparams = evo_tensor_count(&a->in[4]);
    const float *b_scale = a->in[4].data;
    const void *b_zp = a->n_in > 5 ? a->in[5].data : NULL;
    int64_t begin, end;
    evo_task_range(rows, task, n_tasks, &begin, &end);
    for (int64_t m = begin; m < end; m++) {
        for (int64_t n = 0; n < cols; n++) {
            int64_t p = n_bparams == 1 ? 0 : n;
            int32_t zb = b_zp ? evo_q_load(b_zp, p, tb->dtype) : 0;
            int64_t sum = tc ? bias_at(tc, m, n) : 0;
            for (int64_t k = 0; k < k_len; k++) {
                int32_t va =
                    evo_q_load(ta->data, at->trans_a ? k * rows + m : m * k_len + k, ta->dtype) - qa.zp;
                int32_t vb = evo_q_load(tb->data, at->trans_b ? n * k_len + k : k * cols + n, tb->dtype) - zb;
                sum += va * vb;
            }
            int32_t acc = (int32_t)(uint32_t)sum; /* wraps like ORT's int32 accumulator, without overflow */
            float scale = at->alpha * qa.scale * b_scale[p];
            if (!quant_y) {
                ((float *)y->data)[m * cols + n] = (float)acc * scale;
                continue;
            }
            scale /= qy.scale;
            evo_q_store(y->data, m * cols + n, evo_q_round((float)acc * scale, qy.zp), y->dtype);
        }
    }
}

const evo_kernel_def evo_kernel_qgemm_ref = {"ref", EVO_ISA_REF, NULL, NULL, qgemm_run};
