/*
 * qconcat_ref.c - reference kernel of com.microsoft QLinearConcat. An
 * input whose scale and zero point equal Y's is copied as bytes; any other
 * goes through a 256-entry requantization table. FLOAT (an import): built
 * in float as ONNX Runtime builds it, clamp(nearbyintf(x_scale * (q - x_zp)
 * / y_scale) + y_zp). FIXED (an NPU simulation): TFLite's int8 QUANTIZE,
 * clamp(evo_requant_fixed(q - x_zp, M) + y_zp) with M the fixed-point form
 * of (double)x_scale / y_scale.
 */
#include "kernels/qlinear_ref.h"
#include "kernels/quant_common.h"

static void qconcat_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *out = &a->out[0];
    evo_dtype t = out->dtype;
    int64_t axis = a->node->a.axis.axis, outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= out->dims[d];
    for (int d = (int)axis + 1; d < out->rank; d++)
        inner *= out->dims[d];
    evo_qparam qy = evo_qparam_read(a, 0, 1, t);
    int64_t begin, end;
    evo_task_range(outer, task, n_tasks, &begin, &end);
    int64_t row_out = out->dims[axis] * inner, at = 0;
    uint8_t *dst = out->data;
    for (int k = 0; 2 + 3 * k < a->n_in; k++) {
        const evo_tensor *x = &a->in[2 + 3 * k];
        evo_qparam qx = evo_qparam_read(a, 3 + 3 * k, 4 + 3 * k, t);
        bool same = qx.scale == qy.scale && qx.zp == qy.zp;
        uint8_t table[256];
        bool fixed = a->node->a.axis.requant == EVO_REQUANT_FIXED;
        int32_t m = 0;
        int shift = 0;
        if (!same && fixed)
            evo_quant_multiplier((double)qx.scale / (double)qy.scale, &m, &shift);
        for (int i = 0; !same && i < 256; i++) {
            int32_t q = t == EVO_DTYPE_INT8 ? (int32_t)(int8_t)(uint8_t)i : i;
            evo_q_store(table, i,
                        fixed ? evo_requant_fixed(q - qx.zp, m, shift) + qy.zp
                              : evo_q_round(qx.scale * (float)(q - qx.zp) / qy.scale, qy.zp),
                        t);
        }
        int64_t row = x->dims[axis] * inner;
        const uint8_t *src = x->data;
        for (int64_t o = begin; o < end; o++) {
            for (int64_t j = 0; j < row; j++)
                dst[o * row_out + at + j] = same ? src[o * row + j] : table[src[o * row + j]];
        }
        at += row;
    }
}

const evo_kernel_def evo_kernel_qconcat_ref = {"ref", EVO_ISA_REF, NULL, NULL, qconcat_run};
