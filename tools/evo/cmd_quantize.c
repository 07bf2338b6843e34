/*
 * cmd_quantize.c - `evo quantize MODEL.onnx --calib DIR -o OUT.evo`:
 * compile the float model without the fusions that hide values, run it
 * over the calibration images through evo detect's fused preprocess while
 * keeping bounded statistics of every value, quantize (docs/int8.md) and
 * save the int8 model as a .evo file. Progress and the calibration time go
 * to stderr; --report adds per-layer and whole-model accuracy vs fp32.
 */
#include "cli.h"
#include "exec/model.h"
#include "exec/session.h"
#include "npu/npu.h"
#include "onnx/onnx_write.h"
#include "plan/evo_file.h"
#include "quant/equalize.h"
#include "quant/quantize.h"
#include "quant/report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char usage[] =
    "usage: evo quantize MODEL.onnx --calib DIR -o OUT.evo [--qdq OUT.onnx] [--calib-count N]\n"
    "  [--method minmax|percentile(default)|entropy|mse] [--percentile 99.99] [--act-dtype uint8|int8]\n"
    "  [--act-symmetric] [--keep-fp NODE,...] [--int8-all] [--no-equalize] [--report] [--report-count 4]\n"
    "  [--target-sqnr DB] [--act-table float|tflite] [--target T] [--threads N] [--isa NAME]\n"
    "  [--input-shape NAME=DIMS] [--disable-pass LIST]\n"
    "  [--act silu=relu|leaky:0.1|hardswish,...]  (activation levels: change the network; retrain it)\n"
    "calibration images go through evo detect's preprocess: its --preset and options apply\n"
    "(decoder options are accepted and unused)\n" CLI_DETECTOR_HELP;

typedef struct quant_cli {
    const char *model, *calib_dir, *out;
    const char *qdq; /* --qdq: the int8 model also as standard QDQ ONNX */
    int calib_count;
    bool report;
    int report_count;   /* images the report and --target-sqnr run both models on */
    double target_sqnr; /* 0: none */
    bool target_given;  /* --target-sqnr on the command line (else the default policy decides) */
    evo_quant_options q;
    evo_detect_options det; /* evo detect's options: the preprocess is what calibration uses */
    cli_model_opts mo;
    char disable[512];      /* the user's --disable-pass plus the unfused passes */
    char keep[4096];        /* --keep-fp */
    char target_keep[4096]; /* the worst layers --target-sqnr keeps */
    bool no_equalize;       /* --no-equalize */
    bool policy;            /* the default mixed precision (neither --int8-all nor --keep-fp) */
    char output_layers[4096]; /* the layers writing model outputs, fp32 under the default policy */
    evo_chan_ranges *eq;    /* per-channel ranges equalization is computed from (NULL: none) */
    const struct evo_npu_target *target; /* --target: placement and NPU semantics recorded in the .evo */
} quant_cli;

static int parse_value_opt(quant_cli *c, const char *a, const char *v)
{
    if (!strcmp(a, "--calib")) {
        c->calib_dir = v;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
        c->out = v;
    } else if (!strcmp(a, "--qdq")) {
        c->qdq = v;
    } else if (!strcmp(a, "--calib-count")) {
        return cli_parse_int(a, v, 1, EVO_CALIB_MAX_IMAGES, &c->calib_count) ? 1 : -1;
    } else if (!strcmp(a, "--method")) {
        if (!evo_calib_method_parse(v, &c->q.method))
            return cli_fail("quantize: --method \"%s\", expected minmax, percentile, entropy or mse", v), -1;
    } else if (!strcmp(a, "--percentile")) {
        char *end;
        c->q.percentile = strtod(v, &end);
        if (*end || end == v || !(c->q.percentile >= 50 && c->q.percentile <= 100))
            return cli_fail("quantize: --percentile \"%s\", expected a number in [50, 100]", v), -1;
    } else if (!strcmp(a, "--act-dtype")) {
        if (strcmp(v, "uint8") && strcmp(v, "int8"))
            return cli_fail("quantize: --act-dtype \"%s\", expected uint8 or int8", v), -1;
        c->q.act_dtype = !strcmp(v, "int8") ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    } else if (!strcmp(a, "--report-count")) {
        return cli_parse_int(a, v, 1, EVO_CALIB_MAX_IMAGES, &c->report_count) ? 1 : -1;
    } else if (!strcmp(a, "--act-table")) {
        if (strcmp(v, "float") && strcmp(v, "tflite"))
            return cli_fail("quantize: --act-table \"%s\", expected float or tflite", v), -1;
        c->q.act_table = !strcmp(v, "tflite") ? EVO_ACT_TABLE_TFLITE : EVO_ACT_TABLE_FLOAT;
    } else if (!strcmp(a, "--target")) {
        return cli_npu_target(v, &c->target) ? -1 : 1;
    } else if (!strcmp(a, "--keep-fp")) {
        snprintf(c->keep, sizeof c->keep, "%s", v);
    } else if (!strcmp(a, "--target-sqnr")) {
        char *end;
        c->target_sqnr = strtod(v, &end);
        c->target_given = true;
        if (*end || end == v || !(c->target_sqnr >= 0 && c->target_sqnr < 200))
            return cli_fail("quantize: --target-sqnr \"%s\", expected decibels in [0, 200) (0: no search)",
                            v),
                   -1;
    } else {
        return 0;
    }
    return 1;
}

/* --target: places qg, records the placement and gives the NPU nodes its semantics; 1 after an error. */
static int record_target(evo_graph *qg, const evo_npu_target *t)
{
    evo_error err = {0};
    evo_npu_placement pl;
    if (evo_npu_record(qg, t, &pl, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    evo_npu_sim sim;
    evo_npu_apply_semantics(qg, &pl, &sim);
    sim.n_nodes = pl.n_nodes;
    evo_npu_placement_free(&pl);
    char msg[1024];
    fprintf(stderr, "evo: %s\n", evo_npu_sim_summary(&sim, t->name, msg, sizeof(msg)));
    return 0;
}

static int parse_args(int argc, char **argv, quant_cli *c)
{
    if (cli_detect_preset(argc, argv, "quantize", &c->det) < 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--no-equalize")) {
            c->no_equalize = true;
            continue;
        }
        if (!strcmp(a, "--act-symmetric") || !strcmp(a, "--int8-all") || !strcmp(a, "--report")) {
            c->q.act_symmetric |= !strcmp(a, "--act-symmetric");
            c->q.int8_all |= !strcmp(a, "--int8-all");
            c->report |= !strcmp(a, "--report");
            continue;
        }
        int r = i + 1 < argc ? parse_value_opt(c, a, argv[i + 1]) : 0;
        if (r > 0) {
            i++;
            continue;
        }
        if (r == 0)
            r = cli_parse_model_opt(argc, argv, &i, &c->mo);
        if (r == 0)
            r = cli_parse_detect_opt(argc, argv, &i, "quantize", &c->det, NULL);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (a[0] == '-')
            return cli_fail("quantize: unknown or incomplete option \"%s\"\n%s", a, usage);
        if (c->model)
            return cli_fail("quantize: more than one model given (\"%s\", \"%s\")", c->model, a);
        c->model = a;
    }
    if (!c->model || !c->calib_dir || !c->out)
        return cli_fail("quantize: MODEL, --calib DIR and -o OUT.evo are required\n%s", usage);
    if (c->q.act_symmetric && c->q.act_dtype != EVO_DTYPE_INT8)
        return cli_fail(
            "quantize: --act-symmetric needs --act-dtype int8 (uint8 activations are asymmetric)");
    if (!strcmp(c->out, c->model))
        return cli_fail("quantize: the output would overwrite the input \"%s\"", c->model);
    snprintf(c->disable, sizeof c->disable, "%s%s%s", c->mo.disable_passes ? c->mo.disable_passes : "",
             c->mo.disable_passes ? "," : "", EVO_QUANT_UNFUSED_PASSES);
    c->q.keep_fp = c->keep;
    c->q.disable_passes = c->mo.disable_passes;
    /* by default the worst layers stay fp32 until the output reaches the default target, unless the
     * user chose what runs int8 (--int8-all, --keep-fp) */
    c->policy = !c->q.int8_all && !c->keep[0];
    if (!c->target_given)
        c->target_sqnr = c->policy ? EVO_QUANT_DEFAULT_TARGET_SQNR_DB : 0;
    return 0;
}

static void progress(void *user, int i, int n, const char *path, double elapsed_s)
{
    (void)path;
    bool tty = isatty(2) != 0;
    if (tty || i == n || i % 16 == 0)
        fprintf(stderr, "%scalibration: image %d/%d, %.1f s%s", tty ? "\r" : "", i, n, elapsed_s,
                tty && i < n ? "" : "\n");
    (void)user;
}

static void warn(void *user, const char *msg)
{
    (void)user;
    fprintf(stderr, "\nevo: warning: %s (skipped)\n", msg);
}

static evo_compile_options compile_opts(const quant_cli *c, bool unfused)
{
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = c->mo.shapes;
    co.n_input_shapes = c->mo.n_shapes;
    co.disable_passes = unfused ? c->disable : c->mo.disable_passes;
    co.act_levels = c->mo.act;
    co.log = cli_log;
    return co;
}

/* Writes the int8 graph g to path as standard QDQ ONNX (--qdq). */
static int write_qdq(const evo_graph *g, const char *path)
{
    evo_onnx_write_options o = evo_onnx_write_options_default();
    o.qdq = true;
    evo_error err = {0};
    if (evo_onnx_write_file(g, path, &o, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    printf("wrote %s (QDQ ONNX)\n", path);
    return 0;
}

/* A model that is already quantized: compiled as it is, with a note. */
static int save_as_is(const quant_cli *c)
{
    evo_compile_options co = compile_opts(c, false);
    evo_error err = {0};
    evo_graph *g = NULL;
    if (evo_graph_load_compiled(c->model, NULL, 0, &co, &g, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    fprintf(stderr, "evo: note: %s is already quantized; imported as it is, without calibration\n", c->model);
    size_t bytes = 0;
    evo_status s = evo_file_write(g, c->out, &bytes, &err);
    int rc = s ? cli_fail("%s", err.msg) : 0;
    if (!rc)
        printf("wrote %s (%zu bytes)\n", c->out, bytes);
    if (!rc && c->qdq)
        rc = write_qdq(g, c->qdq);
    evo_graph_free(g);
    return rc;
}

/* The unfused float model, an observable session on it and its calibration statistics. */
typedef struct float_side {
    evo_model *model;
    evo_session *sess;
    evo_calib *cal;
} float_side;

static void float_side_free(float_side *f)
{
    evo_calib_free(f->cal);
    evo_session_free(f->sess);
    evo_model_free(f->model);
}

static evo_calib_images images_of(const quant_cli *c)
{
    evo_calib_images im = {c->calib_dir, c->calib_count, c->det.preprocess, progress, warn, NULL};
    return im;
}

static int calibrate(const quant_cli *c, evo_graph *g, float_side *f)
{
    evo_error err = {0};
    evo_session_options so = evo_session_options_default();
    so.n_threads = c->mo.n_threads;
    so.isa = c->mo.isa;
    if (evo_model_from_graph(g, &f->model, &err) != EVO_OK) {
        evo_graph_free(g);
        return cli_fail("%s", err.msg);
    }
    if (evo_session_create_observable(f->model, &so, &f->sess, &err) != EVO_OK ||
        evo_calib_create(g, &f->cal, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    evo_calib_images im = images_of(c);
    evo_calib_summary sum;
    if (evo_calib_run_images(f->cal, f->sess, f->model, &im, &sum, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    struct rusage ru;
    double peak_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0; /* Linux: KB */
    fprintf(
        stderr,
        "calibration: %d images (%d skipped), %d values observed, method %s, %.2f s, peak memory %.0f MB\n",
        sum.n_used, sum.n_skipped, f->cal->n_observed, evo_calib_method_name(c->q.method), sum.seconds,
        peak_mb);
    return 0;
}

/* The unfused float graph, equalized when c->eq is set; *out owns it. */
static int load_float(const quant_cli *c, evo_graph **out)
{
    evo_compile_options co = compile_opts(c, true);
    evo_error err = {0};
    evo_graph *g = NULL;
    int n_pairs = 0;
    if (evo_graph_load_compiled(c->model, NULL, 0, &co, &g, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    if (c->eq && evo_equalize_graph(g, c->eq, &n_pairs, &err) != EVO_OK) {
        evo_graph_free(g);
        return cli_fail("%s", err.msg);
    }
    *out = g;
    return 0;
}

/* Images the per-channel ranges of equalization are collected on (they need extremes, not histograms). */
#define EQUALIZE_IMAGES 16

/*
 * Cross-layer equalization: per-channel ranges of the float graph g (taken
 * over) on the first calibration images into c->eq, then *g becomes the
 * graph loaded again and equalized.
 */
static int equalize(quant_cli *c, evo_graph **g)
{
    evo_error err = {0};
    evo_model *m = NULL;
    evo_session *sess = NULL;
    float **inputs = NULL;
    int n = 0, rc = 0;
    evo_session_options so = evo_session_options_default();
    so.n_threads = c->mo.n_threads;
    so.isa = c->mo.isa;
    char **paths = NULL;
    if (evo_calib_list_images(c->calib_dir, 1, &paths, &n, &err) != EVO_OK) { /* the folder's errors first */
        evo_graph_free(*g);
        *g = NULL;
        return cli_fail("%s", err.msg);
    }
    evo_calib_free_list(paths, n);
    if (evo_equalize_n_candidates(*g) == 0)
        return 0; /* nothing to rescale (SiLU networks): skip a pass over the images */
    n = 0;
    evo_graph *fg = *g;
    *g = NULL;
    if (evo_model_from_graph(fg, &m, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    evo_calib_images im = images_of(c);
    im.progress = NULL;
    int max = c->calib_count && c->calib_count < EQUALIZE_IMAGES ? c->calib_count : EQUALIZE_IMAGES;
    if (evo_session_create_observable(m, &so, &sess, &err) != EVO_OK ||
        evo_calib_load_inputs(m, &im, max, &inputs, &n, &err) != EVO_OK ||
        evo_chan_ranges_collect(sess, m, m->g, (const float *const *)inputs, n, &c->eq, &err) !=
            EVO_OK)
        rc = cli_fail("%s", err.msg);
    evo_calib_free_inputs(inputs, n);
    evo_session_free(sess);
    evo_model_free(m);
    return rc ? rc : load_float(c, g);
}

/* Loads the unfused graph again and quantizes it, keep_target kept fp32 too; *out owns it. */
static int quantize_copy(const quant_cli *c, const evo_calib *cal, const char *keep_target, evo_graph **out,
                         evo_quant_result *res)
{
    evo_error err = {0};
    evo_graph *g = NULL;
    if (load_float(c, &g))
        return 1;
    evo_quant_options q = c->q;
    q.keep_target = keep_target;
    if (evo_quantize_graph(g, cal, &q, res, &err) != EVO_OK) {
        evo_graph_free(g);
        evo_quant_result_free(res);
        return cli_fail("%s", err.msg);
    }
    *out = g;
    return 0;
}

/* The multiply-adds of g's QLinearConv / QLinearMatMul nodes and of all its nodes. */
static void int8_macs(const evo_graph *g, double *int8, double *total)
{
    *int8 = *total = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead)
            continue;
        double macs = evo_node_flops(g, n) / 2;
        *total += macs;
        if (n->op == EVO_OP_QLINEAR_CONV || n->op == EVO_OP_QLINEAR_MATMUL)
            *int8 += macs;
    }
}

static void print_result(const quant_cli *c, const evo_graph *qg, const evo_quant_result *r)
{
    double int8 = 0, total = 0;
    int8_macs(qg, &int8, &total);
    printf("quantized %s: %d nodes int8 (%d Conv/MatMul/Gemm, %d Add/Mul), %d kept fp32 (%d Add/Mul), "
           "%d QuantizeLinear, %d DequantizeLinear; activations %s%s\n",
           c->model, r->n_int8, r->n_compute_int8, r->n_binary_int8, r->n_compute_fp + r->n_binary_fp,
           r->n_binary_fp, r->n_quantize, r->n_dequantize,
           c->q.act_dtype == EVO_DTYPE_INT8 ? "int8" : "uint8",
           c->q.act_dtype == EVO_DTYPE_UINT8 ? " asymmetric"
           : c->q.act_symmetric              ? " symmetric"
                                             : " asymmetric");
    if (total > 0)
        printf("  int8 %.3f G of %.3f G MACs (%.1f %%), fp32 %.3f G (%.1f %%)\n", int8 / 1e9, total / 1e9,
               100 * int8 / total, (total - int8) / 1e9, 100 * (total - int8) / total);
    for (int i = 0; i < r->n_kept; i++)
        printf("  fp32: %-40s %-8s %s\n", r->kept[i].node, r->kept[i].op,
               evo_keep_reason_name(r->kept[i].reason));
    if (r->n_degenerate)
        printf("  %d value ranges were degenerate (constant); they got a safe scale\n", r->n_degenerate);
}

/* The model-output error of graph qg against the float side over the inputs; frees qg. */
static int compare(const quant_cli *c, float_side *f, evo_graph *qg, float **inputs, int n,
                   evo_quant_compare *cmp)
{
    evo_error err = {0};
    evo_model *qm = NULL;
    evo_session *qs = NULL;
    evo_session_options so = evo_session_options_default();
    so.n_threads = c->mo.n_threads;
    so.isa = c->mo.isa;
    if (evo_model_from_graph(qg, &qm, &err) != EVO_OK) {
        evo_graph_free(qg);
        return cli_fail("%s", err.msg);
    }
    evo_status s = evo_session_create(qm, &so, &qs, &err);
    if (!s)
        s = evo_quant_compare_run(f->sess, f->model, qs, qm, (const float *const *)inputs, n, false, cmp,
                                  &err);
    evo_session_free(qs);
    evo_model_free(qm);
    return s ? cli_fail("%s", err.msg) : 0;
}

typedef struct ranked {
    char node[256];
    double output_sqnr_db;
    double macs;     /* multiply-adds of the layer */
    bool kept;       /* kept fp32 by the target search */
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->output_sqnr_db, y = ((const ranked *)b)->output_sqnr_db;
    return x < y ? -1 : x > y;
}

static int cmp_macs(const void *a, const void *b)
{
    double x = ((const ranked *)a)->macs, y = ((const ranked *)b)->macs;
    return x > y ? -1 : x < y;
}

/* The multiply-adds of the node named name in g (0 when absent). */
static double node_macs(const evo_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].is_dead && !strcmp(g->nodes[i].name, name))
            return evo_node_flops(g, &g->nodes[i]) / 2;
    return 0;
}

/* Output SQNR with the layers keep_target kept fp32 too, on the report inputs. */
static int output_sqnr(const quant_cli *c, float_side *f, const char *keep_target, const char *only,
                       float **inputs, int n, double *db)
{
    evo_graph *g = NULL;
    evo_quant_result res = {0};
    quant_cli one = *c;
    one.q.only = only;
    int rc = quantize_copy(&one, f->cal, keep_target, &g, &res);
    evo_quant_result_free(&res);
    evo_quant_compare cmp = {0};
    if (!rc)
        rc = compare(c, f, g, inputs, n, &cmp);
    *db = evo_quant_sqnr_db(&cmp.output);
    evo_quant_compare_free(&cmp);
    return rc;
}

static void print_layer_table(const evo_quant_compare *cmp, int n)
{
    printf("report over %d calibration images (int8 vs fp32):\n  %-40s %-14s %9s %9s\n", n, "layer", "op",
           "SQNR dB", "cosine");
    for (int l = 0; l < cmp->n_layers; l++)
        printf("  %-40s %-14s %9.2f %9.5f\n", cmp->layers[l].node, cmp->layers[l].op,
               evo_quant_sqnr_db(&cmp->layers[l].err), evo_quant_cosine(&cmp->layers[l].err));
    printf("model output: SQNR %.2f dB, cosine %.5f\n", evo_quant_sqnr_db(&cmp->output),
           evo_quant_cosine(&cmp->output));
}

/* Quantizes each layer alone, measures the model output, sorts worst first and prints the ranking. */
static int rank_layers(const quant_cli *c, float_side *f, float **inputs, int n, ranked *r, int n_layers)
{
    int rc = 0;
    bool tty = isatty(2) != 0;
    for (int l = 0; l < n_layers && !rc; l++) {
        rc = output_sqnr(c, f, NULL, r[l].node, inputs, n, &r[l].output_sqnr_db);
        if (tty || l + 1 == n_layers || (l + 1) % 16 == 0)
            fprintf(stderr, "%sranking: layer %d/%d%s", tty ? "\r" : "", l + 1, n_layers,
                    tty && l + 1 < n_layers ? "" : "\n");
    }
    if (rc)
        return rc;
    qsort(r, (size_t)n_layers, sizeof(ranked), cmp_ranked);
    if (c->report)
        printf("layers by their effect on the model output (each quantized alone; worst first):\n");
    for (int l = 0; l < n_layers && c->report; l++)
        printf("  %3d  %-40s output SQNR %7.2f dB\n", l + 1, r[l].node, r[l].output_sqnr_db);
    return 0;
}

/* Per-layer SQNR and cosine of the default quantization, then the layers ranked; *out lists them. */
static int report_layers(quant_cli *c, float_side *f, float **inputs, int n, ranked **out, int *n_out)
{
    evo_graph *g = NULL;
    evo_quant_result res = {0};
    int rc = quantize_copy(c, f->cal, NULL, &g, &res);
    evo_quant_result_free(&res);
    if (rc)
        return rc;
    evo_model *qm = NULL;
    evo_session *qs = NULL;
    evo_error err = {0};
    evo_quant_compare cmp = {0};
    evo_session_options so = evo_session_options_default();
    so.n_threads = c->mo.n_threads;
    so.isa = c->mo.isa;
    if (evo_model_from_graph(g, &qm, &err) != EVO_OK) {
        evo_graph_free(g);
        return cli_fail("%s", err.msg);
    }
    ranked *r = NULL;
    if (evo_session_create_observable(qm, &so, &qs, &err) != EVO_OK ||
        evo_quant_compare_run(f->sess, f->model, qs, qm, (const float *const *)inputs, n, true, &cmp, &err) !=
            EVO_OK)
        rc = cli_fail("%s", err.msg);
    else if (!(r = calloc((size_t)cmp.n_layers + 1, sizeof(ranked))))
        rc = cli_fail("out of memory");
    if (!rc) {
        if (c->report)
            print_layer_table(&cmp, n);
        for (int l = 0; l < cmp.n_layers; l++) {
            snprintf(r[l].node, sizeof r[l].node, "%s", cmp.layers[l].node);
            r[l].macs = node_macs(f->model->g, r[l].node);
        }
        *n_out = cmp.n_layers;
    }
    evo_quant_compare_free(&cmp);
    evo_session_free(qs);
    evo_model_free(qm);
    if (!rc)
        rc = rank_layers(c, f, inputs, n, r, *n_out);
    *out = r;
    return rc;
}

/* The names of the n ranked layers marked kept, comma-separated, into buf. */
static int join_names(const ranked *r, int n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < n; k++) {
        if (!r[k].kept)
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? "," : "", r[k].node);
        if (w < 0 || (size_t)w >= cap - len)
            return cli_fail("quantize: --target-sqnr: too many layers to keep fp32 (%d)", n);
        len += (size_t)w;
    }
    return 0;
}

/* Marks the first n of r kept fp32, the others int8. */
static void keep_first(ranked *r, int n_ranked, int n)
{
    for (int k = 0; k < n_ranked; k++)
        r[k].kept = k < n;
}

/*
 * Back to int8, largest first, every kept layer the target holds without
 * (the prefix the bisection found is enough, not the cheapest).
 */
static int release_kept(quant_cli *c, float_side *f, ranked *r, int n_ranked, float **inputs, int n,
                        int *n_kept)
{
    qsort(r, (size_t)n_ranked, sizeof(ranked), cmp_macs);
    int rc = 0;
    for (int k = 0; k < n_ranked && !rc; k++) {
        if (!r[k].kept)
            continue;
        double db = 0;
        r[k].kept = false;
        rc = join_names(r, n_ranked, c->target_keep, sizeof c->target_keep);
        if (!rc)
            rc = output_sqnr(c, f, c->target_keep, NULL, inputs, n, &db);
        r[k].kept = db < c->target_sqnr;
        *n_kept -= !r[k].kept;
        fprintf(stderr, "target: %s (%.1f M MACs) int8 -> output SQNR %.2f dB%s\n", r[k].node,
                r[k].macs / 1e6, db, r[k].kept ? ", stays fp32" : "");
    }
    return rc;
}

/*
 * --target-sqnr: the fewest worst-ranked layers (r is sorted worst first)
 * kept fp32 that reach the target, by bisection, then those the target
 * does not need released, largest first; the names go to c->target_keep.
 * (Ordering by output noise per multiply-add instead keeps fewer MACs fp32
 * at the same SQNR but costs more mAP on the shared detectors: the cheap
 * layers it picks lower the noise where detections do not look.)
 */
static int reach_target(quant_cli *c, float_side *f, ranked *r, int n_ranked, float **inputs, int n)
{
    int lo = 0, hi = n_ranked, rc = 0;
    double db = 0;
    while (lo < hi && !rc) { /* keeping the first hi layers reaches the target (or hi is all of them) */
        int mid = (lo + hi) / 2;
        keep_first(r, n_ranked, mid);
        rc = join_names(r, n_ranked, c->target_keep, sizeof c->target_keep);
        if (!rc)
            rc = output_sqnr(c, f, c->target_keep, NULL, inputs, n, &db);
        fprintf(stderr, "target: %d layers kept fp32 -> output SQNR %.2f dB\n", mid, db);
        if (db >= c->target_sqnr)
            hi = mid;
        else
            lo = mid + 1;
    }
    keep_first(r, n_ranked, hi);
    int n_kept = hi;
    if (!rc && hi < n_ranked)
        rc = release_kept(c, f, r, n_ranked, inputs, n, &n_kept);
    if (!rc)
        rc = join_names(r, n_ranked, c->target_keep, sizeof c->target_keep);
    if (!rc)
        printf("target %.1f dB: %d layers kept fp32\n", c->target_sqnr, n_kept);
    return rc;
}

/*
 * The default policy's first step: when the model quantized whole (but for
 * the head decode) reaches the target, nothing else stays fp32 and no
 * search runs (c->target_sqnr becomes 0); otherwise the output layers stay
 * fp32 and the search goes on from there.
 */
static int all_int8_enough(quant_cli *c, float_side *f, float **inputs, int n)
{
    double db = 0;
    c->q.keep_output = NULL;
    int rc = output_sqnr(c, f, NULL, NULL, inputs, n, &db);
    if (rc)
        return rc;
    bool enough = db >= c->target_sqnr;
    fprintf(stderr, "target %.1f dB: int8 but for the head decode -> output SQNR %.2f dB%s\n",
            c->target_sqnr, db, enough ? "" : "; the output layers stay fp32, then the worst layers");
    if (enough)
        c->target_sqnr = 0;
    else
        c->q.keep_output = c->output_layers;
    return 0;
}

static int report(quant_cli *c, float_side *f)
{
    float **inputs = NULL;
    int n = 0, n_ranked = 0;
    evo_error err = {0};
    evo_calib_images im = images_of(c);
    if (evo_calib_load_inputs(f->model, &im, c->report_count ? c->report_count : 4, &inputs, &n, &err) !=
        EVO_OK)
        return cli_fail("%s", err.msg);
    ranked *r = NULL;
    int rc = c->policy && c->target_sqnr > 0 ? all_int8_enough(c, f, inputs, n) : 0;
    if (!rc && (c->report || c->target_sqnr > 0))
        rc = report_layers(c, f, inputs, n, &r, &n_ranked);
    if (!rc && c->target_sqnr > 0)
        rc = reach_target(c, f, r, n_ranked, inputs, n);
    free(r);
    evo_calib_free_inputs(inputs, n);
    return rc;
}

int evo_cmd_quantize(int argc, char **argv)
{
    static quant_cli c; // option buffers; the CLI runs one command per process
    memset(&c, 0, sizeof c);
    c.q = evo_quant_options_default();
    c.det = evo_detect_options_default();
    c.mo.n_threads = 1;
    if (parse_args(argc, argv, &c))
        return 1;
    if (evo_file_path_has_magic(c.model))
        return cli_fail("quantize: %s is a compiled .evo file; quantize takes the ONNX model", c.model);
    evo_compile_options co = compile_opts(&c, true);
    evo_error err = {0};
    evo_graph *g = NULL;
    if (evo_graph_load_compiled(c.model, NULL, 0, &co, &g, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    if (evo_graph_is_quantized(g)) {
        evo_graph_free(g);
        return save_as_is(&c);
    }
    if (c.policy && c.target_sqnr > 0) {
        if (!evo_quant_output_layers(g, c.output_layers, sizeof c.output_layers)) {
            evo_graph_free(g);
            return cli_fail("quantize: %s: too many output layers to list", c.model);
        }
        c.q.keep_output = c.output_layers;
    }
    float_side f = {0};
    int rc = c.no_equalize ? 0 : equalize(&c, &g);
    if (!rc)
        rc = calibrate(&c, g, &f);
    evo_graph *qg = NULL;
    evo_quant_result res = {0};
    if (!rc && (c.report || c.target_sqnr > 0))
        rc = report(&c, &f);
    if (!rc)
        rc = quantize_copy(&c, f.cal, c.target_keep, &qg, &res);
    if (!rc) {
        size_t bytes = 0;
        print_result(&c, qg, &res);
        if (c.target)
            rc = record_target(qg, c.target);
        if (!rc && evo_file_write(qg, c.out, &bytes, &err) != EVO_OK)
            rc = cli_fail("%s", err.msg);
        else
            printf("wrote %s (%zu bytes)\n", c.out, bytes);
        if (!rc && c.qdq)
            rc = write_qdq(qg, c.qdq);
    }
    evo_quant_result_free(&res);
    evo_graph_free(qg);
    float_side_free(&f);
    evo_chan_ranges_free(c.eq);
    return rc;
}
