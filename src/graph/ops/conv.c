/*
 * conv.c - Conv: attribute import and shape inference, plus the window
 * helpers (nn_ops.h) that ConvTranspose and the pools share.
 *
 * Import reads the raw attributes once; the spatial rank is only known from
 * the input, so lengths are checked in infer. Infer is idempotent: it
 * recomputes the kernel (from W when kernel_shape is absent) and the
 * auto_pad pads from the input shapes every time it runs.
 */
#include "graph/ops/nn_ops.h"

#include <string.h>

static evo_status window_len(const evo_graph *g, const evo_node *n, const char *name, int len, int *n_spatial,
                             evo_error *err)
{
    if (len == 0)
        return EVO_OK;
    if (*n_spatial && len != *n_spatial)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"%s\" has %d values, other attributes say %d spatial dims", name,
                               len, *n_spatial);
    *n_spatial = len;
    return EVO_OK;
}

static evo_status window_positive(const evo_graph *g, const evo_node *n, const char *name, const int64_t *v,
                                  int len, int64_t min, evo_error *err)
{
    for (int i = 0; i < len; i++) {
        if (v[i] < min)
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"%s\"[%d] = %lld, expected >= %lld",
                                   name, i, (long long)v[i], (long long)min);
    }
    return EVO_OK;
}

static evo_status read_auto_pad(const evo_graph *g, const evo_node *n, evo_auto_pad *out, evo_error *err)
{
    const char *s;
    evo_status st = evo_attr_string(g, n, "auto_pad", "NOTSET", &s, err);
    if (st)
        return st;
    if (strcmp(s, "NOTSET") == 0 || s[0] == '\0')
        *out = EVO_AUTO_PAD_NOTSET;
    else if (strcmp(s, "SAME_UPPER") == 0)
        *out = EVO_AUTO_PAD_SAME_UPPER;
    else if (strcmp(s, "SAME_LOWER") == 0)
        *out = EVO_AUTO_PAD_SAME_LOWER;
    else if (strcmp(s, "VALID") == 0)
        *out = EVO_AUTO_PAD_VALID;
    else
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"auto_pad\" is \"%s\", expected NOTSET, SAME_UPPER, "
                               "SAME_LOWER or VALID",
                               s);
    return EVO_OK;
}

evo_status evo_window_import(evo_graph *g, evo_node *n, evo_window *w, evo_error *err)
{
    int64_t pads[2 * EVO_MAX_SPATIAL];
    int n_kernel, n_stride, n_dilation, n_pads;
    evo_status s;
    memset(w, 0, sizeof(*w));
    for (int i = 0; i < EVO_MAX_SPATIAL; i++)
        w->stride[i] = w->dilation[i] = 1;
    if ((s = evo_attr_ints(g, n, "kernel_shape", w->kernel, EVO_MAX_SPATIAL, &n_kernel, err)) ||
        (s = evo_attr_ints(g, n, "strides", w->stride, EVO_MAX_SPATIAL, &n_stride, err)) ||
        (s = evo_attr_ints(g, n, "dilations", w->dilation, EVO_MAX_SPATIAL, &n_dilation, err)) ||
        (s = evo_attr_ints(g, n, "pads", pads, 2 * EVO_MAX_SPATIAL, &n_pads, err)))
        return s;
    if (n_pads % 2)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE,
                               "attribute \"pads\" has %d values, expected 2 per spatial dim", n_pads);
    if ((s = window_len(g, n, "kernel_shape", n_kernel, &w->n_spatial, err)) ||
        (s = window_len(g, n, "strides", n_stride, &w->n_spatial, err)) ||
        (s = window_len(g, n, "dilations", n_dilation, &w->n_spatial, err)) ||
        (s = window_len(g, n, "pads", n_pads / 2, &w->n_spatial, err)))
        return s;
    for (int i = 0; i < n_pads / 2; i++) {
        w->pad_begin[i] = pads[i];
        w->pad_end[i] = pads[n_pads / 2 + i];
    }
    w->has_kernel = n_kernel > 0;
    if ((s = window_positive(g, n, "kernel_shape", w->kernel, n_kernel, 1, err)) ||
        (s = window_positive(g, n, "strides", w->stride, n_stride, 1, err)) ||
        (s = window_positive(g, n, "dilations", w->dilation, n_dilation, 1, err)) ||
        (s = window_positive(g, n, "pads", pads, n_pads, 0, err)))
        return s;
    return read_auto_pad(g, n, &w->auto_pad, err);
}

evo_status evo_window_resolve(const evo_graph *g, const evo_node *n, evo_window *w, int n_spatial,
                              const int64_t *in, bool ceil_mode, int64_t *out, evo_error *err)
{
    if (w->n_spatial && w->n_spatial != n_spatial)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "attributes describe %d spatial dims, input X has %d", w->n_spatial,
                               n_spatial);
    w->n_spatial = n_spatial;
    bool same = evo_auto_pad_is_same(w->auto_pad);
    for (int i = 0; i < n_spatial; i++) {
        int64_t k = w->kernel[i], s = w->stride[i];
        int64_t extent = (k - 1) * w->dilation[i] + 1; /* dilated kernel */
        int64_t total = 0;
        if (same) {
            /* out = ceil(in / stride), with just the padding that needs */
            out[i] = (in[i] + s - 1) / s;
            total = EVO_MAX((int64_t)0, (out[i] - 1) * s + extent - in[i]);
        }
        evo_pads_resolve(w->auto_pad, same, total, &w->pad_begin[i], &w->pad_end[i]);
        if (same)
            continue;
        int64_t padded = in[i] + w->pad_begin[i] + w->pad_end[i];
        if (padded < extent)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "spatial dim %d: kernel extent %lld (kernel %lld, dilation "
                                   "%lld) exceeds the padded input %lld",
                                   i, (long long)extent, (long long)k, (long long)w->dilation[i],
                                   (long long)padded);
        out[i] = (padded - extent) / s + 1;
        /* ceil_mode: a last, partial window counts if it starts inside input or left pad */
        if (ceil_mode && (padded - extent) % s != 0 && out[i] * s < in[i] + w->pad_begin[i])
            out[i]++;
    }
    return EVO_OK;
}

void evo_pads_resolve(evo_auto_pad auto_pad, bool from_total, int64_t total, int64_t *pad_begin,
                      int64_t *pad_end)
{
    if (from_total) {
        int64_t small = total / 2;
        *pad_begin = auto_pad == EVO_AUTO_PAD_SAME_UPPER ? small : total - small;
        *pad_end = total - *pad_begin;
    } else if (auto_pad == EVO_AUTO_PAD_VALID) {
        *pad_begin = *pad_end = 0;
    }
}

evo_status evo_nn_float_input(evo_graph *g, const evo_node *n, int i, int rank_min, int rank_max,
                              evo_error *err)
{
    static const char *const names[] = {"X", "W", "B", "input 3", "input 4"};
    const char *name = i < 5 ? names[i] : "input";
    const evo_value *v = evo_node_input(g, n, i);
    if (!v)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (%s) is missing", i, name);
    if (v->dtype != EVO_DTYPE_FLOAT)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d has type %s, only float32 is supported", i,
                               evo_dtype_name(v->dtype));
    if (v->rank < rank_min || (rank_max >= 0 && v->rank > rank_max)) {
        char buf[128];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input %d shape %s has rank %d, expected rank %d..%d", i,
                               evo_dims_str(v->dims, v->rank, buf, sizeof(buf)), v->rank, rank_min,
                               rank_max < 0 ? EVO_MAX_RANK : rank_max);
    }
    return EVO_OK;
}

evo_status evo_conv_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    evo_window w;
    evo_status s = evo_window_import(g, n, &w, err);
    if (s)
        return s;
    memset(c, 0, sizeof(*c));
    if ((s = evo_attr_int(g, n, "group", 1, &c->group, err)))
        return s;
    if (c->group < 1)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"group\" = %lld, expected >= 1",
                               (long long)c->group);
    c->n_spatial = w.n_spatial;
    evo_conv_set_window(c, &w);
    return EVO_OK;
}

/* Checks W = [M, C/group, k...] and B (input bias_input, -1: none) = [M]; fills the kernel from W when absent. */
static evo_status conv_check_weights(evo_graph *g, evo_node *n, const evo_value *x, const evo_value *wv,
                                     int bias_input, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    int n_spatial = x->rank - 2;
    char sw[128];
    evo_dims_str(wv->dims, wv->rank, sw, sizeof(sw));
    if (wv->rank != x->rank)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input W shape %s has rank %d, expected rank %d like X", sw, wv->rank,
                               x->rank);
    if (x->dims[1] % c->group != 0 || wv->dims[1] * c->group != x->dims[1] || wv->dims[0] % c->group != 0 ||
        wv->dims[0] < 1)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                               "input W shape %s, expected [M, C/group=%lld/%lld, k...] with M a "
                               "multiple of group",
                               sw, (long long)x->dims[1], (long long)c->group);
    bool has_kernel = c->n_spatial == n_spatial && c->kernel[0] > 0;
    for (int i = 0; i < n_spatial; i++) {
        if (has_kernel && c->kernel[i] != wv->dims[2 + i])
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "attribute kernel_shape[%d] = %lld but W shape is %s", i,
                                   (long long)c->kernel[i], sw);
        if (wv->dims[2 + i] < 1)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input W shape %s has an empty kernel", sw);
    }
    const evo_value *b = bias_input >= 0 ? evo_node_input(g, n, bias_input) : NULL;
    if (b && (b->rank != 1 || b->dims[0] != wv->dims[0])) {
        char sb[128];
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input B shape %s, expected [%lld]",
                               evo_dims_str(b->dims, b->rank, sb, sizeof(sb)), (long long)wv->dims[0]);
    }
    return EVO_OK;
}

evo_status evo_conv_geometry(evo_graph *g, evo_node *n, const evo_value *x, const evo_value *wv, int bias_input,
                              int64_t *dims, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    int n_spatial = x->rank - 2;
    evo_status s = conv_check_weights(g, n, x, wv, bias_input, err);
    if (s)
        return s;
    evo_window w = {c->n_spatial, true, {0}, {0}, {0}, {0}, {0}, c->auto_pad};
    for (int i = 0; i < EVO_MAX_SPATIAL; i++) {
        w.kernel[i] = i < n_spatial ? wv->dims[2 + i] : 1;
        w.stride[i] = c->stride[i];
        w.dilation[i] = c->dilation[i];
        w.pad_begin[i] = c->pad_begin[i];
        w.pad_end[i] = c->pad_end[i];
    }
    if ((s = evo_window_resolve(g, n, &w, n_spatial, x->dims + 2, false, dims + 2, err)))
        return s;
    c->n_spatial = n_spatial;
    memcpy(c->kernel, w.kernel, sizeof(c->kernel));
    memcpy(c->pad_begin, w.pad_begin, sizeof(c->pad_begin));
    memcpy(c->pad_end, w.pad_end, sizeof(c->pad_end));
    dims[0] = x->dims[0];
    dims[1] = wv->dims[0];
    return EVO_OK;
}

void evo_conv_set_window(evo_conv_attrs *c, const evo_window *w)
{
    memcpy(c->kernel, w->kernel, sizeof(c->kernel));
    memcpy(c->stride, w->stride, sizeof(c->stride));
    memcpy(c->dilation, w->dilation, sizeof(c->dilation));
    memcpy(c->pad_begin, w->pad_begin, sizeof(c->pad_begin));
    memcpy(c->pad_end, w->pad_end, sizeof(c->pad_end));
    c->auto_pad = w->auto_pad;
    c->act = EVO_ACT_NONE;
}

evo_status evo_conv_float_inputs(evo_graph *g, const evo_node *n, evo_error *err)
{
    evo_status s = evo_check_arity(g, n, 2, n->a.conv.has_residual ? 4 : 3, 1, err);
    if (s || (s = evo_nn_float_input(g, n, 0, 3, 2 + EVO_MAX_SPATIAL, err)) ||
        (s = evo_nn_float_input(g, n, 1, 0, -1, err)))
        return s;
    if (evo_node_input(g, n, 2) && (s = evo_nn_float_input(g, n, 2, 1, 1, err)))
        return s;
    return EVO_OK;
}

static evo_status conv_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_conv_attrs *c = &n->a.conv;
    evo_status s = evo_conv_float_inputs(g, n, err);
    if (s)
        return s;
    const evo_value *x = evo_node_input(g, n, 0), *wv = evo_node_input(g, n, 1);
    int n_spatial = x->rank - 2;
    int64_t dims[EVO_MAX_RANK];
    if ((s = evo_conv_geometry(g, n, x, wv, 2, dims, err)))
        return s;
    int rank = x->rank;
    if (c->out_groups > 0) { /* [N, G, H, W, C / G] */
        if (n_spatial != 2 || c->has_residual || dims[1] % c->out_groups != 0)
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE,
                                   "out_groups %lld needs a 2-D conv without a fused residual and output "
                                   "channels (%lld) divisible by it",
                                   (long long)c->out_groups, (long long)dims[1]);
        dims[4] = dims[1] / c->out_groups;
        dims[1] = c->out_groups;
        rank = 5;
    }

    if (c->has_residual) {
        const evo_value *r = evo_node_input(g, n, 3);
        if (!r || r->dtype != EVO_DTYPE_FLOAT || r->rank != x->rank ||
            memcmp(r->dims, dims, sizeof(int64_t) * (size_t)x->rank) != 0)
            return evo_node_errorf(err, g, n, EVO_ERR_INTERNAL,
                                   "fused residual input 3 does not match the output shape");
    }
    int64_t count;
    if (!evo_dims_count(dims, rank, EVO_MAX_ELEMENTS, &count))
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output has too many elements");
    evo_node_set_output(g, n, 0, EVO_DTYPE_FLOAT, rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_conv = {evo_conv_import, conv_infer};
