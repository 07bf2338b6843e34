/*
 * conv_fast.h - what the SIMD Conv variants share: the variants' symbols,
 * which nodes they take, and for the im2col GEMM variants (conv_avx512.c,
 * conv_avx2.c) the packed weight layout and the blocking/threading plan.
 * Plain C: no intrinsics here. The registry tries Winograd F(4x4, 3x3)
 * and F(2x2, 3x3) first, then the input-broadcast variant (stems, wide
 * stride-2 layers), then im2col.
 *
 * A 2-D Conv is the GEMM Y[M=c_out, N=oh*ow] = W[M, K=c_in*kh*kw] x
 * cols[K, N], written straight into the NCHW output (row stride N), so no
 * layout change happens between layers. The weights are packed once per
 * session into MR-row panels, K block by K block ([block][panel][kc][MR],
 * zero rows past c_out); the
 * im2col matrix is never built: each task packs a KC x (chunk of NR-wide
 * column panels) block of it straight from the NCHW input ("fused im2col"),
 * keeps it in L2 and runs every weight panel over it, so the packing cost
 * is shared by all output channels (a 1x1 conv packs nothing: B is the
 * input). The micro-kernel owns an MR x NR tile in registers over a KC
 * slice and applies bias, residual and the fused activation when it stores
 * the last slice. KC is at most the variant's kc_direct for 1x1 convs and
 * its kc_packed for packed B.
 */
#ifndef EVO_CONV_FAST_H
#define EVO_CONV_FAST_H

#include "kernels/kernel.h"

extern const evo_kernel_def evo_kernel_conv_wino4_avx512; /* 3x3 stride 1: Winograd F(4x4, 3x3) */
extern const evo_kernel_def evo_kernel_conv_wino_avx512;  /* 3x3 stride 1: Winograd F(2x2, 3x3) */
extern const evo_kernel_def evo_kernel_conv_winos2_avx512; /* 3x3 stride 2: Winograd F(2x2, 3x3) by parity */
extern const evo_kernel_def evo_kernel_conv_bcast_avx512; /* k x k stride 1-2: input broadcast, no packing */
extern const evo_kernel_def evo_kernel_conv_bcast_pair_avx512; /* two of those, the first's output in bands */
extern const evo_kernel_def evo_kernel_conv_avx512;
extern const evo_kernel_def evo_kernel_conv_avx2;
extern const evo_kernel_def evo_kernel_conv_dw_avx512; /* depthwise: group = channels */
extern const evo_kernel_def evo_kernel_conv_dwc_avx512; /* depthwise, 16 channels to a vector: small maps */
extern const evo_kernel_def evo_kernel_conv_neon;    /* AArch64: im2col GEMM, 8 x 12 tile */
extern const evo_kernel_def evo_kernel_conv_dw_neon; /* AArch64: depthwise */
extern const evo_kernel_def evo_kernel_conv_wino4_neon;  /* AArch64 3x3 stride 1: Winograd F(4x4, 3x3) */
extern const evo_kernel_def evo_kernel_conv_wino_neon;   /* AArch64 3x3 stride 1: Winograd F(2x2, 3x3) */
extern const evo_kernel_def evo_kernel_conv_winos2_neon; /* AArch64 3x3 stride 2: Winograd F(2x2, 3x3) by parity */
extern const evo_kernel_def evo_kernel_conv_pwdwc_avx512; /* 1x1 conv into dwc's pixel vectors, then dwc */
extern const evo_kernel_def evo_kernel_conv_bcdwc_avx512; /* a bcast conv into dwc's pixel vectors, then dwc */
extern const evo_kernel_def evo_kernel_conv_pwdwc_gap_avx512; /* pwdwc, then GlobalAveragePool of its output */
extern const evo_kernel_def evo_kernel_conv_bcdwc_gap_avx512; /* bcdwc, then GlobalAveragePool of its output */
extern const evo_kernel_def evo_kernel_conv_dwpw_avx512; /* depthwise (dw_avx512), then a 1x1 conv, in bands */
extern const evo_kernel_def evo_kernel_conv_scaled_avx512; /* a per-channel scale Mul, then a 1x1 conv */
extern const evo_kernel_def evo_kernel_conv_scaled_avx2;

/*
 * K rows per block of evo_kernel_conv_avx512's packed weights for node n:
 * when it is n's whole K, panel mp (8 channels) holds row k at
 * (mp * K + k) * 8.
 */
int64_t evo_conv_avx512_kc(const evo_graph *g, const evo_node *n);
/* Output channels per weight panel of evo_kernel_conv_bcast_avx512 ([panel][K][bv]) for c_out channels. */
int64_t evo_conv_bcast_avx512_bv(int64_t c_out);

/* K per block of AVX2's 1x1 and packed B: a KC x NR panel stays in L1 (256 * 48 floats = 48 KB). */
#define EVO_CONVF_KC_MAX 256
/* Floats of packed B per task: the block stays in L2. */
#define EVO_CONVF_BBLOCK_FLOATS ((int64_t)1 << 17)

typedef struct evo_convf_plan {
    int64_t batch, c_in, c_out;
    /* geometry; a 1x1/stride-1/unpadded conv is flattened to one row of N */
    int64_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
    int64_t m, n, k;  /* GEMM sizes */
    int mr, nr;       /* register tile; nr is three vectors */
    int64_t kc, n_kb; /* K blocks of kc rows (the last may be shorter) */
    int64_t m_panels, n_panels;
    int64_t chunk_panels; /* column panels per packed B block */
    bool split_m;         /* tasks split the output channels, not the columns */
    bool direct;          /* 1x1 stride 1 unpadded: B is read from the input, unpacked */
    int64_t out_groups;   /* > 0: Y is [N, G, H, W, C / G], stored from one K block */
    size_t slice_bytes;   /* scratch per task */
} evo_convf_plan;

/*
 * Which nodes the fast variants take: 2-D float Conv, group 1, constant
 * weights, NCHW output (with out_groups_ok also the [N, G, H, W, C/G]
 * output of out_groups).
 */
static inline bool evo_convf_supports_out(const evo_graph *g, const evo_node *n, bool out_groups_ok)
{
    const evo_conv_attrs *c = &n->a.conv;
    if (n->op != EVO_OP_CONV || c->n_spatial != 2 || c->group != 1 || n->n_in < 2)
        return false;
    const evo_value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]];
    const evo_value *y = &g->values[n->out[0]];
    if (c->out_groups && !out_groups_ok)
        return false;
    if (x->dtype != EVO_DTYPE_FLOAT || w->dtype != EVO_DTYPE_FLOAT || !w->data || x->rank != 4 ||
        w->rank != 4 || y->rank != (c->out_groups ? 5 : 4))
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && g->values[n->in[2]].dtype != EVO_DTYPE_FLOAT)
        return false;
    if (c->has_residual) {
        if (n->n_in < 4 || n->in[3] < 0)
            return false;
        const evo_value *r = &g->values[n->in[3]];
        if (r->dtype != EVO_DTYPE_FLOAT || r->rank != 4)
            return false;
        for (int i = 0; i < 4; i++)
            if (r->dims[i] != y->dims[i])
                return false;
    }
    return true;
}

static inline bool evo_convf_supports(const evo_graph *g, const evo_node *n)
{
    return evo_convf_supports_out(g, n, false);
}

/* The live node whose output 0 is value v, or NULL. */
static inline const evo_node *evo_conv_producer(const evo_graph *g, int v)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].is_dead && g->nodes[i].n_out > 0 && g->nodes[i].out[0] == v)
            return &g->nodes[i];
    return NULL;
}

/*
 * Whether node a's output 0 is read by node b as its input 0 and by
 * nothing else (no other input of b, no other live node, not a graph
 * output): a fused pair may then keep it from memory.
 */
static inline bool evo_conv_feeds_only(const evo_graph *g, const evo_node *a, const evo_node *b)
{
    if (a->n_out < 1 || a->out[0] < 0 || b->n_in < 1 || b->in[0] != a->out[0])
        return false;
    int v = a->out[0];
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return false;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in && !n->is_dead; k++)
            if (n->in[k] == v && (n != b || k != 0))
                return false;
    }
    return true;
}

/*
 * Of a per-channel scale Mul (evo_conv_scale_fuses) with output dims y,
 * which input is the full tensor x: 0 if input 0 (dims x0 of rank r0) has
 * y's dims, else 1.
 */
static inline int evo_conv_scale_x(const int64_t *x0, int r0, const int64_t *y)
{
    return r0 == 4 && x0[0] == y[0] && x0[1] == y[1] && x0[2] == y[2] && x0[3] == y[3] ? 0 : 1;
}

/*
 * Whether Mul node m scales x [N, C, H, W] by s [N or 1, C, 1, 1] (the
 * end of a squeeze-excite block) and only the 1x1 stride-1 unpadded conv
 * n reads the product, so that n can take the scale into its weights; and
 * whether that is cheaper than the Mul: the weights (C_out x C) scaled per
 * image are at most twice the product's size (C x H x W).
 */
static inline bool evo_conv_scale_fuses(const evo_graph *g, const evo_node *m, const evo_node *n)
{
    if (m->op != EVO_OP_MUL || m->n_in != 2 || m->in[0] < 0 || m->in[1] < 0 || !evo_convf_supports(g, n) ||
        n->a.conv.out_groups || !evo_conv_feeds_only(g, m, n))
        return false;
    const evo_value *y = &g->values[m->out[0]], *a = &g->values[m->in[0]], *b = &g->values[m->in[1]];
    int xi = evo_conv_scale_x(a->dims, a->rank, y->dims);
    const evo_value *x = xi ? b : a, *s = xi ? a : b;
    if (x->dtype != EVO_DTYPE_FLOAT || s->dtype != EVO_DTYPE_FLOAT || y->rank != 4 || x->rank != 4 ||
        s->rank != 4 || evo_conv_scale_x(x->dims, x->rank, y->dims) != 0 ||
        (s->dims[0] != 1 && s->dims[0] != y->dims[0]) || s->dims[1] != y->dims[1] || s->dims[2] != 1 ||
        s->dims[3] != 1)
        return false;
    const evo_conv_attrs *c = &n->a.conv;
    const int64_t *wd = g->values[n->in[1]].dims;
    return wd[2] == 1 && wd[3] == 1 && c->stride[0] == 1 && c->stride[1] == 1 && !c->pad_begin[0] &&
           !c->pad_begin[1] && !c->pad_end[0] && !c->pad_end[1] && wd[0] <= 2 * y->dims[2] * y->dims[3];
}

/*
 * What a conv variant applies as it stores the last K block: bias (NULL or
 * one per output channel), the fused residual (NULL or the whole tensor,
 * laid out like the output) added before the activation or after it, and
 * the activation.
 */
typedef struct evo_conv_epilogue {
    const float *bias;
    const float *res;
    evo_act act;
    float alpha, beta;
    bool res_after_act; /* YOLO: x + SiLU(conv); else ResNet: Relu(conv + x) */
} evo_conv_epilogue;

/* The epilogue a Conv node's kernel arguments describe. */
static inline evo_conv_epilogue evo_conv_epilogue_of(const evo_kernel_args *a)
{
    const evo_conv_attrs *c = &a->node->a.conv;
    evo_conv_epilogue e = {a->n_in > 2 && a->in[2].data ? a->in[2].data : NULL,
                           c->has_residual && a->n_in > 3 ? a->in[3].data : NULL,
                           c->act,
                           c->act_alpha,
                           c->act_beta,
                           c->residual_after_act};
    return e;
}

/* K rows per block for a GEMM of depth k: blocks of equal size, at most kc_max. */
static inline int64_t evo_convf_kc(int64_t k, int64_t kc_max)
{
    int64_t n_kb = (k + kc_max - 1) / kc_max;
    return (k + n_kb - 1) / n_kb;
}

/*
 * The blocking and task split of a conv; kc_packed caps the K blocks of
 * packed (not 1x1) B and kc_direct those of the 1x1 path, which reads B
 * rows straight from the input: each variant's choice.
 */
static inline void evo_convf_plan_make(evo_convf_plan *p, const evo_conv_attrs *c, const int64_t *x_dims,
                                       const int64_t *w_dims, const int64_t *y_dims, int mr, int nr,
                                       int64_t kc_packed, int64_t kc_direct, int n_tasks)
{
    p->batch = x_dims[0];
    p->c_in = x_dims[1];
    p->c_out = w_dims[0];
    p->ih = x_dims[2], p->iw = x_dims[3];
    p->oh = y_dims[2], p->ow = y_dims[3];
    p->kh = w_dims[2], p->kw = w_dims[3];
    p->sh = c->stride[0], p->sw = c->stride[1];
    p->dh = c->dilation[0], p->dw = c->dilation[1];
    p->ph = c->pad_begin[0], p->pw = c->pad_begin[1];
    p->m = p->c_out;
    p->n = p->oh * p->ow;
    p->k = p->c_in * p->kh * p->kw;
    if (p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->ph == 0 && p->pw == 0 && p->ih == p->oh &&
        p->iw == p->ow) {
        p->ih = p->oh = 1;
        p->iw = p->ow = p->n;
        p->direct = true;
    } else {
        p->direct = false;
    }
    p->mr = mr;
    p->nr = nr;
    p->out_groups = c->out_groups;
    /* out_groups: the whole K in one block, so tiles are final when stored in the grouped layout */
    p->kc = p->out_groups ? p->k : evo_convf_kc(p->k, p->direct ? kc_direct : kc_packed);
    p->n_kb = (p->k + p->kc - 1) / p->kc;
    p->m_panels = (p->m + mr - 1) / mr;
    p->n_panels = (p->n + nr - 1) / nr;
    int64_t cp = EVO_CONVF_BBLOCK_FLOATS / (p->kc * nr);
    p->chunk_panels = EVO_MAX(EVO_MIN(cp, (int64_t)16), (int64_t)1);
    /*
     * Tasks split the columns in vector-wide units, each packing only its
     * own; when the weights outweigh the columns (late layers: M > 2N) or
     * the columns are too few, they split the channels instead and each
     * packs the same B. A 1x1 conv packs nothing, so on maps up to 32x32
     * its tasks split the channels and read half the weights each (2
     * threads, 1x1 1024 -> 512 on 20x20: 1.45 -> 1.37 ms).
     */
    int64_t unit = nr / 3, n_units = (p->n + unit - 1) / unit;
    p->split_m = n_tasks > 1 && p->m_panels >= 4 * n_tasks &&
                 (2 * p->n < p->m || n_units < 2 * n_tasks || (p->direct && p->n <= 1024));
    p->slice_bytes = ((size_t)(p->kc * p->chunk_panels * nr) * sizeof(float) + 63) & ~(size_t)63;
}

static inline void evo_convf_plan_node(evo_convf_plan *p, const evo_graph *g, const evo_node *n, int mr,
                                       int nr, int64_t kc_packed, int64_t kc_direct, int n_tasks)
{
    evo_convf_plan_make(p, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[1]].dims,
                        g->values[n->out[0]].dims, mr, nr, kc_packed, kc_direct, n_tasks);
}

static inline size_t evo_convf_packed_bytes(const evo_graph *g, const evo_node *n, int mr)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    int64_t k = wd[1] * wd[2] * wd[3], panels = (wd[0] + mr - 1) / mr;
    return (size_t)(panels * k * mr) * sizeof(float);
}

/*
 * W[c_out][K] into K blocks of kc rows (the plan's), each holding every
 * mr-row panel in turn: [block][panel][row][mr], zero rows past c_out.
 * A sweep over all channel panels for one K block then reads one
 * contiguous run of memory (the panel of (block at k0, panel mp, kc rows)
 * starts at (k0 * panels + mp * kc) * mr), which the prefetchers follow.
 */
static inline void evo_convf_pack_weights(const evo_graph *g, const evo_node *n, int mr, int64_t kc_max,
                                          float *dst)
{
    const int64_t *wd = g->values[n->in[1]].dims;
    const float *w = g->values[n->in[1]].data;
    int64_t m = wd[0], k = wd[1] * wd[2] * wd[3];
    for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
        int64_t kc = EVO_MIN(kc_max, k - k0);
        for (int64_t i0 = 0; i0 < m; i0 += mr)
            for (int64_t p = k0; p < k0 + kc; p++)
                for (int i = 0; i < mr; i++)
                    *dst++ = i0 + i < m ? w[(i0 + i) * k + p] : 0.0f;
    }
}

/*
 * Channel co of column j of the out_groups layout: ((co / cg) * n + j) * cg
 * + co % cg. Stores rows [i0, i0 + n_rows) x columns [j0, j0 + cols) of a
 * finished tile (row i at t + i * ldt) element by element: the portable
 * path, and the fast variants' fallback for tiles that cross a group.
 */
static inline void evo_convf_store_groups(const evo_convf_plan *p, const float *t, int64_t ldt, int64_t i0,
                                          int n_rows, int64_t j0, int64_t cols, float *y)
{
    int64_t cg = p->m / p->out_groups;
    for (int i = 0; i < n_rows; i++) {
        int64_t co = i0 + i;
        float *dst = y + (co / cg * p->n + j0) * cg + co % cg;
        for (int64_t j = 0; j < cols; j++)
            dst[j * cg] = t[i * ldt + j];
    }
}

/*
 * This task's share of each image: output channel panels [*mp0, *mp1) x
 * columns [*j0, *j1) (a multiple of the vector width apart from the end).
 */
static inline void evo_convf_task_share(const evo_convf_plan *p, int task, int n_tasks, int64_t *mp0,
                                        int64_t *mp1, int64_t *j0, int64_t *j1)
{
    *mp0 = 0, *mp1 = p->m_panels, *j0 = 0, *j1 = p->n;
    if (p->split_m) {
        evo_task_range(p->m_panels, task, n_tasks, mp0, mp1);
    } else {
        int64_t unit = p->nr / 3, u0, u1;
        evo_task_range((p->n + unit - 1) / unit, task, n_tasks, &u0, &u1);
        *j0 = u0 * unit;
        *j1 = EVO_MIN(u1 * unit, p->n);
    }
}

#endif /* EVO_CONV_FAST_H */
