/*
 * test_vision_decode.c - each decoder on crafted output tensors with known
 * boxes, shape auto-detection, and NMS against a brute-force reference.
 */
#include "check.h"
#include "vision/vision.h"

#include <stdlib.h>

/* 64x64 input: strides 8,16,32 give 64 + 16 + 4 = 84 cells; with 64, 85. */
#define IN 64
#define CELLS3 84
#define CELLS4 85

static evo_vision_tensor tensor3(const float *data, int64_t a, int64_t b)
{
    evo_vision_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.rank = 3;
    t.dims[0] = 1, t.dims[1] = a, t.dims[2] = b;
    return t;
}

static void check_box(const evo_detection *d, float x0, float y0, float x1, float y1, float score,
                      int cls)
{
    CHECK_NEAR(d->x0, x0, 1e-3);
    CHECK_NEAR(d->y0, y0, 1e-3);
    CHECK_NEAR(d->x1, x1, 1e-3);
    CHECK_NEAR(d->y1, y1, 1e-3);
    CHECK_NEAR(d->score, score, 1e-5);
    CHECK(d->class_id == cls);
}

static int run(const evo_vision_tensor *outs, int n_outs, evo_decode_options *o,
               evo_yolo_kind want_kind, evo_detection **dets)
{
    evo_decode_layout lay;
    evo_error err;
    evo_status st = evo_decode_resolve(outs, n_outs, IN, IN, o, &lay, &err);
    CHECK_MSG(st == EVO_OK, "%s", err.msg);
    if (st != EVO_OK)
        return -1;
    CHECK(lay.kind == want_kind);
    int n = -1;
    *dets = malloc(sizeof(evo_detection) * (size_t)lay.n_anchors);
    CHECK(evo_detect_postprocess(&lay, outs, o, NULL, *dets, lay.n_anchors, &n, &err) == EVO_OK);
    return n;
}

static void test_v5(void)
{
    int nc = 3, row = 5 + nc, na = 3 * CELLS3;
    float *p = calloc((size_t)na * row, sizeof(float));
    float *a = p + 10 * row; // kept: 0.9 * 0.8 = 0.72, class 1
    a[0] = 20, a[1] = 30, a[2] = 10, a[3] = 8, a[4] = 0.9f, a[5] = 0.1f, a[6] = 0.8f, a[7] = 0.2f;
    float *b = p + 20 * row; // objectness below the threshold
    b[0] = 40, b[1] = 40, b[2] = 10, b[3] = 10, b[4] = 0.2f, b[5] = 1.0f;
    float *c = p + 30 * row; // product below the threshold: 0.9 * 0.25 = 0.225
    c[0] = 40, c[1] = 40, c[2] = 10, c[3] = 10, c[4] = 0.9f, c[7] = 0.25f;
    float *d = p + 40 * row; // overlaps a, other class: kept by class-aware NMS
    d[0] = 21, d[1] = 30, d[2] = 10, d[3] = 8, d[4] = 0.5f, d[5] = 0.9f;
    float *e = p + 50 * row; // overlaps a, same class, lower score: suppressed
    e[0] = 20, e[1] = 31, e[2] = 10, e[3] = 8, e[4] = 0.6f, e[6] = 0.9f;
    evo_vision_tensor t = tensor3(p, na, row);
    evo_decode_options o = evo_decode_options_default();
    evo_detection *dets = NULL;
    int n = run(&t, 1, &o, EVO_YOLO_V5, &dets);
    CHECK(n == 2);
    if (n == 2) {
        check_box(&dets[0], 15, 26, 25, 34, 0.72f, 1);
        check_box(&dets[1], 16, 26, 26, 34, 0.45f, 0);
    }
    free(dets);
    o.class_agnostic = true;
    n = run(&t, 1, &o, EVO_YOLO_V5, &dets);
    CHECK(n == 1);
    free(dets);
    // a P6 model (strides up to 64) is found without options
    float *q = calloc((size_t)3 * CELLS4 * row, sizeof(float));
    t = tensor3(q, 3 * CELLS4, row);
    o = evo_decode_options_default();
    n = run(&t, 1, &o, EVO_YOLO_V5, &dets);
    CHECK(n == 0);
    free(dets);
    free(q);
    free(p);
}

static void test_v8(void)
{
    int nc = 2, na = CELLS3;
    float *p = calloc((size_t)(4 + nc) * na, sizeof(float));
    int i = 70;
    p[0 * na + i] = 40, p[1 * na + i] = 20, p[2 * na + i] = 32, p[3 * na + i] = 16;
    p[4 * na + i] = 0.3f, p[5 * na + i] = 0.6f;
    p[4 * na + 3] = 0.25f; // exactly at the threshold: dropped (scores must exceed it)
    evo_vision_tensor t = tensor3(p, 4 + nc, na);
    evo_decode_options o = evo_decode_options_default();
    evo_detection *dets = NULL;
    int n = run(&t, 1, &o, EVO_YOLO_V8, &dets);
    CHECK(n == 1);
    if (n == 1)
        check_box(&dets[0], 24, 12, 56, 28, 0.6f, 1);
    free(dets);
    // the strided path (small cap) equals the sweep path
    evo_decode_layout lay;
    CHECK(evo_decode_resolve(&t, 1, IN, IN, &o, &lay, NULL) == EVO_OK);
    evo_detection few[2];
    CHECK(evo_decode_candidates(&lay, &t, 0.25f, few, 2) == 1);
    check_box(&few[0], 24, 12, 56, 28, 0.6f, 1);
    // transposed [N, 4+C] export when the kind is given
    float *q = calloc((size_t)(4 + nc) * na, sizeof(float));
    for (int k = 0; k < 4 + nc; k++)
        q[i * (4 + nc) + k] = p[k * na + i];
    evo_vision_tensor tq = tensor3(q, na, 4 + nc);
    o.kind = EVO_YOLO_V8;
    n = run(&tq, 1, &o, EVO_YOLO_V8, &dets);
    CHECK(n == 1);
    if (n == 1)
        check_box(&dets[0], 24, 12, 56, 28, 0.6f, 1);
    free(dets);
    free(q);
    free(p);
}

static void test_yolox(void)
{
    int nc = 2, row = 5 + nc;
    float *p = calloc((size_t)CELLS3 * row, sizeof(float));
    // stride 16 level starts at 64; cell (gx 2, gy 1) of its 4x4 grid
    float *a = p + (64 + 1 * 4 + 2) * row;
    a[0] = 0.5f, a[1] = 0.25f, a[2] = logf(2.0f), a[3] = 0.0f, a[4] = 0.8f, a[6] = 0.5f;
    evo_vision_tensor t = tensor3(p, CELLS3, row);
    evo_decode_options o = evo_decode_options_default();
    evo_detection *dets = NULL;
    int n = run(&t, 1, &o, EVO_YOLO_X, &dets);
    CHECK(n == 1);
    // cx = (0.5 + 2) * 16 = 40, cy = (0.25 + 1) * 16 = 20, w = 2 * 16, h = 16
    if (n == 1)
        check_box(&dets[0], 24, 12, 56, 28, 0.4f, 1);
    free(dets);
    free(p);
}

/* Logits putting the expectation at bin value v (integer or half-way). */
static void put_dist(float *r, int bins, float v)
{
    for (int k = 0; k < bins; k++)
        r[k] = -30.0f;
    int lo = (int)v;
    r[lo] = 0.0f;
    if (v != (float)lo)
        r[lo + 1] = 0.0f;
}

static void test_gfl_single(void)
{
    int nc = 3, bins = 8, row = nc + 4 * bins;
    float *p = calloc((size_t)CELLS4 * row, sizeof(float));
    float *a = p + (2 * 8 + 3) * row; // stride 8, gx 3, gy 2: centre (24, 16)
    a[2] = 0.7f;
    put_dist(a + nc, bins, 2.0f);
    put_dist(a + nc + bins, bins, 1.0f);
    put_dist(a + nc + 2 * bins, bins, 3.0f);
    put_dist(a + nc + 3 * bins, bins, 0.5f);
    evo_vision_tensor t = tensor3(p, CELLS4, row);
    evo_decode_options o = evo_decode_options_default();
    evo_detection *dets = NULL;
    int n = run(&t, 1, &o, EVO_YOLO_GFL, &dets);
    CHECK(n == 1);
    if (n == 1)
        check_box(&dets[0], 8, 8, 48, 20, 0.7f, 2);
    free(dets);
    // logits instead of probabilities: background logits -10 give sigmoid < 0.25
    for (int i = 0; i < CELLS4; i++)
        for (int c = 0; c < nc; c++)
            p[i * row + c] = -10.0f;
    a[2] = 2.0f;
    o.gfl_sigmoid = true;
    n = run(&t, 1, &o, EVO_YOLO_GFL, &dets);
    CHECK(n == 1);
    if (n == 1)
        CHECK_NEAR(dets[0].score, 1.0 / (1.0 + exp(-2.0)), 1e-5);
    free(dets);
    free(p);
}

static void test_gfl_split(void)
{
    int nc = 4, bins = 8;
    const int cells[4] = {64, 16, 4, 1};
    float *cls[4], *reg[4];
    evo_vision_tensor outs[8];
    for (int s = 0; s < 4; s++) {
        cls[s] = calloc((size_t)cells[s] * nc, sizeof(float));
        reg[s] = calloc((size_t)cells[s] * 4 * bins, sizeof(float));
        outs[s] = tensor3(reg[s], cells[s], 4 * bins); // boxes first: order must not matter
        outs[4 + s] = tensor3(cls[s], cells[s], nc);
    }
    // stride 16, cell (1, 1) -> index 5; PicoDet centre offset 0.5: (24, 24)
    cls[1][5 * nc + 3] = 0.9f;
    float *r = reg[1] + 5 * 4 * bins;
    put_dist(r, bins, 1.0f);
    put_dist(r + bins, bins, 0.5f);
    put_dist(r + 2 * bins, bins, 1.5f);
    put_dist(r + 3 * bins, bins, 2.0f);
    evo_decode_options o = evo_decode_options_default();
    o.cell_offset = 0.5f;
    evo_detection *dets = NULL;
    int n = run(outs, 8, &o, EVO_YOLO_GFL, &dets);
    CHECK(n == 1);
    if (n == 1)
        check_box(&dets[0], 8, 16, 48, 56, 0.9f, 3);
    free(dets);
    for (int s = 0; s < 4; s++) {
        free(cls[s]);
        free(reg[s]);
    }
}

static void test_resolve_errors(void)
{
    float buf[100 * 7] = {0};
    evo_vision_tensor t = tensor3(buf, 100, 7);
    evo_decode_options o = evo_decode_options_default();
    evo_decode_layout lay;
    evo_error err;
    CHECK(evo_decode_resolve(&t, 1, IN, IN, &o, &lay, &err) == EVO_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "[1,100,7]") != NULL);
    // [84, 37] fits YOLOX (32 classes) and GFL (5 classes, reg_max 7): ambiguous
    float *amb = calloc(CELLS3 * 37, sizeof(float));
    t = tensor3(amb, CELLS3, 37);
    CHECK(evo_decode_resolve(&t, 1, IN, IN, &o, &lay, &err) == EVO_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "choose") != NULL);
    o.kind = EVO_YOLO_X;
    CHECK(evo_decode_resolve(&t, 1, IN, IN, &o, &lay, &err) == EVO_OK);
    CHECK(lay.kind == EVO_YOLO_X && lay.n_classes == 32);
    o.kind = EVO_YOLO_GFL;
    CHECK(evo_decode_resolve(&t, 1, IN, IN, &o, &lay, &err) == EVO_OK);
    CHECK(lay.n_classes == 5 && lay.reg_max == 7);
    free(amb);
    evo_yolo_kind k;
    CHECK(evo_yolo_kind_parse("v11", &k) && k == EVO_YOLO_V8);
    CHECK(!evo_yolo_kind_parse("v9000", &k));
}

static void test_postprocess_maps_back(void)
{
    // 128x64 source letterboxed into 64x64: r = 0.5, 32 rows of padding split 16/16
    evo_preprocess_options po = evo_preprocess_options_default();
    evo_transform tr;
    CHECK(evo_preprocess_plan(128, 64, IN, IN, &po, &tr, NULL) == EVO_OK);
    int nc = 1, na = CELLS3;
    float *p = calloc((size_t)(4 + nc) * na, sizeof(float));
    p[0 * na + 5] = 32, p[1 * na + 5] = 32, p[2 * na + 5] = 20, p[3 * na + 5] = 10;
    p[4 * na + 5] = 0.9f;
    evo_vision_tensor t = tensor3(p, 4 + nc, na);
    evo_decode_options o = evo_decode_options_default();
    evo_decode_layout lay;
    CHECK(evo_decode_resolve(&t, 1, IN, IN, &o, &lay, NULL) == EVO_OK);
    evo_detection *dets = malloc(sizeof(evo_detection) * (size_t)lay.n_anchors);
    int n = 0;
    CHECK(evo_detect_postprocess(&lay, &t, &o, &tr, dets, lay.n_anchors, &n, NULL) == EVO_OK);
    CHECK(n == 1);
    // tensor box (22, 27)-(42, 37) -> ((22 - 0) / 0.5, (27 - 16) / 0.5) ...
    if (n == 1)
        check_box(&dets[0], 44, 22, 84, 42, 0.9f, 0);
    free(dets);
    free(p);
}

/* ---- NMS against the suppression-matrix formulation ---- */

static double iou_ref(const evo_detection *a, const evo_detection *b)
{
    double iw = fmin(a->x1, b->x1) - fmax(a->x0, b->x0);
    double ih = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
    if (iw <= 0 || ih <= 0)
        return 0;
    double inter = iw * ih;
    double ua = (double)(a->x1 - a->x0) * (a->y1 - a->y0) + (double)(b->x1 - b->x0) * (b->y1 - b->y0);
    return inter / (ua - inter);
}

static int cmp_score(const void *pa, const void *pb)
{
    const evo_detection *a = pa, *b = pb;
    return a->score > b->score ? -1 : a->score < b->score ? 1 : 0;
}

static int nms_ref(evo_detection *d, int n, float thr, bool agnostic, int max_cand, int max_det,
                   evo_detection *out)
{
    qsort(d, (size_t)n, sizeof *d, cmp_score);
    if (n > max_cand)
        n = max_cand;
    char *gone = calloc((size_t)n + 1, 1);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (gone[i])
            continue;
        if (kept < max_det)
            out[kept++] = d[i];
        for (int j = i + 1; j < n; j++)
            if ((agnostic || d[j].class_id == d[i].class_id) && iou_ref(&d[i], &d[j]) > thr)
                gone[j] = 1;
    }
    free(gone);
    return kept;
}

static void test_nms_vs_brute_force(void)
{
    check_rng r = {2024};
    for (int trial = 0; trial < 200; trial++) {
        int n = check_rng_int(&r, 0, 300);
        evo_detection *a = malloc(sizeof *a * (size_t)(n + 1)), *b = malloc(sizeof *b * (size_t)(n + 1));
        evo_detection *want = malloc(sizeof *want * (size_t)(n + 1));
        for (int i = 0; i < n; i++) {
            // clustered boxes so that many overlap
            float cx = check_rng_float(&r, 0, 100) + 100 * (float)check_rng_int(&r, 0, 2);
            float cy = check_rng_float(&r, 0, 100);
            float w = check_rng_float(&r, 5, 60), h = check_rng_float(&r, 5, 60);
            a[i].x0 = cx - w / 2, a[i].x1 = cx + w / 2, a[i].y0 = cy - h / 2, a[i].y1 = cy + h / 2;
            a[i].score = check_rng_float(&r, 0, 1);
            a[i].class_id = check_rng_int(&r, 0, 3);
        }
        float thr = check_rng_float(&r, 0.1f, 0.8f);
        bool agnostic = trial % 3 == 0;
        int max_cand = trial % 4 == 0 ? check_rng_int(&r, 1, 400) : 30000;
        int max_det = trial % 5 == 0 ? check_rng_int(&r, 1, 20) : 300;
        memcpy(b, a, sizeof *a * (size_t)n);
        int nw = nms_ref(b, n, thr, agnostic, max_cand, max_det, want);
        int64_t got = evo_nms(a, n, thr, agnostic, max_cand, max_det);
        CHECK_MSG(got == nw, "trial %d: kept %lld, reference %d", trial, (long long)got, nw);
        for (int i = 0; i < nw && i < got; i++)
            CHECK_MSG(memcmp(&a[i], &want[i], sizeof *a) == 0, "trial %d: box %d differs", trial, i);
        free(a);
        free(b);
        free(want);
    }
    evo_detection x = {0, 0, 10, 10, 1, 0}, y = {5, 0, 15, 10, 1, 0};
    CHECK_NEAR(evo_box_iou(&x, &y), 50.0 / 150.0, 1e-6);
}

CHECK_MAIN(CHECK_TEST(test_v5), CHECK_TEST(test_v8), CHECK_TEST(test_yolox),
           CHECK_TEST(test_gfl_single), CHECK_TEST(test_gfl_split), CHECK_TEST(test_resolve_errors),
           CHECK_TEST(test_postprocess_maps_back), CHECK_TEST(test_nms_vs_brute_force))
