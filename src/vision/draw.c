/*
 * draw.c - boxes and labels drawn in place on a frame of any layout evo
 * reads (RGB/BGR, 4-byte RGB/BGR with a padding byte, gray, NV12, I420),
 * so an annotated stream needs no conversion copy: evo_image is the RGB24
 * case. Colours are given in RGB and converted once per fill; on 4:2:0
 * frames a fill also colours every chroma sample it touches.
 *
 * Everything is clipped to the frame, so detections partly outside (or
 * garbage coordinates) never write out of bounds.
 */
#include "vision/vision.h"

#include <math.h>
#include <stdio.h>

void evo_class_color(int class_id, uint8_t rgb[3])
{
    // Hues spaced by the golden angle keep neighbouring ids apart.
    double h = fmod((class_id < 0 ? -class_id : class_id) * 0.618033988749895, 1.0) * 6.0;
    int sector = (int)h;
    double f = h - sector, v = 230, lo = 50;
    double up = lo + (v - lo) * f, down = v - (v - lo) * f;
    double r, g, b;
    switch (sector) {
    case 0: r = v, g = up, b = lo; break;
    case 1: r = down, g = v, b = lo; break;
    case 2: r = lo, g = v, b = up; break;
    case 3: r = lo, g = down, b = v; break;
    case 4: r = up, g = lo, b = v; break;
    default: r = v, g = lo, b = down; break;
    }
    rgb[0] = (uint8_t)r, rgb[1] = (uint8_t)g, rgb[2] = (uint8_t)b;
}

void evo_rgb_to_yuv(const uint8_t rgb[3], uint8_t yuv[3])
{
    // BT.601 limited range in 8.8 fixed point, rounded: the inverse of evo_yuv_to_rgb.
    int r = rgb[0], g = rgb[1], b = rgb[2];
    yuv[0] = (uint8_t)(16 + ((66 * r + 129 * g + 25 * b + 128) >> 8));
    yuv[1] = (uint8_t)(128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8));
    yuv[2] = (uint8_t)(128 + ((112 * r - 94 * g - 18 * b + 128) >> 8));
}

evo_canvas evo_canvas_from_image(evo_image *img)
{
    evo_canvas c = {EVO_PIXEL_RGB24, img->width, img->height, img->data, 3 * (size_t)img->width,
                    NULL, 0, NULL};
    return c;
}

/* Fills rows y0..y1-1, bytes [x0 * step, x1 * step) of one plane with the pattern px[step]. */
static void fill_plane(uint8_t *plane, size_t stride, int step, int x0, int y0, int x1, int y1,
                       const uint8_t *px, int n_px)
{
    for (int y = y0; y < y1; y++) {
        uint8_t *p = plane + (size_t)y * stride + (size_t)x0 * (size_t)step;
        for (int x = x0; x < x1; x++, p += step)
            for (int k = 0; k < n_px; k++)
                p[k] = px[k];
    }
}

void evo_canvas_fill(const evo_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    x0 = EVO_MAX(x0, 0), y0 = EVO_MAX(y0, 0);
    x1 = EVO_MIN(x1, c->width), y1 = EVO_MIN(y1, c->height);
    if (x0 >= x1 || y0 >= y1)
        return;
    uint8_t bgr[3] = {rgb[2], rgb[1], rgb[0]}, yuv[3];
    evo_rgb_to_yuv(rgb, yuv);
    // chroma samples touched by the luma rect (4:2:0)
    int cx0 = x0 / 2, cy0 = y0 / 2, cx1 = (x1 + 1) / 2, cy1 = (y1 + 1) / 2;
    switch (c->format) {
    case EVO_PIXEL_RGB24: fill_plane(c->data, c->stride_bytes, 3, x0, y0, x1, y1, rgb, 3); break;
    case EVO_PIXEL_BGR24: fill_plane(c->data, c->stride_bytes, 3, x0, y0, x1, y1, bgr, 3); break;
    case EVO_PIXEL_RGBA32: fill_plane(c->data, c->stride_bytes, 4, x0, y0, x1, y1, rgb, 3); break;
    case EVO_PIXEL_BGRA32: fill_plane(c->data, c->stride_bytes, 4, x0, y0, x1, y1, bgr, 3); break;
    case EVO_PIXEL_GRAY8: fill_plane(c->data, c->stride_bytes, 1, x0, y0, x1, y1, yuv, 1); break;
    case EVO_PIXEL_NV12:
        fill_plane(c->data, c->stride_bytes, 1, x0, y0, x1, y1, yuv, 1);
        fill_plane(c->uv_data, c->uv_stride_bytes, 2, cx0, cy0, cx1, cy1, yuv + 1, 2);
        break;
    case EVO_PIXEL_I420:
        fill_plane(c->data, c->stride_bytes, 1, x0, y0, x1, y1, yuv, 1);
        fill_plane(c->uv_data, c->uv_stride_bytes, 1, cx0, cy0, cx1, cy1, yuv + 1, 1);
        fill_plane(c->v_data, c->uv_stride_bytes, 1, cx0, cy0, cx1, cy1, yuv + 2, 1);
        break;
    default: // YUYV and unknown formats are not drawn (evo_canvas_can_draw says so)
        break;
    }
}

bool evo_canvas_can_draw(evo_pixel_format format)
{
    return format == EVO_PIXEL_RGB24 || format == EVO_PIXEL_BGR24 || format == EVO_PIXEL_RGBA32 ||
           format == EVO_PIXEL_BGRA32 || format == EVO_PIXEL_GRAY8 || format == EVO_PIXEL_NV12 ||
           format == EVO_PIXEL_I420;
}

void evo_canvas_rect(const evo_canvas *c, int x0, int y0, int x1, int y1, int thickness,
                     const uint8_t rgb[3])
{
    if (thickness < 1)
        thickness = 1;
    evo_canvas_fill(c, x0, y0, x1 + 1, y0 + thickness, rgb);
    evo_canvas_fill(c, x0, y1 - thickness + 1, x1 + 1, y1 + 1, rgb);
    evo_canvas_fill(c, x0, y0, x0 + thickness, y1 + 1, rgb);
    evo_canvas_fill(c, x1 - thickness + 1, y0, x1 + 1, y1 + 1, rgb);
}

int evo_canvas_text(const evo_canvas *c, int x, int y, const char *text, int scale,
                    const uint8_t rgb[3])
{
    if (scale < 1)
        scale = 1;
    int pen = x;
    for (const char *ch = text; *ch; ch++, pen += (EVO_FONT_W + 1) * scale) {
        const uint8_t *g = evo_font_glyph((unsigned char)*ch);
        for (int row = 0; row < EVO_FONT_H; row++)
            for (int col = 0; col < EVO_FONT_W; col++)
                if (g[row] & (0x10 >> col))
                    evo_canvas_fill(c, pen + col * scale, y + row * scale,
                                    pen + (col + 1) * scale, y + (row + 1) * scale, rgb);
    }
    return pen - x;
}

/* Clamps a float coordinate into int range before drawing. */
static int to_px(float v, int limit)
{
    if (!(v > -1.0f))
        return -1;
    if (v > (float)limit)
        return limit;
    return (int)lrintf(v);
}

void evo_canvas_draw_detections(const evo_canvas *c, const evo_detection *dets, int n,
                                const evo_names *names)
{
    int longest = EVO_MAX(c->width, c->height);
    int thick = EVO_MAX(1, longest / 400), scale = EVO_MAX(1, longest / 500);
    static const uint8_t white[3] = {255, 255, 255};
    for (int i = n - 1; i >= 0; i--) { // best last, so it is drawn on top
        const evo_detection *d = &dets[i];
        uint8_t color[3];
        evo_class_color(d->class_id, color);
        int x0 = to_px(d->x0, c->width), y0 = to_px(d->y0, c->height);
        int x1 = to_px(d->x1, c->width), y1 = to_px(d->y1, c->height);
        evo_canvas_rect(c, x0, y0, x1, y1, thick, color);
        char label[96];
        const char *name = names ? evo_names_get(names, d->class_id) : NULL;
        if (name)
            snprintf(label, sizeof label, "%.80s %.2f", name, (double)d->score);
        else
            snprintf(label, sizeof label, "%d %.2f", d->class_id, (double)d->score);
        int tw = 0;
        for (const char *ch = label; *ch; ch++)
            tw += (EVO_FONT_W + 1) * scale;
        int th = (EVO_FONT_H + 2) * scale;
        int ty = y0 - th >= 0 ? y0 - th : y0; // above the box, or inside at the top edge
        evo_canvas_fill(c, x0, ty, x0 + tw + scale, ty + th, color);
        evo_canvas_text(c, x0 + scale, ty + scale, label, scale, white);
    }
}

void evo_draw_fill(evo_image *img, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    evo_canvas c = evo_canvas_from_image(img);
    evo_canvas_fill(&c, x0, y0, x1, y1, rgb);
}

void evo_draw_rect(evo_image *img, int x0, int y0, int x1, int y1, int thickness,
                   const uint8_t rgb[3])
{
    evo_canvas c = evo_canvas_from_image(img);
    evo_canvas_rect(&c, x0, y0, x1, y1, thickness, rgb);
}

int evo_draw_text(evo_image *img, int x, int y, const char *text, int scale, const uint8_t rgb[3])
{
    evo_canvas c = evo_canvas_from_image(img);
    return evo_canvas_text(&c, x, y, text, scale, rgb);
}

void evo_draw_detections(evo_image *img, const evo_detection *dets, int n, const evo_names *names)
{
    evo_canvas c = evo_canvas_from_image(img);
    evo_canvas_draw_detections(&c, dets, n, names);
}
