/*
 * draw.c - boxes and labels for the annotated output, on any canvas that
 * can fill a rectangle: an RGB24 image here, YUV video frames in
 * src/video/. The layout of boxes and labels is decided once, here.
 *
 * Everything is clipped to the canvas, so detections partly outside (or
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

static void image_fill(const evo_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    evo_image *img = c->user;
    for (int y = y0; y < y1; y++) {
        uint8_t *p = img->data + ((size_t)y * img->width + (size_t)x0) * 3;
        for (int x = x0; x < x1; x++, p += 3)
            p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
    }
}

static evo_canvas image_canvas(evo_image *img)
{
    evo_canvas c = {img->width, img->height, image_fill, img};
    return c;
}

void evo_canvas_fill(const evo_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    x0 = EVO_MAX(x0, 0), y0 = EVO_MAX(y0, 0);
    x1 = EVO_MIN(x1, c->width), y1 = EVO_MIN(y1, c->height);
    if (x0 < x1 && y0 < y1)
        c->fill(c, x0, y0, x1, y1, rgb);
}

void evo_draw_fill(evo_image *img, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    evo_canvas c = image_canvas(img);
    evo_canvas_fill(&c, x0, y0, x1, y1, rgb);
}

static void canvas_rect(const evo_canvas *c, int x0, int y0, int x1, int y1, int thickness, const uint8_t rgb[3])
{
    if (thickness < 1)
        thickness = 1;
    evo_canvas_fill(c, x0, y0, x1 + 1, y0 + thickness, rgb);
    evo_canvas_fill(c, x0, y1 - thickness + 1, x1 + 1, y1 + 1, rgb);
    evo_canvas_fill(c, x0, y0, x0 + thickness, y1 + 1, rgb);
    evo_canvas_fill(c, x1 - thickness + 1, y0, x1 + 1, y1 + 1, rgb);
}

static int canvas_text(const evo_canvas *cv, int x, int y, const char *text, int scale, const uint8_t rgb[3])
{
    if (scale < 1)
        scale = 1;
    int pen = x;
    for (const char *c = text; *c; c++, pen += (EVO_FONT_W + 1) * scale) {
        const uint8_t *g = evo_font_glyph((unsigned char)*c);
        for (int row = 0; row < EVO_FONT_H; row++)
            for (int col = 0; col < EVO_FONT_W; col++)
                if (g[row] & (0x10 >> col))
                    evo_canvas_fill(cv, pen + col * scale, y + row * scale, pen + (col + 1) * scale,
                                    y + (row + 1) * scale, rgb);
    }
    return pen - x;
}

void evo_draw_rect(evo_image *img, int x0, int y0, int x1, int y1, int thickness,
                   const uint8_t rgb[3])
{
    evo_canvas c = image_canvas(img);
    canvas_rect(&c, x0, y0, x1, y1, thickness, rgb);
}

int evo_draw_text(evo_image *img, int x, int y, const char *text, int scale, const uint8_t rgb[3])
{
    evo_canvas c = image_canvas(img);
    return canvas_text(&c, x, y, text, scale, rgb);
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

void evo_canvas_draw_detections(const evo_canvas *cv, const evo_detection *dets, int n, const evo_names *names)
{
    int longest = EVO_MAX(cv->width, cv->height);
    int thick = EVO_MAX(1, longest / 400), scale = EVO_MAX(1, longest / 500);
    static const uint8_t white[3] = {255, 255, 255};
    for (int i = n - 1; i >= 0; i--) { // best last, so it is drawn on top
        const evo_detection *d = &dets[i];
        uint8_t color[3];
        evo_class_color(d->class_id, color);
        int x0 = to_px(d->x0, cv->width), y0 = to_px(d->y0, cv->height);
        int x1 = to_px(d->x1, cv->width), y1 = to_px(d->y1, cv->height);
        canvas_rect(cv, x0, y0, x1, y1, thick, color);
        char label[96];
        const char *name = names ? evo_names_get(names, d->class_id) : NULL;
        if (name)
            snprintf(label, sizeof label, "%.80s %.2f", name, (double)d->score);
        else
            snprintf(label, sizeof label, "%d %.2f", d->class_id, (double)d->score);
        int tw = 0;
        for (const char *c = label; *c; c++)
            tw += (EVO_FONT_W + 1) * scale;
        int th = (EVO_FONT_H + 2) * scale;
        int ty = y0 - th >= 0 ? y0 - th : y0; // above the box, or inside at the top edge
        evo_canvas_fill(cv, x0, ty, x0 + tw + scale, ty + th, color);
        canvas_text(cv, x0 + scale, ty + scale, label, scale, white);
    }
}

void evo_draw_detections(evo_image *img, const evo_detection *dets, int n, const evo_names *names)
{
    evo_canvas c = image_canvas(img);
    evo_canvas_draw_detections(&c, dets, n, names);
}
