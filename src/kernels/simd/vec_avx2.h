/*
 * vec_avx2.h - float32 vector helpers for AVX2+FMA kernel files (8 lanes).
 *
 * The same names as vec_avx512.h, so an elementwise body (*_body.inc)
 * compiles once per ISA. Tails use maskload/maskstore: lanes past n are
 * neither read nor written. v_exp matches the AVX-512 one (about 2 ulp,
 * overflow to inf, NaN kept, 0 instead of subnormal results); 2^n is
 * applied in two exactly representable halves because AVX2 has no scalef.
 * Include only from *_avx2.c files.
 */
#ifndef EVO_VEC_AVX2_H
#define EVO_VEC_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define V_LANES 8

typedef __m256 vf;
typedef __m256i vmask;

static inline vmask v_mask_n(int64_t n)
{
    int k = n >= V_LANES ? V_LANES : n > 0 ? (int)n : 0;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
/* The first n lanes from p, fill in the others. */
static inline vf v_load_n(const float *p, int64_t n, vf fill)
{
    vmask m = v_mask_n(n);
    return _mm256_blendv_ps(fill, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
static inline void v_store_n(float *p, vf v, int64_t n) { _mm256_maskstore_ps(p, v_mask_n(n), v); }
/* Lanes in m loaded (others 0) / stored. */
static inline vf v_load_mask(const float *p, vmask m) { return _mm256_maskload_ps(p, m); }
static inline void v_store_mask(float *p, vmask m, vf v) { _mm256_maskstore_ps(p, m, v); }
static inline vmask v_mask_all(void) { return _mm256_set1_epi32(-1); }

static inline vf v_set1(float x) { return _mm256_set1_ps(x); }
static inline vf v_zero(void) { return _mm256_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
/* a * b + c with one rounding */
static inline vf v_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
/* c - a * b, rounded once */
static inline vf v_fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
/* 1 / a to about 12 bits (one Newton step makes it about 2 ulp) */
static inline vf v_rcp_est(vf a) { return _mm256_rcp_ps(a); }
/* Max/min return b where either is NaN (the x86 rule). */
static inline vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf v_sqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf v_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf v_neg(vf a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
/* a < b ? t : f, lane by lane (false where either is NaN) */
static inline vf v_select_lt(vf a, vf b, vf t, vf f)
{
    return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
}

static inline float v_hmax(vf a)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}
static inline float v_hsum(vf a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Even lanes of the 2 * V_LANES floats at p: p[0], p[2], ..., p[2 * V_LANES - 2]. */
/* Each lane of a twice in a row: lanes 0..3 doubled into *lo, 4..7 into *hi. */
static inline void v_dup2(vf a, vf *lo, vf *hi)
{
    vf l = _mm256_unpacklo_ps(a, a), h = _mm256_unpackhi_ps(a, a); /* 0 0 1 1 | 4 4 5 5, 2 2 3 3 | 6 6 7 7 */
    *lo = _mm256_permute2f128_ps(l, h, 0x20);
    *hi = _mm256_permute2f128_ps(l, h, 0x31);
}

/* base[idx[i]] for each lane i (V_LANES indices at idx). */
static inline vf v_gather(const float *base, const int32_t *idx)
{
    return _mm256_i32gather_ps(base, _mm256_loadu_si256((const __m256i *)idx), 4);
}

static inline vf v_load_even(const float *p)
{
    // within 128-bit halves: a0 a2 b0 b2 | a4 a6 b4 b6; then put the 64-bit pairs in order
    vf e = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + V_LANES), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
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

/* A float sum kept in double lanes. */
typedef struct vdacc {
    __m256d lo, hi;
} vdacc;

static inline vdacc v_dacc_zero(void)
{
    vdacc d = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    return d;
}
static inline vdacc v_dacc_add(vdacc d, vf a)
{
    d.lo = _mm256_add_pd(d.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    d.hi = _mm256_add_pd(d.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
    return d;
}
static inline double v_dacc_sum(vdacc d)
{
    __m256d s = _mm256_add_pd(d.lo, d.hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

/* 2^n for integral n in [-126, 127], built in the exponent field. */
static inline vf v_pow2i(__m256i n)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

/*
 * The exp core: n = round(x / ln2) and e^r for r = x - n ln2 (Cody-Waite,
 * ln2 split so that n * ln2_hi is exact for |n| <= 2^9) by the Taylor
 * polynomial of the given degree (7: v_exp, 5: v_exp_neg_act), to be scaled by
 * 2^n.
 */
static inline vf v_exp_core(vf x, int degree, vf *n)
{
    static const float taylor[8] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                                    1.0f / 6.0f,    0.5f,           1.0f,           1.0f};
    *n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm256_fnmadd_ps(*n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(*n, _mm256_set1_ps(-2.12194440e-4f), r);
    vf p = _mm256_set1_ps(taylor[7 - degree]);
    for (int i = 8 - degree; i < 8; i++)
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(taylor[i]));
    return p;
}

/* e^x: see the file comment. */
static inline vf v_exp(vf x)
{
    // clamp with the constant first so that a NaN x passes through
    vf tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33f), _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_set1_ps(89.0f), _mm256_max_ps(_mm256_set1_ps(-87.33f), x));
    vf n, p = v_exp_core(x, 7, &n);
    // n in [-126, 129]: p * 2^(n/2) is exact, the second factor rounds once
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    p = _mm256_mul_ps(p, v_pow2i(n1));
    p = _mm256_mul_ps(p, v_pow2i(_mm256_sub_epi32(ni, n1)));
    return _mm256_andnot_ps(tiny, p);
}

/*
 * e^-x for x >= -88 (lower x taken as -88) to about 3e-6 relative
 * (degree-5 Taylor polynomial): the cheaper exp of the conv epilogues'
 * sigmoids, where 1 + e^-x follows. -x is raised to -87.33 first, so that
 * 2^n stays a normal float.
 */
static inline vf v_exp_neg_act(vf x)
{
    x = _mm256_max_ps(_mm256_set1_ps(-87.33f), _mm256_min_ps(v_neg(x), _mm256_set1_ps(88.0f)));
    vf n, p = v_exp_core(x, 5, &n);
    return _mm256_mul_ps(p, v_pow2i(_mm256_cvtps_epi32(n)));
}

/* 1 / (1 + e^-x); 0 where that is subnormal (x < -87.33), like v_exp */
static inline vf v_sigmoid(vf x)
{
    vf one = _mm256_set1_ps(1.0f), lo = _mm256_set1_ps(-87.33f);
    vf r = _mm256_div_ps(one, _mm256_add_ps(one, v_exp(v_neg(_mm256_max_ps(lo, x)))));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), r);
}

#endif /* EVO_VEC_AVX2_H */
