/*
 * fuzz_onnx.c - libFuzzer target over the ONNX path: protobuf wire reader,
 * import, and the compile pipeline (check, attribute import, shape
 * inference, constant folding). Any input must end in a graph or a clean
 * error; crashes, leaks and sanitizer reports are bugs.
 */
#include "onnx/onnx.h"
#include "passes/passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evo_graph *g = NULL;
    evo_error err;
    if (evo_onnx_load_buffer(data, size, "fuzz.onnx", &g, &err) != EVO_OK)
        return 0;
    evo_compile_options opts = evo_compile_options_default();
    evo_pass_ctx ctx = {&opts, &err};
    evo_passes_run(g, &ctx);
    evo_graph_free(g);
    return 0;
}
