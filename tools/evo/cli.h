/*
 * cli.h - shared pieces of the evo command-line tool: one entry point per
 * subcommand (cmd_<name>.c), option helpers and tensor file I/O.
 */
#ifndef EVO_CLI_H
#define EVO_CLI_H

#include "evo.h"
#include "kernels/kernel.h"

#include <stdbool.h>
#include <stdio.h>

int evo_cmd_info(int argc, char **argv);
int evo_cmd_run(int argc, char **argv);
int evo_cmd_bench(int argc, char **argv);
int evo_cmd_verify(int argc, char **argv);
int evo_cmd_detect(int argc, char **argv);
int evo_cmd_compile(int argc, char **argv);
int evo_cmd_quantize(int argc, char **argv);

/* Common model options: --input-shape NAME=1x3x640x640, --threads N, --isa NAME, --disable-pass LIST. */
typedef struct cli_model_opts {
    evo_input_shape shapes[16];
    int n_shapes;
    int n_threads;
    const char *isa;
    const char *disable_passes;
} cli_model_opts;

/*
 * If argv[*i] is a common model option, consumes it (and its value) and
 * returns 1; returns 0 if it is not one; -1 after printing an error.
 */
int cli_parse_model_opt(int argc, char **argv, int *i, cli_model_opts *o);
/*
 * If argv[*i] is one of evo detect's options, consumes it as detect does
 * and returns 1, keeping only its effect on the preprocess in *pre
 * (decoder and output options are accepted and have no effect); 0 if it is
 * not one; -1 after printing an error. Commands that take images through
 * detect's preprocess (quantize) accept the same flags this way.
 */
int cli_parse_detect_preprocess(int argc, char **argv, int *i, evo_preprocess_options *pre);
/* Parses a positive integer option value; false after printing an error. */
bool cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
/*
 * GFLOP/s of n_threads running the vector FMA loop of kernels/peak.h at
 * once (iters iterations each; best of 3) for isa (AVX2 or AVX-512); 0 on
 * other machines. CLI_PEAK_ITERS takes about 20 ms.
 */
#define CLI_PEAK_ITERS 4000000
double cli_measure_peak(evo_isa isa, int n_threads, int64_t iters);
/* Prints "evo: <msg>" to stderr; returns 1 (the exit code). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reads a tensor file into buf (size_bytes exactly): .npy (dtype and shape
 * checked against desc) or raw little-endian in the tensor's type.
 */
evo_status cli_read_tensor(const char *path, const evo_tensor_desc *desc, void *buf, evo_error *err);
/* Writes a tensor as .npy when path ends in ".npy", raw otherwise. */
evo_status cli_write_tensor(const char *path, const evo_tensor_desc *desc, const void *data, evo_error *err);

#endif /* EVO_CLI_H */
