/*
 * decode_yolo.c - YOLO-family output decoders, matched by output shape.
 *
 * Layouts (batch 1; a leading 1 is dropped):
 *   v5/v7  [N, 5+C]  cx,cy,w,h in input pixels, objectness, class scores;
 *                    N = 3 anchors x cells
 *   v8/11  [4+C, N]  cx,cy,w,h, class scores, no objectness; N = cells
 *   YOLOX  [N, 5+C]  raw per cell: (t + grid) * stride, exp(t) * stride;
 *                    N = cells, objectness and scores already sigmoid
 *   GFL    [N, C + 4(R+1)] (NanoDet-Plus) or per-stride pairs [N_s, C] +
 *          [N_s, 4(R+1)] (PicoDet): distances to the cell centre are the
 *          softmax expectation over R+1 bins, times the stride
 * cells = sum over strides of ceil(h/s) * ceil(w/s), row-major per stride.
 * The threshold is applied while scanning, so later work is proportional
 * to the candidates, never to all anchors.
 */
#include "vision/vision.h"

#include <math.h>
#include <string.h>

const char *evo_yolo_kind_name(evo_yolo_kind k)
{
    switch (k) {
    case EVO_YOLO_AUTO: return "auto";
    case EVO_YOLO_V5: return "yolov5";
    case EVO_YOLO_V8: return "yolov8";
    case EVO_YOLO_X: return "yolox";
    case EVO_YOLO_GFL: return "gfl";
    default: return "unknown";
    }
}

bool evo_yolo_kind_parse(const char *s, evo_yolo_kind *out)
{
    static const struct {
        const char *name;
        evo_yolo_kind kind;
    } names[] = {
        {"auto", EVO_YOLO_AUTO}, {"yolov5", EVO_YOLO_V5}, {"v5", EVO_YOLO_V5},
        {"yolov7", EVO_YOLO_V5}, {"v7", EVO_YOLO_V5},     {"yolov8", EVO_YOLO_V8},
        {"v8", EVO_YOLO_V8},     {"yolo11", EVO_YOLO_V8}, {"yolov11", EVO_YOLO_V8},
        {"v11", EVO_YOLO_V8},    {"yolox", EVO_YOLO_X},   {"gfl", EVO_YOLO_GFL},
        {"nanodet", EVO_YOLO_GFL}, {"picodet", EVO_YOLO_GFL},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].kind;
            return true;
        }
    return false;
}

evo_decode_options evo_decode_options_default(void)
{
    evo_decode_options o;
    memset(&o, 0, sizeof o);
    o.kind = EVO_YOLO_AUTO;
    o.conf_threshold = 0.25f;
    o.iou_threshold = 0.45f;
    o.max_candidates = 30000;
    o.max_detections = 300;
    o.reg_max = 7;
    o.cell_offset = 0.0f;
    return o;
}

/* A tensor seen as a matrix [rows, cols], or false if it is not one. */
static bool as_matrix(const evo_vision_tensor *t, int64_t *rows, int64_t *cols)
{
    if (!t->data)
        return false;
    if (t->rank == 2) {
        *rows = t->dims[0], *cols = t->dims[1];
        return true;
    }
    if (t->rank == 3 && t->dims[0] == 1) {
        *rows = t->dims[1], *cols = t->dims[2];
        return true;
    }
    return false;
}

static int64_t grid_cells(int in_w, int in_h, int stride)
{
    return (int64_t)((in_h + stride - 1) / stride) * ((in_w + stride - 1) / stride);
}

static int64_t total_cells(int in_w, int in_h, const int *strides, int n)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += grid_cells(in_w, in_h, strides[i]);
    return sum;
}

static const int stride_sets[2][4] = {{8, 16, 32, 0}, {8, 16, 32, 64}};

/*
 * Tries kind k against output oi; on a match fills lay (strides included) and
 * returns true. forced relaxes the anchor-count checks where no grid is needed.
 */
static bool match_single(evo_yolo_kind k, const evo_vision_tensor *t, int oi, int in_w, int in_h,
                         const evo_decode_options *o, bool forced, evo_decode_layout *lay)
{
    int64_t rows, cols;
    if (!as_matrix(t, &rows, &cols))
        return false;
    for (int set = 0; set < 3; set++) {
        int strides[EVO_YOLO_MAX_STRIDES], n = 0;
        if (o->n_strides > 0) {
            if (set > 0)
                break;
            n = EVO_MIN(o->n_strides, EVO_YOLO_MAX_STRIDES);
            memcpy(strides, o->strides, sizeof(int) * (size_t)n);
        } else if (set < 2) {
            for (n = 0; n < 4 && stride_sets[set][n]; n++)
                strides[n] = stride_sets[set][n];
        } else {
            break;
        }
        int64_t cells = total_cells(in_w, in_h, strides, n);
        bool ok = false;
        int64_t anchors = 0, classes = 0;
        bool transposed = false;
        switch (k) {
        case EVO_YOLO_V5:
            // forced: any anchor count, but a [4+C, N] (v8) tensor is not taken for one
            ok = cols >= 6 && (rows == 3 * cells || (forced && set == 0 && rows > cols));
            anchors = rows, classes = cols - 5;
            break;
        case EVO_YOLO_V8:
            if (rows >= 5 && cols == cells) {
                ok = true, anchors = cols, classes = rows - 4;
            } else if (cols >= 5 && rows == cells) {
                ok = forced, transposed = true, anchors = rows, classes = cols - 4;
            } else if (forced && set == 0 && rows >= 5) {
                transposed = rows > cols;
                anchors = transposed ? rows : cols;
                classes = (transposed ? cols : rows) - 4;
                ok = classes >= 1;
            }
            break;
        case EVO_YOLO_X: // YOLOX heads stop at stride 32
            ok = cols >= 6 && rows == cells && (o->n_strides > 0 || set == 0);
            anchors = rows, classes = cols - 5;
            break;
        case EVO_YOLO_GFL: {
            int64_t bins = 4 * ((int64_t)o->reg_max + 1);
            if (o->n_classes > 0) {
                classes = o->n_classes;
                ok = rows == cells && cols > classes && (cols - classes) % 4 == 0;
                bins = cols - classes;
            } else {
                classes = cols - bins;
                ok = rows == cells && classes >= 1;
            }
            anchors = rows;
            if (ok) {
                lay->reg_max = (int)(bins / 4 - 1);
            }
            break;
        }
        default:
            break;
        }
        if (!ok || classes < 1 || (o->n_classes > 0 && classes != o->n_classes))
            continue;
        lay->kind = k;
        lay->n_classes = (int)classes;
        lay->n_anchors = anchors;
        lay->n_strides = n;
        memcpy(lay->strides, strides, sizeof(int) * (size_t)n);
        lay->transposed = transposed;
        lay->box_output = oi;
        return true;
    }
    return false;
}

/* GFL per-stride pairs: for each stride one [N_s, C] and one [N_s, 4(R+1)] output. */
static bool match_gfl_split(const evo_vision_tensor *outs, int n_outs, int in_w, int in_h,
                            const evo_decode_options *o, evo_decode_layout *lay)
{
    int strides[EVO_YOLO_MAX_STRIDES], n;
    if (o->n_strides > 0) {
        n = EVO_MIN(o->n_strides, EVO_YOLO_MAX_STRIDES);
        memcpy(strides, o->strides, sizeof(int) * (size_t)n);
    } else {
        n = n_outs / 2;
        if (n < 1 || n > 4 || n_outs != 2 * n)
            return false;
        for (int i = 0; i < n; i++)
            strides[i] = 8 << i;
    }
    int64_t bins = 4 * ((int64_t)o->reg_max + 1), classes = o->n_classes, anchors = 0;
    for (int s = 0; s < n; s++) {
        int64_t cells = grid_cells(in_w, in_h, strides[s]);
        int cls_i = -1, reg_i = -1;
        for (int i = 0; i < n_outs; i++) {
            int64_t rows, cols;
            if (!as_matrix(&outs[i], &rows, &cols) || rows != cells)
                continue;
            if (cols == bins && reg_i < 0)
                reg_i = i;
            else if (cols != bins && cls_i < 0 && (classes <= 0 || cols == classes))
                cls_i = i;
        }
        if (cls_i < 0 || reg_i < 0)
            return false;
        int64_t rows = 0, cols = 0;
        as_matrix(&outs[cls_i], &rows, &cols);
        if (classes > 0 && cols != classes)
            return false;
        classes = cols;
        anchors += cells;
        lay->gfl_cls_output[s] = cls_i;
        lay->gfl_reg_output[s] = reg_i;
    }
    lay->kind = EVO_YOLO_GFL;
    lay->gfl_split = true;
    lay->n_classes = (int)classes;
    lay->n_anchors = anchors;
    lay->n_strides = n;
    memcpy(lay->strides, strides, sizeof(int) * (size_t)n);
    lay->reg_max = o->reg_max;
    lay->box_output = lay->gfl_cls_output[0];
    return true;
}

static void describe_outputs(const evo_vision_tensor *outs, int n_outs, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n_outs && at + 32 < size; i++) {
        at += (size_t)snprintf(buf + at, size - at, "%s[", i ? ", " : "");
        for (int d = 0; d < outs[i].rank && at + 24 < size; d++)
            at += (size_t)snprintf(buf + at, size - at, "%s%lld", d ? "," : "",
                                   (long long)outs[i].dims[d]);
        at += (size_t)snprintf(buf + at, size - at, "]");
    }
}

evo_status evo_decode_resolve(const evo_vision_tensor *outs, int n_outs, int in_w, int in_h,
                              const evo_decode_options *o, evo_decode_layout *lay,
                              evo_error *err)
{
    if (n_outs < 1 || in_w <= 0 || in_h <= 0)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "decode: %d outputs, input %dx%d", n_outs,
                          in_w, in_h);
    if ((unsigned)o->kind >= EVO_YOLO_KIND_COUNT || o->reg_max < 0 || o->reg_max > 64 ||
        o->n_strides < 0 || o->n_strides > EVO_YOLO_MAX_STRIDES)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "decode: bad options (kind %d, reg_max %d)",
                          (int)o->kind, o->reg_max);
    for (int i = 0; i < o->n_strides; i++)
        if (o->strides[i] <= 0)
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "decode: stride %d is %d", i,
                              o->strides[i]);
    evo_decode_layout found[EVO_YOLO_KIND_COUNT];
    int n_found = 0;
    for (int k = EVO_YOLO_V5; k < EVO_YOLO_KIND_COUNT; k++) {
        if (o->kind != EVO_YOLO_AUTO && (int)o->kind != k)
            continue;
        evo_decode_layout l;
        memset(&l, 0, sizeof l);
        l.in_w = in_w, l.in_h = in_h;
        l.cell_offset = o->cell_offset;
        l.gfl_sigmoid = o->gfl_sigmoid;
        l.reg_max = o->reg_max;
        bool ok = false;
        for (int i = 0; i < n_outs && !ok; i++)
            ok = match_single((evo_yolo_kind)k, &outs[i], i, in_w, in_h, o,
                              o->kind != EVO_YOLO_AUTO, &l);
        if (!ok && k == EVO_YOLO_GFL)
            ok = match_gfl_split(outs, n_outs, in_w, in_h, o, &l);
        if (ok)
            found[n_found++] = l;
    }
    char shapes[256];
    describe_outputs(outs, n_outs, shapes, sizeof shapes);
    if (n_found == 0)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                          "decode (%s): outputs %s for input %dx%d match no decoder; expected "
                          "[1,3*cells,5+C] (yolov5), [1,4+C,cells] (yolov8), [1,cells,5+C] "
                          "(yolox) or [1,cells,C+4*(reg_max+1)] (gfl), cells = sum of "
                          "ceil(h/s)*ceil(w/s) over strides 8,16,32[,64]",
                          evo_yolo_kind_name(o->kind), shapes, in_w, in_h);
    if (n_found > 1)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                          "decode: outputs %s match both %s and %s; choose the decoder", shapes,
                          evo_yolo_kind_name(found[0].kind), evo_yolo_kind_name(found[1].kind));
    *lay = found[0];
    return EVO_OK;
}

/* Best class of a contiguous score row. */
static inline int best_class(const float *s, int n, float *score)
{
    int best = 0;
    for (int c = 1; c < n; c++)
        if (s[c] > s[best])
            best = c;
    *score = s[best];
    return best;
}

static inline void put_cxcywh(evo_detection *d, float cx, float cy, float w, float h, float score,
                              int cls)
{
    d->x0 = cx - 0.5f * w, d->y0 = cy - 0.5f * h;
    d->x1 = cx + 0.5f * w, d->y1 = cy + 0.5f * h;
    d->score = score;
    d->class_id = cls;
}

static int64_t decode_v5(const evo_decode_layout *lay, const float *p, float conf,
                         evo_detection *dets, int64_t cap)
{
    int64_t n = 0, row = 5 + (int64_t)lay->n_classes;
    for (int64_t i = 0; i < lay->n_anchors && n < cap; i++, p += row) {
        float obj = p[4];
        if (!(obj > conf)) // cheap early out: score = obj * cls <= obj
            continue;
        float cls_score;
        int c = best_class(p + 5, lay->n_classes, &cls_score);
        float score = obj * cls_score;
        if (score > conf)
            put_cxcywh(&dets[n++], p[0], p[1], p[2], p[3], score, c);
    }
    return n;
}

static int64_t decode_v8(const evo_decode_layout *lay, const float *p, float conf,
                         evo_detection *dets, int64_t cap)
{
    int64_t na = lay->n_anchors, n = 0;
    int nc = lay->n_classes;
    if (lay->transposed) {
        for (int64_t i = 0; i < na && n < cap; i++) {
            const float *r = p + i * (4 + nc);
            float score;
            int c = best_class(r + 4, nc, &score);
            if (score > conf)
                put_cxcywh(&dets[n++], r[0], r[1], r[2], r[3], score, c);
        }
        return n;
    }
    if (cap >= na) {
        // Class-major data: sweep rows contiguously, keeping the running best
        // per anchor in dets, then compact the ones above the threshold.
        for (int64_t i = 0; i < na; i++)
            dets[i].score = p[4 * na + i], dets[i].class_id = 0;
        for (int c = 1; c < nc; c++) {
            const float *r = p + (4 + (int64_t)c) * na;
            for (int64_t i = 0; i < na; i++)
                if (r[i] > dets[i].score)
                    dets[i].score = r[i], dets[i].class_id = c;
        }
        for (int64_t i = 0; i < na; i++) {
            if (!(dets[i].score > conf))
                continue;
            float score = dets[i].score;
            int c = dets[i].class_id;
            put_cxcywh(&dets[n++], p[i], p[na + i], p[2 * na + i], p[3 * na + i], score, c);
        }
        return n;
    }
    for (int64_t i = 0; i < na && n < cap; i++) {
        int best = 0;
        for (int c = 1; c < nc; c++)
            if (p[(4 + (int64_t)c) * na + i] > p[(4 + (int64_t)best) * na + i])
                best = c;
        float score = p[(4 + (int64_t)best) * na + i];
        if (score > conf)
            put_cxcywh(&dets[n++], p[i], p[na + i], p[2 * na + i], p[3 * na + i], score, best);
    }
    return n;
}

static int64_t decode_x(const evo_decode_layout *lay, const float *p, float conf,
                        evo_detection *dets, int64_t cap)
{
    int64_t n = 0, row = 5 + (int64_t)lay->n_classes;
    for (int s = 0; s < lay->n_strides; s++) {
        int st = lay->strides[s];
        int gw = (lay->in_w + st - 1) / st, gh = (lay->in_h + st - 1) / st;
        for (int gy = 0; gy < gh; gy++) {
            for (int gx = 0; gx < gw; gx++, p += row) {
                if (n >= cap || !(p[4] > conf))
                    continue;
                float cls_score;
                int c = best_class(p + 5, lay->n_classes, &cls_score);
                float score = p[4] * cls_score;
                if (!(score > conf))
                    continue;
                float cx = (p[0] + gx + lay->cell_offset) * st;
                float cy = (p[1] + gy + lay->cell_offset) * st;
                put_cxcywh(&dets[n++], cx, cy, expf(p[2]) * st, expf(p[3]) * st, score, c);
            }
        }
    }
    return n;
}

/* Softmax expectation over bins logits: the distance in strides. */
static float dfl_expect(const float *logits, int bins)
{
    float mx = logits[0];
    for (int k = 1; k < bins; k++)
        mx = logits[k] > mx ? logits[k] : mx;
    float sum = 0, acc = 0;
    for (int k = 0; k < bins; k++) {
        float e = expf(logits[k] - mx);
        sum += e;
        acc += e * (float)k;
    }
    return acc / sum;
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static int64_t decode_gfl(const evo_decode_layout *lay, const evo_vision_tensor *outs, float conf,
                          evo_detection *dets, int64_t cap)
{
    int64_t n = 0;
    int nc = lay->n_classes, bins = lay->reg_max + 1;
    const float *cls = NULL, *reg = NULL;
    int64_t cls_row = nc + 4 * (int64_t)bins, reg_row = cls_row;
    if (!lay->gfl_split) {
        cls = outs[lay->box_output].data;
        reg = cls + nc;
    } else {
        cls_row = nc, reg_row = 4 * (int64_t)bins;
    }
    for (int s = 0; s < lay->n_strides; s++) {
        int st = lay->strides[s];
        int gw = (lay->in_w + st - 1) / st, gh = (lay->in_h + st - 1) / st;
        if (lay->gfl_split) {
            cls = outs[lay->gfl_cls_output[s]].data;
            reg = outs[lay->gfl_reg_output[s]].data;
        }
        for (int gy = 0; gy < gh; gy++) {
            for (int gx = 0; gx < gw; gx++, cls += cls_row, reg += reg_row) {
                if (n >= cap)
                    continue;
                float score;
                int c = best_class(cls, nc, &score);
                if (lay->gfl_sigmoid)
                    score = sigmoidf(score);
                if (!(score > conf))
                    continue;
                float cx = (gx + lay->cell_offset) * st, cy = (gy + lay->cell_offset) * st;
                evo_detection *d = &dets[n++];
                d->x0 = cx - dfl_expect(reg, bins) * st;
                d->y0 = cy - dfl_expect(reg + bins, bins) * st;
                d->x1 = cx + dfl_expect(reg + 2 * bins, bins) * st;
                d->y1 = cy + dfl_expect(reg + 3 * bins, bins) * st;
                d->score = score;
                d->class_id = c;
            }
        }
    }
    return n;
}

int64_t evo_decode_candidates(const evo_decode_layout *lay, const evo_vision_tensor *outs,
                              float conf_threshold, evo_detection *dets, int64_t cap)
{
    const float *p = outs[lay->box_output].data;
    switch (lay->kind) {
    case EVO_YOLO_V5: return decode_v5(lay, p, conf_threshold, dets, cap);
    case EVO_YOLO_V8: return decode_v8(lay, p, conf_threshold, dets, cap);
    case EVO_YOLO_X: return decode_x(lay, p, conf_threshold, dets, cap);
    case EVO_YOLO_GFL: return decode_gfl(lay, outs, conf_threshold, dets, cap);
    default: return 0;
    }
}
