/*
 * gemm_avx512.c - Gemm with few rows (a classifier head at batch 1-16),
 * AVX-512. Such a product reads each weight once for a handful of
 * multiply-adds, so it runs at the speed B streams from memory; the
 * blocked SGEMM's 8-row tiles would sit mostly idle. Tasks split the
 * output columns, so each streams its own part of B.
 *
 * B as [N][K] (transB): four rows of B at a time against a row of A, both
 * read along K as vectors, summed across lanes at the end. B as [K][N]:
 * four vectors of 16 output columns at a time, each row of B scaled by a
 * broadcast element of A. The epilogue (alpha, beta * C with every ONNX
 * broadcast form of C, activation) runs per output element.
 */
#include "kernels/kernel.h"
#include "kernels/gemv_avx512.h"
#include "kernels/sgemm.h"

#include <immintrin.h>

#define VL 16
#define M_MAX 16 /* rows of A this variant takes */

static inline __mmask16 tail_mask(int64_t n)
{
    return n >= VL ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

static bool gemm_supports(const evo_graph *g, const evo_node *n)
{
    if (n->op != EVO_OP_GEMM || n->n_in < 2 || n->a.gemm.trans_a)
        return false;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && g->values[n->in[i]].dtype != EVO_DTYPE_FLOAT)
            return false;
    const evo_value *y = &g->values[n->out[0]];
    return y->dtype == EVO_DTYPE_FLOAT && y->rank == 2 && y->dims[0] <= M_MAX;
}

/* C's element for output (i, j) under ONNX broadcasting (C of rank 0, 1 or 2). */
static inline float c_at(const evo_tensor *c, int64_t i, int64_t j)
{
    const float *d = c->data;
    if (c->rank == 0)
        return d[0];
    if (c->rank == 1)
        return d[c->dims[0] == 1 ? 0 : j];
    return d[(c->dims[0] == 1 ? 0 : i) * c->dims[1] + (c->dims[1] == 1 ? 0 : j)];
}

/* B as [N][K]: y[i][j] for columns [j0, j1). */
static void gemm_bt(const float *a, const float *b, float *y, int64_t m, int64_t n, int64_t k, int64_t j0,
                    int64_t j1)
{
    for (int64_t j = j0; j < j1; j += 4) {
        int nj = (int)EVO_MIN((int64_t)4, j1 - j);
        const float *b0 = b + j * k, *b1 = nj > 1 ? b0 + k : b0, *b2 = nj > 2 ? b0 + 2 * k : b0;
        const float *b3 = nj > 3 ? b0 + 3 * k : b0;
        for (int64_t i = 0; i < m; i++) {
            const float *ar = a + i * k;
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            for (int64_t p = 0; p < k; p += VL) {
                __mmask16 msk = tail_mask(k - p);
                __m512 av = _mm512_maskz_loadu_ps(msk, ar + p);
                s0 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(msk, b0 + p), s0);
                s1 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(msk, b1 + p), s1);
                s2 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(msk, b2 + p), s2);
                s3 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(msk, b3 + p), s3);
            }
            float s[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2),
                          _mm512_reduce_add_ps(s3)};
            for (int t = 0; t < nj; t++)
                y[i * n + j + t] = s[t];
        }
    }
}

/* B as [K][N]: y[i][j] for columns [j0, j1). */
static void gemm_bn(const float *a, const float *b, float *y, int64_t m, int64_t n, int64_t k, int64_t j0,
                    int64_t j1)
{
    for (int64_t j = j0; j < j1; j += 4 * VL) {
        __mmask16 msk[4];
        for (int v = 0; v < 4; v++)
            msk[v] = j + v * VL < j1 ? tail_mask(j1 - j - v * VL) : 0;
        for (int64_t i = 0; i < m; i++) {
            const float *ar = a + i * k;
            __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                           _mm512_setzero_ps()};
            for (int64_t p = 0; p < k; p++) {
                __m512 av = _mm512_set1_ps(ar[p]);
                const float *br = b + p * n + j;
                for (int v = 0; v < 4; v++)
                    s[v] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(msk[v], br + v * VL), s[v]);
            }
            for (int v = 0; v < 4; v++)
                _mm512_mask_storeu_ps(y + i * n + j + v * VL, msk[v], s[v]);
        }
    }
}

/*
 * One row of A against a constant B (a classifier at batch 1): B packed
 * once into gemv_avx512.h's 8-column panels, one run of memory a panel,
 * which streams at what memory gives; the two forms above read four rows
 * of B (or four vectors of each row) at once. MobileNetV3's 960 -> 1280
 * and 1280 -> 1000 on 1 thread: 0.26 -> 0.13 ms each (about 38 GB/s).
 */
static bool gemm_packs(const evo_graph *g, const evo_node *n)
{
    return g->values[n->in[1]].data && g->values[n->out[0]].dims[0] == 1;
}

static size_t gemm_packed_bytes(const evo_graph *g, const evo_node *n)
{
    if (!gemm_packs(g, n))
        return 0;
    const int64_t *bd = g->values[n->in[1]].dims;
    int64_t cols = n->a.gemm.trans_b ? bd[0] : bd[1], k = n->a.gemm.trans_b ? bd[1] : bd[0];
    return (size_t)((cols + 7) / 8 * 8 * k) * sizeof(float);
}

/* B as W[N][K] (B transposed back when not transB) in panels of 8 rows: [N / 8][K][8], zero rows past N. */
static void gemm_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    const evo_value *b = &g->values[n->in[1]];
    bool tb = n->a.gemm.trans_b;
    int64_t cols = tb ? b->dims[0] : b->dims[1], k = tb ? b->dims[1] : b->dims[0];
    const float *w = b->data;
    float *d = dst;
    for (int64_t j0 = 0; j0 < cols; j0 += 8)
        for (int64_t p = 0; p < k; p++)
            for (int64_t j = j0; j < j0 + 8; j++)
                *d++ = j < cols ? (tb ? w[j * k + p] : w[p * cols + j]) : 0.0f;
}

static void gemm_run(const evo_kernel_args *args, int task, int n_tasks)
{
    const evo_gemm_attrs *ga = &args->node->a.gemm;
    const evo_tensor *at = &args->in[0], *bt = &args->in[1];
    const evo_tensor *ct = args->n_in > 2 && args->in[2].data ? &args->in[2] : NULL;
    int64_t m = args->out[0].dims[0], n = args->out[0].dims[1], k = at->dims[1];
    float *y = args->out[0].data;
    /* columns in units of four vectors, so tasks never share a cache line of y */
    int64_t u0, u1, unit = 4 * VL;
    evo_task_range((n + unit - 1) / unit, task, n_tasks, &u0, &u1);
    int64_t j0 = u0 * unit, j1 = EVO_MIN(u1 * unit, n);
    if (j0 >= j1)
        return;
    if (args->packed && m == 1)
        evo_gemv8_avx512(args->packed, n, (n + 7) / 8, k, k, at->data, j0 / 8, (j1 + 7) / 8, y);
    else if (ga->trans_b)
        gemm_bt(at->data, bt->data, y, m, n, k, j0, j1);
    else
        gemm_bn(at->data, bt->data, y, m, n, k, j0, j1);
    for (int64_t i = 0; i < m; i++) {
        float *row = y + i * n;
        for (int64_t j = j0; j < j1; j++)
            row[j] = ga->alpha * row[j] + (ct && ga->beta != 0.0f ? ga->beta * c_at(ct, i, j) : 0.0f);
        if (ga->act != EVO_ACT_NONE)
            evo_act_apply_n(row + j0, j1 - j0, ga->act, ga->act_alpha, ga->act_beta);
    }
}

const evo_kernel_def evo_kernel_gemm_avx512 = {
    .name = "avx512",
    .isa = EVO_ISA_AVX512,
    .supports = gemm_supports,
    .run = gemm_run,
    .packed_bytes = gemm_packed_bytes,
    .pack = gemm_pack,
};
