/*
 * video_detect.c - detections from a camera, file or stream with the public
 * video API: usage: video_detect MODEL [SOURCE (default /dev/video0)]
 */
#include "evo.h"
#include "evo_video.h"

#include <stdio.h>

static int on_frame(void *user, const evo_stream_result *r)
{
    printf("frame %lld: %d objects, %.1f ms after arrival\n", (long long)r->index, r->n_dets, r->latency_ms);
    return 0; // non-zero stops the loop
}

int main(int argc, char **argv)
{
    evo_error err;
    evo_model *model = NULL;
    evo_detector *det = NULL;
    evo_stream *st = NULL;
    evo_compile_options co = evo_compile_options_default();
    evo_session_options so = evo_session_options_default();
    evo_stream_options vo = evo_stream_options_default();
    so.n_threads = 2;
    int rc = argc < 2 || evo_model_load(argv[1], &co, &model, &err) != EVO_OK ||
             evo_detector_create(model, &so, NULL, &det, &err) != EVO_OK ||
             evo_stream_open(argc > 2 ? argv[2] : "/dev/video0", &vo, &st, &err) != EVO_OK ||
             evo_stream_run(st, det, on_frame, NULL, &err) != EVO_OK;
    if (rc)
        fprintf(stderr, "%s\n", argc < 2 ? "usage: video_detect MODEL [SOURCE]" : err.msg);
    else
        printf("%.1f FPS, %lld frames dropped\n", evo_stream_get_stats(st).fps,
               (long long)evo_stream_get_stats(st).frames_dropped);
    evo_stream_free(st);
    evo_detector_free(det);
    evo_model_free(model);
    return rc;
}
