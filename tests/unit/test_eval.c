/*
 * test_eval.c - the COCO metric (src/vision/eval.c) on hand-computed cases:
 * perfect and partial overlaps, precision interpolation, recall cut-off,
 * score ties across images, the 100-per-image cut, classes without ground
 * truth or without detections; and the YOLO label reader.
 */
#include "check.h"
#include "vision/vision.h"

#include <stdlib.h>
#include <unistd.h>

static evo_eval_box box(int cls, double x, double y, double w, double h, float score)
{
    evo_eval_box b = {x, y, w, h, score, cls};
    return b;
}

/* Evaluates images[i] = (gt, dets) and returns the result; classes go to *ev (caller frees). */
typedef struct img_case {
    const evo_eval_box *gt;
    int n_gt;
    const evo_eval_box *dets;
    int n_dets;
} img_case;

static evo_eval_result run(const img_case *imgs, int n, evo_coco_eval **ev)
{
    evo_eval_result r;
    memset(&r, 0, sizeof r);
    CHECK(evo_coco_eval_create(ev, NULL) == EVO_OK);
    for (int i = 0; i < n; i++)
        CHECK(evo_coco_eval_add_image(*ev, imgs[i].gt, imgs[i].n_gt, imgs[i].dets, imgs[i].n_dets, NULL) == EVO_OK);
    CHECK(evo_coco_eval_compute(*ev, &r, NULL) == EVO_OK);
    return r;
}

static void test_iou(void)
{
    evo_eval_box a = box(0, 0, 0, 10, 10, 1), b = box(0, 5, 0, 10, 10, 1), c = box(0, 10, 0, 5, 5, 1);
    CHECK_NEAR(evo_eval_iou(&a, &b), 50.0 / 150.0, 1e-15);
    CHECK(evo_eval_iou(&a, &c) == 0); // touching edges do not overlap
    CHECK_NEAR(evo_eval_iou(&a, &a), 1.0, 0);
}

static void test_perfect_and_partial(void)
{
    // IoU 1: a true positive at every threshold
    evo_eval_box gt[1] = {box(3, 10, 10, 100, 50, 0)};
    evo_eval_box d1[1] = {box(3, 10, 10, 100, 50, 0.9f)};
    evo_coco_eval *ev = NULL;
    img_case one = {gt, 1, d1, 1};
    evo_eval_result r = run(&one, 1, &ev);
    CHECK_NEAR(r.map, 1.0, 1e-12);
    CHECK(r.n_classes == 1 && evo_coco_eval_class(ev, 0)->class_id == 3);
    evo_coco_eval_free(ev);
    // width 100 -> 124 (same x): IoU = 100/124 = 0.806: TP at 0.50..0.80 (7 of 10 thresholds)
    evo_eval_box d2[1] = {box(3, 10, 10, 124, 50, 0.9f)};
    one.dets = d2;
    r = run(&one, 1, &ev);
    CHECK_NEAR(r.map50, 1.0, 1e-12);
    CHECK_NEAR(r.map, 0.7, 1e-12);
    CHECK_NEAR(r.map75, 1.0, 1e-12);
    evo_coco_eval_free(ev);
}

/* 2 ground truths; dets by score: FP, TP, TP. Precision [0, 1/2, 2/3] -> monotone 2/3 everywhere. */
static void test_interpolation(void)
{
    evo_eval_box gt[2] = {box(0, 0, 0, 10, 10, 0), box(0, 100, 100, 10, 10, 0)};
    evo_eval_box d[3] = {box(0, 100, 100, 10, 10, 0.7f), box(0, 50, 50, 10, 10, 0.9f),
                         box(0, 0, 0, 10, 10, 0.8f)};
    evo_coco_eval *ev = NULL;
    img_case c = {gt, 2, d, 3};
    evo_eval_result r = run(&c, 1, &ev);
    double p = 2.0 / (3.0 + 2.220446049250313e-16);
    CHECK_NEAR(r.map, p, 1e-15);
    CHECK(evo_coco_eval_class(ev, 0)->n_dets == 3 && evo_coco_eval_class(ev, 0)->n_gt == 2);
    evo_coco_eval_free(ev);
    // one of two found: recall 0.5 reaches 51 of the 101 points
    c.n_dets = 1;
    c.dets = &d[2];
    r = run(&c, 1, &ev);
    CHECK_NEAR(r.map, 51.0 / 101.0, 1e-12);
    evo_coco_eval_free(ev);
}

/* Equal scores keep image order: FP then TP gives 0.5, TP then FP gives 1. */
static void test_ties_across_images(void)
{
    evo_eval_box gt[1] = {box(1, 0, 0, 10, 10, 0)};
    evo_eval_box tp[1] = {box(1, 0, 0, 10, 10, 0.5f)}, fp[1] = {box(1, 300, 300, 10, 10, 0.5f)};
    img_case fp_first[2] = {{NULL, 0, fp, 1}, {gt, 1, tp, 1}};
    img_case tp_first[2] = {{gt, 1, tp, 1}, {NULL, 0, fp, 1}};
    evo_coco_eval *ev = NULL;
    CHECK_NEAR(run(fp_first, 2, &ev).map50, 0.5, 1e-12);
    evo_coco_eval_free(ev);
    CHECK_NEAR(run(tp_first, 2, &ev).map50, 1.0, 1e-12);
    evo_coco_eval_free(ev);
}

/* 101 detections of one class in one image: the true positive ranks 101st and is cut. */
static void test_max_dets(void)
{
    evo_eval_box gt[1] = {box(0, 0, 0, 10, 10, 0)};
    evo_eval_box d[101];
    for (int i = 0; i < 100; i++)
        d[i] = box(0, 500 + i, 500, 10, 10, 0.9f - 0.001f * (float)i);
    d[100] = box(0, 0, 0, 10, 10, 0.01f);
    img_case c = {gt, 1, d, 101};
    evo_coco_eval *ev = NULL;
    evo_eval_result r = run(&c, 1, &ev);
    CHECK(r.map == 0 && evo_coco_eval_class(ev, 0)->n_dets == 100);
    evo_coco_eval_free(ev);
    c.n_dets = 100; // the true positive ranked 100th is kept
    d[99] = d[100];
    r = run(&c, 1, &ev);
    CHECK(r.map > 0);
    evo_coco_eval_free(ev);
}

/* Class 2 has detections but no ground truth (left out); class 5 has ground truth only (AP 0). */
static void test_classes_without_gt_or_dets(void)
{
    evo_eval_box gt[2] = {box(0, 0, 0, 10, 10, 0), box(5, 20, 20, 10, 10, 0)};
    evo_eval_box d[2] = {box(0, 0, 0, 10, 10, 0.9f), box(2, 0, 0, 10, 10, 0.95f)};
    img_case c = {gt, 2, d, 2};
    evo_coco_eval *ev = NULL;
    evo_eval_result r = run(&c, 1, &ev);
    CHECK(r.n_classes == 2 && evo_coco_eval_n_classes(ev) == 2);
    CHECK(evo_coco_eval_class(ev, 0)->class_id == 0 && evo_coco_eval_class(ev, 1)->class_id == 5);
    CHECK_NEAR(evo_coco_eval_class(ev, 1)->ap, 0.0, 0);
    CHECK_NEAR(r.map, 0.5, 1e-12);
    evo_coco_eval_free(ev);
}

/* Two identical ground truths: each detection takes a free one; a third is a false positive. */
static void test_greedy_duplicates(void)
{
    evo_eval_box gt[2] = {box(0, 0, 0, 10, 10, 0), box(0, 0, 0, 10, 10, 0)};
    evo_eval_box d[3] = {box(0, 0, 0, 10, 10, 0.9f), box(0, 0, 0, 10, 10, 0.8f), box(0, 0, 0, 10, 10, 0.7f)};
    img_case c = {gt, 2, d, 3};
    evo_coco_eval *ev = NULL;
    CHECK_NEAR(run(&c, 1, &ev).map, 1.0, 1e-12); // recall 1 reached at precision 1
    evo_coco_eval_free(ev);
}

static void test_bad_boxes(void)
{
    evo_coco_eval *ev = NULL;
    CHECK(evo_coco_eval_create(&ev, NULL) == EVO_OK);
    evo_eval_box bad[1] = {box(0, 0, 0, -1, 10, 0.5f)};
    evo_error err;
    CHECK(evo_coco_eval_add_image(ev, NULL, 0, bad, 1, &err) == EVO_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "detected box 0") != NULL);
    bad[0] = box(-3, 0, 0, 1, 1, 0.5f);
    CHECK(evo_coco_eval_add_image(ev, bad, 1, NULL, 0, &err) == EVO_ERR_INVALID_ARG);
    bad[0] = box(0, NAN, 0, 1, 1, 0.5f);
    CHECK(evo_coco_eval_add_image(ev, bad, 1, NULL, 0, &err) == EVO_ERR_INVALID_ARG);
    evo_coco_eval_free(ev);
    evo_coco_eval_free(NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

static void test_labels(void)
{
    char path[] = "/tmp/evo_test_labels_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    write_file(path, "0 0.5 0.5 0.25 0.5\n\n17 0.1 0.2 0 0.1\r\n");
    evo_eval_box *b = NULL;
    int n = 0;
    evo_error err;
    CHECK(evo_yolo_labels_load(path, 640, 480, &b, &n, &err) == EVO_OK);
    CHECK(n == 2 && b[0].class_id == 0 && b[1].class_id == 17);
    CHECK_NEAR(b[0].x, 240, 1e-12);
    CHECK_NEAR(b[0].y, 120, 1e-12);
    CHECK_NEAR(b[0].w, 160, 1e-12);
    CHECK_NEAR(b[0].h, 240, 1e-12);
    free(b);
    write_file(path, "");
    b = NULL;
    CHECK(evo_yolo_labels_load(path, 640, 480, &b, &n, &err) == EVO_OK && n == 0 && !b);
    static const char *bad[] = {"0 0.5 0.5 0.25\n", "0 0.5 0.5 0.2 0.2 9\n", "x 0.5 0.5 0.2 0.2\n",
                                "1 0.5 0.5 -0.2 0.2\n", "1 nan 0.5 0.2 0.2\n", "-1 0.5 0.5 0.2 0.2\n"};
    for (size_t i = 0; i < EVO_ARRAY_LEN(bad); i++) {
        char text[128];
        snprintf(text, sizeof text, "0 0.5 0.5 0.1 0.1\n%s", bad[i]);
        write_file(path, text);
        CHECK_MSG(evo_yolo_labels_load(path, 64, 48, &b, &n, &err) == EVO_ERR_PARSE, "%s", bad[i]);
        CHECK_MSG(strstr(err.msg, ":2:") != NULL, "%s", err.msg);
    }
    remove(path);
    CHECK(evo_yolo_labels_load(path, 64, 48, &b, &n, &err) == EVO_ERR_IO);
}

CHECK_MAIN(CHECK_TEST(test_iou), CHECK_TEST(test_perfect_and_partial), CHECK_TEST(test_interpolation),
           CHECK_TEST(test_ties_across_images), CHECK_TEST(test_max_dets),
           CHECK_TEST(test_classes_without_gt_or_dets), CHECK_TEST(test_greedy_duplicates),
           CHECK_TEST(test_bad_boxes), CHECK_TEST(test_labels))
