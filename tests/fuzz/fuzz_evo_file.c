/*
 * fuzz_evo_file.c - libFuzzer target over the .evo reader: header, section
 * table, strings, values, nodes, typed attributes, node order and the op
 * semantic checks, then the plan builder on whatever is accepted. The
 * checksum is skipped (EVO_FILE_NO_CHECKSUM) so mutations reach the
 * structural checks instead of stopping at the trailer; a second read with
 * the checksum must never accept what the first rejected. Any input must
 * end in a graph or a clean error; crashes, leaks and sanitizer reports
 * are bugs.
 */
#include "plan/evo_file.h"
#include "plan/plan.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evo_graph *g = NULL;
    evo_error err;
    evo_status s = evo_file_load_buffer(data, size, "fuzz.evo", EVO_FILE_NO_CHECKSUM, &g, &err);
    if (s == EVO_OK) {
        evo_plan plan;
        if (evo_plan_build(g, EVO_ISA_AMX, 2, &plan, &err) == EVO_OK)
            evo_plan_free(&plan);
        evo_graph_free(g);
        g = NULL;
    }
    if (evo_file_load_buffer(data, size, "fuzz.evo", 0, &g, &err) == EVO_OK) {
        if (s != EVO_OK)
            abort(); /* the checksum made a rejected file acceptable */
        evo_graph_free(g);
    }
    return 0;
}
