/*
 * tensor_ref.h - the strided copy shared by the data-movement reference
 * kernels. Slice, Transpose, Expand and DepthToSpace are all "walk the output
 * in order, read the input through per-axis strides" (a step, a permutation,
 * a zero stride for broadcasting, a 6-D reshape+transpose), so one routine
 * serves them. It merges axes that stay contiguous in the source and drops
 * size-1 axes first, so the inner loop runs over the longest possible rows.
 */
#ifndef EVO_KERNELS_TENSOR_REF_H
#define EVO_KERNELS_TENSOR_REF_H

#include "kernels/kernel.h"

#include <string.h>

/* Copies n elements of esize bytes from src (stride src_step elements) to contiguous dst. */
static inline void evo_copy_row(char *restrict dst, const char *restrict src, int64_t n,
                                int64_t src_step, size_t esize)
{
    if (src_step == 1) {
        memcpy(dst, src, (size_t)n * esize);
        return;
    }
    switch (esize) {
    case 1:
        for (int64_t i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = ((const uint8_t *)src)[i * src_step];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = ((const uint16_t *)src)[i * src_step];
        break;
    case 4:
        for (int64_t i = 0; i < n; i++)
            ((uint32_t *)dst)[i] = ((const uint32_t *)src)[i * src_step];
        break;
    case 8:
        for (int64_t i = 0; i < n; i++)
            ((uint64_t *)dst)[i] = ((const uint64_t *)src)[i * src_step];
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * esize, src + i * src_step * (int64_t)esize, esize);
        break;
    }
}

/* Most axes evo_strided_copy takes: Tile views each axis as two (repeat, dim). */
#define EVO_STRIDED_MAX_RANK (2 * EVO_MAX_RANK)

/*
 * dst (contiguous, dims[rank]) = src read with src_strides (in elements, may
 * be negative or zero); rank <= EVO_STRIDED_MAX_RANK. Tasks split the output rows.
 */
static inline void evo_strided_copy(void *dst, const void *src, const int64_t *dims,
                                    const int64_t *src_strides, int rank, size_t esize, int task,
                                    int n_tasks)
{
    int64_t d_dims[EVO_STRIDED_MAX_RANK], d_str[EVO_STRIDED_MAX_RANK];
    int r = 0;
    for (int d = 0; d < rank; d++) {
        if (dims[d] == 0)
            return;
        if (dims[d] == 1)
            continue;
        if (r > 0 && d_str[r - 1] == src_strides[d] * dims[d]) {
            d_dims[r - 1] *= dims[d];
            d_str[r - 1] = src_strides[d];
            continue;
        }
        d_dims[r] = dims[d];
        d_str[r] = src_strides[d];
        r++;
    }
    if (r == 0) {
        d_dims[0] = 1;
        d_str[0] = 1;
        r = 1;
    }
    int64_t inner = d_dims[r - 1], rows = 1;
    for (int d = 0; d < r - 1; d++)
        rows *= d_dims[d];
    int64_t r0, r1;
    evo_task_range(rows, task, n_tasks, &r0, &r1);
    if (r0 >= r1)
        return;
    int64_t coord[EVO_STRIDED_MAX_RANK] = {0}, off = 0, rem = r0;
    for (int d = r - 2; d >= 0; d--) {
        coord[d] = rem % d_dims[d];
        rem /= d_dims[d];
        off += coord[d] * d_str[d];
    }
    char *out = (char *)dst + (size_t)(r0 * inner) * esize;
    for (int64_t row = r0; row < r1; row++) {
        evo_copy_row(out, (const char *)src + off * (int64_t)esize, inner, d_str[r - 1], esize);
        out += (size_t)inner * esize;
        for (int d = r - 2; d >= 0; d--) {
            off += d_str[d];
            if (++coord[d] < d_dims[d])
                break;
            off -= d_str[d] * d_dims[d];
            coord[d] = 0;
        }
    }
}

#endif /* EVO_KERNELS_TENSOR_REF_H */
