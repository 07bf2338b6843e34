/*
 * qconv_dw_neon.c - depthwise int8 Conv (group = c_in = c_out), any kernel
 * size and dilation, stride 1 or 2 across, Advanced SIMD (every AArch64
 * core; SDOT would need 4 taps of one output in a lane, which a 3x3 row
 * does not fill, so the dotprod and i8mm tiers take this one too).
 *
 * 8 outputs of a row at a time: each tap loads the 8 input bytes it reads
 * (stride 2: LD2 of 16, the even ones), widens them to int16 and adds
 * their products with the tap's weight by SMLAL/SMLAL2 into two int32x4.
 * The zero point's share is folded into the bias at pack time
 * (EVO_QK_W_DW, raw x), so a row of padding adds x_zp times its weights
 * and columns near the edges, where a tap would read outside the row, are
 * computed one by one with x_zp there. Tasks split the planes; the output
 * bytes are qconv_arm.h's.
 */
#include "kernels/arm/qconv_arm.h"

#include <arm_neon.h>


/* One output at (oy, ox) of plane xc, element by element. */
static int32_t dw_one(const evo_qconv_shape *s, const uint8_t *xc, const int32_t *wc, int64_t oy, int64_t ox,
                      bool sgn, int32_t xzp)
{
    int32_t acc = 0;
    for (int64_t ky = 0; ky < s->kh; ky++) {
        int64_t iy = oy * s->sh - s->ph + ky * s->dh;
        for (int64_t kx = 0; kx < s->kw; kx++) {
            int64_t ix = ox * s->sw - s->pw + kx * s->dw;
            int32_t v = xzp;
            if (iy >= 0 && iy < s->ih && ix >= 0 && ix < s->iw)
                v = sgn ? (int8_t)xc[iy * s->iw + ix] : xc[iy * s->iw + ix];
            acc += v * (int16_t)(uint16_t)wc[ky * s->kw + kx];
        }
    }
    return acc;
}

/* 8 outputs from (oy, ox) whose taps all lie inside their rows across; rows of padding add x_zp w. */
static void dw_eight(const evo_qconv_shape *s, const uint8_t *xc, const int32_t *wc, int64_t oy, int64_t ox,
                     bool sgn, int32_t xzp, int32_t *out)
{
    int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
    int32_t pad = 0;
    int64_t ix0 = ox * s->sw - s->pw;
    for (int64_t ky = 0; ky < s->kh; ky++) {
        int64_t iy = oy * s->sh - s->ph + ky * s->dh;
        const int32_t *wr = wc + ky * s->kw;
        if (iy < 0 || iy >= s->ih) {
            for (int64_t kx = 0; kx < s->kw; kx++)
                pad += xzp * (int16_t)(uint16_t)wr[kx];
            continue;
        }
        const uint8_t *row = xc + iy * s->iw + ix0;
        for (int64_t kx = 0; kx < s->kw; kx++) {
            const uint8_t *p = row + kx * s->dw;
            uint8x8_t b = s->sw == 1 ? vld1_u8(p) : vld2_u8(p).val[0];
            int16x8_t v = sgn ? vmovl_s8(vreinterpret_s8_u8(b)) : vreinterpretq_s16_u16(vmovl_u8(b));
            int16_t wt = (int16_t)(uint16_t)wr[kx];
            a0 = vmlal_n_s16(a0, vget_low_s16(v), wt);
            a1 = vmlal_high_n_s16(a1, v, wt);
        }
    }
    vst1q_s32(out, vaddq_s32(a0, vdupq_n_s32(pad)));
    vst1q_s32(out + 4, vaddq_s32(a1, vdupq_n_s32(pad)));
}

static void qconv_dw_neon(const evo_qconv_shape *s, const void *packed, const void *x, void *y, int task,
                          int n_tasks)
{
    const evo_qconv_packed *h = packed;
    const unsigned char *base = packed;
    const int32_t *w = (const int32_t *)(base + h->off_w);
    bool sgn = h->x_xor == 0x80;
    int32_t xzp = sgn ? (int8_t)h->x_pad : h->x_pad;
    int64_t p0, p1, khw = s->kh * s->kw, in_plane = s->ih * s->iw, out_plane = s->oh * s->ow;
    /* the last byte an 8-output block reads, past its first tap's column */
    int64_t span = 8 * s->sw - 1 + (s->kw - 1) * s->dw;
    evo_task_range(s->batch * s->c_out, task, n_tasks, &p0, &p1);
    for (int64_t pl = p0; pl < p1; pl++) {
        int64_t c = pl % s->c_out;
        const uint8_t *xc = (const uint8_t *)x + pl * in_plane;
        uint8_t *yc = (uint8_t *)y + pl * out_plane;
        const int32_t *wc = w + c * khw;
        for (int64_t oy = 0; oy < s->oh; oy++) {
            uint8_t *yr = yc + oy * s->ow;
            for (int64_t ox = 0; ox < s->ow;) {
                int64_t ix0 = ox * s->sw - s->pw;
                if (ox + 8 <= s->ow && ix0 >= 0 && ix0 + span < s->iw) {
                    int32_t acc[8];
                    dw_eight(s, xc, wc, oy, ox, sgn, xzp, acc);
                    evo_qarm_store4(h, base, c, vld1q_s32(acc), yr + ox, 4);
                    evo_qarm_store4(h, base, c, vld1q_s32(acc + 4), yr + ox + 4, 4);
                    ox += 8;
                } else {
                    yr[ox] = evo_qarm_out(h, base, c, dw_one(s, xc, wc, oy, ox, sgn, xzp));
                    ox++;
                }
            }
        }
    }
}

static void dw_run(const evo_kernel_args *a, int task, int n_tasks)
{
    evo_qconv_shape s;
    evo_qconv_dw_shape(a, &s);
    qconv_dw_neon(&s, a->packed, a->in[0].data, a->out[0].data, task, n_tasks);
}

const evo_kernel_def evo_kernel_qconv_dw_neon = {
    .name = "qconv_dw_neon",
    .isa = EVO_ISA_NEON,
    .supports = evo_qconv_dw_supports,
    .run = dw_run,
    .packed_bytes = evo_qconv_dw_packed_bytes,
    .pack = evo_qconv_dw_pack,
};
