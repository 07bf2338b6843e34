/*
 * letterbox.c - the fused preprocess: one pass from a raw frame to the
 * model's float NCHW input, with no intermediate image.
 *
 * Each output pixel is either padding or a resample of the source; the
 * resample converts the taps to RGB on the fly (so YUV frames cost no extra
 * buffer), then scale, mean/std and the planar write follow. Geometry
 * matches Ultralytics' LetterBox + cv2.resize(INTER_LINEAR): half-pixel
 * centres, edge replication, and with round_u8 the same 11-bit fixed-point
 * weights and rounding as OpenCV's uint8 path, so tensors agree with an
 * OpenCV pipeline to within one 8-bit level (usually exactly). INTER_AREA
 * shrinks go row by row (each source row converted and summed across once,
 * not once per tap), bit for bit equal to the per-pixel reference kept
 * beside it (evo_preprocess_run_ref).
 */
#include "vision/pixel.h"
#include "vision/vision.h"

#include <math.h>
#include <string.h>

#define COEF_BITS 11
#define COEF_ONE (1 << COEF_BITS)

evo_preprocess_options evo_preprocess_options_default(void)
{
    evo_preprocess_options o;
    memset(&o, 0, sizeof o);
    o.mode = EVO_FIT_LETTERBOX;
    o.interp = EVO_INTERP_LINEAR;
    o.bgr = false;
    o.scale_up = true;
    o.round_u8 = true;
    o.pad_value = 114;
    o.scale = 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) {
        o.mean[c] = 0.0f;
        o.std[c] = 1.0f;
    }
    return o;
}

/*
 * NanoDet/PicoDet demos: the side that limits the fit becomes exactly the
 * tensor side and the other is truncated (integer arithmetic, so 640 -> 416
 * never lands on 415.999); the image is centred with the odd pixel of padding
 * right/bottom, and boxes map back with each axis' own resize ratio.
 */
static void fit_center(int src_w, int src_h, int dst_w, int dst_h, bool scale_up, evo_transform *r)
{
    int64_t cw, ch;
    if ((int64_t)dst_w * src_h <= (int64_t)dst_h * src_w) // width limits
        cw = dst_w, ch = (int64_t)src_h * dst_w / src_w;
    else
        ch = dst_h, cw = (int64_t)src_w * dst_h / src_h;
    if (!scale_up && cw > src_w)
        cw = src_w, ch = src_h;
    r->content_w = (int)EVO_MAX(1, cw);
    r->content_h = (int)EVO_MAX(1, ch);
    r->content_x = (dst_w - r->content_w) / 2;
    r->content_y = (dst_h - r->content_h) / 2;
    r->scale_x = (double)r->content_w / src_w;
    r->scale_y = (double)r->content_h / src_h;
    r->pad_x = r->content_x;
    r->pad_y = r->content_y;
}

evo_status evo_preprocess_plan(int src_w, int src_h, int dst_w, int dst_h,
                               const evo_preprocess_options *o, evo_transform *t, evo_error *err)
{
    if (src_w <= 0 || src_h <= 0 || src_w > EVO_IMAGE_MAX_SIDE || src_h > EVO_IMAGE_MAX_SIDE)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "preprocess: source size %dx%d", src_w, src_h);
    if (dst_w <= 0 || dst_h <= 0 || dst_w > EVO_IMAGE_MAX_SIDE || dst_h > EVO_IMAGE_MAX_SIDE)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "preprocess: tensor size %dx%d", dst_w, dst_h);
    for (int c = 0; c < 3; c++)
        if (!(o->std[c] != 0.0f) || !isfinite(o->std[c]) || !isfinite(o->mean[c]))
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "preprocess: channel %d mean %g std %g, expected finite, std != 0",
                              c, (double)o->mean[c], (double)o->std[c]);
    evo_transform r;
    memset(&r, 0, sizeof r);
    r.src_w = src_w, r.src_h = src_h, r.dst_w = dst_w, r.dst_h = dst_h;
    double gain = fmin((double)dst_h / src_h, (double)dst_w / src_w);
    switch (o->mode) {
    case EVO_FIT_STRETCH:
        r.content_w = dst_w, r.content_h = dst_h;
        r.scale_x = (double)dst_w / src_w, r.scale_y = (double)dst_h / src_h;
        break;
    case EVO_FIT_LETTERBOX_TOPLEFT:
        // YOLOX preproc: int(w * r), image at the origin, boxes / r.
        if (!o->scale_up && gain > 1.0)
            gain = 1.0;
        r.content_w = EVO_MAX(1, (int)(src_w * gain));
        r.content_h = EVO_MAX(1, (int)(src_h * gain));
        r.scale_x = r.scale_y = gain;
        break;
    case EVO_FIT_CENTER:
        fit_center(src_w, src_h, dst_w, dst_h, o->scale_up, &r);
        break;
    case EVO_FIT_LETTERBOX: {
        // Ultralytics LetterBox: round() is Python's (half to even, as rint),
        // and the +-0.1 split puts an odd pixel of padding bottom/right.
        if (!o->scale_up && gain > 1.0)
            gain = 1.0;
        r.content_w = EVO_MAX(1, EVO_MIN(dst_w, (int)rint(src_w * gain)));
        r.content_h = EVO_MAX(1, EVO_MIN(dst_h, (int)rint(src_h * gain)));
        double dw = (dst_w - r.content_w) / 2.0, dh = (dst_h - r.content_h) / 2.0;
        r.content_x = (int)rint(dw - 0.1);
        r.content_y = (int)rint(dh - 0.1);
        // scale_boxes maps back with the unrounded gain and its own pad.
        r.scale_x = r.scale_y = gain;
        r.pad_x = rint((dst_w - src_w * gain) / 2.0 - 0.1);
        r.pad_y = rint((dst_h - src_h * gain) / 2.0 - 0.1);
        break;
    }
    default:
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "preprocess: unknown resize mode %d",
                          (int)o->mode);
    }
    *t = r;
    return EVO_OK;
}

/* Per-axis linear sample: taps i0, i1 and the weight of i1, as OpenCV computes them. */
typedef struct lin_tap {
    int i0, i1;
    float w1;
    int iw0, iw1; /* 11-bit fixed-point weights, each rounded on its own as OpenCV does */
} lin_tap;

static inline int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/*
 * OpenCV clamps differently per axis: a column outside the image gets the
 * edge pixel at full weight, a row outside keeps its weights and reads the
 * edge row twice. The fixed-point results differ, so both are kept.
 */
static lin_tap linear_tap(int d, double scale, int src_n, bool is_x)
{
    lin_tap t;
    float f = (float)((d + 0.5) * scale - 0.5);
    int s = (int)floorf(f);
    f -= (float)s;
    if (is_x && s < 0) {
        s = 0;
        f = 0.0f;
    }
    if (is_x && s >= src_n - 1) {
        s = src_n - 1;
        f = 0.0f;
    }
    t.i0 = clamp_int(s, 0, src_n - 1);
    t.i1 = clamp_int(s + 1, 0, src_n - 1);
    t.w1 = f;
    t.iw0 = (int)lrintf((1.0f - f) * COEF_ONE);
    t.iw1 = (int)lrintf(f * COEF_ONE);
    return t;
}

static void task_rows(int n, int task, int n_tasks, int *begin, int *end)
{
    int per = n / n_tasks, rem = n % n_tasks;
    *begin = task * per + (task < rem ? task : rem);
    *end = *begin + per + (task < rem ? 1 : 0);
}

typedef struct pp_ctx {
    evo_pixsrc src;
    int src_w, src_h;
    double scale_x, scale_y; /* source pixels per content pixel */
    bool area, round_u8;
    bool area_ref;           /* area per output pixel (the reference), not row-cached */
    float mul[3], add[3];    /* per tensor channel: value * mul + add */
    int order[3];            /* tensor channel c takes rgb[order[c]] */
    float pad[3];
    float *plane[3];
    int dst_w;
} pp_ctx;

/* OpenCV's uint8 vertical pass: 16-bit high multiplies, then round by 2 bits. */
static inline int vmix_u8(int h0, int h1, int b0, int b1)
{
    int v = (((h0 >> 4) * b0) >> 16) + (((h1 >> 4) * b1) >> 16);
    v = (v + 2) >> 2;
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* Columns per block of precomputed horizontal taps (kept on the stack). */
#define TAP_BLOCK 256

/* Bilinear samples for n content columns of one row; fmt is a constant at each call. */
static ALWAYS_INLINE void linear_block(const pp_ctx *c, evo_pixel_format fmt, const lin_tap *tx,
                                       int n, const lin_tap *ty, size_t at)
{
    for (int i = 0; i < n; i++) {
        int p00[3], p01[3], p10[3], p11[3];
        float out[3];
        evo_pixsrc_rgb_fmt(&c->src, fmt, tx[i].i0, ty->i0, p00);
        evo_pixsrc_rgb_fmt(&c->src, fmt, tx[i].i1, ty->i0, p01);
        evo_pixsrc_rgb_fmt(&c->src, fmt, tx[i].i0, ty->i1, p10);
        evo_pixsrc_rgb_fmt(&c->src, fmt, tx[i].i1, ty->i1, p11);
        for (int k = 0; k < 3; k++) {
            if (c->round_u8) {
                int h0 = p00[k] * tx[i].iw0 + p01[k] * tx[i].iw1;
                int h1 = p10[k] * tx[i].iw0 + p11[k] * tx[i].iw1;
                out[k] = (float)vmix_u8(h0, h1, ty->iw0, ty->iw1);
            } else {
                float h0 = (float)p00[k] + tx[i].w1 * (float)(p01[k] - p00[k]);
                float h1 = (float)p10[k] + tx[i].w1 * (float)(p11[k] - p10[k]);
                out[k] = h0 + ty->w1 * (h1 - h0);
            }
        }
        for (int k = 0; k < 3; k++)
            c->plane[k][at + (size_t)i] = out[c->order[k]] * c->mul[k] + c->add[k];
    }
}

static void linear_block_any(const pp_ctx *c, const lin_tap *tx, int n, const lin_tap *ty,
                             size_t at)
{
    switch (c->src.format) {
    case EVO_PIXEL_RGB24: linear_block(c, EVO_PIXEL_RGB24, tx, n, ty, at); break;
    case EVO_PIXEL_BGR24: linear_block(c, EVO_PIXEL_BGR24, tx, n, ty, at); break;
    case EVO_PIXEL_RGBA32: linear_block(c, EVO_PIXEL_RGBA32, tx, n, ty, at); break;
    case EVO_PIXEL_BGRA32: linear_block(c, EVO_PIXEL_BGRA32, tx, n, ty, at); break;
    case EVO_PIXEL_GRAY8: linear_block(c, EVO_PIXEL_GRAY8, tx, n, ty, at); break;
    case EVO_PIXEL_YUYV: linear_block(c, EVO_PIXEL_YUYV, tx, n, ty, at); break;
    case EVO_PIXEL_I420: linear_block(c, EVO_PIXEL_I420, tx, n, ty, at); break;
    default: linear_block(c, EVO_PIXEL_NV12, tx, n, ty, at); break;
    }
}

/*
 * One output pixel's source span on one axis, as OpenCV's
 * computeResizeAreaTab: a partial tap s1 - 1 on the left (when it covers
 * more than 1e-3), full taps [s1, s2), a partial tap s2 on the right; the
 * weights are float coverage / cell width.
 */
typedef struct area_span {
    int s1, s2;
    float w_left, w_mid, w_right; /* 0: no such tap */
} area_span;

static area_span area_span_of(int d, double scale, int src_n)
{
    area_span a;
    double f1 = d * scale, f2 = f1 + scale;
    double cell = fmin(scale, src_n - f1);
    a.s2 = EVO_MIN((int)floor(f2), src_n - 1);
    a.s1 = EVO_MIN((int)ceil(f1), a.s2);
    a.w_left = a.s1 - f1 > 1e-3 ? (float)((a.s1 - f1) / cell) : 0.0f;
    a.w_mid = (float)(1.0 / cell);
    a.w_right = f2 - a.s2 > 1e-3 ? (float)(fmin(fmin(f2 - a.s2, 1.0), cell) / cell) : 0.0f;
    return a;
}

/* Tap k of a span: k = -1 the left partial, [0, s2 - s1) the full ones, s2 - s1 the right partial. */
static inline bool area_tap(const area_span *a, int k, int *s, float *w)
{
    if (k < 0) {
        *s = a->s1 - 1, *w = a->w_left;
    } else if (k < a->s2 - a->s1) {
        *s = a->s1 + k, *w = a->w_mid;
    } else {
        *s = a->s2, *w = a->w_right;
    }
    return *w != 0.0f;
}

/* The x taps of one source row, summed in OpenCV's order (left, middle, right) in float. */
static ALWAYS_INLINE void area_hsum(const pp_ctx *c, evo_pixel_format fmt, const area_span *ax,
                                    int sy, float buf[3])
{
    int p[3], sx;
    float w;
    buf[0] = buf[1] = buf[2] = 0.0f;
    for (int k = -1; k <= ax->s2 - ax->s1; k++) {
        if (!area_tap(ax, k, &sx, &w))
            continue;
        evo_pixsrc_rgb_fmt(&c->src, fmt, sx, sy, p);
        for (int i = 0; i < 3; i++)
            buf[i] = buf[i] + (float)p[i] * w;
    }
}

static inline void area_vadd(float sum[3], const float buf[3], float beta, bool first)
{
    for (int k = 0; k < 3; k++)
        sum[k] = first ? beta * buf[k] : sum[k] + beta * buf[k];
}

/* Integer shrink factors: OpenCV's resizeAreaFast (integer sums; 2x2 rounds as (sum + 2) >> 2). */
static void sample_area_int(const pp_ctx *c, int cy, int cx, float out[3])
{
    int fx = (int)c->scale_x, fy = (int)c->scale_y, sum[3] = {0, 0, 0}, p[3];
    for (int j = 0; j < fy; j++)
        for (int i = 0; i < fx; i++) {
            evo_pixsrc_rgb(&c->src, cx * fx + i, cy * fy + j, p);
            sum[0] += p[0], sum[1] += p[1], sum[2] += p[2];
        }
    float inv = 1.0f / (float)(fx * fy);
    for (int k = 0; k < 3; k++) {
        if (!c->round_u8)
            out[k] = (float)sum[k] * inv;
        else if (fx == 2 && fy == 2)
            out[k] = (float)((sum[k] + 2) >> 2);
        else
            out[k] = (float)lrintf((float)sum[k] * inv);
    }
}

static inline void area_store(const pp_ctx *c, const float sum[3], size_t at)
{
    float v[3];
    for (int k = 0; k < 3; k++) {
        v[k] = c->round_u8 ? (float)lrintf(sum[k]) : sum[k];
        v[k] = v[k] < 0.0f ? 0.0f : v[k] > 255.0f && c->round_u8 ? 255.0f : v[k];
    }
    for (int k = 0; k < 3; k++)
        c->plane[k][at] = v[c->order[k]] * c->mul[k] + c->add[k];
}

/*
 * OpenCV INTER_AREA for a shrink, n content columns of one row: each source
 * row of the y span is summed across each column's x span (float), then
 * weighted into the column's sum, rows in OpenCV's order, so every float
 * operation matches cv2.resize; rounded to 8 bits half to even.
 */
static ALWAYS_INLINE void area_block(const pp_ctx *c, evo_pixel_format fmt, const area_span *ax,
                                     int n, const area_span *ay, size_t at)
{
    float sum[TAP_BLOCK][3], buf[3], beta;
    bool first = true;
    int sy;
    for (int k = -1; k <= ay->s2 - ay->s1; k++) {
        if (!area_tap(ay, k, &sy, &beta))
            continue;
        for (int i = 0; i < n; i++) {
            area_hsum(c, fmt, &ax[i], sy, buf);
            area_vadd(sum[i], buf, beta, first);
        }
        first = false;
    }
    for (int i = 0; i < n; i++)
        area_store(c, sum[i], at + (size_t)i);
}

static void area_block_any(const pp_ctx *c, const area_span *ax, int n, const area_span *ay,
                           size_t at)
{
    switch (c->src.format) {
    case EVO_PIXEL_RGB24: area_block(c, EVO_PIXEL_RGB24, ax, n, ay, at); break;
    case EVO_PIXEL_BGR24: area_block(c, EVO_PIXEL_BGR24, ax, n, ay, at); break;
    default: area_block(c, c->src.format, ax, n, ay, at); break;
    }
}

/*
 * The row-cached area path: each source row is converted to RGB once and
 * summed across every column's x span once (a row two output rows share is
 * kept), then the output rows weight their rows' sums. The three channels
 * travel together in the lanes of a 4-float vector (GCC/Clang vector
 * extensions, SSE or NEON), each lane doing exactly the scalar operations of
 * the per-pixel reference, in its order, so the result is bit for bit the
 * same. Other compilers take the reference.
 */
#if defined(__GNUC__)
#define AREA_ROWS 1
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));

/* Source columns converted per row, at most: a wider column block (a shrink by more) takes the reference. */
#define AREA_SRC_BLOCK 1024

/* One YUV pixel: c holds the chroma terms (with the rounding half) of R, G, B; as evo_yuv_to_rgb_inline. */
static ALWAYS_INLINE v4f yuv_v4(int luma, v4i c)
{
    v4i v = c + (luma > 16 ? luma - 16 : 0) * EVO_YUV_CY;
    v >>= EVO_YUV_SHIFT;
    v &= v > 0;
    v = (v & (v <= 255)) | (255 & (v > 255));
    return __builtin_convertvector(v, v4f);
}

static ALWAYS_INLINE v4i chroma_v4(int u, int v)
{
    const int half = 1 << (EVO_YUV_SHIFT - 1);
    int uu = u - 128, vv = v - 128;
    return (v4i){half + EVO_YUV_CVR * vv, half + EVO_YUV_CVG * vv + EVO_YUV_CUG * uu,
                 half + EVO_YUV_CUB * uu, half};
}

/* Columns [x0, x0 + n) of a YUV source row as RGB floats; each chroma sample converted once per pair. */
static ALWAYS_INLINE void yuv_row_v4(const evo_pixsrc *s, evo_pixel_format fmt, int y, int x0, int n,
                                     v4f *out)
{
    const uint8_t *row = s->data + (size_t)y * s->stride;
    const uint8_t *cu, *cv;
    size_t cstep;
    if (fmt == EVO_PIXEL_NV12) {
        cu = s->uv + (size_t)(y >> 1) * s->uv_stride, cv = cu + 1, cstep = 2;
    } else if (fmt == EVO_PIXEL_I420) {
        cu = s->uv + (size_t)(y >> 1) * s->uv_stride, cv = s->v + (size_t)(y >> 1) * s->uv_stride;
        cstep = 1;
    } else { // YUYV: Y0 U Y1 V, luma of column x at 2x
        cu = row + 1, cv = row + 3, cstep = 4;
    }
    size_t lstep = fmt == EVO_PIXEL_YUYV ? 2 : 1;
    for (int i = 0, x = x0; i < n;) {
        size_t j = cstep * (size_t)(x >> 1);
        v4i c = chroma_v4(cu[j], cv[j]);
        out[i] = yuv_v4(row[lstep * (size_t)x], c);
        if (!(x & 1) && i + 1 < n) { // the pair's odd column shares the chroma
            out[i + 1] = yuv_v4(row[lstep * (size_t)(x + 1)], c);
            i++, x++;
        }
        i++, x++;
    }
}

/* Columns [x0, x0 + n) of source row y as RGB floats (lane 3 unused): each pixel read once. */
static void row_v4(const evo_pixsrc *s, int y, int x0, int n, v4f *out)
{
    switch (s->format) {
    case EVO_PIXEL_NV12: yuv_row_v4(s, EVO_PIXEL_NV12, y, x0, n, out); return;
    case EVO_PIXEL_I420: yuv_row_v4(s, EVO_PIXEL_I420, y, x0, n, out); return;
    case EVO_PIXEL_YUYV: yuv_row_v4(s, EVO_PIXEL_YUYV, y, x0, n, out); return;
    default: break;
    }
    for (int i = 0; i < n; i++) {
        int p[3];
        evo_pixsrc_rgb(s, x0 + i, y, p);
        out[i] = (v4f){(float)p[0], (float)p[1], (float)p[2], 0.0f};
    }
}

/*
 * Row-cached area state of one column block: each column's taps as a run of
 * source columns (from lo) with their weights, the converted row, and the x
 * sums of two rows.
 */
typedef struct area_cache {
    int first[TAP_BLOCK], count[TAP_BLOCK], wat[TAP_BLOCK];
    float w[AREA_SRC_BLOCK + 2 * TAP_BLOCK];
    v4f rgb[AREA_SRC_BLOCK];
    v4f hs[2][TAP_BLOCK];
    int hs_row[2];
} area_cache;

/* The tap runs of the block: area_tap's taps in its order, zero weights (only at the ends) dropped. */
static void area_cache_init(area_cache *k, const area_span *ax, int n, int lo)
{
    int at = 0;
    for (int i = 0; i < n; i++) {
        k->first[i] = -1, k->count[i] = 0, k->wat[i] = at;
        int sx;
        float w;
        for (int t = -1; t <= ax[i].s2 - ax[i].s1; t++) {
            if (!area_tap(&ax[i], t, &sx, &w))
                continue;
            if (k->first[i] < 0)
                k->first[i] = sx - lo;
            k->w[at++] = w;
            k->count[i]++;
        }
        if (k->first[i] < 0)
            k->first[i] = 0;
    }
    k->hs_row[0] = k->hs_row[1] = -1;
}

/* The x sums of source row sy for the block's n columns, once per row; as area_hsum, lane by lane. */
static const v4f *area_row_sums(const pp_ctx *c, int n, int lo, int hi, int sy, area_cache *k)
{
    int slot = sy & 1;
    if (k->hs_row[slot] == sy)
        return k->hs[slot];
    row_v4(&c->src, sy, lo, hi - lo + 1, k->rgb);
    for (int i = 0; i < n; i++) {
        const v4f *p = k->rgb + k->first[i];
        const float *w = k->w + k->wat[i];
        v4f sum = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int t = 0; t < k->count[i]; t++)
            sum = sum + p[t] * w[t];
        k->hs[slot][i] = sum;
    }
    k->hs_row[slot] = sy;
    return k->hs[slot];
}

/* Content rows [cy0, cy1) of one column block (n columns from content column x0) from cached rows. */
static void area_rows_cached(const pp_ctx *c, const evo_transform *t, const area_span *ax, int n,
                             int x0, int lo, int hi, int cy0, int cy1)
{
    area_cache k;
    v4f sum[TAP_BLOCK];
    area_cache_init(&k, ax, n, lo);
    for (int cy = cy0; cy < cy1; cy++) {
        area_span ay = area_span_of(cy, c->scale_y, c->src_h);
        bool first = true;
        float beta;
        int sy;
        for (int tap = -1; tap <= ay.s2 - ay.s1; tap++) {
            if (!area_tap(&ay, tap, &sy, &beta))
                continue;
            const v4f *h = area_row_sums(c, n, lo, hi, sy, &k);
            if (first)
                for (int i = 0; i < n; i++)
                    sum[i] = beta * h[i];
            else
                for (int i = 0; i < n; i++)
                    sum[i] = sum[i] + beta * h[i];
            first = false;
        }
        size_t at = (size_t)(cy + t->content_y) * t->dst_w + (size_t)(t->content_x + x0);
        for (int i = 0; i < n; i++) {
            float v[3] = {sum[i][0], sum[i][1], sum[i][2]};
            area_store(c, v, at + (size_t)i);
        }
    }
}
#else
#define AREA_ROWS 0
#define AREA_SRC_BLOCK 1
static void area_rows_cached(const pp_ctx *c, const evo_transform *t, const area_span *ax, int n,
                             int x0, int lo, int hi, int cy0, int cy1)
{
    (void)c, (void)t, (void)ax, (void)n, (void)x0, (void)lo, (void)hi, (void)cy0, (void)cy1;
}
#endif

/* Area rows [cy0, cy1): integer factors per pixel, others in column blocks of precomputed spans. */
static void area_rows(const pp_ctx *c, const evo_transform *t, int cy0, int cy1)
{
    if (c->scale_x == floor(c->scale_x) && c->scale_y == floor(c->scale_y)) {
        for (int cy = cy0; cy < cy1; cy++) {
            size_t at = (size_t)(cy + t->content_y) * t->dst_w + (size_t)t->content_x;
            for (int cx = 0; cx < t->content_w; cx++) {
                float rgb[3];
                sample_area_int(c, cy, cx, rgb);
                for (int k = 0; k < 3; k++)
                    c->plane[k][at + (size_t)cx] = rgb[c->order[k]] * c->mul[k] + c->add[k];
            }
        }
        return;
    }
    area_span ax[TAP_BLOCK];
    for (int x0 = 0, n; x0 < t->content_w; x0 += n) {
        n = EVO_MIN(TAP_BLOCK, t->content_w - x0);
        for (int i = 0; i < n; i++)
            ax[i] = area_span_of(x0 + i, c->scale_x, c->src_w);
        // source columns [lo, hi] of the block; fewer columns until they fit the row buffer
        int lo = ax[0].w_left != 0.0f ? ax[0].s1 - 1 : ax[0].s1;
        while (n > 1 && ax[n - 1].s2 - lo + 1 > AREA_SRC_BLOCK)
            n--;
        int hi = ax[n - 1].s2;
        if (AREA_ROWS && !c->area_ref && hi - lo + 1 <= AREA_SRC_BLOCK) {
            area_rows_cached(c, t, ax, n, x0, lo, hi, cy0, cy1);
            continue;
        }
        for (int cy = cy0; cy < cy1; cy++) {
            area_span ay = area_span_of(cy, c->scale_y, c->src_h);
            area_block_any(c, ax, n, &ay, (size_t)(cy + t->content_y) * t->dst_w + (size_t)(t->content_x + x0));
        }
    }
}

static void pad_span(const pp_ctx *c, size_t at, int n)
{
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < n; i++)
            c->plane[k][at + (size_t)i] = c->pad[k];
}

/* Content rows [cy0, cy1) in column blocks, so horizontal taps are computed once per block. */
static void content_rows(const pp_ctx *c, const evo_transform *t, int cy0, int cy1)
{
    if (c->area) {
        area_rows(c, t, cy0, cy1);
        return;
    }
    lin_tap tx[TAP_BLOCK];
    for (int x0 = 0; x0 < t->content_w; x0 += TAP_BLOCK) {
        int n = EVO_MIN(TAP_BLOCK, t->content_w - x0);
        for (int i = 0; i < n; i++)
            tx[i] = linear_tap(x0 + i, c->scale_x, c->src_w, true);
        for (int cy = cy0; cy < cy1; cy++) {
            lin_tap ty = linear_tap(cy, c->scale_y, c->src_h, false);
            size_t at = (size_t)(cy + t->content_y) * t->dst_w + (size_t)(t->content_x + x0);
            linear_block_any(c, tx, n, &ty, at);
        }
    }
}

static void preprocess_run(const evo_frame *f, const evo_transform *t,
                           const evo_preprocess_options *o, float *dst, int task, int n_tasks,
                           bool area_ref)
{
    pp_ctx c;
    c.area_ref = area_ref;
    c.src = evo_pixsrc_make(f);
    c.src_w = f->width, c.src_h = f->height;
    // OpenCV computes the inverse scale first; keep its rounding.
    c.scale_x = 1.0 / ((double)t->content_w / f->width);
    c.scale_y = 1.0 / ((double)t->content_h / f->height);
    bool shrinks = c.scale_x >= 1.0 && c.scale_y >= 1.0;
    c.area = (o->interp == EVO_INTERP_AREA && shrinks) ||
             (o->interp == EVO_INTERP_AUTO && c.scale_x >= 2.0 && c.scale_y >= 2.0);
    c.round_u8 = o->round_u8;
    c.dst_w = t->dst_w;
    size_t plane_size = (size_t)t->dst_w * (size_t)t->dst_h;
    for (int k = 0; k < 3; k++) {
        c.order[k] = o->bgr ? 2 - k : k;
        c.mul[k] = o->scale / o->std[k];
        c.add[k] = -o->mean[k] / o->std[k];
        c.pad[k] = (float)o->pad_value * c.mul[k] + c.add[k];
        c.plane[k] = dst + (size_t)k * plane_size;
    }
    int y_begin, y_end;
    task_rows(t->dst_h, task, n_tasks < 1 ? 1 : n_tasks, &y_begin, &y_end);
    int right = t->content_x + t->content_w;
    for (int y = y_begin; y < y_end; y++) {
        size_t row = (size_t)y * (size_t)t->dst_w;
        int cy = y - t->content_y;
        if (cy < 0 || cy >= t->content_h) {
            pad_span(&c, row, t->dst_w);
        } else {
            pad_span(&c, row, t->content_x);
            pad_span(&c, row + (size_t)right, t->dst_w - right);
        }
    }
    int cy0 = EVO_MAX(y_begin - t->content_y, 0), cy1 = EVO_MIN(y_end - t->content_y, t->content_h);
    if (cy0 < cy1)
        content_rows(&c, t, cy0, cy1);
}

void evo_preprocess_run(const evo_frame *f, const evo_transform *t,
                        const evo_preprocess_options *o, float *dst, int task, int n_tasks)
{
    preprocess_run(f, t, o, dst, task, n_tasks, false);
}

void evo_preprocess_run_ref(const evo_frame *f, const evo_transform *t,
                            const evo_preprocess_options *o, float *dst, int task, int n_tasks)
{
    preprocess_run(f, t, o, dst, task, n_tasks, true);
}

evo_status evo_preprocess(const evo_frame *f, int dst_w, int dst_h,
                          const evo_preprocess_options *o, float *dst, evo_transform *t,
                          evo_error *err)
{
    evo_status st = evo_frame_check(f, err);
    if (st != EVO_OK)
        return st;
    evo_transform tr;
    st = evo_preprocess_plan(f->width, f->height, dst_w, dst_h, o, &tr, err);
    if (st != EVO_OK)
        return st;
    evo_preprocess_run(f, &tr, o, dst, 0, 1);
    if (t)
        *t = tr;
    return EVO_OK;
}

void evo_transform_boxes(const evo_transform *t, evo_detection *dets, int n)
{
    for (int i = 0; i < n; i++) {
        evo_detection *d = &dets[i];
        double x0 = (d->x0 - t->pad_x) / t->scale_x, x1 = (d->x1 - t->pad_x) / t->scale_x;
        double y0 = (d->y0 - t->pad_y) / t->scale_y, y1 = (d->y1 - t->pad_y) / t->scale_y;
        d->x0 = (float)fmin(fmax(x0, 0.0), (double)t->src_w);
        d->x1 = (float)fmin(fmax(x1, 0.0), (double)t->src_w);
        d->y0 = (float)fmin(fmax(y0, 0.0), (double)t->src_h);
        d->y1 = (float)fmin(fmax(y1, 0.0), (double)t->src_h);
    }
}
