/*
 * qbinary_ref.c - reference kernel of com.microsoft QLinearAdd and
 * QLinearMul, with numpy broadcasting over logical indices; the arithmetic
 * of each element is qbinary.h's (FLOAT: ONNX Runtime's float path, FIXED:
 * TFLite's int8 ADD and MUL). (ONNX Runtime's x86 vector path for
 * QLinearAdd uses a fixed-point multiplier instead and may differ by one
 * step where a value falls near .5.) Also the parameter derivation the
 * vector kernels share.
 */
#include "kernels/qbinary.h"

void evo_qadd_multipliers(float a, float b, float c, int32_t m[3], int s[3])
{
    double twice_max = 2.0 * (double)(a > b ? a : b);
    evo_quant_multiplier((double)a / twice_max, &m[0], &s[0]);
    evo_quant_multiplier((double)b / twice_max, &m[1], &s[1]);
    evo_quant_multiplier(twice_max / ((double)(1 << EVO_QADD_LEFT_SHIFT) * (double)c), &m[2], &s[2]);
}

void evo_qmul_multiplier(float a, float b, float c, int32_t *m, int *s)
{
    evo_quant_multiplier((double)a * (double)b / (double)c, m, s);
}

void evo_qbinary_params_init(const evo_kernel_args *a, evo_qbinary_params *p)
{
    const evo_qbinary_attrs *at = &a->node->a.qbinary;
    evo_dtype t = a->in[0].dtype;
    evo_qparam qa = evo_qparam_read(a, 1, 2, t), qb = evo_qparam_read(a, 4, 5, t);
    evo_qparam qc = evo_qparam_read(a, 6, 7, t);
    *p = (evo_qbinary_params){.t = t,
                              .is_mul = a->node->op == EVO_OP_QLINEAR_MUL,
                              .fixed = at->requant == EVO_REQUANT_FIXED,
                              .za = qa.zp,
                              .zb = qb.zp,
                              .zc = qc.zp,
                              .fa = qa.scale,
                              .fb = qb.scale,
                              .fc = qc.scale};
    evo_quant_act_range(at->act, at->act_alpha, at->act_beta, qc.scale, qc.zp, t, &p->lo, &p->hi);
    if (p->fixed && p->is_mul) {
        evo_qmul_multiplier(qa.scale, qb.scale, qc.scale, &p->mc, &p->sc);
    } else if (p->fixed) {
        int32_t m[3];
        int s[3];
        evo_qadd_multipliers(qa.scale, qb.scale, qc.scale, m, s);
        p->ma = m[0], p->mb = m[1], p->mc = m[2];
        p->sa = s[0], p->sb = s[1], p->sc = s[2];
    }
}

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
    evo_qbinary_params p;
    evo_qbinary_params_init(a, &p);
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
        int32_t v = evo_qbinary_one(&p, evo_q_load(ta->data, ia, p.t), evo_q_load(tb->data, ib, p.t));
        evo_q_store(out->data, i, v, p.t);
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
