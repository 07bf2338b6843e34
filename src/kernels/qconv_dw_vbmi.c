/*
 * qconv_dw_vbmi.c - depthwise int8 Conv (group = c_in = c_out) with
 * vpdpbusd over the taps of each kernel row (AVX512-VNNI, and AVX512-VBMI
 * for the byte permutes).
 *
 * 16 outputs of a row per vector, as qconv_dw_avx512.c, but one int32
 * lane holds the 4 input bytes that 4 taps of a kernel row read for its
 * output (x[ow * sw + k * dw], k < 4), gathered from one 64-byte load of
 * the padded input row by one vpermb, so one vpdpbusd against the row's 4
 * weights (EVO_QK_W_DW4, zero past kw) adds 4 exact products: a 3x3 layer
 * is 3 permutes and 3 vpdpbusd per 16 outputs, 5x5 10 of each. Input rows
 * are copied once, padded with the zero point (qconv_dw_rows.h); a row of
 * padding reads a row of zero points. int8 activations are offset by 128
 * after the load, their zero point with them (folded into the bias at pack
 * time, as for the GEMMs). 64 outputs (4 vectors) per step, so a table
 * activation is looked up with two vpermi2b per 64 output bytes. Tasks
 * split the planes.
 */
#include "core/cpu.h"
#include "kernels/qconv_avx512.h"

#include <string.h>

#define LANES 16
#define GROUPS_MAX 2 /* 4-tap groups per kernel row: kw <= 8 */
#define KH_MAX 7

bool evo_qconv_dw_vnni_shape_ok(const evo_qconv_shape *s)
{
    /* one 64-byte load holds every byte a vector's taps read */
    return s->kw <= 4 * GROUPS_MAX && s->kh <= KH_MAX && s->sw <= 2 &&
           (LANES - 1) * s->sw + (s->kw - 1) * s->dw <= 63;
}

/* The taps' byte permutes: lane l, byte k of group g reads l * sw + (4 g + k) * dw (0 past kw). */
static void make_idx(const evo_qconv_shape *s, __m512i *idx)
{
    for (int64_t g = 0; g < (s->kw + 3) / 4; g++) {
        uint8_t b[64];
        for (int l = 0; l < LANES; l++)
            for (int k = 0; k < 4; k++) {
                int64_t kx = 4 * g + k;
                b[l * 4 + k] = (uint8_t)(kx < s->kw ? l * s->sw + kx * s->dw : 0);
            }
        idx[g] = _mm512_loadu_si512(b);
    }
}

/* The bytes [at, at + 64) of a row that lie inside it, [0, iw). */
static inline __mmask64 window_mask(int64_t at, int64_t iw)
{
    int64_t lo = EVO_MAX(-at, (int64_t)0), hi = EVO_MIN(iw - at, (int64_t)64);
    return hi > lo ? qmask64(hi) & ~qmask64(lo) : 0;
}

/*
 * The accumulators of nv vectors (nv a constant) of one output row from
 * column at (of the unpadded row, may be negative): each vector's 64
 * bytes loaded from the kh input rows, what lies outside the image (cm:
 * the columns inside, rm: the row inside) read as the zero point.
 */
static inline __attribute__((always_inline)) void taps(const uint8_t *const *rows, const __mmask64 *rm,
                                                       int64_t kh, int64_t ng, const __m512i *idx,
                                                       __m512i (*wv)[GROUPS_MAX], __m512i padv, int64_t at,
                                                       int64_t sw, int64_t iw, bool sgn, int nv, __m512i *acc)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __mmask64 cm[4];
    for (int v = 0; v < nv; v++) {
        acc[v] = _mm512_setzero_si512();
        cm[v] = window_mask(at + v * LANES * sw, iw);
    }
    for (int64_t ky = 0; ky < kh; ky++)
        for (int v = 0; v < nv; v++) {
            __m512i xb = _mm512_mask_loadu_epi8(padv, cm[v] & rm[ky], rows[ky] + at + v * LANES * sw);
            if (sgn)
                xb = _mm512_xor_si512(xb, flip);
            for (int64_t g = 0; g < ng; g++)
                acc[v] = _mm512_dpbusd_epi32(acc[v], _mm512_permutexvar_epi8(idx[g], xb), wv[ky][g]);
        }
}

/*
 * The nv vectors' outputs (cnt bytes) requantized and stored at dst: as
 * 64 packed bytes (looked up with byte permutes when lut), or a vector at a
 * time with a table and no byte permutes.
 */
static inline __attribute__((always_inline)) void store(const evo_qconv_packed *h, const int32_t *table,
                                                        const qlut64 *t, const qrow *r, const __m512i *acc,
                                                        int nv, int64_t cnt, uint8_t *dst, bool lut)
{
    if (lut || !h->has_table) {
        __m512i v[4];
        for (int i = 0; i < 4; i++)
            v[i] = i < nv ? qepi16_requant_raw(h, r, acc[i]) : _mm512_setzero_si512();
        __m512i z = qepi16_bytes(h, v[0], v[1], v[2], v[3]);
        _mm512_mask_storeu_epi8(dst, qmask64(cnt), lut ? qlut64_map(t, z) : z);
        return;
    }
    for (int v = 0; v < nv; v++)
        qepi16_store(h, table, r, acc[v], dst + v * LANES, qmask16(cnt - v * LANES));
}

/* One output plane of channel c; kh, ng, sgn and lut are constants in the specialised copies. */
static inline __attribute__((always_inline)) void plane_t(const evo_qconv_shape *s, const evo_qconv_packed *h,
                                                          const unsigned char *base, int64_t c,
                                                          const __m512i *idx, const uint8_t *x, uint8_t *y,
                                                          int64_t kh, int64_t ng, bool sgn, bool lut)
{
    const int32_t *wc = (const int32_t *)(base + h->off_w) + c * kh * ng;
    const int32_t *table = (const int32_t *)(base + h->off_table);
    __m512i wv[KH_MAX][GROUPS_MAX];
    for (int64_t ky = 0; ky < kh; ky++)
        for (int64_t g = 0; g < ng; g++)
            wv[ky][g] = _mm512_set1_epi32(wc[ky * ng + g]);
    qrow r;
    memset(&r, 0, sizeof(r)); /* the one-step constants are set only where they apply */
    qrow_load(h, base, c, &r);
    qlut64 t;
    memset(&t, 0, sizeof(t));
    if (lut)
        qlut64_load(h, base, &t);
    const __m512i padv = _mm512_set1_epi8((char)h->x_pad);
    const int64_t sw = s->sw, block = 4 * LANES;
    for (int64_t oh = 0; oh < s->oh; oh++) {
        const uint8_t *rows[KH_MAX];
        __mmask64 rm[KH_MAX];
        for (int64_t ky = 0; ky < kh; ky++) {
            int64_t ih = oh * s->sh - s->ph + ky * s->dh;
            bool in = ih >= 0 && ih < s->ih;
            rows[ky] = in ? x + ih * s->iw : x; /* a row of padding loads nothing */
            rm[ky] = in ? ~(__mmask64)0 : 0;
        }
        uint8_t *yr = y + oh * s->ow;
        int64_t ow = 0;
        __m512i acc[4];
#define STEP(NV, CNT)                                                                                        \
    do {                                                                                                     \
        taps(rows, rm, kh, ng, idx, wv, padv, ow * sw - s->pw, sw, s->iw, sgn, NV, acc);                     \
        store(h, table, &t, &r, acc, NV, CNT, yr + ow, lut);                                                 \
    } while (0)
        for (; ow + block <= s->ow; ow += block)
            STEP(4, block);
        int64_t cnt = s->ow - ow;
        if (cnt > 3 * LANES)
            STEP(4, cnt);
        else if (cnt > 2 * LANES)
            STEP(3, cnt);
        else if (cnt > LANES)
            STEP(2, cnt);
        else if (cnt > 0)
            STEP(1, cnt);
#undef STEP
    }
}

static void plane(const evo_qconv_shape *s, const evo_qconv_packed *h, const unsigned char *base, int64_t c,
                  const __m512i *idx, const uint8_t *x, uint8_t *y)
{
    bool sgn = h->x_xor != 0, lut = h->has_table && h->lut_vbmi;
    int64_t ng = (s->kw + 3) / 4;
#define PLANE(KH, NG, SGN, LUT) plane_t(s, h, base, c, idx, x, y, KH, NG, SGN, LUT)
    if (s->kh == 3 && ng == 1 && !sgn)
        lut ? PLANE(3, 1, false, true) : PLANE(3, 1, false, false);
    else if (s->kh == 3 && ng == 1)
        lut ? PLANE(3, 1, true, true) : PLANE(3, 1, true, false);
    else if (s->kh == 5 && ng == 2 && !sgn)
        lut ? PLANE(5, 2, false, true) : PLANE(5, 2, false, false);
    else if (s->kh == 5 && ng == 2)
        lut ? PLANE(5, 2, true, true) : PLANE(5, 2, true, false);
    else
        PLANE(s->kh, ng, sgn, lut);
#undef PLANE
}

void evo_qconv_dw_vnni(const evo_qconv_shape *s, const void *packed, const void *x, void *y, int task,
                       int n_tasks)
{
    const evo_qconv_packed *h = packed;
    int64_t p0, p1;
    evo_task_range(s->batch * s->c_out, task, n_tasks, &p0, &p1);
    __m512i idx[GROUPS_MAX];
    make_idx(s, idx);
    for (int64_t pl = p0; pl < p1; pl++)
        plane(s, h, packed, pl % s->c_out, idx, (const uint8_t *)x + pl * s->ih * s->iw,
              (uint8_t *)y + pl * s->oh * s->ow);
}

static bool dv_supports(const evo_graph *g, const evo_node *n)
{
    const evo_cpu_info *cpu = evo_cpu_get();
    if (!cpu->avx512vnni || !cpu->avx512vbmi || !evo_qconv_node_ok(g, n, true))
        return false;
    evo_qconv_shape s;
    evo_qconv_shape_make(&s, &n->a.conv, g->values[n->in[0]].dims, g->values[n->in[3]].dims,
                         g->values[n->out[0]].dims);
    return evo_qconv_dw_vnni_shape_ok(&s);
}

static size_t dv_packed_bytes(const evo_graph *g, const evo_node *n)
{
    return evo_qconv_packed_bytes_node(g, n, 1, EVO_QK_W_DW4);
}

static void dv_pack(const evo_graph *g, const evo_node *n, void *dst)
{
    evo_qconv_pack_node(g, n, 1, EVO_QK_W_DW4, dst);
}

static void dv_run(const evo_kernel_args *a, int task, int n_tasks)
{
    evo_qconv_shape s;
    evo_qconv_dw_shape(a, &s);
    evo_qconv_dw_vnni(&s, a->packed, a->in[0].data, a->out[0].data, task, n_tasks);
}

const evo_kernel_def evo_kernel_qconv_dw_vnni = {
    .name = "qconv_dw_vnni",
    .isa = EVO_ISA_VNNI,
    .supports = dv_supports,
    .run = dv_run,
    .packed_bytes = dv_packed_bytes,
    .pack = dv_pack,
};
