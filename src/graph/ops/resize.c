/*
 * resize.c - Resize (opsets 10, 11, 13, 18, 19) and Upsample (7: scales
 * attribute, 9: scales input). Shape inference turns the constant scales or
 * sizes (an empty name or an empty tensor means absent), roi and axes into a
 * per-axis scale, the output dims and the roi, exactly as the ONNX reference
 * does: out = floor(in * scale) from scales, scale = out / in (in double)
 * from sizes. Upsample and Resize-10 use asymmetric coordinates with floor
 * for nearest. Linear and cubic need float32; nearest moves bytes, so it
 * takes any fixed-size type.
 */
#include "graph/ops/tensor_common.h"

#include <math.h>
#include <string.h>

typedef struct name_code {
    const char *name;
    int code;
} name_code;

static const name_code modes[] = {
    {"nearest", EVO_RESIZE_NEAREST}, {"linear", EVO_RESIZE_LINEAR}, {"bilinear", EVO_RESIZE_LINEAR},
    {"cubic", EVO_RESIZE_CUBIC},     {NULL, 0}};
static const name_code coords[] = {
    {"half_pixel", EVO_COORD_HALF_PIXEL},
    {"half_pixel_symmetric", EVO_COORD_HALF_PIXEL_SYMMETRIC},
    {"pytorch_half_pixel", EVO_COORD_PYTORCH_HALF_PIXEL},
    {"align_corners", EVO_COORD_ALIGN_CORNERS},
    {"asymmetric", EVO_COORD_ASYMMETRIC},
    {"tf_half_pixel_for_nn", EVO_COORD_TF_HALF_PIXEL_FOR_NN},
    {"tf_crop_and_resize", EVO_COORD_TF_CROP_AND_RESIZE},
    {NULL, 0}};
static const name_code nearests[] = {{"round_prefer_floor", EVO_NEAREST_ROUND_PREFER_FLOOR},
                                     {"round_prefer_ceil", EVO_NEAREST_ROUND_PREFER_CEIL},
                                     {"floor", EVO_NEAREST_FLOOR},
                                     {"ceil", EVO_NEAREST_CEIL},
                                     {NULL, 0}};

static evo_status attr_enum(evo_graph *g, const evo_node *n, const char *attr, const char *def,
                            const name_code *table, int *out, evo_error *err)
{
    const char *s;
    evo_status st = evo_attr_string(g, n, attr, def, &s, err);
    if (st)
        return st;
    for (int i = 0; table[i].name; i++) {
        if (strcmp(s, table[i].name) == 0) {
            *out = table[i].code;
            return EVO_OK;
        }
    }
    return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "%s \"%s\" is not supported", attr, s);
}

static bool is_legacy(const evo_graph *g, const evo_node *n)
{
    return n->op == EVO_OP_UPSAMPLE || g->opset < 11;
}

static evo_status resize_import(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_resize_attrs *ra = &n->a.resize;
    memset(ra, 0, sizeof(*ra));
    int mode = 0, coord = EVO_COORD_ASYMMETRIC, nearest = EVO_NEAREST_FLOOR;
    int64_t exclude = 0, antialias = 0;
    evo_status s = attr_enum(g, n, "mode", "nearest", modes, &mode, err);
    if (!s && !is_legacy(g, n)) {
        if ((s = attr_enum(g, n, "coordinate_transformation_mode", "half_pixel", coords, &coord, err)) ||
            (s = attr_enum(g, n, "nearest_mode", "round_prefer_floor", nearests, &nearest, err)) ||
            (s = evo_attr_float(g, n, "cubic_coeff_a", -0.75f, &ra->cubic_coeff_a, err)) ||
            (s = evo_attr_int(g, n, "exclude_outside", 0, &exclude, err)) ||
            (s = evo_attr_float(g, n, "extrapolation_value", 0.0f, &ra->extrapolation_value, err)) ||
            (s = evo_attr_int(g, n, "antialias", 0, &antialias, err)))
            return s;
    }
    if (s)
        return s;
    if (is_legacy(g, n) && mode == EVO_RESIZE_CUBIC)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "mode \"cubic\" needs Resize opset 11 or later");
    if (antialias)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "antialias is not supported");
    ra->mode = (evo_resize_mode)mode;
    ra->coord = (evo_coord_mode)coord;
    ra->nearest = (evo_nearest_mode)nearest;
    ra->exclude_outside = exclude != 0;
    return EVO_OK;
}

/* The axes scales/sizes/roi refer to (opset 18 'axes'; default all). */
static evo_status resize_axes(evo_graph *g, const evo_node *n, int rank, int64_t *axes, int *n_axes,
                              evo_error *err)
{
    int64_t raw[EVO_MAX_RANK];
    evo_status s = evo_attr_ints(g, n, "axes", raw, EVO_MAX_RANK, n_axes, err);
    if (s)
        return s;
    if (*n_axes == 0) {
        *n_axes = rank;
        for (int d = 0; d < rank; d++)
            axes[d] = d;
        return EVO_OK;
    }
    bool seen[EVO_MAX_RANK] = {false};
    for (int i = 0; i < *n_axes; i++) {
        if ((s = evo_norm_axis(g, n, raw[i], rank, false, &axes[i], err)))
            return s;
        if (seen[axes[i]])
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "axis %lld appears twice in axes", (long long)raw[i]);
        seen[axes[i]] = true;
    }
    return EVO_OK;
}

/* True when optional input i is given and not an empty tensor. */
static bool has_input(evo_graph *g, const evo_node *n, int i)
{
    const evo_value *v = evo_node_input(g, n, i);
    return v && evo_value_count(v) > 0;
}

static evo_status resize_from_sizes(evo_graph *g, evo_node *n, const evo_value *x, const int64_t *axes,
                                    int n_axes, int64_t *dims, evo_error *err)
{
    evo_resize_attrs *ra = &n->a.resize;
    int64_t sizes[EVO_MAX_RANK];
    int count;
    evo_status s = evo_const_ints(g, n, 3, sizes, EVO_MAX_RANK, &count, err);
    if (s)
        return s;
    if (count != n_axes)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "sizes has %d values, expected %d", count, n_axes);
    int policy = 0;
    static const name_code policies[] = {{"stretch", 0}, {"not_larger", 1}, {"not_smaller", 2}, {NULL, 0}};
    if ((s = attr_enum(g, n, "keep_aspect_ratio_policy", "stretch", policies, &policy, err)))
        return s;
    double keep = policy == 1 ? INFINITY : 0;
    for (int i = 0; i < n_axes; i++) {
        int64_t in = x->dims[axes[i]];
        if (sizes[i] < 0 || (in == 0 && sizes[i] != 0))
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "size %lld for axis %lld of size %lld is invalid",
                                   (long long)sizes[i], (long long)axes[i], (long long)in);
        double r = in ? (double)sizes[i] / (double)in : 1.0;
        keep = policy == 1 ? fmin(keep, r) : fmax(keep, r);
        dims[axes[i]] = sizes[i];
        ra->scale[axes[i]] = (float)r;
    }
    ra->scale_is_ratio = policy == 0;
    if (policy != 0) {
        for (int i = 0; i < n_axes; i++) {
            dims[axes[i]] = (int64_t)floor(keep * (double)x->dims[axes[i]] + 0.5);
            ra->scale[axes[i]] = (float)keep;
        }
    }
    return EVO_OK;
}

static evo_status resize_from_scales(evo_graph *g, evo_node *n, const evo_value *x, int input,
                                     const int64_t *axes, int n_axes, int64_t *dims, evo_error *err)
{
    evo_resize_attrs *ra = &n->a.resize;
    float scales[EVO_MAX_RANK];
    int count;
    evo_status s = input < 0 ? evo_attr_floats(g, n, "scales", scales, EVO_MAX_RANK, &count, err)
                             : evo_const_floats(g, n, input, scales, EVO_MAX_RANK, &count, err);
    if (s)
        return s;
    if (count != n_axes)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "scales has %d values, expected %d", count, n_axes);
    for (int i = 0; i < n_axes; i++) {
        if (!(scales[i] > 0) || !isfinite(scales[i]))
            return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "scale %g for axis %lld must be positive",
                                   (double)scales[i], (long long)axes[i]);
        double out = floor((double)x->dims[axes[i]] * (double)scales[i]);
        if (out > (double)EVO_MAX_ELEMENTS)
            return evo_node_errorf(err, g, n, EVO_ERR_LIMIT, "output dim %g is too large", out);
        dims[axes[i]] = (int64_t)out;
        ra->scale[axes[i]] = scales[i];
    }
    return EVO_OK;
}

static evo_status resize_roi(evo_graph *g, evo_node *n, int rank, const int64_t *axes, int n_axes,
                             evo_error *err)
{
    evo_resize_attrs *ra = &n->a.resize;
    for (int d = 0; d < rank; d++) {
        ra->roi_start[d] = 0;
        ra->roi_end[d] = 1;
    }
    if (ra->coord != EVO_COORD_TF_CROP_AND_RESIZE || !has_input(g, n, 1))
        return EVO_OK;
    float roi[2 * EVO_MAX_RANK];
    int count;
    evo_status s = evo_const_floats(g, n, 1, roi, 2 * EVO_MAX_RANK, &count, err);
    if (s)
        return s;
    if (count != 2 * n_axes)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "roi has %d values, expected %d", count, 2 * n_axes);
    for (int i = 0; i < n_axes; i++) {
        ra->roi_start[axes[i]] = roi[i];
        ra->roi_end[axes[i]] = roi[i + n_axes];
    }
    return EVO_OK;
}

static evo_status resize_infer(evo_graph *g, evo_node *n, evo_error *err)
{
    evo_resize_attrs *ra = &n->a.resize;
    bool attr_scales = n->op == EVO_OP_UPSAMPLE && g->opset < 9;
    int max_in = attr_scales ? 1 : is_legacy(g, n) ? 2 : 4;
    evo_status s = evo_check_arity(g, n, max_in == 4 ? 1 : max_in, max_in, 1, err);
    if (s || (s = evo_tensor_input_check(g, n, 0, err)))
        return s;
    const evo_value *x = evo_node_input(g, n, 0);
    if (ra->mode != EVO_RESIZE_NEAREST && x->dtype != EVO_DTYPE_FLOAT)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "%s mode needs float32 input, got %s",
                               ra->mode == EVO_RESIZE_LINEAR ? "linear" : "cubic", evo_dtype_name(x->dtype));
    int64_t axes[EVO_MAX_RANK], dims[EVO_MAX_RANK];
    int n_axes;
    if ((s = resize_axes(g, n, x->rank, axes, &n_axes, err)))
        return s;
    for (int d = 0; d < x->rank; d++) {
        dims[d] = x->dims[d];
        ra->scale[d] = 1.0f;
    }
    ra->scale_is_ratio = false;
    int scales_in = attr_scales ? -1 : is_legacy(g, n) ? 1 : 2;
    bool sizes = !is_legacy(g, n) && has_input(g, n, 3);
    bool scales = attr_scales || has_input(g, n, scales_in);
    if (sizes == scales)
        return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "exactly one of scales and sizes must be given");
    s = sizes ? resize_from_sizes(g, n, x, axes, n_axes, dims, err)
              : resize_from_scales(g, n, x, scales_in, axes, n_axes, dims, err);
    if (s || (s = resize_roi(g, n, x->rank, axes, n_axes, err)))
        return s;
    evo_node_set_output(g, n, 0, x->dtype, x->rank, dims);
    return EVO_OK;
}

const evo_op_def evo_opdef_resize = {resize_import, resize_infer};
