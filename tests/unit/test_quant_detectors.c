/*
 * test_quant_detectors.c - the pretrained detectors of ../shared/data
 * (YOLOX-nano, NanoDet-m, PicoDet-S) quantized with default options,
 * calibrated on coco64 through each model's upstream preprocess, and their
 * output SQNR vs fp32 measured on coco64 images and checked against a
 * stated floor. Prints one skip line per model when the data is absent.
 */
#include "check.h"
#include "exec/model.h"
#include "exec/session.h"
#include "plan/evo_file.h"
#include "quant/quantize.h"
#include "quant/report.h"

#include <stdlib.h>
#include <unistd.h>

#ifndef EVO_SHARED_DATA_DIR
#define EVO_SHARED_DATA_DIR "../shared/data"
#endif

/* Floors for the default quantization (uint8, head decode fp32): measured values less a margin. */
/*
 * Measured on 4 coco64 images after calibrating on 16 (percentile 99.99):
 * YOLOX-nano 7.1 dB, NanoDet-m 19.3 dB, PicoDet-S 3.0 dB. Depthwise layers
 * whose input channels differ by two orders of magnitude lose their small
 * channels to one per-tensor activation scale (PicoDet's Conv_1, YOLOX's
 * Conv_44); --target-sqnr keeps such layers fp32.
 */
#define YOLOX_MIN_SQNR_DB 5.0
#define NANODET_MIN_SQNR_DB 16.0
#define PICODET_MIN_SQNR_DB 1.5

typedef struct detector {
    const char *file;
    evo_preprocess_options pre;
    double min_sqnr_db; /* default quantization, all outputs together */
} detector;

static evo_graph *load_unfused(const char *path, evo_error *err)
{
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = EVO_QUANT_UNFUSED_PASSES;
    evo_graph *g = NULL;
    return evo_graph_load_compiled(path, NULL, 0, &co, &g, err) == EVO_OK ? g : NULL;
}

/* Calibrates on 16 coco64 images, quantizes with defaults, compares on 4; returns the output SQNR. */
static double detector_sqnr(const char *path, const char *images, const evo_preprocess_options *pre,
                            int *n_int8, int *n_fp)
{
    evo_error err = {0};
    evo_graph *g = load_unfused(path, &err), *qg = NULL;
    evo_model *fp = NULL, *qm = NULL;
    evo_session *fs = NULL, *qs = NULL;
    evo_calib *cal = NULL;
    float **inputs = NULL;
    int n_inputs = 0;
    double db = -1000;
    evo_calib_images im = {images, 16, *pre, NULL, NULL, NULL};
    evo_calib_summary sum;
    evo_quant_options o = evo_quant_options_default();
    evo_quant_result res = {0};
    evo_quant_compare cmp;
    if (!g || evo_model_from_graph(g, &fp, &err) || evo_session_create_observable(fp, NULL, &fs, &err) ||
        evo_calib_create(g, &cal, &err) || evo_calib_run_images(cal, fs, fp, &im, &sum, &err))
        goto fail;
    if (!(qg = load_unfused(path, &err)) || evo_quantize_graph(qg, cal, &o, &res, &err))
        goto fail;
    *n_int8 = res.n_compute_int8;
    *n_fp = res.n_compute_fp;
    /* the int8 model goes through a .evo file, as evo quantize writes it */
    char evo_path[] = "/tmp/test_quant_detectors.XXXXXX";
    int fd = mkstemp(evo_path);
    size_t bytes = 0;
    evo_status ws = fd < 0 ? EVO_ERR_IO : evo_file_write(qg, evo_path, &bytes, &err);
    evo_graph_free(qg);
    qg = NULL;
    if (fd >= 0)
        close(fd);
    if (ws || evo_file_load(evo_path, &qg, &err)) {
        unlink(evo_path);
        goto fail;
    }
    unlink(evo_path); /* the loaded graph keeps its mapping */
    if (evo_model_from_graph(qg, &qm, &err))
        goto fail;
    qg = NULL;
    if (evo_session_create(qm, NULL, &qs, &err) ||
        evo_calib_load_inputs(fp, &im, 4, &inputs, &n_inputs, &err) ||
        evo_quant_compare_run(fs, fp, qs, qm, (const float *const *)inputs, n_inputs, false, &cmp, &err))
        goto fail;
    db = evo_quant_sqnr_db(&cmp.output);
    evo_quant_compare_free(&cmp);
    goto done;
fail:
    CHECK_MSG(false, "%s", err.msg);
done:
    evo_calib_free_inputs(inputs, n_inputs);
    evo_quant_result_free(&res);
    evo_session_free(qs);
    evo_model_free(qm);
    evo_graph_free(qg);
    evo_calib_free(cal);
    evo_session_free(fs);
    evo_model_free(fp);
    return db;
}

static void run_detector(const detector *d)
{
    char path[1024], images[1024];
    snprintf(path, sizeof path, "%s/models/%s", EVO_SHARED_DATA_DIR, d->file);
    snprintf(images, sizeof images, "%s/coco64/images", EVO_SHARED_DATA_DIR);
    if (access(path, R_OK) != 0 || access(images, R_OK) != 0) {
        CHECK_SKIP("%s: %s or %s not found (../shared/data absent)", d->file, path, images);
        return;
    }
    int n_int8 = 0, n_fp = 0;
    double db = detector_sqnr(path, images, &d->pre, &n_int8, &n_fp);
    printf("%s: default int8 output SQNR %.2f dB vs fp32 (%d Conv int8, %d fp32)\n", d->file, db, n_int8,
           n_fp);
    CHECK_MSG(db > d->min_sqnr_db, "%s: output SQNR %.2f dB, expected > %.1f", d->file, db, d->min_sqnr_db);
    CHECK(n_int8 > 0);
}

static evo_preprocess_options gfl_pre(bool bgr, const float mean[3], const float std[3])
{
    evo_preprocess_options p = evo_preprocess_options_default();
    p.bgr = bgr;
    p.scale = 1.0f;
    p.pad_value = 0;
    p.interp = EVO_INTERP_AREA;
    for (int c = 0; c < 3; c++) {
        p.mean[c] = mean[c];
        p.std[c] = std[c];
    }
    return p;
}

static void test_yolox_nano(void)
{
    detector d = {"yolox_nano.onnx", evo_preprocess_options_default(), YOLOX_MIN_SQNR_DB};
    d.pre.bgr = true;
    d.pre.scale = 1.0f;
    d.pre.mode = EVO_FIT_LETTERBOX_TOPLEFT;
    run_detector(&d);
}

static void test_nanodet(void)
{
    detector d = {
        "nanodet_m_416.onnx",
        gfl_pre(true, (const float[]){103.53f, 116.28f, 123.675f}, (const float[]){57.375f, 57.12f, 58.395f}),
        NANODET_MIN_SQNR_DB};
    run_detector(&d);
}

static void test_picodet(void)
{
    detector d = {"picodet_s_416_coco.onnx",
                  gfl_pre(false, (const float[]){123.675f, 116.28f, 103.53f},
                          (const float[]){58.395f, 57.12f, 57.375f}),
                  PICODET_MIN_SQNR_DB};
    run_detector(&d);
}

CHECK_MAIN({"yolox_nano", test_yolox_nano}, {"nanodet", test_nanodet}, {"picodet", test_picodet})
