/*
 * cmd_verify.c - `evo verify`: a self-check of this machine. Prints the CPU
 * and the ISA evo will use, measures the FMA peak per core and for all
 * cores, runs a set of small graphs (the layer shapes detection models are
 * made of) with every kernel tier the CPU allows and compares each against
 * the portable reference kernels, and measures a large convolution's
 * GFLOP/s as a share of the peak. Exit 1 if any check fails.
 */
#include "cli.h"
#include "core/cpu.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "passes/passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct check {
    const char *name;
    void (*build)(evo_builder *b);
} check;

static void build_conv3x3_silu(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 37, 29, 31});
    evo_build_weight(b, "w", 4, (int64_t[]){53, 37, 3, 3}, 0.1f);
    evo_build_weight(b, "bias", 1, (int64_t[]){53}, 0.5f);
    evo_build_node(b, "Conv", "x w bias", "c", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Sigmoid", "c", "s", NULL);
    evo_build_node(b, "Mul", "c s", "y", NULL);
    evo_build_output(b, "y");
}

static void build_conv1x1_residual(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 64, 40, 40});
    evo_build_weight(b, "w", 4, (int64_t[]){64, 64, 1, 1}, 0.1f);
    evo_build_node(b, "Conv", "x w", "c", NULL);
    evo_build_node(b, "Relu", "c", "r", NULL);
    evo_build_node(b, "Add", "r x", "y", NULL);
    evo_build_output(b, "y");
}

static void build_conv_add_relu(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 24, 14, 14});
    evo_build_weight(b, "w", 4, (int64_t[]){24, 24, 3, 3}, 0.1f);
    evo_build_weight(b, "bias", 1, (int64_t[]){24}, 0.5f);
    evo_build_node(b, "Conv", "x w bias", "c", "kernel_shape=3,3 pads=1,1,1,1");
    evo_build_node(b, "Add", "c x", "a", NULL);
    evo_build_node(b, "Relu", "a", "y", NULL);
    evo_build_output(b, "y");
}

static void build_conv3x3_s2(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 32, 47, 45});
    evo_build_weight(b, "w", 4, (int64_t[]){48, 32, 3, 3}, 0.1f);
    evo_build_node(b, "Conv", "x w", "y", "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
    evo_build_output(b, "y");
}

/* 128 channels on 20x20 outputs: Winograd F(2x2, 3x3) by parity */
static void build_conv3x3_s2_wide(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 128, 40, 39});
    evo_build_weight(b, "w", 4, (int64_t[]){128, 128, 3, 3}, 0.05f);
    evo_build_node(b, "Conv", "x w", "y", "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
    evo_build_output(b, "y");
}

/* YOLOv5's stem and next conv: a fused pair once the middle passes 4 MB */
static void build_stem_pair(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 400, 400});
    evo_build_weight(b, "w", 4, (int64_t[]){32, 3, 6, 6}, 0.2f);
    evo_build_weight(b, "w2", 4, (int64_t[]){64, 32, 3, 3}, 0.05f);
    evo_build_node(b, "Conv", "x w", "m", "kernel_shape=6,6 strides=2,2 pads=2,2,2,2");
    evo_build_node(b, "Relu", "m", "r", NULL);
    evo_build_node(b, "Conv", "r w2", "y", "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
    evo_build_output(b, "y");
}

/* YOLOv5's box decoding: Split, scale two parts, Concat (an in-place slice update) */
static void build_decode(evo_builder *b)
{
    evo_build_input(b, "x", 5, (int64_t[]){1, 3, 8, 9, 11});
    evo_build_ints(b, "sizes", 3, (int64_t[]){2, 2, 7});
    evo_build_weight(b, "k", 1, (int64_t[]){2}, 2.0f);
    evo_build_node(b, "Sigmoid", "x", "s", NULL);
    evo_build_node(b, "Split", "s sizes", "xy wh conf", "axis=4");
    evo_build_node(b, "Mul", "xy k", "xy2", NULL);
    evo_build_node(b, "Mul", "wh wh", "wh2", NULL);
    evo_build_node(b, "Concat", "xy2 wh2 conf", "y", "axis=4");
    evo_build_output(b, "y");
}

/* YOLO's head permute (a batch of 2-D transposes, odd sides), then a channel shuffle (runs of 231). */
static void build_transpose(evo_builder *b)
{
    evo_build_input(b, "x", 5, (int64_t[]){1, 3, 21, 13, 11});
    evo_build_node(b, "Transpose", "x", "t", "perm=0,1,3,4,2");
    evo_build_node(b, "Sigmoid", "t", "s", NULL);
    evo_build_node(b, "Transpose", "s", "y", "perm=0,2,1,3,4");
    evo_build_output(b, "y");
}

static void build_stem6x6(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 3, 64, 96});
    evo_build_weight(b, "w", 4, (int64_t[]){16, 3, 6, 6}, 0.2f);
    evo_build_node(b, "Conv", "x w", "y", "kernel_shape=6,6 strides=2,2 pads=2,2,2,2");
    evo_build_output(b, "y");
}

static void build_depthwise(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 24, 37, 53});
    evo_build_weight(b, "w", 4, (int64_t[]){24, 1, 3, 3}, 0.3f);
    evo_build_weight(b, "w2", 4, (int64_t[]){24, 1, 5, 5}, 0.2f);
    evo_build_node(b, "Conv", "x w", "c", "kernel_shape=3,3 pads=1,1,1,1 group=24");
    evo_build_node(b, "Relu", "c", "r", NULL);
    evo_build_node(b, "Conv", "r w2", "y", "kernel_shape=5,5 strides=2,2 pads=2,2,2,2 group=24");
    evo_build_output(b, "y");
}

static void build_sppf(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 24, 20, 20});
    evo_build_node(b, "MaxPool", "x", "p1", "kernel_shape=5,5 pads=2,2,2,2");
    evo_build_node(b, "MaxPool", "p1", "p2", "kernel_shape=5,5 pads=2,2,2,2");
    evo_build_node(b, "Concat", "x p1 p2", "y", "axis=1");
    evo_build_output(b, "y");
}

static void build_upsample_concat(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 16, 10, 12});
    evo_build_input(b, "skip", 4, (int64_t[]){1, 8, 20, 24});
    evo_build_weight(b, "scales", 1, (int64_t[]){4}, 0.0f);
    float *sc = (float *)b->g->values[evo_graph_find_value(b->g, "scales")].data;
    sc[0] = 1, sc[1] = 1, sc[2] = 2, sc[3] = 2;
    evo_build_node(b, "Resize", "x _ scales", "u", NULL);
    evo_build_node(b, "Concat", "u skip", "y", "axis=1");
    evo_build_output(b, "y");
}

static void build_resize_linear(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 24, 13, 13});
    evo_build_weight(b, "scales", 1, (int64_t[]){4}, 0.0f);
    float *sc = (float *)b->g->values[evo_graph_find_value(b->g, "scales")].data;
    sc[0] = 1, sc[1] = 1, sc[2] = 2, sc[3] = 2;
    evo_build_node(b, "Resize", "x _ scales", "u", "mode=linear");
    evo_build_node(b, "Resize", "u _ scales", "y", "mode=nearest coordinate_transformation_mode=half_pixel");
    evo_build_output(b, "y");
}

static void build_gemm(evo_builder *b)
{
    evo_build_input(b, "x", 2, (int64_t[]){3, 200});
    evo_build_weight(b, "w", 2, (int64_t[]){100, 200}, 0.1f);
    evo_build_weight(b, "c", 1, (int64_t[]){100}, 1.0f);
    evo_build_node(b, "Gemm", "x w c", "y", "transB=1");
    evo_build_output(b, "y");
}

static void build_elementwise(evo_builder *b)
{
    evo_build_input(b, "x", 4, (int64_t[]){1, 13, 17, 19});
    evo_build_weight(b, "s", 4, (int64_t[]){1, 13, 1, 1}, 1.0f);
    evo_build_node(b, "Mul", "x s", "m", NULL);
    evo_build_node(b, "Sigmoid", "m", "g", NULL);
    evo_build_node(b, "Sub", "g x", "y", NULL);
    evo_build_output(b, "y");
}

/*
 * x -> QuantizeLinear -> QLinearConv (int8 weights with per-channel
 * scales, int32 bias, "same" pads) -> DequantizeLinear: the int8 kernels
 * are exact, so every tier must match the reference bit for bit.
 */
static void build_qconv(evo_builder *b, int64_t ci, int64_t co, int64_t h, int64_t w, int64_t k, int64_t stride,
                        int64_t group, bool s8)
{
    evo_dtype t = s8 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    int64_t one[1] = {1}, cd[1] = {co};
    float xs = 2.0f / 255.0f, ws[256], ys = 0.0f;
    int32_t bias[256];
    uint8_t xzp = s8 ? (uint8_t)(int8_t)-3 : 131, yzp = s8 ? (uint8_t)(int8_t)5 : 120;
    for (int64_t c = 0; c < co && c < 256; c++) {
        ws[c] = 0.002f + 0.0005f * (float)(c % 7);
        bias[c] = (int32_t)((c * 7919) % 4001) - 2000;
        ys = fmaxf(ys, ws[c]);
    }
    /* outputs spread over about +-100 steps: acc ~ sqrt(K) * 75 * 73 */
    ys *= xs * 75.0f * 73.0f * sqrtf((float)(ci / group * k * k)) / 100.0f;
    evo_build_input(b, "x", 4, (int64_t[]){1, ci, h, w});
    evo_build_const(b, "xs", EVO_DTYPE_FLOAT, 0, one, &xs);
    evo_build_const(b, "xzp", t, 0, one, &xzp);
    evo_build_qweight(b, "w", 4, (int64_t[]){co, ci / group, k, k});
    evo_build_const(b, "ws", EVO_DTYPE_FLOAT, 1, cd, ws);
    evo_build_const(b, "wzp", EVO_DTYPE_INT8, 1, cd, NULL);
    evo_build_const(b, "ys", EVO_DTYPE_FLOAT, 0, one, &ys);
    evo_build_const(b, "yzp", t, 0, one, &yzp);
    evo_build_const(b, "bias", EVO_DTYPE_INT32, 1, cd, bias);
    char attrs[128];
    int64_t p0 = (k - 1) / 2, p1 = k / 2;
    snprintf(attrs, sizeof(attrs), "kernel_shape=%lld,%lld strides=%lld,%lld pads=%lld,%lld,%lld,%lld group=%lld",
             (long long)k, (long long)k, (long long)stride, (long long)stride, (long long)p0, (long long)p0,
             (long long)p1, (long long)p1, (long long)group);
    evo_build_node(b, "QuantizeLinear", "x xs xzp", "xq", NULL);
    evo_build_node(b, "QLinearConv", "xq xs xzp w ws wzp ys yzp bias", "yq", attrs);
    evo_build_node(b, "DequantizeLinear", "yq ys yzp", "y", NULL);
    evo_build_output(b, "y");
}

static void build_qconv1x1(evo_builder *b)
{
    build_qconv(b, 64, 72, 20, 21, 1, 1, 1, false);
}

static void build_qconv3x3(evo_builder *b)
{
    build_qconv(b, 37, 53, 29, 31, 3, 1, 1, true);
}

static void build_qconv3x3_s2(evo_builder *b)
{
    build_qconv(b, 32, 48, 47, 45, 3, 2, 1, false);
}

static void build_qconv_grouped(evo_builder *b)
{
    build_qconv(b, 36, 44, 23, 19, 3, 2, 4, true);
}

/* x [1, 37, 45] -> QuantizeLinear -> QLinearMatMul by int8 B [45, 50] (per-column scales) -> DequantizeLinear. */
static void build_qmatmul(evo_builder *b)
{
    int64_t one[1] = {1}, nd[1] = {50};
    float xs = 2.0f / 255.0f, ws[50], ys = 0.0f;
    uint8_t xzp = 129, yzp = 117;
    for (int c = 0; c < 50; c++) {
        ws[c] = 0.002f + 0.0005f * (float)(c % 5);
        ys = fmaxf(ys, ws[c]);
    }
    ys *= xs * 75.0f * 73.0f * sqrtf(45.0f) / 100.0f;
    evo_build_input(b, "x", 3, (int64_t[]){1, 37, 45});
    evo_build_const(b, "xs", EVO_DTYPE_FLOAT, 0, one, &xs);
    evo_build_const(b, "xzp", EVO_DTYPE_UINT8, 0, one, &xzp);
    evo_build_qweight(b, "w", 2, (int64_t[]){45, 50});
    evo_build_const(b, "ws", EVO_DTYPE_FLOAT, 1, nd, ws);
    evo_build_const(b, "wzp", EVO_DTYPE_INT8, 1, nd, NULL);
    evo_build_const(b, "ys", EVO_DTYPE_FLOAT, 0, one, &ys);
    evo_build_const(b, "yzp", EVO_DTYPE_UINT8, 0, one, &yzp);
    evo_build_node(b, "QuantizeLinear", "x xs xzp", "xq", NULL);
    evo_build_node(b, "QLinearMatMul", "xq xs xzp w ws wzp ys yzp", "yq", NULL);
    evo_build_node(b, "DequantizeLinear", "yq ys yzp", "y", NULL);
    evo_build_output(b, "y");
}

static void build_qconv_dw(evo_builder *b)
{
    build_qconv(b, 24, 24, 37, 53, 3, 1, 24, true);
}

static void build_qconv_dw5_s2(evo_builder *b)
{
    build_qconv(b, 40, 40, 26, 27, 5, 2, 40, false);
}

/*
 * x -> QuantizeLinear -> MaxPool 5x5 -> MaxPool 3x3 stride 2 -> Resize 2x
 * nearest -> DequantizeLinear, all on bytes: exact, like the int8 convs.
 */
static void build_qpool_resize(evo_builder *b, bool s8)
{
    evo_dtype t = s8 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8;
    int64_t one[1] = {1}, four[1] = {4};
    float xs = 0.0157f, scales[4] = {1, 1, 2, 2};
    uint8_t xzp = s8 ? (uint8_t)(int8_t)-3 : 128;
    evo_build_input(b, "x", 4, (int64_t[]){1, 24, 13, 27});
    evo_build_const(b, "xs", EVO_DTYPE_FLOAT, 0, one, &xs);
    evo_build_const(b, "xzp", t, 0, one, &xzp);
    evo_build_const(b, "scales", EVO_DTYPE_FLOAT, 1, four, scales);
    evo_build_node(b, "QuantizeLinear", "x xs xzp", "xq", NULL);
    evo_build_node(b, "MaxPool", "xq", "p1", "kernel_shape=5,5 pads=2,2,2,2");
    evo_build_node(b, "MaxPool", "p1", "p2", "kernel_shape=3,3 strides=2,2 pads=1,1,1,1");
    evo_build_node(b, "Resize", "p2 _ scales", "u", NULL);
    evo_build_node(b, "DequantizeLinear", "u xs xzp", "y", NULL);
    evo_build_output(b, "y");
}

static void build_qpool_u8(evo_builder *b)
{
    build_qpool_resize(b, false);
}

static void build_qpool_s8(evo_builder *b)
{
    build_qpool_resize(b, true);
}

/*
 * x, quantized at two scales -> QLinearAdd (residual, fused ReLU) ->
 * QLinearMul by a quantized [1, C, 1, 1] gate (squeeze-excite) ->
 * DequantizeLinear, both in FIXED requantization: exact.
 */
static void build_qbinary(evo_builder *b)
{
    const evo_dtype t = EVO_DTYPE_UINT8;
    int64_t one[1] = {1};
    float xs = 0.0157f, x2s = 0.011f, gs = 0.0078f, as = 0.02f, ms = 0.013f;
    uint8_t xz = 128, x2z = 120, gz = 128, az = 0, mz = 3;
    evo_build_input(b, "x", 4, (int64_t[]){1, 24, 13, 27});
    evo_build_input(b, "g", 4, (int64_t[]){1, 24, 1, 1});
    const char *names[] = {"xs", "x2s", "gs", "as", "ms"};
    const float *sc[] = {&xs, &x2s, &gs, &as, &ms};
    const char *znames[] = {"xz", "x2z", "gz", "az", "mz"};
    const uint8_t *zp[] = {&xz, &x2z, &gz, &az, &mz};
    for (int i = 0; i < 5; i++) {
        evo_build_const(b, names[i], EVO_DTYPE_FLOAT, 0, one, sc[i]);
        evo_build_const(b, znames[i], t, 0, one, zp[i]);
    }
    evo_build_node(b, "QuantizeLinear", "x xs xz", "xq", NULL);
    evo_build_node(b, "QuantizeLinear", "x x2s x2z", "xq2", NULL);
    evo_build_node(b, "QuantizeLinear", "g gs gz", "gq", NULL);
    evo_build_node(b, "com.microsoft.QLinearAdd", "xq xs xz xq2 x2s x2z as az", "a", NULL);
    if (b->ok)
        b->g->nodes[b->g->n_nodes - 1].a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FIXED, EVO_ACT_RELU, 0, 0};
    evo_build_node(b, "com.microsoft.QLinearMul", "a as az gq gs gz ms mz", "m", NULL);
    if (b->ok)
        b->g->nodes[b->g->n_nodes - 1].a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FIXED, EVO_ACT_NONE, 0, 0};
    evo_build_node(b, "DequantizeLinear", "m ms mz", "y", NULL);
    evo_build_output(b, "y");
}

static const check checks[] = {
    {"conv 3x3 + SiLU", build_conv3x3_silu},
    {"conv 1x1 + relu + add", build_conv1x1_residual},
    {"conv 3x3 + add + relu", build_conv_add_relu},
    {"conv 3x3 stride 2", build_conv3x3_s2},
    {"conv 6x6 stride 2 (stem)", build_stem6x6},
    {"conv 3x3 stride 2, 128 ch", build_conv3x3_s2_wide},
    {"stem + conv 3x3/2 (pair)", build_stem_pair},
    {"yolo decode (split/concat)", build_decode},
    {"transpose head + channel shuffle", build_transpose},
    {"depthwise 3x3 + 5x5 s2", build_depthwise},
    {"maxpool 5x5 + concat", build_sppf},
    {"resize 2x + concat", build_upsample_concat},
    {"resize linear 2x, nearest", build_resize_linear},
    {"gemm", build_gemm},
    {"broadcast mul/sigmoid/sub", build_elementwise},
    {"int8 conv 1x1 (uint8)", build_qconv1x1},
    {"int8 conv 3x3 (int8)", build_qconv3x3},
    {"int8 conv 3x3 stride 2", build_qconv3x3_s2},
    {"int8 grouped conv 3x3/2 (g 4)", build_qconv_grouped},
    {"int8 matmul (per-column)", build_qmatmul},
    {"int8 depthwise 3x3 (int8)", build_qconv_dw},
    {"int8 depthwise 5x5 stride 2", build_qconv_dw5_s2},
    {"uint8 maxpool + resize 2x", build_qpool_u8},
    {"int8 maxpool + resize 2x", build_qpool_s8},
    {"int8 residual add + SE mul", build_qbinary},
};

static evo_status build_model(const check *c, evo_model **out, evo_error *err)
{
    evo_builder b;
    if (evo_builder_init(&b, c->name, 0x12345678u) != EVO_OK) {
        evo_graph_free(b.g);
        return evo_errorf(err, EVO_ERR_NOMEM, "out of memory");
    }
    c->build(&b);
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, err};
    evo_status s = b.ok ? evo_passes_run(b.g, &ctx) : evo_errorf(err, EVO_ERR_INTERNAL, "cannot build");
    if (!s)
        s = evo_model_from_graph(b.g, out, err);
    if (s)
        evo_graph_free(b.g);
    return s;
}

/* Runs model once with isa on a fixed input; copies output 0 into out (n floats). */
/*
 * Runs m with kernels capped at isa into out, writing the kernel of each
 * step to kernels. With same_as (the kernels of the tier below) and the
 * same choice, the run is skipped and *ran is false: such a tier adds no
 * kernel to check (under emulation, where a check takes seconds, that
 * matters).
 */
static evo_status run_isa(const evo_model *m, const char *isa, int n_threads, float *out, int64_t n,
                          char *kernels, size_t cap, const char *same_as, bool *ran, evo_error *err)
{
    evo_session_options so = evo_session_options_default();
    so.isa = isa;
    so.n_threads = n_threads;
    so.profile = 1;
    evo_session *s;
    *ran = false;
    evo_status st = evo_session_create(m, &so, &s, err);
    if (st)
        return st;
    size_t len = 0;
    kernels[0] = 0;
    for (int i = 0; i < evo_session_n_steps(s) && len < cap; i++) {
        evo_step_profile p;
        evo_session_profile(s, i, &p);
        len += (size_t)snprintf(kernels + len, cap - len, "%s%s:%s", i ? " " : "", p.op, p.kernel);
    }
    if (same_as && strcmp(kernels, same_as) == 0) {
        evo_session_free(s);
        return EVO_OK;
    }
    *ran = true;
    uint64_t seed = 99;
    for (int i = 0; i < evo_model_n_inputs(m); i++) {
        evo_tensor_desc d;
        evo_model_input_desc(m, i, &d);
        float *p = evo_session_input_data(s, i);
        for (size_t k = 0; k < d.size_bytes / 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            p[k] = (float)((seed >> 40) & 0xffff) / 32768.0f - 1.0f;
        }
    }
    st = evo_session_run(s, err);
    if (!st)
        memcpy(out, evo_session_output_data(s, 0), sizeof(float) * (size_t)n);
    evo_session_free(s);
    return st;
}

static int run_checks(int n_threads, int *passed)
{
    static const char *tiers[] = {"neon", "dotprod", "i8mm", "avx2", "avx512", "vnni"};
    evo_isa best = evo_cpu_best_isa();
    int failures = 0;
    printf("\nkernel checks (every tier this CPU runs vs the reference kernels, %d thread%s):\n", n_threads,
           n_threads == 1 ? "" : "s");
    for (size_t c = 0; c < sizeof(checks) / sizeof(checks[0]); c++) {
        evo_error err = {0};
        evo_model *m = NULL;
        if (build_model(&checks[c], &m, &err) != EVO_OK) {
            printf("  FAIL %-28s %s\n", checks[c].name, err.msg);
            failures++;
            continue;
        }
        evo_tensor_desc d;
        evo_model_output_desc(m, 0, &d);
        int64_t n = (int64_t)(d.size_bytes / 4);
        float *ref = malloc(d.size_bytes), *got = malloc(d.size_bytes);
        char kernels[512], below[512] = "";
        bool ran;
        if (!ref || !got || run_isa(m, "ref", 1, ref, n, kernels, sizeof(kernels), NULL, &ran, &err) != EVO_OK) {
            printf("  FAIL %-28s ref: %s\n", checks[c].name, err.msg);
            failures++;
        }
        double scale = 0;
        for (int64_t i = 0; i < n; i++)
            scale = fmax(scale, fabs(ref[i]));
        for (size_t t = 0; t < sizeof(tiers) / sizeof(tiers[0]); t++) {
            evo_isa isa;
            evo_isa_parse(tiers[t], &isa);
            if (isa > best || !evo_isa_native(isa))
                continue;
            if (run_isa(m, tiers[t], n_threads, got, n, kernels, sizeof(kernels), below[0] ? below : NULL, &ran,
                        &err) != EVO_OK) {
                printf("  FAIL %-28s %-7s %s\n", checks[c].name, tiers[t], err.msg);
                failures++;
                continue;
            }
            if (!ran) {
                printf("  same %-28s %-7s kernels as the tier below\n", checks[c].name, tiers[t]);
                continue;
            }
            snprintf(below, sizeof(below), "%s", kernels);
            double max_err = 0;
            for (int64_t i = 0; i < n; i++)
                max_err = fmax(max_err, fabs((double)got[i] - ref[i]));
            bool ok = max_err <= 1e-5 * fmax(scale, 1.0);
            failures += !ok;
            *passed += ok;
            printf("  %s %-28s %-7s max err %.2e (scale %.2f)  %s\n", ok ? "ok  " : "FAIL", checks[c].name,
                   tiers[t], max_err, scale, kernels);
        }
        free(ref);
        free(got);
        evo_model_free(m);
    }
    return failures;
}

static void print_cpu(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512], model[256] = "unknown";
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(model, sizeof(model), "%s", c + 2);
                model[strcspn(model, "\n")] = 0;
            }
            break;
        }
    }
    if (f)
        fclose(f);
    const evo_cpu_info *ci = evo_cpu_get();
    printf("cpu:      %s, %ld logical cores\n", model, sysconf(_SC_NPROCESSORS_ONLN));
#if defined(__aarch64__)
    printf("features: neon %d, fp16 %d, dotprod %d, i8mm %d, sve %d (AT_HWCAP/AT_HWCAP2)\n", ci->neon, ci->fp16,
           ci->dotprod, ci->i8mm, ci->sve);
#else
    printf("features: avx2 %d, fma %d, avx512f %d, avx512bw %d, avx512vl %d, avx512dq %d, avx512vnni %d, "
           "amx-tile %d, amx-int8 %d\n",
           ci->avx2, ci->fma, ci->avx512f, ci->avx512bw, ci->avx512vl, ci->avx512dq, ci->avx512vnni,
           ci->amx_tile, ci->amx_int8);
#endif
    printf("isa:      %s (kernels capped by --isa or EVO_ISA)\n", evo_isa_name(evo_cpu_best_isa()));
}

int evo_cmd_verify(int argc, char **argv)
{
    int n_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!cli_parse_int("--threads", argv[++i], 1, 64, &n_threads))
                return 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else {
            return cli_fail("usage: evo verify [--threads N] [--quick]");
        }
    }
    if (n_threads < 1 || n_threads > 64)
        n_threads = 1;
    print_cpu();
    evo_isa best = evo_cpu_best_isa();
    if (!quick && cli_peak_isa(best) != EVO_ISA_REF) {
        evo_isa top = cli_peak_isa(best);
        double one = cli_measure_peak(top, 1, CLI_PEAK_ITERS),
               all = cli_measure_peak(top, n_threads, CLI_PEAK_ITERS);
        printf("peak:     %s fp32 FMA %.1f GFLOP/s per core, %.1f GFLOP/s on %d threads\n", evo_isa_name(top), one,
               all, n_threads);
        if (cli_int8_peak_isa(best) != EVO_ISA_REF)
            printf("peak:     %s int8 dot product %.1f GOP/s per core, %.1f GOP/s on %d threads\n",
                   evo_isa_name(cli_int8_peak_isa(best)), cli_measure_int8_peak(best, 1, CLI_PEAK_ITERS),
                   cli_measure_int8_peak(best, n_threads, CLI_PEAK_ITERS), n_threads);
    }
    int passed = 0, failures = run_checks(1, &passed);
    if (n_threads > 1)
        failures += run_checks(n_threads, &passed);
    printf("\nverify: %d passed, %d failed\n", passed, failures);
    return failures ? 1 : 0;
}
