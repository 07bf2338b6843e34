/*
 * cmd_eval.c - `evo eval MODEL IMAGES_DIR [--labels DIR]`: COCO-style mAP of
 * a detector over an image folder with YOLO labels (src/vision/eval.c holds
 * the metric). Or `evo eval --dets-in FILE --labels DIR`: the same metric on
 * detections saved by --dets-out, without a model.
 *
 * Detections come from the same pipeline as `evo detect` (presets, flags),
 * with the score threshold lowered to 0.001 unless --conf is given, as COCO
 * evaluations do. Images that fail to decode are skipped, counted and named
 * on stderr; they are left out of the metric entirely.
 */
#include "cli.h"
#include "core/core.h"
#include "vision/vision.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_MAX_IMAGES 1000000
#define EVAL_DEFAULT_CONF 0.001f

typedef struct eval_opts {
    const char *model_path, *images_dir, *labels_dir;
    const char *json_path, *dets_out, *dets_in, *names_path;
    evo_detect_options det;
    bool conf_set;
} eval_opts;

typedef struct eval_ctx {
    const eval_opts *o;
    evo_coco_eval *ev;
    evo_names names;
    FILE *dets_out;
    char labels_dir[4096];
    int n_images, n_skipped, n_no_labels;
    double seconds; /* decode + pipeline of the evaluated images */
} eval_ctx;

static const char usage[] =
    "usage: evo eval MODEL IMAGES_DIR [--labels DIR] [--json FILE|-] [--dets-out FILE]\n"
    "  [--names FILE] [DETECTOR OPTIONS] [--threads N] [--isa NAME] [--input-shape NAME=1x3xHxW]\n"
    "  [--target T (simulate an NPU: docs/npu.md)]\n"
    "   or: evo eval --dets-in FILE --labels DIR [--json FILE|-] [--names FILE]\n"
    "COCO mAP@0.5:0.95 and mAP@0.5 (101-point, as pycocotools), per-class AP, images/s.\n"
    "Labels: one YOLO file per image (class cx cy w h, normalised), default DIR/../labels\n"
    "beside IMAGES_DIR; a missing file means no objects. The score threshold is 0.001\n"
    "unless --conf is given; at most 100 detections per image and class are scored.\n"
    "--dets-out writes the detections scored (\"image W H NAME\" lines, each followed by\n"
    "\"CLASS SCORE X0 Y0 X1 Y1\" lines in pixels); --dets-in scores such a file.\n"
    CLI_DETECTOR_HELP;

/* DIR/../labels as the sibling of the images folder: "a/images/" -> "a/labels". */
static void default_labels_dir(const char *images_dir, char *buf, size_t size)
{
    size_t n = strlen(images_dir);
    while (n > 1 && images_dir[n - 1] == '/')
        n--;
    while (n > 0 && images_dir[n - 1] != '/')
        n--;
    snprintf(buf, size, "%.*slabels", (int)n, images_dir);
}

/* The label file of an image: LABELS/<name without extension>.txt. */
static void label_path(const eval_ctx *c, const char *image, char *buf, size_t size)
{
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    const char *dot = strrchr(base, '.');
    int stem = dot ? (int)(dot - base) : (int)strlen(base);
    snprintf(buf, size, "%s/%.*s.txt", c->labels_dir, stem, base);
}

/* Scores one image's detections against its labels; 1 after printing an error. */
static int eval_image(eval_ctx *c, const char *image, int width, int height,
                      const evo_eval_box *dets, int n_dets)
{
    char path[4200];
    label_path(c, image, path, sizeof path);
    evo_eval_box *gt = NULL;
    int n_gt = 0;
    evo_error err = {0};
    FILE *probe = fopen(path, "r");
    if (!probe) {
        if (errno != ENOENT)
            return cli_fail("%s: cannot open: %s", path, strerror(errno));
        c->n_no_labels++;
    } else {
        fclose(probe);
        if (evo_yolo_labels_load(path, width, height, &gt, &n_gt, &err) != EVO_OK)
            return cli_fail("%s", err.msg);
    }
    evo_status s = evo_coco_eval_add_image(c->ev, gt, n_gt, dets, n_dets, &err);
    free(gt);
    if (s)
        return cli_fail("%s: %s", image, err.msg);
    c->n_images++;
    return 0;
}

static void write_dets(FILE *fp, const char *image, int width, int height,
                       const evo_detection *d, int n)
{
    const char *base = strrchr(image, '/');
    fprintf(fp, "image %d %d %s\n", width, height, base ? base + 1 : image);
    for (int i = 0; i < n; i++) // %.9g: every float32 reads back exactly
        fprintf(fp, "%d %.9g %.9g %.9g %.9g %.9g\n", d[i].class_id, (double)d[i].score,
                (double)d[i].x0, (double)d[i].y0, (double)d[i].x1, (double)d[i].y1);
}

/* COCO boxes of detections; boxes has room for n. */
static void to_eval_boxes(const evo_detection *d, int n, evo_eval_box *boxes)
{
    for (int i = 0; i < n; i++) {
        boxes[i].x = d[i].x0, boxes[i].y = d[i].y0;
        boxes[i].w = (double)d[i].x1 - (double)d[i].x0;
        boxes[i].h = (double)d[i].y1 - (double)d[i].y0;
        boxes[i].score = d[i].score;
        boxes[i].class_id = d[i].class_id;
    }
}

/* Runs the detector over every image of the folder; 1 after printing an error. */
static int eval_model(eval_ctx *c, evo_detector *det, char **images, int n_images)
{
    evo_eval_box *boxes = NULL;
    int cap = 0, rc = 0;
    for (int i = 0; i < n_images && rc == 0; i++) {
        evo_error err = {0};
        evo_image img = {0, 0, NULL};
        int64_t t0 = evo_now_ns();
        if (evo_image_load(images[i], &img, &err) != EVO_OK) {
            fprintf(stderr, "evo: warning: skipping %s\n", err.msg);
            c->n_skipped++;
            continue;
        }
        evo_frame frame = evo_image_frame(&img);
        const evo_detection *dets = NULL;
        int n = 0;
        if (evo_detector_run(det, &frame, &dets, &n, &err) != EVO_OK) {
            rc = cli_fail("%s: %s", images[i], err.msg);
        } else {
            c->seconds += (double)(evo_now_ns() - t0) / 1e9;
            if (n > cap) {
                free(boxes);
                cap = n;
                if (!(boxes = malloc(sizeof(evo_eval_box) * (size_t)cap)))
                    rc = cli_fail("out of memory");
            }
            if (rc == 0) {
                to_eval_boxes(dets, n, boxes);
                if (c->dets_out)
                    write_dets(c->dets_out, images[i], img.width, img.height, dets, n);
                rc = eval_image(c, images[i], img.width, img.height, boxes, n);
            }
        }
        evo_image_free(&img);
    }
    free(boxes);
    return rc;
}

typedef struct dets_reader {
    const char *path;
    int line_no;
    char image[4096];
    int width, height;
    bool have_image;
    evo_eval_box *boxes;
    int n, cap;
} dets_reader;

/* "image W H NAME": 0, or 1 after printing an error. */
static int read_image_line(dets_reader *r, const char *line)
{
    int w = 0, h = 0, at = 0;
    if (sscanf(line, "image %d %d %n", &w, &h, &at) != 2 || at == 0 || !line[at] ||
        w < 1 || h < 1 || w > EVO_IMAGE_MAX_SIDE || h > EVO_IMAGE_MAX_SIDE ||
        strlen(line + at) >= sizeof r->image)
        return cli_fail("%s:%d: expected \"image WIDTH HEIGHT NAME\" (sizes 1..%d)", r->path,
                        r->line_no, EVO_IMAGE_MAX_SIDE);
    snprintf(r->image, sizeof r->image, "%s", line + at);
    r->width = w, r->height = h, r->n = 0;
    r->have_image = true;
    return 0;
}

/* "CLASS SCORE X0 Y0 X1 Y1": 0, or 1 after printing an error. */
static int read_det_line(dets_reader *r, const char *line)
{
    int cls = -1, at = 0;
    float v[5];
    if (!r->have_image)
        return cli_fail("%s:%d: a detection before any \"image\" line", r->path, r->line_no);
    if (sscanf(line, "%d %f %f %f %f %f %n", &cls, &v[0], &v[1], &v[2], &v[3], &v[4], &at) != 6 ||
        line[at] || cls < 0 || cls >= EVO_EVAL_MAX_CLASSES || !(v[3] >= v[1]) || !(v[4] >= v[2]) ||
        !isfinite(v[0]) || !isfinite(v[3]) || !isfinite(v[4]) || !isfinite(v[1]) || !isfinite(v[2]))
        return cli_fail("%s:%d: expected \"CLASS SCORE X0 Y0 X1 Y1\" (finite, x1 >= x0, y1 >= y0)",
                        r->path, r->line_no);
    if (r->n == EVO_LABELS_MAX_BOXES)
        return cli_fail("%s:%d: more than %d detections for one image", r->path, r->line_no,
                        EVO_LABELS_MAX_BOXES);
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 256;
        evo_eval_box *b = realloc(r->boxes, sizeof(evo_eval_box) * (size_t)cap);
        if (!b)
            return cli_fail("out of memory");
        r->boxes = b, r->cap = cap;
    }
    evo_detection d = {v[1], v[2], v[3], v[4], v[0], cls};
    to_eval_boxes(&d, 1, &r->boxes[r->n++]);
    return 0;
}

/* Scores a --dets-out file; 1 after printing an error. */
static int eval_dets_file(eval_ctx *c, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return cli_fail("%s: cannot open: %s", path, strerror(errno));
    dets_reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    char line[4200];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        r.line_no++;
        size_t len = strcspn(line, "\r\n");
        if (!line[len] && !feof(fp)) {
            rc = cli_fail("%s:%d: line too long", path, r.line_no);
            break;
        }
        line[len] = 0;
        if (line[0] == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "image ", 6) == 0) {
            if (r.have_image)
                rc = eval_image(c, r.image, r.width, r.height, r.boxes, r.n);
            if (rc == 0)
                rc = read_image_line(&r, line);
        } else {
            rc = read_det_line(&r, line);
        }
    }
    if (rc == 0 && ferror(fp))
        rc = cli_fail("%s: read error", path);
    if (rc == 0 && r.have_image)
        rc = eval_image(c, r.image, r.width, r.height, r.boxes, r.n);
    if (rc == 0 && c->n_images == 0)
        rc = cli_fail("%s: no \"image\" lines", path);
    fclose(fp);
    free(r.boxes);
    return rc;
}

static void print_table(FILE *fp, const eval_ctx *c, const evo_eval_result *r)
{
    fprintf(fp, "%-16s %7s %8s %9s %8s\n", "class", "labels", "dets", "AP50-95", "AP50");
    for (int i = 0; i < evo_coco_eval_n_classes(c->ev); i++) {
        const evo_eval_class *k = evo_coco_eval_class(c->ev, i);
        const char *name = evo_names_get(&c->names, k->class_id);
        char id[32];
        snprintf(id, sizeof id, "class %d", k->class_id);
        fprintf(fp, "%-16.16s %7lld %8lld %9.4f %8.4f\n", name ? name : id, (long long)k->n_gt,
                (long long)k->n_dets, k->ap, k->ap50);
    }
    fprintf(fp, "mAP@0.5:0.95 %.4f  mAP@0.5 %.4f  mAP@0.75 %.4f  (%d classes with labels)\n",
            r->map, r->map50, r->map75, r->n_classes);
    fprintf(fp, "%d images evaluated, %d skipped", c->n_images, c->n_skipped);
    if (c->seconds > 0)
        fprintf(fp, ", %.2f images/s (decode + preprocess + inference + postprocess)",
                c->n_images / c->seconds);
    fputc('\n', fp);
}

static void write_json(FILE *fp, const eval_ctx *c, const evo_eval_result *r)
{
    fputs("{\"model\": ", fp);
    evo_json_put_string(fp, c->o->model_path ? c->o->model_path : "");
    fprintf(fp, ", \"images\": %d, \"skipped\": %d, \"images_without_labels\": %d", c->n_images,
            c->n_skipped, c->n_no_labels);
    if (c->o->model_path)
        fprintf(fp, ", \"conf\": %.9g, \"iou\": %.9g, \"images_per_s\": %.3f",
                (double)c->o->det.decode.conf_threshold, (double)c->o->det.decode.iou_threshold,
                c->seconds > 0 ? c->n_images / c->seconds : 0.0);
    fprintf(fp, ", \"map\": %.12g, \"map50\": %.12g, \"map75\": %.12g, \"classes\": [", r->map,
            r->map50, r->map75);
    for (int i = 0; i < evo_coco_eval_n_classes(c->ev); i++) {
        const evo_eval_class *k = evo_coco_eval_class(c->ev, i);
        const char *name = evo_names_get(&c->names, k->class_id);
        fprintf(fp, "%s\n  {\"id\": %d, \"name\": ", i ? "," : "", k->class_id);
        if (name)
            evo_json_put_string(fp, name);
        else
            fputs("null", fp);
        fprintf(fp, ", \"labels\": %lld, \"dets\": %lld, \"ap\": %.12g, \"ap50\": %.12g, \"ap75\": %.12g}",
                (long long)k->n_gt, (long long)k->n_dets, k->ap, k->ap50, k->ap75);
    }
    fputs("]}\n", fp);
}

/* Options of eval's own at argv[*i]: 1 taken, 0 not ours, -1 error. */
static int parse_eval_opt(int argc, char **argv, int *i, eval_opts *o)
{
    int r = cli_parse_detect_opt(argc, argv, i, "eval", &o->det, &o->conf_set);
    if (r != 0 || *i + 1 >= argc)
        return r;
    const char *a = argv[*i], *v = argv[*i + 1];
    if (strcmp(a, "--labels") == 0)
        o->labels_dir = v;
    else if (strcmp(a, "--json") == 0)
        o->json_path = v;
    else if (strcmp(a, "--dets-out") == 0)
        o->dets_out = v;
    else if (strcmp(a, "--dets-in") == 0)
        o->dets_in = v;
    else if (strcmp(a, "--names") == 0)
        o->names_path = v;
    else
        return 0;
    (*i)++;
    return 1;
}

static int parse_args(int argc, char **argv, eval_opts *o, cli_model_opts *mo)
{
    if (cli_detect_preset(argc, argv, "eval", &o->det) < 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, mo);
        if (r == 0)
            r = cli_parse_sim_target(argc, argv, &i, mo);
        if (r == 0)
            r = parse_eval_opt(argc, argv, &i, o);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_fail("eval: unknown or incomplete option \"%s\"\n%s", argv[i], usage);
        if (!o->model_path)
            o->model_path = argv[i];
        else if (!o->images_dir)
            o->images_dir = argv[i];
        else
            return cli_fail("eval: unexpected argument \"%s\"\n%s", argv[i], usage);
    }
    if (o->dets_in && (o->model_path || !o->labels_dir))
        return cli_fail("eval: --dets-in FILE takes --labels DIR and no model or images\n%s", usage);
    if (!o->dets_in && !o->images_dir)
        return cli_fail("%s", usage);
    if (!o->conf_set)
        o->det.decode.conf_threshold = EVAL_DEFAULT_CONF;
    return 0;
}

/* Runs the evaluation proper (model or --dets-in) and reports; 1 after printing an error. */
static int run_eval(eval_ctx *c, const cli_model_opts *mo)
{
    const eval_opts *o = c->o;
    evo_model *model = NULL;
    evo_detector *det = NULL;
    char **images = NULL;
    int n_images = 0, rc = 0;
    if (o->dets_in) {
        rc = eval_dets_file(c, o->dets_in);
    } else {
        rc = cli_list_images(o->images_dir, EVAL_MAX_IMAGES, &images, &n_images);
        if (rc == 0)
            rc = cli_open_detector(o->model_path, mo, &o->det, &model, &det);
        if (rc == 0)
            rc = eval_model(c, det, images, n_images);
    }
    if (rc == 0 && c->n_skipped)
        fprintf(stderr, "evo: warning: %d image%s could not be decoded and were skipped\n",
                c->n_skipped, c->n_skipped == 1 ? "" : "s");
    if (rc == 0 && c->n_no_labels)
        fprintf(stderr, "evo: note: %d image%s without a label file in %s, scored as having no objects\n",
                c->n_no_labels, c->n_no_labels == 1 ? "" : "s", c->labels_dir);
    if (rc == 0 && c->n_images == 0)
        rc = cli_fail("eval: no image could be evaluated");
    evo_eval_result r;
    evo_error err = {0};
    if (rc == 0 && evo_coco_eval_compute(c->ev, &r, &err) != EVO_OK)
        rc = cli_fail("%s", err.msg);
    FILE *json = NULL;
    if (rc == 0 && o->json_path) {
        json = strcmp(o->json_path, "-") == 0 ? stdout : fopen(o->json_path, "w");
        if (!json)
            rc = cli_fail("%s: cannot create: %s", o->json_path, strerror(errno));
    }
    if (rc == 0) {
        print_table(json == stdout ? stderr : stdout, c, &r);
        if (json)
            write_json(json, c, &r);
    }
    if (json && json != stdout && fclose(json) != 0 && rc == 0)
        rc = cli_fail("%s: write error", o->json_path);
    evo_detector_free(det);
    evo_model_free(model);
    cli_free_list(images, n_images);
    return rc;
}

int evo_cmd_eval(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return printf("%s\n", usage), 0;
    eval_opts o;
    memset(&o, 0, sizeof o);
    o.det = evo_detect_options_default();
    cli_model_opts mo = {.n_threads = 1};
    if (parse_args(argc, argv, &o, &mo))
        return 1;
    eval_ctx c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    if (o.labels_dir)
        snprintf(c.labels_dir, sizeof c.labels_dir, "%s", o.labels_dir);
    else
        default_labels_dir(o.images_dir, c.labels_dir, sizeof c.labels_dir);
    if (!cli_is_directory(c.labels_dir))
        return cli_fail("eval: labels folder %s not found (use --labels DIR)", c.labels_dir);
    evo_error err = {0};
    c.names = evo_names_coco();
    if (o.names_path && evo_names_load(o.names_path, &c.names, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    int rc = 1;
    if (evo_coco_eval_create(&c.ev, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    if (o.dets_out && !(c.dets_out = fopen(o.dets_out, "w"))) {
        cli_fail("%s: cannot create: %s", o.dets_out, strerror(errno));
        goto done;
    }
    if (c.dets_out)
        fputs("# evo eval detections: \"image W H NAME\", then \"CLASS SCORE X0 Y0 X1 Y1\" (pixels)\n",
              c.dets_out);
    rc = run_eval(&c, &mo);
done:
    if (c.dets_out && fclose(c.dets_out) != 0 && rc == 0)
        rc = cli_fail("%s: write error", o.dets_out);
    evo_coco_eval_free(c.ev);
    evo_names_free(&c.names);
    return rc;
}
