/*
 * qconv_pack.c - the packed constants of the fast int8 Conv variants
 * (qconv_fast.h): weights in the micro-kernels' layouts, the bias with the
 * activation zero point folded in, the per-channel requantization
 * constants, the clamp range and the activation table. Portable C, run
 * once per session.
 */
#include "core/cpu.h"
#include "kernels/qconv_fast.h"
#include "kernels/quant_common.h"

#include <math.h>
#include <string.h>

/* The layout of the packed constants in the head h. */
static void layout(const evo_qconv_shape *s, int mr, evo_qk_wlayout l, evo_qconv_packed *h)
{
    memset(h, 0, sizeof(*h));
    h->mr = mr;
    h->m_g = s->c_out / s->group;
    h->k_g = s->c_in / s->group * s->kh * s->kw;
    h->k_pad = l == EVO_QK_W_DW ? h->k_g : (h->k_g + 3) & ~(int64_t)3;
    if (l == EVO_QK_W_MMLA)
        h->k_pad = (h->k_g + 7) & ~(int64_t)7;
    if (l == EVO_QK_W_DIRECT) /* channels padded to 4 for each tap */
        h->k_pad = (s->c_in / s->group + 3) / 4 * 4 * s->kh * s->kw;
    if (l == EVO_QK_W_DW4) /* each row's taps padded to 4 */
        h->k_pad = s->kh * ((s->kw + 3) / 4) * 4;
    h->m_panels = (h->m_g + mr - 1) / mr;
    int64_t c = s->c_out, off = ((int64_t)sizeof(*h) + 63) & ~(int64_t)63;
    int64_t arr = (c * 4 + 63) & ~(int64_t)63;
    h->off_bias = off;
    h->off_mult = off + arr;
    h->off_qmul = off + 2 * arr;
    h->off_shift = off + 3 * arr;
    h->off_table = off + 4 * arr;
    h->off_table8 = h->off_table + 256 * 4;
    h->off_w = h->off_table8 + 256;
    int64_t per_k4 = l == EVO_QK_W_MADD || l == EVO_QK_W_MADD_T ? 8 : 4; /* bytes per row (column) per 4 K */
    if (l == EVO_QK_W_DW)
        h->w_group_bytes = h->k_g * 4;
    else if (l == EVO_QK_W_DW4)
        h->w_group_bytes = h->k_pad;
    else
        h->w_group_bytes = h->m_panels * (h->k_pad / 4) * mr * per_k4;
}

size_t evo_qconv_packed_bytes(const evo_qconv_shape *s, int mr, evo_qk_wlayout l)
{
    evo_qconv_packed h;
    layout(s, mr, l, &h);
    return (size_t)(h.off_w + h.w_group_bytes * s->group);
}

/* Clamp range, zero point and table (int32, indexed by the byte v & 255): the epilogue after the multiplier.
 */
static void pack_act(const evo_qconv_consts *q, evo_qconv_packed *h, int32_t *table)
{
    evo_dtype yt = q->y_signed ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    h->zp = q->y_zp;
    evo_quant_act_range(q->act, q->act_alpha, q->act_beta, q->y_scale, q->y_zp, yt, &h->lo, &h->hi);
    if (!evo_act_is_table(q->act))
        return;
    uint8_t t[256];
    evo_quant_act_table(q->act_table, q->act, q->act_alpha, q->act_beta, q->act_scale, q->act_zp, q->y_scale,
                        q->y_zp, yt, t);
    h->has_table = true;
    h->zp = q->act_zp;
    for (int i = 0; i < 256; i++) { /* entry i is pre-activation byte qmin + i */
        int32_t v = (q->y_signed ? -128 : 0) + i;
        table[v & 255] = q->y_signed ? (int32_t)(int8_t)t[i] : (int32_t)t[i];
    }
}

/* Weights of group g, channel row r (of m_g), K index k, or 0 outside. */
static int32_t w_at(const evo_qconv_consts *q, const evo_qconv_packed *h, int64_t g, int64_t r, int64_t k)
{
    if (r >= h->m_g || k >= h->k_g)
        return 0;
    if (q->w_kn) /* QLinearMatMul's B [K][N] */
        return q->w[k * h->m_g + r];
    return q->w[(g * h->m_g + r) * h->k_g + k];
}

static void pack_w(const evo_qconv_shape *s, const evo_qconv_consts *q, const evo_qconv_packed *h,
                   evo_qk_wlayout l, unsigned char *dst)
{
    for (int64_t g = 0; g < s->group; g++) {
        unsigned char *wg = dst + g * h->w_group_bytes;
        if (l == EVO_QK_W_DW) {
            int32_t *d = (int32_t *)wg;
            for (int64_t k = 0; k < h->k_g; k++)
                d[k] = (int32_t)(uint16_t)(int16_t)w_at(q, h, g, 0, k);
            continue;
        }
        if (l == EVO_QK_W_DW4) {
            int64_t kw4 = (s->kw + 3) / 4 * 4;
            for (int64_t ky = 0; ky < s->kh; ky++)
                for (int64_t kx = 0; kx < kw4; kx++)
                    *wg++ = (unsigned char)(int8_t)(kx < s->kw ? w_at(q, h, g, 0, ky * s->kw + kx) : 0);
            continue;
        }
        if (l == EVO_QK_W_DIRECT) { /* K as (channel group of 4, tap, channel in the group) */
            int64_t khw = s->kh * s->kw, cin_g = s->c_in / s->group;
            for (int64_t mp = 0; mp < h->m_panels; mp++)
                for (int64_t c4 = 0; c4 < cin_g; c4 += 4)
                    for (int64_t t = 0; t < khw; t++)
                        for (int i = 0; i < h->mr; i++)
                            for (int64_t c = c4; c < c4 + 4; c++)
                                *wg++ = (unsigned char)(int8_t)(c < cin_g ? w_at(q, h, g, mp * h->mr + i,
                                                                                 c * khw + t)
                                                                          : 0);
            continue;
        }
        int kg = l == EVO_QK_W_MMLA ? 8 : 4; /* K bytes per row group */
        for (int64_t mp = 0; mp < h->m_panels; mp++)
            for (int64_t k4 = 0; k4 < h->k_pad; k4 += kg) {
                if (l == EVO_QK_W_MADD_T) { /* (w0, w2) of every column, then (w1, w3) */
                    for (int p = 0; p < 2; p++)
                        for (int i = 0; i < h->mr; i++) {
                            int16_t v[2] = {(int16_t)w_at(q, h, g, mp * h->mr + i, k4 + p),
                                            (int16_t)w_at(q, h, g, mp * h->mr + i, k4 + p + 2)};
                            memcpy(wg, v, 4);
                            wg += 4;
                        }
                    continue;
                }
                for (int i = 0; i < h->mr; i++) {
                    int64_t r = mp * h->mr + i;
                    if (l != EVO_QK_W_MADD) {
                        for (int b = 0; b < kg; b++)
                            *wg++ = (unsigned char)(int8_t)w_at(q, h, g, r, k4 + b);
                    } else { /* (w0, w2) then (w1, w3) as int16 */
                        static const int order[4] = {0, 2, 1, 3};
                        for (int b = 0; b < 4; b++) {
                            int16_t v = (int16_t)w_at(q, h, g, r, k4 + order[b]);
                            memcpy(wg, &v, 2);
                            wg += 2;
                        }
                    }
                }
            }
    }
}

void evo_qconv_pack(const evo_qconv_shape *s, const evo_qconv_consts *q, int mr, evo_qk_wlayout l, void *dst)
{
    evo_qconv_packed h;
    layout(s, mr, l, &h);
    unsigned char *base = dst;
    int32_t *bias = (int32_t *)(base + h.off_bias), *qmul = (int32_t *)(base + h.off_qmul);
    int32_t *shift = (int32_t *)(base + h.off_shift), *table = (int32_t *)(base + h.off_table);
    float *mult = (float *)(base + h.off_mult);
    h.requant = q->requant;
    h.x_xor = (q->x_signed ? 0x80 : 0) ^ (l == EVO_QK_W_SDOT ? 0x80 : 0);
    h.x_pad = (uint8_t)q->x_zp;
    memset(table, 0, 256 * 4);
    pack_act(q, &h, table);
    for (int i = 0; i < 256; i++)
        base[h.off_table8 + i] = (unsigned char)table[i];
    h.lut_vbmi = h.has_table && evo_cpu_get()->avx512vbmi;
    h.no_lshift = true;
    /* the depthwise kernels read raw x; the GEMMs read x ^ x_xor as uint8 (as int8 with EVO_QK_W_SDOT) */
    int32_t zp = l == EVO_QK_W_DW ? q->x_zp : q->x_zp + (q->x_signed ? 128 : 0) - (l == EVO_QK_W_SDOT ? 128 : 0);
    float target = h.has_table ? q->act_scale : q->y_scale;
    for (int64_t c = 0; c < s->c_out; c++) {
        int64_t g = c / h.m_g, r = c % h.m_g;
        uint32_t sum = 0;
        for (int64_t k = 0; k < h.k_g; k++)
            sum += (uint32_t)w_at(q, &h, g, r, k);
        uint32_t b = q->bias ? (uint32_t)q->bias[c] : 0u;
        bias[c] = (int32_t)(b - (uint32_t)zp * sum); /* wraps as the int32 accumulator does */
        float ws = q->w_scale[q->w_per_channel ? c : 0];
        int sh;
        mult[c] = (q->x_scale * ws) / target;
        evo_quant_multiplier(evo_requant_real(q->x_scale, ws, target), &qmul[c], &sh);
        shift[c] = sh;
        h.no_lshift = h.no_lshift && sh <= 0;
    }
    memcpy(base, &h, sizeof(h));
    pack_w(s, q, &h, l, base + h.off_w);
}

/* Input i of n when present, else NULL. */
static const evo_value *input(const evo_graph *g, const evo_node *n, int i)
{
    return i < n->n_in && n->in[i] >= 0 ? &g->values[n->in[i]] : NULL;
}

/* A constant of dtype t with 1 element (any rank), or absent when may_miss. */
static bool const_scalar(const evo_value *v, evo_dtype t, bool may_miss)
{
    if (!v)
        return may_miss;
    int64_t count = 1;
    for (int i = 0; i < v->rank; i++)
        count *= v->dims[i];
    return v->data && v->dtype == t && count == 1;
}

bool evo_qconv_node_ok(const evo_graph *g, const evo_node *n, bool dw)
{
    const evo_conv_attrs *c = &n->a.conv;
    if (n->op != EVO_OP_QLINEAR_CONV || c->n_spatial != 2 || c->has_residual || c->out_groups || n->n_in < 8)
        return false;
    const evo_value *x = input(g, n, 0), *w = input(g, n, 3), *ws = input(g, n, 4), *wzp = input(g, n, 5);
    const evo_value *y = &g->values[n->out[0]], *b = input(g, n, 8);
    if (!x || !w || !ws || !evo_quant_is_byte(x->dtype) || !evo_quant_is_byte(y->dtype) || x->rank != 4 ||
        y->rank != 4 || w->rank != 4 || w->dtype != EVO_DTYPE_INT8 || !w->data || !ws->data ||
        ws->dtype != EVO_DTYPE_FLOAT)
        return false;
    if (!const_scalar(input(g, n, 1), EVO_DTYPE_FLOAT, false) ||
        !const_scalar(input(g, n, 6), EVO_DTYPE_FLOAT, false) ||
        !const_scalar(input(g, n, 2), x->dtype, true) || !const_scalar(input(g, n, 7), y->dtype, true))
        return false;
    if (b && (!b->data || b->dtype != EVO_DTYPE_INT32))
        return false;
    if (wzp) { /* weights with a non-zero zero point take the reference */
        if (!wzp->data || wzp->dtype != EVO_DTYPE_INT8)
            return false;
        int64_t count = 1;
        for (int i = 0; i < wzp->rank; i++)
            count *= wzp->dims[i];
        for (int64_t i = 0; i < count; i++)
            if (((const int8_t *)wzp->data)[i] != 0)
                return false;
    }
    /* the packing keeps plane offsets in int32 */
    if (x->dims[2] * x->dims[3] >= ((int64_t)1 << 30) || y->dims[2] * y->dims[3] >= ((int64_t)1 << 30))
        return false;
    if (dw)
        return c->group == x->dims[1] && c->group == w->dims[0] && w->dims[1] == 1 && c->stride[1] <= 2;
    return true;
}

void evo_qconv_shape_make(evo_qconv_shape *s, const evo_conv_attrs *c, const int64_t *x_dims,
                          const int64_t *w_dims, const int64_t *y_dims)
{
    s->batch = x_dims[0], s->c_in = x_dims[1], s->c_out = w_dims[0], s->group = c->group;
    s->ih = x_dims[2], s->iw = x_dims[3], s->oh = y_dims[2], s->ow = y_dims[3];
    s->kh = w_dims[2], s->kw = w_dims[3];
    s->sh = c->stride[0], s->sw = c->stride[1], s->dh = c->dilation[0], s->dw = c->dilation[1];
    s->ph = c->pad_begin[0], s->pw = c->pad_begin[1];
}

static void node_shape(const evo_graph *g, const evo_node *n, evo_qconv_shape *s)
{
    evo_qconv_shape_make(s, &n->a.conv, input(g, n, 0)->dims, input(g, n, 3)->dims,
                         g->values[n->out[0]].dims);
}

size_t evo_qconv_packed_bytes_node(const evo_graph *g, const evo_node *n, int mr, evo_qk_wlayout l)
{
    evo_qconv_shape s;
    node_shape(g, n, &s);
    return evo_qconv_packed_bytes(&s, mr, l);
}

void evo_qconv_pack_node(const evo_graph *g, const evo_node *n, int mr, evo_qk_wlayout l, void *dst)
{
    const evo_conv_attrs *c = &n->a.conv;
    const evo_value *x = input(g, n, 0), *ws = input(g, n, 4), *xzp = input(g, n, 2), *yzp = input(g, n, 7);
    const evo_value *y = &g->values[n->out[0]], *b = input(g, n, 8);
    evo_qconv_shape s;
    node_shape(g, n, &s);
    int64_t n_ws = 1;
    for (int i = 0; i < ws->rank; i++)
        n_ws *= ws->dims[i];
    evo_qconv_consts q = {0};
    q.w = input(g, n, 3)->data;
    q.bias = b ? b->data : NULL;
    q.w_scale = ws->data;
    q.w_per_channel = n_ws > 1;
    q.x_scale = *(const float *)input(g, n, 1)->data;
    q.y_scale = *(const float *)input(g, n, 6)->data;
    q.x_zp = xzp ? evo_quant_load(xzp->data, x->dtype, 0) : 0;
    q.y_zp = yzp ? evo_quant_load(yzp->data, y->dtype, 0) : 0;
    q.x_signed = x->dtype == EVO_DTYPE_INT8;
    q.y_signed = y->dtype == EVO_DTYPE_INT8;
    q.requant = c->requant;
    q.act = c->act;
    q.act_alpha = c->act_alpha, q.act_beta = c->act_beta;
    q.act_scale = c->act_scale, q.act_zp = c->act_zp;
    q.act_table = c->act_table;
    evo_qconv_pack(&s, &q, mr, l, dst);
}

/* QLinearMatMul: the nodes the fast variants take (qconv_fast.h). */
bool evo_qmatmul_node_ok(const evo_graph *g, const evo_node *n)
{
    if (n->op != EVO_OP_QLINEAR_MATMUL || n->n_in < 8)
        return false;
    const evo_value *a = input(g, n, 0), *b = input(g, n, 3), *bs = input(g, n, 4), *bzp = input(g, n, 5);
    const evo_value *y = &g->values[n->out[0]];
    if (!a || !b || !bs || !evo_quant_is_byte(a->dtype) || !evo_quant_is_byte(y->dtype) || a->rank < 1 ||
        b->rank != 2 || b->dtype != EVO_DTYPE_INT8 || !b->data || !bs->data || bs->dtype != EVO_DTYPE_FLOAT)
        return false;
    if (!const_scalar(input(g, n, 1), EVO_DTYPE_FLOAT, false) ||
        !const_scalar(input(g, n, 6), EVO_DTYPE_FLOAT, false) ||
        !const_scalar(input(g, n, 2), a->dtype, true) || !const_scalar(input(g, n, 7), y->dtype, true))
        return false;
    int64_t nbs = evo_value_count(bs);
    if (nbs != 1 && nbs != b->dims[1])
        return false;
    if (bzp) { /* weights with a non-zero zero point take the reference */
        if (!bzp->data || bzp->dtype != EVO_DTYPE_INT8)
            return false;
        for (int64_t i = 0; i < evo_value_count(bzp); i++)
            if (((const int8_t *)bzp->data)[i] != 0)
                return false;
    }
    return a->dims[a->rank - 1] == b->dims[0];
}

/* As a 1x1 conv of c_in = K to c_out = N channels, whose weights are B [K][N]. */
static void qmm_shape(const evo_graph *g, const evo_node *n, evo_qconv_shape *s)
{
    const evo_value *b = input(g, n, 3);
    memset(s, 0, sizeof(*s));
    s->batch = s->group = s->kh = s->kw = s->sh = s->sw = s->dh = s->dw = 1;
    s->c_in = b->dims[0], s->c_out = b->dims[1];
}

size_t evo_qmatmul_packed_bytes_node(const evo_graph *g, const evo_node *n, int nr, evo_qk_wlayout l)
{
    evo_qconv_shape s;
    qmm_shape(g, n, &s);
    return evo_qconv_packed_bytes(&s, nr, l);
}

void evo_qmatmul_pack_node(const evo_graph *g, const evo_node *n, int nr, evo_qk_wlayout l, void *dst)
{
    const evo_gemm_attrs *at = &n->a.gemm;
    const evo_value *a = input(g, n, 0), *bs = input(g, n, 4), *azp = input(g, n, 2), *yzp = input(g, n, 7);
    const evo_value *y = &g->values[n->out[0]];
    evo_qconv_shape s;
    qmm_shape(g, n, &s);
    evo_qconv_consts q = {0};
    q.w = input(g, n, 3)->data;
    q.w_kn = true;
    q.w_scale = bs->data;
    q.w_per_channel = evo_value_count(bs) > 1;
    q.x_scale = *(const float *)input(g, n, 1)->data;
    q.y_scale = *(const float *)input(g, n, 6)->data;
    q.x_zp = azp ? evo_quant_load(azp->data, a->dtype, 0) : 0;
    q.y_zp = yzp ? evo_quant_load(yzp->data, y->dtype, 0) : 0;
    q.x_signed = a->dtype == EVO_DTYPE_INT8;
    q.y_signed = y->dtype == EVO_DTYPE_INT8;
    q.requant = at->requant;
    q.act = at->act;
    q.act_alpha = at->act_alpha, q.act_beta = at->act_beta;
    q.act_scale = at->act_scale, q.act_zp = at->act_zp;
    q.act_table = at->act_table;
    evo_qconv_pack(&s, &q, nr, l, dst);
}
