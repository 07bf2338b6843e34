/*
 * onnx_write_nodes.c - the ONNX nodes written for one graph node.
 *
 * A node the passes left alone is copied: op type, domain, raw attributes.
 * What the passes made is spelled out in standard ops at the graph's
 * opset, each expansion computing what evo's fused kernel computes: a
 * Conv's fused residual Add goes before or after its activation as
 * residual_after_act says, the grouped output layout is the Reshape +
 * Transpose that fuse_layout removed, and evo.UpdateSlices is the Concat
 * of the untouched Slices of its first input with the updates.
 */
#include "onnx/onnx_write_priv.h"

#include <math.h>
#include <string.h>

/* A copy of n: raw attributes, value names; unnamed outputs get fresh names where needed. */
evo_status ow_emit_copy(ow_model *m, const evo_node *n)
{
    for (int k = 0; k < n->n_attrs; k++) {
        const evo_attr *a = &n->attrs[k];
        bool ok = a->type == EVO_ATTR_FLOAT || a->type == EVO_ATTR_INT || a->type == EVO_ATTR_STRING ||
                  a->type == EVO_ATTR_INTS || a->type == EVO_ATTR_FLOATS ||
                  (a->type == EVO_ATTR_TENSOR && a->tensor >= 0 && m->g->values[a->tensor].data);
        if (!ok)
            return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                                   "attribute \"%s\" (type %d) was not imported and cannot be written",
                                   a->name, (int)a->type);
    }
    int n_out = n->n_out;
    if (n->op != EVO_OP_SPLIT) /* trailing optional outputs nobody reads are left out */
        while (n_out > 1 && n->out[n_out - 1] < 0)
            n_out--;
    ow_node *o = ow_add(m, n->op_type, n->name, n->n_in, n_out);
    if (!o)
        return ow_nomem(m, n);
    o->domain = strcmp(n->domain, "ai.onnx") == 0 ? "" : n->domain;
    for (int i = 0; i < n->n_in; i++)
        o->in[i] = ow_value(m, n->in[i]);
    for (int i = 0; i < n_out; i++) {
        // Split's outputs are all required: parts fuse_update stopped reading get a name.
        if (n->out[i] >= 0)
            o->out[i] = ow_value(m, n->out[i]);
        else if (n->op == EVO_OP_SPLIT && !(o->out[i] = ow_split_part(m, n, i)))
            return ow_nomem(m, n);
    }
    o->attrs = n->attrs;
    o->n_attrs = n->n_attrs;
    return EVO_OK;
}

/* One node x -> y of a unary op with no attributes. */
static evo_status unary(ow_model *m, const evo_node *n, const char *op, const char *x, const char *y,
                        ow_node **out)
{
    ow_node *o = ow_add(m, op, ow_fresh(m, n->name, op), 1, 1);
    if (!o)
        return ow_nomem(m, n);
    o->in[0] = x;
    o->out[0] = y;
    if (out)
        *out = o;
    return EVO_OK;
}

static evo_status binary(ow_model *m, const evo_node *n, const char *op, const char *a, const char *b,
                         const char *y)
{
    ow_node *o = ow_add(m, op, ow_fresh(m, n->name, op), 2, 1);
    if (!o)
        return ow_nomem(m, n);
    o->in[0] = a;
    o->in[1] = b;
    o->out[0] = y;
    return EVO_OK;
}

/* x * f(x) with f a unary node (SiLU: Sigmoid; HardSwish before opset 14: HardSigmoid 1/6, 1/2). */
static evo_status gated(ow_model *m, const evo_node *n, const char *op, const char *x, const char *y,
                        bool hard)
{
    const char *t = ow_fresh(m, n->name, op);
    ow_node *g = NULL;
    evo_status s = t ? unary(m, n, op, x, t, &g) : ow_nomem(m, n);
    if (!s && hard) {
        if (!ow_attrs(m, g, 2))
            return ow_nomem(m, n);
        ow_attr_float(&g->attrs[0], "alpha", 1.0f / 6.0f);
        ow_attr_float(&g->attrs[1], "beta", 0.5f);
    }
    return s ? s : binary(m, n, "Mul", x, t, y);
}

static evo_status clip(ow_model *m, const evo_node *n, float lo, float hi, const char *x, const char *y)
{
    bool has_lo = isfinite(lo) || lo > 0, has_hi = isfinite(hi) || hi < 0;
    ow_node *o = ow_add(m, "Clip", ow_fresh(m, n->name, "Clip"), m->opset >= 11 ? 3 : 1, 1);
    if (!o)
        return ow_nomem(m, n);
    o->in[0] = x;
    o->out[0] = y;
    if (m->opset < 11) { /* min and max were attributes until opset 11 */
        if (!ow_attrs(m, o, has_lo + has_hi))
            return ow_nomem(m, n);
        if (has_lo)
            ow_attr_float(&o->attrs[0], "min", lo);
        if (has_hi)
            ow_attr_float(&o->attrs[has_lo], "max", hi);
        return EVO_OK;
    }
    if (has_lo && !(o->in[1] = ow_const(m, n->name, EVO_DTYPE_FLOAT, 0, NULL, &lo)))
        return ow_nomem(m, n);
    if (has_hi && !(o->in[2] = ow_const(m, n->name, EVO_DTYPE_FLOAT, 0, NULL, &hi)))
        return ow_nomem(m, n);
    return EVO_OK;
}

evo_status ow_emit_act(ow_model *m, const evo_node *n, evo_act act, float alpha, float beta, const char *x,
                       const char *y)
{
    ow_node *o = NULL;
    evo_status s;
    switch (act) {
    case EVO_ACT_RELU: return unary(m, n, "Relu", x, y, NULL);
    case EVO_ACT_SIGMOID: return unary(m, n, "Sigmoid", x, y, NULL);
    case EVO_ACT_TANH: return unary(m, n, "Tanh", x, y, NULL);
    case EVO_ACT_SILU: return gated(m, n, "Sigmoid", x, y, false);
    case EVO_ACT_HARD_SWISH:
        return m->opset >= 14 ? unary(m, n, "HardSwish", x, y, NULL) : gated(m, n, "HardSigmoid", x, y, true);
    case EVO_ACT_CLIP: return clip(m, n, alpha, beta, x, y);
    case EVO_ACT_LEAKY_RELU:
        if ((s = unary(m, n, "LeakyRelu", x, y, &o)) || !ow_attrs(m, o, 1))
            return s ? s : ow_nomem(m, n);
        ow_attr_float(&o->attrs[0], "alpha", alpha);
        return EVO_OK;
    case EVO_ACT_HARD_SIGMOID:
        if ((s = unary(m, n, "HardSigmoid", x, y, &o)) || !ow_attrs(m, o, 2))
            return s ? s : ow_nomem(m, n);
        ow_attr_float(&o->attrs[0], "alpha", alpha);
        ow_attr_float(&o->attrs[1], "beta", beta);
        return EVO_OK;
    case EVO_ACT_NONE: return unary(m, n, "Identity", x, y, NULL);
    }
    return evo_node_errorf(m->err, m->g, n, EVO_ERR_INTERNAL, "fused activation %d has no ONNX form",
                           (int)act);
}

bool ow_conv_attrs(ow_model *m, ow_node *o, const evo_conv_attrs *c)
{
    int ns = c->n_spatial;
    int64_t pads[2 * EVO_MAX_SPATIAL];
    for (int d = 0; d < ns; d++) {
        pads[d] = c->pad_begin[d];
        pads[ns + d] = c->pad_end[d];
    }
    if (!ow_attrs(m, o, 5))
        return false;
    ow_attr_int(&o->attrs[0], "group", c->group);
    return ow_attr_ints(m, &o->attrs[1], "kernel_shape", c->kernel, ns) &&
           ow_attr_ints(m, &o->attrs[2], "strides", c->stride, ns) &&
           ow_attr_ints(m, &o->attrs[3], "dilations", c->dilation, ns) &&
           ow_attr_ints(m, &o->attrs[4], "pads", pads, 2 * ns);
}

/* The output of the next stage of a chain: y for the last one, else a fresh name. */
static const char *stage_out(ow_model *m, const evo_node *n, int *left, const char *y, const char *tag)
{
    return --*left == 0 ? y : ow_fresh(m, n->name, tag);
}

/* Reshape [N, C, H, W] -> [N, G, C/G, H, W], Transpose to [N, G, H, W, C/G] = y (fuse_layout). */
static evo_status emit_group_layout(ow_model *m, const evo_node *n, const char *x, const char *y)
{
    const evo_value *yv = &m->g->values[n->out[0]];
    int64_t shape[5] = {yv->dims[0], yv->dims[1], yv->dims[4], yv->dims[2], yv->dims[3]};
    static const int64_t perm[5] = {0, 1, 3, 4, 2};
    const char *t = ow_fresh(m, n->name, "grouped");
    ow_node *r = ow_add(m, "Reshape", ow_fresh(m, n->name, "Reshape"), m->opset >= 5 ? 2 : 1, 1);
    if (!t || !r)
        return ow_nomem(m, n);
    r->in[0] = x;
    r->out[0] = t;
    if (m->opset >= 5 ? !(r->in[1] = ow_const_ints(m, n->name, shape, 5))
                      : !ow_attrs(m, r, 1) || !ow_attr_ints(m, &r->attrs[0], "shape", shape, 5))
        return ow_nomem(m, n);
    ow_node *tr = ow_add(m, "Transpose", ow_fresh(m, n->name, "Transpose"), 1, 1);
    if (!tr || !ow_attrs(m, tr, 1) || !ow_attr_ints(m, &tr->attrs[0], "perm", perm, 5))
        return ow_nomem(m, n);
    tr->in[0] = t;
    tr->out[0] = y;
    return EVO_OK;
}

/*
 * The stages after a Conv that wrote conv_out: residual before the
 * activation, the grouped layout (before the activation, which is
 * elementwise, as exporters write it and fuse_layout finds it), the
 * activation, residual after it; the last writes y. left counts the stages
 * still to come.
 */
static evo_status emit_conv_stages(ow_model *m, const evo_node *n, const char *conv_out, const char *y,
                                   int left)
{
    const evo_conv_attrs *c = &n->a.conv;
    const char *cur = conv_out, *t = NULL;
    evo_status s = EVO_OK;
    if (c->has_residual && (n->n_in < 4 || n->in[3] < 0))
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_INTERNAL, "fused residual without input 3");
    const char *r = c->has_residual ? ow_value(m, n->in[3]) : NULL;
    if (c->has_residual && !c->residual_after_act) {
        t = stage_out(m, n, &left, y, "residual");
        s = t ? binary(m, n, "Add", cur, r, t) : ow_nomem(m, n);
        cur = t;
    }
    if (!s && c->out_groups) {
        t = stage_out(m, n, &left, y, "grouped");
        s = t ? emit_group_layout(m, n, cur, t) : ow_nomem(m, n);
        cur = t;
    }
    if (!s && c->act != EVO_ACT_NONE) {
        t = stage_out(m, n, &left, y, "act");
        s = t ? ow_emit_act(m, n, c->act, c->act_alpha, c->act_beta, cur, t) : ow_nomem(m, n);
        cur = t;
    }
    if (!s && c->has_residual && c->residual_after_act) {
        t = stage_out(m, n, &left, y, "residual");
        s = t ? binary(m, n, "Add", cur, r, t) : ow_nomem(m, n);
    }
    return s;
}

/* Stages after the Conv itself: residual, activation, layout. */
int ow_conv_stages(const evo_conv_attrs *c)
{
    return (c->has_residual ? 1 : 0) + (c->act != EVO_ACT_NONE ? 1 : 0) + (c->out_groups ? 1 : 0);
}

static evo_status emit_conv(ow_model *m, const evo_node *n)
{
    const evo_conv_attrs *c = &n->a.conv;
    if (c->out_groups && (c->n_spatial != 2 || m->g->values[n->out[0]].rank != 5))
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_INTERNAL, "grouped layout on a non-2-D conv");
    int left = 1 + ow_conv_stages(c);
    const char *y = ow_value(m, n->out[0]);
    bool has_bias = n->n_in > 2 && n->in[2] >= 0;
    ow_node *o = ow_add(m, "Conv", n->name, has_bias ? 3 : 2, 1);
    if (!o || !ow_conv_attrs(m, o, c))
        return ow_nomem(m, n);
    for (int i = 0; i < o->n_in; i++)
        o->in[i] = ow_value(m, n->in[i]);
    const char *conv_out = stage_out(m, n, &left, y, "conv");
    if (!conv_out)
        return ow_nomem(m, n);
    o->out[0] = conv_out;
    return emit_conv_stages(m, n, conv_out, y, left);
}

/* Gemm with its raw attributes, then the fused activation. */
static evo_status emit_gemm(ow_model *m, const evo_node *n)
{
    evo_status s = ow_emit_copy(m, n);
    if (s)
        return s;
    ow_node *o = &m->nodes[m->n_nodes - 1];
    const char *y = o->out[0], *t = ow_fresh(m, n->name, "gemm");
    if (!t)
        return ow_nomem(m, n);
    o->out[0] = t;
    return ow_emit_act(m, n, n->a.gemm.act, n->a.gemm.act_alpha, n->a.gemm.act_beta, t, y);
}

/*
 * A live Split of value x along axis whose output o, dropped by
 * fuse_update, is x[begin:end]: the name it was written under, or NULL.
 */
static const char *split_part(ow_model *m, int x, int64_t axis, int64_t begin, int64_t end)
{
    for (int i = 0; i < m->g->n_nodes; i++) {
        const evo_node *s = &m->g->nodes[i];
        if (s->is_dead || s->op != EVO_OP_SPLIT || s->n_in < 1 || s->in[0] != x || s->a.split.axis != axis ||
            s->a.split.n_splits != s->n_out)
            continue;
        int64_t at = 0;
        for (int o = 0; o < s->n_out; o++) {
            if (at == begin && at + s->a.split.sizes[o] == end && s->out[o] < 0)
                return ow_split_part(m, s, o);
            at += s->a.split.sizes[o];
        }
    }
    return NULL;
}

/* x[begin:end] along axis: the Split part fuse_update dropped, else a new Slice; *out its name. */
static evo_status slice(ow_model *m, const evo_node *n, const char *x, int64_t axis, int64_t begin,
                        int64_t end, const char **out)
{
    if ((*out = split_part(m, n->in[0], axis, begin, end)) != NULL)
        return EVO_OK;
    const char *y = ow_fresh(m, n->name, "part");
    ow_node *o = ow_add(m, "Slice", ow_fresh(m, n->name, "Slice"), m->opset >= 10 ? 4 : 1, 1);
    if (!y || !o)
        return ow_nomem(m, n);
    o->in[0] = x;
    o->out[0] = y;
    *out = y;
    if (m->opset >= 10) { /* starts, ends and axes were attributes until opset 10 */
        o->in[1] = ow_const_ints(m, n->name, &begin, 1);
        o->in[2] = ow_const_ints(m, n->name, &end, 1);
        o->in[3] = ow_const_ints(m, n->name, &axis, 1);
        return o->in[1] && o->in[2] && o->in[3] ? EVO_OK : ow_nomem(m, n);
    }
    if (!ow_attrs(m, o, 3) || !ow_attr_ints(m, &o->attrs[0], "starts", &begin, 1) ||
        !ow_attr_ints(m, &o->attrs[1], "ends", &end, 1) || !ow_attr_ints(m, &o->attrs[2], "axes", &axis, 1))
        return ow_nomem(m, n);
    return EVO_OK;
}

/* evo.UpdateSlices(X, U1, ...): Concat of X's untouched slices and the updates in place. */
static evo_status emit_update(ow_model *m, const evo_node *n)
{
    const evo_split_attrs *a = &n->a.split;
    const evo_value *x = n->n_in > 0 && n->in[0] >= 0 ? &m->g->values[n->in[0]] : NULL;
    if (!x || x->rank < 1 || a->axis < 0 || a->axis >= x->rank || a->n_splits != n->n_in - 1 || n->n_out != 1)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_INTERNAL, "malformed %s", evo_op_name(n->op));
    const char *xn = ow_value(m, n->in[0]);
    ow_node *cat = NULL;
    const char **parts = evo_mem_alloc(&m->mem, sizeof(char *) * (size_t)(2 * n->n_in + 1));
    if (!parts)
        return ow_nomem(m, n);
    int n_parts = 0;
    int64_t at = 0, len = x->dims[a->axis];
    for (int k = 0; k < a->n_splits; k++) {
        const evo_value *u = n->in[k + 1] >= 0 ? &m->g->values[n->in[k + 1]] : NULL;
        if (!u || u->rank != x->rank || a->sizes[k] < at || a->sizes[k] + u->dims[a->axis] > len)
            return evo_node_errorf(m->err, m->g, n, EVO_ERR_INTERNAL, "update %d out of place", k + 1);
        evo_status s =
            a->sizes[k] > at ? slice(m, n, xn, a->axis, at, a->sizes[k], &parts[n_parts++]) : EVO_OK;
        if (s)
            return s;
        parts[n_parts++] = ow_value(m, n->in[k + 1]);
        at = a->sizes[k] + u->dims[a->axis];
    }
    if (at < len) {
        evo_status s = slice(m, n, xn, a->axis, at, len, &parts[n_parts++]);
        if (s)
            return s;
    }
    if (!(cat = ow_add(m, "Concat", n->name, n_parts, 1)) || !ow_attrs(m, cat, 1))
        return ow_nomem(m, n);
    ow_attr_int(&cat->attrs[0], "axis", a->axis);
    for (int k = 0; k < n_parts; k++)
        cat->in[k] = parts[k];
    cat->out[0] = ow_value(m, n->out[0]);
    return EVO_OK;
}

/*
 * A Conv or QLinearConv as it is, with its attributes from the typed ones
 * once import resolved them (a node a pass made has no raw ones; auto_pad
 * becomes explicit pads), else the raw ones.
 */
static evo_status emit_typed_conv(ow_model *m, const evo_node *n)
{
    evo_status s = m->opset != m->g->opset ? ow_emit_upgraded(m, n) : ow_emit_copy(m, n);
    if (s || n->a.conv.n_spatial < 1)
        return s;
    return ow_conv_attrs(m, &m->nodes[m->n_nodes - 1], &n->a.conv) ? EVO_OK : ow_nomem(m, n);
}

evo_status ow_emit_node(ow_model *m, const evo_node *n)
{
    switch (n->op) {
    case EVO_OP_CONV:
        if (ow_conv_stages(&n->a.conv))
            return emit_conv(m, n);
        return emit_typed_conv(m, n);
    case EVO_OP_GEMM:
        if (n->a.gemm.act != EVO_ACT_NONE)
            return emit_gemm(m, n);
        break;
    case EVO_OP_HARD_SIGMOID:
    case EVO_OP_HARD_SWISH:
        // fuse_hard makes them without raw attributes (HardSigmoid's defaults differ from
        // its 1/6, 1/2); HardSwish needs opset 14. Imported ones have typed alpha/beta.
        if (n->n_in == 1 && n->n_out == 1 &&
            (n->op == EVO_OP_HARD_SWISH || n->a.unary.alpha != 0.0f || n->a.unary.beta != 0.0f))
            return ow_emit_act(m, n, n->op == EVO_OP_HARD_SWISH ? EVO_ACT_HARD_SWISH : EVO_ACT_HARD_SIGMOID,
                               n->a.unary.alpha, n->a.unary.beta, ow_value(m, n->in[0]),
                               ow_value(m, n->out[0]));
        break;
    case EVO_OP_UPDATE_SLICES: return emit_update(m, n);
    case EVO_OP_SPACE_TO_DEPTH:
        if (n->n_attrs == 0) { /* pass s2d_conv's: its blocksize from the typed attributes */
            evo_status s = ow_emit_copy(m, n);
            ow_node *o = &m->nodes[m->n_nodes - 1];
            if (s || !ow_attrs(m, o, 1))
                return s ? s : ow_nomem(m, n);
            ow_attr_int(&o->attrs[0], "blocksize", n->a.d2s.blocksize);
            return EVO_OK;
        }
        break;
    case EVO_OP_QLINEAR_CONV:
    case EVO_OP_QLINEAR_MATMUL:
        if (ow_qdq_wanted(m, n))
            return ow_emit_qdq(m, n);
        return n->op == EVO_OP_QLINEAR_CONV ? emit_typed_conv(m, n) : ow_emit_copy(m, n);
    default:
        if (m->opts->qdq && ow_is_qdq_ms(n))
            return ow_emit_qdq_ms(m, n);
        break;
    }
    if (evo_op_is_internal(n->op))
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED, "internal op %s has no ONNX form",
                               evo_op_name(n->op));
    return m->opset != m->g->opset ? ow_emit_upgraded(m, n) : ow_emit_copy(m, n);
}
