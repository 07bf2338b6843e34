/*
 * conv_neon.c - 2-D Conv as a packed-weight GEMM with fused im2col
 * packing, AArch64 Advanced SIMD (conv_fast.h's scheme): the width-bound
 * parts of conv_body.inc, which the x86 variants share.
 *
 * Register tile: MR = 8 output channels x NR = 12 output positions. Each
 * K step loads the 8 weights as two vectors and the 12 columns as three,
 * and issues 24 FMAs by lane (fmla v.4s, v.4s, v.s[i]): 24 accumulators +
 * 5 operands = 29 of the 32 registers, 5 loads per 24 FMAs, so the two FMA
 * pipes of a Cortex-A76/A78 stay fed from L1 (docs/arm64.md). Packed
 * panels are read whole (lanes past the last column are ignored when
 * stored); a 1x1 conv's last, partial column panel, read straight from the
 * input, is copied into a zero-padded tile first so no load runs past it.
 */
#include "kernels/conv_fast.h"
#include "kernels/simd/vec_neon.h"

#include <string.h>

#define MR 8
#define NR 12
#define VL 4

typedef evo_conv_epilogue epilogue;

/* Lanes [lo, hi) of 4: only prefixes (lo = 0) are asked for here. */
static inline vmask range_mask(int64_t lo, int64_t hi)
{
    return v_mask_n(hi);
}

#include "kernels/conv_act.inc"

/* Copies one run of len columns of a packed row from an input row (see pack_b). */
static void pack_run(float *d, int64_t len, const float *src, int64_t iw0, int64_t sw, int64_t iw)
{
    if (sw > 2) {
        conv_pack_run_strided(d, len, src, iw0, sw, iw);
        return;
    }
    /* columns t with 0 <= iw0 + t * sw < iw read the input, the others are padding */
    int64_t t0 = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
    int64_t t1 = iw0 >= iw ? 0 : (iw - iw0 + sw - 1) / sw;
    t0 = EVO_MIN(t0, len);
    t1 = EVO_MAX(EVO_MIN(t1, len), t0);
    if (t0 > 0)
        memset(d, 0, sizeof(float) * (size_t)t0);
    if (t1 < len)
        memset(d + t1, 0, sizeof(float) * (size_t)(len - t1));
    const float *s = src + iw0;
    int64_t t = t0;
    if (sw == 1) {
        memcpy(d + t0, s + t0, sizeof(float) * (size_t)(t1 - t0));
        return;
    }
    /* stride 2; v_load_even reads 8 floats: stay inside the row */
    for (; t + VL <= t1 && iw0 + 2 * t + 2 * VL <= iw; t += VL)
        v_store(d + t, v_load_even(s + 2 * t));
    for (; t < t1; t++)
        d[t] = s[t * 2];
}

/*
 * acc[i * 3 + v] = sum over kc of A panel column i times B row vector v
 * (B rows ldb apart, all 12 columns readable), in conv_act.inc's named
 * accumulators so that they live in registers for the whole loop.
 */
#define ROW_FMA(i, av, lane)                                                                                 \
    do {                                                                                                     \
        c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane);                                                    \
        c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane);                                                    \
        c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);                                                    \
    } while (0)
__attribute__((noinline)) static void kernel_8x12(int64_t kc, const float *restrict a, const float *restrict b,
                                                  int64_t ldb, vf *restrict acc)
{
    CONV_ACC_DECL8;
    for (int64_t p = 0; p < kc; p++) {
        vf b0 = vld1q_f32(b), b1 = vld1q_f32(b + VL), b2 = vld1q_f32(b + 2 * VL);
        vf a0 = vld1q_f32(a), a1 = vld1q_f32(a + VL);
        ROW_FMA(0, a0, 0);
        ROW_FMA(1, a0, 1);
        ROW_FMA(2, a0, 2);
        ROW_FMA(3, a0, 3);
        ROW_FMA(4, a1, 0);
        ROW_FMA(5, a1, 1);
        ROW_FMA(6, a1, 2);
        ROW_FMA(7, a1, 3);
        a += MR;
        b += ldb;
    }
    CONV_ACC_OUT8;
}

/*
 * acc = the tile of width columns at b (rows ldb apart). A 1x1 conv's
 * partial last panel (ldb != NR) is copied into a zero-padded tile first;
 * with fetch_next (1x1, the first channel panel) the next column panel's
 * rows are fetched ahead.
 */
static inline void tile_kernel(int64_t kc, const float *a, const float *b, int64_t ldb, vmask tm, int nv,
                               int64_t width, bool fetch_next, vf *acc)
{
    if (fetch_next)
        conv_prefetch_rows(b + NR, ldb, kc, NR);
    if (width < NR && ldb != NR) {
        /* by blocks of KC_MAX rows: out_groups runs the whole K as one block */
        float tile[EVO_CONVF_KC_MAX * NR];
        vf part[MR * 3];
        for (int64_t k0 = 0; k0 < kc; k0 += EVO_CONVF_KC_MAX) {
            int64_t kk = EVO_MIN(kc - k0, (int64_t)EVO_CONVF_KC_MAX);
            for (int64_t r = 0; r < kk; r++) {
                memcpy(tile + r * NR, b + (k0 + r) * ldb, sizeof(float) * (size_t)width);
                memset(tile + r * NR + width, 0, sizeof(float) * (size_t)(NR - width));
            }
            kernel_8x12(kk, a + k0 * MR, tile, NR, k0 ? part : acc);
            for (int i = 0; k0 && i < MR * 3; i++)
                acc[i] = vaddq_f32(acc[i], part[i]);
        }
        return;
    }
    kernel_8x12(kc, a, b, ldb, acc);
}

/* K rows per block: conv_body.inc's EVO_CONVF_KC_MAX, a 12-wide panel of 256 rows is 12 KB of L1 */
#define CONV_NAME "neon"
#define CONV_ISA EVO_ISA_NEON
#define CONV_DEF evo_kernel_conv_neon
#include "kernels/conv_body.inc"
