/*
 * conv_dwc_avx512.h - the parts of dwc_avx512 (depthwise, 16 channels to a
 * vector; conv_dw_avx512.c) that the fused pairs ending in it share
 * (conv_pwdwc_avx512.c): the plan of bands and channel blocks, the zeroed
 * padding of the band buffer, the row functions, the out transpose and
 * the packed weights. Included only by files compiled for AVX-512, after
 * conv_avx512.h.
 */
#ifndef EVO_CONV_DWC_AVX512_H
#define EVO_CONV_DWC_AVX512_H

#include "kernels/conv_avx512.h"

#define DWC_C 16  /* channels per block: the lanes */
#define DWC_NX 8  /* outputs of a row accumulated together */

typedef struct dwc_plan {
    int64_t ch, ih, iw, oh, ow, kh, kw, s, pt, pl;
    int64_t bw;           /* pixels per band buffer row (left padding, input, right padding) */
    int64_t band;         /* output rows per band */
    int64_t n_bands, nb;  /* bands per plane, 16-channel blocks */
    int64_t b_floats;     /* band input buffer */
    int64_t o_floats;     /* band output buffer, with a block of slack for the out transpose */
} dwc_plan;

/*
 * NX outputs of one row, s columns apart: b at the first one's top-left
 * tap, pitch floats from one band buffer row to the next, weights w as
 * [tap][16], kh x kw taps, results to o (pixel vectors).
 */
typedef void (*dwc_row_fn)(const float *b, int64_t pitch, const float *w, __m512 bias, int kh, int kw, float *o);

/* The plan of a depthwise conv (attributes c, input, weight and output dims), its bands sized for dwc_avx512. */
void evo_dwc_plan_make(dwc_plan *p, const evo_conv_attrs *c, const int64_t *xd, const int64_t *wd,
                       const int64_t *yd);
/* Zeroes the columns of padding of every row of the band buffer b (once per task: nothing writes them after). */
void evo_dwc_zero_pads(const dwc_plan *p, float *b);
/* The row function for nx (1..DWC_NX) outputs at p's stride and taps. */
dwc_row_fn evo_dwc_row_of(const dwc_plan *p, int64_t nx);
/*
 * Output rows [oy0, oy0 + n_rows) from the pixel-vector buffer o back to
 * the nc channel planes at y (residual at res, same offsets), with e's
 * activation; sums non-NULL (no residual): each channel's sum of the
 * values stored to sums[c].
 */
void evo_dwc_store(const dwc_plan *p, const float *o, int64_t oy0, int64_t n_rows, int nc, float *y,
                   const float *res, const epilogue *e, float *sums);
/* Bytes of node n's packed weights, and the packing: [block][tap][16 channels], channels past the last zero. */
size_t evo_dwc_packed_bytes(const evo_graph *g, const evo_node *n);
void evo_dwc_pack(const evo_graph *g, const evo_node *n, void *dst);
/* Whether dw_avx512 (and so dwc_avx512's pairs) takes node n. */
bool evo_conv_dw_supports(const evo_graph *g, const evo_node *n);

#endif /* EVO_CONV_DWC_AVX512_H */
