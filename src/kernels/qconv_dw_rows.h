/*
 * qconv_dw_rows.h - the ISA-neutral part of the int8 depthwise kernels'
 * copying path (qconv_dw_avx512.c, qconv_avx2.c): each input row is copied
 * once, padded with x_zp on both sides, into a ring of rows, so every tap
 * of a vector of outputs is one plain load (masked or byte-wise edge loads
 * cost more than the copies). The ISA files hold only the tap loops.
 */
#ifndef EVO_QCONV_DW_ROWS_H
#define EVO_QCONV_DW_ROWS_H

#include "kernels/qconv_fast.h"

#include <string.h>

/* Padded input rows: the most taps down and bytes across the copying path takes. */
#define DW_KH_MAX 7
#define DW_ROW_MAX 1024
/* Padded rows kept: a row is copied once while the taps' rows span fewer than this. */
#define DW_RING 16

typedef struct dw_ring {
    uint8_t row[DW_RING][DW_ROW_MAX];
    int64_t tag[DW_RING]; /* the input row each slot holds, -1: none */
} dw_ring;

/*
 * Bytes of a padded row copy for vectors of `lanes` outputs: pw of x_zp,
 * the row, x_zp past it as far as the last vector reads.
 */
static inline int64_t dw_row_len(const evo_qconv_shape *s, int64_t lanes)
{
    return EVO_MAX(s->pw + s->iw, (s->ow - 1) * s->sw + (s->kw - 1) * s->dw + 2 * lanes * s->sw + 1);
}

/* Whether a plane of s can take the copying path. */
static inline bool dw_rows_fit(const evo_qconv_shape *s, int64_t lanes)
{
    return s->kh <= DW_KH_MAX && (s->kh - 1) * s->dh < DW_RING && dw_row_len(s, lanes) <= DW_ROW_MAX;
}

static inline void dw_ring_init(dw_ring *r)
{
    for (int i = 0; i < DW_RING; i++)
        r->tag[i] = -1;
}

/*
 * The kh input rows output row oh reads, padded: rows[ky] (NULL for a row
 * of padding). Input rows are copied once: a slot is not needed again once
 * the taps have moved DW_RING rows on.
 */
static inline __attribute__((always_inline)) void dw_ring_fetch(dw_ring *r, const evo_qconv_shape *s,
                                                                const uint8_t *x, uint8_t pad, int64_t oh,
                                                                int64_t kh, int64_t lanes, const uint8_t **rows)
{
    for (int64_t ky = 0; ky < kh; ky++) {
        int64_t ih = oh * s->sh - s->ph + ky * s->dh;
        if (ih < 0 || ih >= s->ih) {
            rows[ky] = NULL;
            continue;
        }
        int64_t slot = ih % DW_RING;
        if (r->tag[slot] != ih) {
            uint8_t *dst = r->row[slot];
            memset(dst, pad, (size_t)s->pw);
            memcpy(dst + s->pw, x + ih * s->iw, (size_t)s->iw);
            memset(dst + s->pw + s->iw, pad, (size_t)(dw_row_len(s, lanes) - s->pw - s->iw));
            r->tag[slot] = ih;
        }
        rows[ky] = r->row[slot];
    }
}

/*
 * dw_ring_fetch, returning what the padding rows add: x_zp times their
 * weights (wc, kh x kw, int32 holding the int16 weight).
 */
static inline __attribute__((always_inline)) int32_t dw_ring_rows(dw_ring *r, const evo_qconv_shape *s,
                                                                  const uint8_t *x, uint8_t pad, int32_t zp,
                                                                  const int32_t *wc, int64_t oh, int64_t kh,
                                                                  int64_t kw, int64_t lanes, const uint8_t **rows)
{
    dw_ring_fetch(r, s, x, pad, oh, kh, lanes, rows);
    int32_t zsum = 0;
    for (int64_t ky = 0; ky < kh; ky++)
        if (!rows[ky])
            for (int64_t kx = 0; kx < kw; kx++)
                zsum += zp * (int32_t)(int16_t)wc[ky * kw + kx];
    return zsum;
}

#endif /* EVO_QCONV_DW_ROWS_H */
