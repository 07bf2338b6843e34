/*
 * peak_neon.c - the AArch64 Advanced SIMD FMA peak loop (see
 * peak_avx512.c): 12 independent 4-lane FMA chains, more than the
 * latency (4 cycles) times the FMA pipes (2) of a Cortex-A76/A78.
 */
#include "kernels/peak.h"

#include <arm_neon.h>

double evo_peak_fma_neon(int64_t n_iter)
{
    const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
    float32x4_t r[12];
    for (int i = 0; i < 12; i++)
        r[i] = vdupq_n_f32((float)i);
    float32x4_t r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5];
    float32x4_t r6 = r[6], r7 = r[7], r8 = r[8], r9 = r[9], r10 = r[10], r11 = r[11];
    for (int64_t it = 0; it < n_iter; it++) {
        r0 = vfmaq_f32(b, r0, a);
        r1 = vfmaq_f32(b, r1, a);
        r2 = vfmaq_f32(b, r2, a);
        r3 = vfmaq_f32(b, r3, a);
        r4 = vfmaq_f32(b, r4, a);
        r5 = vfmaq_f32(b, r5, a);
        r6 = vfmaq_f32(b, r6, a);
        r7 = vfmaq_f32(b, r7, a);
        r8 = vfmaq_f32(b, r8, a);
        r9 = vfmaq_f32(b, r9, a);
        r10 = vfmaq_f32(b, r10, a);
        r11 = vfmaq_f32(b, r11, a);
    }
    float32x4_t s = vaddq_f32(vaddq_f32(vaddq_f32(r0, r1), vaddq_f32(r2, r3)),
                              vaddq_f32(vaddq_f32(r4, r5), vaddq_f32(r6, r7)));
    s = vaddq_f32(s, vaddq_f32(vaddq_f32(r8, r9), vaddq_f32(r10, r11)));
    volatile float sink = vaddvq_f32(s);
    (void)sink;
    return (double)n_iter * 12 * 4 * 2;
}
