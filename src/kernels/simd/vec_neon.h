/*
 * vec_neon.h - float32 vector helpers for AArch64 Advanced SIMD kernel
 * files (4 lanes, 32 registers).
 *
 * The same names as vec_avx2.h, so that a body written against them
 * (*_body.inc, conv_act.inc) compiles for NEON too. NEON has no masked
 * loads, so a vmask here is the number of leading lanes in use (all masks
 * the bodies build start at lane 0): partial vectors go through a small
 * buffer and never touch memory past the last lane. v_max/v_min follow the
 * x86 rule (b where either is NaN) rather than NEON's fmax, so results
 * match the reference and the x86 variants bit for bit; v_exp is the same
 * polynomial as vec_avx2.h. Include only from *_neon.c files.
 */
#ifndef EVO_VEC_NEON_H
#define EVO_VEC_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define V_LANES 4

typedef float32x4_t vf;
typedef int vmask; /* lanes [0, vmask) */

static inline vmask v_mask_n(int64_t n) { return n >= V_LANES ? V_LANES : n > 0 ? (int)n : 0; }
static inline vmask v_mask_all(void) { return V_LANES; }

static inline vf v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, vf v) { vst1q_f32(p, v); }
/* The first n lanes from p, fill in the others. */
static inline vf v_load_n(const float *p, int64_t n, vf fill)
{
    if (n >= V_LANES)
        return vld1q_f32(p);
    float t[V_LANES];
    vst1q_f32(t, fill);
    if (n > 0)
        memcpy(t, p, sizeof(float) * (size_t)n);
    return vld1q_f32(t);
}
static inline void v_store_n(float *p, vf v, int64_t n)
{
    if (n >= V_LANES) {
        vst1q_f32(p, v);
    } else if (n > 0) {
        float t[V_LANES];
        vst1q_f32(t, v);
        memcpy(p, t, sizeof(float) * (size_t)n);
    }
}
/* Lanes in m loaded (others 0) / stored. */
static inline vf v_load_mask(const float *p, vmask m) { return v_load_n(p, m, vdupq_n_f32(0.0f)); }
static inline void v_store_mask(float *p, vmask m, vf v) { v_store_n(p, v, m); }

static inline vf v_set1(float x) { return vdupq_n_f32(x); }
static inline vf v_zero(void) { return vdupq_n_f32(0.0f); }
static inline vf v_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf v_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf v_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf v_div(vf a, vf b) { return vdivq_f32(a, b); }
/* a * b + c with one rounding */
static inline vf v_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
/* c - a * b, rounded once */
static inline vf v_fnma(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }
/* 1 / a to about 16 bits: the 8-bit estimate and one step (one more makes it about 2 ulp) */
static inline vf v_rcp_est(vf a)
{
    vf r = vrecpeq_f32(a);
    return vmulq_f32(r, vrecpsq_f32(a, r));
}
/* Max/min return b where either is NaN (the x86 rule). */
static inline vf v_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline vf v_min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline vf v_sqrt(vf a) { return vsqrtq_f32(a); }
static inline vf v_abs(vf a) { return vabsq_f32(a); }
static inline vf v_neg(vf a) { return vnegq_f32(a); }
/* a < b ? t : f, lane by lane (false where either is NaN) */
static inline vf v_select_lt(vf a, vf b, vf t, vf f) { return vbslq_f32(vcltq_f32(a, b), t, f); }

static inline float v_hmax(vf a) { return vmaxvq_f32(a); }
static inline float v_hsum(vf a) { return vaddvq_f32(a); }

/* Even lanes of the 2 * V_LANES floats at p: p[0], p[2], ..., p[2 * V_LANES - 2]. */
static inline vf v_load_even(const float *p) { return vld2q_f32(p).val[0]; }

/* Each lane of a twice in a row: lanes 0..1 doubled into *lo, 2..3 into *hi. */
static inline void v_dup2(vf a, vf *lo, vf *hi)
{
    *lo = vzip1q_f32(a, a);
    *hi = vzip2q_f32(a, a);
}

/* base[idx[i]] for each lane i (V_LANES indices at idx): NEON has no gather, lane by lane. */
static inline vf v_gather(const float *base, const int32_t *idx)
{
    float t[V_LANES] = {base[idx[0]], base[idx[1]], base[idx[2]], base[idx[3]]};
    return vld1q_f32(t);
}

/*
 * The 8 x 8 block at src (rows ss floats apart) transposed into dst (rows
 * ds apart): four 4 x 4 quarters, each by trn1/trn2 on lanes then on lane
 * pairs, the off-diagonal quarters swapping places.
 */
static inline void v_transpose8x8(const float *src, int64_t ss, float *dst, int64_t ds)
{
    for (int qi = 0; qi < 8; qi += 4)
        for (int qj = 0; qj < 8; qj += 4) {
            const float *s = src + qi * ss + qj;
            vf r0 = vld1q_f32(s), r1 = vld1q_f32(s + ss), r2 = vld1q_f32(s + 2 * ss), r3 = vld1q_f32(s + 3 * ss);
            float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1)), t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
            float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3)), t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
            float *d = dst + qj * ds + qi;
            vst1q_f32(d, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
            vst1q_f32(d + ds, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
            vst1q_f32(d + 2 * ds, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
            vst1q_f32(d + 3 * ds, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
        }
}

/* A float sum kept in double lanes. */
typedef struct vdacc {
    float64x2_t lo, hi;
} vdacc;

static inline vdacc v_dacc_zero(void)
{
    vdacc d = {vdupq_n_f64(0.0), vdupq_n_f64(0.0)};
    return d;
}
static inline vdacc v_dacc_add(vdacc d, vf a)
{
    d.lo = vaddq_f64(d.lo, vcvt_f64_f32(vget_low_f32(a)));
    d.hi = vaddq_f64(d.hi, vcvt_high_f64_f32(a));
    return d;
}
static inline double v_dacc_sum(vdacc d) { return vaddvq_f64(vaddq_f64(d.lo, d.hi)); }

/* 2^n for integral n in [-126, 127], built in the exponent field. */
static inline vf v_pow2i(int32x4_t n)
{
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23));
}

/*
 * The exp core: n = round(x / ln2) and e^r for r = x - n ln2 (Cody-Waite,
 * ln2 split so that n * ln2_hi is exact for |n| <= 2^9) by the Taylor
 * polynomial of the given degree (7: v_exp, 5: v_exp_neg_act), to be
 * scaled by 2^n.
 */
static inline vf v_exp_core(vf x, int degree, vf *n)
{
    static const float taylor[8] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                                    1.0f / 6.0f,    0.5f,           1.0f,           1.0f};
    *n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    vf r = vfmsq_f32(x, *n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, *n, vdupq_n_f32(-2.12194440e-4f));
    vf p = vdupq_n_f32(taylor[7 - degree]);
    for (int i = 8 - degree; i < 8; i++)
        p = vfmaq_f32(vdupq_n_f32(taylor[i]), p, r);
    return p;
}

/* e^x: about 2 ulp, overflow to inf, NaN kept, 0 instead of subnormal results. */
static inline vf v_exp(vf x)
{
    uint32x4_t tiny = vcltq_f32(x, vdupq_n_f32(-87.33f));
    // clamp with the constant first so that a NaN x passes through
    x = v_min(vdupq_n_f32(89.0f), v_max(vdupq_n_f32(-87.33f), x));
    vf n, p = v_exp_core(x, 7, &n);
    // n in [-126, 129]: p * 2^(n/2) is exact, the second factor rounds once
    int32x4_t ni = vcvtnq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1);
    p = vmulq_f32(p, v_pow2i(n1));
    p = vmulq_f32(p, v_pow2i(vsubq_s32(ni, n1)));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(p), tiny));
}

/*
 * e^-x for x >= -88 (lower x taken as -88) to about 3e-6 relative
 * (degree-5 Taylor polynomial): the cheaper exp of the conv epilogues'
 * sigmoids, where 1 + e^-x follows.
 */
static inline vf v_exp_neg_act(vf x)
{
    x = v_max(vdupq_n_f32(-87.33f), v_min(vnegq_f32(x), vdupq_n_f32(88.0f)));
    vf n, p = v_exp_core(x, 5, &n);
    return vmulq_f32(p, v_pow2i(vcvtnq_s32_f32(n)));
}

/* 1 / (1 + e^-x); 0 where that is subnormal (x < -87.33), like v_exp */
static inline vf v_sigmoid(vf x)
{
    vf one = vdupq_n_f32(1.0f), lo = vdupq_n_f32(-87.33f);
    vf r = vdivq_f32(one, vaddq_f32(one, v_exp(vnegq_f32(v_max(lo, x)))));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(r), vcltq_f32(x, lo)));
}

#endif /* EVO_VEC_NEON_H */
