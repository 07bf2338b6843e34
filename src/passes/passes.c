/*
 * passes.c - the ordered pass pipeline.
 */
#include "passes/passes.h"

typedef struct pass_entry {
    const char *name;
    evo_pass_fn fn;
} pass_entry;

static const pass_entry passes[] = {
    {"check", evo_pass_check},
    {"infer_fold", evo_pass_infer_fold},
    {"dead_code", evo_pass_dead_code},
};

evo_status evo_passes_run(evo_graph *g, evo_pass_ctx *ctx)
{
    for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
        evo_status s = passes[i].fn(g, ctx);
        if (s)
            return s;
    }
    return EVO_OK;
}
