/*
 * sgemm_ref.c - a cache-blocked portable C SGEMM.
 *
 * Classic three-level blocking: B is packed in KC x NC blocks into NR-wide
 * column panels, A in MC x KC blocks into MR-tall row panels, and an
 * MR x NR micro-kernel accumulates one register tile over a KC slice. The
 * micro-kernel's loops have constant bounds so the compiler unrolls and
 * vectorises them without intrinsics. Packing also absorbs arbitrary
 * strides (transposes) and zero-pads the edges, so the micro-kernel never
 * branches; partial tiles are clipped when written back.
 */
#include "kernels/sgemm.h"

#include <string.h>

#include "kernels/kernel.h"

/* Register tile: 6 x 16 floats (12 AVX or 24 SSE accumulators). */
#define MR 6 /* micro_kernel spells out six rows */
#define NR 16
/* Cache blocks: A block MC x KC fits L2, a B panel KC x NR fits L1. */
#define MC 120
#define KC 256
#define NC 2048

static int64_t round_up(int64_t x, int64_t m)
{
    return (x + m - 1) / m * m;
}

size_t evo_sgemm_scratch_bytes(int64_t m, int64_t n, int64_t k)
{
    int64_t mc = round_up(EVO_MIN(m, (int64_t)MC), MR);
    int64_t nc = round_up(EVO_MIN(n, (int64_t)NC), NR);
    int64_t kc = EVO_MIN(k, (int64_t)KC);
    if (kc < 1)
        kc = 1;
    return (size_t)((mc + nc) * kc) * sizeof(float) + 64;
}

/* Packs A[0:mc, 0:kc] into MR-row panels: panel r holds kc groups of MR values. */
static void pack_a(int64_t mc, int64_t kc, const float *a, int64_t rs, int64_t cs, float *dst)
{
    for (int64_t i0 = 0; i0 < mc; i0 += MR) {
        int64_t mr = EVO_MIN((int64_t)MR, mc - i0);
        const float *src = a + i0 * rs;
        if (cs == 1 && mr == MR) {
            for (int64_t p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++)
                    dst[p * MR + i] = src[i * rs + p];
        } else {
            for (int64_t p = 0; p < kc; p++) {
                int64_t i = 0;
                for (; i < mr; i++)
                    dst[p * MR + i] = src[i * rs + p * cs];
                for (; i < MR; i++)
                    dst[p * MR + i] = 0.0f;
            }
        }
        dst += kc * MR;
    }
}

/* Packs B[0:kc, 0:nc] into NR-column panels: panel c holds kc groups of NR values. */
static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t rs, int64_t cs, float *dst)
{
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        int64_t nr = EVO_MIN((int64_t)NR, nc - j0);
        const float *src = b + j0 * cs;
        if (cs == 1 && nr == NR) {
            for (int64_t p = 0; p < kc; p++)
                memcpy(dst + p * NR, src + p * rs, NR * sizeof(float));
        } else {
            for (int64_t p = 0; p < kc; p++) {
                int64_t j = 0;
                for (; j < nr; j++)
                    dst[p * NR + j] = src[p * rs + j * cs];
                for (; j < NR; j++)
                    dst[p * NR + j] = 0.0f;
            }
        }
        dst += kc * NR;
    }
}

/*
 * acc[MR][NR] = sum over kc of the packed A column times the packed B row.
 * Six named NR-wide row accumulators: with a 2-D array GCC -O3 keeps the
 * tile in memory instead of registers.
 */
static void micro_kernel(int64_t kc, const float *restrict pa, const float *restrict pb,
                         float *restrict acc)
{
    float c0[NR] = {0}, c1[NR] = {0}, c2[NR] = {0}, c3[NR] = {0}, c4[NR] = {0}, c5[NR] = {0};
    for (int64_t p = 0; p < kc; p++) {
        const float a0 = pa[0], a1 = pa[1], a2 = pa[2], a3 = pa[3], a4 = pa[4], a5 = pa[5];
        for (int j = 0; j < NR; j++) {
            const float b = pb[j];
            c0[j] += a0 * b;
            c1[j] += a1 * b;
            c2[j] += a2 * b;
            c3[j] += a3 * b;
            c4[j] += a4 * b;
            c5[j] += a5 * b;
        }
        pa += MR;
        pb += NR;
    }
    for (int j = 0; j < NR; j++) {
        acc[0 * NR + j] = c0[j];
        acc[1 * NR + j] = c1[j];
        acc[2 * NR + j] = c2[j];
        acc[3 * NR + j] = c3[j];
        acc[4 * NR + j] = c4[j];
        acc[5 * NR + j] = c5[j];
    }
}

/* Epilogue over an mr x nr block of C whose top-left is C[i0, j0]. */
static void apply_epilogue(const evo_sgemm_args *g, int64_t i0, int64_t j0, int64_t mr,
                           int64_t nr)
{
    const evo_sgemm_epilogue *e = g->epi;
    for (int64_t i = 0; i < mr; i++) {
        float *crow = g->c + (i0 + i) * g->c_rs + j0;
        if (e->bias_m) {
            float bias = e->bias_m[i0 + i];
            for (int64_t j = 0; j < nr; j++)
                crow[j] += bias;
        }
        if (e->add && !e->add_after_act) {
            const float *arow = e->add + (i0 + i) * e->add_rs + j0 * e->add_cs;
            for (int64_t j = 0; j < nr; j++)
                crow[j] += e->add_scale * arow[j * e->add_cs];
        }
        if (e->act != EVO_ACT_NONE)
            evo_act_apply_n(crow, nr, e->act, e->act_alpha, e->act_beta);
        if (e->add && e->add_after_act) {
            const float *arow = e->add + (i0 + i) * e->add_rs + j0 * e->add_cs;
            for (int64_t j = 0; j < nr; j++)
                crow[j] += e->add_scale * arow[j * e->add_cs];
        }
    }
}

/* Writes one tile: first K block stores alpha*acc + beta*C, later ones accumulate. */
static void store_tile(const evo_sgemm_args *g, const float *acc, int64_t i0, int64_t j0,
                       int64_t mr, int64_t nr, int first, int last)
{
    const float alpha = g->alpha, beta = g->beta;
    for (int64_t i = 0; i < mr; i++) {
        float *crow = g->c + (i0 + i) * g->c_rs + j0;
        const float *arow = acc + i * NR;
        if (!first) {
            for (int64_t j = 0; j < nr; j++)
                crow[j] += alpha * arow[j];
        } else if (beta == 0.0f) {
            for (int64_t j = 0; j < nr; j++)
                crow[j] = alpha * arow[j];
        } else {
            for (int64_t j = 0; j < nr; j++)
                crow[j] = alpha * arow[j] + beta * crow[j];
        }
    }
    if (last && g->epi)
        apply_epilogue(g, i0, j0, mr, nr);
}

/* K == 0: C = beta * C, then the epilogue. */
static void empty_k(const evo_sgemm_args *g)
{
    for (int64_t i = 0; i < g->m; i++) {
        float *crow = g->c + i * g->c_rs;
        for (int64_t j = 0; j < g->n; j++)
            crow[j] = g->beta == 0.0f ? 0.0f : g->beta * crow[j];
    }
    if (g->epi)
        apply_epilogue(g, 0, 0, g->m, g->n);
}

void evo_sgemm_ref(const evo_sgemm_args *g, void *scratch)
{
    if (g->m <= 0 || g->n <= 0)
        return;
    if (g->k <= 0) {
        empty_k(g);
        return;
    }
    int64_t mc_max = round_up(EVO_MIN(g->m, (int64_t)MC), MR);
    float *pack_a_buf = (float *)scratch;
    float *pack_b_buf = pack_a_buf + mc_max * EVO_MIN(g->k, (int64_t)KC);
    float acc[MR * NR];

    for (int64_t jc = 0; jc < g->n; jc += NC) {
        int64_t nc = EVO_MIN((int64_t)NC, g->n - jc);
        for (int64_t pc = 0; pc < g->k; pc += KC) {
            int64_t kc = EVO_MIN((int64_t)KC, g->k - pc);
            int first = pc == 0, last = pc + kc == g->k;
            pack_b(kc, nc, g->b + pc * g->b_rs + jc * g->b_cs, g->b_rs, g->b_cs, pack_b_buf);
            for (int64_t ic = 0; ic < g->m; ic += MC) {
                int64_t mc = EVO_MIN((int64_t)MC, g->m - ic);
                pack_a(mc, kc, g->a + ic * g->a_rs + pc * g->a_cs, g->a_rs, g->a_cs,
                       pack_a_buf);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = EVO_MIN((int64_t)NR, nc - jr);
                    const float *pb = pack_b_buf + (jr / NR) * kc * NR;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = EVO_MIN((int64_t)MR, mc - ir);
                        micro_kernel(kc, pack_a_buf + (ir / MR) * kc * MR, pb, acc);
                        store_tile(g, acc, ic + ir, jc + jr, mr, nr, first, last);
                    }
                }
            }
        }
    }
}

void evo_sgemm_split(int64_t m, int64_t n, int task, int n_tasks, int64_t *m0, int64_t *m1,
                     int64_t *n0, int64_t *n1)
{
    int64_t m_tiles = (m + MR - 1) / MR, n_tiles = (n + NR - 1) / NR;
    int64_t b, e;
    /* Splitting M makes every task repack all of B and vice versa: split the larger. */
    bool split_m;
    if (m_tiles >= n_tasks && n_tiles >= n_tasks)
        split_m = m >= n;
    else
        split_m = m_tiles >= n_tiles;
    if (split_m) {
        evo_task_range(m_tiles, task, n_tasks, &b, &e);
        *m0 = EVO_MIN(b * MR, m);
        *m1 = EVO_MIN(e * MR, m);
        *n0 = 0;
        *n1 = n;
    } else {
        evo_task_range(n_tiles, task, n_tasks, &b, &e);
        *m0 = 0;
        *m1 = m;
        *n0 = EVO_MIN(b * NR, n);
        *n1 = EVO_MIN(e * NR, n);
    }
}

void evo_sgemm_ref_task(const evo_sgemm_args *g, void *scratch, int task, int n_tasks)
{
    int64_t m0, m1, n0, n1;
    evo_sgemm_split(g->m, g->n, task, n_tasks, &m0, &m1, &n0, &n1);
    if (m1 <= m0 || n1 <= n0)
        return;
    evo_sgemm_args sub = *g;
    evo_sgemm_epilogue epi;
    sub.m = m1 - m0;
    sub.n = n1 - n0;
    sub.a = g->a + m0 * g->a_rs;
    sub.b = g->b + n0 * g->b_cs;
    sub.c = g->c + m0 * g->c_rs + n0;
    if (g->epi) {
        epi = *g->epi;
        if (epi.bias_m)
            epi.bias_m += m0;
        if (epi.add)
            epi.add += m0 * epi.add_rs + n0 * epi.add_cs;
        sub.epi = &epi;
    }
    evo_sgemm_ref(&sub, scratch);
}

void evo_act_apply_n(float *x, int64_t n, evo_act act, float alpha, float beta)
{
    switch (act) {
    case EVO_ACT_NONE:
        return;
    case EVO_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    default:
        for (int64_t i = 0; i < n; i++)
            x[i] = evo_act_apply(x[i], act, alpha, beta);
        return;
    }
}
