/*
 * nms.c - greedy non-maximum suppression and the whole postprocess
 * (decode -> threshold -> top-k -> NMS -> map back).
 *
 * NMS works in place: candidates are sorted once, and the kept boxes are
 * compacted to the front, so each candidate is compared only with boxes
 * already kept (at most max_detections), never with every other candidate.
 */
#include "vision/vision.h"

#include <stdlib.h>

float evo_box_iou(const evo_detection *a, const evo_detection *b)
{
    float iw = EVO_MIN(a->x1, b->x1) - EVO_MAX(a->x0, b->x0);
    float ih = EVO_MIN(a->y1, b->y1) - EVO_MAX(a->y0, b->y0);
    if (iw <= 0 || ih <= 0)
        return 0.0f;
    float inter = iw * ih;
    float area_a = (a->x1 - a->x0) * (a->y1 - a->y0), area_b = (b->x1 - b->x0) * (b->y1 - b->y0);
    float uni = area_a + area_b - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

/* Score descending; ties broken by position so the order is deterministic. */
static int by_score_desc(const void *pa, const void *pb)
{
    const evo_detection *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->class_id != b->class_id)
        return a->class_id < b->class_id ? -1 : 1;
    if (a->x0 != b->x0)
        return a->x0 < b->x0 ? -1 : 1;
    if (a->y0 != b->y0)
        return a->y0 < b->y0 ? -1 : 1;
    return 0;
}

int64_t evo_nms(evo_detection *dets, int64_t n, float iou_threshold, bool class_agnostic,
                int64_t max_candidates, int64_t max_detections)
{
    if (n <= 0 || max_detections <= 0)
        return 0;
    qsort(dets, (size_t)n, sizeof *dets, by_score_desc);
    if (max_candidates > 0 && n > max_candidates)
        n = max_candidates;
    int64_t kept = 0;
    for (int64_t i = 0; i < n && kept < max_detections; i++) {
        bool keep = true;
        for (int64_t k = 0; k < kept && keep; k++) {
            if (!class_agnostic && dets[k].class_id != dets[i].class_id)
                continue;
            if (evo_box_iou(&dets[k], &dets[i]) > iou_threshold)
                keep = false;
        }
        if (keep)
            dets[kept++] = dets[i];
    }
    return kept;
}

evo_status evo_detect_postprocess(const evo_decode_layout *lay, const evo_vision_tensor *outs,
                                  const evo_decode_options *o, const evo_transform *t,
                                  evo_detection *dets, int64_t cap, int *n_out, evo_error *err)
{
    if (lay->n_anchors <= 0 || lay->n_anchors > EVO_MAX_ELEMENTS)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "postprocess: %lld anchors",
                          (long long)lay->n_anchors);
    if (cap < lay->n_anchors)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "postprocess: room for %lld detections, %lld anchors",
                          (long long)cap, (long long)lay->n_anchors);
    int64_t n = evo_decode_candidates(lay, outs, o->conf_threshold, dets, lay->n_anchors);
    n = evo_nms(dets, n, o->iou_threshold, o->class_agnostic, o->max_candidates,
                o->max_detections);
    if (t)
        evo_transform_boxes(t, dets, (int)n);
    *n_out = (int)n;
    return EVO_OK;
}
