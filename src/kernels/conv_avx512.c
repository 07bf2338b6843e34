/*
 * conv_avx512.c - 2-D Conv as a packed-weight GEMM with fused im2col
 * packing, AVX-512 (see conv_fast.h for the scheme).
 *
 * Register tile: MR = 8 output channels x NR = 48 output positions (three
 * zmm per channel row, 24 accumulators); each k step loads three B vectors
 * and broadcasts eight weights from the packed panel. Tail panels use one
 * or two vectors and a lane mask, so at most 15 columns are wasted; one
 * column past a multiple of NR (7x7 maps) rides along the last full tile
 * (kernel3x). Packing copies runs of output rows, input padding applied
 * by masked loads (masked-off lanes never fault) and stride 2 by an
 * even-lane permute; rows under 64 outputs pack by masked gathers. With
 * out_groups (fuse_layout) tiles are stored transposed into the grouped
 * layout. Packing, micro-kernels and the store/epilogue are kept out of
 * line so that profiles split them. Micro-kernels: conv_avx512.h;
 * epilogue: conv_act.inc; the copying pack, the tile loops and the task
 * split: conv_body.inc (shared with conv_avx2.c).
 */
#include "kernels/conv_avx512.h"
#include "kernels/gemv_avx512.h"

/* Taps the gathering pack precomputes masks for; larger kernels take the copying pack. */
#define GATHER_TAPS_MAX 16
/*
 * Output rows narrower than this pack by gathers. Measured on 1 thread:
 * 3x3 512 -> 512 on 7x7 1.72 -> 1.55 ms, 3x3/2 64 -> 128 on 56x56 1.27 ->
 * 0.97, 256 -> 512 on 40x40 6.75 -> 6.63 (2 threads: 7x7 maps also lose
 * the pack each task repeats); 3x3 8 -> 16 on 160x160 rows runs 0.96 ms
 * copying, 1.47 gathering.
 */
#define GATHER_OW_MAX 63

/*
 * pack_b by gathers: on small maps a panel's columns span many short
 * output rows, and the copying pack spends its time on per-run bounds and
 * masks. Here each panel vector gets its lanes' input offsets (32-bit:
 * planes under 2^30 floats) once, and each tap its padding mask once; a
 * row of the panel is then one masked gather per vector (masked-off
 * lanes, the padding, read as zero).
 */
__attribute__((noinline)) static void pack_b_gather(const evo_convf_plan *p, const float *x, int64_t k0,
                                                    int64_t kc, int64_t c0, int64_t c1, float *dst)
{
    const int64_t khw = p->kh * p->kw, plane = p->ih * p->iw;
    for (int64_t q = 0; c0 + q * NR < c1; q++) {
        float *panel = dst + q * kc * NR;
        int64_t j0 = c0 + q * NR, width = EVO_MIN((int64_t)NR, c1 - j0);
        int nv = (int)((width + VL - 1) / VL);
        __m512i base[3];
        __mmask16 mask[GATHER_TAPS_MAX][3];
        for (int v = 0; v < nv; v++) {
            int32_t off[VL];
            int64_t ih0[VL], iw0[VL];
            for (int l = 0; l < VL; l++) {
                int64_t j = j0 + v * VL + l;
                ih0[l] = j / p->ow * p->sh - p->ph;
                iw0[l] = j % p->ow * p->sw - p->pw;
                off[l] = (int32_t)(ih0[l] * p->iw + iw0[l]);
            }
            base[v] = _mm512_loadu_si512(off);
            for (int64_t t = 0; t < khw; t++) {
                int64_t dy = t / p->kw * p->dh, dx = t % p->kw * p->dw;
                __mmask16 m = 0;
                for (int l = 0; l < VL; l++) {
                    int64_t ih = ih0[l] + dy, iw = iw0[l] + dx;
                    if (v * VL + l < width && ih >= 0 && ih < p->ih && iw >= 0 && iw < p->iw)
                        m |= (__mmask16)(1u << l);
                }
                mask[t][v] = m;
            }
        }
        int64_t c = k0 / khw, t = k0 % khw;
        for (int64_t r = 0; r < kc; r++) {
            float *row = panel + r * NR;
            const float *src = x + c * plane + t / p->kw * p->dh * p->iw + t % p->kw * p->dw;
            for (int v = 0; v < nv; v++)
                _mm512_storeu_ps(row + v * VL,
                                 _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[t][v], base[v], src, 4));
            if (++t == khw) {
                t = 0;
                c++;
            }
        }
    }
}

/* pack_b_gather where it pays (small maps, few taps, planes under 2^30 floats); false: not taken. */
static bool pack_b_small(const evo_convf_plan *p, const float *x, int64_t k0, int64_t kc, int64_t c0, int64_t c1,
                         float *dst)
{
    if (p->kh * p->kw > GATHER_TAPS_MAX || p->ow > GATHER_OW_MAX || p->ih * p->iw >= ((int64_t)1 << 30))
        return false;
    pack_b_gather(p, x, k0, kc, c0, c1, dst);
    return true;
}
#define CONV_PACK_GATHER pack_b_small
/* packing out of line, so that profiles show it apart from the tile loops */
#define CONV_PACK_ATTR __attribute__((noinline))

/*
 * Copies one run of len columns of a packed row from an input row (see
 * conv_body.inc's pack_b): padding by masked loads, stride 2 by an
 * even-lane permute.
 */
static inline void pack_run(float *d, int64_t len, const float *src, int64_t iw0, int64_t sw, int64_t iw)
{
    if (sw == 1) {
        int64_t t = 0;
        if (iw0 >= 0) /* interior full vectors: no masks */
            for (; t + VL <= len && iw0 + t + VL <= iw; t += VL)
                _mm512_storeu_ps(d + t, _mm512_loadu_ps(src + iw0 + t));
        for (; t < len; t += VL) {
            int64_t base = iw0 + t;
            __mmask16 m = range_mask(-base, EVO_MIN(len - t, iw - base));
            __m512 v = _mm512_maskz_loadu_ps(m, src + base);
            _mm512_mask_storeu_ps(d + t, range_mask(0, len - t), v);
        }
    } else if (sw == 2) {
        const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        int64_t t = 0;
        if (iw0 >= 0) /* interior full vectors: no masks */
            for (; t + VL <= len && iw0 + 2 * (t + VL) <= iw; t += VL)
                _mm512_storeu_ps(d + t, _mm512_permutex2var_ps(_mm512_loadu_ps(src + iw0 + 2 * t), even,
                                                               _mm512_loadu_ps(src + iw0 + 2 * t + VL)));
        for (; t < len; t += VL) {
            int64_t base = iw0 + 2 * t, hi = EVO_MIN(2 * (len - t), iw - base);
            __mmask16 m0 = range_mask(-base, hi), m1 = range_mask(-base - VL, hi - VL);
            __m512 lo = _mm512_maskz_loadu_ps(m0, src + base);
            __m512 up = _mm512_maskz_loadu_ps(m1, src + base + VL);
            _mm512_mask_storeu_ps(d + t, range_mask(0, len - t), _mm512_permutex2var_ps(lo, even, up));
        }
    } else {
        conv_pack_run_strided(d, len, src, iw0, sw, iw);
    }
}

/*
 * K rows per block of packed B: a block of 1152 (3x3 on 128 channels)
 * runs each tile's whole K in registers, its panels streaming from L2,
 * instead of storing and reloading the partial sums after every 256
 * (3x3/2 128 -> 256 on 80x80: 6.78 -> 6.43 ms; 256 -> 512 on 40x40: 6.40
 * -> 6.25).
 */
#define KC_PACKED 1152
/*
 * K rows per block of a 1x1 conv's B, read from the input: up to 1024 in
 * one block, although a 48-column panel of them (192 KB) sits in L2, not
 * L1; the output's partial sums then make no round trip (1 thread, 1x1 512
 * -> 128 on 40x40: 1.46 -> 1.38 ms, 512 -> 256: 2.89 -> 2.71; YOLOv5s
 * -0.6 % on 1 thread, -1.6 % on 2, YOLOv8n -1.2 %).
 */
#define KC_DIRECT 1024

KERNEL(kernel1, 1)
KERNEL(kernel2, 2)
KERNEL(kernel3, 3)
/*
 * kernel3 that also fetches the same B row of the next NR columns (the
 * 1x1 path's next panel, read straight from the input) one row per k step:
 * the K rows are as many streams, too many for the hardware prefetcher,
 * and a burst of prefetches ahead of the panel stalls on fill buffers.
 */
#define PREFETCH_NEXT_PANEL                                                                                  \
    do {                                                                                                     \
        _mm_prefetch((const char *)(bp + NR), _MM_HINT_T0);                                                  \
        _mm_prefetch((const char *)(bp + NR + VL), _MM_HINT_T0);                                             \
        _mm_prefetch((const char *)(bp + NR + 2 * VL), _MM_HINT_T0);                                         \
    } while (0)
KERNEL_GEN(kernel3_next, 3, int64_t, b + p * step, PREFETCH_NEXT_PANEL)

/*
 * kernel3 plus one more column: xacc[i] += A panel column i times bx[p *
 * ldb] for the MR rows, as one 8-lane FMA per k step. A column count one
 * past a multiple of NR (49 on 7x7 maps) then costs 4 % more than the
 * multiple, against a third of a tile for a one-column tile of its own.
 */
__attribute__((noinline)) static void kernel3x(int64_t kc, const float *restrict a, const float *restrict b,
                                               int64_t ldb, const float *restrict bx, __m512 *restrict acc,
                                               __m256 *restrict xacc)
{
    CONV_ACC_DECL8;
    __m256 cx = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + VL), b2 = _mm512_loadu_ps(b + 2 * VL);
        _mm_prefetch((const char *)(a + A_PREFETCH), _MM_HINT_T0);
        ROW_FMA(0, 3);
        ROW_FMA(1, 3);
        ROW_FMA(2, 3);
        ROW_FMA(3, 3);
        ROW_FMA(4, 3);
        ROW_FMA(5, 3);
        ROW_FMA(6, 3);
        ROW_FMA(7, 3);
        cx = _mm256_fmadd_ps(_mm256_loadu_ps(a), _mm256_set1_ps(bx[p * ldb]), cx);
        a += MR;
        b += ldb;
    }
    CONV_ACC_OUT8;
    *xacc = cx;
}

/* Stores kernel3x's extra column (rows < n_rows, row stride ldc) like store_tile. */
static void store_column(__m256 xacc, float *c, int64_t ldc, int n_rows, bool first, const epilogue *e,
                         const float *bias, const float *res)
{
    float v[MR];
    _mm256_storeu_ps(v, xacc);
    for (int i = 0; i < n_rows; i++) {
        float s = v[i] + (first ? 0.0f : c[i * ldc]);
        if (e) {
            if (bias)
                s += bias[i];
            if (res && !e->res_after_act)
                s += res[i * ldc];
            /* act_ps on one lane keeps the epilogue's arithmetic identical */
            s = _mm512_cvtss_f32(act_ps(_mm512_set1_ps(s), e->act, e));
            if (res && e->res_after_act)
                s += res[i * ldc];
        }
        c[i * ldc] = s;
    }
}

/*
 * out_groups: applies bias and activation to a finished MR x (nv * VL)
 * tile (rows from channel i0, columns from j0, cols of them) and stores
 * each column's MR channels as one 8-float run of its group's row, after
 * a register transpose of each 8 x 16 block (four 128-bit lanes of 4
 * channels x 4 columns, then lanes paired into 8 channels per column);
 * tiles with fewer rows, or crossing from one group into the next, go
 * element by element. extra (kernel3x's column past the tile) is stored
 * the same way.
 */
static void store_tile_groups_x(const evo_convf_plan *p, __m512 *acc, int nv, int64_t cols, const __m256 *extra,
                                int64_t i0, int n_rows, int64_t j0, const epilogue *e, float *y)
{
    __m512 bias[MR];
    for (int i = 0; i < MR; i++)
        bias[i] = _mm512_set1_ps(e->bias && i < n_rows ? e->bias[i0 + i] : 0.0f);
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < nv; v++)
            acc[i * 3 + v] = act_ps(_mm512_add_ps(acc[i * 3 + v], bias[i]), e->act, e);
    float xcol[MR];
    if (extra) {
        for (int i = 0; i < MR; i++)
            xcol[i] = e->bias && i < n_rows ? e->bias[i0 + i] : 0.0f;
        __m256 xb = _mm256_add_ps(*extra, _mm256_loadu_ps(xcol));
        _mm256_storeu_ps(xcol, _mm512_castps512_ps256(act_ps(_mm512_zextps256_ps512(xb), e->act, e)));
    }
    int64_t cg = p->m / p->out_groups;
    if (n_rows < MR || i0 / cg != (i0 + MR - 1) / cg) {
        float t[MR * 3 * VL];
        for (int i = 0; i < MR; i++)
            for (int v = 0; v < 3; v++)
                _mm512_storeu_ps(t + (i * 3 + v) * VL, acc[i * 3 + v]);
        evo_convf_store_groups(p, t, 3 * VL, i0, n_rows, j0, cols, y);
        if (extra)
            evo_convf_store_groups(p, xcol, 1, i0, n_rows, j0 + cols, 1, y);
        return;
    }
    float *base = y + (i0 / cg * p->n + j0) * cg + i0 % cg;
    for (int v = 0; v < nv; v++) {
        __m512 t[8], u[8];
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm512_unpacklo_ps(acc[i * 3 + v], acc[(i + 1) * 3 + v]);
            t[i + 1] = _mm512_unpackhi_ps(acc[i * 3 + v], acc[(i + 1) * 3 + v]);
        }
        for (int h = 0; h < 8; h += 4) { /* u[h + q], lane L: channels h..h+3 of column 4 L + q */
            u[h] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[h]), _mm512_castps_pd(t[h + 2])));
            u[h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[h]), _mm512_castps_pd(t[h + 2])));
            u[h + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[h + 1]), _mm512_castps_pd(t[h + 3])));
            u[h + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[h + 1]), _mm512_castps_pd(t[h + 3])));
        }
        int64_t left = cols - v * VL;
        for (int q = 0; q < 4; q++) {
            /* lanes (L0 of u[q], L0 of u[q + 4], L1, L1) and (L2, L2, L3, L3): columns q, 4 + q, 8 + q, 12 + q */
            __m512 w01 = _mm512_shuffle_f32x4(u[q], u[q + 4], _MM_SHUFFLE(1, 0, 1, 0));
            __m512 w23 = _mm512_shuffle_f32x4(u[q], u[q + 4], _MM_SHUFFLE(3, 2, 3, 2));
            w01 = _mm512_shuffle_f32x4(w01, w01, _MM_SHUFFLE(3, 1, 2, 0));
            w23 = _mm512_shuffle_f32x4(w23, w23, _MM_SHUFFLE(3, 1, 2, 0));
            __m256 col[4] = {_mm512_castps512_ps256(w01), _mm512_extractf32x8_ps(w01, 1),
                             _mm512_castps512_ps256(w23), _mm512_extractf32x8_ps(w23, 1)};
            for (int k = 0; k < 4; k++) {
                int64_t jj = 4 * k + q;
                if (jj < left)
                    _mm256_storeu_ps(base + (v * VL + jj) * cg, col[k]);
            }
        }
    }
    if (extra)
        _mm256_storeu_ps(base + cols * cg, _mm256_loadu_ps(xcol));
}

/* acc = the nv-vector tile at b (rows ldb apart); fetch_next: kernel3_next for a full tile. */
static inline void tile_kernel(int64_t kc, const float *a, const float *b, int64_t ldb, __mmask16 tm, int nv,
                               int64_t width, bool fetch_next, __m512 *acc)
{
    (void)width;
    if (nv == 3 && fetch_next)
        kernel3_next(kc, a, b, ldb, tm, acc);
    else if (nv == 3)
        kernel3(kc, a, b, ldb, tm, acc);
    else if (nv == 2)
        kernel2(kc, a, b, ldb, tm, acc);
    else
        kernel1(kc, a, b, ldb, tm, acc);
}

/*
 * A 1x1 conv on a 1x1 map (squeeze-excite's two convs): gemv_avx512.h on
 * the packed panels, then bias, residual and activation over the column.
 * MobileNetV3's squeeze-excite convs on 1 thread, 20 of them: 0.75 -> 0.22
 * ms in all (960 <-> 240: 0.11 -> 0.034 each, about 28 GB/s).
 */
static void conv_gemv(const evo_convf_plan *p, const float *wp, const float *x, float *y, const epilogue *e,
                      const float *res, int64_t mp0, int64_t mp1)
{
    evo_gemv8_avx512(wp, p->m, p->m_panels, p->k, p->kc, x, mp0, mp1, y);
    int64_t i1 = EVO_MIN(mp1 * MR, p->m);
    for (int64_t i = mp0 * MR; i < i1; i += VL) {
        __mmask16 m = range_mask(0, i1 - i);
        __m512 s = _mm512_maskz_loadu_ps(m, y + i);
        if (e->bias)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, e->bias + i));
        _mm512_mask_storeu_ps(y + i, m, act_res_ps(s, res ? res + i : NULL, m, e->act, e));
    }
}
#define CONV_GEMV conv_gemv

#define CONV_EXTRA_COLUMN
#define CONV_NAME "avx512"
#define CONV_ISA EVO_ISA_AVX512
#define CONV_DEF evo_kernel_conv_avx512
#define CONV_SCALED_NAME "scaled_avx512"
#define CONV_SCALED_DEF evo_kernel_conv_scaled_avx512
#include "kernels/conv_body.inc"

int64_t evo_conv_avx512_kc(const evo_graph *g, const evo_node *n)
{
    evo_convf_plan p;
    evo_convf_plan_node(&p, g, n, MR, NR, KC_PACKED, KC_DIRECT, 1);
    return p.kc;
}
