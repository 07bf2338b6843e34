/*
 * pixel.h - inline RGB fetch from a checked frame, shared by frame.c and
 * the fused preprocess so the per-tap switch inlines into the hot loop.
 */
#ifndef EVO_VISION_PIXEL_H
#define EVO_VISION_PIXEL_H

#include "vision/vision.h"

/* A checked frame with NV12's uv plane (I420's u and v planes) resolved. */
typedef struct evo_pixsrc {
    evo_pixel_format format;
    const uint8_t *data;
    size_t stride;
    const uint8_t *uv; /* NV12: interleaved U,V; I420: U */
    const uint8_t *v;  /* I420: V */
    size_t uv_stride;
} evo_pixsrc;

static inline evo_pixsrc evo_pixsrc_make(const evo_frame *f)
{
    evo_pixsrc s;
    s.format = f->format;
    s.data = f->data;
    s.stride = f->stride_bytes;
    s.uv = f->uv_data ? f->uv_data : f->data + (size_t)f->height * f->stride_bytes;
    s.v = NULL;
    if (f->format == EVO_PIXEL_I420) {
        s.uv_stride = f->uv_stride_bytes ? f->uv_stride_bytes : (f->stride_bytes + 1) / 2;
        s.v = f->v_data ? f->v_data : s.uv + (size_t)(f->height / 2) * s.uv_stride;
    } else {
        s.uv_stride = f->uv_stride_bytes ? f->uv_stride_bytes : f->stride_bytes;
    }
    return s;
}

static inline uint8_t evo_clamp_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* BT.601 limited range in 20-bit fixed point: round(coefficient * 2^20). */
#define EVO_YUV_SHIFT 20
#define EVO_YUV_CY 1220542    /* 1.164 = 255/219 */
#define EVO_YUV_CVR 1673527   /* 1.596 */
#define EVO_YUV_CVG (-852492) /* -0.813 */
#define EVO_YUV_CUG (-409993) /* -0.391 */
#define EVO_YUV_CUB 2116026   /* 2.018 */

/* evo_yuv_to_rgb, inline for the per-tap fetch of the fused preprocess (every YUV tap of a video frame). */
static inline void evo_yuv_to_rgb_inline(int y, int u, int v, uint8_t rgb[3])
{
    int yy = (y > 16 ? y - 16 : 0) * EVO_YUV_CY;
    int uu = u - 128, vv = v - 128;
    int half = 1 << (EVO_YUV_SHIFT - 1);
    rgb[0] = evo_clamp_u8((yy + half + EVO_YUV_CVR * vv) >> EVO_YUV_SHIFT);
    rgb[1] = evo_clamp_u8((yy + half + EVO_YUV_CVG * vv + EVO_YUV_CUG * uu) >> EVO_YUV_SHIFT);
    rgb[2] = evo_clamp_u8((yy + half + EVO_YUV_CUB * uu) >> EVO_YUV_SHIFT);
}

/* fmt equals s->format; passing it as a constant lets callers specialise the switch away. */
static inline void evo_pixsrc_rgb_fmt(const evo_pixsrc *s, evo_pixel_format fmt, int x, int y,
                                      int rgb[3])
{
    const uint8_t *row = s->data + (size_t)y * s->stride;
    const uint8_t *p;
    uint8_t c[3];
    switch (fmt) {
    case EVO_PIXEL_RGB24:
        p = row + 3 * (size_t)x;
        rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
        return;
    case EVO_PIXEL_BGR24:
        p = row + 3 * (size_t)x;
        rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
        return;
    case EVO_PIXEL_RGBA32:
        p = row + 4 * (size_t)x;
        rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
        return;
    case EVO_PIXEL_BGRA32:
        p = row + 4 * (size_t)x;
        rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
        return;
    case EVO_PIXEL_GRAY8:
        rgb[0] = rgb[1] = rgb[2] = row[x];
        return;
    case EVO_PIXEL_YUYV:
        p = row + 4 * (size_t)(x >> 1);
        evo_yuv_to_rgb_inline(p[(x & 1) * 2], p[1], p[3], c);
        break;
    case EVO_PIXEL_NV12:
        p = s->uv + (size_t)(y >> 1) * s->uv_stride + 2 * (size_t)(x >> 1);
        evo_yuv_to_rgb_inline(row[x], p[0], p[1], c);
        break;
    case EVO_PIXEL_I420: {
        size_t at = (size_t)(y >> 1) * s->uv_stride + (size_t)(x >> 1);
        evo_yuv_to_rgb_inline(row[x], s->uv[at], s->v[at], c);
        break;
    }
    default:
        c[0] = c[1] = c[2] = 0;
        break;
    }
    rgb[0] = c[0], rgb[1] = c[1], rgb[2] = c[2];
}

static inline void evo_pixsrc_rgb(const evo_pixsrc *s, int x, int y, int rgb[3])
{
    evo_pixsrc_rgb_fmt(s, s->format, x, y, rgb);
}

#endif /* EVO_VISION_PIXEL_H */
