/*
 * cli.h - shared pieces of the evo command-line tool: one entry point per
 * subcommand (cmd_<name>.c), option helpers and tensor file I/O.
 */
#ifndef EVO_CLI_H
#define EVO_CLI_H

#include "evo.h"
#include "kernels/kernel.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int evo_cmd_info(int argc, char **argv);
int evo_cmd_run(int argc, char **argv);
int evo_cmd_bench(int argc, char **argv);
int evo_cmd_verify(int argc, char **argv);
int evo_cmd_detect(int argc, char **argv);
int evo_cmd_compile(int argc, char **argv);
int evo_cmd_eval(int argc, char **argv);
int evo_cmd_quantize(int argc, char **argv);
int evo_cmd_export(int argc, char **argv);

/*
 * Common model options: --input-shape NAME=1x3x640x640, --threads N, --isa NAME, --disable-pass LIST,
 * --fixed-threads.
 */
typedef struct cli_model_opts {
    evo_input_shape shapes[16];
    int n_shapes;
    int n_threads;
    const char *isa;
    const char *disable_passes;
    const char *npu_target; /* --target T of run, detect and eval: simulate that NPU (docs/npu.md) */
    const char *act; /* --act: activation levels (changes the network) */
    bool fixed_threads; /* --fixed-threads: evo_session_options.fixed_threads */
} cli_model_opts;

/*
 * If argv[*i] is a common model option, consumes it (and its value) and
 * returns 1; returns 0 if it is not one; -1 after printing an error.
 */
int cli_parse_model_opt(int argc, char **argv, int *i, cli_model_opts *o);
/*
 * run, detect, eval: if argv[*i] is --target T, consumes it into o->npu_target
 * and returns 1; 0 if it is not; -1 after printing an error.
 */
int cli_parse_sim_target(int argc, char **argv, int *i, cli_model_opts *o);
/* Compile options from the model options (shapes, passes, the simulated target with its summary on stderr). */
evo_compile_options cli_compile_options(const cli_model_opts *o);
/* The session options mo asks for: threads and ISA. */
evo_session_options cli_session_options(const cli_model_opts *mo);
/* The compile log: "evo: MSG" on stderr, a message repeated back to back printed once. */
void cli_log(void *user, int level, const char *msg);
/* Parses a positive integer option value; false after printing an error. */
bool cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
/*
 * GFLOP/s of n_threads running the vector FMA loop of kernels/peak.h at
 * once (iters iterations each; best of 3) for isa (AVX2 or AVX-512); 0 on
 * other machines. CLI_PEAK_ITERS takes about 20 ms.
 */
#define CLI_PEAK_ITERS 4000000
double cli_measure_peak(evo_isa isa, int n_threads, int64_t iters);
/* The vector unit whose fp32 FMA peak kernels capped at isa run against: AVX512, AVX2, NEON or REF (none). */
evo_isa cli_peak_isa(evo_isa isa);
/*
 * Int8 GOP/s (2 per multiply-add) of n_threads running the int8 dot-product
 * loop of kernels/peak.h (VNNI vpdpbusd, Arm SDOT); 0 where kernels capped
 * at isa have no such instruction.
 */
double cli_measure_int8_peak(evo_isa isa, int n_threads, int64_t iters);
/* The int8 dot-product unit kernels capped at isa run on: VNNI, DOTPROD or REF (none). */
evo_isa cli_int8_peak_isa(evo_isa isa);
/* Prints "evo: <msg>" to stderr; returns 1 (the exit code). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- detect_opts.c: shared by detect and eval ---- */

/* The detector options' help, shared by detect and eval. */
#define CLI_DETECTOR_HELP                                                                         \
    "detector options (a preset first, then any of the others over it, in any order):\n"        \
    "  --preset yolov5|yolov8|yolox|nanodet|picodet|FILE   every option below for a family,\n"  \
    "                      or a preset file of `key = value` lines (keys as below, no --)\n"    \
    "  --decoder auto|yolov5|yolov8|yolox|gfl  --classes N  --strides 8,16,32  --reg-max 7\n"  \
    "  --cell-offset 0  --sigmoid (GFL logits)  --conf 0.25  --iou 0.45  --max-det 300\n"      \
    "  --max-candidates 30000  --agnostic (NMS across classes)\n"                                \
    "  --mode letterbox|topleft|center|stretch  --interp linear|area|auto  --pad 114\n"         \
    "  --color rgb|bgr (--rgb, --bgr)  --scale 1/255 (--no-scale: 1)  --scale-up true|false\n" \
    "  --mean R,G,B  --std R,G,B   (tensor channel order; value = (pixel * scale - mean) / std)"

/* Applies the --preset of argv (if any) to o: 1 applied, 0 none, -1 after printing an error. */
int cli_detect_preset(int argc, char **argv, const char *cmd, evo_detect_options *o);
/*
 * If argv[*i] is a detector option (--conf, --mode, --bgr, --preset...),
 * consumes it and its value and returns 1 (setting *conf_set for --conf when
 * conf_set is not NULL); 0 if it is not one; -1 after printing an error.
 */
int cli_parse_detect_opt(int argc, char **argv, int *i, const char *cmd, evo_detect_options *o,
                         bool *conf_set);
/*
 * The argument loop of `evo detect` (images and video alike): applies the
 * --preset to det, then for each argument tries the model options, the
 * simulated NPU target, then the command's own parser option(); an argument
 * none takes is an unknown option (error with usage) when it starts with
 * '-', else the model path (the first) or an operand for operand(). The
 * parsers return 1 taken, 0 not theirs, -1 after printing an error;
 * operand() returns non-zero after printing one. 0 when done, 1 on error.
 */
typedef struct cli_detect_args {
    int (*option)(int argc, char **argv, int *i, void *user);
    int (*operand)(const char *arg, void *user);
    void *user;
    const char *usage;
} cli_detect_args;
int cli_parse_detect_args(int argc, char **argv, const cli_detect_args *p, evo_detect_options *det,
                          cli_model_opts *mo, const char **model_path);
bool cli_is_directory(const char *path);
/* The .jpg/.jpeg/.png files of dir, sorted by name, as malloc'd "dir/name" paths. */
int cli_list_images(const char *dir, int max_images, char ***out, int *n_out);
void cli_free_list(char **paths, int n);
/* Loads a model with the model options and creates a detector on it; 1 after printing an error. */
int cli_open_detector(const char *model_path, const cli_model_opts *mo, const evo_detect_options *d,
                      evo_model **model, evo_detector **det);

/*
 * Reads a tensor file into buf (size_bytes exactly): .npy (dtype and shape
 * checked against desc) or raw little-endian in the tensor's type.
 */
evo_status cli_read_tensor(const char *path, const evo_tensor_desc *desc, void *buf, evo_error *err);
/* Writes a tensor as .npy when path ends in ".npy", raw otherwise. */
evo_status cli_write_tensor(const char *path, const evo_tensor_desc *desc, const void *data, evo_error *err);

/* ---- detect_video.c: `evo detect MODEL VIDEO` ---- */

/* A video file (by extension), a URL (scheme://) or a V4L2 device (/dev/videoN). */
bool cli_is_video_source(const char *path);
/* evo detect on a video source (or a one-line error when built without FFmpeg). */
int cli_detect_video(int argc, char **argv);

/* ---- npu_report.c: --target ---- */

struct evo_graph;
struct evo_npu_target;
/* Looks up a --target name; 1 after printing the known targets when unknown. */
int cli_npu_target(const char *name, const struct evo_npu_target **out);
/* 0 when g can be placed on t (the CPU, or an int8 graph); 1 after asking for evo quantize first. */
int cli_npu_require_int8(const struct evo_graph *g, const char *path, const struct evo_npu_target *t);
/*
 * npu_estimate.c: prints g's performance estimate on t (text, or one JSON object), with another system
 * configuration and/or memory mode when not NULL; 1 after printing an error.
 */
int cli_npu_estimate_report(const struct evo_graph *g, const char *path, const struct evo_npu_target *t,
                            const char *system, const char *memory_mode, bool json, bool verbose);
struct evo_npu_place;
/* A node's TFLite-level operators joined by "+" ("-" for none), into buf. */
void cli_npu_parts_str(const struct evo_npu_place *p, char *buf, size_t cap);
struct evo_npu_rewrites;
/* Applies t's exact rewrites to g (none for the CPU), counted in *rw; 1 after printing an error. */
int cli_npu_rewrite(struct evo_graph *g, const struct evo_npu_target *t, struct evo_npu_rewrites *rw);
/* Prints g's placement on t (text, or one JSON object) with the rewrites applied (rw, may be NULL); 1 after an error. */
int cli_npu_report(const struct evo_graph *g, const char *path, const struct evo_npu_target *t,
                   const struct evo_npu_rewrites *rw, bool json, bool verbose);

/* ---- cache.c: the compile cache ---- */

/* A 128-bit running hash (not cryptographic: it detects corruption and stale entries). */
typedef struct cli_hash {
    uint64_t a, b, n;
} cli_hash;
void cli_hash_init(cli_hash *h);
void cli_hash_update(cli_hash *h, const void *data, size_t n);
/* The hash as 32 hex digits. */
void cli_hash_str(const cli_hash *h, char out[33]);
/* Adds a file's bytes; -1 when it cannot be read. */
int cli_hash_file(const char *path, cli_hash *h);
/* The cache directory ($EVO_CACHE_DIR, else ~/.cache/evo), created; -1 when there is none. */
int cli_cache_dir(char *buf, size_t cap);
/*
 * 1 and the entry's path when key is cached and its bytes match its checksum;
 * 0 otherwise (a damaged entry is removed and note says so).
 */
int cli_cache_lookup(const char *dir, const char *key, char *path, size_t cap, char *note, size_t note_cap);
/* Moves the finished file tmp_path (in dir) into the cache as key with its checksum; -1 on failure. */
int cli_cache_store(const char *dir, const char *key, const char *tmp_path);
/* Copies a file (to a temporary name, then renamed); -1 on failure. */
int cli_copy_file(const char *from, const char *to);

/* ---- compile_targets.c: evo compile --target a,b,c ---- */

typedef struct cli_compile_req {
    const char *model;
    const char *out;         /* -o, or NULL: MODEL.evo (MODEL.T.evo for several targets) */
    const char *targets;     /* comma-separated */
    bool rewrite;            /* the exact rewrites (--no-rewrite: off) */
    bool cache;              /* --no-cache: off */
    const cli_model_opts *mo;
    char **quant_argv;       /* quantize options (--calib DIR ...), forwarded to evo quantize */
    int quant_argc;
    const char *key_opts;    /* every option that changes the result, for the cache key */
} cli_compile_req;

/* Compiles req->model for each target in parallel; 1 after printing an error. */
int cli_compile_targets(const cli_compile_req *req);

#endif /* EVO_CLI_H */
