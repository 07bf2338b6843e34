/*
 * views.c - zero-copy planning: values that can live inside another
 * value's bytes instead of being copied there.
 *
 * A view value has a parent and a byte offset in it: the outputs of the
 * reshape family (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout)
 * are their input at offset 0; Split and contiguous Slice outputs are
 * chunks of their input; and the inputs of a Concat whose leading dims are
 * all 1 are placed inside the Concat's output, so their producers write
 * straight into it (YOLO's C3/C2f/SPPF/neck concats copy nothing). The
 * steps that only moved data are then skipped. Parents form a forest;
 * the memory planner gives each root one live range covering its members.
 * Aliasing is read-only, with one exception: evo.UpdateSlices writes its
 * output over its input 0 when no value sharing those bytes is read after
 * it (then only the updated slices move, and the step is not skipped).
 */
#include "plan/plan.h"

#include <stdlib.h>

/* Root of v and v's byte offset in it. */
int evo_view_root(const int *parent, const int64_t *rel, int v, int64_t *offset)
{
    int64_t off = 0;
    while (parent[v] >= 0) {
        off += rel[v];
        v = parent[v];
    }
    *offset = off;
    return v;
}

static size_t value_bytes(const evo_value *v)
{
    return (size_t)evo_value_count(v) * evo_dtype_size(v->dtype);
}

static bool is_runtime(const evo_graph *g, int v)
{
    return v >= 0 && !g->values[v].data;
}

/* Product of dims [0, axis): 1 means slices along axis are contiguous byte ranges. */
static int64_t outer_count(const evo_value *v, int64_t axis)
{
    int64_t n = 1;
    for (int64_t d = 0; d < axis; d++)
        n *= v->dims[d];
    return n;
}

static int64_t inner_bytes(const evo_value *v, int64_t axis)
{
    int64_t n = (int64_t)evo_dtype_size(v->dtype);
    for (int d = (int)axis + 1; d < v->rank; d++)
        n *= v->dims[d];
    return n;
}

static bool view_reshape(const evo_graph *g, const evo_node *n, int *parent, int64_t *rel)
{
    int x = n->in[0], y = n->out[0];
    if (!is_runtime(g, x) || !is_runtime(g, y) || g->values[y].is_input)
        return false;
    for (int o = 1; o < n->n_out; o++) {
        if (n->out[o] >= 0)
            return false; /* Dropout's mask is computed */
    }
    if (value_bytes(&g->values[x]) != value_bytes(&g->values[y]))
        return false;
    parent[y] = x;
    rel[y] = 0;
    return true;
}

static bool view_split(const evo_graph *g, const evo_node *n, int *parent, int64_t *rel)
{
    int x = n->in[0];
    const evo_value *xv = &g->values[x];
    int64_t axis = n->a.split.axis;
    if (!is_runtime(g, x) || outer_count(xv, axis) != 1)
        return false;
    int64_t row = inner_bytes(xv, axis), at = 0;
    for (int o = 0; o < n->n_out; o++) {
        int y = n->out[o];
        int64_t size = n->a.split.sizes[o];
        if (y >= 0) {
            if (!is_runtime(g, y))
                return false;
            parent[y] = x;
            rel[y] = at * row;
        }
        at += size;
    }
    return true;
}

static bool view_slice(const evo_graph *g, const evo_node *n, int *parent, int64_t *rel)
{
    int x = n->in[0], y = n->out[0];
    if (!is_runtime(g, x) || !is_runtime(g, y))
        return false;
    const evo_value *xv = &g->values[x], *yv = &g->values[y];
    int axis = -1;
    for (int d = 0; d < xv->rank; d++) {
        if (xv->dims[d] == yv->dims[d])
            continue;
        if (axis >= 0)
            return false;
        axis = d;
    }
    if (axis < 0)
        axis = 0;
    if (n->a.slice.step[axis] != 1 || outer_count(xv, axis) != 1)
        return false;
    parent[y] = x;
    rel[y] = n->a.slice.start[axis] * inner_bytes(xv, axis);
    return true;
}

/* Places every input of a Concat inside its output, or nothing. */
static bool view_concat(const evo_graph *g, const evo_node *n, int *parent, int64_t *rel)
{
    int y = n->out[0];
    if (!is_runtime(g, y) || n->n_in > 64)
        return false;
    const evo_value *yv = &g->values[y];
    int64_t axis = n->a.axis.axis;
    if (outer_count(yv, axis) != 1)
        return false;
    int64_t row = inner_bytes(yv, axis), at = 0, total = (int64_t)value_bytes(yv);
    int roots[64];
    int64_t starts[64], ends[64];
    for (int i = 0; i < n->n_in; i++) {
        int x = n->in[i];
        if (!is_runtime(g, x))
            return false;
        int64_t off;
        int r = evo_view_root(parent, rel, x, &off);
        const evo_value *rv = &g->values[r];
        int64_t start = at * row - off, size = (int64_t)value_bytes(rv);
        if (r == y || rv->is_input || start < 0 || start + size > total)
            return false;
        roots[i] = r;
        starts[i] = start;
        ends[i] = start + size;
        for (int j = 0; j < i; j++) {
            if (roots[j] == r && starts[j] != start)
                return false;
            if (roots[j] != r && starts[i] < ends[j] && starts[j] < ends[i])
                return false;
        }
        at += g->values[x].dims[axis];
    }
    for (int i = 0; i < n->n_in; i++) {
        parent[roots[i]] = y;
        rel[roots[i]] = starts[i];
    }
    return true;
}

/*
 * Lets evo.UpdateSlices at step s write over its input 0 x: x is a runtime
 * value, not a graph input, and every value in x's view tree (x's root
 * and all that alias it) is last read at step s, by this node only as x.
 */
static void view_update(const evo_graph *g, const evo_node *n, int s, const int *last, int *parent,
                        int64_t *rel)
{
    int x = n->in[0], y = n->out[0];
    if (!is_runtime(g, x) || !is_runtime(g, y) || g->values[x].is_input || g->values[y].is_input)
        return;
    int64_t off;
    int r = evo_view_root(parent, rel, x, &off);
    if (g->values[r].is_input)
        return;
    for (int v = 0; v < g->n_values; v++) {
        int64_t o;
        if (evo_view_root(parent, rel, v, &o) == r && last[v] > s)
            return;
    }
    for (int i = 1; i < n->n_in; i++) {
        int64_t o;
        if (n->in[i] >= 0 && evo_view_root(parent, rel, n->in[i], &o) == r)
            return;
    }
    parent[y] = x;
    rel[y] = 0;
}

void evo_plan_views(const evo_graph *g, evo_plan *p, const int *last, int *parent, int64_t *rel)
{
    for (int v = 0; v < g->n_values; v++) {
        parent[v] = -1;
        rel[v] = 0;
    }
    for (int s = 0; s < p->n_steps; s++) {
        const evo_node *n = &g->nodes[p->steps[s].node];
        bool skip = false;
        switch (n->op) {
        case EVO_OP_RESHAPE:
        case EVO_OP_FLATTEN:
        case EVO_OP_SQUEEZE:
        case EVO_OP_UNSQUEEZE:
        case EVO_OP_IDENTITY:
        case EVO_OP_DROPOUT: skip = view_reshape(g, n, parent, rel); break;
        case EVO_OP_SPLIT: skip = view_split(g, n, parent, rel); break;
        case EVO_OP_SLICE: skip = view_slice(g, n, parent, rel); break;
        case EVO_OP_CONCAT: skip = view_concat(g, n, parent, rel); break;
        case EVO_OP_UPDATE_SLICES: view_update(g, n, s, last, parent, rel); break;
        default: break;
        }
        p->steps[s].skip = skip;
    }
}
