/*
 * qconv_fast.h - what the SIMD int8 Conv variants share (plain C, no
 * intrinsics): the problem (geometry and quantization constants), the
 * packed constants' layout, and the GEMM blocking and task split.
 *
 * An int8 2-D Conv is, per group, the GEMM Y[M = c_out/group, N = oh*ow]
 * = W[M, K = c_in/group*kh*kw] x cols[K, N] with an exact int32
 * accumulator (docs/int8.md), requantized to the output as each tile is
 * stored, straight into the NCHW output. The weights are packed once into
 * mr-row panels with K padded to a multiple of 4 ([panel][K/4][mr][4]
 * bytes for vpdpbusd, or [panel][K/4][mr][2 x int16 pairs] for vpmaddwd);
 * each task packs a chunk of nr-wide column panels of cols (im2col, or the
 * input itself for a 1x1 conv) into the same 4-byte-interleaved uint8
 * layout, [panel][K/4][nr][4], and runs every weight panel over it, so the
 * accumulators hold a tile's whole K. int8 activations are offset by 128
 * (x ^ 0x80) as they are packed, their zero point with them, and padding
 * is the zero point; the zero point's share x_zp * sum(w) is folded into
 * the bias at pack time, so a tile is bias + sum(xu * w).
 */
#ifndef EVO_QCONV_FAST_H
#define EVO_QCONV_FAST_H

#include "kernels/kernel.h"

/* Geometry of a 2-D int8 conv (NCHW), as resolved by shape inference. */
typedef struct evo_qconv_shape {
    int64_t batch, c_in, c_out, group;
    int64_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
} evo_qconv_shape;

/* The quantization constants of a conv, read once at pack time. */
typedef struct evo_qconv_consts {
    const int8_t *w; /* [c_out][c_in/group][kh][kw], zero point 0; with w_kn [K = c_in][N = c_out] */
    bool w_kn;
    const int32_t *bias;  /* NULL or [c_out], scale x_scale * w_scale[c] */
    const float *w_scale; /* [c_out] when w_per_channel, else [1] */
    bool w_per_channel;
    float x_scale, y_scale;
    int32_t x_zp, y_zp;
    bool x_signed, y_signed; /* int8 rather than uint8 */
    evo_requant requant;
    evo_act act;               /* fused activation */
    float act_alpha, act_beta; /* LeakyRelu alpha, HardSigmoid alpha/beta, Clip min/max */
    float act_scale;           /* table activations: the pre-activation's quantization */
    int32_t act_zp;
    evo_act_table act_table;
} evo_qconv_consts;

/* How the packed weights are laid out: the micro-kernel's operand. */
typedef enum evo_qk_wlayout {
    EVO_QK_W_DPBUSD = 0, /* [group][panel][K/4][mr][4] int8 */
    EVO_QK_W_MADD,       /* [group][panel][K/4][mr][(w0,w2),(w1,w3)] int16 pairs */
    EVO_QK_W_DW,         /* depthwise: [c][kh*kw] int32 holding the int16 weight */
    EVO_QK_W_MADD_T,     /* [panel][K/4][(w0,w2) of mr columns, then (w1,w3)] int16 pairs (matmul) */
    EVO_QK_W_DIRECT,     /* [group][panel][c_in/4][kh*kw][mr][4 channels] int8 (direct conv) */
    EVO_QK_W_DW4,        /* depthwise, vpdpbusd: [c][kh][(kw+3)/4][4 taps] int8, 0 past kw */
    EVO_QK_W_SDOT,       /* as DPBUSD, for kernels fed signed activations (x ^ x_xor as int8: Arm SDOT) */
    EVO_QK_W_MMLA,       /* [group][panel][K/8][mr][8] int8, K padded to 8 (Arm USMMLA's 2x8 operands) */
} evo_qk_wlayout;

/*
 * The head of a kernel's packed constants; the per-channel arrays and the
 * weights follow at the byte offsets given. The accumulator of channel c
 * is bias[c] + dot; it is requantized by mult[c] (FLOAT) or qmul[c] and
 * shift[c] (FIXED, M = qmul * 2^(shift - 31)), zp added, clamped to [lo,
 * hi], then with a table looked up as table[v & 255] (int32 entries at
 * off_table, the same as bytes at off_table8).
 */
typedef struct evo_qconv_packed {
    int64_t m_g, k_g, k_pad, m_panels; /* per group */
    int mr;
    evo_requant requant;
    int32_t lo, hi, zp;
    bool has_table;
    bool lut_vbmi;   /* look the table up with byte permutes (AVX512-VBMI, from the CPU at pack time) */
    bool no_lshift;  /* FIXED: no channel's shift is positive (the requantization skips acc << shift) */
    uint8_t x_xor; /* the GEMMs feed x ^ x_xor: uint8 (int8 x: 0x80), or int8 for EVO_QK_W_SDOT (uint8 x: 0x80) */
    uint8_t x_pad; /* the raw byte padding reads: x_zp */
    int64_t off_bias, off_mult, off_qmul, off_shift, off_table, off_table8, off_w;
    int64_t w_group_bytes;
} evo_qconv_packed;

size_t evo_qconv_packed_bytes(const evo_qconv_shape *s, int mr, evo_qk_wlayout l);
/* Packs weights, folded bias, requantization and activation constants into dst (64-byte aligned). */
void evo_qconv_pack(const evo_qconv_shape *s, const evo_qconv_consts *q, int mr, evo_qk_wlayout l, void *dst);

/*
 * The QLinearConv nodes the fast variants take (dw: only depthwise, group
 * = c_in = c_out, stride across 1 or 2): 2-D, uint8/int8 x and y, constant
 * int8 weights with zero point 0, constant per-tensor x/y scales and zero
 * points, constant bias.
 */
bool evo_qconv_node_ok(const evo_graph *g, const evo_node *n, bool dw);
/* The geometry of a QLinearConv from its attributes and x, w, y dims. */
void evo_qconv_shape_make(evo_qconv_shape *s, const evo_conv_attrs *c, const int64_t *x_dims,
                          const int64_t *w_dims, const int64_t *y_dims);
/* evo_qconv_pack for node n (evo_qconv_node_ok) from its constant inputs. */
void evo_qconv_pack_node(const evo_graph *g, const evo_node *n, int mr, evo_qk_wlayout l, void *dst);
size_t evo_qconv_packed_bytes_node(const evo_graph *g, const evo_node *n, int mr, evo_qk_wlayout l);

/* The GEMM blocking and task split of one conv; the im2col packing reads it too. */
typedef struct evo_qconv_plan {
    evo_qconv_shape s;
    int64_t m, n, k, k_pad; /* per group: c_out/group, oh*ow, c_in/group*kh*kw */
    int mr, nr;             /* register tile: nr columns of 4 bytes each */
    int64_t m_panels, n_panels, chunk_panels;
    bool direct;        /* 1x1 stride 1 unpadded: B rows are input rows */
    bool split_m;       /* tasks split the output channel panels, not the columns */
    size_t slice_bytes; /* scratch per task: the packed B block and the column groups */
} evo_qconv_plan;

/* Scratch per task past the B block: the packing's per-column window origins (qconv_body.inc). */
#define EVO_QCONV_GROUPS_BYTES 8448
/* Bytes of packed B per task: the block stays in L2. */
#define EVO_QCONV_BBLOCK_BYTES ((int64_t)1 << 18)

static inline void evo_qconv_plan_make(evo_qconv_plan *p, const evo_qconv_shape *s, int mr, int nr,
                                       int n_tasks)
{
    p->s = *s;
    p->m = s->c_out / s->group;
    p->n = s->oh * s->ow;
    p->k = s->c_in / s->group * s->kh * s->kw;
    p->k_pad = (p->k + 3) & ~(int64_t)3;
    p->mr = mr;
    p->nr = nr;
    p->direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0 &&
                s->ih == s->oh && s->iw == s->ow;
    p->m_panels = (p->m + mr - 1) / mr;
    p->n_panels = (p->n + nr - 1) / nr;
    int64_t cp = EVO_QCONV_BBLOCK_BYTES / (p->k_pad * nr);
    p->chunk_panels = EVO_MAX(EVO_MIN(cp, (int64_t)16), (int64_t)1);
    /* as conv_fast.h: split the channels when the weights outweigh the columns or these are few */
    int64_t unit = 16, n_units = (p->n + unit - 1) / unit;
    p->split_m = n_tasks > 1 && p->m_panels >= 4 * n_tasks && (2 * p->n < p->m || n_units < 2 * n_tasks);
    int64_t chunk_cols = p->chunk_panels * nr;
    size_t b = (size_t)(p->k_pad * chunk_cols);
    p->slice_bytes = ((b + 63) & ~(size_t)63) + EVO_QCONV_GROUPS_BYTES;
}

/*
 * This task's share of each image and group: channel panels [*mp0, *mp1)
 * x columns [*j0, *j1) (a multiple of 16 apart from the end).
 */
static inline void evo_qconv_task_share(const evo_qconv_plan *p, int task, int n_tasks, int64_t *mp0,
                                        int64_t *mp1, int64_t *j0, int64_t *j1)
{
    *mp0 = 0, *mp1 = p->m_panels, *j0 = 0, *j1 = p->n;
    if (p->split_m) {
        evo_task_range(p->m_panels, task, n_tasks, mp0, mp1);
    } else {
        int64_t u0, u1;
        evo_task_range((p->n + 15) / 16, task, n_tasks, &u0, &u1);
        *j0 = u0 * 16;
        *j1 = EVO_MIN(u1 * 16, p->n);
    }
}

/*
 * The fast int8 conv entry points: x [batch][c_in][ih][iw] and y
 * [batch][c_out][oh][ow] bytes (uint8 or int8 as packed), packed from
 * evo_qconv_pack with the variant's mr and layout, scratch of
 * p->slice_bytes per task (none for depthwise).
 */
void evo_qconv_gemm_vnni(const evo_qconv_plan *p, const void *packed, const void *x, void *y, void *scratch,
                         int task, int n_tasks);
void evo_qconv_gemm_avxvnni(const evo_qconv_plan *p, const void *packed, const void *x, void *y, void *scratch,
                            int task, int n_tasks);
void evo_qconv_gemm_avx2(const evo_qconv_plan *p, const void *packed, const void *x, void *y, void *scratch,
                         int task, int n_tasks);
/* kh x kw > 1 straight from the input (group 1; AVX512-VBMI too), packed with EVO_QK_W_DIRECT and mr 8 */
bool evo_qconv_direct_shape_ok(const evo_qconv_shape *s);
size_t evo_qconv_direct_scratch(const evo_qconv_shape *s, int n_tasks);
void evo_qconv_direct_vnni(const evo_qconv_shape *s, const void *packed, const void *x, void *y, void *scratch,
                           int task, int n_tasks);
/* depthwise (group = c_in = c_out), packed with EVO_QK_W_DW and mr 1 */
void evo_qconv_dw_avx512(const evo_qconv_shape *s, const void *packed, const void *x, void *y, int task,
                         int n_tasks);
void evo_qconv_dw_avx2(const evo_qconv_shape *s, const void *packed, const void *x, void *y, int task,
                       int n_tasks);
/* depthwise with vpdpbusd over a row's taps (AVX512-VNNI and VBMI), packed with EVO_QK_W_DW4 and mr 1 */
bool evo_qconv_dw_vnni_shape_ok(const evo_qconv_shape *s);
void evo_qconv_dw_vnni(const evo_qconv_shape *s, const void *packed, const void *x, void *y, int task,
                       int n_tasks);

extern const evo_kernel_def evo_kernel_qconv_direct_vnni; /* kh x kw > 1 from the input, vpdpbusd (+ VBMI) */
extern const evo_kernel_def evo_kernel_qconv_vnni;      /* GEMM with vpdpbusd */
extern const evo_kernel_def evo_kernel_qconv_dw_vnni;   /* depthwise, vpdpbusd over each row's taps (+ VBMI) */
extern const evo_kernel_def evo_kernel_qconv_dw_avx512; /* depthwise */
extern const evo_kernel_def evo_kernel_qconv_avxvnni;   /* GEMM with AVX-VNNI (ymm vpdpbusd), AVX2 tier */
extern const evo_kernel_def evo_kernel_qconv_avx2;      /* GEMM with vpmaddwd */
extern const evo_kernel_def evo_kernel_qconv_dw_avx2;   /* depthwise */

/* The depthwise variants' kernel contract; each file adds its run. */
static inline bool evo_qconv_dw_supports(const evo_graph *g, const evo_node *n)
{
    return evo_qconv_node_ok(g, n, true);
}
static inline size_t evo_qconv_dw_packed_bytes(const evo_graph *g, const evo_node *n)
{
    return evo_qconv_packed_bytes_node(g, n, 1, EVO_QK_W_DW);
}
static inline void evo_qconv_dw_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    evo_qconv_pack_node(g, n, 1, EVO_QK_W_DW, dst);
}
static inline void evo_qconv_dw_shape(const evo_kernel_args *a, evo_qconv_shape *s)
{
    evo_qconv_shape_make(s, &a->node->a.conv, a->in[0].dims, a->in[3].dims, a->out[0].dims);
}

/*
 * QLinearMatMul Y[rows][N] = A[rows][K] x B[K][N] (A's leading dims are
 * rows; B constant int8 with zero point 0): packed like a 1x1 conv of K
 * to N channels whose weight panels are nr columns of B wide, so the
 * accumulators hold a column per lane (a channel per lane in the
 * epilogue); A is packed an mr-row panel at a time, 4 bytes of K per row
 * (uint8, int8 offset by 128), and broadcast.
 */
bool evo_qmatmul_node_ok(const evo_graph *g, const evo_node *n);
size_t evo_qmatmul_packed_bytes_node(const evo_graph *g, const evo_node *n, int nr, evo_qk_wlayout l);
void evo_qmatmul_pack_node(const evo_graph *g, const evo_node *n, int nr, evo_qk_wlayout l, void *dst);

typedef struct evo_qmm_plan {
    int64_t rows, n, k, k_pad;
    int mr, nr;
    int64_t row_panels, n_panels;
    bool split_n;       /* tasks split the column panels (few rows), not the row panels */
    size_t slice_bytes; /* scratch per task: one packed A panel */
} evo_qmm_plan;

/* a_count: A's elements; b_dims: B's [K, N]; a_bytes_per_k4: packed A bytes per row per 4 K. */
static inline void evo_qmm_plan_make(evo_qmm_plan *p, int64_t a_count, const int64_t *b_dims, int mr, int nr,
                                     int a_bytes_per_k4, int n_tasks)
{
    p->k = b_dims[0];
    p->n = b_dims[1];
    p->rows = a_count / p->k;
    p->k_pad = (p->k + 3) & ~(int64_t)3;
    p->mr = mr, p->nr = nr;
    p->row_panels = (p->rows + mr - 1) / mr;
    p->n_panels = (p->n + nr - 1) / nr;
    p->split_n = n_tasks > 1 && p->row_panels < 2 * n_tasks;
    p->slice_bytes = ((size_t)(p->k_pad / 4 * mr * a_bytes_per_k4) + 63) & ~(size_t)63;
}

extern const evo_kernel_def evo_kernel_qmatmul_vnni;
extern const evo_kernel_def evo_kernel_qmatmul_avxvnni;
extern const evo_kernel_def evo_kernel_qmatmul_avx2;

/* AArch64 (src/kernels/arm/qconv_*.c): GEMM conv with USMMLA, SDOT, SMULL/SADALP; matmul with the last two */
extern const evo_kernel_def evo_kernel_qconv_dw_neon; /* depthwise, SMLAL (every Arm tier) */
extern const evo_kernel_def evo_kernel_qconv_i8mm;
extern const evo_kernel_def evo_kernel_qconv_dotprod;
extern const evo_kernel_def evo_kernel_qconv_neon;
extern const evo_kernel_def evo_kernel_qmatmul_dotprod;
extern const evo_kernel_def evo_kernel_qmatmul_neon;

#define EVO_QCONV_VNNI_MR 8
#define EVO_QCONV_VNNI_NR 48
#define EVO_QCONV_AVXVNNI_MR 6
#define EVO_QCONV_AVXVNNI_NR 16
#define EVO_QCONV_AVX2_MR 4
#define EVO_QCONV_AVX2_NR 16

#endif /* EVO_QCONV_FAST_H */
