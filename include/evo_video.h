/*
 * evo_video.h - video sources and the pipelined detection loop of evo: files
 * (mp4, mkv, avi, raw H.264/H.265...), network streams (rtsp://, http://)
 * and V4L2 cameras (/dev/videoN), decoded by FFmpeg. Optional: present in
 * builds that found FFmpeg's libraries (EVO_HAVE_VIDEO is then defined for
 * the evo targets). No FFmpeg type appears here.
 *
 * Usage (examples/video_detect.c is a complete program):
 *
 *     evo_stream *st = NULL;
 *     evo_stream_options so = evo_stream_options_default();
 *     if (evo_stream_open("/dev/video0", &so, &st, &err) != EVO_OK)
 *         return fprintf(stderr, "%s\n", err.msg), 1;
 *     evo_stream_run(st, det, on_frame, NULL, &err); // on_frame(user, result) per frame
 *     evo_stream_stats stats = evo_stream_get_stats(st);
 *     evo_stream_free(st);
 *
 * The loop runs three threads: the source (read + decode frame N+1), the
 * caller's thread (preprocess + inference + boxes of frame N) and the sink
 * (the callback, then draw + encode of frame N-1). Bounded queues with
 * condition variables join them. Decoded frames reach the fused letterbox in
 * their native layout (I420, NV12, YUYV, RGB, BGR...): no pixel is copied on
 * the way; a format the letterbox does not read is converted, and that copy
 * is counted in the statistics.
 */
#ifndef EVO_VIDEO_H
#define EVO_VIDEO_H

#include "evo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct evo_stream evo_stream;

typedef struct evo_stream_options {
    /* V4L2 capture (also any demuxer taking these options): 0 / NULL keeps the device's default */
    int width, height;
    double fps;
    const char *pixel_format;  /* FFmpeg's name: "yuyv422", "mjpeg", "nv12"... */
    const char *input_format;  /* force a demuxer ("v4l2", "h264", "hevc"...); NULL: probe */
    bool hwaccel;              /* use a hardware decoder when FFmpeg has one (silent fallback); true */
    int decode_threads;        /* decoder threads; 1 (inference owns the cores) */
    int live;                  /* -1: auto (devices and network streams), 0: file, 1: live */
    int every;                 /* process every Nth decoded frame; 1 */
    int64_t max_frames;        /* stop after this many processed frames; 0: no limit */
    double start_s;            /* skip frames before this time (seconds from the start, as pts_s); 0 */
    double duration_s;         /* stop after this much source time; 0: no limit */
    int queue_depth;           /* frames waiting between two stages (files); 2 */
    const char *output_path;   /* annotated video, muxer and encoder by extension; NULL: none */
    const char *const *class_names; /* labels drawn on the output (borrowed: must outlive the stream); NULL: ids */
    int n_class_names;
    evo_log_fn log;            /* warnings (bad frames, level 1) and notes (level 2); NULL: silent */
    void *log_user;
} evo_stream_options;

/* Defaults: probe, hwaccel on, one decoder thread, auto live, every frame, queue 2. */
EVO_API evo_stream_options evo_stream_options_default(void);

/* One processed frame, handed to the callback on the sink thread, in source order. */
typedef struct evo_stream_result {
    int64_t index;            /* decoded frame number, from 0 (after a start_s seek: from the key frame before it) */
    int64_t seq;              /* processed frame number, from 0 */
    double pts_s;             /* seconds from the file's start (live: the first frame); -1 when unknown */
    const evo_frame *frame;   /* the decoded pixels, borrowed during the callback */
    const evo_detection *dets; /* boxes in frame pixels, best first; borrowed during the callback */
    int n_dets;
    bool corrupt;             /* the decoder concealed damage in this frame */
    double latency_ms;        /* frame arrival (its packet read) -> boxes */
} evo_stream_result;

/* Returns 0 to go on, non-zero to stop the loop. */
typedef int (*evo_stream_callback)(void *user, const evo_stream_result *r);

typedef enum evo_stream_stage {
    EVO_STAGE_DECODE = 0,  /* read + decode (+ hardware download or conversion when needed) */
    EVO_STAGE_PREPROCESS,  /* fused letterbox into the input tensor */
    EVO_STAGE_INFERENCE,
    EVO_STAGE_POSTPROCESS, /* box decode + NMS */
    EVO_STAGE_SINK,        /* callback + draw + encode */
    EVO_STAGE_COUNT
} evo_stream_stage;

/* Returns "decode", "preprocess", "inference", "postprocess", "draw+encode". */
EVO_API const char *evo_stream_stage_name(evo_stream_stage s);

typedef struct evo_stream_stage_stats {
    int64_t n;                /* frames timed */
    double mean_ms, p50_ms, p99_ms;
    double copied_bytes;      /* per processed frame: pixel or tensor bytes moved by a copy or conversion */
} evo_stream_stage_stats;

typedef struct evo_stream_stats {
    evo_stream_stage_stats stage[EVO_STAGE_COUNT];
    double latency_mean_ms, latency_p50_ms, latency_p99_ms; /* frame arrival -> boxes */
    double fps;               /* processed frames per second of wall time */
    double wall_s;
    int64_t frames_decoded;   /* frames out of the decoder */
    int64_t frames_processed; /* frames that went through the detector */
    int64_t frames_dropped;   /* live sources: frames replaced by a newer one before inference */
    int64_t frames_skipped;   /* left out by every / start */
    int64_t frames_bad;       /* packets the decoder rejected and frames it flagged corrupt */
    double frame_bytes;       /* bytes of one decoded frame, read once in place by the letterbox */
    double tensor_bytes;      /* bytes of the input tensor the letterbox writes */
    int64_t frames_converted; /* frames converted because the letterbox cannot read their layout */
    char decoder[48];         /* FFmpeg decoder name, with "+hw" when a hardware decoder runs */
    char pixel_format[32];    /* FFmpeg's name of the decoded layout */
} evo_stream_stats;

/*
 * Opens a source: a file path, a URL (rtsp://, http://...), or a V4L2 device
 * (/dev/videoN), and its decoder. Errors name the source. On failure *out is
 * untouched.
 */
EVO_API evo_status evo_stream_open(const char *source, const evo_stream_options *o, evo_stream **out,
                                   evo_error *err);
EVO_API void evo_stream_free(evo_stream *s);
/* Frame size of the source as the decoder reports it. */
EVO_API int evo_stream_width(const evo_stream *s);
EVO_API int evo_stream_height(const evo_stream *s);
/*
 * Runs the loop until the source ends, max_frames / duration is reached,
 * the callback returns non-zero or evo_stream_stop is called. The detector
 * runs on the calling thread. Bad packets and corrupt frames are warnings
 * (the log) and are counted; they never stop the loop. Runs once per stream.
 */
EVO_API evo_status evo_stream_run(evo_stream *s, evo_detector *det, evo_stream_callback cb, void *user,
                                  evo_error *err);
/* Stops a running loop soon: frames in flight are not delivered. Safe from any thread or a signal handler. */
EVO_API void evo_stream_stop(evo_stream *s);
/* Statistics of a finished evo_stream_run (zeros before). */
EVO_API evo_stream_stats evo_stream_get_stats(const evo_stream *s);
/*
 * FFmpeg's own console messages (process-wide FFmpeg state, not evo's):
 * quiet true keeps only its fatal errors, for tools whose warnings come
 * through evo_stream_options.log; false restores FFmpeg's default.
 */
EVO_API void evo_video_quiet_ffmpeg(bool quiet);

#ifdef __cplusplus
}
#endif

#endif /* EVO_VIDEO_H */
