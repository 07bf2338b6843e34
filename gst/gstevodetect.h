/*
 * gstevodetect.h - the evodetect element: an in-place video filter that
 * runs an evo detector on every frame in the frame's own memory (RGB, BGR,
 * 4-byte RGB/BGR, NV12, I420; no conversion copy), attaches the boxes as
 * GstVideoRegionOfInterestMeta, posts them as element messages and can draw
 * them in place. The model loads once, when the element starts.
 */
#ifndef GST_EVODETECT_H
#define GST_EVODETECT_H

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include "evo.h"
#include "vision/vision.h"

G_BEGIN_DECLS

#define GST_TYPE_EVODETECT (gst_evodetect_get_type())
G_DECLARE_FINAL_TYPE(GstEvoDetect, gst_evodetect, GST, EVODETECT, GstVideoFilter)

/* Per-frame stages the stats report: the detector's three, then the element's own. */
typedef enum evodetect_stage {
    EVODETECT_PREPROCESS = 0,
    EVODETECT_INFERENCE,
    EVODETECT_POSTPROCESS,
    EVODETECT_ATTACH, /* metas, drawing and the element message */
    EVODETECT_TOTAL,  /* the whole transform of one buffer, map to unmap */
    EVODETECT_N_STAGES
} evodetect_stage;

/* Stage times of the last EVODETECT_RING frames (for percentiles) and sums over all. */
#define EVODETECT_RING 8192
typedef struct evodetect_stats {
    guint64 n_frames;
    guint64 n_dets;
    double sum_ms[EVODETECT_N_STAGES];
    guint64 sum_copied[EVODETECT_N_STAGES]; /* pixel bytes copied, by stage (total: all of them) */
    guint64 frame_bytes;                    /* bytes of the last frame's planes, read in place */
    float ring_ms[EVODETECT_N_STAGES][EVODETECT_RING];
    gint64 first_ns, last_ns; /* monotonic clock at the first and the last frame's end */
} evodetect_stats;

struct _GstEvoDetect {
    GstVideoFilter parent;

    /* properties, under the object lock; read when the element starts */
    gchar *model_path;
    gchar *preset;
    gchar *options;
    gchar *labels_path;
    gchar *isa;
    gchar *input_shape;
    gdouble conf, iou; /* < 0: the preset's */
    gint n_threads;
    /* properties read on every frame */
    gboolean draw;
    gboolean post_messages;
    gboolean stats;

    /* streaming state: made in start, freed in stop */
    evo_model *model;
    evo_detector *det;
    evo_names names;
    gboolean names_from_file;
    gboolean names_resolved;
    evo_pixel_format format;
    evodetect_stats *st;
};

/* Attaches one GstVideoRegionOfInterestMeta per detection, clipped to the frame. */
void evodetect_attach_metas(GstEvoDetect *self, GstBuffer *buf, int width, int height,
                            const evo_detection *dets, int n);
/* Posts the "evodetect" element message of one frame. */
void evodetect_post_frame(GstEvoDetect *self, GstBuffer *buf, int width, int height,
                          const evo_detection *dets, int n, const evo_detect_timing *t,
                          guint64 copied);
/* Adds one frame's stage times and copied bytes (copied[EVODETECT_TOTAL] is their sum) to the stats. */
void evodetect_stats_add(evodetect_stats *st, const double ms[EVODETECT_N_STAGES],
                         const guint64 copied[EVODETECT_N_STAGES], guint64 frame_bytes, int n_dets);
/* Prints the stats table to stderr and posts it as an "evodetect-stats" element message. */
void evodetect_stats_report(GstEvoDetect *self);
/* The label of class_id: its name when known, else "class-N" (buf of size >= 24). */
const char *evodetect_label(const GstEvoDetect *self, int class_id, char *buf, size_t size);

G_END_DECLS

#endif /* GST_EVODETECT_H */
