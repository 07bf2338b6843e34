/*
 * qmatmul_vnni.c - QLinearMatMul with vpdpbusd (AVX512-VNNI), the scheme
 * of qconv_fast.h with the roles turned: B's columns are the vectors
 * (int8 weights, 16 columns x 4 K per zmm) and A's rows the broadcasts
 * (uint8 activations); a tile is MR = 8 rows x NR = 48 columns, each
 * column an output channel of its own (per-lane epilogue constants).
 */
#include "kernels/qconv_avx512.h"

#define MR 8
#define NR 48
#define WB 4
#define A_K4 4
#define QMM_LAYOUT EVO_QK_W_DPBUSD

QKERNEL(mmkernel1, 1, QK_DP_MM)
QKERNEL(mmkernel2, 2, QK_DP_MM)
QKERNEL(mmkernel3, 3, QK_DP_MM)

static void mm_tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a,
                    const unsigned char *b, int64_t k4n, int64_t width, int64_t j0, int n_rows, uint8_t *y,
                    int64_t ldy)
{
    __m512i acc[MR * 3];
    int nv = (int)((width + 15) / 16);
    if (nv == 3)
        mmkernel3(k4n, a, b, acc);
    else if (nv == 2)
        mmkernel2(k4n, a, b, acc);
    else
        mmkernel1(k4n, a, b, acc);
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int v = 0; v < nv; v++) {
        __mmask16 m = qmask16(width - v * 16);
        qrow r;
        qrow_load_lanes(h, base, j0 + v * 16, m, &r);
        for (int i = 0; i < n_rows; i++)
            qepi16_store(h, table, &r, acc[i * 3 + v], y + i * ldy + v * 16, m);
    }
}

#include "kernels/qmatmul_body.inc"

const evo_kernel_def evo_kernel_qmatmul_vnni = {
    .name = "qmatmul_vnni",
    .isa = EVO_ISA_VNNI,
    .supports = qmm_supports,
    .scratch_bytes = qmm_scratch,
    .run = qmm_run,
    .packed_bytes = qmm_packed_bytes,
    .pack = qmm_pack,
};
