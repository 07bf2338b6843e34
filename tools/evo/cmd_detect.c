/*
 * cmd_detect.c - `evo detect MODEL IMAGE... [-o OUT] [--json FILE]`: the
 * whole pipeline on image files: decode, fused letterbox into the session's
 * input tensor, inference, YOLO decode + NMS straight from the outputs,
 * then JSON and/or an annotated image. --timing prints each stage.
 */
#include "cli.h"
#include "core/core.h"
#include "vision/vision.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGES 4096
#define MAX_OUTPUTS 16

typedef struct detect_opts {
    const char *images[MAX_IMAGES];
    int n_images;
    const char *out_path;   /* annotated image, or a directory for several */
    const char *json_path;  /* "-" for stdout */
    const char *names_path;
    bool timing;
    int quality;
    evo_detect_options det;
} detect_opts;

/* Timings of one image, in ms. */
typedef struct stage_ms {
    double decode, preprocess, inference, postprocess, draw;
} stage_ms;

/* Consumes one option of detect's own at argv[*i]: 1 if taken, 0 if not ours, -1 on error. */
static int parse_detect_opt(int argc, char **argv, int *i, void *user)
{
    detect_opts *o = user;
    const char *a = argv[*i];
    if (strcmp(a, "--timing") == 0) {
        o->timing = true;
        return 1;
    }
    int r = cli_parse_detect_opt(argc, argv, i, "detect", &o->det, NULL);
    if (r != 0 || *i + 1 >= argc)
        return r;
    const char *v = argv[*i + 1];
    int ok = 1;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
        o->out_path = v;
    else if (strcmp(a, "--json") == 0)
        o->json_path = v;
    else if (strcmp(a, "--names") == 0)
        o->names_path = v;
    else if (strcmp(a, "--quality") == 0)
        ok = cli_parse_int(a, v, 1, 100, &o->quality);
    else
        return 0;
    (*i)++;
    return ok ? 1 : -1;
}

static int add_image(detect_opts *o, const char *path)
{
    if (o->n_images == MAX_IMAGES)
        return cli_fail("detect: more than %d images", MAX_IMAGES);
    o->images[o->n_images++] = path;
    return 0;
}

/* Adds every .jpg/.jpeg/.png file of dir, in name order. The paths live until exit. */
static int add_directory(detect_opts *o, const char *dir)
{
    char **paths = NULL;
    int n = 0;
    if (cli_list_images(dir, MAX_IMAGES - o->n_images, &paths, &n))
        return 1;
    for (int i = 0; i < n; i++)
        o->images[o->n_images++] = paths[i];
    free(paths);
    return 0;
}

/* Where the annotated copy of image goes, or false if none. */
/* An image or a folder of images after the model: 0, or 1 after an error. */
static int add_operand(const char *arg, void *user)
{
    detect_opts *o = user;
    return cli_is_directory(arg) ? add_directory(o, arg) : add_image(o, arg);
}

static bool annotated_path(const detect_opts *o, const char *image, char *buf, size_t size)
{
    if (!o->out_path)
        return false;
    if (o->n_images == 1 && !cli_is_directory(o->out_path)) {
        snprintf(buf, size, "%s", o->out_path);
        return true;
    }
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    snprintf(buf, size, "%s/%s", o->out_path, base);
    return true;
}

static void print_timing(const char *image, const stage_ms *t)
{
    fprintf(stderr,
            "evo: %s: decode %.2f ms, preprocess %.2f ms, inference %.2f ms, postprocess %.2f ms, "
            "draw+encode %.2f ms\n",
            image, t->decode, t->preprocess, t->inference, t->postprocess, t->draw);
}

static double ms_since(int64_t *t)
{
    int64_t now = evo_now_ns();
    double ms = (double)(now - *t) / 1e6;
    *t = now;
    return ms;
}

typedef struct detect_ctx {
    evo_detector *det;
    evo_names names;
    FILE *json;
    int n_json;      /* objects written so far */
    stage_ms *times; /* per image, for the summary */
    int n_times;
} detect_ctx;

/* One image through the pipeline; returns 0 or 1 after printing the error. */
static int detect_one(detect_ctx *c, const detect_opts *o, const char *image)
{
    evo_error err = {0};
    stage_ms ms = {0};
    evo_image img = {0, 0, NULL};
    const evo_detection *dets = NULL;
    int n = 0, rc = 1;
    int64_t t = evo_now_ns();
    if (evo_image_load(image, &img, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    ms.decode = ms_since(&t);
    evo_frame frame = evo_image_frame(&img);
    bool first = evo_detector_layout(c->det) == NULL;
    if (evo_detector_run(c->det, &frame, &dets, &n, &err) != EVO_OK) {
        cli_fail("%s: %s", image, err.msg);
        goto done;
    }
    evo_detect_timing dt = evo_detector_timing(c->det);
    ms.preprocess = dt.preprocess_ms;
    ms.inference = dt.inference_ms;
    ms.postprocess = dt.postprocess_ms;
    t = evo_now_ns();
    if (first) {
        const evo_decode_layout *lay = evo_detector_layout(c->det);
        fprintf(stderr, "evo: decoder %s, %d classes, %lld anchors\n", evo_yolo_kind_name(lay->kind),
                lay->n_classes, (long long)lay->n_anchors);
    }
    if (c->json) {
        if (o->n_images > 1)
            fputs(c->n_json ? ",\n" : "[\n", c->json);
        evo_json_write(c->json, image, img.width, img.height, dets, n, &c->names, NULL);
        c->n_json++;
    }
    if (!o->json_path || strcmp(o->json_path, "-") != 0) {
        for (int i = 0; i < n; i++) {
            const char *name = evo_names_get(&c->names, dets[i].class_id);
            printf("%s: %s (%d) %.3f [%.1f, %.1f, %.1f, %.1f]\n", image, name ? name : "?",
                   dets[i].class_id, (double)dets[i].score, (double)dets[i].x0,
                   (double)dets[i].y0, (double)dets[i].x1, (double)dets[i].y1);
        }
    }
    char out[4096];
    if (annotated_path(o, image, out, sizeof out)) {
        evo_draw_detections(&img, dets, n, &c->names);
        if (evo_image_save(&img, out, o->quality, &err) != EVO_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
    }
    ms.draw = ms_since(&t);
    if (o->timing)
        print_timing(image, &ms);
    c->times[c->n_times++] = ms;
    rc = 0;
done:
    evo_image_free(&img);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean, median and share of each stage over all images. */
static void print_summary(const detect_ctx *c)
{
    static const char *names[5] = {"decode", "preprocess", "inference", "postprocess", "draw+encode"};
    int n = c->n_times;
    if (n == 0)
        return;
    double *v = malloc(sizeof(double) * (size_t)n), mean[5], p50[5], total = 0;
    if (!v)
        return;
    for (int k = 0; k < 5; k++) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            const double *f = &c->times[i].decode;
            v[i] = f[k];
            sum += v[i];
        }
        qsort(v, (size_t)n, sizeof(double), cmp_double);
        mean[k] = sum / n;
        p50[k] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        total += mean[k];
    }
    free(v);
    fprintf(stderr, "evo: timing over %d image%s\n  %-12s %10s %10s %7s\n", n, n == 1 ? "" : "s", "stage",
            "mean ms", "p50 ms", "share");
    for (int k = 0; k < 5; k++)
        fprintf(stderr, "  %-12s %10.2f %10.2f %6.1f%%\n", names[k], mean[k], p50[k],
                total > 0 ? 100.0 * mean[k] / total : 0.0);
    fprintf(stderr, "  %-12s %10.2f\n", "total", total);
}

static const char usage[] =
    "usage: evo detect MODEL IMAGE|DIR... [-o OUT.jpg|DIR] [--json FILE|-] [--timing]\n"
    "  [--names FILE] [--quality 90] [DETECTOR OPTIONS] [--threads N] [--isa NAME]\n"
    "  [--input-shape NAME=1x3xHxW] [--target T (simulate an NPU: docs/npu.md)]\n"
    "       evo detect MODEL VIDEO|URL|/dev/videoN [-o OUT.mp4] [--json FILE|-] [--timing] [--quiet]\n"
    "  [--every N] [--max-frames N] [--start SEC] [--duration SEC] [--size WxH] [--fps F]\n"
    "  [--pixel-format NAME] [--format DEMUXER] [--hwaccel auto|none] [--live auto|yes|no]\n"
    "  [--queue 2] [--decode-threads 1]   (docs/video.md)\n"
    CLI_DETECTOR_HELP;

int evo_cmd_detect(int argc, char **argv)
{
    static detect_opts o; // large image list; the CLI runs one command per process
    memset(&o, 0, sizeof o);
    o.det = evo_detect_options_default();
    cli_model_opts mo = {.n_threads = 1};
    const char *model_path = NULL;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return printf("%s\n", usage), 0;
    for (int i = 2; i < argc; i++)
        if (argv[i][0] != '-' && cli_is_video_source(argv[i]))
            return cli_detect_video(argc, argv);
    cli_detect_args args = {parse_detect_opt, add_operand, &o, usage};
    if (cli_parse_detect_args(argc, argv, &args, &o.det, &mo, &model_path))
        return 1;
    if (!model_path || o.n_images == 0)
        return cli_fail("%s", usage);
    if (o.out_path && (o.n_images > 1 || cli_is_directory(o.images[0])) && !cli_is_directory(o.out_path))
        return cli_fail("detect: -o \"%s\" must be a directory for %d images", o.out_path,
                        o.n_images);

    detect_ctx c;
    memset(&c, 0, sizeof c);
    evo_error err = {0};
    evo_model *model = NULL;
    int rc = 1;
    c.names = evo_names_coco();
    if (o.names_path && evo_names_load(o.names_path, &c.names, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    if (cli_open_detector(model_path, &mo, &o.det, &model, &c.det))
        goto done;
    c.times = calloc((size_t)o.n_images, sizeof(stage_ms));
    if (!c.times) {
        cli_fail("out of memory");
        goto done;
    }
    if (o.json_path) {
        c.json = strcmp(o.json_path, "-") == 0 ? stdout : fopen(o.json_path, "w");
        if (!c.json) {
            cli_fail("%s: cannot create: %s", o.json_path, strerror(errno));
            goto done;
        }
    }
    rc = 0;
    for (int i = 0; i < o.n_images; i++)
        if (detect_one(&c, &o, o.images[i]))
            rc = 1;
    if (o.timing)
        print_summary(&c);
    if (c.json && o.n_images > 1)
        fputs(c.n_json ? "]\n" : "[]\n", c.json);
done:
    if (c.json && c.json != stdout && fclose(c.json) != 0 && rc == 0)
        rc = cli_fail("%s: write error", o.json_path);
    evo_detector_free(c.det);
    free(c.times);
    evo_model_free(model);
    evo_names_free(&c.names);
    return rc;
}
