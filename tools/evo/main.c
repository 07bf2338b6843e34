/*
 * main.c - the evo command-line tool: dispatches to one cmd_<name>.c per
 * subcommand.
 */
#include "cli.h"
#include "passes/act_levels.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"compile", evo_cmd_compile, "MODEL [-o OUT.evo]     save the compiled model as one mmap-able .evo file"},
    {"info", evo_cmd_info, "MODEL [--target T]    inputs, outputs, ops, params, MACs, unsupported ops, NPU placement"},
    {"run", evo_cmd_run, "MODEL --input F --output F   run once on tensor files (.npy or raw)"},
    {"bench", evo_cmd_bench, "MODEL [--threads N] [--runs R] [--profile]   latency statistics"},
    {"verify", evo_cmd_verify, "[--threads N]          this machine: ISA, FMA peak, kernels vs reference"},
    {"quantize", evo_cmd_quantize, "MODEL --calib DIR -o OUT.evo   calibrate on images, write an int8 model"},
    {"export", evo_cmd_export, "MODEL --tflite OUT.tflite   an int8 (or float) model as a TensorFlow Lite file"},
    {"detect", evo_cmd_detect, "MODEL IMAGE|VIDEO... [-o OUT]   detect objects in images, videos, streams, cameras"},
    {"eval", evo_cmd_eval, "MODEL IMAGES_DIR [--labels DIR]   COCO mAP over labelled images"},
};

static void usage(FILE *f)
{
    fprintf(f, "evo %s - edge vision optimizer\n\nusage: evo COMMAND [options]\n\ncommands:\n",
            EVO_VERSION_STRING);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\ncommon options: --input-shape NAME=1x3x640x640  --threads N  --isa ref|avx2|avx512|vnni (x86), ref|neon|dotprod|i8mm (Arm)\n"
               "                --fixed-threads  every run on all N threads (else a run goes on one thread\n"
               "                               while runs measure faster that way)\n"
               "                --disable-pass fold_qdq,fold_qdq_ms,simplify,fold_focus,s2d_conv,fuse_hard,\n"
               "                               fold_bn,fuse_residual,fuse_layout,fuse_act,fuse_residual_act,fuse_update\n"
               "                --act silu=relu|leaky:0.1|hardswish,hardswish=relu,...  activation levels:\n"
               "                               replaced before quantization; changes the network (retrain it)\n");
}

void cli_log(void *user, int level, const char *msg)
{
    static char last[512]; /* a message repeated by the compiles of one command is printed once */
    (void)user;
    (void)level;
    if (strncmp(last, msg, sizeof(last) - 1) == 0)
        return;
    snprintf(last, sizeof(last), "%s", msg);
    fprintf(stderr, "evo: %s\n", msg);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "evo: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

bool cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        cli_fail("%s: expected an integer in %d..%d, got \"%s\"", opt, lo, hi, s);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool parse_shape(const char *arg, evo_input_shape *sh)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    static char names[16][256];
    static int next;
    size_t len = (size_t)(eq - arg);
    if (len >= sizeof(names[0]))
        return false;
    char *name = names[next++ % 16];
    memcpy(name, arg, len);
    name[len] = 0;
    sh->name = name;
    sh->rank = 0;
    const char *p = eq + 1;
    while (*p) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d <= 0 || d > (1LL << 30) || sh->rank >= EVO_MAX_RANK)
            return false;
        sh->dims[sh->rank++] = d;
        if (*end == 'x' || *end == ',')
            end++;
        else if (*end)
            return false;
        p = end;
    }
    return sh->rank > 0;
}

int cli_parse_model_opt(int argc, char **argv, int *i, cli_model_opts *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--fixed-threads") == 0) {
        o->fixed_threads = true;
        return 1;
    }
    if (strcmp(a, "--input-shape") == 0 || strcmp(a, "--threads") == 0 || strcmp(a, "--isa") == 0 ||
        strcmp(a, "--disable-pass") == 0 || strcmp(a, "--act") == 0) {
        if (*i + 1 >= argc) {
            cli_fail("%s needs a value", a);
            return -1;
        }
        const char *v = argv[++*i];
        if (strcmp(a, "--threads") == 0)
            return cli_parse_int(a, v, 1, 256, &o->n_threads) ? 1 : -1;
        if (strcmp(a, "--isa") == 0) {
            o->isa = v;
            return 1;
        }
        if (strcmp(a, "--disable-pass") == 0) {
            o->disable_passes = v;
            return 1;
        }
        if (strcmp(a, "--act") == 0) {
            evo_act_levels lv;
            evo_error err = {0};
            if (evo_act_levels_parse(v, &lv, &err) != EVO_OK) {
                cli_fail("--act: %s", err.msg);
                return -1;
            }
            o->act = v;
            return 1;
        }
        if (o->n_shapes >= 16 || !parse_shape(v, &o->shapes[o->n_shapes])) {
            cli_fail("--input-shape: expected NAME=DxDxD (e.g. images=1x3x640x640), got \"%s\"", v);
            return -1;
        }
        o->n_shapes++;
        return 1;
    }
    return 0;
}

int cli_parse_sim_target(int argc, char **argv, int *i, cli_model_opts *o)
{
    if (strcmp(argv[*i], "--target") != 0)
        return 0;
    if (*i + 1 >= argc) {
        cli_fail("--target needs a value");
        return -1;
    }
    o->npu_target = argv[++*i];
    return 1;
}

evo_compile_options cli_compile_options(const cli_model_opts *o)
{
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = o->shapes;
    co.n_input_shapes = o->n_shapes;
    co.disable_passes = o->disable_passes;
    co.npu_target = o->npu_target;
    co.act_levels = o->act;
    co.log = cli_log;
    return co;
}

evo_session_options cli_session_options(const cli_model_opts *mo)
{
    evo_session_options so = evo_session_options_default();
    so.n_threads = mo->n_threads;
    so.isa = mo->isa;
    so.fixed_threads = mo->fixed_threads;
    return so;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("evo %s\n", EVO_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "evo: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
