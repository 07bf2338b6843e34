/*
 * conv_wino_avx512.c - Winograd F(2x2, 3x3) and F(4x4, 3x3) Conv for 3x3
 * stride-1 layers and F(2x2, 3x3) split by input parity for 3x3 stride-2
 * layers (25 products for 36), AVX-512, on the micro-kernels of
 * conv_avx512.h.
 */
#include "kernels/conv_avx512.h"

KERNEL(kernel1, 1)
KERNEL(kernel2, 2)
KERNEL(kernel3, 3)

/*
 * Winograd F(m x m, 3x3) for 3x3 stride-1 convs: each m x m output tile
 * comes from an a x a input patch d (a = m + 2) as Y = A^T [U . V] A with
 * V = B^T d B and the weights pre-transformed as U = G g G^T, so a * a
 * products per tile and channel pair replace 9 m^2 multiply-adds: 2.25x
 * fewer for F(2x2, 3x3), 4x for F(4x4, 3x3). The a^2 elementwise products
 * summed over input channels are a^2 GEMMs U[xi] (c_out x c_in) x V[xi]
 * (c_in x tiles) run by the micro-kernels above. F(2x2, 3x3) transforms
 * use only adds and halves (error at the im2col path's level); F(4x4, 3x3)
 * uses the points 0, +-1, +-2 and loses about one more digit.
 * Tiles are numbered row-major over tw + 1 tiles a row (t = ty * tv + tx,
 * tv = tw + 1): the one past the row's end is a spare whose lane is
 * computed and never stored, so 16 consecutive tiles fill a vector even
 * across rows (a row's last patch and the next row's first take their
 * input from different rows without overlapping in the lanes between).
 * Runs cut at row ends left most lanes idle on small maps: 5 tiles a row
 * on 20x20 ran one transform per 5 tiles instead of per 16 (3x3 32 -> 32
 * on 20x20: 0.063 -> 0.044 ms). Where the spare does not pay (wino_plan_make)
 * rows have tw tiles and runs end at each row's end. A task takes a range
 * of tiles (or of channels when there are few tiles) in chunks whose V and
 * M buffers stay in L2.
 */
#define WINO_SPARE 1
#define WINO_LD_ALIGN VL
#define WINO_MIN_TILES VL
#define WINO_CHUNK_FLOATS (3 << 17) /* 1.5 MB */
#include "kernels/conv_wino_plan.inc"

/* Lanes [a, b) of a run hold tiles tx, tx + 1, ... of tile row ty (the spare last, if reached). */
typedef struct wino_seg {
    int64_t a, b, ty, tx;
} wino_seg;

/*
 * The run of up to VL tiles from t (before t1), cut at tile row ends into
 * s[]; without spare tiles (spare = tv > tw, a constant where inlined so
 * that the plain case compiles to one segment) it ends at the first.
 * Returns the count, and the run's length in *len.
 */
static inline __attribute__((always_inline)) int tile_segs(const wino_plan *p, int64_t t, int64_t t1, int64_t *len,
                                                           wino_seg *s, bool spare)
{
    int n = 0;
    *len = EVO_MIN((int64_t)VL, t1 - t);
    if (!spare) {
        s[0] = (wino_seg){0, 0, t / p->tv, t % p->tv};
        *len = s[0].b = EVO_MIN(*len, p->tv - s[0].tx);
        return 1;
    }
    for (int64_t l = 0; l < *len;) {
        int64_t ty = (t + l) / p->tv, tx = (t + l) % p->tv, k = EVO_MIN(*len - l, p->tv - tx);
        s[n++] = (wino_seg){l, l + k, ty, tx};
        l += k;
    }
    return n;
}

/*
 * Patch row r (of a) of the run's tiles: w[q] holds the floats at columns
 * step * l + 16 q + k for lane l's patch, each segment's from its own
 * input row (zero outside the input). A later segment's first columns
 * overwrite the spare's last ones: lanes never share them otherwise.
 */
static inline __attribute__((always_inline)) void patch_row(const wino_plan *p, const float *xc, const wino_seg *s, int ns, int r, int nw,
                             __m512 *w)
{
    int64_t st = p->step, extra = p->a - p->step; /* a patch's columns past the next tile's start */
    if (ns == 1) { /* the common case: plain zero-masked loads */
        int64_t ih = st * s[0].ty - p->ph + r, base = st * s[0].tx - p->pw;
        int64_t lo = -base, hi = EVO_MIN(st * s[0].b + extra, p->iw - base);
        const float *row = xc + ih * p->iw + base;
        bool in = ih >= 0 && ih < p->ih;
        for (int q = 0; q < nw; q++)
            w[q] = in ? _mm512_maskz_loadu_ps(range_mask(lo - q * VL, hi - q * VL), row + q * VL) : _mm512_setzero_ps();
        return;
    }
    for (int q = 0; q < nw; q++)
        w[q] = _mm512_setzero_ps();
    for (int j = 0; j < ns; j++) {
        int64_t ih = st * s[j].ty - p->ph + r;
        if (ih < 0 || ih >= p->ih)
            continue;
        int64_t base = st * (s[j].tx - s[j].a) - p->pw; /* input column of lane 0's patch */
        int64_t lo = EVO_MAX(st * s[j].a, -base), hi = EVO_MIN(st * s[j].b + extra, p->iw - base);
        const float *row = xc + ih * p->iw + base;
        for (int q = 0; q < nw; q++)
            w[q] = _mm512_mask_loadu_ps(w[q], range_mask(lo - q * VL, hi - q * VL), row + q * VL);
    }
}

/*
 * Output positions [m * a, m * b) of each segment, as columns of its tile
 * row oy = m * ty + dy: off[j] is where position 0 would go (NULL mask:
 * the segment's row is past the output), kept to the real tiles.
 */
static inline __attribute__((always_inline)) void out_segs(const wino_plan *p, const wino_seg *s, int ns, int dy, int64_t *off, int64_t *lo,
                            int64_t *hi)
{
    int m = p->m;
    for (int j = 0; j < ns; j++) {
        int64_t oy = m * s[j].ty + dy, ox0 = m * (s[j].tx - s[j].a);
        off[j] = oy * p->ow + ox0;
        lo[j] = m * s[j].a;
        hi[j] = oy < p->oh ? EVO_MIN(m * s[j].b, p->ow - ox0) : 0;
    }
}

/*
 * Bias, residual and activation on z (output positions 16 h .. 16 h + 15
 * of the run) and its stores into each segment's row.
 */
static inline __attribute__((always_inline)) void out_store(__m512 z, int h, float bias, int ns,
                                                            const int64_t *off, const int64_t *lo,
                                                            const int64_t *hi, float *yc, const float *rc,
                                                            const epilogue *e, evo_act act)
{
    __mmask16 km[VL + 1], any = 0;
    if (ns == 1) { /* the common case, without the loops */
        km[0] = range_mask(lo[0] - h * VL, hi[0] - h * VL);
        if (!km[0])
            return;
        __m512 o = _mm512_add_ps(z, _mm512_set1_ps(bias));
        float *yo = yc + off[0] + h * VL;
        _mm512_mask_storeu_ps(yo, km[0], act_res_ps(o, rc ? rc + off[0] + h * VL : NULL, km[0], act, e));
        return;
    }
    for (int j = 0; j < ns; j++) {
        km[j] = range_mask(lo[j] - h * VL, hi[j] - h * VL);
        any |= km[j];
    }
    if (!any)
        return;
    __m512 o = _mm512_add_ps(z, _mm512_set1_ps(bias));
    if (rc) {
        __m512 rv = _mm512_setzero_ps();
        for (int j = 0; j < ns; j++)
            if (km[j])
                rv = _mm512_mask_loadu_ps(rv, km[j], rc + off[j] + h * VL);
        if (!e->res_after_act)
            o = _mm512_add_ps(o, rv);
        o = act_ps(o, act, e);
        if (e->res_after_act)
            o = _mm512_add_ps(o, rv);
    } else {
        o = act_ps(o, act, e);
    }
    for (int j = 0; j < ns; j++)
        if (km[j])
            _mm512_mask_storeu_ps(yc + off[j] + h * VL, km[j], o);
}

/* F(2x2, 3x3): V = B^T d B of channel ci for tiles [t0, t1) into v[xi][ci][t - t0] (row stride ldv). */
static inline __attribute__((always_inline)) void wino2_input_t(const wino_plan *p, const float *xc, int64_t ci,
                                                                 int64_t t0, int64_t t1, float *v, int64_t ldv,
                                                                 bool spare)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (int64_t t = t0; t < t1;) {
        int64_t len;
        wino_seg sg[VL];
        int ns = tile_segs(p, t, t1, &len, sg, spare);
        __m512 d[4][4];
        for (int r = 0; r < 4; r++) {
            __m512 w[3]; /* columns 2 l + 0..47 */
            patch_row(p, xc, sg, ns, r, 3, w);
            __m512 u0 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(w[1]), _mm512_castps_si512(w[0]), 2));
            __m512 u1 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(w[2]), _mm512_castps_si512(w[1]), 2));
            d[r][0] = _mm512_permutex2var_ps(w[0], even, w[1]);
            d[r][1] = _mm512_permutex2var_ps(w[0], odd, w[1]);
            d[r][2] = _mm512_permutex2var_ps(u0, even, u1);
            d[r][3] = _mm512_permutex2var_ps(u0, odd, u1);
        }
        __mmask16 m = range_mask(0, len);
        float *dst = v + ci * ldv + (t - t0);
        int64_t xs = p->c_in * ldv; /* between consecutive xi */
        for (int i = 0; i < 4; i++) {
            __m512 r0, r1, r2, r3; /* row i of B^T d, per column */
            __m512 s[4];
            for (int c = 0; c < 4; c++) {
                if (i == 0)
                    s[c] = _mm512_sub_ps(d[0][c], d[2][c]);
                else if (i == 1)
                    s[c] = _mm512_add_ps(d[1][c], d[2][c]);
                else if (i == 2)
                    s[c] = _mm512_sub_ps(d[2][c], d[1][c]);
                else
                    s[c] = _mm512_sub_ps(d[1][c], d[3][c]);
            }
            r0 = _mm512_sub_ps(s[0], s[2]);
            r1 = _mm512_add_ps(s[1], s[2]);
            r2 = _mm512_sub_ps(s[2], s[1]);
            r3 = _mm512_sub_ps(s[1], s[3]);
            _mm512_mask_storeu_ps(dst + (i * 4 + 0) * xs, m, r0);
            _mm512_mask_storeu_ps(dst + (i * 4 + 1) * xs, m, r1);
            _mm512_mask_storeu_ps(dst + (i * 4 + 2) * xs, m, r2);
            _mm512_mask_storeu_ps(dst + (i * 4 + 3) * xs, m, r3);
        }
        t += len;
    }
}

/*
 * A^T of the two-output algorithms on a vectors: F(2x2, 3x3) (a = 4:
 * (m0 + m1 + m2, m1 - m2 - m3)) and its stride-2 form (a = 5: (m0 + m1 +
 * m3, m1 + m2 + m4)).
 */
static inline void at2(const __m512 *m, int a, __m512 *y0, __m512 *y1)
{
    if (a == 4) {
        *y0 = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[2]);
        *y1 = _mm512_sub_ps(_mm512_sub_ps(m[1], m[2]), m[3]);
    } else {
        *y0 = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[3]);
        *y1 = _mm512_add_ps(_mm512_add_ps(m[1], m[2]), m[4]);
    }
}

/*
 * F(2x2, 3x3), stride 1 (a = 4) or 2 (a = 5): Y = A^T M A of channel co
 * for tiles [t0, t1) from mb[xi][co][t - t0] (xi stride ms), plus bias,
 * residual and activation, into the NCHW output (each tile's two columns
 * interleaved).
 */
static inline __attribute__((always_inline)) void wino2_output_act(const wino_plan *p, const float *mb, int64_t ms,
                                                                   int64_t t0, int64_t t1, float *yc, const float *rc,
                                                                   float bias, const epilogue *e, evo_act act,
                                                                   bool spare, int a)
{
    const __m512i lo_idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi_idx = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    for (int64_t t = t0; t < t1;) {
        int64_t len, off[VL], lo[VL], hi[VL];
        wino_seg sg[VL];
        int ns = tile_segs(p, t, t1, &len, sg, spare);
        __mmask16 m = range_mask(0, len);
        __m512 s[2][5]; /* A^T M */
        for (int j = 0; j < a; j++) {
            __m512 col[5];
            for (int i = 0; i < a; i++)
                col[i] = _mm512_maskz_loadu_ps(m, mb + (t - t0) + (i * a + j) * ms);
            at2(col, a, &s[0][j], &s[1][j]);
        }
        for (int dy = 0; dy < 2; dy++) {
            __m512 y0, y1;
            out_segs(p, sg, ns, dy, off, lo, hi);
            at2(s[dy], a, &y0, &y1);
            out_store(_mm512_permutex2var_ps(y0, lo_idx, y1), 0, bias, ns, off, lo, hi, yc, rc, e, act);
            out_store(_mm512_permutex2var_ps(y0, hi_idx, y1), 1, bias, ns, off, lo, hi, yc, rc, e, act);
        }
        t += len;
    }
}

/*
 * One row of B^T d for F(4x4, 3x3) (B^T rows over the points 0, -1, 1,
 * -2, 2, infinity), applied to six vectors.
 */
static inline void bt6(const __m512 d[6], __m512 r[6])
{
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    __m512 t0 = _mm512_fnmadd_ps(four, d[2], d[4]); /* d4 - 4 d2 */
    __m512 t1 = _mm512_fnmadd_ps(four, d[1], d[3]); /* d3 - 4 d1 */
    __m512 t2 = _mm512_sub_ps(d[4], d[2]);
    __m512 t3 = _mm512_mul_ps(two, _mm512_sub_ps(d[3], d[1]));
    r[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    r[1] = _mm512_add_ps(t0, t1);
    r[2] = _mm512_sub_ps(t0, t1);
    r[3] = _mm512_add_ps(t2, t3);
    r[4] = _mm512_sub_ps(t2, t3);
    r[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

/* A^T m for F(4x4, 3x3): four outputs from six vectors. */
static inline void at6(const __m512 m[6], __m512 y[4])
{
    __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5]);
}

/* One B^T row pass of stride-2 F(2x2, 3x3) on five vectors. */
static inline void bts2(const __m512 d[5], __m512 r[5])
{
    r[0] = _mm512_sub_ps(d[0], d[2]);
    r[1] = d[2];
    r[2] = _mm512_sub_ps(d[4], d[2]);
    r[3] = d[1];
    r[4] = d[3];
}

/*
 * F(4x4, 3x3) (a = 6) and stride-2 F(2x2, 3x3) (a = 5): V = B^T d B of
 * channel ci for tiles [t0, t1) into v[xi][ci][t - t0] (row stride ldv).
 * Lane l holds tile tx + l, whose patch columns start at input column 4
 * (tx + l) - pw: columns c = 0..3 of all lanes are the stride-4 phases of
 * 64 loaded floats, 4 and 5 the phases 0 and 1 moved one tile on.
 */
static inline __attribute__((always_inline)) void wino_phase4_input_t(const wino_plan *p, const float *xc, int64_t ci,
                                                                      int64_t t0, int64_t t1, float *v, int64_t ldv,
                                                                      bool spare, int a)
{
    const __m512i ph[4] = {
        _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 28, 24, 20, 16, 12, 8, 4, 0),
        _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 29, 25, 21, 17, 13, 9, 5, 1),
        _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 30, 26, 22, 18, 14, 10, 6, 2),
        _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 31, 27, 23, 19, 15, 11, 7, 3),
    };
    int64_t xs = p->c_in * ldv; /* between consecutive xi */
    for (int64_t t = t0; t < t1;) {
        int64_t len;
        wino_seg sg[VL];
        int ns = tile_segs(p, t, t1, &len, sg, spare);
        __m512 rows[6][6]; /* B^T applied down the columns later; first the raw patch rows */
        for (int r = 0; r < a; r++) {
            __m512 w[5];
            patch_row(p, xc, sg, ns, r, 5, w);
            for (int c = 0; c < 4; c++) {
                __m512 lo = _mm512_permutex2var_ps(w[0], ph[c], w[1]);
                __m512 hi = _mm512_permutex2var_ps(w[2], ph[c], w[3]);
                rows[r][c] = _mm512_shuffle_f32x4(lo, hi, 0x44);
            }
            /* lane 15 of columns 4 and 5 comes from the fifth vector */
            rows[r][4] = _mm512_castsi512_ps(
                _mm512_alignr_epi32(_mm512_castps_si512(w[4]), _mm512_castps_si512(rows[r][0]), 1));
            if (a == 6) {
                __m512 w4n = _mm512_castsi512_ps(
                    _mm512_alignr_epi32(_mm512_castps_si512(w[4]), _mm512_castps_si512(w[4]), 1));
                rows[r][5] = _mm512_castsi512_ps(
                    _mm512_alignr_epi32(_mm512_castps_si512(w4n), _mm512_castps_si512(rows[r][1]), 1));
            }
        }
        __mmask16 m = range_mask(0, len);
        float *dst = v + ci * ldv + (t - t0);
        __m512 col[6], bd[6][6]; /* bd[i][c] = (B^T d)[i][c] */
        for (int c = 0; c < a; c++) {
            __m512 out[6];
            for (int r = 0; r < a; r++)
                col[r] = rows[r][c];
            if (a == 6)
                bt6(col, out);
            else
                bts2(col, out);
            for (int i = 0; i < a; i++)
                bd[i][c] = out[i];
        }
        for (int i = 0; i < a; i++) {
            __m512 out[6];
            if (a == 6)
                bt6(bd[i], out);
            else
                bts2(bd[i], out);
            for (int j = 0; j < a; j++)
                _mm512_mask_storeu_ps(dst + (i * a + j) * xs, m, out[j]);
        }
        t += len;
    }
}

/*
 * F(4x4, 3x3): Y = A^T M A of channel co for tiles [t0, t1) from
 * mb[xi][co][t - t0] (xi stride ms), plus bias, residual and activation,
 * into the NCHW output; the four columns of each tile are interleaved
 * into 64 consecutive outputs per row.
 */
static inline __attribute__((always_inline)) void wino4_output_act(const wino_plan *p, const float *mb, int64_t ms,
                                                                   int64_t t0, int64_t t1, float *yc, const float *rc,
                                                                   float bias, const epilogue *e, evo_act act,
                                                                   bool spare)
{
    /* (a0 b0 a1 b1 ...) from lanes 0-7 and 8-15 of two vectors */
    const __m512i zip_lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i zip_hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    for (int64_t t = t0; t < t1;) {
        int64_t len, off[VL], lo[VL], hi[VL];
        wino_seg sg[VL];
        int ns = tile_segs(p, t, t1, &len, sg, spare);
        __mmask16 m = range_mask(0, len);
        __m512 s[4][6]; /* A^T M */
        for (int j = 0; j < 6; j++) {
            __m512 col[6], out[4];
            for (int i = 0; i < 6; i++)
                col[i] = _mm512_maskz_loadu_ps(m, mb + (t - t0) + (i * 6 + j) * ms);
            at6(col, out);
            for (int i = 0; i < 4; i++)
                s[i][j] = out[i];
        }
        for (int dy = 0; dy < 4; dy++) {
            out_segs(p, sg, ns, dy, off, lo, hi);
            __m512 y[4];
            at6(s[dy], y);
            /* y[c] lane l = column c of tile l: interleave to 4l + c */
            __m512 a_lo = _mm512_permutex2var_ps(y[0], zip_lo, y[2]); /* y0 y2 of tiles 0-7 */
            __m512 a_hi = _mm512_permutex2var_ps(y[0], zip_hi, y[2]);
            __m512 b_lo = _mm512_permutex2var_ps(y[1], zip_lo, y[3]); /* y1 y3 */
            __m512 b_hi = _mm512_permutex2var_ps(y[1], zip_hi, y[3]);
            __m512 z[4] = {
                _mm512_permutex2var_ps(a_lo, zip_lo, b_lo), _mm512_permutex2var_ps(a_lo, zip_hi, b_lo),
                _mm512_permutex2var_ps(a_hi, zip_lo, b_hi), _mm512_permutex2var_ps(a_hi, zip_hi, b_hi)};
            for (int h = 0; h < 4; h++)
                out_store(z[h], h, bias, ns, off, lo, hi, yc, rc, e, act);
        }
        t += len;
    }
}



/*
 * The transforms with one copy per tile layout (with spare tiles or
 * without, which then runs as plainly as if spares did not exist) and, for
 * the output, per common activation: no per-vector switch.
 */
#define WINO_OUTPUT_BY_ACT(M, A, SPARE)                                                                      \
    static void wino##M##_##A##_output_##SPARE(const wino_plan *p, const float *mb, int64_t ms, int64_t t0,  \
                                               int64_t t1, float *yc, const float *rc, float bias,           \
                                               const epilogue *e)                                            \
    {                                                                                                        \
        if (e->act == EVO_ACT_SILU)                                                                          \
            wino##M##_output_a(p, mb, ms, t0, t1, yc, rc, bias, e, EVO_ACT_SILU, SPARE, A);                  \
        else if (e->act == EVO_ACT_RELU)                                                                     \
            wino##M##_output_a(p, mb, ms, t0, t1, yc, rc, bias, e, EVO_ACT_RELU, SPARE, A);                  \
        else if (e->act == EVO_ACT_NONE)                                                                     \
            wino##M##_output_a(p, mb, ms, t0, t1, yc, rc, bias, e, EVO_ACT_NONE, SPARE, A);                  \
        else                                                                                                 \
            wino##M##_output_a(p, mb, ms, t0, t1, yc, rc, bias, e, e->act, SPARE, A);                        \
    }
#define wino2_output_a wino2_output_act
#define wino4_output_a(p, mb, ms, t0, t1, yc, rc, bias, e, act, spare, a) \
    wino4_output_act(p, mb, ms, t0, t1, yc, rc, bias, e, act, spare)
WINO_OUTPUT_BY_ACT(2, 4, false)
WINO_OUTPUT_BY_ACT(2, 4, true)
WINO_OUTPUT_BY_ACT(2, 5, false)
WINO_OUTPUT_BY_ACT(2, 5, true)
WINO_OUTPUT_BY_ACT(4, 6, false)
WINO_OUTPUT_BY_ACT(4, 6, true)

static void wino_input(const wino_plan *p, const float *xc, int64_t ci, int64_t t0, int64_t t1, float *v,
                       int64_t ldv)
{
    bool spare = p->tv > p->tw;
    if (p->a == 5 && spare)
        wino_phase4_input_t(p, xc, ci, t0, t1, v, ldv, true, 5);
    else if (p->a == 5)
        wino_phase4_input_t(p, xc, ci, t0, t1, v, ldv, false, 5);
    else if (p->m == 2 && spare)
        wino2_input_t(p, xc, ci, t0, t1, v, ldv, true);
    else if (p->m == 2)
        wino2_input_t(p, xc, ci, t0, t1, v, ldv, false);
    else if (spare)
        wino_phase4_input_t(p, xc, ci, t0, t1, v, ldv, true, 6);
    else
        wino_phase4_input_t(p, xc, ci, t0, t1, v, ldv, false, 6);
}

/* Tiles [t0, t1) x channel panels [mp0, mp1) of one image; buf is this task's slice. */
/* acc = the nv-vector tile (conv_avx512.h's micro-kernels) */
static void wino_tile(int64_t kc, const float *a, const float *b, int64_t ldb, vmask tm, int nv, vf *acc)
{
    if (nv == 3)
        kernel3(kc, a, b, ldb, tm, acc);
    else if (nv == 2)
        kernel2(kc, a, b, ldb, tm, acc);
    else
        kernel1(kc, a, b, ldb, tm, acc);
}

static wino_output_fn wino_output_of(const wino_plan *p)
{
    bool spare = p->tv > p->tw;
    return p->a == 5   ? (spare ? wino2_5_output_true : wino2_5_output_false)
           : p->a == 4 ? (spare ? wino2_4_output_true : wino2_4_output_false)
                       : (spare ? wino4_6_output_true : wino4_6_output_false);
}

WINO_DEFS(avx512, EVO_ISA_AVX512);
