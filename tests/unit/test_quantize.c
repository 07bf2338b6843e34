/*
 * test_quantize.c - calibration and the quantize pass end to end: tiny_cnn and
 * resnet18 (models/out) calibrated on random inputs, quantized, run, and
 * their outputs compared with fp32 (SQNR above a stated threshold); the
 * quantized graph's shape (QLinearConv in FIXED mode, Q/DQ at the borders);
 * a constant activation (degenerate range: finite positive scales, no NaN);
 * a residual Add + ReLU and a squeeze-excite Mul becoming QLinearAdd (ReLU
 * fused) and QLinearMul in FIXED mode, or staying fp32 by --keep-fp;
 * --keep-fp names; already-quantized graphs; bad calibration folders.
 */
#include "check.h"
#include "exec/model.h"
#include "exec/session.h"
#include "graph/builder.h"
#include "onnx/onnx_write.h"
#include "passes/passes.h"
#include "quant/quantize.h"
#include "quant/report.h"
#include "vision/vision.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char models_dir[512];

/* models/out next to this source file, unless $EVO_MODELS_DIR says otherwise. */
static const char *model_path(const char *file, char *buf, size_t cap)
{
    const char *env = getenv("EVO_MODELS_DIR");
    if (env && *env) {
        snprintf(buf, cap, "%s/%s", env, file);
        return buf;
    }
    snprintf(models_dir, sizeof(models_dir), "%s", __FILE__);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(models_dir, '/');
        if (slash)
            *slash = 0;
    }
    snprintf(buf, cap, "%s/models/out/%s", models_dir, file);
    return buf;
}

static void fill_random(check_rng *r, float *x, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = check_rng_float(r, lo, hi);
}

static int64_t input_count(const evo_model *m)
{
    evo_tensor_desc d;
    evo_model_input_desc(m, 0, &d);
    return (int64_t)(d.size_bytes / sizeof(float));
}

static evo_graph *load_unfused(const char *path, evo_error *err)
{
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = EVO_QUANT_UNFUSED_PASSES;
    evo_graph *g = NULL;
    if (evo_graph_load_compiled(path, NULL, 0, &co, &g, err) != EVO_OK)
        return NULL;
    return g;
}

/*
 * Of the last graph quantize_sqnr made: its QLinearAdd nodes with a fused
 * ReLU, and its first node kept fp32 (the result's names die with the graph).
 */
static int last_add_relu;
static char last_kept[64];

static int count_op(const evo_graph *g, evo_op op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !g->nodes[i].is_dead && g->nodes[i].op == op;
    return n;
}

/*
 * Calibrates path on n_calib random inputs in [lo, hi), quantizes with o,
 * and returns the output SQNR over 2 fresh random inputs (-1000 on failure).
 */
static double quantize_sqnr(const char *path, const evo_quant_options *o, int n_calib, float lo, float hi,
                            evo_quant_result *res, int *n_qconv)
{
    evo_error err = {0};
    evo_graph *g = load_unfused(path, &err), *qg = NULL;
    evo_model *fp = NULL, *qm = NULL;
    evo_session *fs = NULL, *qs = NULL;
    evo_calib *cal = NULL;
    float *inputs[2] = {NULL, NULL};
    double db = -1000;
    check_rng r = {12345};
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (!g || evo_model_from_graph(g, &fp, &err) != EVO_OK ||
        evo_session_create_observable(fp, NULL, &fs, &err) || evo_calib_create(g, &cal, &err)) {
        CHECK_MSG(false, "%s", err.msg);
        goto done;
    }
    int64_t count = input_count(fp);
    for (int i = 0; i < n_calib; i++) {
        fill_random(&r, evo_session_input_data(fs, 0), count, lo, hi);
        CHECK_MSG(evo_calib_observe(cal, fs, &err) == EVO_OK, "%s", err.msg);
    }
    CHECK(cal->n_runs == n_calib && cal->n_observed > 0);
    qg = load_unfused(path, &err);
    if (!qg || evo_quantize_graph(qg, cal, o, res, &err) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        goto done;
    }
    *n_qconv = count_op(qg, EVO_OP_QLINEAR_CONV);
    last_add_relu = 0;
    for (int i = 0; i < qg->n_nodes; i++) {
        const evo_node *n = &qg->nodes[i];
        if (!n->is_dead && n->op == EVO_OP_QLINEAR_CONV)
            CHECK(n->a.conv.requant == EVO_REQUANT_FIXED);
        if (!n->is_dead && (n->op == EVO_OP_QLINEAR_ADD || n->op == EVO_OP_QLINEAR_MUL))
            CHECK(n->a.qbinary.requant == EVO_REQUANT_FIXED);
        last_add_relu += !n->is_dead && n->op == EVO_OP_QLINEAR_ADD && n->a.qbinary.act == EVO_ACT_RELU;
    }
    CHECK(count_op(qg, EVO_OP_QLINEAR_ADD) + count_op(qg, EVO_OP_QLINEAR_MUL) == res->n_binary_int8);
    snprintf(last_kept, sizeof(last_kept), "%s", res->n_kept ? res->kept[0].node : "");
    CHECK(count_op(qg, EVO_OP_QUANTIZE_LINEAR) >= 1 && count_op(qg, EVO_OP_DEQUANTIZE_LINEAR) >= 1);
    if (evo_model_from_graph(qg, &qm, &err) != EVO_OK || evo_session_create(qm, NULL, &qs, &err) != EVO_OK) {
        CHECK_MSG(false, "%s", err.msg);
        goto done;
    }
    qg = NULL;
    for (int i = 0; i < 2; i++) {
        inputs[i] = malloc(sizeof(float) * (size_t)count);
        fill_random(&r, inputs[i], count, lo, hi);
    }
    evo_quant_compare cmp;
    if (evo_quant_compare_run(fs, fp, qs, qm, (const float *const *)inputs, 2, false, &cmp, &err) == EVO_OK) {
        db = evo_quant_sqnr_db(&cmp.output);
        evo_quant_compare_free(&cmp);
    } else {
        CHECK_MSG(false, "%s", err.msg);
    }
done:
    free(inputs[0]);
    free(inputs[1]);
    evo_session_free(qs);
    evo_model_free(qm);
    evo_graph_free(qg);
    evo_calib_free(cal);
    evo_session_free(fs);
    evo_model_free(fp);
    return db;
}

static void test_tiny_cnn(void)
{
    char path[600];
    evo_quant_options o = evo_quant_options_default();
    evo_quant_result res;
    int n_qconv = 0;
    double db =
        quantize_sqnr(model_path("tiny_cnn_op13.onnx", path, sizeof path), &o, 8, -1, 1, &res, &n_qconv);
    printf("tiny_cnn: output SQNR %.2f dB, %d QLinearConv\n", db, n_qconv);
    CHECK_MSG(db > 27.0, "tiny_cnn int8 output SQNR %.2f dB, expected > 27", db);
    CHECK(n_qconv >= 1 && res.n_compute_int8 == n_qconv);
    evo_quant_result_free(&res);
    /* int8 activations, symmetric: same model, a little less precise */
    o.act_dtype = EVO_DTYPE_INT8;
    o.act_symmetric = true;
    db = quantize_sqnr(path, &o, 8, -1, 1, &res, &n_qconv);
    printf("tiny_cnn int8 symmetric: output SQNR %.2f dB\n", db);
    CHECK_MSG(db > 24.0, "tiny_cnn int8 symmetric output SQNR %.2f dB, expected > 24", db);
    evo_quant_result_free(&res);
}

static void test_resnet18(void)
{
    char path[600];
    evo_quant_options o = evo_quant_options_default();
    evo_quant_result res;
    int n_qconv = 0;
    double db =
        quantize_sqnr(model_path("resnet18_op17.onnx", path, sizeof path), &o, 4, -2, 2, &res, &n_qconv);
    printf("resnet18: output SQNR %.2f dB, %d QLinearConv, %d kept fp32\n", db, n_qconv, res.n_compute_fp);
    CHECK_MSG(db > 30.0, "resnet18 int8 output SQNR %.2f dB, expected > 30", db);
    CHECK(n_qconv == 20);
    /* the 8 residual Adds run int8, each with the ReLU after it */
    CHECK(res.n_binary_int8 == 8 && last_add_relu == 8);
    /* the final Gemm has a bias: QLinearMatMul takes none, so it stays fp32 and says why */
    CHECK(res.n_kept == 1 && res.kept[0].reason == EVO_KEEP_UNSUPPORTED);
    evo_quant_result_free(&res);
}

/* A conv with zero weights and bias makes a constant-zero activation: a safe scale, finite output. */
static void test_degenerate_range(void)
{
    evo_builder b;
    evo_error err = {0};
    evo_builder_init(&b, "degenerate", 7);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 4, 8, 8});
    evo_build_weight(&b, "w0", 4, (int64_t[]){4, 4, 3, 3}, 0.0f);
    evo_build_weight(&b, "w1", 4, (int64_t[]){4, 4, 1, 1}, 0.5f);
    evo_build_node(&b, "Conv", "x w0", "c0", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(&b, "Relu", "c0", "r0", "");
    evo_build_node(&b, "Conv", "r0 w1", "y", "kernel_shape=1,1");
    evo_build_output(&b, "y");
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = EVO_QUANT_UNFUSED_PASSES;
    evo_pass_ctx ctx = {&co, &err};
    CHECK(b.ok && evo_passes_run(b.g, &ctx) == EVO_OK);
    evo_model *m = NULL;
    evo_session *s = NULL;
    evo_calib *cal = NULL;
    CHECK(evo_model_from_graph(b.g, &m, &err) == EVO_OK);
    CHECK(evo_session_create_observable(m, NULL, &s, &err) == EVO_OK);
    CHECK(evo_calib_create(m->g, &cal, &err) == EVO_OK);
    check_rng r = {99};
    fill_random(&r, evo_session_input_data(s, 0), 256, -1, 1);
    CHECK(evo_calib_observe(cal, s, &err) == EVO_OK);
    /* quantize a copy built the same way */
    evo_builder b2;
    evo_builder_init(&b2, "degenerate", 7);
    evo_build_input(&b2, "x", 4, (int64_t[]){1, 4, 8, 8});
    evo_build_weight(&b2, "w0", 4, (int64_t[]){4, 4, 3, 3}, 0.0f);
    evo_build_weight(&b2, "w1", 4, (int64_t[]){4, 4, 1, 1}, 0.5f);
    evo_build_node(&b2, "Conv", "x w0", "c0", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(&b2, "Relu", "c0", "r0", "");
    evo_build_node(&b2, "Conv", "r0 w1", "y", "kernel_shape=1,1");
    evo_build_output(&b2, "y");
    CHECK(evo_passes_run(b2.g, &ctx) == EVO_OK);
    evo_quant_options o = evo_quant_options_default();
    o.int8_all = true;
    evo_quant_result res;
    CHECK_MSG(evo_quantize_graph(b2.g, cal, &o, &res, &err) == EVO_OK, "%s", err.msg);
    CHECK(res.n_degenerate >= 1 && res.n_compute_int8 == 2);
    for (int v = 0; v < b2.g->n_values; v++) { /* every scale constant is finite and positive */
        const evo_value *val = &b2.g->values[v];
        if (val->data && val->dtype == EVO_DTYPE_FLOAT && val->rank == 0 && strstr(val->name, "scale"))
            CHECK_MSG(isfinite(*(const float *)val->data) && *(const float *)val->data > 0, "%s", val->name);
    }
    evo_model *qm = NULL;
    evo_session *qs = NULL;
    CHECK(evo_model_from_graph(b2.g, &qm, &err) == EVO_OK);
    CHECK(evo_session_create(qm, NULL, &qs, &err) == EVO_OK);
    fill_random(&r, evo_session_input_data(qs, 0), 256, -1, 1);
    CHECK(evo_session_run(qs, &err) == EVO_OK);
    const float *y = evo_session_output_data(qs, 0);
    for (int i = 0; y && i < 256; i++)
        CHECK(y[i] == 0.0f); /* zero in, zero out: 0 is exact in every range */
    evo_quant_result_free(&res);
    evo_session_free(qs);
    evo_model_free(qm);
    evo_calib_free(cal);
    evo_session_free(s);
    evo_model_free(m);
}

/*
 * x -> Conv -> Relu = r; Conv(r) + r -> Relu = a (a residual block);
 * a * Sigmoid(Conv(GlobalAveragePool(a))) (squeeze-excite, [1,8,1,1]) ->
 * Conv -> y, written as ONNX to path.
 */
static bool write_residual_se(const char *path)
{
    evo_builder b;
    evo_error err = {0};
    evo_builder_init(&b, "residual_se", 11);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 3, 12, 10});
    evo_build_weight(&b, "w0", 4, (int64_t[]){8, 3, 3, 3}, 0.4f);
    evo_build_weight(&b, "w1", 4, (int64_t[]){8, 8, 3, 3}, 0.15f);
    evo_build_weight(&b, "w2", 4, (int64_t[]){8, 8, 1, 1}, 0.5f);
    evo_build_weight(&b, "w3", 4, (int64_t[]){4, 8, 1, 1}, 0.5f);
    evo_build_node(&b, "Conv", "x w0", "c0", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(&b, "Relu", "c0", "r0", "");
    evo_build_node(&b, "Conv", "r0 w1", "c1", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(&b, "Add", "c1 r0", "sum", "");
    evo_build_node(&b, "Relu", "sum", "a", "");
    evo_build_node(&b, "GlobalAveragePool", "a", "p", "");
    evo_build_node(&b, "Conv", "p w2", "c2", "kernel_shape=1,1");
    evo_build_node(&b, "Sigmoid", "c2", "gate", "");
    evo_build_node(&b, "Mul", "a gate", "m", "");
    evo_build_node(&b, "Conv", "m w3", "y", "kernel_shape=1,1");
    evo_build_output(&b, "y");
    evo_compile_options co = evo_compile_options_default();
    co.disable_passes = EVO_QUANT_UNFUSED_PASSES;
    bool ok = b.ok && evo_passes_run(b.g, &(evo_pass_ctx){&co, &err}) == EVO_OK &&
              evo_onnx_write_file(b.g, path, NULL, &err) == EVO_OK;
    CHECK_MSG(ok, "residual_se: %s", err.msg);
    evo_graph_free(b.g);
    return ok;
}

static void test_residual_se(void)
{
    char path[] = "/tmp/evo_residual_se_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    if (!write_residual_se(path)) {
        unlink(path);
        return;
    }
    evo_quant_options o = evo_quant_options_default();
    evo_quant_result res;
    int n_qconv = 0;
    double db = quantize_sqnr(path, &o, 8, -1, 1, &res, &n_qconv);
    printf("residual + SE: output SQNR %.2f dB, %d QLinearConv, %d Add/Mul int8\n", db, n_qconv, res.n_binary_int8);
    CHECK_MSG(db > 25.0, "residual + SE int8 output SQNR %.2f dB, expected > 25", db);
    CHECK(n_qconv == 4 && res.n_binary_int8 == 2 && last_add_relu == 1 && res.n_kept == 0);
    evo_quant_result_free(&res);
    /* the Add kept fp32 by name: listed with the reason; the Mul still reads an int8 input (the gate) */
    o.keep_fp = "Add_3";
    db = quantize_sqnr(path, &o, 8, -1, 1, &res, &n_qconv);
    CHECK(res.n_binary_int8 == 1 && res.n_binary_fp == 1 && res.n_kept == 1 &&
          res.kept[0].reason == EVO_KEEP_ASKED && !strcmp(last_kept, "Add_3"));
    CHECK_MSG(db > 25.0, "residual + SE, Add fp32: output SQNR %.2f dB", db);
    evo_quant_result_free(&res);
    unlink(path);
}

static void test_keep_fp_and_names(void)
{
    char path[600];
    evo_error err = {0};
    evo_graph *g = load_unfused(model_path("tiny_cnn_op13.onnx", path, sizeof path), &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (!g)
        return;
    evo_calib *cal = NULL;
    CHECK(evo_calib_create(g, &cal, &err) == EVO_OK);
    evo_quant_options o = evo_quant_options_default();
    o.keep_fp = "no_such_node";
    evo_quant_result res;
    CHECK(evo_quantize_graph(g, cal, &o, &res, &err) == EVO_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "no_such_node") != NULL);
    evo_quant_result_free(&res);
    /* nothing calibrated: every compute node stays fp32, for want of data */
    o.keep_fp = NULL;
    CHECK(evo_quantize_graph(g, cal, &o, &res, &err) == EVO_OK);
    CHECK(res.n_compute_int8 == 0 && res.n_kept >= 1 && res.kept[0].reason == EVO_KEEP_NO_RANGE);
    CHECK(!evo_graph_is_quantized(g));
    evo_quant_result_free(&res);
    evo_calib_free(cal);
    evo_graph_free(g);
}

static void test_already_quantized(void)
{
    evo_builder b;
    evo_error err = {0};
    evo_builder_init(&b, "q", 1);
    evo_build_input(&b, "x", 2, (int64_t[]){2, 3});
    evo_build_weight(&b, "s", 0, NULL, 0.0f);
    evo_build_node(&b, "QuantizeLinear", "x s", "y", "");
    evo_build_output(&b, "y");
    CHECK(b.ok && evo_graph_is_quantized(b.g));
    evo_graph_free(b.g);
    (void)err;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_calib_folders(void)
{
    char dir[] = "/tmp/test_quantize.XXXXXX", path[600];
    CHECK(mkdtemp(dir) != NULL);
    char **list = NULL;
    int n = 0;
    evo_error err = {0};
    CHECK(evo_calib_list_images("/nonexistent/calib", 0, &list, &n, &err) == EVO_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/calib") != NULL);
    CHECK(evo_calib_list_images(dir, 0, &list, &n, &err) == EVO_ERR_INVALID_ARG); /* empty */
    CHECK(strstr(err.msg, "no calibration images") != NULL);
    snprintf(path, sizeof path, "%s/broken.jpg", dir);
    write_file(path, "not a jpeg");
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    write_file(path, "not an image either");
    /* a model to calibrate: one conv over [1, 3, 16, 16] */
    evo_builder b;
    evo_builder_init(&b, "calib", 3);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 3, 16, 16});
    evo_build_weight(&b, "w", 4, (int64_t[]){4, 3, 3, 3}, 0.5f);
    evo_build_node(&b, "Conv", "x w", "y", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_output(&b, "y");
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    CHECK(evo_passes_run(b.g, &ctx) == EVO_OK);
    evo_model *m = NULL;
    evo_session *s = NULL;
    evo_calib *cal = NULL;
    CHECK(evo_model_from_graph(b.g, &m, &err) == EVO_OK);
    CHECK(evo_session_create_observable(m, NULL, &s, &err) == EVO_OK);
    CHECK(evo_calib_create(m->g, &cal, &err) == EVO_OK);
    evo_calib_images im = {dir, 0, evo_preprocess_options_default(), NULL, NULL, NULL};
    evo_calib_summary sum;
    /* only an undecodable image: counted, then a clear error */
    CHECK(evo_calib_run_images(cal, s, m, &im, &sum, &err) == EVO_ERR_INVALID_ARG);
    CHECK(sum.n_listed == 1 && sum.n_skipped == 1 && sum.n_used == 0);
    /* plus a good one: used, the bad one skipped */
    evo_image img;
    CHECK(evo_image_alloc(20, 12, &img, &err) == EVO_OK);
    for (int i = 0; i < 20 * 12 * 3; i++)
        img.data[i] = (uint8_t)(i * 7);
    snprintf(path, sizeof path, "%s/good.png", dir);
    CHECK(evo_image_save(&img, path, 0, &err) == EVO_OK);
    evo_image_free(&img);
    CHECK_MSG(evo_calib_run_images(cal, s, m, &im, &sum, &err) == EVO_OK, "%s", err.msg);
    CHECK(sum.n_listed == 2 && sum.n_skipped == 1 && sum.n_used == 1 && cal->n_runs == 1);
    const evo_hist *h = evo_calib_hist(cal, evo_graph_find_value(m->g, "x"));
    CHECK(h && h->n == 3 * 16 * 16 && h->min >= 0 && h->max <= 1.0);
    evo_calib_free(cal);
    evo_session_free(s);
    evo_model_free(m);
    unlink(path);
    snprintf(path, sizeof path, "%s/broken.jpg", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    unlink(path);
    rmdir(dir);
}

CHECK_MAIN({"tiny_cnn", test_tiny_cnn}, {"resnet18", test_resnet18}, {"residual_se", test_residual_se},
           {"degenerate_range", test_degenerate_range}, {"keep_fp_and_names", test_keep_fp_and_names},
           {"already_quantized", test_already_quantized}, {"calib_folders", test_calib_folders})
