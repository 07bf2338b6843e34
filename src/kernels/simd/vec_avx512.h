/*
 * vec_avx512.h - float32 vector helpers for AVX-512 kernel files (16 lanes).
 *
 * vec_avx2.h defines the same names for 8 lanes, so an elementwise body
 * (*_body.inc) compiles once per ISA. Tails use masked loads and stores:
 * lanes past n are neither read nor written. v_exp is accurate to about
 * 2 ulp (Cody-Waite reduction to |r| <= ln2/2, degree-7 Taylor polynomial,
 * scalef for 2^n); it overflows to inf, keeps NaN, and returns 0 where the
 * result would be subnormal (x < -87.33, an error below 1.2e-38): producing
 * subnormals costs a microcode assist per lane, which made Sigmoid on
 * large logits ten times slower.
 * Include only from *_avx512.c files.
 */
#ifndef EVO_VEC_AVX512_H
#define EVO_VEC_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define V_LANES 16

typedef __m512 vf;
typedef __mmask16 vmask;

static inline vmask v_mask_n(int64_t n)
{
    return n >= V_LANES ? (vmask)0xffff : (vmask)((1u << (n > 0 ? n : 0)) - 1u);
}

static inline vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* The first n lanes from p, fill in the others. */
static inline vf v_load_n(const float *p, int64_t n, vf fill)
{
    return _mm512_mask_loadu_ps(fill, v_mask_n(n), p);
}
static inline void v_store_n(float *p, vf v, int64_t n) { _mm512_mask_storeu_ps(p, v_mask_n(n), v); }
/* Lanes in m loaded (others 0) / stored. */
static inline vf v_load_mask(const float *p, vmask m) { return _mm512_maskz_loadu_ps(m, p); }
static inline void v_store_mask(float *p, vmask m, vf v) { _mm512_mask_storeu_ps(p, m, v); }
static inline vmask v_mask_all(void) { return (vmask)0xffff; }

static inline vf v_set1(float x) { return _mm512_set1_ps(x); }
static inline vf v_zero(void) { return _mm512_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
/* a * b + c with one rounding */
static inline vf v_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
/* c - a * b, rounded once */
static inline vf v_fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
/* 1 / a to about 14 bits (one Newton step makes it about 1 ulp) */
static inline vf v_rcp_est(vf a) { return _mm512_rcp14_ps(a); }
/* Max/min return b where either is NaN (the x86 rule). */
static inline vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf v_sqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf v_abs(vf a) { return _mm512_abs_ps(a); }
static inline vf v_neg(vf a)
{
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)));
}
/* a < b ? t : f, lane by lane (false where either is NaN) */
static inline vf v_select_lt(vf a, vf b, vf t, vf f)
{
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), f, t);
}

static inline float v_hmax(vf a) { return _mm512_reduce_max_ps(a); }
static inline float v_hsum(vf a) { return _mm512_reduce_add_ps(a); }

/* Even lanes of the 2 * V_LANES floats at p: p[0], p[2], ..., p[2 * V_LANES - 2]. */
/* Each lane of a twice in a row: lanes 0..7 doubled into *lo, 8..15 into *hi. */
static inline void v_dup2(vf a, vf *lo, vf *hi)
{
    const __m512i il = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i ih = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    *lo = _mm512_permutexvar_ps(il, a);
    *hi = _mm512_permutexvar_ps(ih, a);
}

/* base[idx[i]] for each lane i (V_LANES indices at idx). */
static inline vf v_gather(const float *base, const int32_t *idx)
{
    return _mm512_i32gather_ps(_mm512_loadu_si512(idx), base, 4);
}

static inline vf v_load_even(const float *p)
{
    const __m512i idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + V_LANES));
}

/*
 * dst[j * ds + i] = src[i * ss + j] for an 8x8 block of 4-byte elements
 * (unpack pairs, then quads, then swap 128-bit halves).
 */
static inline void v_transpose8x8(const float *src, int64_t ss, float *dst, int64_t ds)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * ss);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * ds, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ds, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}

/* Transposes 16 x 16 floats in registers: lane j of r[i] goes to lane i of r[j]. */
static inline void v_transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        u[i + 2] =
            _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        u[i + 3] =
            _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    /* u[4 q + c], 128-bit lane L: column 4 L + c of rows 4 q .. 4 q + 3 */
    for (int c = 0; c < 4; c++) {
        __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44),
               x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xee);
        __m512 y0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        __m512 y1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xee);
        r[c] = _mm512_shuffle_f32x4(x0, y0, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(x0, y0, 0xdd);
        r[8 + c] = _mm512_shuffle_f32x4(x1, y1, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(x1, y1, 0xdd);
    }
}

/* A float sum kept in double lanes. */
typedef struct vdacc {
    __m512d lo, hi;
} vdacc;

static inline vdacc v_dacc_zero(void)
{
    vdacc d = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    return d;
}
static inline vdacc v_dacc_add(vdacc d, vf a)
{
    d.lo = _mm512_add_pd(d.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
    d.hi = _mm512_add_pd(d.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)));
    return d;
}
static inline double v_dacc_sum(vdacc d) { return _mm512_reduce_add_pd(_mm512_add_pd(d.lo, d.hi)); }

/*
 * The exp core: n = round(x / ln2) and e^r for r = x - n ln2 (Cody-Waite,
 * ln2 split so that n * ln2_hi is exact for |n| <= 2^9) by the Taylor
 * polynomial of the given degree (7 for v_exp), to be scaled by
 * 2^n.
 */
static inline vf v_exp_core(vf x, int degree, vf *n)
{
    static const float taylor[8] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                                    1.0f / 6.0f,    0.5f,           1.0f,           1.0f};
    *n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(-2.12194440e-4f), r);
    vf p = _mm512_set1_ps(taylor[7 - degree]);
    for (int i = 8 - degree; i < 8; i++)
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(taylor[i]));
    return p;
}

/* e^x: see the file comment. */
static inline vf v_exp(vf x)
{
    // clamp with the constant first so that a NaN x passes through
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33f), _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-87.33f), x));
    vf n, p = v_exp_core(x, 7, &n);
    return _mm512_mask_mov_ps(_mm512_scalef_ps(p, n), tiny, _mm512_setzero_ps());
}

/*
 * e^-x for x >= -88 (lower x taken as -88) to about 2e-7 relative: the
 * cheaper exp of the conv epilogues' sigmoids, where 1 + e^-x follows. As
 * 2^t, t = -x log2(e): vreduceps gives f = t - floor(t) in [0, 1) in one
 * step, a degree-5 fit of 2^f there (1.6e-7, relative error minimised),
 * and vscalefps multiplies by 2^floor(t): three operations fewer than
 * negating into the Cody-Waite exp, and SiLU convs 3-5 % faster (1x1 64
 * -> 32 on 160x160: 0.95 -> 0.90 ms). A degree-4 fit (2.7e-6) saves one
 * more but moved YOLOv5s's output error from 6e-5 to 8e-5 of its scale.
 */
static inline vf v_exp_neg_act(vf x)
{
    vf t = _mm512_mul_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.0f)), _mm512_set1_ps(-1.44269504088896341f));
    vf f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    vf p = _mm512_fmadd_ps(_mm512_set1_ps(1.877576695e-03f), f, _mm512_set1_ps(8.989340626e-03f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.582631752e-02f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.401536107e-01f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931530833e-01f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.999999404e-01f));
    return _mm512_scalef_ps(p, t);
}

/* 1 / (1 + e^-x); 0 where that is subnormal (x < -87.33), like v_exp */
static inline vf v_sigmoid(vf x)
{
    vf one = _mm512_set1_ps(1.0f), lo = _mm512_set1_ps(-87.33f);
    // 1 / d for d in [1, e^87.33]: 14-bit estimate and one Newton step (about 1 ulp), where a
    // 512-bit divide costs about sixteen cycles

    vf d = _mm512_add_ps(one, v_exp(v_neg(_mm512_max_ps(lo, x))));
    vf r = _mm512_rcp14_ps(d);
    r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), _mm512_setzero_ps());
}

#endif /* EVO_VEC_AVX512_H */
