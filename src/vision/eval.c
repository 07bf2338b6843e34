/*
 * eval.c - COCO-style box mAP, computed as pycocotools' COCOeval does for
 * iouType "bbox": per image and class, detections sorted by score (stable),
 * cut to the best 100, greedily matched to the unmatched ground truth of
 * highest IoU at each threshold 0.50:0.05:0.95 (ties go to the later box);
 * then per class all images' detections sorted by score (stable, in image
 * order), precision made monotone and read at 101 recall points.
 *
 * Ground truth comes from YOLO labels, so there are no crowd regions and no
 * box is ever ignored (area range "all"); that branch of COCOeval does not
 * exist here. Each image is matched as it is added and only one small
 * record per kept detection is stored (score + a 10-bit true-positive mask),
 * so memory grows with the detections, never with images x classes.
 */
#include "vision/vision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct det_rec {
    float score;
    uint16_t tp_mask; /* bit t: a true positive at IoU threshold t */
    int64_t seq;      /* order of arrival: the tie-break of a stable sort */
} det_rec;

typedef struct class_acc {
    int64_t n_gt;
    det_rec *recs;
    int64_t n_recs, cap;
    evo_eval_class result;
} class_acc;

struct evo_coco_eval {
    class_acc *classes;
    int n_classes; /* slots: the largest class id seen + 1 */
    int n_images;
    evo_eval_class *results; /* classes with ground truth, after compute */
    int n_results;
};

/* numpy.linspace(.5, .95, 10) and linspace(0, 1, 101), bit for bit: i * step + start, last = stop. */
static double iou_threshold(int t)
{
    return t == EVO_EVAL_IOUS - 1 ? 0.95 : t * ((0.95 - 0.5) / (EVO_EVAL_IOUS - 1)) + 0.5;
}

static double recall_point(int r)
{
    return r == EVO_EVAL_RECALLS - 1 ? 1.0 : r * (1.0 / (EVO_EVAL_RECALLS - 1)) + 0.0;
}

evo_status evo_coco_eval_create(evo_coco_eval **out, evo_error *err)
{
    evo_coco_eval *e = calloc(1, sizeof(*e));
    if (!e)
        return evo_errorf(err, EVO_ERR_NOMEM, "eval: out of memory");
    *out = e;
    return EVO_OK;
}

void evo_coco_eval_free(evo_coco_eval *e)
{
    if (!e)
        return;
    for (int k = 0; k < e->n_classes; k++)
        free(e->classes[k].recs);
    free(e->classes);
    free(e->results);
    free(e);
}

/* pycocotools maskApi bbIou for [x, y, w, h] boxes, not crowd. */
double evo_eval_iou(const evo_eval_box *d, const evo_eval_box *g)
{
    double w = fmin(d->w + d->x, g->w + g->x) - fmax(d->x, g->x);
    if (w <= 0)
        return 0;
    double h = fmin(d->h + d->y, g->h + g->y) - fmax(d->y, g->y);
    if (h <= 0)
        return 0;
    double i = w * h;
    return i / (g->w * g->h + d->w * d->h - i);
}

static evo_status grow_classes(evo_coco_eval *e, int class_id, evo_error *err)
{
    if (class_id < 0 || class_id >= EVO_EVAL_MAX_CLASSES)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "eval: class id %d outside [0, %d)", class_id,
                          EVO_EVAL_MAX_CLASSES);
    if (class_id < e->n_classes)
        return EVO_OK;
    int n = class_id + 1;
    class_acc *c = realloc(e->classes, sizeof(class_acc) * (size_t)n);
    if (!c)
        return evo_errorf(err, EVO_ERR_NOMEM, "eval: out of memory");
    memset(c + e->n_classes, 0, sizeof(class_acc) * (size_t)(n - e->n_classes));
    e->classes = c;
    e->n_classes = n;
    return EVO_OK;
}

/* Index order for the boxes of one image: class ascending, then (dets only) score descending, then input order. */
typedef struct box_ref {
    const evo_eval_box *box;
    int index;
    bool by_score;
} box_ref;

static int cmp_box_ref(const void *pa, const void *pb)
{
    const box_ref *a = pa, *b = pb;
    if (a->box->class_id != b->box->class_id)
        return a->box->class_id < b->box->class_id ? -1 : 1;
    if (a->by_score && a->box->score != b->box->score)
        return a->box->score > b->box->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static box_ref *sorted_refs(const evo_eval_box *boxes, int n, bool by_score)
{
    box_ref *r = malloc(sizeof(box_ref) * (size_t)(n > 0 ? n : 1));
    if (!r)
        return NULL;
    for (int i = 0; i < n; i++)
        r[i] = (box_ref){&boxes[i], i, by_score};
    qsort(r, (size_t)n, sizeof(box_ref), cmp_box_ref);
    return r;
}

/* Greedy matching of one image's class: d (score order, <= EVO_EVAL_MAX_DETS) against g. */
static evo_status match_class(class_acc *c, const box_ref *d, int n_d, const box_ref *g, int n_g,
                              int64_t *seq, evo_error *err)
{
    c->n_gt += n_g;
    if (n_d == 0)
        return EVO_OK;
    if (c->n_recs + n_d > c->cap) {
        int64_t cap = EVO_MAX(c->n_recs + n_d, 2 * c->cap);
        det_rec *r = realloc(c->recs, sizeof(det_rec) * (size_t)cap);
        if (!r)
            return evo_errorf(err, EVO_ERR_NOMEM, "eval: out of memory for %lld detections",
                              (long long)cap);
        c->recs = r, c->cap = cap;
    }
    double *ious = malloc(sizeof(double) * (size_t)n_d * (size_t)(n_g > 0 ? n_g : 1));
    bool *taken = malloc(sizeof(bool) * (size_t)(n_g > 0 ? n_g : 1));
    if (!ious || !taken) {
        free(ious), free(taken);
        return evo_errorf(err, EVO_ERR_NOMEM, "eval: out of memory");
    }
    for (int i = 0; i < n_d; i++)
        for (int j = 0; j < n_g; j++)
            ious[(size_t)i * n_g + j] = evo_eval_iou(d[i].box, g[j].box);
    det_rec *out = c->recs + c->n_recs;
    for (int i = 0; i < n_d; i++)
        out[i] = (det_rec){d[i].box->score, 0, (*seq)++};
    for (int t = 0; t < EVO_EVAL_IOUS; t++) {
        memset(taken, 0, sizeof(bool) * (size_t)(n_g > 0 ? n_g : 1));
        for (int i = 0; i < n_d; i++) {
            double best = fmin(iou_threshold(t), 1 - 1e-10);
            int m = -1;
            for (int j = 0; j < n_g; j++) {
                double v = ious[(size_t)i * n_g + j];
                if (taken[j] || v < best)
                    continue;
                best = v, m = j;
            }
            if (m >= 0) {
                taken[m] = true;
                out[i].tp_mask |= (uint16_t)(1u << t);
            }
        }
    }
    c->n_recs += n_d;
    free(ious);
    free(taken);
    return EVO_OK;
}

evo_status evo_coco_eval_add_image(evo_coco_eval *e, const evo_eval_box *gt, int n_gt,
                                   const evo_eval_box *dets, int n_dets, evo_error *err)
{
    if (!e || n_gt < 0 || n_dets < 0 || (n_gt && !gt) || (n_dets && !dets))
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "eval: bad image arguments");
    for (int i = 0; i < n_gt + n_dets; i++) {
        const evo_eval_box *b = i < n_gt ? &gt[i] : &dets[i - n_gt];
        if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(b->w) || !isfinite(b->h) ||
            b->w < 0 || b->h < 0 || !isfinite(b->score))
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "eval: image %d: %s box %d is [%g, %g, %g, %g] score %g, expected "
                              "finite with w, h >= 0",
                              e->n_images, i < n_gt ? "ground-truth" : "detected",
                              i < n_gt ? i : i - n_gt, b->x, b->y, b->w, b->h, (double)b->score);
        evo_status s = grow_classes(e, b->class_id, err);
        if (s)
            return s;
    }
    box_ref *g = sorted_refs(gt, n_gt, false), *d = sorted_refs(dets, n_dets, true);
    evo_status s = EVO_OK;
    if (!g || !d)
        s = evo_errorf(err, EVO_ERR_NOMEM, "eval: out of memory");
    int gi = 0, di = 0;
    while (s == EVO_OK && (gi < n_gt || di < n_dets)) {
        int k = gi < n_gt ? g[gi].box->class_id : INT32_MAX;
        if (di < n_dets && d[di].box->class_id < k)
            k = d[di].box->class_id;
        int g0 = gi, d0 = di;
        while (gi < n_gt && g[gi].box->class_id == k)
            gi++;
        while (di < n_dets && d[di].box->class_id == k)
            di++;
        class_acc *c = &e->classes[k];
        int64_t seq = c->n_recs;
        s = match_class(c, d + d0, EVO_MIN(di - d0, EVO_EVAL_MAX_DETS), g + g0, gi - g0, &seq, err);
    }
    free(g);
    free(d);
    if (s == EVO_OK)
        e->n_images++;
    return s;
}

static int cmp_rec(const void *pa, const void *pb)
{
    const det_rec *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/*
 * Average precision at threshold t over the class's sorted records, as
 * COCOeval.accumulate: precision tp / (tp + fp + eps) made non-increasing
 * from the end, read at the first rank whose recall reaches each point
 * (0 where recall never does). pr is scratch of n_recs doubles.
 */
static double class_ap(const class_acc *c, int t, double *pr)
{
    int64_t n = c->n_recs, tp = 0, fp = 0;
    double *rc = pr + n;
    for (int64_t i = 0; i < n; i++) {
        if (c->recs[i].tp_mask >> t & 1)
            tp++;
        else
            fp++;
        rc[i] = (double)tp / (double)c->n_gt;
        pr[i] = (double)tp / ((double)fp + (double)tp + 2.220446049250313e-16);
    }
    for (int64_t i = n - 1; i > 0; i--)
        if (pr[i] > pr[i - 1])
            pr[i - 1] = pr[i];
    double sum = 0;
    int64_t at = 0;
    for (int r = 0; r < EVO_EVAL_RECALLS; r++) {
        double want = recall_point(r);
        while (at < n && rc[at] < want) // searchsorted(rc, want, side="left")
            at++;
        if (at == n)
            break;
        sum += pr[at];
    }
    return sum / EVO_EVAL_RECALLS;
}

evo_status evo_coco_eval_compute(evo_coco_eval *e, evo_eval_result *out, evo_error *err)
{
    int64_t most = 0;
    int n_results = 0;
    for (int k = 0; k < e->n_classes; k++) {
        most = EVO_MAX(most, e->classes[k].n_recs);
        n_results += e->classes[k].n_gt > 0;
    }
    double *scratch = malloc(sizeof(double) * (size_t)(2 * most + 1));
    evo_eval_class *results = malloc(sizeof(evo_eval_class) * (size_t)(n_results + 1));
    if (!scratch || !results) {
        free(scratch), free(results);
        return evo_errorf(err, EVO_ERR_NOMEM, "eval: out of memory");
    }
    evo_eval_result r;
    memset(&r, 0, sizeof r);
    int at = 0;
    for (int k = 0; k < e->n_classes; k++) {
        class_acc *c = &e->classes[k];
        if (c->n_gt == 0)
            continue; // COCOeval leaves classes without ground truth out of the mean
        if (c->n_recs > 0)
            qsort(c->recs, (size_t)c->n_recs, sizeof(det_rec), cmp_rec);
        evo_eval_class *res = &results[at++];
        memset(res, 0, sizeof *res);
        res->class_id = k;
        res->n_gt = c->n_gt;
        res->n_dets = c->n_recs;
        for (int t = 0; t < EVO_EVAL_IOUS; t++) {
            double ap = class_ap(c, t, scratch);
            res->ap += ap / EVO_EVAL_IOUS;
            res->ap50 = t == 0 ? ap : res->ap50;
            res->ap75 = t == 5 ? ap : res->ap75;
        }
        r.map += res->ap, r.map50 += res->ap50, r.map75 += res->ap75;
    }
    free(scratch);
    if (n_results > 0)
        r.map /= n_results, r.map50 /= n_results, r.map75 /= n_results;
    r.n_classes = n_results;
    r.n_images = e->n_images;
    free(e->results);
    e->results = results;
    e->n_results = n_results;
    *out = r;
    return EVO_OK;
}

int evo_coco_eval_n_classes(const evo_coco_eval *e)
{
    return e ? e->n_results : 0;
}

const evo_eval_class *evo_coco_eval_class(const evo_coco_eval *e, int i)
{
    return e && i >= 0 && i < e->n_results ? &e->results[i] : NULL;
}

/* Appends one box to a growable array (cap doubles). */
static evo_status push_box(evo_eval_box **boxes, int *n, int *cap, const evo_eval_box *b,
                           evo_error *err)
{
    if (*n == *cap) {
        int cap2 = *cap ? 2 * *cap : 64;
        evo_eval_box *grown = realloc(*boxes, sizeof(evo_eval_box) * (size_t)cap2);
        if (!grown)
            return evo_errorf(err, EVO_ERR_NOMEM, "labels: out of memory");
        *boxes = grown, *cap = cap2;
    }
    (*boxes)[(*n)++] = *b;
    return EVO_OK;
}

/* One "class cx cy w h" line into a box in pixels of a width x height image. */
static bool parse_label_line(char *line, int width, int height, evo_eval_box *b)
{
    char *end, *p = line;
    long cls = strtol(p, &end, 10);
    if (end == p || (*end != ' ' && *end != '\t') || cls < 0 || cls >= EVO_EVAL_MAX_CLASSES)
        return false;
    double v[4];
    for (int k = 0; k < 4; k++) {
        p = end;
        v[k] = strtod(p, &end);
        if (end == p || !isfinite(v[k]) || v[k] < -1 || v[k] > 2)
            return false;
    }
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    if (*end || v[2] < 0 || v[3] < 0)
        return false;
    // The same arithmetic a Python converter does, so both get the same doubles.
    b->x = (v[0] - v[2] / 2) * width;
    b->y = (v[1] - v[3] / 2) * height;
    b->w = v[2] * width;
    b->h = v[3] * height;
    b->score = 1.0f;
    b->class_id = (int)cls;
    return true;
}

evo_status evo_yolo_labels_load(const char *path, int width, int height, evo_eval_box **out,
                                int *n_out, evo_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open", path);
    evo_eval_box *boxes = NULL;
    int n = 0, cap = 0, line_no = 0;
    char line[1024];
    evo_status s = EVO_OK;
    while (s == EVO_OK && fgets(line, sizeof line, fp)) {
        line_no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            s = evo_errorf(err, EVO_ERR_PARSE, "%s:%d: line longer than %zu bytes", path, line_no,
                           sizeof line - 2);
            break;
        }
        line[strcspn(line, "\n")] = 0;
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        evo_eval_box b;
        if (n >= EVO_LABELS_MAX_BOXES)
            s = evo_errorf(err, EVO_ERR_LIMIT, "%s: more than %d boxes", path, EVO_LABELS_MAX_BOXES);
        else if (!parse_label_line(line, width, height, &b))
            s = evo_errorf(err, EVO_ERR_PARSE,
                           "%s:%d: \"%s\", expected \"class cx cy w h\" (class an integer, the rest "
                           "normalised numbers, w and h >= 0)",
                           path, line_no, line);
        else
            s = push_box(&boxes, &n, &cap, &b, err);
    }
    if (s == EVO_OK && ferror(fp))
        s = evo_errorf(err, EVO_ERR_IO, "%s: read error", path);
    fclose(fp);
    if (s) {
        free(boxes);
        return s;
    }
    *out = boxes;
    *n_out = n;
    return EVO_OK;
}
