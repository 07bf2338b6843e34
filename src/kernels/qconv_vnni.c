/*
 * qconv_vnni.c - int8 Conv as a packed-weight GEMM with vpdpbusd
 * (AVX512-VNNI); the scheme is qconv_fast.h's, the packing and loops
 * qconv_body.inc's.
 *
 * Register tile: MR = 8 output channels x NR = 48 output positions (three
 * zmm of 16 columns per channel row, 24 int32 accumulators). Each step
 * over 4 K loads three B vectors (16 columns x 4 uint8 bytes) and
 * broadcasts each row's 4 int8 weights; vpdpbusd adds the four exact
 * products of each column to its lane, so no intermediate saturates.
 */
#include "kernels/qconv_avx512.h"

#include <string.h>

#define MR EVO_QCONV_VNNI_MR
#define NR EVO_QCONV_VNNI_NR
#define QK_LAYOUT EVO_QK_W_DPBUSD
#define WB 4 /* weight bytes per row per 4 K */

QKERNEL(qkernel1, 1, QK_DP_CONV)
QKERNEL(qkernel2, 2, QK_DP_CONV)
QKERNEL(qkernel3, 3, QK_DP_CONV)

static void tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a,
                 const uint8_t *b, int64_t k4n, int64_t width, int64_t ch0, int n_rows, uint8_t *y,
                 int64_t ldy)
{
    __m512i acc[MR * 3];
    int nv = (int)((width + 15) / 16);
    if (nv == 3)
        qkernel3(k4n, a, b, acc);
    else if (nv == 2)
        qkernel2(k4n, a, b, acc);
    else
        qkernel1(k4n, a, b, acc);
    if (h->lut_vbmi) {
        qrows_store_lut(h, base, acc, nv, width, ch0, n_rows, y, ldy);
        return;
    }
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int i = 0; i < n_rows; i++) {
        qrow r;
        qrow_load(h, base, ch0 + i, &r);
        if (!h->has_table) { /* a row's bytes packed in one register */
            _mm512_mask_storeu_epi8(y + i * ldy, qmask64(width), qrow_bytes3(h, &r, acc + i * 3, nv));
            continue;
        }
        for (int v = 0; v < nv; v++)
            qepi16_store(h, table, &r, acc[i * 3 + v], y + i * ldy + v * 16, qmask16(width - v * 16));
    }
}

#include "kernels/qconv_body.inc"

void evo_qconv_gemm_vnni(const evo_qconv_plan *p, const void *packed, const void *x, void *y, void *scratch,
                         int task, int n_tasks)
{
    qgemm_run(p, packed, x, y, scratch, task, n_tasks);
}

const evo_kernel_def evo_kernel_qconv_vnni = {
    .name = "qconv_vnni",
    .isa = EVO_ISA_VNNI,
    .supports = qk_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};
