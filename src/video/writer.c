/*
 * writer.c - the annotated video: boxes drawn into the decoded frame's YUV
 * planes, encoded with libavcodec and muxed by the file's extension.
 *
 * The decoded frame is drawn on in place when the decoder no longer needs
 * it; otherwise av_frame_make_writable copies it first (the decoder keeps
 * reference frames). A frame of another layout or size is converted to the
 * encoder's YUV420P. Every such move is reported to the caller, who counts
 * it in the draw+encode stage.
 */
#include "video/video.h"

#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <stdlib.h>
#include <string.h>

struct evo_vwriter {
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    AVPacket *pkt;
    AVFrame *conv; /* YUV420P frame for converted input */
    struct SwsContext *sws;
    int64_t n;     /* frames sent */
    char path[256];
};

static const char *averr(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0)
        snprintf(buf, size, "error %d", code);
    return buf;
}

/* BT.601 limited range, as the letterbox reads it back. */
void evo_draw_detections_i420(uint8_t *const planes[3], const int linesize[3], int width, int height,
                              const evo_detection *dets, int n, const evo_names *names)
{
    evo_canvas c = {EVO_PIXEL_I420, width,     height,    planes[0], (size_t)linesize[0],
                    planes[1],      (size_t)linesize[1], planes[2]};
    evo_canvas_draw_detections(&c, dets, n, names);
}

evo_status evo_vwriter_open(const char *path, int w, int h, double fps, evo_vwriter **out, evo_error *err)
{
    char e[128];
    if (w < 2 || h < 2)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: frame size %dx%d is too small to encode", path, w, h);
    w &= ~1, h &= ~1; // YUV420P needs even sizes: an odd last row or column is cut off (by the conversion)
    evo_vwriter *vw = calloc(1, sizeof(*vw));
    if (!vw)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
    snprintf(vw->path, sizeof vw->path, "%s", path);
    evo_status st = EVO_OK;
    int r = avformat_alloc_output_context2(&vw->oc, NULL, NULL, path);
    if (r < 0 || !vw->oc) {
        st = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: no video format for this file name (use .mp4, .mkv or .avi)",
                        path);
        goto fail;
    }
    const AVCodec *codec = avcodec_find_encoder(vw->oc->oformat->video_codec);
    if (!codec || vw->oc->oformat->video_codec == AV_CODEC_ID_NONE) {
        st = evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: no video encoder for the %s format", path,
                        vw->oc->oformat->name);
        goto fail;
    }
    vw->enc = avcodec_alloc_context3(codec);
    vw->pkt = av_packet_alloc();
    vw->conv = av_frame_alloc();
    vw->st = avformat_new_stream(vw->oc, NULL);
    if (!vw->enc || !vw->pkt || !vw->conv || !vw->st) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    AVRational rate = av_d2q(fps > 0 && fps < 1000 ? fps : 25.0, 100000);
    vw->enc->width = w, vw->enc->height = h;
    vw->enc->time_base = av_inv_q(rate);
    vw->enc->framerate = rate;
    vw->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    vw->enc->thread_count = 1;
    if (codec->id == AV_CODEC_ID_MJPEG)
        vw->enc->pix_fmt = AV_PIX_FMT_YUVJ420P; // the same planes, full-range flag
    if (strcmp(codec->name, "libx264") == 0)
        av_opt_set(vw->enc->priv_data, "preset", "veryfast", 0);
    if (vw->oc->oformat->flags & AVFMT_GLOBALHEADER)
        vw->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((r = avcodec_open2(vw->enc, codec, NULL)) < 0) {
        st = evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: cannot open the %s encoder: %s", path, codec->name,
                        averr(r, e, sizeof e));
        goto fail;
    }
    vw->st->time_base = vw->enc->time_base;
    if (avcodec_parameters_from_context(vw->st->codecpar, vw->enc) < 0) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (!(vw->oc->oformat->flags & AVFMT_NOFILE) && (r = avio_open(&vw->oc->pb, path, AVIO_FLAG_WRITE)) < 0) {
        st = evo_errorf(err, EVO_ERR_IO, "%s: cannot create: %s", path, averr(r, e, sizeof e));
        goto fail;
    }
    if ((r = avformat_write_header(vw->oc, NULL)) < 0) {
        st = evo_errorf(err, EVO_ERR_IO, "%s: cannot write the header: %s", path, averr(r, e, sizeof e));
        goto fail;
    }
    *out = vw;
    return EVO_OK;
fail:
    evo_vwriter_close(vw, false, NULL);
    return st;
}

/* Sends frame (NULL: flush) and writes every packet that comes out. */
static evo_status encode(evo_vwriter *vw, AVFrame *frame, evo_error *err)
{
    char e[128];
    int r = avcodec_send_frame(vw->enc, frame);
    if (r < 0)
        return evo_errorf(err, EVO_ERR_IO, "%s: encode error: %s", vw->path, averr(r, e, sizeof e));
    for (;;) {
        r = avcodec_receive_packet(vw->enc, vw->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return EVO_OK;
        if (r < 0)
            return evo_errorf(err, EVO_ERR_IO, "%s: encode error: %s", vw->path, averr(r, e, sizeof e));
        if (vw->pkt->duration <= 0)
            vw->pkt->duration = 1; // one frame: the last frame then counts in the file's duration
        av_packet_rescale_ts(vw->pkt, vw->enc->time_base, vw->st->time_base);
        vw->pkt->stream_index = vw->st->index;
        r = av_interleaved_write_frame(vw->oc, vw->pkt); // takes the packet's reference
        if (r < 0)
            return evo_errorf(err, EVO_ERR_IO, "%s: write error: %s", vw->path, averr(r, e, sizeof e));
    }
}

evo_status evo_vwriter_write(evo_vwriter *vw, AVFrame *frame, const evo_detection *dets, int n,
                             const evo_names *names, size_t *copied_bytes, evo_error *err)
{
    *copied_bytes = 0;
    AVFrame *f = frame;
    bool yuv420 = frame->format == AV_PIX_FMT_YUV420P || frame->format == AV_PIX_FMT_YUVJ420P;
    int w = vw->enc->width, h = vw->enc->height;
    int size = av_image_get_buffer_size(AV_PIX_FMT_YUV420P, w, h, 1);
    if (yuv420 && frame->width == w && frame->height == h) {
        const AVBuffer *before = frame->buf[0] ? frame->buf[0]->buffer : NULL;
        if (av_frame_make_writable(frame) < 0)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", vw->path);
        if (!frame->buf[0] || frame->buf[0]->buffer != before)
            *copied_bytes = size > 0 ? (size_t)size : 0;
    } else {
        vw->sws = sws_getCachedContext(vw->sws, frame->width, frame->height, frame->format, w, h, AV_PIX_FMT_YUV420P,
                                       SWS_BILINEAR, NULL, NULL, NULL);
        if (!vw->sws)
            return evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: cannot convert %dx%d %s frames for the encoder",
                              vw->path, frame->width, frame->height, av_get_pix_fmt_name(frame->format));
        if (!vw->conv->buf[0]) {
            vw->conv->format = AV_PIX_FMT_YUV420P, vw->conv->width = w, vw->conv->height = h;
            if (av_frame_get_buffer(vw->conv, 0) < 0)
                return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", vw->path);
        }
        if (av_frame_make_writable(vw->conv) < 0)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", vw->path);
        sws_scale(vw->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, vw->conv->data,
                  vw->conv->linesize);
        *copied_bytes = size > 0 ? (size_t)size : 0;
        f = vw->conv;
    }
    evo_draw_detections_i420(f->data, f->linesize, w, h, dets, n, names);
    f->pts = vw->n++;
    f->pict_type = AV_PICTURE_TYPE_NONE;
    f->format = vw->enc->pix_fmt;
    return encode(vw, f, err);
}

evo_status evo_vwriter_close(evo_vwriter *vw, bool ok, evo_error *err)
{
    if (!vw)
        return EVO_OK;
    evo_status st = EVO_OK;
    if (ok) {
        st = encode(vw, NULL, err);
        if (st == EVO_OK) {
            int r = av_write_trailer(vw->oc);
            if (r < 0) {
                char e[128];
                st = evo_errorf(err, EVO_ERR_IO, "%s: cannot finish the file: %s", vw->path, averr(r, e, sizeof e));
            }
        }
    }
    if (vw->oc && !(vw->oc->oformat->flags & AVFMT_NOFILE))
        avio_closep(&vw->oc->pb);
    avformat_free_context(vw->oc);
    avcodec_free_context(&vw->enc);
    av_packet_free(&vw->pkt);
    av_frame_free(&vw->conv);
    sws_freeContext(vw->sws);
    free(vw);
    return st;
}
