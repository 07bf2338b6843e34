/*
 * cmd_detect.c - `evo detect MODEL IMAGE... [-o OUT] [--json FILE]`: the
 * whole pipeline on image files: decode, fused letterbox into the session's
 * input tensor, inference, YOLO decode + NMS straight from the outputs,
 * then JSON and/or an annotated image. --timing prints each stage.
 */
#include "cli.h"
#include "core/core.h"
#include "vision/vision.h"

#include <dirent.h>
#include <errno.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    evo_preprocess_options pre;
    evo_decode_options dec;
} detect_opts;

/* Timings of one image, in ms. */
typedef struct stage_ms {
    double decode, preprocess, inference, postprocess, draw;
} stage_ms;

static bool parse_float(const char *opt, const char *s, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        cli_fail("detect: %s \"%s\", expected a number in [%g, %g]", opt, s, lo, hi);
        return false;
    }
    *out = (float)v;
    return true;
}

/* "a,b,c" into n floats. */
static bool parse_floats(const char *opt, const char *s, float *out, int n)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int i = 0; i < n; i++, tok = strtok_r(NULL, ",", &save))
        if (!tok || !parse_float(opt, tok, -1e6, 1e6, &out[i]))
            return tok ? false : (cli_fail("detect: %s \"%s\", expected %d values", opt, s, n), false);
    if (tok)
        return cli_fail("detect: %s \"%s\", expected %d values", opt, s, n), false;
    return true;
}

static bool parse_strides(const char *s, evo_decode_options *d)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    d->n_strides = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (d->n_strides == EVO_YOLO_MAX_STRIDES)
            return cli_fail("detect: --strides: at most %d", EVO_YOLO_MAX_STRIDES), false;
        if (!cli_parse_int("--strides", tok, 1, 1024, &d->strides[d->n_strides++]))
            return false;
    }
    return d->n_strides > 0;
}

/* Consumes one detect option at argv[*i]: 1 if taken, 0 if not ours, -1 on error. */
static int parse_detect_opt(int argc, char **argv, int *i, detect_opts *o)
{
    const char *a = argv[*i];
    bool has = *i + 1 < argc;
    const char *v = has ? argv[*i + 1] : NULL;
    int ok = 1;
    if (strcmp(a, "--timing") == 0) {
        o->timing = true;
        return 1;
    } else if (strcmp(a, "--agnostic") == 0) {
        o->dec.class_agnostic = true;
        return 1;
    } else if (strcmp(a, "--bgr") == 0) {
        o->pre.bgr = true;
        return 1;
    } else if (strcmp(a, "--no-scale") == 0) {
        o->pre.scale = 1.0f;
        return 1;
    } else if (strcmp(a, "--sigmoid") == 0) {
        o->dec.gfl_sigmoid = true;
        return 1;
    }
    if (!has || a[0] != '-')
        return 0;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
        o->out_path = v;
    } else if (strcmp(a, "--json") == 0) {
        o->json_path = v;
    } else if (strcmp(a, "--names") == 0) {
        o->names_path = v;
    } else if (strcmp(a, "--conf") == 0) {
        ok = parse_float(a, v, 0, 1, &o->dec.conf_threshold);
    } else if (strcmp(a, "--iou") == 0) {
        ok = parse_float(a, v, 0, 1, &o->dec.iou_threshold);
    } else if (strcmp(a, "--max-det") == 0) {
        ok = cli_parse_int(a, v, 1, 100000, &o->dec.max_detections);
    } else if (strcmp(a, "--max-candidates") == 0) {
        ok = cli_parse_int(a, v, 1, 1000000, &o->dec.max_candidates);
    } else if (strcmp(a, "--classes") == 0) {
        ok = cli_parse_int(a, v, 1, 100000, &o->dec.n_classes);
    } else if (strcmp(a, "--reg-max") == 0) {
        ok = cli_parse_int(a, v, 0, 64, &o->dec.reg_max);
    } else if (strcmp(a, "--cell-offset") == 0) {
        ok = parse_float(a, v, 0, 1, &o->dec.cell_offset);
    } else if (strcmp(a, "--strides") == 0) {
        ok = parse_strides(v, &o->dec);
    } else if (strcmp(a, "--decoder") == 0) {
        if (!evo_yolo_kind_parse(v, &o->dec.kind))
            return cli_fail("detect: --decoder \"%s\", expected auto, yolov5, yolov8, yolox or gfl", v), -1;
    } else if (strcmp(a, "--mode") == 0) {
        if (strcmp(v, "letterbox") == 0)
            o->pre.mode = EVO_FIT_LETTERBOX;
        else if (strcmp(v, "topleft") == 0)
            o->pre.mode = EVO_FIT_LETTERBOX_TOPLEFT;
        else if (strcmp(v, "stretch") == 0)
            o->pre.mode = EVO_FIT_STRETCH;
        else
            return cli_fail("detect: --mode \"%s\", expected letterbox, topleft or stretch", v), -1;
    } else if (strcmp(a, "--interp") == 0) {
        if (strcmp(v, "linear") == 0)
            o->pre.interp = EVO_INTERP_LINEAR;
        else if (strcmp(v, "area") == 0)
            o->pre.interp = EVO_INTERP_AREA;
        else if (strcmp(v, "auto") == 0)
            o->pre.interp = EVO_INTERP_AUTO;
        else
            return cli_fail("detect: --interp \"%s\", expected linear, area or auto", v), -1;
    } else if (strcmp(a, "--pad") == 0) {
        int pad = 0;
        ok = cli_parse_int(a, v, 0, 255, &pad);
        o->pre.pad_value = (uint8_t)pad;
    } else if (strcmp(a, "--mean") == 0) {
        ok = parse_floats(a, v, o->pre.mean, 3);
    } else if (strcmp(a, "--std") == 0) {
        ok = parse_floats(a, v, o->pre.std, 3);
    } else if (strcmp(a, "--quality") == 0) {
        ok = cli_parse_int(a, v, 1, 100, &o->quality);
    } else {
        return 0;
    }
    (*i)++;
    return ok ? 1 : -1;
}

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_image(detect_opts *o, const char *path)
{
    if (o->n_images == MAX_IMAGES)
        return cli_fail("detect: more than %d images", MAX_IMAGES);
    o->images[o->n_images++] = path;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds every .jpg/.jpeg/.png file of dir, in name order. The paths live until exit. */
static int add_directory(detect_opts *o, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_fail("detect: %s: cannot open directory: %s", dir, strerror(errno));
    int first = o->n_images, rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        const char *ext = strrchr(e->d_name, '.');
        if (!ext || (strcasecmp(ext, ".jpg") && strcasecmp(ext, ".jpeg") && strcasecmp(ext, ".png")))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = cli_fail("out of memory");
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        rc = add_image(o, path);
    }
    closedir(d);
    qsort(&o->images[first], (size_t)(o->n_images - first), sizeof(o->images[0]), cmp_name);
    if (rc == 0 && o->n_images == first)
        rc = cli_fail("detect: %s: no .jpg, .jpeg or .png files", dir);
    return rc;
}

/* Where the annotated copy of image goes, or false if none. */
static bool annotated_path(const detect_opts *o, const char *image, char *buf, size_t size)
{
    if (!o->out_path)
        return false;
    if (o->n_images == 1 && !is_directory(o->out_path)) {
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
    "usage: evo detect MODEL IMAGE... [-o OUT.jpg|DIR] [--json FILE|-] [--timing]\n"
    "  [--conf 0.25] [--iou 0.45] [--max-det 300] [--agnostic] [--names FILE]\n"
    "  [--decoder auto|yolov5|yolov8|yolox|gfl] [--classes N] [--reg-max 7] [--strides 8,16,32]\n"
    "  [--cell-offset 0] [--sigmoid] [--mode letterbox|topleft|stretch] [--interp linear|area|auto]\n"
    "  [--bgr] [--no-scale] [--pad 114] [--mean R,G,B] [--std R,G,B] [--quality 90]\n"
    "  [--threads N] [--isa NAME] [--input-shape NAME=1x3xHxW]";

int evo_cmd_detect(int argc, char **argv)
{
    static detect_opts o; // large image list; the CLI runs one command per process
    memset(&o, 0, sizeof o);
    o.pre = evo_preprocess_options_default();
    o.dec = evo_decode_options_default();
    cli_model_opts mo = {.n_threads = 1};
    const char *model_path = NULL;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r == 0)
            r = parse_detect_opt(argc, argv, &i, &o);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_fail("detect: unknown or incomplete option \"%s\"\n%s", argv[i], usage);
        if (!model_path)
            model_path = argv[i];
        else if (is_directory(argv[i]) ? add_directory(&o, argv[i]) : add_image(&o, argv[i]))
            return 1;
    }
    if (!model_path || o.n_images == 0)
        return cli_fail("%s", usage);
    if (o.out_path && (o.n_images > 1 || is_directory(o.images[0])) && !is_directory(o.out_path))
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
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = mo.shapes;
    co.n_input_shapes = mo.n_shapes;
    co.disable_passes = mo.disable_passes;
    if (evo_model_load(model_path, &co, &model, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    evo_tensor_desc in;
    if (evo_model_n_inputs(model) < 1 || evo_model_input_desc(model, 0, &in) != EVO_OK ||
        in.dtype != EVO_DTYPE_FLOAT || in.rank != 4 || in.dims[0] != 1 || in.dims[1] != 3 ||
        in.dims[2] < 1 || in.dims[3] < 1 || in.dims[2] > EVO_IMAGE_MAX_SIDE ||
        in.dims[3] > EVO_IMAGE_MAX_SIDE) {
        cli_fail("%s: input 0 must be float32 [1,3,H,W] with fixed H and W (use --input-shape)",
                 model_path);
        goto done;
    }
    evo_session_options so = evo_session_options_default();
    so.n_threads = mo.n_threads;
    so.isa = mo.isa;
    evo_detect_options dopts = {o.pre, o.dec};
    if (evo_detector_create(model, &so, &dopts, &c.det, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
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

int cli_parse_detect_preprocess(int argc, char **argv, int *i, evo_preprocess_options *pre)
{
    static detect_opts o; // large image list; the CLI runs one command per process
    memset(&o, 0, sizeof o);
    o.pre = *pre;
    o.dec = evo_decode_options_default();
    int r = parse_detect_opt(argc, argv, i, &o);
    if (r > 0)
        *pre = o.pre;
    return r;
}
