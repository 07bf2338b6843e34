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
    {"fold_bn", evo_pass_fold_bn, true},
    {"fuse_residual", evo_pass_fuse_residual, true},
    {"fuse_act", evo_pass_fuse_act, true},
};

/* Is name one of the comma-separated entries of list? */
static bool listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

evo_status evo_passes_run(evo_graph *g, evo_pass_ctx *ctx)
{
    const char *disabled = ctx->opts ? ctx->opts->disable_passes : NULL;
    for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
        if (passes[i].optional && listed(disabled, passes[i].name))
            continue;
        evo_status s = passes[i].fn(g, ctx);
        if (s)
            return s;
    }
    return EVO_OK;
}
