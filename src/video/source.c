/*
 * source.c - one video stream of a file, URL or V4L2 device, demuxed and
 * decoded by FFmpeg, frame by frame.
 *
 * The decoded AVFrame is handed on by reference: the letterbox later reads
 * its planes in place (evo_vframe_wrap). The only pixel moves here are the
 * download of a hardware frame and the conversion of a layout the letterbox
 * cannot read; both are counted. A packet the decoder rejects, or a frame it
 * flags as concealed, is a warning and decoding goes on: damaged files and
 * flaky streams lose frames, not the run.
 */
#include "video/video.h"

#include <libavdevice/avdevice.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct evo_vsource {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frm, *sw;
    AVBufferRef *hw_device;
    enum AVPixelFormat hw_fmt;
    int index;          /* the video stream */
    bool live, flushing, done;
    int64_t packets;    /* video packets read */
    int64_t arrival_ns; /* read time of the last packet sent */
    atomic_int interrupted;
    evo_log_fn log;
    void *log_user;
    char name[256];
    char decoder[48];
};

static pthread_once_t devices_once = PTHREAD_ONCE_INIT;

static void register_devices(void)
{
    avdevice_register_all();
}

static void warnf(const evo_vsource *vs, const char *fmt, ...) EVO_PRINTF(2, 3);
static void warnf(const evo_vsource *vs, const char *fmt, ...)
{
    if (!vs->log)
        return;
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s: ", vs->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    vs->log(vs->log_user, 1, msg);
}

static const char *averr(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0)
        snprintf(buf, size, "error %d", code);
    return buf;
}

static int interrupt_cb(void *ctx)
{
    evo_vsource *vs = ctx;
    return atomic_load(&vs->interrupted);
}

static enum AVPixelFormat pick_hw_format(AVCodecContext *ctx, const enum AVPixelFormat *fmts)
{
    const evo_vsource *vs = ctx->opaque;
    for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == vs->hw_fmt)
            return *p;
    // The hardware cannot take this stream: the first software format instead.
    for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++) {
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(*p);
        if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL))
            return *p;
    }
    return AV_PIX_FMT_NONE;
}

/* Attaches the first hardware device FFmpeg can open for codec; silent when none. */
static void try_hwaccel(evo_vsource *vs, const AVCodec *codec)
{
    for (int i = 0;; i++) {
        const AVCodecHWConfig *cfg = avcodec_get_hw_config(codec, i);
        if (!cfg)
            return;
        if (!(cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX))
            continue;
        AVBufferRef *dev = NULL;
        if (av_hwdevice_ctx_create(&dev, cfg->device_type, NULL, NULL, 0) < 0)
            continue;
        vs->hw_device = dev;
        vs->hw_fmt = cfg->pix_fmt;
        vs->dec->hw_device_ctx = av_buffer_ref(dev);
        vs->dec->opaque = vs;
        vs->dec->get_format = pick_hw_format;
        snprintf(vs->decoder, sizeof vs->decoder, "%s+%s", codec->name,
                 av_hwdevice_get_type_name(cfg->device_type));
        return;
    }
}

static bool is_device(const char *s)
{
    return strncmp(s, "/dev/video", 10) == 0;
}

static bool is_network(const char *s)
{
    const char *p = strstr(s, "://");
    return p && !(p - s == 4 && strncmp(s, "file", 4) == 0);
}

evo_status evo_vsource_open(const char *source, const evo_stream_options *o, evo_vsource **out,
                            evo_error *err)
{
    if (!source || !*source || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "video: a source is required");
    pthread_once(&devices_once, register_devices);
    evo_stream_options def = evo_stream_options_default();
    if (!o)
        o = &def;
    evo_vsource *vs = calloc(1, sizeof(*vs));
    if (!vs)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", source);
    snprintf(vs->name, sizeof vs->name, "%s", source);
    vs->log = o->log, vs->log_user = o->log_user;
    vs->hw_fmt = AV_PIX_FMT_NONE;
    atomic_init(&vs->interrupted, 0);
    char e[128];
    evo_status st = EVO_OK;
    const AVInputFormat *ifmt = NULL;
    if (o->input_format && !(ifmt = av_find_input_format(o->input_format))) {
        st = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: unknown input format \"%s\"", source, o->input_format);
        goto fail;
    }
    if (!ifmt && is_device(source) && !(ifmt = av_find_input_format("video4linux2"))) {
        st = evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: this FFmpeg has no V4L2 input", source);
        goto fail;
    }
    AVDictionary *opts = NULL;
    char buf[64];
    if (o->width > 0 && o->height > 0) {
        snprintf(buf, sizeof buf, "%dx%d", o->width, o->height);
        av_dict_set(&opts, "video_size", buf, 0);
    }
    if (o->fps > 0) {
        snprintf(buf, sizeof buf, "%g", o->fps);
        av_dict_set(&opts, "framerate", buf, 0);
    }
    if (o->pixel_format)
        av_dict_set(&opts, ifmt && strcmp(ifmt->name, "video4linux2,v4l2") == 0 ? "input_format" : "pixel_format",
                    o->pixel_format, 0);
    if (is_network(source))
        av_dict_set(&opts, "rw_timeout", "10000000", 0); // 10 s without data ends a stalled stream
    vs->fmt = avformat_alloc_context();
    if (!vs->fmt) {
        av_dict_free(&opts);
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", source);
        goto fail;
    }
    vs->fmt->interrupt_callback.callback = interrupt_cb;
    vs->fmt->interrupt_callback.opaque = vs;
    int r = avformat_open_input(&vs->fmt, source, ifmt, &opts);
    av_dict_free(&opts);
    if (r < 0) { // avformat_open_input frees the context on failure
        st = evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", source, averr(r, e, sizeof e));
        goto fail;
    }
    if ((r = avformat_find_stream_info(vs->fmt, NULL)) < 0) {
        st = evo_errorf(err, EVO_ERR_PARSE, "%s: cannot read stream info: %s", source, averr(r, e, sizeof e));
        goto fail;
    }
    const AVCodec *codec = NULL;
    vs->index = av_find_best_stream(vs->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (vs->index < 0 || !codec) {
        st = evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: %s", source,
                        vs->index == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video stream"
                                                               : "no video stream");
        goto fail;
    }
    AVStream *stream = vs->fmt->streams[vs->index];
    vs->dec = avcodec_alloc_context3(codec);
    if (!vs->dec || avcodec_parameters_to_context(vs->dec, stream->codecpar) < 0) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", source);
        goto fail;
    }
    vs->dec->thread_count = o->decode_threads > 0 ? o->decode_threads : 1;
    vs->dec->pkt_timebase = stream->time_base;
    snprintf(vs->decoder, sizeof vs->decoder, "%s", codec->name);
    if (o->hwaccel)
        try_hwaccel(vs, codec);
    if ((r = avcodec_open2(vs->dec, codec, NULL)) < 0) {
        st = evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: cannot open the %s decoder: %s", source, codec->name,
                        averr(r, e, sizeof e));
        goto fail;
    }
    vs->pkt = av_packet_alloc();
    vs->frm = av_frame_alloc();
    vs->sw = av_frame_alloc();
    if (!vs->pkt || !vs->frm || !vs->sw) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", source);
        goto fail;
    }
    vs->live = o->live > 0 || (o->live < 0 && (is_device(source) || is_network(source) ||
                                                (vs->fmt->iformat->flags & AVFMT_NOFILE)));
    *out = vs;
    return EVO_OK;
fail:
    evo_vsource_free(vs);
    return st;
}

void evo_vsource_free(evo_vsource *vs)
{
    if (!vs)
        return;
    avcodec_free_context(&vs->dec);
    avformat_close_input(&vs->fmt);
    av_buffer_unref(&vs->hw_device);
    av_packet_free(&vs->pkt);
    av_frame_free(&vs->frm);
    av_frame_free(&vs->sw);
    free(vs);
}

bool evo_vsource_live(const evo_vsource *vs)
{
    return vs->live;
}

int evo_vsource_width(const evo_vsource *vs)
{
    return vs->dec->width;
}

int evo_vsource_height(const evo_vsource *vs)
{
    return vs->dec->height;
}

double evo_vsource_fps(const evo_vsource *vs)
{
    AVRational r = vs->fmt->streams[vs->index]->avg_frame_rate;
    if (r.num <= 0 || r.den <= 0)
        r = vs->fmt->streams[vs->index]->r_frame_rate;
    return r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0;
}

const char *evo_vsource_decoder(const evo_vsource *vs)
{
    return vs->decoder;
}

double evo_vsource_start_time(const evo_vsource *vs)
{
    if (vs->live || vs->fmt->start_time == AV_NOPTS_VALUE)
        return -1;
    return (double)vs->fmt->start_time / AV_TIME_BASE;
}

void evo_vsource_seek(evo_vsource *vs, double t_s)
{
    double origin = evo_vsource_start_time(vs);
    int64_t ts = (int64_t)((t_s + (origin > 0 ? origin : 0)) * AV_TIME_BASE);
    if (avformat_seek_file(vs->fmt, -1, INT64_MIN, ts, ts, 0) >= 0)
        avcodec_flush_buffers(vs->dec);
}

void evo_vsource_interrupt(evo_vsource *vs)
{
    atomic_store(&vs->interrupted, 1);
}

/* Finishes a frame from the decoder into out: hardware download, flags, time. */
static int deliver(evo_vsource *vs, AVFrame *out, evo_vpacket_info *info, int64_t *n_bad)
{
    AVFrame *f = vs->frm;
    info->arrival_ns = vs->arrival_ns;
    info->copied_bytes = 0;
    info->corrupt = (f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags;
    AVRational tb = vs->fmt->streams[vs->index]->time_base;
    int64_t ts = f->best_effort_timestamp;
    info->pts_s = ts == AV_NOPTS_VALUE ? -1.0 : (double)ts * av_q2d(tb);
    if (info->corrupt) {
        (*n_bad)++;
        warnf(vs, "frame at %.3f s: the decoder concealed damaged data", info->pts_s);
    }
    if (f->format == vs->hw_fmt && vs->hw_fmt != AV_PIX_FMT_NONE) {
        av_frame_unref(vs->sw);
        int r = av_hwframe_transfer_data(vs->sw, f, 0);
        if (r < 0 || av_frame_copy_props(vs->sw, f) < 0) {
            char e[128];
            (*n_bad)++;
            warnf(vs, "frame at %.3f s: hardware frame download failed: %s", info->pts_s, averr(r, e, sizeof e));
            av_frame_unref(f);
            return 0;
        }
        int size = av_image_get_buffer_size(vs->sw->format, vs->sw->width, vs->sw->height, 1);
        info->copied_bytes = size > 0 ? (size_t)size : 0;
        av_frame_unref(f);
        f = vs->sw;
    }
    av_frame_unref(out);
    av_frame_move_ref(out, f);
    return 1;
}

int evo_vsource_next(evo_vsource *vs, AVFrame *out, evo_vpacket_info *info, int64_t *n_bad)
{
    char e[128];
    while (!vs->done) {
        int r = avcodec_receive_frame(vs->dec, vs->frm);
        if (r == 0) {
            if (deliver(vs, out, info, n_bad))
                return 1;
            continue;
        }
        if (r == AVERROR_EOF) {
            vs->done = true;
            break;
        }
        if (r != AVERROR(EAGAIN)) {
            (*n_bad)++;
            warnf(vs, "decode error: %s", averr(r, e, sizeof e));
            if (vs->flushing) { // nothing more will come out
                vs->done = true;
                break;
            }
            continue;
        }
        if (vs->flushing) { // EAGAIN while draining: the decoder has nothing left
            vs->done = true;
            break;
        }
        r = av_read_frame(vs->fmt, vs->pkt);
        if (r < 0) {
            if (atomic_load(&vs->interrupted)) {
                vs->done = true;
                break;
            }
            if (r != AVERROR_EOF)
                warnf(vs, "read error after %lld packets, ending the stream: %s", (long long)vs->packets,
                      averr(r, e, sizeof e));
            vs->flushing = true;
            avcodec_send_packet(vs->dec, NULL);
            continue;
        }
        if (vs->pkt->stream_index != vs->index) {
            av_packet_unref(vs->pkt);
            continue;
        }
        vs->arrival_ns = evo_now_ns();
        vs->packets++;
        double pts = vs->pkt->pts == AV_NOPTS_VALUE
                         ? -1.0
                         : (double)vs->pkt->pts * av_q2d(vs->fmt->streams[vs->index]->time_base);
        if (vs->pkt->flags & AV_PKT_FLAG_CORRUPT) {
            (*n_bad)++;
            warnf(vs, "packet %lld at %.3f s: marked corrupt by the demuxer", (long long)vs->packets - 1, pts);
        }
        r = avcodec_send_packet(vs->dec, vs->pkt);
        av_packet_unref(vs->pkt);
        if (r < 0 && r != AVERROR(EAGAIN)) {
            (*n_bad)++;
            warnf(vs, "packet %lld at %.3f s: decode error, frame lost: %s", (long long)vs->packets - 1, pts,
                  averr(r, e, sizeof e));
        }
    }
    return 0;
}

bool evo_vframe_wrap(const AVFrame *f, evo_frame *out)
{
    evo_frame fr;
    memset(&fr, 0, sizeof fr);
    fr.width = f->width, fr.height = f->height;
    fr.data = f->data[0];
    for (int i = 0; i < 3; i++)
        if (f->linesize[i] < 0)
            return false;
    fr.stride_bytes = (size_t)f->linesize[0];
    switch (f->format) {
    case AV_PIX_FMT_YUV420P:
    case AV_PIX_FMT_YUVJ420P: // full-range chroma read as limited (BT.601 limited is all the letterbox knows)
        if (f->linesize[1] != f->linesize[2])
            return false;
        fr.format = EVO_PIXEL_I420;
        fr.uv_data = f->data[1], fr.v_data = f->data[2];
        fr.uv_stride_bytes = (size_t)f->linesize[1];
        break;
    case AV_PIX_FMT_NV12:
        fr.format = EVO_PIXEL_NV12;
        fr.uv_data = f->data[1];
        fr.uv_stride_bytes = (size_t)f->linesize[1];
        break;
    case AV_PIX_FMT_YUYV422: fr.format = EVO_PIXEL_YUYV; break;
    case AV_PIX_FMT_RGB24: fr.format = EVO_PIXEL_RGB24; break;
    case AV_PIX_FMT_BGR24: fr.format = EVO_PIXEL_BGR24; break;
    case AV_PIX_FMT_RGBA:
    case AV_PIX_FMT_RGB0: fr.format = EVO_PIXEL_RGBA32; break;
    case AV_PIX_FMT_BGRA:
    case AV_PIX_FMT_BGR0: fr.format = EVO_PIXEL_BGRA32; break;
    case AV_PIX_FMT_GRAY8: fr.format = EVO_PIXEL_GRAY8; break;
    default: return false;
    }
    if (evo_frame_check(&fr, NULL) != EVO_OK)
        return false;
    *out = fr;
    return true;
}

size_t evo_vframe_convert(struct SwsContext **sws, const AVFrame *f, AVFrame *dst)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (!d || f->width <= 0 || f->height <= 0)
        return 0;
    bool rgb = (d->flags & AV_PIX_FMT_FLAG_RGB) || (f->width & 1) || (f->height & 1);
    enum AVPixelFormat to = rgb ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUV420P;
    *sws = sws_getCachedContext(*sws, f->width, f->height, f->format, f->width, f->height, to, SWS_BILINEAR,
                                NULL, NULL, NULL);
    if (!*sws)
        return 0;
    av_frame_unref(dst);
    dst->format = to, dst->width = f->width, dst->height = f->height;
    if (av_frame_get_buffer(dst, 0) < 0 || av_frame_copy_props(dst, f) < 0)
        return 0;
    if (sws_scale(*sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst->data, dst->linesize) !=
        f->height)
        return 0;
    int size = av_image_get_buffer_size(to, f->width, f->height, 1);
    return size > 0 ? (size_t)size : 0;
}
