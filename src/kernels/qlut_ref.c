/*
 * qlut_ref.c - reference kernel of com.microsoft QLinearSigmoid and
 * QLinearLeakyRelu: a 256-entry table built as ONNX Runtime builds it, in
 * float (x = x_scale * (q - x_zp), f(x), y = clamp(nearbyintf(f(x) /
 * y_scale) + y_zp)), then one lookup per element. The table is a few
 * hundred operations, rebuilt per call so scales may be run-time inputs.
 * A node an NPU simulation placed on the NPU (attribute table) builds
 * TFLite's table instead (quant_tflite.c).
 */
#include "kernels/qlinear_ref.h"

#include "kernels/qlut_ref.h"
#include "kernels/quant_tflite.h"

void evo_qlut_build(evo_op op, float alpha, evo_qparam qx, evo_qparam qy, evo_dtype t, uint8_t table[256])
{
    for (int i = 0; i < 256; i++) {
        int32_t q = t == EVO_DTYPE_INT8 ? (int32_t)(int8_t)(uint8_t)i : i;
        float x = qx.scale * (float)(q - qx.zp);
        float y = op == EVO_OP_QLINEAR_SIGMOID ? 1.0f / (1.0f + expf(-x)) : (x >= 0.0f ? x : alpha * x);
        evo_q_store(table, i, evo_q_round(y / qy.scale, qy.zp), t);
    }
}

static void qlut_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *x = &a->in[0];
    evo_dtype t = x->dtype;
    uint8_t table[256];
    const evo_unary_attrs *at = &a->node->a.unary;
    evo_qparam qx = evo_qparam_read(a, 1, 2, t), qy = evo_qparam_read(a, 3, 4, t);
    if (at->table == EVO_ACT_TABLE_TFLITE) { /* an NPU's: TFLite's LOGISTIC (+ QUANTIZE) or LEAKY_RELU */
        uint8_t by_q[256]; /* indexed by q - qmin: int8 byte b is entry b ^ 0x80 */
        evo_quant_act_table_tflite(a->node->op == EVO_OP_QLINEAR_SIGMOID ? EVO_ACT_SIGMOID : EVO_ACT_LEAKY_RELU,
                                   at->alpha, 0.0f, qx.scale, qx.zp, qy.scale, qy.zp, t, by_q);
        for (int b = 0; b < 256; b++)
            table[b] = by_q[t == EVO_DTYPE_INT8 ? b ^ 0x80 : b];
    } else {
        evo_qlut_build(a->node->op, at->alpha, qx, qy, t, table);
    }
    const uint8_t *src = x->data;
    uint8_t *dst = a->out[0].data;
    int64_t begin, end;
    evo_task_range(evo_tensor_count(x), task, n_tasks, &begin, &end);
    for (int64_t i = begin; i < end; i++)
        dst[i] = table[src[i]];
}

const evo_kernel_def evo_kernel_qlut_ref = {"ref", EVO_ISA_REF, NULL, NULL, qlut_run};
