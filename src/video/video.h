/*
 * video.h - the FFmpeg side of evo's video support (internal): a source
 * that demuxes and decodes one video stream, the wrap of a decoded AVFrame
 * as an evo_frame (no copy), the annotated-video writer, and the timing
 * samples behind evo_stream_stats. Built only with FFmpeg (EVO_HAVE_VIDEO);
 * the core never includes this.
 */
#ifndef EVO_VIDEO_INTERNAL_H
#define EVO_VIDEO_INTERNAL_H

#include "core/core.h"
#include "evo_video.h"
#include "vision/vision.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

struct SwsContext;

/* ---- source.c: demux + decode ---- */

typedef struct evo_vsource evo_vsource;

evo_status evo_vsource_open(const char *source, const evo_stream_options *o, evo_vsource **out,
                            evo_error *err);
void evo_vsource_free(evo_vsource *vs);

/* One decoded frame and what the loop needs to know about it. */
typedef struct evo_vpacket_info {
    int64_t arrival_ns;   /* when the packet that released the frame was read */
    double pts_s;         /* -1 when unknown */
    bool corrupt;
    size_t copied_bytes;  /* hardware download / conversion, 0 for a native frame */
} evo_vpacket_info;

/*
 * Reads and decodes until the next frame lands in out (a referenced
 * AVFrame, unreferenced first): 1 for a frame, 0 at the end of the source.
 * Bad packets and concealed frames are warnings through the log, counted in
 * *n_bad; decoding goes on after them. A read error ends the source after a
 * warning (what the decoder still holds is delivered first).
 */
int evo_vsource_next(evo_vsource *vs, AVFrame *out, evo_vpacket_info *info, int64_t *n_bad);
bool evo_vsource_live(const evo_vsource *vs);
int evo_vsource_width(const evo_vsource *vs);
int evo_vsource_height(const evo_vsource *vs);
double evo_vsource_fps(const evo_vsource *vs);  /* 0 when unknown */
const char *evo_vsource_decoder(const evo_vsource *vs);
void evo_vsource_interrupt(evo_vsource *vs);     /* makes blocking reads return */
/* A file's first timestamp in seconds, -1 when unknown or live (then the first frame's counts). */
double evo_vsource_start_time(const evo_vsource *vs);
/* Seeks a file to the key frame at or before t_s after its start (best effort: frames before t_s are skipped by time). */
void evo_vsource_seek(evo_vsource *vs, double t_s);

/*
 * Views a decoded frame as an evo_frame without copying: YUV420P/YUVJ420P as
 * I420, NV12, YUYV422 as YUYV, RGB24, BGR24, RGBA, BGRA, RGB0/BGR0, GRAY8.
 * False when the layout is not one the letterbox reads (or the strides are
 * negative, or the frame fails evo_frame_check).
 */
bool evo_vframe_wrap(const AVFrame *f, evo_frame *out);
/*
 * Converts f into dst (allocated here) as YUV420P (or RGB24 for RGB
 * layouts and odd sizes) with swscale; *sws is the cached context. Returns
 * the bytes written (the copy), 0 on failure.
 */
size_t evo_vframe_convert(struct SwsContext **sws, const AVFrame *f, AVFrame *dst);

/* ---- writer.c: annotated video ---- */

typedef struct evo_vwriter evo_vwriter;

/* Opens path for frames of w x h (rounded down to even) at fps (0: 25); muxer and encoder by extension. */
evo_status evo_vwriter_open(const char *path, int w, int h, double fps, evo_vwriter **out, evo_error *err);
/*
 * Draws dets on frame (made writable first: a copy when the decoder still
 * holds it) and encodes it. *copied_bytes gets the pixel bytes copied or
 * converted on the way.
 */
evo_status evo_vwriter_write(evo_vwriter *w, AVFrame *frame, const evo_detection *dets, int n,
                             const evo_names *names, size_t *copied_bytes, evo_error *err);
/* Flushes the encoder and writes the trailer (when ok), then frees; NULL is a no-op. */
evo_status evo_vwriter_close(evo_vwriter *w, bool ok, evo_error *err);

/* Boxes and labels drawn straight into YUV420P planes (evo_draw_detections on a YUV canvas). */
void evo_draw_detections_i420(uint8_t *const planes[3], const int linesize[3], int width, int height,
                              const evo_detection *dets, int n, const evo_names *names);

/* ---- samples.c: per-stage timing samples ---- */

/* Samples for percentiles: all kept up to a cap, then a uniform reservoir. */
typedef struct evo_samples {
    float *v;
    int64_t n, cap, seen;
    double sum;
    uint64_t rng;
} evo_samples;

void evo_samples_add(evo_samples *s, double ms);
/* Mean, p50 and p99 of what was added (zeros when empty); sorts the samples. */
void evo_samples_summary(evo_samples *s, double *mean, double *p50, double *p99);
void evo_samples_free(evo_samples *s);

#endif /* EVO_VIDEO_INTERNAL_H */
