/*
 * gstevodetect.c - the evodetect element and the plugin entry point.
 *
 * The element is in place and never passthrough: the detector reads the
 * mapped planes where they are (GstVideoMeta strides honoured), and the
 * buffer is mapped for writing only when draw is set, so a read-only
 * upstream buffer is never copied just to be looked at. Everything that
 * can fail without a frame (model, preset, labels, thread pool) happens in
 * start(), and failures go out as GST_ELEMENT_ERROR with evo's message.
 */
#include "gstevodetect.h"

#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(gst_evodetect_debug);
#define GST_CAT_DEFAULT gst_evodetect_debug

enum {
    PROP_0,
    PROP_MODEL,
    PROP_PRESET,
    PROP_OPTIONS,
    PROP_CONF,
    PROP_IOU,
    PROP_THREADS,
    PROP_ISA,
    PROP_INPUT_SHAPE,
    PROP_LABELS,
    PROP_DRAW,
    PROP_MESSAGE,
    PROP_STATS,
};

#define EVODETECT_FORMATS "{ NV12, I420, RGB, BGR, RGBx, BGRx, RGBA, BGRA }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(EVODETECT_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(EVODETECT_FORMATS)));

G_DEFINE_TYPE(GstEvoDetect, gst_evodetect, GST_TYPE_VIDEO_FILTER)

/* The evo layout of a GStreamer format; FALSE for the ones evo does not read. */
static gboolean evo_format_of(GstVideoFormat f, evo_pixel_format *out)
{
    switch (f) {
    case GST_VIDEO_FORMAT_RGB: *out = EVO_PIXEL_RGB24; return TRUE;
    case GST_VIDEO_FORMAT_BGR: *out = EVO_PIXEL_BGR24; return TRUE;
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_RGBA: *out = EVO_PIXEL_RGBA32; return TRUE;
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_BGRA: *out = EVO_PIXEL_BGRA32; return TRUE;
    case GST_VIDEO_FORMAT_NV12: *out = EVO_PIXEL_NV12; return TRUE;
    case GST_VIDEO_FORMAT_I420: *out = EVO_PIXEL_I420; return TRUE;
    default: return FALSE;
    }
}

static void forward_log(void *user, int level, const char *msg)
{
    GstEvoDetect *self = user;
    GST_INFO_OBJECT(self, "evo (level %d): %s", level, msg);
}

/* Parses "NAME=1x3xHxW" into sh (name borrowed from spec, which it cuts at '='). */
static gboolean parse_input_shape(gchar *spec, evo_input_shape *sh)
{
    gchar *eq = strrchr(spec, '=');
    if (!eq || eq == spec)
        return FALSE;
    *eq = 0;
    sh->name = spec;
    sh->rank = 0;
    for (gchar *p = eq + 1;;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 1 || d > 1000000 || sh->rank == EVO_MAX_RANK)
            return FALSE;
        sh->dims[sh->rank++] = d;
        if (*end == 0)
            return TRUE;
        if (*end != 'x')
            return FALSE;
        p = end + 1;
    }
}

/* Applies "key=value;key=value" preset options (the preset file keys) to o. */
static gboolean apply_options(const gchar *text, evo_detect_options *o, evo_error *err)
{
    gchar **items = g_strsplit(text, ";", -1);
    gboolean ok = TRUE;
    for (int i = 0; ok && items[i]; i++) {
        gchar *item = g_strstrip(items[i]);
        if (!*item)
            continue;
        gchar *eq = strchr(item, '=');
        if (!eq) {
            g_snprintf(err->msg, sizeof err->msg, "options: \"%s\": expected key=value", item);
            ok = FALSE;
            break;
        }
        *eq = 0;
        ok = evo_detect_option_set(o, g_strstrip(item), g_strstrip(eq + 1), err) == EVO_OK;
    }
    g_strfreev(items);
    return ok;
}

/* Snapshot of the start-time properties (strings owned). */
typedef struct start_props {
    gchar *model_path, *preset, *options, *labels_path, *isa, *input_shape;
    gdouble conf, iou;
    gint n_threads;
} start_props;

static void start_props_clear(start_props *p)
{
    g_free(p->model_path), g_free(p->preset), g_free(p->options);
    g_free(p->labels_path), g_free(p->isa), g_free(p->input_shape);
}

/* The detector options from preset, options, conf and iou; FALSE with the error posted. */
static gboolean detect_options(GstEvoDetect *self, const start_props *p, evo_detect_options *o)
{
    evo_error err = {0};
    *o = evo_detect_options_default();
    if (p->preset && *p->preset && evo_detect_options_preset(p->preset, o, &err) != EVO_OK) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("evodetect: preset: %s", err.msg), (NULL));
        return FALSE;
    }
    if (p->options && !apply_options(p->options, o, &err)) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("evodetect: %s", err.msg), (NULL));
        return FALSE;
    }
    if (p->conf >= 0)
        o->decode.conf_threshold = (float)p->conf;
    if (p->iou >= 0)
        o->decode.iou_threshold = (float)p->iou;
    return TRUE;
}

/* Loads the model and makes the detector; FALSE with the error posted. */
static gboolean open_detector(GstEvoDetect *self, const start_props *p, const evo_detect_options *o)
{
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    evo_input_shape shape;
    co.log = forward_log;
    co.log_user = self;
    if (p->input_shape) {
        if (!parse_input_shape(p->input_shape, &shape)) {
            GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                              ("evodetect: input-shape \"%s\": expected NAME=1x3xHxW", p->input_shape),
                              (NULL));
            return FALSE;
        }
        co.input_shapes = &shape;
        co.n_input_shapes = 1;
    }
    if (evo_model_load(p->model_path, &co, &self->model, &err) != EVO_OK) {
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("evodetect: %s", err.msg), (NULL));
        return FALSE;
    }
    evo_tensor_desc in;
    if (evo_model_n_inputs(self->model) < 1 || evo_model_input_desc(self->model, 0, &in) != EVO_OK ||
        in.dtype != EVO_DTYPE_FLOAT || in.rank != 4 || in.dims[0] != 1 || in.dims[1] != 3 ||
        in.dims[2] < 1 || in.dims[3] < 1) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                          ("evodetect: %s: input 0 must be float32 [1,3,H,W] with fixed H and W "
                           "(set input-shape)", p->model_path), (NULL));
        return FALSE;
    }
    evo_session_options so = evo_session_options_default();
    so.n_threads = p->n_threads;
    so.isa = p->isa && *p->isa ? p->isa : NULL;
    if (evo_detector_create(self->model, &so, o, &self->det, &err) != EVO_OK) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("evodetect: %s", err.msg), (NULL));
        return FALSE;
    }
    GST_INFO_OBJECT(self, "%s: input [1,3,%lld,%lld], %d threads", p->model_path,
                    (long long)in.dims[2], (long long)in.dims[3], p->n_threads);
    return TRUE;
}

static gboolean gst_evodetect_stop(GstBaseTransform *bt);

static gboolean gst_evodetect_start(GstBaseTransform *bt)
{
    GstEvoDetect *self = GST_EVODETECT(bt);
    start_props p;
    GST_OBJECT_LOCK(self);
    p.model_path = g_strdup(self->model_path), p.preset = g_strdup(self->preset);
    p.options = g_strdup(self->options), p.labels_path = g_strdup(self->labels_path);
    p.isa = g_strdup(self->isa), p.input_shape = g_strdup(self->input_shape);
    p.conf = self->conf, p.iou = self->iou, p.n_threads = self->n_threads;
    GST_OBJECT_UNLOCK(self);

    gboolean ok = FALSE;
    evo_detect_options o;
    evo_error err = {0};
    if (!p.model_path || !*p.model_path) {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                          ("evodetect: no model: set the model property to an ONNX or .evo file"),
                          (NULL));
        goto done;
    }
    if (!detect_options(self, &p, &o) || !open_detector(self, &p, &o))
        goto done;
    self->names = evo_names_coco();
    self->names_from_file = FALSE;
    self->names_resolved = FALSE;
    if (p.labels_path && *p.labels_path) {
        if (evo_names_load(p.labels_path, &self->names, &err) != EVO_OK) {
            GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("evodetect: labels: %s", err.msg), (NULL));
            goto done;
        }
        self->names_from_file = TRUE;
    }
    self->st = g_new0(evodetect_stats, 1);
    ok = TRUE;
done:
    start_props_clear(&p);
    if (!ok)
        gst_evodetect_stop(bt);
    return ok;
}

static gboolean gst_evodetect_stop(GstBaseTransform *bt)
{
    GstEvoDetect *self = GST_EVODETECT(bt);
    evo_detector_free(self->det);
    self->det = NULL;
    evo_model_free(self->model);
    self->model = NULL;
    evo_names_free(&self->names);
    memset(&self->names, 0, sizeof self->names);
    g_free(self->st);
    self->st = NULL;
    return TRUE;
}

static gboolean gst_evodetect_set_info(GstVideoFilter *vf, GstCaps *incaps, GstVideoInfo *in_info,
                                       GstCaps *outcaps, GstVideoInfo *out_info)
{
    GstEvoDetect *self = GST_EVODETECT(vf);
    GstVideoFormat f = GST_VIDEO_INFO_FORMAT(in_info);
    int w = GST_VIDEO_INFO_WIDTH(in_info), h = GST_VIDEO_INFO_HEIGHT(in_info);
    if (!evo_format_of(f, &self->format)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("evodetect: format %s is not supported", gst_video_format_to_string(f)),
                          (NULL));
        return FALSE;
    }
    if ((self->format == EVO_PIXEL_NV12 || self->format == EVO_PIXEL_I420) && ((w | h) & 1)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("evodetect: %s frames must have an even width and height, got %dx%d",
                           gst_video_format_to_string(f), w, h), (NULL));
        return FALSE;
    }
    GST_INFO_OBJECT(self, "%s %dx%d", gst_video_format_to_string(f), w, h);
    return TRUE;
}

/* The frame's planes as evo reads them, in place. */
static evo_canvas canvas_of(const GstVideoFrame *vf, evo_pixel_format format)
{
    evo_canvas c = {format, GST_VIDEO_FRAME_WIDTH(vf), GST_VIDEO_FRAME_HEIGHT(vf),
                    GST_VIDEO_FRAME_PLANE_DATA(vf, 0), (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(vf, 0),
                    NULL, 0, NULL};
    if (format == EVO_PIXEL_NV12 || format == EVO_PIXEL_I420) {
        c.uv_data = GST_VIDEO_FRAME_PLANE_DATA(vf, 1);
        c.uv_stride_bytes = (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1);
    }
    if (format == EVO_PIXEL_I420)
        c.v_data = GST_VIDEO_FRAME_PLANE_DATA(vf, 2);
    return c;
}

/* Detects on one mapped frame, then metas, drawing and the message; FALSE with the error posted. */
static gboolean process_frame(GstEvoDetect *self, GstVideoFrame *vframe, gboolean draw,
                              gboolean post, guint64 copied, double ms[EVODETECT_N_STAGES], int *n_out)
{
    evo_canvas c = canvas_of(vframe, self->format);
    if (self->format == EVO_PIXEL_I420 &&
        GST_VIDEO_FRAME_PLANE_STRIDE(vframe, 1) != GST_VIDEO_FRAME_PLANE_STRIDE(vframe, 2)) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("evodetect: I420 U and V planes have different strides (%d, %d)",
                           GST_VIDEO_FRAME_PLANE_STRIDE(vframe, 1),
                           GST_VIDEO_FRAME_PLANE_STRIDE(vframe, 2)), (NULL));
        return FALSE;
    }
    evo_frame f = {c.format, c.width, c.height, c.data, c.stride_bytes, c.uv_data,
                   c.uv_stride_bytes, c.v_data};
    const evo_detection *dets = NULL;
    int n = 0;
    evo_error err = {0};
    if (evo_detector_run(self->det, &f, &dets, &n, &err) != EVO_OK) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("evodetect: %s", err.msg), (NULL));
        return FALSE;
    }
    int64_t t = evo_now_ns();
    evo_detect_timing dt = evo_detector_timing(self->det);
    if (!self->names_resolved) {
        // COCO names only for an 80-class model; other models need the labels property
        const evo_decode_layout *lay = evo_detector_layout(self->det);
        if (!self->names_from_file && lay && lay->n_classes != EVO_COCO_CLASSES)
            self->names.count = 0;
        self->names_resolved = TRUE;
    }
    evodetect_attach_metas(self, vframe->buffer, c.width, c.height, dets, n);
    if (draw)
        evo_canvas_draw_detections(&c, dets, n, &self->names);
    if (post)
        evodetect_post_frame(self, vframe->buffer, c.width, c.height, dets, n, &dt, copied);
    ms[EVODETECT_PREPROCESS] = dt.preprocess_ms;
    ms[EVODETECT_INFERENCE] = dt.inference_ms;
    ms[EVODETECT_POSTPROCESS] = dt.postprocess_ms;
    ms[EVODETECT_ATTACH] = (double)(evo_now_ns() - t) / 1e6;
    *n_out = n;
    return TRUE;
}

/* The memories of a buffer, to see which ones mapping it replaced. */
#define EVODETECT_MAX_MEMS 16
typedef struct mem_list {
    guint n;
    GstMemory *mem[EVODETECT_MAX_MEMS];
} mem_list;

static mem_list mem_list_of(GstBuffer *buf)
{
    mem_list l;
    l.n = MIN(gst_buffer_n_memory(buf), (guint)EVODETECT_MAX_MEMS);
    for (guint i = 0; i < l.n; i++)
        l.mem[i] = gst_buffer_peek_memory(buf, i);
    return l;
}

/*
 * Bytes the map copied: mapping a shared memory for writing (a buffer
 * another element still holds), or a plane spread over several memories,
 * puts a copy in the buffer in place of the memory it came from. The
 * memories not there before the map are those copies (a copy is made
 * before its source is released, so it cannot reuse its address).
 */
static guint64 mapped_copy_bytes(GstBuffer *buf, const mem_list *before)
{
    guint64 copied = 0;
    for (guint i = 0; i < gst_buffer_n_memory(buf); i++) {
        GstMemory *m = gst_buffer_peek_memory(buf, i);
        gboolean known = FALSE;
        for (guint k = 0; k < before->n && !known; k++)
            known = before->mem[k] == m;
        if (!known)
            copied += m->size;
    }
    return copied;
}

static GstFlowReturn gst_evodetect_transform_ip(GstBaseTransform *bt, GstBuffer *buf)
{
    GstEvoDetect *self = GST_EVODETECT(bt);
    GstVideoFilter *vf = GST_VIDEO_FILTER(bt);
    if (!vf->negotiated || !self->det) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("evodetect: not negotiated"), (NULL));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    GST_OBJECT_LOCK(self);
    gboolean draw = self->draw, post = self->post_messages, stats = self->stats;
    GST_OBJECT_UNLOCK(self);
    int64_t t0 = evo_now_ns();
    GstVideoFrame vframe;
    // NO_REF: a mapped frame holding a second ref would make the buffer read-only for metas
    GstMapFlags flags = (GstMapFlags)(GST_VIDEO_FRAME_MAP_FLAG_NO_REF | GST_MAP_READ |
                                      (draw ? GST_MAP_WRITE : 0));
    mem_list before = mem_list_of(buf);
    if (!gst_video_frame_map(&vframe, &vf->in_info, buf, flags)) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("evodetect: cannot map the video buffer"), (NULL));
        return GST_FLOW_ERROR;
    }
    // A copy made to write is the drawing's; one made to read (merged memories) the preprocess'.
    guint64 copied[EVODETECT_N_STAGES] = {0};
    copied[draw ? EVODETECT_ATTACH : EVODETECT_PREPROCESS] = mapped_copy_bytes(buf, &before);
    copied[EVODETECT_TOTAL] = copied[EVODETECT_ATTACH] + copied[EVODETECT_PREPROCESS];
    double ms[EVODETECT_N_STAGES] = {0};
    int n = 0;
    gboolean ok = process_frame(self, &vframe, draw, post, copied[EVODETECT_TOTAL], ms, &n);
    guint64 frame_bytes = (guint64)GST_VIDEO_INFO_SIZE(&vframe.info);
    gst_video_frame_unmap(&vframe);
    if (!ok)
        return GST_FLOW_ERROR;
    ms[EVODETECT_TOTAL] = (double)(evo_now_ns() - t0) / 1e6;
    if (stats)
        evodetect_stats_add(self->st, ms, copied, frame_bytes, n);
    return GST_FLOW_OK;
}

static gboolean gst_evodetect_sink_event(GstBaseTransform *bt, GstEvent *event)
{
    GstEvoDetect *self = GST_EVODETECT(bt);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->st) {
        GST_OBJECT_LOCK(self);
        gboolean stats = self->stats;
        GST_OBJECT_UNLOCK(self);
        if (stats)
            evodetect_stats_report(self);
    }
    return GST_BASE_TRANSFORM_CLASS(gst_evodetect_parent_class)->sink_event(bt, event);
}

/* Replaces *field with a copy of the property's string. */
static void set_string(GstEvoDetect *self, gchar **field, const GValue *value)
{
    GST_OBJECT_LOCK(self);
    g_free(*field);
    *field = g_value_dup_string(value);
    GST_OBJECT_UNLOCK(self);
}

static void gst_evodetect_set_property(GObject *object, guint id, const GValue *value,
                                       GParamSpec *pspec)
{
    GstEvoDetect *self = GST_EVODETECT(object);
    switch (id) {
    case PROP_MODEL: set_string(self, &self->model_path, value); return;
    case PROP_PRESET: set_string(self, &self->preset, value); return;
    case PROP_OPTIONS: set_string(self, &self->options, value); return;
    case PROP_LABELS: set_string(self, &self->labels_path, value); return;
    case PROP_ISA: set_string(self, &self->isa, value); return;
    case PROP_INPUT_SHAPE: set_string(self, &self->input_shape, value); return;
    default: break;
    }
    GST_OBJECT_LOCK(self);
    switch (id) {
    case PROP_CONF: self->conf = g_value_get_double(value); break;
    case PROP_IOU: self->iou = g_value_get_double(value); break;
    case PROP_THREADS: self->n_threads = g_value_get_int(value); break;
    case PROP_DRAW: self->draw = g_value_get_boolean(value); break;
    case PROP_MESSAGE: self->post_messages = g_value_get_boolean(value); break;
    case PROP_STATS: self->stats = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_evodetect_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    GstEvoDetect *self = GST_EVODETECT(object);
    GST_OBJECT_LOCK(self);
    switch (id) {
    case PROP_MODEL: g_value_set_string(value, self->model_path); break;
    case PROP_PRESET: g_value_set_string(value, self->preset); break;
    case PROP_OPTIONS: g_value_set_string(value, self->options); break;
    case PROP_LABELS: g_value_set_string(value, self->labels_path); break;
    case PROP_ISA: g_value_set_string(value, self->isa); break;
    case PROP_INPUT_SHAPE: g_value_set_string(value, self->input_shape); break;
    case PROP_CONF: g_value_set_double(value, self->conf); break;
    case PROP_IOU: g_value_set_double(value, self->iou); break;
    case PROP_THREADS: g_value_set_int(value, self->n_threads); break;
    case PROP_DRAW: g_value_set_boolean(value, self->draw); break;
    case PROP_MESSAGE: g_value_set_boolean(value, self->post_messages); break;
    case PROP_STATS: g_value_set_boolean(value, self->stats); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_evodetect_finalize(GObject *object)
{
    GstEvoDetect *self = GST_EVODETECT(object);
    gst_evodetect_stop(GST_BASE_TRANSFORM(object));
    g_free(self->model_path), g_free(self->preset), g_free(self->options);
    g_free(self->labels_path), g_free(self->isa), g_free(self->input_shape);
    G_OBJECT_CLASS(gst_evodetect_parent_class)->finalize(object);
}

static void install_string(GObjectClass *oc, guint id, const char *name, const char *blurb)
{
    g_object_class_install_property(
        oc, id,
        g_param_spec_string(name, name, blurb, NULL,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
}

static void install_bool(GObjectClass *oc, guint id, const char *name, const char *blurb,
                         gboolean def)
{
    g_object_class_install_property(
        oc, id,
        g_param_spec_boolean(name, name, blurb, def,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
}

static void gst_evodetect_class_init(GstEvoDetectClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GstElementClass *ec = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS(klass);
    GstVideoFilterClass *vc = GST_VIDEO_FILTER_CLASS(klass);
    const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

    oc->set_property = gst_evodetect_set_property;
    oc->get_property = gst_evodetect_get_property;
    oc->finalize = gst_evodetect_finalize;
    install_string(oc, PROP_MODEL, "model", "Detector model: an ONNX or .evo file (loaded on start)");
    install_string(oc, PROP_PRESET, "preset",
                   "Model family (yolov5, yolov8, yolox, nanodet, picodet) or a preset file");
    install_string(oc, PROP_OPTIONS, "options",
                   "Preset keys over the preset, e.g. \"max-det=100; agnostic=true\"");
    install_string(oc, PROP_LABELS, "labels",
                   "Class names, one a line (default: COCO names for an 80-class model)");
    install_string(oc, PROP_ISA, "isa", "Cap kernel choice: ref, avx2, avx512, vnni, amx (default: best)");
    install_string(oc, PROP_INPUT_SHAPE, "input-shape",
                   "Fix the model input shape, NAME=1x3xHxW, for models with dynamic sizes");
    g_object_class_install_property(
        oc, PROP_CONF,
        g_param_spec_double("conf", "conf", "Score threshold (-1: the preset's)", -1.0, 1.0, -1.0, ready));
    g_object_class_install_property(
        oc, PROP_IOU,
        g_param_spec_double("iou", "iou", "NMS IoU threshold (-1: the preset's)", -1.0, 1.0, -1.0, ready));
    g_object_class_install_property(
        oc, PROP_THREADS,
        g_param_spec_int("threads", "threads", "Inference threads", 1, 256, 1, ready));
    install_bool(oc, PROP_DRAW, "draw", "Draw boxes and labels into the frame", FALSE);
    install_bool(oc, PROP_MESSAGE, "message", "Post an \"evodetect\" element message per frame", TRUE);
    install_bool(oc, PROP_STATS, "stats", "Print per-stage timing at EOS (and post it)", FALSE);

    gst_element_class_set_static_metadata(ec, "evo object detector", "Filter/Analyzer/Video",
                                          "Detects objects with an evo model; boxes as region of "
                                          "interest metas and element messages",
                                          "evo");
    gst_element_class_add_static_pad_template(ec, &sink_template);
    gst_element_class_add_static_pad_template(ec, &src_template);

    bc->start = GST_DEBUG_FUNCPTR(gst_evodetect_start);
    bc->stop = GST_DEBUG_FUNCPTR(gst_evodetect_stop);
    bc->sink_event = GST_DEBUG_FUNCPTR(gst_evodetect_sink_event);
    bc->transform_ip = GST_DEBUG_FUNCPTR(gst_evodetect_transform_ip);
    bc->transform_ip_on_passthrough = FALSE;
    vc->set_info = GST_DEBUG_FUNCPTR(gst_evodetect_set_info);
    vc->transform_frame_ip = NULL;
}

static void gst_evodetect_init(GstEvoDetect *self)
{
    self->conf = -1.0;
    self->iou = -1.0;
    self->n_threads = 1;
    self->post_messages = TRUE;
    gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
    gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), FALSE);
}

#define PACKAGE "evo"

static gboolean plugin_init(GstPlugin *plugin)
{
    GST_DEBUG_CATEGORY_INIT(gst_evodetect_debug, "evodetect", 0, "evo object detector");
    return gst_element_register(plugin, "evodetect", GST_RANK_NONE, GST_TYPE_EVODETECT);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, evodetect, "Object detection with evo",
                  plugin_init, EVO_VERSION_STRING, GST_LICENSE_UNKNOWN, "evo", "evo")
