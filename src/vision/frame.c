/*
 * frame.c - raw frames in caller memory: layout checks and per-pixel RGB.
 *
 * YUV follows BT.601 limited range with OpenCV's 20-bit fixed-point
 * coefficients, so a frame converted here matches cv::cvtColor with
 * COLOR_YUV2RGB_YUY2 / COLOR_YUV2RGB_NV12 exactly. Chroma is not
 * interpolated (nearest sample), as in OpenCV.
 */
#include "vision/pixel.h"
#include "vision/vision.h"

#include <stdlib.h>
#include <string.h>

const char *evo_pixel_format_name(evo_pixel_format f)
{
    switch (f) {
    case EVO_PIXEL_RGB24: return "rgb24";
    case EVO_PIXEL_BGR24: return "bgr24";
    case EVO_PIXEL_RGBA32: return "rgba32";
    case EVO_PIXEL_BGRA32: return "bgra32";
    case EVO_PIXEL_GRAY8: return "gray8";
    case EVO_PIXEL_YUYV: return "yuyv";
    case EVO_PIXEL_NV12: return "nv12";
    case EVO_PIXEL_I420: return "i420";
    default: return "unknown";
    }
}

/* Bytes per pixel of the first plane's rows, per pixel pair for YUYV (x2). */
static size_t row_bytes(evo_pixel_format format, int width)
{
    size_t w = (size_t)width;
    switch (format) {
    case EVO_PIXEL_RGB24:
    case EVO_PIXEL_BGR24: return 3 * w;
    case EVO_PIXEL_RGBA32:
    case EVO_PIXEL_BGRA32: return 4 * w;
    case EVO_PIXEL_GRAY8:
    case EVO_PIXEL_NV12:
    case EVO_PIXEL_I420: return w;
    case EVO_PIXEL_YUYV: return 2 * w;
    default: return 0;
    }
}

evo_frame evo_frame_make(evo_pixel_format format, int width, int height, const void *data)
{
    evo_frame f;
    memset(&f, 0, sizeof f);
    f.format = format;
    f.width = width;
    f.height = height;
    f.data = data;
    f.stride_bytes = width > 0 ? row_bytes(format, width) : 0;
    return f;
}

size_t evo_frame_size_bytes(evo_pixel_format format, int width, int height)
{
    if (width <= 0 || height <= 0 || width > EVO_IMAGE_MAX_SIDE || height > EVO_IMAGE_MAX_SIDE)
        return 0;
    size_t rows = row_bytes(format, width) * (size_t)height;
    if (format == EVO_PIXEL_NV12 || format == EVO_PIXEL_I420)
        rows += (size_t)width * (size_t)(height / 2);
    return rows;
}

evo_status evo_frame_check(const evo_frame *f, evo_error *err)
{
    if (!f || (unsigned)f->format >= EVO_PIXEL_FORMAT_COUNT)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "frame: unknown pixel format");
    const char *name = evo_pixel_format_name(f->format);
    if (f->width <= 0 || f->height <= 0 || f->width > EVO_IMAGE_MAX_SIDE ||
        f->height > EVO_IMAGE_MAX_SIDE)
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "frame (%s): size %dx%d, expected 1..%d on each side", name,
                          f->width, f->height, EVO_IMAGE_MAX_SIDE);
    if (!f->data)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "frame (%s): no pixel data", name);
    size_t need = row_bytes(f->format, f->width);
    if (f->stride_bytes < need)
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "frame (%s %dx%d): stride %zu bytes, expected at least %zu", name,
                          f->width, f->height, f->stride_bytes, need);
    bool yuv420 = f->format == EVO_PIXEL_NV12 || f->format == EVO_PIXEL_I420;
    if ((f->format == EVO_PIXEL_YUYV || yuv420) && (f->width & 1))
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "frame (%s): width %d, expected an even width", name, f->width);
    if (yuv420) {
        if (f->height & 1)
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "frame (%s): height %d, expected an even height", name, f->height);
        evo_pixsrc src = evo_pixsrc_make(f);
        size_t need_uv = f->format == EVO_PIXEL_NV12 ? (size_t)f->width : (size_t)f->width / 2;
        if (src.uv_stride < need_uv)
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "frame (%s): chroma stride %zu bytes, expected at least %zu", name,
                              src.uv_stride, need_uv);
    }
    return EVO_OK;
}

void evo_yuv_to_rgb(int y, int u, int v, uint8_t rgb[3])
{
    evo_yuv_to_rgb_inline(y, u, v, rgb);
}

void evo_frame_pixel_rgb(const evo_frame *f, int x, int y, uint8_t rgb[3])
{
    evo_pixsrc src = evo_pixsrc_make(f);
    int c[3];
    evo_pixsrc_rgb(&src, x, y, c);
    rgb[0] = (uint8_t)c[0], rgb[1] = (uint8_t)c[1], rgb[2] = (uint8_t)c[2];
}

evo_status evo_image_from_frame(const evo_frame *f, evo_image *out, evo_error *err)
{
    evo_status st = evo_frame_check(f, err);
    if (st != EVO_OK)
        return st;
    evo_image img;
    st = evo_image_alloc(f->width, f->height, &img, err);
    if (st != EVO_OK)
        return st;
    for (int y = 0; y < f->height; y++) {
        uint8_t *dst = img.data + (size_t)y * 3 * (size_t)f->width;
        for (int x = 0; x < f->width; x++)
            evo_frame_pixel_rgb(f, x, y, dst + 3 * (size_t)x);
    }
    *out = img;
    return EVO_OK;
}

evo_frame evo_image_frame(const evo_image *img)
{
    return evo_frame_make(EVO_PIXEL_RGB24, img->width, img->height, img->data);
}
