/*
 * arm/conv_wino_neon.c - Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3
 * stride-1 convs and F(2x2, 3x3) split by input parity for 3x3 stride-2
 * convs, AArch64 Advanced SIMD: the algorithms and plan of
 * conv_wino_plan.inc, the a * a GEMMs on conv_neon.h's 8x12 micro-kernel.
 *
 * Lane l of a vector holds tile tx + l of a run of up to 4 tiles in one
 * tile row (runs end at each row's end: with 4 lanes a row's last run
 * wastes little, so there are no spare tiles). A patch row of the run is
 * read once: straight from the input where it lies inside the map, else
 * from a zero-padded copy; the structure loads split it into the patch
 * columns of the four lanes (ld2 for F(2x2, 3x3), whose tiles start 2
 * columns apart; ld4 for F(4x4, 3x3) and the stride-2 form, 4 apart). The
 * output transform's columns are interleaved back by st2/st4, and bias,
 * residual and activation are applied on the way to the output rows.
 *
 * Register use: the input transform holds an a x a patch (36 vectors for
 * F(4x4, 3x3), some on the stack; the transforms are a small share of the
 * time next to the a * a GEMMs over the channels). GEMM rows of V and M
 * are rounded up to 12 columns, so the micro-kernel always reads whole
 * panels. Expected rates are in docs/arm64.md.
 */
#include "kernels/arm/conv_neon.h"

#define WINO_SPARE 0
#define WINO_LD_ALIGN NR
#define WINO_MIN_TILES 16
#define WINO_CHUNK_FLOATS (3 << 15) /* 384 KB: within the 512 KB L2 of a Cortex-A76 core */
#include "kernels/conv_wino_plan.inc"

/* Floats of a patch row copy: ld4 from column 4 reads 16 (columns up to 19). */
#define WINO_ROW 20

/*
 * Patch row of a run whose first patch starts at input column base, on
 * input row ih: a pointer into the input where the 20 columns lie inside
 * it, else the row copied into buf with zeros outside the map.
 */
static inline const float *patch_row(const wino_plan *p, const float *xc, int64_t ih, int64_t base, float *buf)
{
    if (ih < 0 || ih >= p->ih) {
        memset(buf, 0, sizeof(float) * WINO_ROW);
        return buf;
    }
    const float *row = xc + ih * p->iw + base;
    int64_t lo = EVO_MAX(-base, (int64_t)0), hi = EVO_MIN((int64_t)WINO_ROW, p->iw - base);
    if (lo == 0 && hi == WINO_ROW)
        return row;
    memset(buf, 0, sizeof(float) * WINO_ROW);
    if (hi > lo)
        memcpy(buf + lo, row + lo, sizeof(float) * (size_t)(hi - lo));
    return buf;
}

/* One pass of B^T (on a vectors): F(2x2, 3x3) a = 4, its stride-2 form a = 5, F(4x4, 3x3) a = 6. */
static inline void bt(const vf *d, int a, vf *r)
{
    if (a == 4) {
        r[0] = v_sub(d[0], d[2]);
        r[1] = v_add(d[1], d[2]);
        r[2] = v_sub(d[2], d[1]);
        r[3] = v_sub(d[1], d[3]);
    } else if (a == 5) {
        r[0] = v_sub(d[0], d[2]);
        r[1] = d[2];
        r[2] = v_sub(d[4], d[2]);
        r[3] = d[1];
        r[4] = d[3];
    } else { /* points 0, -1, 1, -2, 2, infinity */
        const vf four = v_set1(4.0f), five = v_set1(5.0f), two = v_set1(2.0f);
        vf t0 = v_fnma(four, d[2], d[4]); /* d4 - 4 d2 */
        vf t1 = v_fnma(four, d[1], d[3]); /* d3 - 4 d1 */
        vf t2 = v_sub(d[4], d[2]);
        vf t3 = v_mul(two, v_sub(d[3], d[1]));
        r[0] = v_fma(four, d[0], v_fnma(five, d[2], d[4]));
        r[1] = v_add(t0, t1);
        r[2] = v_sub(t0, t1);
        r[3] = v_add(t2, t3);
        r[4] = v_sub(t2, t3);
        r[5] = v_fma(four, d[1], v_fnma(five, d[3], d[5]));
    }
}

/* One pass of A^T: 2 outputs (a = 4, 5) or 4 (a = 6) from a vectors. */
static inline void at(const vf *m, int a, vf *y)
{
    if (a == 4) {
        y[0] = v_add(v_add(m[0], m[1]), m[2]);
        y[1] = v_sub(v_sub(m[1], m[2]), m[3]);
    } else if (a == 5) {
        y[0] = v_add(v_add(m[0], m[1]), m[3]);
        y[1] = v_add(v_add(m[1], m[2]), m[4]);
    } else {
        vf s12 = v_add(m[1], m[2]), d12 = v_sub(m[1], m[2]);
        vf s34 = v_add(m[3], m[4]), d34 = v_sub(m[3], m[4]);
        y[0] = v_add(v_add(m[0], s12), s34);
        y[1] = v_fma(v_set1(2.0f), d34, d12);
        y[2] = v_fma(v_set1(4.0f), s34, s12);
        y[3] = v_add(v_fma(v_set1(8.0f), d34, d12), m[5]);
    }
}

/* The run of tiles from t (before t1): its tile row, first column and length. */
static inline int64_t tile_run(const wino_plan *p, int64_t t, int64_t t1, int64_t *ty, int64_t *tx)
{
    *ty = t / p->tv;
    *tx = t % p->tv;
    return EVO_MIN(EVO_MIN((int64_t)VL, t1 - t), p->tv - *tx);
}

/* V = B^T d B of channel ci for tiles [t0, t1) into v[xi][ci][t - t0] (row stride ldv; xi rows c_in * ldv apart). */
static inline __attribute__((always_inline)) void input_a(const wino_plan *p, const float *xc, int64_t ci, int64_t t0,
                                                          int64_t t1, float *v, int64_t ldv, int a)
{
    int64_t st = p->step, xs = p->c_in * ldv;
    float buf[WINO_ROW];
    for (int64_t t = t0; t < t1;) {
        int64_t ty, tx, len = tile_run(p, t, t1, &ty, &tx);
        vf d[6][6];
        for (int r = 0; r < a; r++) {
            const float *row = patch_row(p, xc, st * ty - p->ph + r, st * tx - p->pw, buf);
            if (st == 2) { /* lane l's patch columns 2 l + c */
                float32x4x2_t e0 = vld2q_f32(row), e1 = vld2q_f32(row + 2);
                d[r][0] = e0.val[0], d[r][1] = e0.val[1], d[r][2] = e1.val[0], d[r][3] = e1.val[1];
            } else { /* 4 l + c */
                float32x4x4_t q0 = vld4q_f32(row), q1 = vld4q_f32(row + 4);
                for (int c = 0; c < 4; c++)
                    d[r][c] = q0.val[c];
                d[r][4] = q1.val[0];
                d[r][5] = q1.val[1];
            }
        }
        vf bd[6][6]; /* bd[i][c] = (B^T d)[i][c] */
        for (int c = 0; c < a; c++) {
            vf col[6], out[6];
            for (int r = 0; r < a; r++)
                col[r] = d[r][c];
            bt(col, a, out);
            for (int i = 0; i < a; i++)
                bd[i][c] = out[i];
        }
        vmask lm = v_mask_n(len);
        float *dst = v + ci * ldv + (t - t0);
        for (int i = 0; i < a; i++) {
            vf out[6];
            bt(bd[i], a, out);
            for (int j = 0; j < a; j++)
                v_store_mask(dst + (i * a + j) * xs, lm, out[j]);
        }
        t += len;
    }
}

static void wino_input(const wino_plan *p, const float *xc, int64_t ci, int64_t t0, int64_t t1, float *v,
                       int64_t ldv)
{
    if (p->a == 4)
        input_a(p, xc, ci, t0, t1, v, ldv, 4);
    else if (p->a == 5)
        input_a(p, xc, ci, t0, t1, v, ldv, 5);
    else
        input_a(p, xc, ci, t0, t1, v, ldv, 6);
}

/*
 * Y = A^T M A of channel co for tiles [t0, t1) from mb[xi][co][t - t0] (xi
 * stride ms), plus bias, residual and activation, into the NCHW output.
 */
static inline __attribute__((always_inline)) void output_a(const wino_plan *p, const float *mb, int64_t ms, int64_t t0,
                                                           int64_t t1, float *yc, const float *rc, float bias,
                                                           const epilogue *e, evo_act act, int a)
{
    const int m = a == 6 ? 4 : 2; /* p->m, a constant where inlined */
    for (int64_t t = t0; t < t1;) {
        int64_t ty, tx, len = tile_run(p, t, t1, &ty, &tx);
        vmask lm = v_mask_n(len);
        vf s[4][6]; /* A^T M */
        for (int j = 0; j < a; j++) {
            vf col[6], out[4];
            for (int i = 0; i < a; i++)
                col[i] = v_load_mask(mb + (t - t0) + (i * a + j) * ms, lm);
            at(col, a, out);
            for (int i = 0; i < m; i++)
                s[i][j] = out[i];
        }
        int64_t ox0 = m * tx, hi = EVO_MIN(m * len, p->ow - ox0);
        for (int dy = 0; dy < m; dy++) {
            int64_t oy = m * ty + dy;
            if (oy >= p->oh)
                break;
            vf y[4];
            float ob[4 * VL]; /* lane l's columns at m l + dx */
            at(s[dy], a, y);
            if (m == 2)
                vst2q_f32(ob, ((float32x4x2_t){{y[0], y[1]}}));
            else
                vst4q_f32(ob, ((float32x4x4_t){{y[0], y[1], y[2], y[3]}}));
            int64_t off = oy * p->ow + ox0;
            for (int h = 0; h < m; h++) {
                vmask hm = v_mask_n(hi - h * VL);
                if (!hm)
                    break;
                vf o = v_add(v_load(ob + h * VL), v_set1(bias));
                o = act_res_ps(o, rc ? rc + off + h * VL : NULL, hm, act, e);
                v_store_mask(yc + off + h * VL, hm, o);
            }
        }
        t += len;
    }
}

/* One copy of the output loop per algorithm and common activation: no per-vector switch. */
#define WINO_OUTPUT(A)                                                                                       \
    static void output_##A(const wino_plan *p, const float *mb, int64_t ms, int64_t t0, int64_t t1, float *yc, \
                           const float *rc, float bias, const epilogue *e)                                   \
    {                                                                                                        \
        if (e->act == EVO_ACT_SILU)                                                                          \
            output_a(p, mb, ms, t0, t1, yc, rc, bias, e, EVO_ACT_SILU, A);                                   \
        else if (e->act == EVO_ACT_RELU)                                                                     \
            output_a(p, mb, ms, t0, t1, yc, rc, bias, e, EVO_ACT_RELU, A);                                   \
        else if (e->act == EVO_ACT_NONE)                                                                     \
            output_a(p, mb, ms, t0, t1, yc, rc, bias, e, EVO_ACT_NONE, A);                                   \
        else                                                                                                 \
            output_a(p, mb, ms, t0, t1, yc, rc, bias, e, e->act, A);                                         \
    }
WINO_OUTPUT(4)
WINO_OUTPUT(5)
WINO_OUTPUT(6)

/*
 * acc = the 8 x 12 tile: every panel reads 12 columns (ldv is a multiple of
 * 12, the columns past the chunk's tiles are ignored), so nv and tm matter
 * only to the store.
 */
static void wino_tile(int64_t kc, const float *a, const float *b, int64_t ldb, vmask tm, int nv, vf *acc)
{
    (void)tm, (void)nv;
    kernel_8x12(kc, a, b, ldb, acc);
}

static wino_output_fn wino_output_of(const wino_plan *p)
{
    return p->a == 4 ? output_4 : p->a == 5 ? output_5 : output_6;
}

WINO_DEFS(neon, EVO_ISA_NEON);
