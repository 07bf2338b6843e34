/*
 * passes.c - the ordered pass pipeline.
 */
#include "passes/passes.h"

#include <string.h>

typedef struct pass_entry {
    const char *name;
    evo_pass_fn fn;
    bool optional; /* an optimisation that --disable-pass may skip */
} pass_entry;

static const pass_entry passes[] = {
    {"check", evo_pass_check, false},
    {"infer_fold", evo_pass_infer_fold, false},
    {"dead_code", evo_pass_dead_code, false},
    {"fold_qdq", evo_pass_fold_qdq, true},
    {"fold_qdq_ms", evo_pass_fold_qdq_ms, true},
    {"simplify", evo_pass_simplify, true},
    {"fold_focus", evo_pass_fold_focus, true},
    {"s2d_conv", evo_pass_s2d_conv, true},
    {"fuse_hard", evo_pass_fuse_hard, true},
    {"act_levels", evo_pass_act_levels, false},
    {"fold_bn", evo_pass_fold_bn, true},
    {"fuse_residual", evo_pass_fuse_residual, true},
    {"fuse_layout", evo_pass_fuse_layout, true},
    {"fuse_act", evo_pass_fuse_act, true},
    {"fuse_residual_act", evo_pass_fuse_residual_act, true},
    {"fuse_update", evo_pass_fuse_update, true},
};

evo_status evo_passes_run(evo_graph *g, evo_pass_ctx *ctx)
{
    const char *disabled = ctx->opts ? ctx->opts->disable_passes : NULL;
    for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
        if (passes[i].optional && evo_name_listed(disabled, passes[i].name))
            continue;
        evo_status s = passes[i].fn(g, ctx);
        if (s)
            return s;
    }
    return EVO_OK;
}
