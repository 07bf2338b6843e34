/*
 * onnx_write_upgrade.c - writing a graph of opset 11 or 12 at opset 13,
 * which the QDQ form needs for per-channel weights (DequantizeLinear's
 * axis). The ops whose signature changed on the way are rewritten from
 * what the graph knows: Split's split, Squeeze's and Unsqueeze's axes and
 * ReduceSum's axes move from attributes to constant inputs; Dropout's
 * ratio attribute goes (inference ignores it); a Softmax, LogSoftmax or
 * Hardmax that coerced its input to 2-D at an axis other than the last
 * becomes Flatten -> op -> Reshape. Every other op of the default domain
 * reads the same at 13 (later versions only add types). Older graphs are
 * not upgraded: more of their ops changed (Clip, Slice, Pad, Upsample).
 */
#include "onnx/onnx_write_priv.h"

#include <string.h>

int64_t ow_target_opset(const ow_model *m)
{
    const evo_graph *g = m->g;
    if (g->opset < 11 || g->opset >= 13)
        return g->opset;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead || !ow_qdq_wanted(m, n) || n->n_in < 5 || n->in[4] < 0)
            continue;
        const evo_value *ws = &g->values[n->in[4]];
        if (ws->data && ws->rank >= 0 && evo_value_count(ws) > 1)
            return 13;
    }
    return g->opset;
}

/* Drops attribute `name` from o; returns it (or NULL when absent). */
static const evo_attr *take_attr(ow_model *m, ow_node *o, const char *name)
{
    const evo_attr *found = NULL;
    for (int k = 0; k < o->n_attrs; k++)
        if (strcmp(o->attrs[k].name, name) == 0)
            found = &o->attrs[k];
    if (!found)
        return NULL;
    evo_attr *kept = evo_mem_alloc(&m->mem, sizeof(evo_attr) * (size_t)(o->n_attrs ? o->n_attrs : 1));
    if (!kept)
        return NULL;
    int n = 0;
    for (int k = 0; k < o->n_attrs; k++)
        if (&o->attrs[k] != found)
            kept[n++] = o->attrs[k];
    const evo_attr *a = found;
    o->attrs = kept;
    o->n_attrs = n;
    return a;
}

/* Moves INTS attribute `name` of the node just copied into input `at` (a constant). */
static evo_status attr_to_input(ow_model *m, const evo_node *n, const char *name, int at)
{
    ow_node *o = &m->nodes[m->n_nodes - 1];
    bool present = false;
    for (int k = 0; k < o->n_attrs; k++)
        present = present || strcmp(o->attrs[k].name, name) == 0;
    if (!present)
        return EVO_OK;
    const evo_attr *a = take_attr(m, o, name);
    if (!a)
        return ow_nomem(m, n);
    if (a->type != EVO_ATTR_INTS)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED, "attribute %s is not INTS", name);
    if (o->n_in > at && o->in[at][0])
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED, "both attribute and input %s", name);
    const char **in = evo_mem_alloc(&m->mem, sizeof(char *) * (size_t)(at + 1));
    const char *c = ow_const_ints(m, n->name, a->ints, a->n);
    if (!in || !c)
        return ow_nomem(m, n);
    for (int i = 0; i <= at; i++)
        in[i] = i < o->n_in ? o->in[i] : "";
    in[at] = c;
    o->in = in;
    o->n_in = at + 1 > o->n_in ? at + 1 : o->n_in;
    return EVO_OK;
}

/* A legacy softmax over axes [axis, rank) of a rank > axis + 1 input: Flatten -> op(axis 1) -> Reshape. */
static evo_status coerced_softmax(ow_model *m, const evo_node *n)
{
    const evo_value *x = &m->g->values[n->in[0]];
    int64_t axis = n->a.axis.axis, one = 1;
    const char *flat = ow_fresh(m, n->name, "flat"), *soft = ow_fresh(m, n->name, "soft");
    ow_node *f = ow_add(m, "Flatten", ow_fresh(m, n->name, "Flatten"), 1, 1);
    ow_node *s = ow_add(m, n->op_type, n->name, 1, 1);
    ow_node *r = ow_add(m, "Reshape", ow_fresh(m, n->name, "Reshape"), 2, 1);
    if (!flat || !soft || !f || !s || !r || !ow_attrs(m, f, 1) || !ow_attrs(m, s, 1) ||
        !(r->in[1] = ow_const_ints(m, n->name, x->dims, x->rank)))
        return ow_nomem(m, n);
    ow_attr_int(&f->attrs[0], "axis", axis);
    ow_attr_int(&s->attrs[0], "axis", one);
    f->in[0] = ow_value(m, n->in[0]);
    f->out[0] = s->in[0] = flat;
    s->out[0] = r->in[0] = soft;
    r->out[0] = ow_value(m, n->out[0]);
    return EVO_OK;
}

evo_status ow_emit_upgraded(ow_model *m, const evo_node *n)
{
    bool is_default = !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
    const char *t = n->op_type;
    bool softmax = strcmp(t, "Softmax") == 0 || strcmp(t, "LogSoftmax") == 0 || strcmp(t, "Hardmax") == 0;
    if (is_default && softmax) {
        const evo_value *x = n->n_in > 0 && n->in[0] >= 0 ? &m->g->values[n->in[0]] : NULL;
        if (!x || x->rank < 1 || n->n_out != 1 || n->op == EVO_OP_UNKNOWN)
            return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                                   "cannot write %s at opset 13 without its input's shape", t);
        if (n->a.axis.axis != x->rank - 1)
            return coerced_softmax(m, n);
    }
    evo_status s = ow_emit_copy(m, n);
    if (s || !is_default)
        return s;
    if (softmax) { /* over the last axis, the coercion changes nothing */
        ow_node *o = &m->nodes[m->n_nodes - 1];
        take_attr(m, o, "axis");
        return EVO_OK;
    }
    if (strcmp(t, "Split") == 0)
        return attr_to_input(m, n, "split", 1);
    if (strcmp(t, "Squeeze") == 0 || strcmp(t, "Unsqueeze") == 0 || strcmp(t, "ReduceSum") == 0)
        return attr_to_input(m, n, "axes", 1);
    if (strcmp(t, "Dropout") == 0)
        take_attr(m, &m->nodes[m->n_nodes - 1], "ratio");
    return EVO_OK;
}
