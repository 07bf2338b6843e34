/*
 * sgemm.h - the portable single-precision GEMM shared by Conv,
 * ConvTranspose, MatMul and Gemm, plus the fused epilogue (per-row bias,
 * a strided addend such as a residual or Gemm's C, and an activation).
 *
 * A and B are read through (row, column) element strides, so transposed or
 * strided operands need no copy: the packing step absorbs the layout. The
 * caller splits the work across tasks (evo_sgemm_split) and hands each task
 * its own scratch slice of evo_sgemm_scratch_bytes(); the GEMM itself never
 * allocates.
 */
#ifndef EVO_SGEMM_H
#define EVO_SGEMM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/attrs.h"

/* Applied to each output element after the full K sum, in this order. */
typedef struct evo_sgemm_epilogue {
    const float *bias_m;  /* NULL, or one value per row of C */
    const float *add;     /* NULL, or add_scale * add[i * add_rs + j * add_cs] */
    int64_t add_rs, add_cs; /* 0 broadcasts along that dimension */
    float add_scale;
    evo_act act;
    float act_alpha, act_beta;
    bool add_after_act; /* add applied after the activation instead of before */
} evo_sgemm_epilogue;

/* C[i,j] = epilogue(alpha * sum_p A[i,p] B[p,j] + beta * C[i,j]). */
typedef struct evo_sgemm_args {
    int64_t m, n, k;
    float alpha, beta; /* beta == 0: C is write-only (never read) */
    const float *a;    /* A[i,p] = a[i * a_rs + p * a_cs] */
    int64_t a_rs, a_cs;
    const float *b;    /* B[p,j] = b[p * b_rs + j * b_cs] */
    int64_t b_rs, b_cs;
    float *c;          /* C[i,j] = c[i * c_rs + j] */
    int64_t c_rs;
    const evo_sgemm_epilogue *epi; /* NULL: none */
} evo_sgemm_args;

/* Scratch one call of evo_sgemm_ref needs for an m x n x k problem. */
size_t evo_sgemm_scratch_bytes(int64_t m, int64_t n, int64_t k);

/* Computes the whole product; scratch holds evo_sgemm_scratch_bytes(m, n, k), 64-byte aligned. */
void evo_sgemm_ref(const evo_sgemm_args *g, void *scratch);

/*
 * The block of C task owns: rows [m0, m1) x columns [n0, n1). Splits the
 * dimension that gives every task the most work, in register-tile multiples;
 * some tasks may get an empty block.
 */
void evo_sgemm_split(int64_t m, int64_t n, int task, int n_tasks, int64_t *m0, int64_t *m1,
                     int64_t *n0, int64_t *n1);

/* Runs this task's block of g (see evo_sgemm_split); scratch is this task's slice. */
void evo_sgemm_ref_task(const evo_sgemm_args *g, void *scratch, int task, int n_tasks);

/* The fused activations of evo_act. */
static inline float evo_act_apply(float x, evo_act act, float alpha, float beta)
{
    switch (act) {
    case EVO_ACT_NONE:
        return x;
    case EVO_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case EVO_ACT_LEAKY_RELU:
        return x >= 0.0f ? x : alpha * x;
    case EVO_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case EVO_ACT_SILU:
        return x / (1.0f + expf(-x));
    case EVO_ACT_HARD_SIGMOID: {
        float y = alpha * x + beta;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case EVO_ACT_HARD_SWISH: {
        float y = x / 6.0f + 0.5f;
        return x * (y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y));
    }
    case EVO_ACT_CLIP:
        return x < alpha ? alpha : (x > beta ? beta : x);
    case EVO_ACT_TANH:
        return tanhf(x);
    }
    return x;
}

/* Applies act to n contiguous floats in place. */
void evo_act_apply_n(float *x, int64_t n, evo_act act, float alpha, float beta);

#endif /* EVO_SGEMM_H */
