/*
 * conv_neon.c - 2-D Conv as a packed-weight GEMM with fused im2col
 * packing, AArch64 Advanced SIMD (conv_fast.h's scheme): the width-bound
 * parts of conv_body.inc, which the x86 variants share.
 *
 * The register tile is conv_neon.h's. Packed panels are read whole
 * (lanes past the last column are ignored when stored); a 1x1 conv's last,
 * partial column panel, read straight from the input, is copied into a
 * zero-padded tile first so no load runs past it.
 */
#include "kernels/arm/conv_neon.h"

#include <string.h>

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
