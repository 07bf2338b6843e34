/*
 * cmd_export.c - `evo export MODEL --tflite OUT.tflite`: the compiled
 * graph (an int8 or uint8 .evo from evo quantize, or a float ONNX model
 * compiled on the fly) as a TensorFlow Lite flatbuffer (docs/tflite.md).
 * The written file is read back with evo's TFLite reader, and its
 * operators counted on stderr, so a file the reader rejects is never left
 * behind as a success.
 */
#include "cli.h"
#include "exec/model.h"
#include "tflite/tflite.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Reads path back and prints its operator counts. */
static int summarize(const char *path, size_t bytes)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *data = bytes ? malloc(bytes) : NULL;
    bool ok = fp && data && fread(data, 1, bytes, fp) == bytes;
    if (fp)
        fclose(fp);
    evo_error err = {0};
    tfl_model *m = NULL;
    if (!ok || evo_tflite_read(data, bytes, path, &m, &err) != EVO_OK) {
        free(data);
        return cli_fail("export: reading back %s: %s", path, ok ? err.msg : "cannot read the file");
    }
    fprintf(stderr, "evo: wrote %s (%zu bytes): %d tensors, %d operators:", path, bytes, m->n_tensors, m->n_ops);
    for (int k = 0; k < m->n_opcodes; k++) {
        int count = 0;
        for (int i = 0; i < m->n_ops; i++)
            count += m->ops[i].opcode_index == (uint32_t)k;
        fprintf(stderr, " %s %d", tfl_op_name(m->opcodes[k].builtin), count);
    }
    fprintf(stderr, "\n");
    tfl_model_free(m);
    free(data);
    return 0;
}

int evo_cmd_export(int argc, char **argv)
{
    cli_model_opts mo = {.n_threads = 1};
    const char *path = NULL, *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--tflite") == 0) {
            if (++i >= argc)
                return cli_fail("export: %s needs a file name", argv[i - 1]);
            out_path = argv[i];
        } else if (argv[i][0] == '-') {
            return cli_fail("export: unknown option \"%s\"", argv[i]);
        } else if (path) {
            return cli_fail("export: more than one model given (\"%s\", \"%s\")", path, argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path || !out_path)
        return cli_fail("usage: evo export MODEL --tflite OUT.tflite [--input-shape NAME=DIMS]");
    if (strcmp(out_path, path) == 0)
        return cli_fail("export: the output would overwrite the input \"%s\"", path);
    /* the stem as the model has it: TFLite and the NPU compilers take a 6x6 conv, not SpaceToDepth */
    char disable[512];
    snprintf(disable, sizeof disable, "%s%ss2d_conv", mo.disable_passes ? mo.disable_passes : "",
             mo.disable_passes ? "," : "");
    mo.disable_passes = disable;
    evo_compile_options co = cli_compile_options(&mo);
    evo_error err = {0};
    evo_graph *g = NULL;
    if (evo_graph_load_compiled(path, NULL, 0, &co, &g, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    size_t bytes = 0;
    evo_status s = evo_tflite_write_file(g, out_path, &bytes, &err);
    evo_graph_free(g);
    if (s != EVO_OK)
        return cli_fail("%s", err.msg);
    return summarize(out_path, bytes);
}
