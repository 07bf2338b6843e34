/*
 * act_levels.c - activation "levels": replaces one activation by another
 * before quantization and fusion (evo_compile_options.act_levels, the CLI's
 * --act silu=relu,hardswish=leaky:0.1). Unlike every other pass this one
 * changes the function the network computes: a model trained with SiLU
 * gives other answers with ReLU until it is retrained or fine-tuned. It
 * exists because some NPUs run one activation and not another (Ethos-N78
 * multiplies only by constants, so SiLU's x * sigmoid(x) stays on the CPU).
 *
 * Sources: silu (x * Sigmoid(x), the Sigmoid read only by the Mul),
 * hardswish (HardSwish, as fuse_hard makes it), leaky (LeakyRelu), sigmoid,
 * relu6 (Clip 0..6). Replacements: relu, relu6, leaky:ALPHA, hardswish,
 * silu is not one (it takes two nodes). The last node of a source is
 * rewritten in place, so the graph order stays valid.
 */
#include "passes/act_levels.h"

#include "passes/passes.h"
#include "passes/rewrite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const src_names[EVO_ACT_LEVEL_N_SRC] = {"silu", "hardswish", "leaky", "sigmoid", "relu6"};

const char *evo_act_level_src_name(evo_act_level_src s)
{
    return s >= 0 && s < EVO_ACT_LEVEL_N_SRC ? src_names[s] : "?";
}

/* One replacement "relu", "relu6", "hardswish" or "leaky:A" (0 < A < 1). */
static bool parse_dst(const char *s, size_t len, evo_act_level_dst *d, float *alpha)
{
    if (len == 4 && strncmp(s, "relu", 4) == 0)
        *d = EVO_ACT_LEVEL_RELU;
    else if (len == 5 && strncmp(s, "relu6", 5) == 0)
        *d = EVO_ACT_LEVEL_RELU6;
    else if (len == 9 && strncmp(s, "hardswish", 9) == 0)
        *d = EVO_ACT_LEVEL_HARD_SWISH;
    else if (len > 6 && strncmp(s, "leaky:", 6) == 0) {
        char num[32], *end;
        if (len - 6 >= sizeof(num))
            return false;
        memcpy(num, s + 6, len - 6);
        num[len - 6] = 0;
        double a = strtod(num, &end);
        if (*end || !(a > 0 && a < 1))
            return false;
        *d = EVO_ACT_LEVEL_LEAKY;
        *alpha = (float)a;
    } else
        return false;
    return true;
}

evo_status evo_act_levels_parse(const char *spec, evo_act_levels *out, evo_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!eq || eq >= p + len)
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "activation levels \"%s\": \"%.*s\" is not FROM=TO (e.g. silu=relu)", spec, (int)len, p);
        size_t nlen = (size_t)(eq - p);
        int s = -1;
        for (int k = 0; k < EVO_ACT_LEVEL_N_SRC; k++)
            if (strlen(src_names[k]) == nlen && strncmp(p, src_names[k], nlen) == 0)
                s = k;
        if (s < 0)
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "activation levels: unknown activation \"%.*s\" (known: silu, hardswish, leaky, sigmoid, "
                              "relu6)",
                              (int)nlen, p);
        evo_act_level_dst d;
        float alpha = 0;
        if (!parse_dst(eq + 1, len - nlen - 1, &d, &alpha))
            return evo_errorf(err, EVO_ERR_INVALID_ARG,
                              "activation levels: \"%.*s\" is not a replacement (relu, relu6, leaky:ALPHA with 0 < "
                              "ALPHA < 1, hardswish)",
                              (int)(len - nlen - 1), eq + 1);
        if ((s == EVO_ACT_LEVEL_SRC_HARD_SWISH && d == EVO_ACT_LEVEL_HARD_SWISH) ||
            (s == EVO_ACT_LEVEL_SRC_RELU6 && d == EVO_ACT_LEVEL_RELU6))
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "activation levels: %.*s replaces an activation by itself",
                              (int)len, p);
        out->set[s] = true;
        out->dst[s] = d;
        out->alpha[s] = alpha;
        p = end ? end + 1 : NULL;
    }
    return EVO_OK;
}

/* The Sigmoid of x read only by Mul node m (m = x * Sigmoid(x)), or -1. */
static int silu_sigmoid(const evo_graph *g, const evo_node *m, int *x_out)
{
    if (m->op != EVO_OP_MUL || m->n_in != 2)
        return -1;
    for (int k = 0; k < 2; k++) {
        int sv = m->in[k], x = m->in[1 - k];
        if (sv < 0 || x < 0 || g->values[sv].producer < 0)
            continue;
        const evo_node *s = &g->nodes[g->values[sv].producer];
        int r[2];
        if (s->op == EVO_OP_SIGMOID && !s->is_dead && s->in[0] == x && evo_consumers(g, sv, r, 2) == 1) {
            *x_out = x;
            return g->values[sv].producer;
        }
    }
    return -1;
}

/* Rewrites node n in place into the replacement d reading x. */
static void replace(evo_graph *g, evo_node *n, int x, evo_act_level_dst d, float alpha)
{
    (void)g;
    static const evo_op ops[] = {[EVO_ACT_LEVEL_RELU] = EVO_OP_RELU, [EVO_ACT_LEVEL_RELU6] = EVO_OP_CLIP,
                                 [EVO_ACT_LEVEL_LEAKY] = EVO_OP_LEAKY_RELU,
                                 [EVO_ACT_LEVEL_HARD_SWISH] = EVO_OP_HARD_SWISH};
    n->op = ops[d];
    n->op_type = evo_op_name(n->op);
    n->domain = "";
    n->n_in = 1;
    n->in[0] = x;
    n->n_attrs = 0;
    memset(&n->a, 0, sizeof(n->a));
    n->a.unary.min = -INFINITY;
    n->a.unary.max = INFINITY;
    if (d == EVO_ACT_LEVEL_LEAKY)
        n->a.unary.alpha = alpha;
    if (d == EVO_ACT_LEVEL_RELU6) {
        n->a.unary.min = 0;
        n->a.unary.max = 6;
    }
    if (d == EVO_ACT_LEVEL_HARD_SWISH) {
        n->a.unary.alpha = 1.0f / 6.0f;
        n->a.unary.beta = 0.5f;
    }
}

/* The source activation node i computes (its input in *x), or -1. */
static int source_of(evo_graph *g, int i, int *x, int *dead)
{
    evo_node *n = &g->nodes[i];
    *dead = -1;
    *x = n->n_in > 0 ? n->in[0] : -1;
    switch (n->op) {
    case EVO_OP_MUL: *dead = silu_sigmoid(g, n, x); return *dead >= 0 ? EVO_ACT_LEVEL_SRC_SILU : -1;
    case EVO_OP_HARD_SWISH: return EVO_ACT_LEVEL_SRC_HARD_SWISH;
    case EVO_OP_LEAKY_RELU: return EVO_ACT_LEVEL_SRC_LEAKY;
    case EVO_OP_SIGMOID: return EVO_ACT_LEVEL_SRC_SIGMOID;
    case EVO_OP_CLIP: return n->a.unary.min == 0.0f && n->a.unary.max == 6.0f ? EVO_ACT_LEVEL_SRC_RELU6 : -1;
    default: return -1;
    }
}

evo_status evo_act_levels_apply(evo_graph *g, const evo_act_levels *lv, int counts[EVO_ACT_LEVEL_N_SRC])
{
    for (int i = 0; i < g->n_nodes; i++) {
        evo_node *n = &g->nodes[i];
        int x, dead;
        if (n->is_dead || n->n_out != 1)
            continue;
        int s = source_of(g, i, &x, &dead);
        if (s < 0 || !lv->set[s] || x < 0 || g->values[x].dtype != EVO_DTYPE_FLOAT)
            continue;
        if (s == EVO_ACT_LEVEL_SRC_SIGMOID) { /* a SiLU's Sigmoid is the SiLU's, not a sigmoid */
            int r[2];
            if (evo_consumers(g, n->out[0], r, 2) == 1 && r[0] >= 0) {
                int xx;
                if (silu_sigmoid(g, &g->nodes[r[0]], &xx) == i)
                    continue;
            }
        }
        replace(g, n, x, lv->dst[s], lv->alpha[s]);
        if (dead >= 0)
            g->nodes[dead].is_dead = true;
        counts[s]++;
    }
    return EVO_OK;
}

evo_status evo_pass_act_levels(evo_graph *g, evo_pass_ctx *ctx)
{
    const char *spec = ctx->opts ? ctx->opts->act_levels : NULL;
    if (!spec || !*spec)
        return EVO_OK;
    evo_act_levels lv;
    evo_status s = evo_act_levels_parse(spec, &lv, ctx->err);
    if (s)
        return s;
    int counts[EVO_ACT_LEVEL_N_SRC] = {0};
    s = evo_act_levels_apply(g, &lv, counts);
    if (s || !ctx->opts->log)
        return s;
    char msg[256];
    int len = snprintf(msg, sizeof(msg), "activation levels (%s):", spec);
    for (int k = 0; k < EVO_ACT_LEVEL_N_SRC && len > 0 && (size_t)len < sizeof(msg); k++)
        if (lv.set[k])
            len += snprintf(msg + len, sizeof(msg) - (size_t)len, " %d %s replaced;", counts[k], src_names[k]);
    if (len > 0 && (size_t)len < sizeof(msg))
        snprintf(msg + len, sizeof(msg) - (size_t)len, " the network changed: retrain or fine-tune it");
    ctx->opts->log(ctx->opts->log_user, 1, msg);
    return EVO_OK;
}
