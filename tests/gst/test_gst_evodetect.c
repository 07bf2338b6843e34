/*
 * test_gst_evodetect.c - the evodetect element in real pipelines, read back
 * through an appsink: every buffer's region-of-interest metas (and the
 * per-frame element messages) must equal an evo detector run here, by this
 * program, on the very pixels the buffer carries; frames that are the PNG's
 * own pixels (RGB from pngdec, lossless FFV1 through decodebin) must give
 * exactly the PNG's detections (what `evo detect` prints for it); draw=true
 * must change the frame exactly as evo_canvas_draw_detections does; and a
 * bad model, preset or option must fail the pipeline with evo's message.
 *
 * usage: test_gst_evodetect MODEL PRESET MEDIA_DIR [TEST]
 * (MEDIA_DIR from make_media.sh; its still.png is the reference image.)
 */
#include "check.h"
#include "evo.h"
#include "vision/vision.h"

#include <gst/gst.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_FRAMES 16
#define MAX_DETS 1000
#define MAX_PLANES 3

static const char *g_model, *g_preset, *g_media;
static char g_png[4096], g_mkv[4096], g_mp4[4096];
static evo_model *g_ref_model;
static evo_detector *g_ref;
static const evo_names *g_labels; /* the labels the element was given; NULL: COCO */

/* One frame as the appsink got it: detections read from its metas, a copy of its planes. */
typedef struct got_frame {
    int n_metas;
    evo_detection metas[MAX_DETS];
    int n_ref;
    evo_detection ref[MAX_DETS]; /* this program's detector on the same pixels */
    GstVideoInfo info;
    uint8_t *planes[MAX_PLANES];
    size_t plane_bytes[MAX_PLANES];
} got_frame;

typedef struct run_result {
    int n_frames;
    got_frame *frames[MAX_FRAMES];
    int n_messages;                 /* "evodetect" element messages */
    int message_dets[MAX_FRAMES];   /* their n-detections, in order */
    gboolean failed;
    char error[1024];
    /* first memory block of each buffer entering evodetect (pad probe) and reaching the sink */
    gint n_in;
    const void *mem_in[MAX_FRAMES];
    const void *mem_out[MAX_FRAMES];
    GstBuffer *held[MAX_FRAMES];     /* with g_hold: a second ref on each buffer entering evodetect */
    guint64 copied[MAX_FRAMES];      /* copied-bytes of each "evodetect" message */
    gboolean have_stats;             /* the "evodetect-stats" message, per frame means: */
    double stats_copied, stats_copied_draw, stats_copied_pre;
} run_result;

/* Hold every buffer entering evodetect until the run ends, as another branch of a tee would. */
static gboolean g_hold;

static void run_result_free(run_result *r)
{
    for (int i = 0; i < r->n_frames; i++) {
        for (int p = 0; p < MAX_PLANES; p++)
            free(r->frames[i]->planes[p]);
        free(r->frames[i]);
    }
    for (int i = 0; i < MAX_FRAMES; i++)
        if (r->held[i])
            gst_buffer_unref(r->held[i]);
    memset(r, 0, sizeof *r);
}

static int plane_rows(const GstVideoInfo *info, int p)
{
    return p == 0 ? GST_VIDEO_INFO_HEIGHT(info) : (GST_VIDEO_INFO_HEIGHT(info) + 1) / 2;
}

/* The test's own reading of a mapped frame as an evo frame (independent of the element's). */
static evo_frame frame_of(const GstVideoFrame *vf)
{
    evo_frame f = {EVO_PIXEL_RGB24, GST_VIDEO_FRAME_WIDTH(vf), GST_VIDEO_FRAME_HEIGHT(vf),
                   GST_VIDEO_FRAME_PLANE_DATA(vf, 0), (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(vf, 0),
                   NULL, 0, NULL};
    switch (GST_VIDEO_FRAME_FORMAT(vf)) {
    case GST_VIDEO_FORMAT_RGB: f.format = EVO_PIXEL_RGB24; break;
    case GST_VIDEO_FORMAT_BGR: f.format = EVO_PIXEL_BGR24; break;
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_RGBA: f.format = EVO_PIXEL_RGBA32; break;
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_BGRA: f.format = EVO_PIXEL_BGRA32; break;
    case GST_VIDEO_FORMAT_NV12:
        f.format = EVO_PIXEL_NV12;
        f.uv_data = GST_VIDEO_FRAME_PLANE_DATA(vf, 1);
        f.uv_stride_bytes = (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1);
        break;
    case GST_VIDEO_FORMAT_I420:
        f.format = EVO_PIXEL_I420;
        f.uv_data = GST_VIDEO_FRAME_PLANE_DATA(vf, 1);
        f.v_data = GST_VIDEO_FRAME_PLANE_DATA(vf, 2);
        f.uv_stride_bytes = (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1);
        break;
    default: f.format = EVO_PIXEL_FORMAT_COUNT; break;
    }
    return f;
}

/* Reads the metas: "detection" params hold the unrounded corners; ids give the order. */
static void read_metas(GstBuffer *buf, const GstVideoInfo *info, got_frame *g)
{
    gpointer state = NULL;
    GstMeta *meta;
    evo_names coco = evo_names_coco();
    const evo_names *names = g_labels ? g_labels : &coco;
    while ((meta = gst_buffer_iterate_meta_filtered(buf, &state,
                                                    GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
        GstVideoRegionOfInterestMeta *m = (GstVideoRegionOfInterestMeta *)meta;
        GstStructure *s = gst_video_region_of_interest_meta_get_param(m, "detection");
        CHECK(s != NULL && m->id >= 0 && m->id < MAX_DETS);
        if (!s || m->id < 0 || m->id >= MAX_DETS)
            continue;
        evo_detection *d = &g->metas[m->id];
        double score = -1, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        CHECK(gst_structure_get_double(s, "confidence", &score) &&
              gst_structure_get_int(s, "class-id", &d->class_id) &&
              gst_structure_get_double(s, "x0", &x0) && gst_structure_get_double(s, "y0", &y0) &&
              gst_structure_get_double(s, "x1", &x1) && gst_structure_get_double(s, "y1", &y1));
        d->score = (float)score, d->x0 = (float)x0, d->y0 = (float)y0;
        d->x1 = (float)x1, d->y1 = (float)y1;
        // the integer ROI is the float box rounded and clipped to the frame
        int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
        long rx0 = x0 > 0 ? EVO_MIN(lrint(x0), w) : 0, ry0 = y0 > 0 ? EVO_MIN(lrint(y0), h) : 0;
        long rx1 = x1 > 0 ? EVO_MIN(lrint(x1), w) : 0, ry1 = y1 > 0 ? EVO_MIN(lrint(y1), h) : 0;
        CHECK_MSG(m->x == (guint)rx0 && m->y == (guint)ry0 && m->w == (guint)EVO_MAX(rx1 - rx0, 0) &&
                      m->h == (guint)EVO_MAX(ry1 - ry0, 0),
                  "roi %u,%u %ux%u for box %g,%g,%g,%g", m->x, m->y, m->w, m->h, x0, y0, x1, y1);
        const char *name = evo_names_get(names, d->class_id);
        CHECK_MSG(name && strcmp(g_quark_to_string(m->roi_type), name) == 0, "label %s for class %d",
                  g_quark_to_string(m->roi_type), d->class_id);
        g->n_metas = EVO_MAX(g->n_metas, m->id + 1);
    }
}

static void take_sample(GstSample *sample, run_result *r)
{
    GstVideoInfo info;
    GstVideoFrame vf;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    CHECK(r->n_frames < MAX_FRAMES && gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
    if (r->n_frames >= MAX_FRAMES || !gst_video_frame_map(&vf, &info, buf, GST_MAP_READ))
        return;
    got_frame *g = calloc(1, sizeof *g);
    CHECK(g != NULL);
    if (!g) {
        gst_video_frame_unmap(&vf);
        return;
    }
    r->mem_out[r->n_frames] = gst_buffer_n_memory(buf) ? gst_buffer_peek_memory(buf, 0) : NULL;
    r->frames[r->n_frames++] = g;
    g->info = vf.info;
    read_metas(buf, &vf.info, g);
    for (int p = 0; p < (int)GST_VIDEO_FRAME_N_PLANES(&vf) && p < MAX_PLANES; p++) {
        g->plane_bytes[p] = (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&vf, p) * (size_t)plane_rows(&vf.info, p);
        g->planes[p] = malloc(g->plane_bytes[p]);
        if (g->planes[p])
            memcpy(g->planes[p], GST_VIDEO_FRAME_PLANE_DATA(&vf, p), g->plane_bytes[p]);
    }
    evo_frame f = frame_of(&vf);
    const evo_detection *dets = NULL;
    evo_error err = {0};
    if (evo_detector_run(g_ref, &f, &dets, &g->n_ref, &err) != EVO_OK) {
        CHECK_MSG(0, "reference detector: %s", err.msg);
        g->n_ref = 0;
    }
    g->n_ref = EVO_MIN(g->n_ref, MAX_DETS);
    memcpy(g->ref, dets, sizeof(evo_detection) * (size_t)g->n_ref);
    gst_video_frame_unmap(&vf);
}

static void take_message(GstMessage *msg, run_result *r)
{
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gchar *dbg = NULL;
        gst_message_parse_error(msg, &e, &dbg);
        if (!r->failed)
            g_snprintf(r->error, sizeof r->error, "%s", e ? e->message : "?");
        r->failed = TRUE;
        g_clear_error(&e);
        g_free(dbg);
        return;
    }
    const GstStructure *s = gst_message_get_structure(msg);
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "evodetect")) {
        int n = -1;
        CHECK(gst_structure_get_int(s, "n-detections", &n));
        const GValue *list = gst_structure_get_value(s, "detections");
        CHECK(list && GST_VALUE_HOLDS_LIST(list) && (int)gst_value_list_get_size(list) == n);
        guint64 copied = G_MAXUINT64;
        CHECK(gst_structure_get_uint64(s, "copied-bytes", &copied));
        if (r->n_messages < MAX_FRAMES)
            r->message_dets[r->n_messages] = n, r->copied[r->n_messages] = copied;
        r->n_messages++;
    }
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "evodetect-stats"))
        r->have_stats = gst_structure_get_double(s, "copied-bytes", &r->stats_copied) &&
                        gst_structure_get_double(s, "meta-draw-copied-bytes", &r->stats_copied_draw) &&
                        gst_structure_get_double(s, "preprocess-copied-bytes", &r->stats_copied_pre);
}

static GstPadProbeReturn probe_in(GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
    run_result *r = user;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    gint i = g_atomic_int_add(&r->n_in, 1);
    if (i < MAX_FRAMES) {
        r->mem_in[i] = gst_buffer_n_memory(buf) ? gst_buffer_peek_memory(buf, 0) : NULL;
        if (g_hold)
            r->held[i] = gst_buffer_ref(buf);
    }
    return GST_PAD_PROBE_OK;
}

/* Watches the buffers entering the pipeline's evodetect. */
static void add_probe(GstElement *pipe, run_result *r)
{
    GstIterator *it = gst_bin_iterate_all_by_element_factory_name(GST_BIN(pipe), "evodetect");
    GValue v = G_VALUE_INIT;
    if (it && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
        GstPad *pad = gst_element_get_static_pad(g_value_get_object(&v), "sink");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, probe_in, r, NULL);
        gst_object_unref(pad);
        g_value_unset(&v);
    }
    if (it)
        gst_iterator_free(it);
}

/* Runs desc (with an appsink named sink) to EOS or error; at most 120 s. */
static void run_pipeline(const char *desc, run_result *r)
{
    memset(r, 0, sizeof *r);
    GError *e = NULL;
    GstElement *pipe = gst_parse_launch(desc, &e);
    if (!pipe || e) {
        g_snprintf(r->error, sizeof r->error, "parse: %s", e ? e->message : "?");
        r->failed = TRUE;
        g_clear_error(&e);
        if (pipe)
            gst_object_unref(pipe);
        return;
    }
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
    add_probe(pipe, r);
    GstBus *bus = gst_element_get_bus(pipe);
    gboolean started = gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    while (started && sink && !r->failed && g_get_monotonic_time() < deadline) {
        GstSample *sample = NULL;
        g_signal_emit_by_name(sink, "try-pull-sample", (GstClockTime)(100 * GST_MSECOND), &sample);
        if (sample) {
            take_sample(sample, r);
            gst_sample_unref(sample);
        } else {
            gboolean eos = FALSE;
            g_object_get(sink, "eos", &eos, NULL);
            if (eos)
                break;
        }
        GstMessage *m;
        while ((m = gst_bus_pop(bus))) {
            take_message(m, r);
            gst_message_unref(m);
        }
    }
    GstMessage *m; // before NULL, which flushes the bus
    while ((m = gst_bus_pop(bus))) {
        take_message(m, r);
        gst_message_unref(m);
    }
    gst_element_set_state(pipe, GST_STATE_NULL);
    if (!started && !r->failed) {
        r->failed = TRUE;
        g_snprintf(r->error, sizeof r->error, "state change failed without an error message");
    }
    gst_object_unref(bus);
    if (sink)
        gst_object_unref(sink);
    gst_object_unref(pipe);
}

static bool same_dets(const evo_detection *a, int na, const evo_detection *b, int nb, const char *what)
{
    bool same = na == nb;
    for (int i = 0; same && i < na; i++)
        same = a[i].x0 == b[i].x0 && a[i].y0 == b[i].y0 && a[i].x1 == b[i].x1 && a[i].y1 == b[i].y1 &&
               a[i].score == b[i].score && a[i].class_id == b[i].class_id;
    CHECK_MSG(same, "%s: %d detections vs %d%s", what, na, nb, na && nb ? " (or different boxes)" : "");
    return same;
}

/*
 * Every frame: one message, and (with_ref) metas == this program's detector
 * on the same pixels (not for drawn frames, whose pixels changed after).
 */
static void check_frames(const run_result *r, int want_frames, bool with_ref, const char *what)
{
    CHECK_MSG(!r->failed, "%s: %s", what, r->error);
    CHECK_MSG(r->n_frames == want_frames && r->n_messages == want_frames, "%s: %d frames, %d messages",
              what, r->n_frames, r->n_messages);
    for (int i = 0; i < r->n_frames && i < r->n_messages; i++) {
        const got_frame *g = r->frames[i];
        if (with_ref)
            same_dets(g->metas, g->n_metas, g->ref, g->n_ref, what);
        CHECK(r->message_dets[i] == g->n_metas);
    }
}

static const char *source_desc(char *buf, size_t size, int n_frames)
{
    if (g_file_test(g_png, G_FILE_TEST_EXISTS))
        g_snprintf(buf, size, "filesrc location=\"%s\" ! pngdec ! imagefreeze num-buffers=%d", g_png,
                   n_frames);
    else
        g_snprintf(buf, size, "videotestsrc num-buffers=%d pattern=smpte ! video/x-raw,width=320,height=240",
                   n_frames);
    return buf;
}

static char *pipeline(const char *src, const char *mid, const char *fmt, const char *props)
{
    return g_strdup_printf("%s ! %s%svideo/x-raw,format=%s ! evodetect model=\"%s\" preset=%s %s ! "
                           "appsink name=sink sync=false max-buffers=16",
                           src, mid ? mid : "", mid ? " ! " : "", fmt, g_model, g_preset, props);
}

/* The PNG's own detections, as `evo detect MODEL still.png --preset PRESET` finds them. */
static int png_dets(evo_detection *out)
{
    evo_image img = {0, 0, NULL};
    evo_error err = {0};
    const evo_detection *d = NULL;
    int n = 0;
    if (evo_image_load(g_png, &img, &err) != EVO_OK) {
        CHECK_MSG(0, "%s", err.msg);
        return -1;
    }
    evo_frame f = evo_image_frame(&img);
    if (evo_detector_run(g_ref, &f, &d, &n, &err) != EVO_OK) {
        CHECK_MSG(0, "%s", err.msg);
        n = -1;
    }
    n = EVO_MIN(n, MAX_DETS);
    if (n > 0)
        memcpy(out, d, sizeof(evo_detection) * (size_t)n);
    evo_image_free(&img);
    return n;
}

static evo_detection g_png_dets[MAX_DETS];
static int g_n_png = -1;

static void test_formats(void)
{
    static const char *const formats[] = {"RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA", "NV12", "I420"};
    char src[4608];
    source_desc(src, sizeof src, 2);
    bool from_png = g_file_test(g_png, G_FILE_TEST_EXISTS);
    for (size_t k = 0; k < G_N_ELEMENTS(formats); k++) {
        run_result r;
        char *desc = pipeline(src, "videoconvert", formats[k], "");
        run_pipeline(desc, &r);
        check_frames(&r, 2, true, formats[k]);
        // channel reorders of the PNG's RGB are lossless: the PNG's own detections
        // in place: the buffers leave with the memory they came in with (nothing copied)
        for (int i = 0; i < r.n_frames; i++)
            CHECK_MSG(i < r.n_in && r.mem_in[i] && r.mem_in[i] == r.mem_out[i],
                      "%s frame %d: memory %p in, %p out", formats[k], i, i < r.n_in ? r.mem_in[i] : NULL,
                      r.mem_out[i]);
        if (from_png && formats[k][0] != 'N' && formats[k][0] != 'I')
            for (int i = 0; i < r.n_frames; i++)
                same_dets(r.frames[i]->metas, r.frames[i]->n_metas, g_png_dets, g_n_png, formats[k]);
        printf("formats: %s: %d frames, %d detections in frame 0\n", formats[k], r.n_frames,
               r.n_frames ? r.frames[0]->n_metas : -1);
        run_result_free(&r);
        g_free(desc);
    }
}

static void test_videotestsrc(void)
{
    run_result r;
    char *desc = pipeline("videotestsrc num-buffers=3 pattern=ball", NULL,
                          "NV12,width=322,height=182", "threads=2");
    run_pipeline(desc, &r);
    check_frames(&r, 3, true, "videotestsrc NV12 322x182");
    run_result_free(&r);
    g_free(desc);
}

/* draw=true changes each frame exactly as drawing the metas' boxes on the undrawn frame. */
static void test_draw(void)
{
    static const char *const formats[] = {"RGB", "BGRx", "NV12", "I420"};
    char src[4608];
    source_desc(src, sizeof src, 1);
    for (size_t k = 0; k < G_N_ELEMENTS(formats); k++) {
        run_result plain, drawn;
        char *d0 = pipeline(src, "videoconvert", formats[k], "draw=false");
        char *d1 = pipeline(src, "videoconvert", formats[k], "draw=true");
        run_pipeline(d0, &plain);
        run_pipeline(d1, &drawn);
        check_frames(&plain, 1, true, formats[k]);
        check_frames(&drawn, 1, false, formats[k]);
        if (plain.n_frames == 1 && drawn.n_frames == 1) {
            got_frame *a = plain.frames[0], *b = drawn.frames[0];
            same_dets(a->metas, a->n_metas, b->metas, b->n_metas, "draw: same detections");
            GstVideoFrame fake;
            memset(&fake, 0, sizeof fake);
            fake.info = a->info;
            for (int p = 0; p < MAX_PLANES; p++)
                fake.data[p] = a->planes[p];
            evo_frame f = frame_of(&fake);
            evo_canvas c = {f.format, f.width, f.height, a->planes[0], f.stride_bytes,
                            a->planes[1], f.uv_stride_bytes, a->planes[2]};
            if (a->n_metas > 0 && a->planes[0] && b->planes[0])
                CHECK_MSG(memcmp(a->planes[0], b->planes[0], a->plane_bytes[0]) != 0,
                          "%s: draw=true left the frame as it was", formats[k]);
            evo_names coco = evo_names_coco();
            evo_canvas_draw_detections(&c, a->metas, a->n_metas, &coco);
            for (int p = 0; p < MAX_PLANES; p++) {
                CHECK(a->plane_bytes[p] == b->plane_bytes[p]);
                if (a->planes[p] && b->planes[p] && a->plane_bytes[p] == b->plane_bytes[p])
                    CHECK_MSG(memcmp(a->planes[p], b->planes[p], a->plane_bytes[p]) == 0,
                              "%s plane %d differs from evo_canvas_draw_detections", formats[k], p);
            }
            printf("draw: %s: %d boxes drawn\n", formats[k], a->n_metas);
        }
        run_result_free(&plain);
        run_result_free(&drawn);
        g_free(d0);
        g_free(d1);
    }
}

static double iou(const evo_detection *a, const evo_detection *b)
{
    double w = EVO_MIN(a->x1, b->x1) - EVO_MAX(a->x0, b->x0);
    double h = EVO_MIN(a->y1, b->y1) - EVO_MAX(a->y0, b->y0);
    if (w <= 0 || h <= 0)
        return 0;
    double inter = w * h;
    return inter / ((a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter);
}

static void test_decoded_file(void)
{
    if (!g_file_test(g_mkv, G_FILE_TEST_EXISTS)) {
        printf("SKIP decoded file: no %s (make_media.sh did not run)\n", g_mkv);
        return;
    }
    char src[4608];
    g_snprintf(src, sizeof src, "filesrc location=\"%s\" ! decodebin", g_mkv);
    char *desc = pipeline(src, "videoconvert", "RGB", "");
    run_result r;
    run_pipeline(desc, &r);
    check_frames(&r, 4, true, "FFV1 file");
    for (int i = 0; i < r.n_frames; i++) // lossless: every frame is the PNG
        same_dets(r.frames[i]->metas, r.frames[i]->n_metas, g_png_dets, g_n_png, "FFV1 frame vs PNG");
    printf("decoded FFV1: %d frames, %d detections each (PNG: %d)\n", r.n_frames,
           r.n_frames ? r.frames[0]->n_metas : -1, g_n_png);
    run_result_free(&r);
    g_free(desc);
    if (!g_file_test(g_mp4, G_FILE_TEST_EXISTS)) {
        printf("SKIP H.264 file: ffmpeg has no libx264\n");
        return;
    }
    // H.264 4:2:0 straight from the decoder, no conversion: the lossy frame's own detections,
    // and (for a trained detector, EVO_GST_TRAINED=1) the PNG's best box found again
    bool trained = g_strcmp0(g_getenv("EVO_GST_TRAINED"), "1") == 0;
    g_snprintf(src, sizeof src, "filesrc location=\"%s\" ! decodebin", g_mp4);
    desc = pipeline(src, NULL, "I420", "");
    run_pipeline(desc, &r);
    check_frames(&r, 4, true, "H.264 file");
    for (int i = 0; i < r.n_frames && trained && g_n_png > 0; i++) {
        const got_frame *g = r.frames[i];
        bool found = false;
        for (int j = 0; j < g->n_metas && !found; j++)
            found = g->metas[j].class_id == g_png_dets[0].class_id && iou(&g->metas[j], &g_png_dets[0]) > 0.8;
        CHECK_MSG(found, "H.264 frame %d: no class %d box near the PNG's best", i, g_png_dets[0].class_id);
    }
    printf("decoded H.264: %d frames, %d detections in frame 0\n", r.n_frames,
           r.n_frames ? r.frames[0]->n_metas : -1);
    run_result_free(&r);
    g_free(desc);
}

/* labels=FILE names the metas from the file; message=false posts no per-frame message. */
static void test_labels(void)
{
    gchar *path = NULL;
    GError *e = NULL;
    int fd = g_file_open_tmp("evodetect-labels-XXXXXX.txt", &path, &e);
    CHECK(fd >= 0);
    if (fd < 0) {
        g_clear_error(&e);
        return;
    }
    close(fd);
    GString *text = g_string_new(NULL);
    for (int i = 0; i < EVO_COCO_CLASSES; i++)
        g_string_append_printf(text, "thing %d\n", i);
    CHECK(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
    g_string_free(text, TRUE);
    evo_names names = {0};
    CHECK(evo_names_load(path, &names, NULL) == EVO_OK);
    char src[4608], props[4300];
    source_desc(src, sizeof src, 1);
    g_snprintf(props, sizeof props, "labels=\"%s\" message=false", path);
    char *desc = pipeline(src, "videoconvert", "RGB", props);
    run_result r;
    g_labels = &names;
    run_pipeline(desc, &r);
    g_labels = NULL;
    CHECK_MSG(!r.failed && r.n_frames == 1 && r.n_messages == 0, "labels: %s, %d frames, %d messages",
              r.error, r.n_frames, r.n_messages);
    if (r.n_frames == 1)
        same_dets(r.frames[0]->metas, r.frames[0]->n_metas, r.frames[0]->ref, r.frames[0]->n_ref, "labels");
    printf("labels: %d boxes named from %s\n", r.n_frames ? r.frames[0]->n_metas : -1, path);
    run_result_free(&r);
    g_free(desc);
    evo_names_free(&names);
    g_unlink(path);
    g_free(path);
}

/* Bad settings fail the pipeline with evo's message; nothing crashes. */
static void test_errors(void)
{
    static const struct {
        const char *props, *want;
    } cases[] = {
        {"model=/nonexistent/evo-missing.onnx", "evo-missing.onnx"},
        {"model=MODEL preset=no-such-family", "preset"},
        {"model=MODEL options=\"conf=2\"", "conf"},
        {"model=MODEL options=\"nokey\"", "expected key=value"},
        {"model=MODEL input-shape=garbage", "input-shape"},
        {"model=PNG", "still.png"},
        {"", "no model"},
        {"model=MODEL CAPS=I420,width=321,height=240", "even width and height, got 321x240"},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        gchar **parts = g_strsplit(cases[k].props, "MODEL", -1);
        gchar *props = g_strjoinv(g_model, parts);
        g_strfreev(parts);
        parts = g_strsplit(props, "PNG", -1);
        g_free(props);
        props = g_strjoinv(g_png, parts);
        g_strfreev(parts);
        // "CAPS=..." puts a caps filter before the element instead
        gchar *caps = strstr(props, "CAPS=");
        gchar *desc;
        if (caps) {
            caps[-1] = 0;
            desc = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,format=%s ! evodetect %s ! "
                                   "appsink name=sink", caps + 5, props);
        } else {
            desc = g_strdup_printf("videotestsrc num-buffers=2 ! evodetect %s ! appsink name=sink", props);
        }
        run_result r;
        run_pipeline(desc, &r);
        CHECK_MSG(r.failed && strstr(r.error, cases[k].want) && r.n_frames == 0,
                  "%s: failed %d, error \"%s\", want \"%s\"", props, r.failed, r.error, cases[k].want);
        printf("error case: %s -> %s\n", props, r.error);
        run_result_free(&r);
        g_free(desc);
        g_free(props);
    }
}

/*
 * Copy accounting: a buffer evodetect holds alone is drawn on in place (0
 * bytes copied); one another holder shares (here the test's probe, as a tee
 * branch would) is copied once to be drawn on, and the per-frame message and
 * the stats count exactly that copy in meta+draw while the holder's pixels
 * stay undrawn; with draw=false the shared buffer is only read (0 bytes).
 */
static void test_copies(void)
{
    // formats videoconvert converts the PNG's RGB to: its output buffers are new, nobody else's
    static const char *const formats[] = {"BGRx", "NV12"};
    char src[4608];
    source_desc(src, sizeof src, 2);
    for (size_t k = 0; k < G_N_ELEMENTS(formats); k++)
        for (int mode = 0; mode < 3; mode++) { // 0: alone, draw; 1: shared, draw; 2: shared, no draw
            bool shared = mode > 0, draw = mode < 2;
            run_result r;
            char *desc = pipeline(src, "videoconvert", formats[k], draw ? "draw=true stats=true" : "stats=true");
            g_hold = shared;
            run_pipeline(desc, &r);
            g_hold = FALSE;
            check_frames(&r, 2, !draw, formats[k]);
            CHECK_MSG(r.have_stats, "%s: no evodetect-stats message with the copied bytes", formats[k]);
            guint64 want = 0;
            for (int i = 0; i < r.n_messages && i < r.n_frames && i < r.n_in; i++) {
                guint64 size = shared && draw && r.held[i] ? gst_buffer_get_size(r.held[i]) : 0;
                CHECK_MSG(r.copied[i] == size, "%s mode %d frame %d: copied %" G_GUINT64_FORMAT
                          ", want %" G_GUINT64_FORMAT, formats[k], mode, i, r.copied[i], size);
                // a copy leaves with other memory; without one the buffer keeps its own
                CHECK((r.mem_in[i] != r.mem_out[i]) == (size > 0));
                want = size;
            }
            if (shared && draw && r.n_frames > 0 && r.frames[0]->n_metas > 0 && r.held[0]) {
                GstMapInfo mi;
                CHECK(gst_buffer_map(r.held[0], &mi, GST_MAP_READ));
                CHECK_MSG(memcmp(mi.data, r.frames[0]->planes[0], r.frames[0]->plane_bytes[0]) != 0,
                          "%s: the holder's buffer was drawn on", formats[k]);
                gst_buffer_unmap(r.held[0], &mi);
            }
            CHECK(r.stats_copied == (double)want && r.stats_copied_draw == (double)want &&
                  r.stats_copied_pre == 0.0);
            printf("copies: %s %s, draw=%d: %" G_GUINT64_FORMAT " B/frame copied (stats: %.0f)\n",
                   formats[k], shared ? "shared" : "alone", draw, r.n_messages ? r.copied[0] : 0,
                   r.stats_copied);
            run_result_free(&r);
            g_free(desc);
        }
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    if (argc < 4) {
        fprintf(stderr, "usage: test_gst_evodetect MODEL PRESET MEDIA_DIR [TEST]\n");
        return 2;
    }
    g_model = argv[1], g_preset = argv[2], g_media = argv[3];
    if (!g_file_test(g_model, G_FILE_TEST_EXISTS)) {
        printf("SKIP: no model %s\n", g_model);
        return 77;
    }
    GstElementFactory *fac = gst_element_factory_find("evodetect");
    if (!fac) {
        fprintf(stderr, "evodetect not found: GST_PLUGIN_PATH must hold libgstevodetect.so\n");
        return 1;
    }
    gst_object_unref(fac);
    g_snprintf(g_png, sizeof g_png, "%s/still.png", g_media);
    g_snprintf(g_mkv, sizeof g_mkv, "%s/still.mkv", g_media);
    g_snprintf(g_mp4, sizeof g_mp4, "%s/still.mp4", g_media);
    evo_error err = {0};
    evo_detect_options o;
    evo_compile_options co = evo_compile_options_default();
    evo_session_options so = evo_session_options_default();
    if (evo_detect_options_preset(g_preset, &o, &err) != EVO_OK ||
        evo_model_load(g_model, &co, &g_ref_model, &err) != EVO_OK ||
        evo_detector_create(g_ref_model, &so, &o, &g_ref, &err) != EVO_OK) {
        fprintf(stderr, "reference detector: %s\n", err.msg);
        return 1;
    }
    if (argc > 4 && strcmp(argv[4], "test_decoded_file") == 0 &&
        !g_file_test(g_mkv, G_FILE_TEST_EXISTS)) {
        printf("SKIP: no %s (make_media.sh needs the ffmpeg CLI)\n", g_mkv);
        return 77;
    }
    if (g_file_test(g_png, G_FILE_TEST_EXISTS))
        g_n_png = png_dets(g_png_dets);
    printf("reference: %s on %s: %d detections\n", g_model, g_png, g_n_png);
    static const check_test tests[] = {CHECK_TEST(test_formats), CHECK_TEST(test_videotestsrc),
                                       CHECK_TEST(test_draw), CHECK_TEST(test_decoded_file),
                                       CHECK_TEST(test_labels), CHECK_TEST(test_errors),
                                       CHECK_TEST(test_copies)};
    int rc = check_run(tests, (int)G_N_ELEMENTS(tests), argc - 3, argv + 3);
    evo_detector_free(g_ref);
    evo_model_free(g_ref_model);
    gst_deinit();
    return rc;
}
