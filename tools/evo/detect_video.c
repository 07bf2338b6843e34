/*
 * detect_video.c - `evo detect MODEL VIDEO|URL|/dev/videoN`: the detector
 * over a video source through the pipelined loop of include/evo_video.h,
 * with an annotated video (-o out.mp4), JSON Lines (one object per frame,
 * --json - streams to stdout) or both, and --timing's per-stage table with
 * latency, throughput, drops and the bytes copied per frame.
 * Built without FFmpeg, a video source is a one-line error.
 */
#include "cli.h"
#include "core/core.h"
#include "vision/vision.h"

#include <string.h>
#include <strings.h>

bool cli_is_video_source(const char *s)
{
    static const char *const exts[] = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".ts", ".mts", ".flv",
                                       ".nut", ".y4m", ".h264", ".264", ".h265", ".265", ".hevc", ".mjpeg",
                                       ".mjpg", ".mpg", ".mpeg", ".ivf", ".ogv"};
    if (strncmp(s, "/dev/video", 10) == 0 || strstr(s, "://"))
        return true;
    const char *dot = strrchr(s, '.');
    if (!dot || strchr(dot, '/'))
        return false;
    for (size_t i = 0; i < EVO_ARRAY_LEN(exts); i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return true;
    return false;
}

#ifndef EVO_HAVE_VIDEO

int cli_detect_video(int argc, char **argv)
{
    const char *source = "video";
    for (int i = 2; i < argc; i++)
        if (argv[i][0] != '-' && cli_is_video_source(argv[i]))
            source = argv[i];
    return cli_fail("detect: %s: this evo was built without video support (EVO_VIDEO=OFF, or FFmpeg's development "
                    "libraries were missing at build time: docs/video.md)", source);
}

#else

#include "evo_video.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>

typedef struct video_opts {
    const char *source, *out_path, *json_path, *names_path;
    bool timing, quiet;
    evo_stream_options so;
    evo_detect_options det;
} video_opts;

typedef struct video_ctx {
    const video_opts *o;
    evo_names names;
    FILE *json;
} video_ctx;

static evo_stream *volatile running; // for SIGINT: stop after the frames in flight

static void on_sigint(int sig)
{
    (void)sig;
    if (running)
        evo_stream_stop(running);
}

static void warn_log(void *user, int level, const char *msg)
{
    (void)user;
    fprintf(stderr, "evo: %s%s\n", level <= 1 ? "warning: " : "", msg);
}

static bool parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        cli_fail("detect: %s \"%s\": expected a number in %g..%g", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (*end != 'x')
        return false;
    long b = strtol(end + 1, &end, 10);
    if (*end || a < 1 || b < 1 || a > 16384 || b > 16384)
        return false;
    *w = (int)a, *h = (int)b;
    return true;
}

/* One of the video options at argv[*i]: 1 taken, 0 not ours, -1 after an error. */
static int parse_video_opt(int argc, char **argv, int *i, void *user)
{
    video_opts *o = user;
    const char *a = argv[*i];
    if (strcmp(a, "--timing") == 0)
        return o->timing = true, 1;
    if (strcmp(a, "--quiet") == 0)
        return o->quiet = true, 1;
    int r = cli_parse_detect_opt(argc, argv, i, "detect", &o->det, NULL);
    if (r != 0 || *i + 1 >= argc)
        return r;
    const char *v = argv[*i + 1];
    bool ok = true;
    int n = 0;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
        o->out_path = v;
    else if (strcmp(a, "--json") == 0)
        o->json_path = v;
    else if (strcmp(a, "--names") == 0)
        o->names_path = v;
    else if (strcmp(a, "--every") == 0)
        ok = cli_parse_int(a, v, 1, 1000000, &o->so.every);
    else if (strcmp(a, "--max-frames") == 0)
        ok = cli_parse_int(a, v, 1, 2000000000, &n), o->so.max_frames = n;
    else if (strcmp(a, "--start") == 0)
        ok = parse_double(a, v, 0, 1e9, &o->so.start_s);
    else if (strcmp(a, "--duration") == 0)
        ok = parse_double(a, v, 1e-6, 1e9, &o->so.duration_s);
    else if (strcmp(a, "--fps") == 0)
        ok = parse_double(a, v, 0.01, 10000, &o->so.fps);
    else if (strcmp(a, "--size") == 0) {
        if (!(ok = parse_size(v, &o->so.width, &o->so.height)))
            cli_fail("detect: --size \"%s\": expected WIDTHxHEIGHT, e.g. 1280x720", v);
    } else if (strcmp(a, "--pixel-format") == 0)
        o->so.pixel_format = v;
    else if (strcmp(a, "--format") == 0)
        o->so.input_format = v;
    else if (strcmp(a, "--queue") == 0)
        ok = cli_parse_int(a, v, 1, 64, &o->so.queue_depth);
    else if (strcmp(a, "--decode-threads") == 0)
        ok = cli_parse_int(a, v, 1, 64, &o->so.decode_threads);
    else if (strcmp(a, "--hwaccel") == 0) {
        if (strcmp(v, "auto") == 0 || strcmp(v, "none") == 0)
            o->so.hwaccel = strcmp(v, "auto") == 0;
        else
            ok = false, cli_fail("detect: --hwaccel \"%s\": expected auto or none", v);
    } else if (strcmp(a, "--live") == 0) {
        if (strcmp(v, "auto") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "no") == 0)
            o->so.live = v[0] == 'a' ? -1 : v[0] == 'y';
        else
            ok = false, cli_fail("detect: --live \"%s\": expected auto, yes or no", v);
    } else
        return 0;
    (*i)++;
    return ok ? 1 : -1;
}

/* The video source after the model: one only. */
static int set_source(const char *arg, void *user)
{
    video_opts *o = user;
    if (o->source)
        return cli_fail("detect: one video source at a time (\"%s\", then \"%s\")", o->source, arg);
    o->source = arg;
    return 0;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int on_frame(void *user, const evo_stream_result *r)
{
    video_ctx *c = user;
    if (c->json) {
        fprintf(c->json, "{\"frame\": %lld, \"time\": %.6f, \"width\": %d, \"height\": %d, \"corrupt\": %s, "
                         "\"latency_ms\": %.3f, \"detections\": [",
                (long long)r->index, r->pts_s, r->frame->width, r->frame->height, r->corrupt ? "true" : "false",
                r->latency_ms);
        for (int i = 0; i < r->n_dets; i++) {
            const evo_detection *d = &r->dets[i];
            const char *name = evo_names_get(&c->names, d->class_id);
            fprintf(c->json, "%s{\"class_id\": %d, \"name\": ", i ? ", " : "", d->class_id);
            json_string(c->json, name ? name : "");
            fprintf(c->json, ", \"score\": %.5f, \"box\": [%.2f, %.2f, %.2f, %.2f]}", (double)d->score,
                    (double)d->x0, (double)d->y0, (double)d->x1, (double)d->y1);
        }
        fputs("]}\n", c->json);
        fflush(c->json); // one line per frame, as it happens
    }
    bool to_stdout = c->o->json_path && strcmp(c->o->json_path, "-") == 0;
    if (!to_stdout && !c->o->quiet) {
        for (int i = 0; i < r->n_dets; i++) {
            const evo_detection *d = &r->dets[i];
            const char *name = evo_names_get(&c->names, d->class_id);
            printf("%s#%lld: %s (%d) %.3f [%.1f, %.1f, %.1f, %.1f]\n", c->o->source, (long long)r->index,
                   name ? name : "?", d->class_id, (double)d->score, (double)d->x0, (double)d->y0, (double)d->x1,
                   (double)d->y1);
        }
    }
    return 0;
}

static void print_timing(const char *source, const evo_stream_stats *s)
{
    fprintf(stderr,
            "evo: %s: %lld frames processed in %.2f s, %.2f FPS (decoder %s, %s); decoded %lld, dropped %lld, "
            "skipped %lld, bad %lld, converted %lld\n",
            source, (long long)s->frames_processed, s->wall_s, s->fps, s->decoder, s->pixel_format,
            (long long)s->frames_decoded, (long long)s->frames_dropped, (long long)s->frames_skipped,
            (long long)s->frames_bad, (long long)s->frames_converted);
    fprintf(stderr, "  %-12s %9s %9s %9s %16s\n", "stage", "mean ms", "p50 ms", "p99 ms", "copied B/frame");
    double copies = 0;
    for (int k = 0; k < EVO_STAGE_COUNT; k++) {
        const evo_stream_stage_stats *g = &s->stage[k];
        fprintf(stderr, "  %-12s %9.2f %9.2f %9.2f %16.0f\n", evo_stream_stage_name((evo_stream_stage)k), g->mean_ms,
                g->p50_ms, g->p99_ms, g->copied_bytes);
        copies += g->copied_bytes;
    }
    fprintf(stderr, "  %-12s %9.2f %9.2f %9.2f   (frame arrival -> boxes)\n", "latency", s->latency_mean_ms,
            s->latency_p50_ms, s->latency_p99_ms);
    fprintf(stderr,
            "  pixels: the letterbox reads each %.0f-byte decoded frame once, in place, and writes the %.0f-byte "
            "input tensor; other copies: %.0f B/frame\n",
            s->frame_bytes, s->tensor_bytes, copies);
}

static const char usage[] =
    "usage: evo detect MODEL VIDEO|URL|/dev/videoN [-o OUT.mp4] [--json FILE|-] [--timing] [--quiet]\n"
    "  [--every N] [--max-frames N] [--start SEC] [--duration SEC]\n"
    "  [--size WxH] [--fps F] [--pixel-format yuyv422|mjpeg|nv12...] [--format DEMUXER]\n"
    "  [--hwaccel auto|none] [--live auto|yes|no] [--queue 2] [--decode-threads 1]\n"
    "  [--names FILE] [DETECTOR OPTIONS] [--threads N] [--isa NAME] [--input-shape NAME=1x3xHxW]\n"
    CLI_DETECTOR_HELP;

int cli_detect_video(int argc, char **argv)
{
    video_opts o;
    memset(&o, 0, sizeof o);
    o.so = evo_stream_options_default();
    o.det = evo_detect_options_default();
    cli_model_opts mo = {.n_threads = 1};
    const char *model_path = NULL;
    cli_detect_args args = {parse_video_opt, set_source, &o, usage};
    if (cli_parse_detect_args(argc, argv, &args, &o.det, &mo, &model_path))
        return 1;
    if (!model_path || !o.source)
        return cli_fail("%s", usage);
    if (!getenv("EVO_FFMPEG_LOG"))
        evo_video_quiet_ffmpeg(true);

    video_ctx c = {&o, evo_names_coco(), NULL};
    evo_error err = {0};
    evo_model *model = NULL;
    evo_detector *det = NULL;
    evo_stream *st = NULL;
    int rc = 1;
    if (o.names_path && evo_names_load(o.names_path, &c.names, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    o.so.log = warn_log;
    o.so.output_path = o.out_path;
    o.so.class_names = c.names.names;
    o.so.n_class_names = c.names.count;
    // The source first: a missing file fails before the model is compiled.
    if (evo_stream_open(o.source, &o.so, &st, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    if (cli_open_detector(model_path, &mo, &o.det, &model, &det))
        goto done;
    if (o.json_path) {
        c.json = strcmp(o.json_path, "-") == 0 ? stdout : fopen(o.json_path, "w");
        if (!c.json) {
            cli_fail("%s: cannot create: %s", o.json_path, strerror(errno));
            goto done;
        }
    }
    running = st;
    void (*old)(int) = signal(SIGINT, on_sigint);
    evo_status s = evo_stream_run(st, det, on_frame, &c, &err);
    signal(SIGINT, old);
    running = NULL;
    evo_stream_stats stats = evo_stream_get_stats(st);
    if (o.timing)
        print_timing(o.source, &stats);
    if (s != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    if (stats.frames_processed == 0)
        fprintf(stderr, "evo: warning: %s: no frame was processed (%lld decoded)\n", o.source,
                (long long)stats.frames_decoded);
    rc = 0;
done:
    if (c.json && c.json != stdout && fclose(c.json) != 0 && rc == 0)
        rc = cli_fail("%s: write error", o.json_path);
    evo_stream_free(st);
    evo_detector_free(det);
    evo_model_free(model);
    evo_names_free(&c.names);
    return rc;
}

#endif /* EVO_HAVE_VIDEO */
