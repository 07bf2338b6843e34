/*
 * qbinary_ref.c - reference kernel of com.microsoft QLinearAdd and
 * QLinearMul, with numpy broadcasting over logical indices. The arithmetic
 * is ONNX Runtime's float path: each operand dequantized in float
 * (scale * (q - zp)), added or multiplied, divided by C's scale, rounded
 * half to even and offset by C's zero point, then saturated. (ONNX
 * Runtime's x86 vector path for QLinearAdd uses a fixed-point multiplier
 * instead and may differ by one step where a value falls near .5.)
 */
#include "kernels/qlinear_ref.h"

/* Element strides of x seen through the output's dims (0 on broadcast axes). */
static void bcast_strides(const evo_tensor *x, const evo_tensor *out, int64_t *strides)
{
    int64_t step = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int xd = d - (out->rank - x->rank);
        if (xd < 0) {
            strides[d] = 0;
            continue;
        }
        strides[d] = x->dims[xd] == 1 ? 0 : step;
        step *= x->dims[xd];
    }
}

static void qbinary_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *ta = &a->in[0], *tb = &a->in[3], *out = &a->out[0];
    evo_dtype t = ta->dtype;
    evo_qparam qa = evo_qparam_read(a, 1, 2, t), qb = evo_qparam_read(a, 4, 5, t),
               qc = evo_qparam_read(a, 6, 7, t);
    bool is_mul = a->node->op == EVO_OP_QLINEAR_MUL;
    int64_t sa[EVO_MAX_RANK], sb[EVO_MAX_RANK], idx[EVO_MAX_RANK];
    bcast_strides(ta, out, sa);
    bcast_strides(tb, out, sb);
    int64_t begin, end;
    evo_task_range(evo_tensor_count(out), task, n_tasks, &begin, &end);
    int64_t rest = begin, ia = 0, ib = 0;
    for (int d = out->rank - 1; d >= 0; d--) {
        idx[d] = rest % out->dims[d];
        rest /= out->dims[d];
        ia += idx[d] * sa[d];
        ib += idx[d] * sb[d];
    }
    for (int64_t i = begin; i < end; i++) {
        float va = qa.scale * (float)(evo_q_load(ta->data, ia, t) - qa.zp);
        float vb = qb.scale * (float)(evo_q_load(tb->data, ib, t) - qb.zp);
        float v = is_mul ? va * vb / qc.scale : (va + vb) / qc.scale;
        evo_q_store(out->data, i, evo_q_round(v, qc.zp), t);
        for (int d = out->rank - 1; d >= 0; d--) {
            ia += sa[d];
            ib += sb[d];
            if (++idx[d] < out->dims[d])
                break;
            ia -= sa[d] * out->dims[d];
            ib -= sb[d] * out->dims[d];
            idx[d] = 0;
        }
    }
}

const evo_kernel_def evo_kernel_qbinary_ref = {"ref", EVO_ISA_REF, NULL, NULL, qbinary_run};
