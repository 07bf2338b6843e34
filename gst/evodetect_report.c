/*
 * evodetect_report.c - what evodetect hands downstream: one
 * GstVideoRegionOfInterestMeta per box (label = class name, a "detection"
 * param with confidence, class id and the unrounded corners), one
 * "evodetect" element message per frame, and the timing table at EOS.
 *
 * ROI metas hold integer pixels, so the float corners the detector returns
 * also travel in the param structure and in the message: a consumer can
 * compare them exactly with `evo detect` on the same pixels.
 */
#include "gstevodetect.h"

#include <math.h>
#include <stdlib.h>

const char *evodetect_label(const GstEvoDetect *self, int class_id, char *buf, size_t size)
{
    const char *name = evo_names_get(&self->names, class_id);
    if (name)
        return name;
    g_snprintf(buf, size, "class-%d", class_id);
    return buf;
}

/* v rounded and clipped to [0, limit]; NaN goes to 0. */
static guint clip_px(float v, int limit)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= (float)limit)
        return (guint)limit;
    return (guint)lrintf(v);
}

void evodetect_attach_metas(GstEvoDetect *self, GstBuffer *buf, int width, int height,
                            const evo_detection *dets, int n)
{
    for (int i = 0; i < n; i++) {
        const evo_detection *d = &dets[i];
        guint x0 = clip_px(d->x0, width), y0 = clip_px(d->y0, height);
        guint x1 = clip_px(d->x1, width), y1 = clip_px(d->y1, height);
        char tmp[32];
        GstVideoRegionOfInterestMeta *m = gst_buffer_add_video_region_of_interest_meta(
            buf, evodetect_label(self, d->class_id, tmp, sizeof tmp), x0, y0,
            x1 > x0 ? x1 - x0 : 0, y1 > y0 ? y1 - y0 : 0);
        if (!m)
            continue;
        m->id = i;
        gst_video_region_of_interest_meta_add_param(
            m, gst_structure_new("detection", "confidence", G_TYPE_DOUBLE, (double)d->score,
                                 "class-id", G_TYPE_INT, d->class_id, "x0", G_TYPE_DOUBLE,
                                 (double)d->x0, "y0", G_TYPE_DOUBLE, (double)d->y0, "x1",
                                 G_TYPE_DOUBLE, (double)d->x1, "y1", G_TYPE_DOUBLE, (double)d->y1,
                                 NULL));
    }
}

void evodetect_post_frame(GstEvoDetect *self, GstBuffer *buf, int width, int height,
                          const evo_detection *dets, int n, const evo_detect_timing *t,
                          guint64 copied)
{
    GValue list = G_VALUE_INIT;
    g_value_init(&list, GST_TYPE_LIST);
    for (int i = 0; i < n; i++) {
        const evo_detection *d = &dets[i];
        char tmp[32];
        GValue v = G_VALUE_INIT;
        g_value_init(&v, GST_TYPE_STRUCTURE);
        GstStructure *s = gst_structure_new(
            "detection", "class-id", G_TYPE_INT, d->class_id, "label", G_TYPE_STRING,
            evodetect_label(self, d->class_id, tmp, sizeof tmp), "confidence", G_TYPE_DOUBLE,
            (double)d->score, "x0", G_TYPE_DOUBLE, (double)d->x0, "y0", G_TYPE_DOUBLE,
            (double)d->y0, "x1", G_TYPE_DOUBLE, (double)d->x1, "y1", G_TYPE_DOUBLE, (double)d->y1,
            NULL);
        g_value_take_boxed(&v, s);
        gst_value_list_append_and_take_value(&list, &v);
    }
    GstStructure *s = gst_structure_new(
        "evodetect", "timestamp", G_TYPE_UINT64, (guint64)GST_BUFFER_PTS(buf), "offset",
        G_TYPE_UINT64, (guint64)GST_BUFFER_OFFSET(buf), "width", G_TYPE_INT, width, "height",
        G_TYPE_INT, height, "n-detections", G_TYPE_INT, n, "preprocess-ms", G_TYPE_DOUBLE,
        t->preprocess_ms, "inference-ms", G_TYPE_DOUBLE, t->inference_ms, "postprocess-ms",
        G_TYPE_DOUBLE, t->postprocess_ms, "copied-bytes", G_TYPE_UINT64, copied, NULL);
    gst_structure_take_value(s, "detections", &list);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

void evodetect_stats_add(evodetect_stats *st, const double ms[EVODETECT_N_STAGES],
                         const guint64 copied[EVODETECT_N_STAGES], guint64 frame_bytes, int n_dets)
{
    size_t at = (size_t)(st->n_frames % EVODETECT_RING);
    st->frame_bytes = frame_bytes;
    for (int k = 0; k < EVODETECT_N_STAGES; k++) {
        st->sum_copied[k] += copied[k];
        st->sum_ms[k] += ms[k];
        st->ring_ms[k][at] = (float)ms[k];
    }
    gint64 now = (gint64)evo_now_ns();
    if (st->n_frames == 0)
        st->first_ns = now - (gint64)(ms[EVODETECT_TOTAL] * 1e6);
    st->last_ns = now;
    st->n_frames++;
    st->n_dets += (guint64)n_dets;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of v[0..n), sorted in place. */
static double quantile(float *v, size_t n, double q)
{
    qsort(v, n, sizeof(float), cmp_float);
    size_t r = (size_t)ceil(q * (double)n);
    return v[r > 0 ? r - 1 : 0];
}

void evodetect_stats_report(GstEvoDetect *self)
{
    static const char *const names[EVODETECT_N_STAGES] = {"preprocess", "inference", "postprocess",
                                                          "meta+draw", "total"};
    evodetect_stats *st = self->st;
    if (!st || st->n_frames == 0) {
        g_printerr("%s: stats: no frames\n", GST_OBJECT_NAME(self));
        return;
    }
    size_t n = (size_t)MIN(st->n_frames, (guint64)EVODETECT_RING);
    float *tmp = g_new(float, n);
    double mean[EVODETECT_N_STAGES], p50[EVODETECT_N_STAGES], p99[EVODETECT_N_STAGES];
    double copied[EVODETECT_N_STAGES];
    for (int k = 0; k < EVODETECT_N_STAGES; k++) {
        memcpy(tmp, st->ring_ms[k], n * sizeof(float));
        copied[k] = (double)st->sum_copied[k] / (double)st->n_frames;
        mean[k] = st->sum_ms[k] / (double)st->n_frames;
        p50[k] = quantile(tmp, n, 0.50);
        p99[k] = quantile(tmp, n, 0.99);
    }
    g_free(tmp);
    double wall_s = (double)(st->last_ns - st->first_ns) / 1e9;
    double fps = wall_s > 0 ? (double)st->n_frames / wall_s : 0.0;
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "%s: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
                                " detections; per frame (percentiles over the last %zu):\n",
                           GST_OBJECT_NAME(self), st->n_frames, st->n_dets, n);
    g_string_append_printf(out, "  %-12s %9s %9s %9s %16s\n", "stage", "mean ms", "p50 ms", "p99 ms",
                           "copied B/frame");
    for (int k = 0; k < EVODETECT_N_STAGES; k++)
        g_string_append_printf(out, "  %-12s %9.2f %9.2f %9.2f %16.0f\n", names[k], mean[k], p50[k],
                               p99[k], copied[k]);
    g_string_append_printf(out, "  throughput   %.1f fps (first to last frame, %.2f s)\n", fps, wall_s);
    g_string_append_printf(out,
                           "  pixels: the letterbox reads each %" G_GUINT64_FORMAT
                           "-byte frame once, in place; other copies: %.0f B/frame\n",
                           st->frame_bytes, copied[EVODETECT_TOTAL]);
    g_printerr("%s", out->str);
    g_string_free(out, TRUE);

    GstStructure *s = gst_structure_new(
        "evodetect-stats", "frames", G_TYPE_UINT64, st->n_frames, "detections", G_TYPE_UINT64,
        st->n_dets, "fps", G_TYPE_DOUBLE, fps, "preprocess-ms", G_TYPE_DOUBLE,
        mean[EVODETECT_PREPROCESS], "inference-ms", G_TYPE_DOUBLE, mean[EVODETECT_INFERENCE],
        "postprocess-ms", G_TYPE_DOUBLE, mean[EVODETECT_POSTPROCESS], "meta-draw-ms", G_TYPE_DOUBLE,
        mean[EVODETECT_ATTACH], "total-ms", G_TYPE_DOUBLE, mean[EVODETECT_TOTAL], "total-p50-ms",
        G_TYPE_DOUBLE, p50[EVODETECT_TOTAL], "total-p99-ms", G_TYPE_DOUBLE, p99[EVODETECT_TOTAL],
        "preprocess-copied-bytes", G_TYPE_DOUBLE, copied[EVODETECT_PREPROCESS],
        "inference-copied-bytes", G_TYPE_DOUBLE, copied[EVODETECT_INFERENCE],
        "postprocess-copied-bytes", G_TYPE_DOUBLE, copied[EVODETECT_POSTPROCESS],
        "meta-draw-copied-bytes", G_TYPE_DOUBLE, copied[EVODETECT_ATTACH], "copied-bytes",
        G_TYPE_DOUBLE, copied[EVODETECT_TOTAL], "frame-bytes", G_TYPE_UINT64, st->frame_bytes, NULL);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}
