/*
 * peak_dotprod.c - the AArch64 SDOT int8 peak loop: 12 independent sdot
 * chains (16 int8 products into 4 int32 lanes each), as peak_neon.c does
 * for FMAs; what int8 steps are measured against on dotprod cores.
 */
#include "kernels/peak.h"

#include <arm_neon.h>

double evo_peak_dot_dotprod(int64_t n_iter)
{
    const int8x16_t a = vdupq_n_s8(1), b = vdupq_n_s8(-1);
    int32x4_t r0 = vdupq_n_s32(0), r1 = vdupq_n_s32(1), r2 = vdupq_n_s32(2), r3 = vdupq_n_s32(3);
    int32x4_t r4 = vdupq_n_s32(4), r5 = vdupq_n_s32(5), r6 = vdupq_n_s32(6), r7 = vdupq_n_s32(7);
    int32x4_t r8 = vdupq_n_s32(8), r9 = vdupq_n_s32(9), r10 = vdupq_n_s32(10), r11 = vdupq_n_s32(11);
    for (int64_t it = 0; it < n_iter; it++) {
        r0 = vdotq_s32(r0, a, b);
        r1 = vdotq_s32(r1, a, b);
        r2 = vdotq_s32(r2, a, b);
        r3 = vdotq_s32(r3, a, b);
        r4 = vdotq_s32(r4, a, b);
        r5 = vdotq_s32(r5, a, b);
        r6 = vdotq_s32(r6, a, b);
        r7 = vdotq_s32(r7, a, b);
        r8 = vdotq_s32(r8, a, b);
        r9 = vdotq_s32(r9, a, b);
        r10 = vdotq_s32(r10, a, b);
        r11 = vdotq_s32(r11, a, b);
    }
    int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(r0, r1), vaddq_s32(r2, r3)), vaddq_s32(vaddq_s32(r4, r5), vaddq_s32(r6, r7)));
    s = vaddq_s32(s, vaddq_s32(vaddq_s32(r8, r9), vaddq_s32(r10, r11)));
    volatile int sink = vaddvq_s32(s);
    (void)sink;
    return (double)n_iter * 12 * 16 * 2;
}
