/*
 * resize.h - the per-axis source mapping of Resize/Upsample, shared by the
 * reference kernel (resize_ref.c) and the vectorised variants
 * (resize_body.inc), so every variant samples exactly the same taps.
 */
#ifndef EVO_KERNELS_RESIZE_H
#define EVO_KERNELS_RESIZE_H

#include "kernels/kernel.h"

/* The input taps of one output index along one axis. */
typedef struct evo_resize_taps {
    int n;          /* 1 (nearest or an integral coordinate), 2 (linear) or 4 (cubic) */
    int64_t idx[4]; /* clamped input indices */
    double w[4];    /* their weights */
    bool outside;   /* tf_crop_and_resize: the coordinate left the input */
} evo_resize_taps;

/*
 * The taps of output index x on axis d (input extent in, output extent
 * out) under ra's mode, coordinate transformation and rounding, computed
 * in double as the ONNX reference does.
 */
void evo_resize_axis_taps(const evo_resize_attrs *ra, int d, int64_t x, int64_t in, int64_t out,
                          evo_resize_taps *t);

/*
 * True when nearest resizing of in_dims to out_dims (rank axes) is plain
 * replication by integer factors on the last two axes, which the reference
 * kernel runs as row copies.
 */
bool evo_resize_is_replication(const evo_resize_attrs *ra, int rank, const int64_t *in_dims,
                               const int64_t *out_dims);

#endif /* EVO_KERNELS_RESIZE_H */
