/*
 * qbinary.h - the arithmetic of QLinearAdd and QLinearMul shared by the
 * reference kernel (qbinary_ref.c) and the vector ones (qbinary_body.inc):
 * the per-node parameters, derived once per run from the scale and zero
 * point inputs, and one element's result.
 *
 * FLOAT (ONNX Runtime): each operand dequantized in float32, added or
 * multiplied, divided by C's scale, rounded half to even, plus C's zero
 * point. FIXED (TFLite's int8 ADD and MUL, docs/int8.md): ADD shifts each
 * operand (q - zp) left by 20 bits, scales it by its multiplier of
 * s_in / (2 max(s_a, s_b)) (below one), adds, and scales the sum by
 * 2 max(s_a, s_b) / (2^20 s_c); MUL scales the product of the two
 * (q - zp) by s_a s_b / s_c. Every multiplier is TFLite's
 * QuantizeMultiplier in double, applied as in evo_requant_fixed. Both end
 * with C's zero point and the clamp of a fused ReLU/Clip.
 */
#ifndef EVO_KERNELS_QBINARY_H
#define EVO_KERNELS_QBINARY_H

#include "kernels/qlinear_ref.h"
#include "kernels/quant_common.h"

/* TFLite's headroom of 8-bit ADD: operands are shifted left by this many bits before scaling. */
#define EVO_QADD_LEFT_SHIFT 20

typedef struct evo_qbinary_params {
    evo_dtype t;
    bool is_mul, fixed;
    int32_t za, zb, zc; /* zero points */
    int32_t lo, hi;     /* output range: the dtype's, narrowed by a fused ReLU/Clip */
    float fa, fb, fc;   /* FLOAT: the scales */
    /* FIXED: ADD's operand multipliers (ma, mb; shifts <= 0) and the output one (mc); MUL uses mc only */
    int32_t ma, mb, mc;
    int sa, sb, sc;
} evo_qbinary_params;

/*
 * The FIXED multipliers of an ADD with input scales a, b and output scale c
 * (TFLite's Prepare of int8 ADD): m[0], s[0] for A, m[1], s[1] for B and
 * m[2], s[2] for the sum.
 */
void evo_qadd_multipliers(float a, float b, float c, int32_t m[3], int s[3]);

/* The FIXED multiplier of a MUL with input scales a, b and output scale c. */
void evo_qmul_multiplier(float a, float b, float c, int32_t *m, int *s);

/* The parameters of a QLinearAdd/QLinearMul step from its inputs and attributes. */
void evo_qbinary_params_init(const evo_kernel_args *a, evo_qbinary_params *p);

/* One output element from the operand bytes x (of A) and y (of B), as an int32 in [lo, hi]. */
static inline int32_t evo_qbinary_one(const evo_qbinary_params *p, int32_t x, int32_t y)
{
    int32_t v;
    if (!p->fixed) {
        float va = p->fa * (float)(x - p->za), vb = p->fb * (float)(y - p->zb);
        v = evo_q_round(p->is_mul ? va * vb / p->fc : (va + vb) / p->fc, p->zc);
    } else if (p->is_mul) {
        v = evo_requant_fixed((x - p->za) * (y - p->zb), p->mc, p->sc) + p->zc;
    } else {
        int32_t a = evo_requant_fixed((x - p->za) * (1 << EVO_QADD_LEFT_SHIFT), p->ma, p->sa);
        int32_t b = evo_requant_fixed((y - p->zb) * (1 << EVO_QADD_LEFT_SHIFT), p->mb, p->sb);
        v = evo_requant_fixed(a + b, p->mc, p->sc) + p->zc;
    }
    return v < p->lo ? p->lo : v > p->hi ? p->hi : v;
}

#endif /* EVO_KERNELS_QBINARY_H */
