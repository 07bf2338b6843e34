/*
 * cmd_compile.c - `evo compile MODEL.onnx -o MODEL.evo`: import, run every
 * pass and save the result as one .evo file that every other command loads
 * by mmap without re-compiling. Compile time and peak memory go to stderr.
 * `--emit-onnx OUT.onnx` writes the compiled graph as ONNX instead (a
 * quantized graph in QDQ form), and the .evo file too when -o is given.
 * `--target T[,T...]` records where each node runs on that NPU in the .evo
 * after the target's exact rewrites, for several targets in parallel and
 * through the compile cache (compile_targets.c, docs/npu.md); the model
 * must be int8, or an ONNX model with --calib DIR (and evo quantize's
 * options), quantized here.
 */
#include "cli.h"
#include "exec/model.h"
#include "npu/npu.h"
#include "onnx/onnx_write.h"
#include "plan/evo_file.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* MODEL.onnx -> MODEL.evo (the extension replaced, or appended). */
static const char *default_output(const char *in, char *buf, size_t cap)
{
    const char *slash = strrchr(in, '/');
    const char *dot = strrchr(in, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - in) : strlen(in);
    if (snprintf(buf, cap, "%.*s.evo", (int)stem, in) >= (int)cap)
        return NULL;
    return buf;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports kilobytes */
}

/* evo quantize's options that take a value (forwarded with --calib). */
static bool quant_value_opt(const char *a)
{
    static const char *const opts[] = {"--calib", "--calib-count", "--method", "--percentile", "--act-dtype",
                                       "--keep-fp", "--target-sqnr", "--report-count"};
    for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
        if (strcmp(a, opts[k]) == 0)
            return true;
    return false;
}

static bool quant_flag(const char *a)
{
    return strcmp(a, "--act-symmetric") == 0 || strcmp(a, "--int8-all") == 0 || strcmp(a, "--no-equalize") == 0;
}

/* Appends argv[from, to) to the forwarded options and the cache key text. */
static void forward(char **argv, int from, int to, char **fwd, int *n_fwd, char *key, size_t cap, bool to_quant)
{
    for (int k = from; k < to; k++) {
        if (to_quant)
            fwd[(*n_fwd)++] = argv[k];
        size_t len = strlen(key);
        snprintf(key + len, cap - len, "%s\x1f", argv[k]);
    }
}

int evo_cmd_compile(int argc, char **argv)
{
    cli_model_opts mo = {.n_threads = 0}; /* --threads: calibration's threads (0: every usable CPU) */
    const char *path = NULL, *out_path = NULL, *onnx_path = NULL;
    const char *targets = NULL;
    bool rewrite = true, cache = true;
    static char *fwd[1024];  /* options forwarded to evo quantize */
    static char key[16384]; /* the options that change the result, for the cache key */
    int n_fwd = 0;
    key[0] = 0;
    evo_detect_options scratch = evo_detect_options_default();
    for (int i = 1; i < argc; i++) {
        int i0 = i;
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r < 0)
            return 1;
        if (r > 0) {
            if (strcmp(argv[i0], "--threads") != 0) /* the threads change no result: not in the key */
                forward(argv, i0, i + 1, fwd, &n_fwd, key, sizeof(key), true);
            continue;
        }
        if (n_fwd + 4 >= (int)(sizeof(fwd) / sizeof(fwd[0])))
            return cli_fail("compile: too many options");
        if (quant_value_opt(argv[i]) || quant_flag(argv[i])) {
            if (quant_value_opt(argv[i]) && ++i >= argc)
                return cli_fail("compile: %s needs a value", argv[i - 1]);
            forward(argv, i0, i + 1, fwd, &n_fwd, key, sizeof(key), true);
            continue;
        }
        r = cli_parse_detect_opt(argc, argv, &i, "compile", &scratch, NULL);
        if (r < 0)
            return 1;
        if (r > 0) {
            forward(argv, i0, i + 1, fwd, &n_fwd, key, sizeof(key), true);
            continue;
        }
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (++i >= argc)
                return cli_fail("compile: %s needs a file name", argv[i - 1]);
            out_path = argv[i];
        } else if (strcmp(argv[i], "--emit-onnx") == 0) {
            if (++i >= argc)
                return cli_fail("compile: %s needs a file name", argv[i - 1]);
            onnx_path = argv[i];
        } else if (strcmp(argv[i], "--target") == 0) {
            if (++i >= argc)
                return cli_fail("compile: --target needs a value");
            targets = argv[i];
        } else if (strcmp(argv[i], "--no-rewrite") == 0) {
            rewrite = false;
        } else if (strcmp(argv[i], "--no-cache") == 0) {
            cache = false;
        } else if (argv[i][0] == '-') {
            return cli_fail("compile: unknown option \"%s\"", argv[i]);
        } else if (path) {
            return cli_fail("compile: more than one model given (\"%s\", \"%s\")", path, argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_fail("usage: evo compile MODEL.onnx [-o MODEL.evo] [--input-shape NAME=DIMS] "
                        "[--emit-onnx OUT.onnx] [--target T[,T...] [--calib DIR [quantize options]] "
                        "[--no-rewrite] [--no-cache]] [--disable-pass LIST] [--act silu=relu,...]");
    /* the model options alone quantize nothing: they are forwarded along with quantize options only */
    const char *quant = NULL;
    for (int k = 0; k < n_fwd && !quant; k++)
        if (fwd[k][0] == '-' && fwd[k][1] == '-' && strcmp(fwd[k], "--input-shape") && strcmp(fwd[k], "--disable-pass") &&
            strcmp(fwd[k], "--act") && strcmp(fwd[k], "--isa"))
            quant = fwd[k];
    if (targets) {
        if (onnx_path)
            return cli_fail("compile: --emit-onnx writes the graph without a placement: give it without --target");
        cli_compile_req req = {.model = path, .out = out_path, .targets = targets, .rewrite = rewrite,
                               .cache = cache, .mo = &mo, .quant_argv = fwd, .quant_argc = quant ? n_fwd : 0,
                               .key_opts = key};
        return cli_compile_targets(&req);
    }
    if (quant)
        return cli_fail("compile: \"%s\" (a quantize option) applies with --target T --calib DIR", quant);
    char buf[4096];
    if (!out_path && !onnx_path && !(out_path = default_output(path, buf, sizeof(buf))))
        return cli_fail("compile: path too long");
    if ((out_path && strcmp(out_path, path) == 0) || (onnx_path && strcmp(onnx_path, path) == 0))
        return cli_fail("compile: the output would overwrite the input \"%s\"", path);
    if (onnx_path && evo_file_path_has_magic(path))
        return cli_fail("compile: --emit-onnx needs an ONNX model: \"%s\" is a compiled .evo file, "
                        "which keeps no ONNX attributes",
                        path);

    evo_compile_options co = cli_compile_options(&mo);
    evo_error err = {0};
    evo_graph *g = NULL;
    int64_t t0 = evo_now_ns();
    if (evo_graph_load_compiled(path, NULL, 0, &co, &g, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    int64_t t1 = evo_now_ns();
    size_t bytes = 0;
    evo_status s = out_path ? evo_file_write(g, out_path, &bytes, &err) : EVO_OK;
    if (!s && onnx_path) {
        evo_onnx_write_options wo = evo_onnx_write_options_default();
        wo.qdq = true;
        s = evo_onnx_write_file(g, onnx_path, &wo, &err);
        struct stat st;
        if (!s && !out_path && stat(onnx_path, &st) == 0)
            bytes = (size_t)st.st_size;
    }
    int64_t t2 = evo_now_ns();
    int n_live = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_live += !g->nodes[i].is_dead;
    evo_graph_free(g);
    if (s)
        return cli_fail("%s", err.msg);
    fprintf(stderr,
            "evo: compiled %s -> %s: %d nodes, %.2f MB\n"
            "evo: compile %.1f ms (import + passes %.1f ms, write %.1f ms), peak memory %.1f MB\n",
            path, out_path ? out_path : onnx_path, n_live, (double)bytes / 1e6, (double)(t2 - t0) / 1e6, (double)(t1 - t0) / 1e6,
            (double)(t2 - t1) / 1e6, peak_rss_mb());
    return 0;
}
