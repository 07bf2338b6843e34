/*
 * fuzz_onnx.c - libFuzzer target over the ONNX path: protobuf wire reader,
 * import, and the compile pipeline (check, attribute import, shape
 * inference, constant folding), then the ONNX writer on what was imported
 * (as imported, and again after the passes when they succeed), each
 * written model imported once more. Any input must end in a graph or a
 * clean error; crashes, leaks and sanitizer reports are bugs.
 */
#include <stdlib.h>

#include "onnx/onnx.h"
#include "onnx/onnx_write.h"
#include "passes/passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes g (quantized ops in QDQ form or not) and imports the bytes again; errors are fine, crashes are not. */
static void round_trip(const evo_graph *g, bool qdq)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    evo_error err;
    evo_onnx_write_options o = evo_onnx_write_options_default();
    o.qdq = qdq;
    if (evo_onnx_write_buffer(g, &o, &buf, &n, &err) != EVO_OK)
        return;
    evo_graph *back = NULL;
    if (evo_onnx_load_buffer(buf, n, "written.onnx", &back, &err) == EVO_OK)
        evo_graph_free(back);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evo_graph *g = NULL;
    evo_error err;
    if (evo_onnx_load_buffer(data, size, "fuzz.onnx", &g, &err) != EVO_OK)
        return 0;
    round_trip(g, false);
    evo_compile_options opts = evo_compile_options_default();
    evo_pass_ctx ctx = {&opts, &err};
    if (evo_passes_run(g, &ctx) == EVO_OK)
        round_trip(g, true);
    evo_graph_free(g);
    return 0;
}
