/*
 * test_detect.c - the detection pipeline end to end through the exported
 * YOLOv5s and YOLOv8n test models: frames of several layouts and sizes go
 * in, detections must come out well formed (boxes inside the frame, scores
 * above the threshold and sorted, known classes, at most max_detections),
 * and identical frames in different layouts give the same detections.
 * The models have random weights, so the boxes are noise; their form is
 * what is checked here (the numerics are test_models' job).
 */
#include "check.h"
#include "evo.h"

#include <stdlib.h>
#include <string.h>

#ifndef EVO_MODELS_DEFAULT_DIR
#define EVO_MODELS_DEFAULT_DIR "models/out"
#endif

static void check_dets(const evo_detection *d, int n, int w, int h, const evo_detect_options *o)
{
    CHECK(n >= 0 && n <= o->decode.max_detections);
    for (int i = 0; i < n; i++) {
        CHECK_MSG(d[i].x0 >= 0 && d[i].y0 >= 0 && d[i].x1 <= w && d[i].y1 <= h, "box %d [%g,%g,%g,%g] in %dx%d",
                  i, (double)d[i].x0, (double)d[i].y0, (double)d[i].x1, (double)d[i].y1, w, h);
        CHECK(d[i].x0 <= d[i].x1 && d[i].y0 <= d[i].y1);
        CHECK(d[i].score > o->decode.conf_threshold && d[i].score <= 1.0f);
        CHECK(d[i].class_id >= 0 && d[i].class_id < 80);
        if (i > 0)
            CHECK(d[i - 1].score >= d[i].score);
    }
}

/* An RGB image with some structure, and the same pixels as BGR with a padded stride. */
static void make_frames(int w, int h, uint8_t *rgb, uint8_t *bgr, size_t bgr_stride)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t r = (uint8_t)((x * 7 + y * 3) & 255), g = (uint8_t)((x ^ y) & 255);
            uint8_t b = (uint8_t)(((x / 16 + y / 16) % 2) * 200);
            uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3, *q = bgr + (size_t)y * bgr_stride + (size_t)x * 3;
            p[0] = r, p[1] = g, p[2] = b;
            q[0] = b, q[1] = g, q[2] = r;
        }
    }
}

static void run_model(const char *file, float conf)
{
    char path[1024];
    const char *dir = getenv("EVO_MODELS_DIR") ? getenv("EVO_MODELS_DIR") : EVO_MODELS_DEFAULT_DIR;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    evo_error err = {0};
    evo_model *model = NULL;
    evo_detector *det = NULL;
    evo_compile_options co = evo_compile_options_default();
    CHECK_MSG(evo_model_load(path, &co, &model, &err) == EVO_OK, "%s (run models/export.py)", err.msg);
    if (!model)
        return;
    evo_session_options so = evo_session_options_default();
    so.n_threads = 2;
    evo_detect_options o = evo_detect_options_default();
    o.decode.conf_threshold = conf;
    CHECK_MSG(evo_detector_create(model, &so, &o, &det, &err) == EVO_OK, "%s", err.msg);
    static const int sizes[][2] = {{640, 480}, {333, 517}, {1280, 720}};
    for (int s = 0; det && s < 3; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        size_t bgr_stride = (size_t)w * 3 + 13;
        uint8_t *rgb = malloc((size_t)w * (size_t)h * 3), *bgr = malloc(bgr_stride * (size_t)h);
        make_frames(w, h, rgb, bgr, bgr_stride);
        evo_frame f1 = {EVO_PIXEL_RGB24, w, h, rgb, (size_t)w * 3, NULL, 0};
        evo_frame f2 = {EVO_PIXEL_BGR24, w, h, bgr, bgr_stride, NULL, 0};
        const evo_detection *d;
        int n1 = -1, n2 = -1;
        CHECK_MSG(evo_detector_run(det, &f1, &d, &n1, &err) == EVO_OK, "%s", err.msg);
        check_dets(d, n1, w, h, &o);
        evo_detection *keep = malloc(sizeof(evo_detection) * (size_t)(n1 > 0 ? n1 : 1));
        memcpy(keep, d, sizeof(evo_detection) * (size_t)(n1 > 0 ? n1 : 0));
        evo_detect_timing t = evo_detector_timing(det);
        CHECK(t.inference_ms > 0 && t.preprocess_ms >= 0 && t.postprocess_ms >= 0);
        CHECK_MSG(evo_detector_run(det, &f2, &d, &n2, &err) == EVO_OK, "%s", err.msg);
        CHECK_MSG(n1 == n2, "%s %dx%d: %d detections from RGB, %d from BGR", file, w, h, n1, n2);
        for (int i = 0; i < n1 && i < n2; i++) {
            CHECK(keep[i].class_id == d[i].class_id);
            CHECK_NEAR(keep[i].score, d[i].score, 1e-6);
            CHECK_NEAR(keep[i].x0, d[i].x0, 1e-3);
            CHECK_NEAR(keep[i].y1, d[i].y1, 1e-3);
        }
        printf("%s %dx%d: %d detections, preprocess %.2f ms, inference %.2f ms, postprocess %.2f ms\n", file, w,
               h, n1, t.preprocess_ms, t.inference_ms, t.postprocess_ms);
        free(keep);
        free(rgb);
        free(bgr);
    }
    /* a frame that is not valid is an error, not a crash */
    const evo_detection *d;
    int n;
    evo_frame bad = {EVO_PIXEL_NV12, 641, 480, (const uint8_t *)"x", 641, NULL, 0};
    CHECK(evo_detector_run(det, &bad, &d, &n, &err) != EVO_OK);
    evo_detector_free(det);
    evo_model_free(model);
}

static void test_yolov5s(void)
{
    run_model("yolov5s_op17.onnx", 0.25f);
}

static void test_yolov8n(void)
{
    run_model("yolov8n_op17.onnx", 0.25f);
}

static void test_not_a_detector(void)
{
    char path[1024];
    const char *dir = getenv("EVO_MODELS_DIR") ? getenv("EVO_MODELS_DIR") : EVO_MODELS_DEFAULT_DIR;
    snprintf(path, sizeof(path), "%s/resnet18_op17.onnx", dir);
    evo_error err = {0};
    evo_model *model = NULL;
    evo_detector *det = NULL;
    CHECK(evo_model_load(path, NULL, &model, &err) == EVO_OK);
    CHECK(evo_detector_create(model, NULL, NULL, &det, &err) == EVO_OK);
    uint8_t px[64 * 64 * 3] = {0};
    evo_frame f = {EVO_PIXEL_RGB24, 64, 64, px, 64 * 3, NULL, 0};
    const evo_detection *d;
    int n;
    /* ResNet's [1,1000] output matches no decoder: a clear error on the first run */
    CHECK(evo_detector_run(det, &f, &d, &n, &err) != EVO_OK);
    CHECK_MSG(strstr(err.msg, "1000") != NULL || strstr(err.msg, "decoder") != NULL, "%s", err.msg);
    evo_detector_free(det);
    evo_model_free(model);
}

CHECK_MAIN(CHECK_TEST(test_yolov5s), CHECK_TEST(test_yolov8n), CHECK_TEST(test_not_a_detector))
