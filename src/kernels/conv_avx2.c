/*
 * conv_avx2.c - 2-D Conv as a packed-weight GEMM with fused im2col
 * packing, AVX2 + FMA (see conv_fast.h for the scheme; conv_avx512.c is the
 * same design with wider vectors).
 *
 * Register tile: MR = 4 output channels x NR = 24 output positions (three
 * ymm per row, 12 accumulators, three B loads and one broadcast: all 16
 * registers). Tail panels use one or two vectors and a lane mask. Input
 * padding is applied by masked loads while packing (maskload never faults
 * on masked-off lanes), stride 2 by an even-lane shuffle.
 */
#include "kernels/conv_fast.h"
#include "kernels/simd/vec_avx2.h"

#include <immintrin.h>
#include <string.h>

#define MR 4 /* the micro-kernel spells out four rows */
#define NR 24
#define VL 8

typedef evo_conv_epilogue epilogue;

/* Lanes [lo, hi) of 8 set. */
static inline __m256i range_mask(int64_t lo, int64_t hi)
{
    lo = lo < 0 ? 0 : (lo > VL ? VL : lo);
    hi = hi < 0 ? 0 : (hi > VL ? VL : hi);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)lo), idx),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), idx));
}

#include "kernels/conv_act.inc"

/* Copies one run of len columns of a packed row from an input row (see pack_b). */
static void pack_run(float *d, int64_t len, const float *src, int64_t iw0, int64_t sw, int64_t iw)
{
    if (sw == 1) {
        int64_t t = 0;
        if (iw0 >= 0) /* interior full vectors: no masks */
            for (; t + VL <= len && iw0 + t + VL <= iw; t += VL)
                _mm256_storeu_ps(d + t, _mm256_loadu_ps(src + iw0 + t));
        for (; t < len; t += VL) {
            int64_t base = iw0 + t;
            __m256i m = range_mask(-base, EVO_MIN(len - t, iw - base));
            _mm256_maskstore_ps(d + t, range_mask(0, len - t), _mm256_maskload_ps(src + base, m));
        }
    } else if (sw == 2) {
        int64_t t = 0;
        if (iw0 >= 0) /* interior full vectors: no masks */
            for (; t + VL <= len && iw0 + 2 * (t + VL) <= iw; t += VL) {
                __m256 lo = _mm256_loadu_ps(src + iw0 + 2 * t), up = _mm256_loadu_ps(src + iw0 + 2 * t + VL);
                _mm256_storeu_ps(d + t, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                            _mm256_castps_pd(_mm256_shuffle_ps(lo, up, 0x88)), 0xd8)));
            }
        for (; t < len; t += VL) {
            int64_t base = iw0 + 2 * t, hi = EVO_MIN(2 * (len - t), iw - base);
            __m256 lo = _mm256_maskload_ps(src + base, range_mask(-base, hi));
            __m256 up = _mm256_maskload_ps(src + base + VL, range_mask(-base - VL, hi - VL));
            // even lanes: [lo0 lo2 up0 up2 | lo4 lo6 up4 up6] -> [lo0 lo2 lo4 lo6 up0 ...]
            __m256 ev = _mm256_castpd_ps(
                _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, up, 0x88)), 0xd8));
            _mm256_maskstore_ps(d + t, range_mask(0, len - t), ev);
        }
    } else {
        for (int64_t t = 0; t < len; t++) {
            int64_t x = iw0 + t * sw;
            d[t] = x >= 0 && x < iw ? src[x] : 0.0f;
        }
    }
}

/*
 * Fetches the input the next panel reads from this input row (it follows
 * the current run): the rows of all input channels advance together, too
 * many streams for the hardware prefetcher.
 */
static inline void prefetch_next(const float *p, int64_t sw)
{
    for (int64_t l = 0; l < NR * sw; l += 16)
        _mm_prefetch((const char *)(p + l), _MM_HINT_T0);
}

/*
 * Packs rows [k0, k0 + kc) x columns [c0, c1) of the image's im2col matrix
 * into NR-wide panels in dst: panel q (columns from c0 + q * NR) at
 * q * kc * NR, row r at r * NR; lanes past c1 in the last panel's last
 * vector are zero.
 */
static void pack_b(const evo_convf_plan *p, const float *x, int64_t k0, int64_t kc, int64_t c0, int64_t c1,
                   float *dst)
{
    const int64_t khw = p->kh * p->kw;
    for (int64_t q = 0; c0 + q * NR < c1; q++) {
        float *panel = dst + q * kc * NR;
        int64_t j0 = c0 + q * NR, width = EVO_MIN((int64_t)NR, c1 - j0);
        int64_t padded = (width + VL - 1) / VL * VL;
        /* runs of columns within one output row */
        int64_t seg_off[NR], seg_len[NR], seg_oh[NR], seg_ow[NR];
        int n_seg = 0;
        for (int64_t j = j0; j < j0 + width;) {
            int64_t oh = j / p->ow, ow = j % p->ow, len = EVO_MIN(p->ow - ow, j0 + width - j);
            seg_off[n_seg] = j - j0, seg_len[n_seg] = len, seg_oh[n_seg] = oh, seg_ow[n_seg] = ow;
            n_seg++;
            j += len;
        }
        int64_t c = k0 / khw, kr = k0 % khw, ky = kr / p->kw, kx = kr % p->kw;
        for (int64_t r = 0; r < kc; r++) {
            float *row = panel + r * NR;
            if (padded != width)
                _mm256_storeu_ps(row + padded - VL, _mm256_setzero_ps());
            const float *xc = x + c * p->ih * p->iw;
            for (int s = 0; s < n_seg; s++) {
                float *d = row + seg_off[s];
                int64_t ih = seg_oh[s] * p->sh - p->ph + ky * p->dh;
                int64_t iw0 = seg_ow[s] * p->sw - p->pw + kx * p->dw;
                if (ih < 0 || ih >= p->ih) {
                    memset(d, 0, sizeof(float) * (size_t)seg_len[s]);
                    continue;
                }
                const float *src = xc + ih * p->iw;
                if (kx == 0 && s == n_seg - 1)
                    prefetch_next(src + iw0 + seg_len[s] * p->sw, p->sw);
                pack_run(d, seg_len[s], src, iw0, p->sw, p->iw);
            }
            if (++kx == p->kw) {
                kx = 0;
                if (++ky == p->kh) {
                    ky = 0;
                    c++;
                }
            }
        }
    }
}

/*
 * acc[i * 3 + v] = sum over kc of A panel column i times B row vector v, for
 * the first NV vectors (with MASKED, the last read under tail_mask; B rows ldb apart).
 * The 12 accumulators are named variables: GCC keeps an array of them in
 * memory inside the loop.
 */
#define ROW_FMA(i, NV)                                                                                       \
    do {                                                                                                     \
        __m256 av = _mm256_broadcast_ss(a + i);                                                              \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                                                          \
        if (NV > 1)                                                                                          \
            c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);                                                      \
        if (NV > 2)                                                                                          \
            c##i##2 = _mm256_fmadd_ps(av, b2, c##i##2);                                                      \
    } while (0)
#define ROW_OUT(i) acc[i * 3] = c##i##0, acc[i * 3 + 1] = c##i##1, acc[i * 3 + 2] = c##i##2
#define KERNEL(NAME, NV, MASKED)                                                                             \
    static void NAME(int64_t kc, const float *restrict a, const float *restrict b, int64_t ldb,              \
                     __m256i tail_mask, __m256 *restrict acc)                                                \
    {                                                                                                        \
        __m256 c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;                                   \
        c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm256_setzero_ps();         \
        for (int64_t p = 0; p < kc; p++) {                                                                   \
            __m256 b0, b1 = c00, b2 = c00;                                                                   \
            if (NV == 1 && MASKED)                                                                           \
                b0 = _mm256_maskload_ps(b, tail_mask);                                                       \
            else                                                                                             \
                b0 = _mm256_loadu_ps(b);                                                                     \
            if (NV == 2 && MASKED)                                                                           \
                b1 = _mm256_maskload_ps(b + VL, tail_mask);                                                  \
            else if (NV > 1)                                                                                 \
                b1 = _mm256_loadu_ps(b + VL);                                                                \
            if (NV == 3 && MASKED)                                                                           \
                b2 = _mm256_maskload_ps(b + 2 * VL, tail_mask);                                              \
            else if (NV == 3)                                                                                \
                b2 = _mm256_loadu_ps(b + 2 * VL);                                                            \
            ROW_FMA(0, NV);                                                                                  \
            ROW_FMA(1, NV);                                                                                  \
            ROW_FMA(2, NV);                                                                                  \
            ROW_FMA(3, NV);                                                                                  \
            a += MR;                                                                                         \
            b += ldb;                                                                                        \
        }                                                                                                    \
        ROW_OUT(0);                                                                                          \
        ROW_OUT(1);                                                                                          \
        ROW_OUT(2);                                                                                          \
        ROW_OUT(3);                                                                                          \
    }
KERNEL(kernel1, 1, 1)
KERNEL(kernel2, 2, 1)
KERNEL(kernel3, 3, 1)
KERNEL(kernel3_full, 3, 0) /* no tail: maskload costs more than a plain load */

/* out_groups: bias and activation on a finished tile, then stored element by element. */
static void store_tile_groups(const evo_convf_plan *p, const __m256 *acc, int nv, int64_t cols, int64_t i0,
                              int n_rows, int64_t j0, const epilogue *e, float *y)
{
    float t[MR * 3 * VL];
    for (int i = 0; i < MR; i++) {
        __m256 bias = _mm256_set1_ps(e->bias && i < n_rows ? e->bias[i0 + i] : 0.0f);
        for (int v = 0; v < nv; v++)
            _mm256_storeu_ps(t + (i * 3 + v) * VL, act_ps(_mm256_add_ps(acc[i * 3 + v], bias), e->act, e));
    }
    evo_convf_store_groups(p, t, 3 * VL, i0, n_rows, j0, cols, y);
}

static bool conv_supports(const evo_graph *g, const evo_node *n)
{
    return evo_convf_supports_out(g, n, true);
}

static size_t conv_scratch(const evo_graph *g, const evo_node *n, int n_tasks)
{
    evo_convf_plan p;
    evo_convf_plan_node(&p, g, n, MR, NR, EVO_CONVF_KC_MAX, EVO_CONVF_KC_MAX, n_tasks);
    return p.slice_bytes * (size_t)n_tasks;
}

static size_t conv_packed_bytes(const evo_graph *g, const evo_node *n)
{
    return evo_convf_packed_bytes(g, n, MR);
}

static void conv_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    evo_convf_plan p;
    evo_convf_plan_node(&p, g, n, MR, NR, EVO_CONVF_KC_MAX, EVO_CONVF_KC_MAX, 1);
    evo_convf_pack_weights(g, n, MR, p.kc, dst);
}

/* Columns [c0, c1) x channel panels [mp0, mp1) of one image. */
static void conv_block(const evo_convf_plan *p, const float *wp, const float *x, float *y, const epilogue *e,
                       const float *res, int64_t c0, int64_t c1, int64_t mp0, int64_t mp1, float *bblock)
{
    __m256 acc[MR * 3];
    for (int64_t kb = 0; kb < p->n_kb; kb++) {
        int64_t k0 = kb * p->kc, kc = EVO_MIN(p->kc, p->k - k0);
        bool first = kb == 0, last = kb == p->n_kb - 1;
        if (!p->direct)
            pack_b(p, x, k0, kc, c0, c1, bblock);
        for (int64_t q = 0; c0 + q * NR < c1; q++) {
            int64_t j0 = c0 + q * NR, width = EVO_MIN((int64_t)NR, c1 - j0);
            const float *b = bblock + q * kc * NR;
            int64_t ldb = NR;
            if (p->direct) {
                /* 1x1: B is the input itself; fetch the next panel's rows while this one runs */
                b = x + k0 * p->n + j0;
                ldb = p->n;
                if (j0 + NR < c1)
                    for (int64_t r = 0; r < kc; r++)
                        for (int l = 0; l < NR; l += 16)
                            _mm_prefetch((const char *)(b + r * p->n + NR + l), _MM_HINT_T0);
            }
            int nv = (int)((width + VL - 1) / VL);
            __m256i tm = range_mask(0, width - (nv - 1) * VL);
            for (int64_t mp = mp0; mp < mp1; mp++) {
                const float *a = wp + (k0 * p->m_panels + mp * kc) * MR;
                int64_t i0 = mp * MR;
                int n_rows = (int)EVO_MIN((int64_t)MR, p->m - i0);
                float *c = y + i0 * p->n + j0;
                const float *bias = last && e->bias ? e->bias + i0 : NULL;
                const float *r = last && res ? res + i0 * p->n + j0 : NULL;
                const epilogue *el = last ? e : NULL;
                if (width == NR)
                    kernel3_full(kc, a, b, ldb, tm, acc);
                else if (nv == 3)
                    kernel3(kc, a, b, ldb, tm, acc);
                else if (nv == 2)
                    kernel2(kc, a, b, ldb, tm, acc);
                else
                    kernel1(kc, a, b, ldb, tm, acc);
                if (p->out_groups) /* one K block: the tile is final */
                    store_tile_groups(p, acc, nv, width, i0, n_rows, j0, e, y);
                else
                    store_tile(acc, nv, c, p->n, n_rows, tm, first, el, bias, r);
            }
        }
    }
}

static void conv_run(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    evo_convf_plan p;
    evo_convf_plan_make(&p, c, a->in[0].dims, a->in[1].dims, a->out[0].dims, MR, NR, EVO_CONVF_KC_MAX, EVO_CONVF_KC_MAX, n_tasks);
    const float *x = a->in[0].data;
    float *y = a->out[0].data;
    epilogue e = evo_conv_epilogue_of(a);
    const float *res = e.res;
    float *bblock = (float *)((unsigned char *)a->scratch + p.slice_bytes * (size_t)task);
    int64_t mp0, mp1, j0, j1;
    evo_convf_task_share(&p, task, n_tasks, &mp0, &mp1, &j0, &j1);
    if (mp0 >= mp1 || j0 >= j1)
        return;
    int64_t in_size = p.c_in * p.ih * p.iw, out_size = p.m * p.n;
    /* flush denormals while this kernel runs (see conv_avx512.c) */
    unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040);
    for (int64_t b = 0; b < p.batch; b++) {
        const float *rb = res ? res + b * out_size : NULL;
        for (int64_t c0 = j0; c0 < j1; c0 += p.chunk_panels * NR)
            conv_block(&p, a->packed, x + b * in_size, y + b * out_size, &e, rb, c0,
                       EVO_MIN(c0 + p.chunk_panels * NR, j1), mp0, mp1, bblock);
    }
    _mm_setcsr(csr);
}

const evo_kernel_def evo_kernel_conv_avx2 = {
    .name = "avx2",
    .isa = EVO_ISA_AVX2,
    .supports = conv_supports,
    .scratch_bytes = conv_scratch,
    .run = conv_run,
    .packed_bytes = conv_packed_bytes,
    .pack = conv_pack,
};
