/*
 * test_vision_canvas.c - drawing in place on every frame layout: the RGB24
 * drawing is the reference; packed formats must hold the same colours in
 * their channel order (padding bytes untouched), gray/NV12/I420 the
 * converted Y of every drawn pixel, and each chroma sample either its old
 * value (no drawn pixel in its 2x2 block) or the U,V of a drawn pixel there.
 */
#include "check.h"
#include "vision/vision.h"

#include <stdlib.h>

static void test_rgb_to_yuv(void)
{
    check_rng rng = {0x5eed};
    for (int i = 0; i < 2000; i++) {
        uint8_t rgb[3] = {(uint8_t)check_rng_int(&rng, 0, 255), (uint8_t)check_rng_int(&rng, 0, 255),
                          (uint8_t)check_rng_int(&rng, 0, 255)};
        uint8_t yuv[3], back[3];
        evo_rgb_to_yuv(rgb, yuv);
        CHECK(yuv[0] >= 16 && yuv[0] <= 235 && yuv[1] >= 16 && yuv[1] <= 240 && yuv[2] >= 16 &&
              yuv[2] <= 240);
        evo_yuv_to_rgb(yuv[0], yuv[1], yuv[2], back);
        for (int k = 0; k < 3; k++)
            CHECK_MSG(abs(back[k] - rgb[k]) <= 3, "rgb %d,%d,%d -> yuv %d,%d,%d -> %d,%d,%d", rgb[0],
                      rgb[1], rgb[2], yuv[0], yuv[1], yuv[2], back[0], back[1], back[2]);
    }
    const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    uint8_t y[3];
    evo_rgb_to_yuv(white, y);
    CHECK(y[0] == 235 && y[1] == 128 && y[2] == 128);
    evo_rgb_to_yuv(black, y);
    CHECK(y[0] == 16 && y[1] == 128 && y[2] == 128);
}

/* Random detections, some partly or wholly outside the frame. */
static int random_dets(check_rng *rng, int w, int h, evo_detection *d, int cap)
{
    int n = check_rng_int(rng, 0, cap);
    for (int i = 0; i < n; i++) {
        float x0 = check_rng_float(rng, -20.0f, (float)w), y0 = check_rng_float(rng, -20.0f, (float)h);
        d[i].x0 = x0, d[i].y0 = y0;
        d[i].x1 = x0 + check_rng_float(rng, 0.0f, (float)w);
        d[i].y1 = y0 + check_rng_float(rng, 0.0f, (float)h);
        d[i].score = check_rng_float(rng, 0.0f, 1.0f);
        d[i].class_id = check_rng_int(rng, -3, 90);
    }
    return n;
}

/* Packed RGB-order formats against the RGB24 reference. */
static void check_packed(const evo_image *ref, const evo_detection *d, int n, const evo_names *names,
                         evo_pixel_format fmt, int bpp, int r_at, int b_at)
{
    int w = ref->width, h = ref->height;
    size_t stride = (size_t)w * (size_t)bpp + 5; // odd padding after each row
    uint8_t *buf = malloc(stride * (size_t)h);
    CHECK(buf != NULL);
    if (!buf)
        return;
    memset(buf, 7, stride * (size_t)h);
    evo_canvas c = {fmt, w, h, buf, stride, NULL, 0, NULL};
    evo_canvas_draw_detections(&c, d, n, names);
    int bad = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = buf + (size_t)y * stride + (size_t)x * (size_t)bpp;
            const uint8_t *q = ref->data + ((size_t)y * (size_t)w + (size_t)x) * 3;
            bool drawn = q[0] | q[1] | q[2];
            if (drawn)
                bad += p[r_at] != q[0] || p[1] != q[1] || p[b_at] != q[2];
            else
                bad += p[0] != 7 || p[1] != 7 || p[2] != 7;
            if (bpp == 4)
                bad += p[3] != 7;
        }
    for (int y = 0; y < h; y++)
        for (size_t k = (size_t)w * (size_t)bpp; k < stride; k++)
            bad += buf[(size_t)y * stride + k] != 7;
    CHECK_MSG(bad == 0, "%s %dx%d: %d bad pixels", evo_pixel_format_name(fmt), w, h, bad);
    free(buf);
}

/* Gray, NV12 and I420 against the RGB24 reference. */
static void check_yuv(const evo_image *ref, const evo_detection *d, int n, const evo_names *names,
                      evo_pixel_format fmt)
{
    int w = ref->width, h = ref->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    size_t ys = (size_t)w + 3, cs = (size_t)(fmt == EVO_PIXEL_NV12 ? 2 * cw : cw) + 1;
    uint8_t *y_plane = malloc(ys * (size_t)h), *u = malloc(cs * (size_t)ch), *v = malloc(cs * (size_t)ch);
    CHECK(y_plane && u && v);
    if (!y_plane || !u || !v)
        goto done;
    memset(y_plane, 1, ys * (size_t)h);
    memset(u, 2, cs * (size_t)ch);
    memset(v, 3, cs * (size_t)ch);
    evo_canvas c = {fmt, w, h, y_plane, ys, u, cs, v};
    evo_canvas_draw_detections(&c, d, n, names);
    int bad = 0;
    for (int yy = 0; yy < h; yy++)
        for (int x = 0; x < w; x++) {
            const uint8_t *q = ref->data + ((size_t)yy * (size_t)w + (size_t)x) * 3;
            uint8_t yuv[3];
            evo_rgb_to_yuv(q, yuv);
            bool drawn = q[0] | q[1] | q[2];
            bad += y_plane[(size_t)yy * ys + (size_t)x] != (drawn ? yuv[0] : 1);
        }
    if (fmt == EVO_PIXEL_GRAY8) {
        bad += u[0] != 2 || v[0] != 3; // chroma never touched
    } else {
        for (int cy = 0; cy < ch; cy++)
            for (int cx = 0; cx < cw; cx++) {
                uint8_t got_u = fmt == EVO_PIXEL_NV12 ? u[(size_t)cy * cs + 2 * (size_t)cx]
                                                      : u[(size_t)cy * cs + (size_t)cx];
                uint8_t got_v = fmt == EVO_PIXEL_NV12 ? u[(size_t)cy * cs + 2 * (size_t)cx + 1]
                                                      : v[(size_t)cy * cs + (size_t)cx];
                bool any = false, match = false;
                for (int yy = 2 * cy; yy < EVO_MIN(2 * cy + 2, h); yy++)
                    for (int x = 2 * cx; x < EVO_MIN(2 * cx + 2, w); x++) {
                        const uint8_t *q = ref->data + ((size_t)yy * (size_t)w + (size_t)x) * 3;
                        if (!(q[0] | q[1] | q[2]))
                            continue;
                        uint8_t yuv[3];
                        evo_rgb_to_yuv(q, yuv);
                        any = true;
                        match |= got_u == yuv[1] && got_v == yuv[2];
                    }
                bad += any ? !match : (got_u != 2 || got_v != (fmt == EVO_PIXEL_NV12 ? 2 : 3));
            }
        // NV12's row padding byte and I420's V plane padding stay
        for (int cy = 0; cy < ch; cy++)
            bad += u[(size_t)cy * cs + cs - 1] != 2;
    }
    CHECK_MSG(bad == 0, "%s %dx%d: %d bad samples", evo_pixel_format_name(fmt), w, h, bad);
done:
    free(y_plane);
    free(u);
    free(v);
}

static void test_formats(void)
{
    check_rng rng = {1234};
    evo_names coco = evo_names_coco();
    for (int iter = 0; iter < 40; iter++) {
        // odd sizes too; big enough sometimes for thickness and font scale > 1
        int w = check_rng_int(&rng, 1, iter % 8 == 0 ? 1100 : 97);
        int h = check_rng_int(&rng, 1, iter % 8 == 0 ? 900 : 83);
        evo_detection d[6];
        int n = random_dets(&rng, w, h, d, 6);
        evo_image ref;
        CHECK(evo_image_alloc(w, h, &ref, NULL) == EVO_OK);
        // black is never a class colour nor white, so non-zero means drawn
        memset(ref.data, 0, (size_t)w * (size_t)h * 3);
        evo_draw_detections(&ref, d, n, &coco);
        check_packed(&ref, d, n, &coco, EVO_PIXEL_BGR24, 3, 2, 0);
        check_packed(&ref, d, n, &coco, EVO_PIXEL_RGB24, 3, 0, 2);
        check_packed(&ref, d, n, &coco, EVO_PIXEL_RGBA32, 4, 0, 2);
        check_packed(&ref, d, n, &coco, EVO_PIXEL_BGRA32, 4, 2, 0);
        check_yuv(&ref, d, n, &coco, EVO_PIXEL_GRAY8);
        check_yuv(&ref, d, n, &coco, EVO_PIXEL_NV12);
        check_yuv(&ref, d, n, &coco, EVO_PIXEL_I420);
        evo_image_free(&ref);
    }
    CHECK(!evo_canvas_can_draw(EVO_PIXEL_YUYV) && evo_canvas_can_draw(EVO_PIXEL_I420));
}

CHECK_MAIN(CHECK_TEST(test_rgb_to_yuv), CHECK_TEST(test_formats))
