/*
 * stream.c - evo_stream: the pipelined frame loop.
 *
 *     source thread:  read + decode frame N+1 ──q_in──┐
 *     caller thread:  letterbox + inference + boxes of frame N
 *     sink thread:    callback, draw + encode frame N-1 ◄──q_out──┘
 *
 * A fixed pool of items (AVFrame reference, detections, timings) circulates
 * through two bounded queues, so memory is bounded whatever the source.
 * Files push with waiting (no frame is lost); live sources push the newest
 * frame over the oldest waiting one (a one-slot input queue: inference always
 * starts on the freshest frame) and count the evicted frames as dropped.
 * Box decode + NMS stay on the inference thread: they read the output
 * tensors in place, and handing them to another thread would mean copying
 * the outputs.
 */
#include "video/queue.h"
#include "video/video.h"

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    AVFrame *av;   /* the decoded frame (a reference) */
    AVFrame *conv; /* its conversion, when the letterbox cannot read av */
    evo_frame frame;
    int64_t index;
    double pts_s;
    int64_t arrival_ns, boxes_ns;
    bool corrupt;
    double ms[EVO_STAGE_COUNT];
    size_t copied[EVO_STAGE_COUNT];
    evo_detection *dets;
    int n_dets, cap_dets;
} item;

struct evo_stream {
    evo_vsource *src;
    evo_stream_options o;
    char *output_path;
    evo_names names;
    atomic_int stop;
    bool ran;
    item *items;
    int n_items;
    evo_vqueue q_free, q_in, q_out;
    evo_detector *det;
    evo_stream_callback cb;
    void *user;
    evo_vwriter *writer;
    struct SwsContext *sws;
    pthread_mutex_t mu; /* the first error */
    evo_status status;
    evo_error err;
    /* touched by one thread each: decode counters by the source, the rest by the sink */
    int64_t decoded, pushed, skipped, skipped_start, bad, dropped, processed, converted;
    evo_samples samples[EVO_STAGE_COUNT], latency;
    double copied[EVO_STAGE_COUNT];
    double frame_bytes, tensor_bytes;
    char pixel_format[32];
    double origin_s; /* source time of time 0; -1 until known */
    evo_stream_stats stats;
};

evo_stream_options evo_stream_options_default(void)
{
    evo_stream_options o;
    memset(&o, 0, sizeof o);
    o.hwaccel = true;
    o.decode_threads = 1;
    o.live = -1;
    o.every = 1;
    o.queue_depth = 2;
    return o;
}

const char *evo_stream_stage_name(evo_stream_stage s)
{
    static const char *const names[EVO_STAGE_COUNT] = {"decode", "preprocess", "inference", "postprocess",
                                                       "draw+encode"};
    return (unsigned)s < EVO_STAGE_COUNT ? names[s] : "unknown";
}

evo_status evo_stream_open(const char *source, const evo_stream_options *o, evo_stream **out, evo_error *err)
{
    if (!out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_stream_open: out is required");
    evo_stream_options def = evo_stream_options_default();
    if (!o)
        o = &def;
    if (o->every < 1 || o->max_frames < 0 || o->start_s < 0 || o->duration_s < 0 || o->queue_depth < 0 ||
        o->queue_depth > 64 || o->n_class_names < 0)
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "%s: bad stream options (every >= 1, queue depth 0..64, no negative limits)", source);
    evo_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", source);
    s->o = *o;
    if (o->output_path && !(s->output_path = strdup(o->output_path))) {
        free(s);
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", source);
    }
    s->o.output_path = s->output_path;
    s->names.count = o->class_names ? o->n_class_names : 0;
    s->names.names = o->class_names; // borrowed: they outlive the stream (evo_video.h)
    pthread_mutex_init(&s->mu, NULL);
    atomic_init(&s->stop, 0);
    s->origin_s = -1;
    evo_status st = evo_vsource_open(source, o, &s->src, err);
    if (st) {
        evo_stream_free(s);
        return st;
    }
    if (o->start_s > 0 && !evo_vsource_live(s->src))
        evo_vsource_seek(s->src, o->start_s);
    *out = s;
    return EVO_OK;
}

static void free_items(evo_stream *s)
{
    for (int i = 0; i < s->n_items; i++) {
        av_frame_free(&s->items[i].av);
        av_frame_free(&s->items[i].conv);
        free(s->items[i].dets);
    }
    free(s->items);
    s->items = NULL;
    s->n_items = 0;
}

void evo_stream_free(evo_stream *s)
{
    if (!s)
        return;
    evo_vsource_free(s->src);
    free_items(s);
    evo_vqueue_destroy(&s->q_free);
    evo_vqueue_destroy(&s->q_in);
    evo_vqueue_destroy(&s->q_out);
    sws_freeContext(s->sws);
    for (int k = 0; k < EVO_STAGE_COUNT; k++)
        evo_samples_free(&s->samples[k]);
    evo_samples_free(&s->latency);
    pthread_mutex_destroy(&s->mu);
    free(s->output_path);
    free(s);
}

int evo_stream_width(const evo_stream *s)
{
    return s ? evo_vsource_width(s->src) : 0;
}

int evo_stream_height(const evo_stream *s)
{
    return s ? evo_vsource_height(s->src) : 0;
}

void evo_stream_stop(evo_stream *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, 1);
    if (s->src)
        evo_vsource_interrupt(s->src);
}

static bool failed(evo_stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool f = s->status != EVO_OK;
    pthread_mutex_unlock(&s->mu);
    return f;
}

/* Records the first error and stops the loop. */
static void fail(evo_stream *s, const evo_error *e)
{
    pthread_mutex_lock(&s->mu);
    if (s->status == EVO_OK) {
        s->status = e->code ? e->code : EVO_ERR_INTERNAL;
        s->err = *e;
    }
    pthread_mutex_unlock(&s->mu);
    atomic_store(&s->stop, 1);
    evo_vsource_interrupt(s->src);
}

static void recycle(evo_stream *s, item *it)
{
    av_frame_unref(it->av);
    av_frame_unref(it->conv);
    evo_vqueue_push(&s->q_free, it);
}

/* The frame's time: its timestamp, else its position at the nominal rate. */
static double frame_time(const evo_stream *s, const item *it)
{
    if (it->pts_s >= 0)
        return it->pts_s;
    double fps = evo_vsource_fps(s->src);
    return fps > 0 ? (double)it->index / fps : -1;
}

/* Makes it->frame: a view of the decoded planes, or of a counted conversion. */
static bool prepare(evo_stream *s, item *it)
{
    if (evo_vframe_wrap(it->av, &it->frame))
        return true;
    size_t n = evo_vframe_convert(&s->sws, it->av, it->conv);
    if (n == 0 || !evo_vframe_wrap(it->conv, &it->frame))
        return false;
    it->copied[EVO_STAGE_DECODE] += n;
    s->converted++;
    return true;
}

static void *source_main(void *arg)
{
    evo_stream *s = arg;
    bool live = evo_vsource_live(s->src);
    double end_s = s->o.duration_s > 0 ? s->o.start_s + s->o.duration_s : -1;
    while (!atomic_load(&s->stop)) {
        if (s->o.max_frames > 0 && s->pushed >= s->o.max_frames && !live)
            break;
        item *it = evo_vqueue_pop(&s->q_free);
        memset(it->ms, 0, sizeof it->ms);
        memset(it->copied, 0, sizeof it->copied);
        int64_t t0 = evo_now_ns();
        evo_vpacket_info info;
        if (evo_vsource_next(s->src, it->av, &info, &s->bad) == 0) {
            evo_vqueue_push(&s->q_free, it);
            break;
        }
        it->index = s->decoded++;
        if (info.pts_s >= 0 && s->origin_s < 0) // times count from the start of the file, or the first frame
            s->origin_s = evo_vsource_start_time(s->src) >= 0 ? evo_vsource_start_time(s->src) : info.pts_s;
        it->pts_s = info.pts_s >= 0 ? EVO_MAX(info.pts_s - s->origin_s, 0.0) : -1;
        it->arrival_ns = info.arrival_ns;
        it->corrupt = info.corrupt;
        it->copied[EVO_STAGE_DECODE] = info.copied_bytes;
        double t = frame_time(s, it);
        if (end_s >= 0 && t >= end_s) {
            recycle(s, it);
            break;
        }
        if ((s->o.start_s > 0 && t >= 0 && t < s->o.start_s) ||
            (s->decoded - 1 - s->skipped_start) % s->o.every != 0) {
            if (s->o.start_s > 0 && t >= 0 && t < s->o.start_s)
                s->skipped_start++;
            s->skipped++;
            recycle(s, it);
            continue;
        }
        if (!prepare(s, it)) {
            s->bad++;
            if (s->o.log) {
                char msg[256];
                snprintf(msg, sizeof msg, "frame %lld: cannot read or convert %dx%d %s pixels, skipped",
                         (long long)it->index, it->av->width, it->av->height,
                         av_get_pix_fmt_name(it->av->format) ? av_get_pix_fmt_name(it->av->format) : "?");
                s->o.log(s->o.log_user, 1, msg);
            }
            recycle(s, it);
            continue;
        }
        int64_t t1 = evo_now_ns();
        it->ms[EVO_STAGE_DECODE] = (double)(t1 - (info.arrival_ns > t0 ? info.arrival_ns : t0)) / 1e6;
        if (!s->pixel_format[0])
            snprintf(s->pixel_format, sizeof s->pixel_format, "%s",
                     av_get_pix_fmt_name(it->av->format) ? av_get_pix_fmt_name(it->av->format) : "?");
        s->pushed++;
        if (live) {
            void *evicted = NULL;
            if (!evo_vqueue_push_newest(&s->q_in, it, &evicted))
                recycle(s, it);
            if (evicted) {
                s->dropped++;
                recycle(s, evicted);
            }
        } else if (!evo_vqueue_push(&s->q_in, it)) {
            recycle(s, it);
        }
    }
    evo_vqueue_close(&s->q_in);
    return NULL;
}

static void *sink_main(void *arg)
{
    evo_stream *s = arg;
    item *it;
    while ((it = evo_vqueue_pop(&s->q_out)) != NULL) {
        if (atomic_load(&s->stop)) { // stopped (or failed): frames in flight are not delivered
            recycle(s, it);
            continue;
        }
        int64_t t0 = evo_now_ns();
        evo_error err = {0};
        evo_stream_result r = {it->index, s->processed, it->pts_s, &it->frame, it->dets, it->n_dets, it->corrupt,
                               (double)(it->boxes_ns - it->arrival_ns) / 1e6};
        bool stop = s->cb && s->cb(s->user, &r) != 0;
        AVFrame *pix = it->conv->buf[0] ? it->conv : it->av;
        if (s->output_path && !s->writer) {
            double fps = evo_vsource_fps(s->src);
            if (evo_vwriter_open(s->output_path, pix->width, pix->height, fps > 0 ? fps / s->o.every : 0,
                                 &s->writer, &err) != EVO_OK) {
                fail(s, &err);
                recycle(s, it);
                continue;
            }
        }
        if (s->writer) {
            size_t copied = 0;
            if (evo_vwriter_write(s->writer, pix, it->dets, it->n_dets, &s->names, &copied, &err) != EVO_OK) {
                fail(s, &err);
                recycle(s, it);
                continue;
            }
            it->copied[EVO_STAGE_SINK] += copied;
        }
        it->ms[EVO_STAGE_SINK] = (double)(evo_now_ns() - t0) / 1e6;
        for (int k = 0; k < EVO_STAGE_COUNT; k++) {
            evo_samples_add(&s->samples[k], it->ms[k]);
            s->copied[k] += (double)it->copied[k];
        }
        evo_samples_add(&s->latency, r.latency_ms);
        s->processed++;
        recycle(s, it);
        if (stop || (s->o.max_frames > 0 && s->processed >= s->o.max_frames))
            evo_stream_stop(s);
    }
    return NULL;
}

/* Detections of one frame on the calling thread; false after an error (recorded). */
static bool infer(evo_stream *s, item *it)
{
    evo_error err = {0};
    const evo_detection *dets = NULL;
    int n = 0;
    if (evo_detector_run(s->det, &it->frame, &dets, &n, &err) != EVO_OK) {
        evo_error_prefix(&err, "frame %lld", (long long)it->index);
        fail(s, &err);
        return false;
    }
    it->boxes_ns = evo_now_ns();
    if (n > it->cap_dets) {
        evo_detection *d = realloc(it->dets, sizeof(evo_detection) * (size_t)n);
        if (!d) {
            evo_errorf(&err, EVO_ERR_NOMEM, "frame %lld: out of memory for %d detections", (long long)it->index, n);
            fail(s, &err);
            return false;
        }
        it->dets = d, it->cap_dets = n;
    }
    if (n > 0)
        memcpy(it->dets, dets, sizeof(evo_detection) * (size_t)n);
    it->n_dets = n;
    evo_detect_timing tm = evo_detector_timing(s->det);
    it->ms[EVO_STAGE_PREPROCESS] = tm.preprocess_ms;
    it->ms[EVO_STAGE_INFERENCE] = tm.inference_ms;
    it->ms[EVO_STAGE_POSTPROCESS] = tm.postprocess_ms;
    if (s->frame_bytes == 0) {
        s->frame_bytes = (double)evo_frame_size_bytes(it->frame.format, it->frame.width, it->frame.height);
        const evo_decode_layout *lay = evo_detector_layout(s->det); // float [1,3,H,W]: detector.c checks
        if (lay)
            s->tensor_bytes = 3.0 * lay->in_w * lay->in_h * (double)sizeof(float);
    }
    return true;
}

static void finish_stats(evo_stream *s, int64_t wall_ns)
{
    evo_stream_stats *st = &s->stats;
    memset(st, 0, sizeof *st);
    double n = s->processed > 0 ? (double)s->processed : 1;
    for (int k = 0; k < EVO_STAGE_COUNT; k++) {
        evo_stream_stage_stats *g = &st->stage[k];
        g->n = s->samples[k].seen;
        evo_samples_summary(&s->samples[k], &g->mean_ms, &g->p50_ms, &g->p99_ms);
        g->copied_bytes = s->copied[k] / n;
    }
    evo_samples_summary(&s->latency, &st->latency_mean_ms, &st->latency_p50_ms, &st->latency_p99_ms);
    st->wall_s = (double)wall_ns / 1e9;
    st->fps = st->wall_s > 0 ? (double)s->processed / st->wall_s : 0;
    st->frames_decoded = s->decoded;
    st->frames_processed = s->processed;
    st->frames_dropped = s->dropped;
    st->frames_skipped = s->skipped;
    st->frames_bad = s->bad;
    st->frames_converted = s->converted;
    st->frame_bytes = s->frame_bytes;
    st->tensor_bytes = s->tensor_bytes;
    snprintf(st->decoder, sizeof st->decoder, "%s", evo_vsource_decoder(s->src));
    snprintf(st->pixel_format, sizeof st->pixel_format, "%s", s->pixel_format);
}

static evo_status setup(evo_stream *s, evo_error *err)
{
    int depth = s->o.queue_depth > 0 ? s->o.queue_depth : 1;
    int in_depth = evo_vsource_live(s->src) ? 1 : depth;
    s->n_items = in_depth + depth + 3; // + one each in decode, inference and the sink
    s->items = calloc((size_t)s->n_items, sizeof(item));
    if (!s->items || !evo_vqueue_init(&s->q_free, s->n_items) || !evo_vqueue_init(&s->q_in, in_depth) ||
        !evo_vqueue_init(&s->q_out, depth))
        return evo_errorf(err, EVO_ERR_NOMEM, "stream: out of memory");
    for (int i = 0; i < s->n_items; i++) {
        s->items[i].av = av_frame_alloc();
        s->items[i].conv = av_frame_alloc();
        s->items[i].dets = malloc(sizeof(evo_detection) * 16); // never NULL for the callback, even with no boxes
        s->items[i].cap_dets = 16;
        if (!s->items[i].av || !s->items[i].conv || !s->items[i].dets)
            return evo_errorf(err, EVO_ERR_NOMEM, "stream: out of memory");
        evo_vqueue_push(&s->q_free, &s->items[i]);
    }
    return EVO_OK;
}

evo_status evo_stream_run(evo_stream *s, evo_detector *det, evo_stream_callback cb, void *user, evo_error *err)
{
    if (!s || !det)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_stream_run: stream and detector are required");
    if (s->ran)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_stream_run: a stream runs once");
    s->ran = true;
    s->det = det, s->cb = cb, s->user = user;
    evo_status st = setup(s, err);
    if (st)
        return st;
    int64_t t0 = evo_now_ns();
    pthread_t src_thread, sink_thread;
    if (pthread_create(&src_thread, NULL, source_main, s) != 0)
        return evo_errorf(err, EVO_ERR_INTERNAL, "stream: cannot start the source thread");
    if (pthread_create(&sink_thread, NULL, sink_main, s) != 0) {
        evo_stream_stop(s);
        item *it;
        while ((it = evo_vqueue_pop(&s->q_in)) != NULL)
            recycle(s, it);
        pthread_join(src_thread, NULL);
        return evo_errorf(err, EVO_ERR_INTERNAL, "stream: cannot start the sink thread");
    }
    item *it;
    bool ok = true;
    while ((it = evo_vqueue_pop(&s->q_in)) != NULL) {
        if (!ok || atomic_load(&s->stop) || (ok = infer(s, it)) == false || !evo_vqueue_push(&s->q_out, it))
            recycle(s, it);
    }
    evo_vqueue_close(&s->q_out);
    pthread_join(src_thread, NULL);
    pthread_join(sink_thread, NULL);
    evo_error close_err = {0};
    if (evo_vwriter_close(s->writer, !failed(s), &close_err) != EVO_OK)
        fail(s, &close_err);
    s->writer = NULL;
    finish_stats(s, evo_now_ns() - t0);
    if (s->status != EVO_OK) {
        if (err)
            *err = s->err;
        return s->status;
    }
    return EVO_OK;
}

evo_stream_stats evo_stream_get_stats(const evo_stream *s)
{
    evo_stream_stats none;
    memset(&none, 0, sizeof none);
    return s ? s->stats : none;
}

void evo_video_quiet_ffmpeg(bool quiet)
{
    av_log_set_level(quiet ? AV_LOG_FATAL : AV_LOG_INFO);
}
