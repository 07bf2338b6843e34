/*
 * test_vision_preprocess.c - the fused letterbox preprocess against a plain
 * reference written here (resize to an image, pad, normalise, transpose),
 * plus hand-computed letterbox geometry and YUV -> RGB pixels.
 */
#include "check.h"
#include "vision/vision.h"

#include <stdlib.h>

/* Reference: half-pixel bilinear with edge replication, in double. */
static double ref_linear(const uint8_t *rgb, int w, int h, int ch, double sx_scale,
                         double sy_scale, int dx, int dy, bool round_u8)
{
    double fx = (dx + 0.5) * sx_scale - 0.5, fy = (dy + 0.5) * sy_scale - 0.5;
    int x0 = (int)floor(fx), y0 = (int)floor(fy);
    double ax = fx - x0, ay = fy - y0;
    if (x0 < 0)
        x0 = 0, ax = 0;
    if (x0 >= w - 1)
        x0 = w - 1, ax = 0;
    int x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    int ya = y0 < 0 ? 0 : y0 > h - 1 ? h - 1 : y0;
    int yb = y0 + 1 < 0 ? 0 : y0 + 1 > h - 1 ? h - 1 : y0 + 1;
#define P(x, y) ((double)rgb[((size_t)(y) * w + (x)) * 3 + ch])
    double top = P(x0, ya) * (1 - ax) + P(x1, ya) * ax;
    double bot = P(x0, yb) * (1 - ax) + P(x1, yb) * ax;
#undef P
    double v = top * (1 - ay) + bot * ay;
    return round_u8 ? floor(v + 0.5) : v;
}

static uint8_t *random_rgb(check_rng *r, int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        p[i] = (uint8_t)check_rng_int(r, 0, 255);
    return p;
}

/* Runs the preprocess and the reference; returns the max abs difference in 8-bit levels. */
static double compare_case(int sw, int sh, int dw, int dh, const evo_preprocess_options *o,
                           uint64_t seed)
{
    check_rng r = {seed};
    uint8_t *rgb = random_rgb(&r, sw, sh);
    evo_frame f = evo_frame_make(EVO_PIXEL_RGB24, sw, sh, rgb);
    float *out = malloc(sizeof(float) * 3 * dw * dh);
    evo_transform t;
    evo_error err;
    CHECK(evo_preprocess(&f, dw, dh, o, out, &t, &err) == EVO_OK);
    double worst = 0;
    double sx = (double)sw / t.content_w, sy = (double)sh / t.content_h;
    for (int c = 0; c < 3; c++) {
        int src_c = o->bgr ? 2 - c : c;
        for (int y = 0; y < dh; y++) {
            for (int x = 0; x < dw; x++) {
                int cx = x - t.content_x, cy = y - t.content_y;
                double pix = (double)o->pad_value;
                if (cx >= 0 && cy >= 0 && cx < t.content_w && cy < t.content_h)
                    pix = ref_linear(rgb, sw, sh, src_c, sx, sy, cx, cy, o->round_u8);
                double want = (pix * o->scale - o->mean[c]) / o->std[c];
                double got = out[((size_t)c * dh + y) * dw + x];
                // back to 8-bit levels so every normalisation has one tolerance
                double diff = fabs(got - want) * o->std[c] / o->scale;
                if (diff > worst)
                    worst = diff;
            }
        }
    }
    free(out);
    free(rgb);
    return worst;
}

static void test_letterbox_geometry(void)
{
    evo_preprocess_options o = evo_preprocess_options_default();
    evo_transform t;
    // 1280x720 -> 640: r = 0.5, 640x360, 140 rows of padding each side
    CHECK(evo_preprocess_plan(1280, 720, 640, 640, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 640 && t.content_h == 360 && t.content_x == 0 && t.content_y == 140);
    CHECK_NEAR(t.scale_x, 0.5, 1e-12);
    CHECK_NEAR(t.pad_y, 140, 0);
    // 1000x667 -> 640: r = 0.64, h = round(426.88) = 427, dh = 106.5 -> top 106, bottom 107
    CHECK(evo_preprocess_plan(1000, 667, 640, 640, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 640 && t.content_h == 427 && t.content_y == 106 && t.content_x == 0);
    // 5x3 -> 10x10 with r = 2: 10x6, top 2; without scale_up: 5x3, left round(2.4) = 2, top round(3.4) = 3
    CHECK(evo_preprocess_plan(5, 3, 10, 10, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 10 && t.content_h == 6 && t.content_y == 2);
    o.scale_up = false;
    CHECK(evo_preprocess_plan(5, 3, 10, 10, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 5 && t.content_h == 3 && t.content_x == 2 && t.content_y == 3);
    // Python rounds half to even: 5 * 0.5 = 2.5 -> 2 (640x? with r = 0.5 from the height)
    o.scale_up = true;
    CHECK(evo_preprocess_plan(5, 8, 8, 4, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 2 && t.content_h == 4 && t.content_x == 3);
    // YOLOX top-left: int(w * r), no offset
    o.mode = EVO_FIT_LETTERBOX_TOPLEFT;
    CHECK(evo_preprocess_plan(1000, 667, 640, 640, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 640 && t.content_h == 426 && t.content_x == 0 && t.content_y == 0);
    // NanoDet/PicoDet centre: 640x427 -> 416: 416 x int(277.55) = 277, top (416 - 277) / 2 = 69
    o.mode = EVO_FIT_CENTER;
    CHECK(evo_preprocess_plan(640, 427, 416, 416, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 416 && t.content_h == 277 && t.content_x == 0 && t.content_y == 69);
    CHECK_NEAR(t.scale_y, 277.0 / 427.0, 1e-15);
    CHECK_NEAR(t.pad_y, 69, 0);
    // portrait 480x640: 312 x 416, left 52; 500x333 -> 416: 416 * 333 / 500 = 277.056 -> 277
    CHECK(evo_preprocess_plan(480, 640, 416, 416, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 312 && t.content_h == 416 && t.content_x == 52 && t.content_y == 0);
    CHECK(evo_preprocess_plan(500, 333, 416, 416, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 416 && t.content_h == 277 && t.content_y == 69);
    // without scale_up a small image stays as it is, centred (odd pixel right/bottom)
    o.scale_up = false;
    CHECK(evo_preprocess_plan(101, 50, 416, 416, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 101 && t.content_h == 50 && t.content_x == 157 && t.content_y == 183);
    o.scale_up = true;
    o.mode = EVO_FIT_STRETCH;
    CHECK(evo_preprocess_plan(1000, 667, 640, 320, &o, &t, NULL) == EVO_OK);
    CHECK(t.content_w == 640 && t.content_h == 320);
    CHECK_NEAR(t.scale_y, 320.0 / 667.0, 1e-12);
    o.std[1] = 0;
    CHECK(evo_preprocess_plan(10, 10, 8, 8, &o, &t, NULL) == EVO_ERR_INVALID_ARG);
}

static void test_modes_vs_reference(void)
{
    static const int sizes[][4] = {
        {17, 13, 32, 32}, {1, 1, 8, 8},   {33, 7, 16, 16}, {64, 48, 20, 20},
        {101, 77, 64, 48}, {7, 31, 15, 9}, {40, 20, 40, 20}, {32, 32, 16, 16},
    };
    for (int m = 0; m <= (int)EVO_FIT_CENTER; m++) {
        for (size_t i = 0; i < EVO_ARRAY_LEN(sizes); i++) {
            for (int variant = 0; variant < 2; variant++) {
                evo_preprocess_options o = evo_preprocess_options_default();
                o.mode = (evo_fit_mode)m;
                if (variant) {
                    o.bgr = true;
                    o.scale = 1.0f;
                    o.pad_value = 0;
                    o.mean[0] = 123.675f, o.mean[1] = 116.28f, o.mean[2] = 103.53f;
                    o.std[0] = 58.395f, o.std[1] = 57.12f, o.std[2] = 57.375f;
                }
                const int *s = sizes[i];
                o.round_u8 = false;
                double d = compare_case(s[0], s[1], s[2], s[3], &o, 1000 + i);
                CHECK_MSG(d < 5e-3, "float mode %d %dx%d->%dx%d variant %d: %g levels", m, s[0],
                          s[1], s[2], s[3], variant, d);
                o.round_u8 = true;
                d = compare_case(s[0], s[1], s[2], s[3], &o, 2000 + i);
                // fixed-point weights may land one level off an exact rounding
                CHECK_MSG(d <= 1.0 + 1e-3, "u8 mode %d %dx%d->%dx%d variant %d: %g levels", m,
                          s[0], s[1], s[2], s[3], variant, d);
            }
        }
    }
}

static void test_tasks_match_single(void)
{
    check_rng r = {77};
    int sw = 53, sh = 41, dw = 37, dh = 29;
    uint8_t *rgb = random_rgb(&r, sw, sh);
    evo_frame f = evo_frame_make(EVO_PIXEL_RGB24, sw, sh, rgb);
    evo_preprocess_options o = evo_preprocess_options_default();
    evo_transform t;
    CHECK(evo_preprocess_plan(sw, sh, dw, dh, &o, &t, NULL) == EVO_OK);
    size_t n = (size_t)3 * dw * dh;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] = -1000.0f;
    evo_preprocess_run(&f, &t, &o, a, 0, 1);
    for (int task = 0; task < 4; task++)
        evo_preprocess_run(&f, &t, &o, b, task, 4);
    CHECK(memcmp(a, b, n * sizeof(float)) == 0);
    for (size_t i = 0; i < n; i++)
        CHECK(a[i] > -1.0f);
    free(a);
    free(b);
    free(rgb);
}

static void test_yuv_pixels(void)
{
    uint8_t rgb[3];
    evo_yuv_to_rgb(16, 128, 128, rgb);
    CHECK(rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0);
    evo_yuv_to_rgb(235, 128, 128, rgb);
    CHECK(rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255);
    // BT.601 red (81, 90, 240): R = 1.164*65 + 1.596*112 = 254.4 -> 254, G, B clip to 0
    evo_yuv_to_rgb(81, 90, 240, rgb);
    CHECK(rgb[0] == 254 && rgb[1] == 0 && rgb[2] == 0);
    // (100, 150, 60): R = 97.78 - 108.53 -> 0; G = 97.78 + 55.28 - 8.60 = 144.46 -> 144;
    // B = 97.78 + 44.40 = 142.18 -> 142
    evo_yuv_to_rgb(100, 150, 60, rgb);
    CHECK(rgb[0] == 0 && rgb[1] == 144 && rgb[2] == 142);
    // Y below 16 clamps to black level
    evo_yuv_to_rgb(0, 128, 128, rgb);
    CHECK(rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0);
    // everything against the float formula, rounded
    check_rng r = {5};
    for (int i = 0; i < 2000; i++) {
        int y = check_rng_int(&r, 0, 255), u = check_rng_int(&r, 0, 255),
            v = check_rng_int(&r, 0, 255);
        evo_yuv_to_rgb(y, u, v, rgb);
        double yy = 1.164 * (y > 16 ? y - 16 : 0);
        double want[3] = {yy + 1.596 * (v - 128), yy - 0.813 * (v - 128) - 0.391 * (u - 128),
                          yy + 2.018 * (u - 128)};
        for (int c = 0; c < 3; c++) {
            double w = want[c] < 0 ? 0 : want[c] > 255 ? 255 : floor(want[c] + 0.5);
            CHECK_MSG(fabs(rgb[c] - w) <= 1, "yuv %d %d %d ch %d: %d vs %g", y, u, v, c, rgb[c], w);
        }
    }
}

static void test_frame_layouts(void)
{
    // 4x2 frames with hand-placed samples; every layout must give the same RGB
    uint8_t yuyv[2 * 8 + 8]; // stride 10: 2 bytes of row padding
    uint8_t nv12[4 * 2 + 4];
    const uint8_t ys[8] = {16, 235, 81, 100, 50, 60, 70, 80};
    const uint8_t us[4] = {128, 90, 150, 128}, vs[4] = {128, 240, 60, 200};
    // YUYV: pair p of row y has (U, V) = index y * 2 + p
    for (int y = 0; y < 2; y++)
        for (int p = 0; p < 2; p++) {
            uint8_t *q = yuyv + y * 10 + p * 4;
            q[0] = ys[y * 4 + p * 2], q[1] = us[y * 2 + p], q[2] = ys[y * 4 + p * 2 + 1],
            q[3] = vs[y * 2 + p];
        }
    evo_frame f = evo_frame_make(EVO_PIXEL_YUYV, 4, 2, yuyv);
    f.stride_bytes = 10;
    CHECK(evo_frame_check(&f, NULL) == EVO_OK);
    uint8_t got[3], want[3];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++) {
            evo_frame_pixel_rgb(&f, x, y, got);
            evo_yuv_to_rgb(ys[y * 4 + x], us[y * 2 + x / 2], vs[y * 2 + x / 2], want);
            CHECK(memcmp(got, want, 3) == 0);
        }
    // NV12: one UV row for both Y rows
    memcpy(nv12, ys, 8);
    for (int p = 0; p < 2; p++)
        nv12[8 + 2 * p] = us[p + 1], nv12[8 + 2 * p + 1] = vs[p + 1];
    f = evo_frame_make(EVO_PIXEL_NV12, 4, 2, nv12);
    CHECK(evo_frame_check(&f, NULL) == EVO_OK);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++) {
            evo_frame_pixel_rgb(&f, x, y, got);
            evo_yuv_to_rgb(ys[y * 4 + x], us[x / 2 + 1], vs[x / 2 + 1], want);
            CHECK(memcmp(got, want, 3) == 0);
        }
    // I420: the same samples in separate U and V planes, with padded strides
    uint8_t i420[2 * 6 + 2 * 3];
    memset(i420, 0xee, sizeof i420);
    for (int y = 0; y < 2; y++)
        memcpy(i420 + y * 6, ys + y * 4, 4);
    i420[12] = us[1], i420[13] = us[2], i420[15] = vs[1], i420[16] = vs[2];
    f = evo_frame_make(EVO_PIXEL_I420, 4, 2, i420);
    f.stride_bytes = 6;
    f.uv_stride_bytes = 3;
    CHECK(evo_frame_check(&f, NULL) == EVO_OK);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++) {
            evo_frame_pixel_rgb(&f, x, y, got);
            evo_yuv_to_rgb(ys[y * 4 + x], us[x / 2 + 1], vs[x / 2 + 1], want);
            CHECK(memcmp(got, want, 3) == 0);
        }
    // explicit plane pointers, V before U in memory
    uint8_t planes[8 + 2 + 2];
    memcpy(planes, ys, 8);
    planes[8] = vs[1], planes[9] = vs[2], planes[10] = us[1], planes[11] = us[2];
    f = evo_frame_make(EVO_PIXEL_I420, 4, 2, planes);
    f.uv_data = planes + 10;
    f.v_data = planes + 8;
    CHECK(evo_frame_check(&f, NULL) == EVO_OK);
    evo_frame_pixel_rgb(&f, 3, 1, got);
    evo_yuv_to_rgb(ys[7], us[2], vs[2], want);
    CHECK(memcmp(got, want, 3) == 0);
    // Packed formats
    const uint8_t px[4] = {10, 20, 30, 40};
    f = evo_frame_make(EVO_PIXEL_BGR24, 1, 1, px);
    evo_frame_pixel_rgb(&f, 0, 0, got);
    CHECK(got[0] == 30 && got[1] == 20 && got[2] == 10);
    f = evo_frame_make(EVO_PIXEL_RGBA32, 1, 1, px);
    evo_frame_pixel_rgb(&f, 0, 0, got);
    CHECK(got[0] == 10 && got[1] == 20 && got[2] == 30);
    f = evo_frame_make(EVO_PIXEL_BGRA32, 1, 1, px);
    evo_frame_pixel_rgb(&f, 0, 0, got);
    CHECK(got[0] == 30 && got[1] == 20 && got[2] == 10);
    f = evo_frame_make(EVO_PIXEL_GRAY8, 1, 1, px);
    evo_frame_pixel_rgb(&f, 0, 0, got);
    CHECK(got[0] == 10 && got[1] == 10 && got[2] == 10);
    // invalid frames
    evo_error err;
    f = evo_frame_make(EVO_PIXEL_NV12, 3, 2, nv12);
    CHECK(evo_frame_check(&f, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, "even"));
    f = evo_frame_make(EVO_PIXEL_I420, 4, 3, i420);
    CHECK(evo_frame_check(&f, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, "even"));
    f = evo_frame_make(EVO_PIXEL_I420, 4, 2, i420);
    f.uv_stride_bytes = 1;
    CHECK(evo_frame_check(&f, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, "chroma stride"));
    f = evo_frame_make(EVO_PIXEL_RGB24, 4, 2, nv12);
    f.stride_bytes = 11;
    CHECK(evo_frame_check(&f, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, "stride"));
    f = evo_frame_make(EVO_PIXEL_RGB24, 0, 2, nv12);
    CHECK(evo_frame_check(&f, &err) == EVO_ERR_INVALID_ARG);
    f = evo_frame_make(EVO_PIXEL_RGB24, 2, 2, NULL);
    CHECK(evo_frame_check(&f, &err) == EVO_ERR_INVALID_ARG);
}

/* A YUV frame through the fused pass equals converting it first, then preprocessing RGB. */
static void test_yuv_fused_equals_two_step(void)
{
    check_rng r = {99};
    int w = 22, h = 14;
    size_t size = evo_frame_size_bytes(EVO_PIXEL_NV12, w, h);
    CHECK(size == (size_t)w * h * 3 / 2);
    CHECK(evo_frame_size_bytes(EVO_PIXEL_I420, w, h) == size);
    const evo_pixel_format fmts[3] = {EVO_PIXEL_YUYV, EVO_PIXEL_NV12, EVO_PIXEL_I420};
    for (int fmt = 0; fmt < 3; fmt++) {
        evo_pixel_format pf = fmts[fmt];
        size_t n = evo_frame_size_bytes(pf, w, h);
        uint8_t *raw = malloc(n);
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)check_rng_int(&r, 0, 255);
        evo_frame f = evo_frame_make(pf, w, h, raw);
        evo_image img;
        CHECK(evo_image_from_frame(&f, &img, NULL) == EVO_OK);
        evo_frame g = evo_image_frame(&img);
        evo_preprocess_options o = evo_preprocess_options_default();
        float *a = malloc(sizeof(float) * 3 * 16 * 16), *b = malloc(sizeof(float) * 3 * 16 * 16);
        CHECK(evo_preprocess(&f, 16, 16, &o, a, NULL, NULL) == EVO_OK);
        CHECK(evo_preprocess(&g, 16, 16, &o, b, NULL, NULL) == EVO_OK);
        CHECK(memcmp(a, b, sizeof(float) * 3 * 16 * 16) == 0);
        free(a);
        free(b);
        evo_image_free(&img);
        free(raw);
    }
}

/* Area downscale of a constant-block image: each output pixel is its block's mean. */
static void test_area_downscale(void)
{
    int sw = 12, sh = 9, dw = 4, dh = 3; // exact 3x3 blocks
    uint8_t *rgb = malloc((size_t)sw * sh * 3);
    for (int y = 0; y < sh; y++)
        for (int x = 0; x < sw; x++)
            for (int c = 0; c < 3; c++)
                rgb[(y * sw + x) * 3 + c] = (uint8_t)((x * 7 + y * 13 + c * 50) % 256);
    evo_frame f = evo_frame_make(EVO_PIXEL_RGB24, sw, sh, rgb);
    evo_preprocess_options o = evo_preprocess_options_default();
    o.mode = EVO_FIT_STRETCH;
    o.interp = EVO_INTERP_AREA;
    o.round_u8 = false;
    o.scale = 1.0f;
    float out[3 * 4 * 3];
    CHECK(evo_preprocess(&f, dw, dh, &o, out, NULL, NULL) == EVO_OK);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                double sum = 0;
                for (int j = 0; j < 3; j++)
                    for (int i = 0; i < 3; i++)
                        sum += rgb[((y * 3 + j) * sw + x * 3 + i) * 3 + c];
                CHECK_NEAR(out[(c * dh + y) * dw + x], sum / 9, 1e-3);
            }
    // fractional coverage: 3 -> 2 columns, output 0 = (p0 + 0.5 p1) / 1.5
    uint8_t row[9] = {30, 30, 30, 60, 60, 60, 90, 90, 90};
    f = evo_frame_make(EVO_PIXEL_RGB24, 3, 1, row);
    float out2[3 * 2];
    CHECK(evo_preprocess(&f, 2, 1, &o, out2, NULL, NULL) == EVO_OK);
    CHECK_NEAR(out2[0], (30 + 0.5 * 60) / 1.5, 1e-4);
    CHECK_NEAR(out2[1], (0.5 * 60 + 90) / 1.5, 1e-4);
    free(rgb);
}

/*
 * OpenCV INTER_AREA with 8-bit rounding. 5 -> 3 columns (scale 5/3): column
 * 0 takes 0.6 p0 + 0.4 p1, column 1 0.2 p1 + 0.6 p2 + 0.2 p3, column 2
 * 0.4 p3 + 0.6 p4. Integer factors: 2x2 rounds (sum + 2) >> 2, so 2.5 -> 3
 * (not half to even); other factors round sum * (1 / n).
 */
static void test_area_opencv(void)
{
    evo_preprocess_options o = evo_preprocess_options_default();
    o.mode = EVO_FIT_STRETCH;
    o.interp = EVO_INTERP_AREA;
    o.scale = 1.0f;
    uint8_t row[15];
    static const uint8_t v[5] = {10, 21, 30, 40, 51};
    for (int i = 0; i < 15; i++)
        row[i] = v[i / 3];
    evo_frame f = evo_frame_make(EVO_PIXEL_RGB24, 5, 1, row);
    float out[9];
    CHECK(evo_preprocess(&f, 3, 1, &o, out, NULL, NULL) == EVO_OK);
    CHECK(out[0] == 14.0f && out[1] == 30.0f && out[2] == 47.0f); // 14.4, 30.2, 46.6
    uint8_t quad[12] = {2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3}; // 2x2 of 2, 3 / 2, 3: sum 10
    f = evo_frame_make(EVO_PIXEL_RGB24, 2, 2, quad);
    CHECK(evo_preprocess(&f, 1, 1, &o, out, NULL, NULL) == EVO_OK);
    CHECK(out[0] == 3.0f);
    uint8_t nine[27];
    for (int i = 0; i < 27; i++)
        nine[i] = (uint8_t)(i / 3 < 4 ? 2 : 3); // 4 x 2 + 5 x 3 = 23: 23 / 9 = 2.56 -> 3
    f = evo_frame_make(EVO_PIXEL_RGB24, 3, 3, nine);
    CHECK(evo_preprocess(&f, 1, 1, &o, out, NULL, NULL) == EVO_OK);
    CHECK(out[0] == 3.0f);
}

/* One random frame of format pf, w x h, with padded row strides; returns its buffer. */
static uint8_t *random_frame(check_rng *r, evo_pixel_format pf, int w, int h, evo_frame *f)
{
    *f = evo_frame_make(pf, w, h, NULL);
    size_t stride = f->stride_bytes + (size_t)check_rng_int(r, 0, 9);
    size_t rows = stride * (size_t)h, chroma = 0, cstride = 0;
    if (pf == EVO_PIXEL_NV12)
        cstride = stride, chroma = cstride * (size_t)(h / 2);
    if (pf == EVO_PIXEL_I420)
        cstride = (size_t)w / 2 + (size_t)check_rng_int(r, 0, 5), chroma = 2 * cstride * (size_t)(h / 2);
    uint8_t *buf = malloc(rows + chroma);
    for (size_t i = 0; i < rows + chroma; i++)
        buf[i] = (uint8_t)check_rng_int(r, 0, 255);
    f->data = buf;
    f->stride_bytes = stride;
    if (cstride) {
        f->uv_data = buf + rows;
        f->uv_stride_bytes = cstride;
        if (pf == EVO_PIXEL_I420)
            f->v_data = buf + rows + cstride * (size_t)(h / 2);
    }
    return buf;
}

/*
 * The row-cached area path equals the per-pixel reference bit for bit: every
 * pixel format, odd sizes (even for the YUV layouts, which need them), padded
 * strides, both roundings, every fit mode, split into 1-3 tasks, plus a
 * 1280x720 frame to 416 (the video case) and a shrink too wide for the row
 * buffer (the reference path).
 */
static void test_area_fast_equals_reference(void)
{
    check_rng r = {2026};
    static const evo_fit_mode modes[4] = {EVO_FIT_LETTERBOX, EVO_FIT_LETTERBOX_TOPLEFT,
                                          EVO_FIT_CENTER, EVO_FIT_STRETCH};
    for (int it = 0; it < 60; it++) {
        evo_pixel_format pf = (evo_pixel_format)(it % EVO_PIXEL_FORMAT_COUNT);
        bool yuv = pf == EVO_PIXEL_NV12 || pf == EVO_PIXEL_I420 || pf == EVO_PIXEL_YUYV;
        int sw = check_rng_int(&r, 3, 700), sh = check_rng_int(&r, 3, 300);
        int dw = check_rng_int(&r, 1, 211) | 1, dh = check_rng_int(&r, 1, 97) | 1;
        if (it == 57)
            sw = 1280, sh = 720, dw = dh = 416;
        if (it == 58)
            sw = 5000, sh = 9, dw = 1, dh = 3; // one column spans 5000 source columns
        if (it == 59)
            sw = 2 * 313, sh = 2 * 157, dw = 313, dh = 157; // integer factor 2
        if (yuv)
            sw += sw & 1, sh += sh & 1;
        evo_frame f;
        uint8_t *buf = random_frame(&r, pf, sw, sh, &f);
        CHECK(evo_frame_check(&f, NULL) == EVO_OK);
        evo_preprocess_options o = evo_preprocess_options_default();
        o.interp = check_rng_int(&r, 0, 3) ? EVO_INTERP_AREA : EVO_INTERP_AUTO;
        o.mode = modes[check_rng_int(&r, 0, 3)];
        o.round_u8 = check_rng_int(&r, 0, 1);
        o.bgr = check_rng_int(&r, 0, 1);
        o.mean[1] = 0.25f, o.std[2] = 0.5f;
        evo_transform t;
        CHECK(evo_preprocess_plan(sw, sh, dw, dh, &o, &t, NULL) == EVO_OK);
        size_t n = (size_t)3 * dw * dh;
        float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
        int tasks = check_rng_int(&r, 1, 3);
        for (int k = 0; k < tasks; k++) {
            evo_preprocess_run(&f, &t, &o, a, k, tasks);
            evo_preprocess_run_ref(&f, &t, &o, b, k, tasks);
        }
        if (memcmp(a, b, n * sizeof(float)) != 0)
            fprintf(stderr, "case %d: %s %dx%d -> %dx%d mode %d round %d differs\n", it,
                    evo_pixel_format_name(pf), sw, sh, dw, dh, (int)o.mode, (int)o.round_u8);
        CHECK(memcmp(a, b, n * sizeof(float)) == 0);
        free(a);
        free(b);
        free(buf);
    }
}

static void test_transform_boxes(void)
{
    evo_preprocess_options o = evo_preprocess_options_default();
    evo_transform t;
    CHECK(evo_preprocess_plan(1280, 720, 640, 640, &o, &t, NULL) == EVO_OK);
    evo_detection d = {100, 150, 300, 500, 0.9f, 3};
    evo_transform_boxes(&t, &d, 1);
    CHECK_NEAR(d.x0, 200, 1e-3);
    CHECK_NEAR(d.y0, 20, 1e-3);
    CHECK_NEAR(d.x1, 600, 1e-3);
    CHECK_NEAR(d.y1, 720, 1e-3); // (500 - 140) * 2 = 720, at the edge
    evo_detection e = {-10, 0, 700, 639, 0.5f, 0};
    evo_transform_boxes(&t, &e, 1);
    CHECK(e.x0 == 0 && e.y0 == 0 && e.x1 == 1280 && e.y1 == 720); // clipped
}

CHECK_MAIN(CHECK_TEST(test_letterbox_geometry), CHECK_TEST(test_modes_vs_reference),
           CHECK_TEST(test_tasks_match_single), CHECK_TEST(test_yuv_pixels),
           CHECK_TEST(test_frame_layouts), CHECK_TEST(test_yuv_fused_equals_two_step),
           CHECK_TEST(test_area_downscale), CHECK_TEST(test_area_opencv), CHECK_TEST(test_area_fast_equals_reference),
           CHECK_TEST(test_transform_boxes))
