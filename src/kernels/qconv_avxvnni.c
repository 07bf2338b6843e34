/*
 * qconv_avxvnni.c - int8 Conv and QLinearMatMul with AVX-VNNI, the VEX
 * vpdpbusd on ymm of CPUs that have it without AVX-512 (Alder Lake and
 * later client and Atom cores, Zen 5). The schemes are those of
 * qconv_vnni.c and qmatmul_vnni.c on 8-lane vectors: a tile is MR = 6 rows
 * x NR = 16 columns (12 accumulators, two column vectors, one broadcast);
 * the epilogue is AVX2's (qconv_avx2.h). These kernels sit in the AVX2
 * tier and take a node only when the CPU reports AVX-VNNI.
 */
#include "core/cpu.h"
#include "kernels/qconv_avx2.h"

#define MR 6
#define NR 16
#define WB 4
#define A_K4 4
#define QK_LAYOUT EVO_QK_W_DPBUSD
#define QMM_LAYOUT EVO_QK_W_DPBUSD

/* vpdpbusd's first operand is uint8: the columns for conv, the broadcast rows for matmul */
#define DP_CONV(c, bv, av) _mm256_dpbusd_avx_epi32(c, bv, av)
#define DP_MM(c, bv, av) _mm256_dpbusd_avx_epi32(c, av, bv)
#define VROW(i, DP)                                                                                          \
    do {                                                                                                     \
        __m256i av = _mm256_set1_epi32(aw[i]);                                                               \
        c##i##0 = DP(c##i##0, b0, av);                                                                       \
        c##i##1 = DP(c##i##1, b1, av);                                                                       \
    } while (0)
/* acc[i * 2 + v] = the MR x NR tile over k4n steps of 4 K (a: MR * 4 bytes per step, b: NR * 4). */
#define VKERNEL(NAME, DP)                                                                                    \
    __attribute__((noinline)) static void NAME(int64_t k4n, const unsigned char *restrict a,                 \
                                               const unsigned char *restrict b, __m256i *restrict acc)       \
    {                                                                                                        \
        __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;         \
        __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;                            \
        for (int64_t p = 0; p < k4n; p++) {                                                                  \
            int32_t aw[MR];                                                                                  \
            memcpy(aw, a, sizeof(aw));                                                                       \
            __m256i b0 = _mm256_loadu_si256((const __m256i *)b);                                             \
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32));                                      \
            VROW(0, DP);                                                                                     \
            VROW(1, DP);                                                                                     \
            VROW(2, DP);                                                                                     \
            VROW(3, DP);                                                                                     \
            VROW(4, DP);                                                                                     \
            VROW(5, DP);                                                                                     \
            a += MR * 4;                                                                                     \
            b += NR * 4;                                                                                     \
        }                                                                                                    \
        acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;                  \
        acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;                \
    }

VKERNEL(vkernel_conv, DP_CONV)
VKERNEL(vkernel_mm, DP_MM)

static void tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a,
                 const uint8_t *b, int64_t k4n, int64_t width, int64_t ch0, int n_rows, uint8_t *y,
                 int64_t ldy)
{
    __m256i acc[MR * 2];
    vkernel_conv(k4n, a, b, acc);
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int i = 0; i < n_rows; i++) {
        qrow r;
        qrow_load(h, base, ch0 + i, &r);
        for (int v = 0; v * 8 < width; v++)
            qepi8_store(h, table, &r, acc[i * 2 + v], y + i * ldy + v * 8, width - v * 8);
    }
}

static void mm_tile(const evo_qconv_packed *h, const unsigned char *base, const unsigned char *a,
                    const unsigned char *b, int64_t k4n, int64_t width, int64_t j0, int n_rows, uint8_t *y,
                    int64_t ldy)
{
    __m256i acc[MR * 2];
    vkernel_mm(k4n, a, b, acc);
    const int32_t *table = (const int32_t *)(base + h->off_table);
    for (int v = 0; v * 8 < width; v++) {
        qrow r;
        qrow_load_lanes(h, base, j0 + v * 8, width - v * 8, &r);
        for (int i = 0; i < n_rows; i++)
            qepi8_store(h, table, &r, acc[i * 2 + v], y + i * ldy + v * 8, width - v * 8);
    }
}

#include "kernels/qconv_body.inc"
#include "kernels/qmatmul_body.inc"

void evo_qconv_gemm_avxvnni(const evo_qconv_plan *p, const void *packed, const void *x, void *y,
                            void *scratch, int task, int n_tasks)
{
    qgemm_run(p, packed, x, y, scratch, task, n_tasks);
}

static bool conv_supports(const evo_graph *g, const evo_node *n)
{
    return evo_cpu_get()->avx_vnni && qk_supports(g, n);
}

static bool mm_supports(const evo_graph *g, const evo_node *n)
{
    return evo_cpu_get()->avx_vnni && qmm_supports(g, n);
}

const evo_kernel_def evo_kernel_qconv_avxvnni = {
    .name = "qconv_avxvnni",
    .isa = EVO_ISA_AVX2,
    .supports = conv_supports,
    .scratch_bytes = qk_scratch,
    .run = qk_run,
    .packed_bytes = qk_packed_bytes,
    .pack = qk_pack,
};

const evo_kernel_def evo_kernel_qmatmul_avxvnni = {
    .name = "qmatmul_avxvnni",
    .isa = EVO_ISA_AVX2,
    .supports = mm_supports,
    .scratch_bytes = qmm_scratch,
    .run = qmm_run,
    .packed_bytes = qmm_packed_bytes,
    .pack = qmm_pack,
};
