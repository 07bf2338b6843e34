/*
 * conv_transpose.c - ConvTranspose: attribute import and shape inference.
 *
 * W is [C, M/group, k...]. Per spatial dim the full output is
 * stride*(in-1) + output_padding + (k-1)*dilation + 1; pads crop it. When
 * output_shape is given (or auto_pad is SAME_*, which asks for in*stride)
 * the pads are derived from the requested size: SAME_UPPER puts the
 * smaller half first, otherwise the larger half goes first (ONNX spec).
 */
#include "graph/ops/nn_ops.h"

#include <string.h>

static evo_status conv_transpose_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    evo_window w;
    int64_t out_pad[EVO_MAX_SPATIAL], out_shape[EVO_MAX_SPATIAL + 2];
    int n_out_pad, n_out_shape;
    evo_status s = evo_window_import(g, n, &w, err);
    if (s)
        return s;
    memset(c, 0, sizeof(*c));
    if ((s = evo_attr_int(g, n, "group", 1, &c->group, err)) ||
        (s = evo_attr_ints(g, n, "output_padding", out_pad, EVO_MAX_SPATIAL, &n_out_pad, err)) ||
        (s = evo_attr_ints(g, n, "output_shape", out_shape, EVO_MAX_SPATIAL + 2, &n_out_shape, err)))
        return s;
    if (c->group < 1)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"group\" = %lld, expected >= 1",
                               (long long)c->group);
    if (n_out_pad && w.n_spatial && n_out_pad != w.n_spatial)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"output_padding\" has %d values, expected %d", n_out_pad,
                               w.n_spatial);
    for (int i = 0; i < n_out_pad; i++) {
        if (out_pad[i] < 0)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                   "attribute \"output_padding\"[%d] = %lld, expected >= 0", i,
                                   (long long)out_pad[i]);
        c->output_padding[i] = out_pad[i];
    }
    c->n_spatial = w.n_spatial ? w.n_spatial : n_out_pad;
    if (n_out_shape) {
        /* Some exporters write [N, C, spatial...]; keep the spatial tail. */
        int ns = n_out_shape > EVO_MAX_SPATIAL || (c->n_spatial && n_out_shape == c->n_spatial + 2)
                     ? n_out_shape - 2
                     : n_out_shape;
        for (int i = 0; i < ns; i++) {
            c->output_shape[i] = out_shape[n_out_shape - ns + i];
            if (c->output_shape[i] < 1)
                return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                       "attribute \"output_shape\" has a value < 1");
        }
        c->has_output_shape = true;
        if (c->n_spatial && ns != c->n_spatial)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                                   "attribute \"output_shape\" has %d spatial values, expected %d", ns,
                                   c->n_spatial);
        c->n_spatial = ns;
    }
    evo_conv_set_window(c, &w);
    return EVO_OK;
}

static evo_status check_weights(evo_graph *g, evo_node *n, const evo_value *x, const evo_value *w,
                                evo_error *err)
{
    const evo_conv_attrs *c = &n->a.conv;
    char sw[128];
    evo_dims_str(w->dims, w->rank, sw, sizeof(sw));
    if (w->rank != x->rank)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input W shape %s has rank %d, expected rank %d like X", sw, w->rank, x->rank);
    if (w->dims[0] != x->dims[1] || x->dims[1] % c->group != 0 || w->dims[1] < 1)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input W shape %s, expected [C=%lld, M/group, k...] with C a "
                               "multiple of group=%lld",
                               sw, (long long)x->dims[1], (long long)c->group);
    bool has_kernel = c->kernel[0] > 0;
    for (int i = 0; i < x->rank - 2; i++) {
        if ((has_kernel && c->kernel[i] != w->dims[2 + i]) || w->dims[2 + i] < 1)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "kernel_shape[%d] = %lld does not match W shape %s", i,
                                   (long long)c->kernel[i], sw);
    }
    const evo_value *b = evo_node_input(g, n, 2);
    if (b && (b->rank != 1 || b->dims[0] != w->dims[1] * c->group)) {
        char sb[128];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input B shape %s, expected [%lld]",
                               evo_dims_str(b->dims, b->rank, sb, sizeof(sb)),
                               (long long)(w->dims[1] * c->group));
    }
    return EVO_OK;
}

/* Resolves pads and the output extent of spatial dim i. */
static evo_status resolve_dim(evo_graph *g, evo_node *n, int i, int64_t in, int64_t *out, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    int64_t s = c->stride[i], ext = (c->kernel[i] - 1) * c->dilation[i] + 1;
    int64_t full = s * (in - 1) + c->output_padding[i] + ext;
    bool from_total = c->has_output_shape || evo_auto_pad_is_same(c->auto_pad);
    int64_t total = 0;
    if (from_total) {
        *out = c->has_output_shape ? c->output_shape[i] : in * s;
        /* A requested size beyond the full extent is bias-only there (as ONNX Runtime does). */
        total = EVO_MAX(full - *out, (int64_t)0);
    }
    evo_pads_resolve(c->auto_pad, from_total, total, &c->pad_begin[i], &c->pad_end[i]);
    if (from_total)
        return EVO_OK;
    *out = full - c->pad_begin[i] - c->pad_end[i];
    if (*out < 1)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "spatial dim %d: pads %lld+%lld leave no output of extent %lld", i,
                               (long long)c->pad_begin[i], (long long)c->pad_end[i], (long long)full);
    return EVO_OK;
}

static evo_status conv_transpose_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    evo_status s = evo_conv_float_inputs(g, n, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0), *w = evo_node_input(g, n, 1);
    int ns = x->rank - 2;
    if (c->n_spatial && c->n_spatial != ns)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "attributes describe %d spatial dims, input X has %d", c->n_spatial, ns);
    if ((s = check_weights(g, n, x, w, err)))
        return s;
    c->n_spatial = ns;
    int64_t dims[EVO_MAX_RANK] = {x->dims[0], w->dims[1] * c->group};
    for (int i = 0; i < EVO_MAX_SPATIAL; i++)
        c->kernel[i] = i < ns ? w->dims[2 + i] : 1;
    for (int i = 0; i < ns; i++) {
        if ((s = resolve_dim(g, n, i, x->dims[2 + i], &dims[2 + i], err)))
            return s;
    }
    if (c->has_residual) {
        const evo_value *r = evo_node_input(g, n, 3);
        if (!r || r->rank != x->rank || memcmp(r->dims, dims, sizeof(int64_t) * (size_t)x->rank) != 0)
            return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL,
                                   "fused residual input 3 does not match the output shape");
    }
    int64_t count;
    if (!evo_dims_count(dims, x->rank, EVO_MAX_ELEMENTS, &count))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output has too many elements");
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_conv_transpose = {conv_transpose_import, conv_transpose_infer};
