/*
 * quant_out.h - the output stage shared by the reference QLinearConv and
 * QLinearMatMul kernels: per channel, the requantization of the int32
 * accumulator (FLOAT or FIXED, docs/int8.md) to the output or, with a fused
 * table activation, to the pre-activation domain (act_scale, act_zp)
 * followed by the 256-entry table.
 */
#ifndef EVO_QUANT_OUT_H
#define EVO_QUANT_OUT_H

#include "kernels/quant_common.h"

typedef struct evo_quant_out {
    evo_requant mode;
    evo_dtype dtype; /* of the output */
    evo_act act;
    float alpha, beta;
    float in_scale;        /* x_scale (a_scale) */
    float y_scale;         /* the requantization target: y_scale, or act_scale with a table */
    int32_t zp, lo, hi;    /* zero point and clamp range of that target */
    bool has_table;
    uint8_t table[256];
} evo_quant_out;

/* The channel-independent part; builds the table when act is a table activation. */
static inline void evo_quant_out_init(evo_quant_out *o, evo_requant mode, evo_act_table table, evo_dtype dtype,
                                      evo_act act, float alpha, float beta, float act_scale, int32_t act_zp,
                                      float in_scale, float y_scale, int32_t y_zp)
{
    o->mode = mode;
    o->dtype = dtype;
    o->act = act;
    o->alpha = alpha;
    o->beta = beta;
    o->in_scale = in_scale;
    o->has_table = evo_act_is_table(act);
    if (o->has_table) {
        evo_quant_act_table(table, act, alpha, beta, act_scale, act_zp, y_scale, y_zp, dtype, o->table);
        o->y_scale = act_scale;
        o->zp = act_zp;
        evo_quant_range(dtype, &o->lo, &o->hi);
    } else {
        o->y_scale = y_scale;
        o->zp = y_zp;
        evo_quant_act_range(act, alpha, beta, y_scale, y_zp, dtype, &o->lo, &o->hi);
    }
}

/* The multiplier of one channel with weight scale w_scale. */
typedef struct evo_quant_chan {
    float m;       /* FLOAT: (in_scale * w_scale) / y_scale in float32 */
    int32_t q;     /* FIXED */
    int shift;
} evo_quant_chan;

static inline evo_quant_chan evo_quant_out_chan(const evo_quant_out *o, float w_scale)
{
    evo_quant_chan c = {0.0f, 0, 0};
    if (o->mode == EVO_REQUANT_FIXED)
        evo_quant_multiplier(evo_requant_real(o->in_scale, w_scale, o->y_scale), &c.q, &c.shift);
    else
        c.m = (o->in_scale * w_scale) / o->y_scale;
    return c;
}

/* The output value (in the dtype's range) of accumulator acc. */
static inline int32_t evo_quant_out_value(const evo_quant_out *o, const evo_quant_chan *c, int32_t acc)
{
    int32_t y;
    if (o->mode == EVO_REQUANT_FIXED) {
        int64_t v = (int64_t)evo_requant_fixed(acc, c->q, c->shift) + o->zp;
        y = v < o->lo ? o->lo : v > o->hi ? o->hi : (int32_t)v;
    } else {
        y = evo_requant_float(acc, c->m, o->zp, o->lo, o->hi);
    }
    if (!o->has_table)
        return y;
    uint8_t b = o->table[y - (o->dtype == EVO_DTYPE_INT8 ? -128 : 0)];
    return o->dtype == EVO_DTYPE_INT8 ? (int32_t)(int8_t)b : (int32_t)b;
}

#endif /* EVO_QUANT_OUT_H */
