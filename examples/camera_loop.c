/*
 * camera_loop.c - a camera-style detection loop with the public API.
 *
 * usage: camera_loop MODEL [FRAMES] [WIDTH HEIGHT]
 *
 * A real application hands in the buffers its camera driver fills (V4L2
 * gives YUYV or NV12 with a row stride); here a synthetic NV12 sequence
 * stands in: a bright square moving over a gradient. Each frame is read
 * once by the fused preprocess straight into the model's input tensor; the
 * detections come back in frame pixels, owned by the detector until the
 * next frame.
 */
#include "evo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fills an NV12 frame (Y plane + interleaved UV at half resolution) with a stride. */
static void fill_frame(uint8_t *y, uint8_t *uv, int w, int h, size_t stride, int t)
{
    int sq = h / 4, x0 = (t * 17) % (w - sq), y0 = (t * 11) % (h - sq);
    for (int r = 0; r < h; r++) {
        for (int c = 0; c < w; c++) {
            bool in = c >= x0 && c < x0 + sq && r >= y0 && r < y0 + sq;
            y[(size_t)r * stride + (size_t)c] = in ? 235 : (uint8_t)(16 + (r + c + t) % 200);
        }
    }
    for (int r = 0; r < h / 2; r++) {
        for (int c = 0; c < w / 2; c++) {
            uv[(size_t)r * stride + 2 * (size_t)c] = (uint8_t)(128 + (c % 64) - 32);
            uv[(size_t)r * stride + 2 * (size_t)c + 1] = (uint8_t)(128 - (r % 64) + 32);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [FRAMES] [WIDTH HEIGHT]\n", argv[0]);
        return 2;
    }
    int frames = argc > 2 ? atoi(argv[2]) : 10;
    int w = argc > 4 ? atoi(argv[3]) : 1280, h = argc > 4 ? atoi(argv[4]) : 720;
    if (frames < 1 || w < 64 || h < 64 || w > 8192 || h > 8192 || w % 2 || h % 2) {
        fprintf(stderr, "%s: need FRAMES >= 1 and an even WIDTH x HEIGHT in 64..8192\n", argv[0]);
        return 2;
    }
    evo_error err;
    evo_model *model = NULL;
    evo_detector *det = NULL;
    int rc = 1;
    size_t stride = (size_t)w + 64; /* drivers often pad rows */
    uint8_t *buf = malloc(stride * (size_t)h * 3 / 2);
    if (!buf)
        return 1;
    evo_compile_options co = evo_compile_options_default();
    if (evo_model_load(argv[1], &co, &model, &err) != EVO_OK) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    evo_session_options so = evo_session_options_default();
    so.n_threads = 2;
    evo_detect_options dopts = evo_detect_options_default();
    dopts.decode.conf_threshold = 0.25f;
    if (evo_detector_create(model, &so, &dopts, &det, &err) != EVO_OK) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    double sum_pre = 0, sum_inf = 0, sum_post = 0;
    for (int t = 0; t < frames; t++) {
        uint8_t *y = buf, *uv = buf + stride * (size_t)h;
        fill_frame(y, uv, w, h, stride, t);
        evo_frame f = {EVO_PIXEL_NV12, w, h, y, stride, uv, stride};
        const evo_detection *dets;
        int n;
        if (evo_detector_run(det, &f, &dets, &n, &err) != EVO_OK) {
            fprintf(stderr, "frame %d: %s\n", t, err.msg);
            goto done;
        }
        evo_detect_timing tm = evo_detector_timing(det);
        sum_pre += tm.preprocess_ms;
        sum_inf += tm.inference_ms;
        sum_post += tm.postprocess_ms;
        printf("frame %d: %d detections", t, n);
        if (n > 0)
            printf(", best class %d score %.2f at [%.0f,%.0f,%.0f,%.0f]", dets[0].class_id,
                   (double)dets[0].score, (double)dets[0].x0, (double)dets[0].y0, (double)dets[0].x1,
                   (double)dets[0].y1);
        printf("\n");
    }
    printf("mean per frame: preprocess %.2f ms, inference %.2f ms, postprocess %.2f ms\n", sum_pre / frames,
           sum_inf / frames, sum_post / frames);
    rc = 0;
done:
    evo_detector_free(det);
    evo_model_free(model);
    free(buf);
    return rc;
}
