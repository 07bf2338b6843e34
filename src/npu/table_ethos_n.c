/*
 * table_ethos_n.c - Arm Ethos-N78 operator constraints, as the Arm Ethos-N
 * driver stack lists them in SUPPORTED.md (ARM-software/ethos-n-driver-stack,
 * the revision of commit 2967c3c, with max pooling 1x1/2x2/3x3 at stride 2
 * and Transpose and SpaceToDepth disabled). The rule texts are the list's;
 * the parameter each one constrains is evo's reading of it. Multiplication
 * is the Arm NN backend's substitution listed there (a constant 1x1x1xC
 * becomes a depthwise convolution). Every Ethos-N78 configuration (1-8
 * TOPS, 2 or 4 PLEs) shares this table.
 */
#include "npu/npu.h"

#define N_SRC "Ethos-N driver stack SUPPORTED.md"
#define N_VER "rev 2967c3c"

#define RANGE(o, p, l, h, t) {.op = EVO_NPU_OP_##o, .param = EVO_NPU_P_##p, .kind = EVO_NPU_RANGE, .lo = (l), .hi = (h), .text = (t)}
#define IS(o, p, t) RANGE(o, p, 1, 1, t)
#define KSET(o, p) \
    {.op = EVO_NPU_OP_##o, .param = EVO_NPU_P_##p, .kind = EVO_NPU_SET, .set = {1, 2, 3, 5, 7, 9}, .n_set = 6, \
     .text = "The supported kernel heights and widths (the kernel does not have to be square) are: { 1, 2, 3, 5, 7, 9 }"}
#define SSET(o) \
    {.op = EVO_NPU_OP_##o, .param = EVO_NPU_P_STRIDE_H, .kind = EVO_NPU_SET, .set = {1, 2}, .n_set = 2, \
     .text = "The supported strides (the height and width stride have to match) are: { 1, 2 }"}
#define CONV_RULES(o)                                                                                             \
    KSET(o, KERNEL_H), KSET(o, KERNEL_W), SSET(o),                                                                \
    IS(o, STRIDES_EQUAL, "The supported strides (the height and width stride have to match) are: { 1, 2 }"),     \
    RANGE(o, LARGE_KERNEL_STRIDE, 1, 1, "For kernels with height or width >7, only a stride of 1 is supported"), \
    {.op = EVO_NPU_OP_##o, .param = EVO_NPU_P_RESCALE, .kind = EVO_NPU_OPEN, .lo = 0, .hi = 65536,             \
     .text = "I*W/O must be between 0 and 65536"}

static const evo_npu_op n_ops[] = {
    EVO_NPU_OP_CONV_2D, EVO_NPU_OP_DEPTHWISE_CONV_2D, EVO_NPU_OP_FULLY_CONNECTED, EVO_NPU_OP_ADD,
    EVO_NPU_OP_MUL, EVO_NPU_OP_LOGISTIC, EVO_NPU_OP_TANH, EVO_NPU_OP_LEAKY_RELU, EVO_NPU_OP_MAX_POOL_2D,
    EVO_NPU_OP_AVERAGE_POOL_2D, EVO_NPU_OP_MEAN, EVO_NPU_OP_RESIZE_NEAREST_NEIGHBOR, EVO_NPU_OP_CONCATENATION,
    EVO_NPU_OP_SPLIT, EVO_NPU_OP_SPLIT_V, EVO_NPU_OP_RESHAPE, EVO_NPU_OP_PAD, EVO_NPU_OP_DEPTH_TO_SPACE,
};

static const evo_npu_rule n_rules[] = {
    /* general tensor support */
    {.op = EVO_NPU_OP_ANY, .param = EVO_NPU_P_IFM_DTYPE, .kind = EVO_NPU_SET,
     .set = {EVO_DTYPE_INT8, EVO_DTYPE_UINT8}, .n_set = 2,
     .text = "8-bit signed quantized and 8-bit unsigned quantized datatypes are supported"},
    RANGE(ANY, RANK, 0, 4, "Tensors with up to 4 dimensions are supported"),
    RANGE(ANY, BATCH, 1, 1, "A \"Batch\" dimension >1 is not supported"),
    IS(ANY, ACT_BOUNDS_ORDERED, "ReLU: Lower bound must be less than the upper bound"),
    /* convolutions */
    CONV_RULES(CONV_2D),
    CONV_RULES(DEPTHWISE_CONV_2D),
    RANGE(DEPTHWISE_CONV_2D, DEPTH_MULT, 1, 1, "A channel multiplier of 1 is supported. A channel multiplier >1 is not supported"),
    {.op = EVO_NPU_OP_FULLY_CONNECTED, .param = EVO_NPU_P_RESCALE, .kind = EVO_NPU_OPEN, .lo = 0, .hi = 65536,
     .text = "I*W/O must be between 0 and 65536"},
    /* elementwise */
    IS(ADD, SHAPES_EQUAL, "Element by element addition is supported"),
    IS(MUL, IFM2_CONST_C,
       "the multiplication of a tensor with a constant tensor is supported when the constant shape is 1 x 1 x 1 x C"),
    {.op = EVO_NPU_OP_LEAKY_RELU, .param = EVO_NPU_P_ALPHA, .kind = EVO_NPU_OPEN, .lo = 0, .hi = 1,
     .text = "Alpha must be less than 1 and greater than 0"},
    RANGE(LOGISTIC, OUT_SCALE_256, 0.99999, 1.00001,
          "The output for sigmoid always has a quantization zero point equal to the minimum value of the quantized "
          "data type and a quantization scale of 1 / 256"),
    IS(LOGISTIC, OUT_ZP_IS_MIN,
       "The output for sigmoid always has a quantization zero point equal to the minimum value of the quantized "
       "data type and a quantization scale of 1 / 256"),
    /* pooling */
    {.op = EVO_NPU_OP_MAX_POOL_2D, .param = EVO_NPU_P_KERNEL_H, .kind = EVO_NPU_SET, .set = {1, 2, 3}, .n_set = 3,
     .text = "Supported configurations: 1 x 1, 2 x 2 or 3 x 3 pooling size with 2, 2 stride"},
    IS(MAX_POOL_2D, KERNEL_SQUARE, "Supported configurations: 1 x 1, 2 x 2 or 3 x 3 pooling size with 2, 2 stride"),
    {.op = EVO_NPU_OP_MAX_POOL_2D, .param = EVO_NPU_P_STRIDE_H, .kind = EVO_NPU_SET, .set = {2}, .n_set = 1,
     .text = "Supported configurations: 1 x 1, 2 x 2 or 3 x 3 pooling size with 2, 2 stride"},
    IS(MAX_POOL_2D, STRIDES_EQUAL, "Supported configurations: 1 x 1, 2 x 2 or 3 x 3 pooling size with 2, 2 stride"),
    IS(MAX_POOL_2D, POOL_PARITY, "VALID padding: input sizes must be even; SAME padding: input sizes must be odd"),
    RANGE(MAX_POOL_2D, IFM_W_K3, 0, 417, "3 x 3 pooling: maximum tensor width is 417"),
    IS(MAX_POOL_2D, POOL_FITS, "Input size must not be smaller than the pooling size"),
    {.op = EVO_NPU_OP_AVERAGE_POOL_2D, .param = EVO_NPU_P_KERNEL_AREA, .kind = EVO_NPU_SET, .set = {9}, .n_set = 1,
     .text = "Pooling size 3 x 3, with stride 1, 1 and SAME padding is supported"},
    RANGE(AVERAGE_POOL_2D, KERNEL_SQUARE, 1, 1, "Pooling size 3 x 3, with stride 1, 1 and SAME padding is supported"),
    RANGE(AVERAGE_POOL_2D, STRIDE_H, 1, 1, "Pooling size 3 x 3, with stride 1, 1 and SAME padding is supported"),
    RANGE(AVERAGE_POOL_2D, STRIDE_W, 1, 1, "Pooling size 3 x 3, with stride 1, 1 and SAME padding is supported"),
    IS(AVERAGE_POOL_2D, PAD_SAME, "Pooling size 3 x 3, with stride 1, 1 and SAME padding is supported"),
    {.op = EVO_NPU_OP_MEAN, .param = EVO_NPU_P_IFM_HW, .kind = EVO_NPU_SET, .set = {7, 8}, .n_set = 2,
     .text = "MeanXy only supports N x 7 x 7 x C or N x 8 x 8 x C input with N x 1 x 1 x C output"},
    IS(MEAN, HW_AXES, "MeanXy: mean reduction of H x W dimensions to 1 x 1"),
    /* data movement */
    RANGE(CONCATENATION, OUT_IN_SCALE, 1.0 / 128, 1e300,
          "Output quantization scale smaller than the input quantization scale divided by 128 is not supported"),
    IS(CONCATENATION, CH_MULT16,
       "If concatenating along the channel dimension, the channel dimension of every input tensor must be a "
       "multiple of 16"),
    IS(SPLIT, CH_MULT16,
       "If splitting along the channel dimension, the channel dimension of every output tensor must be a multiple "
       "of 16"),
    IS(SPLIT_V, CH_MULT16,
       "If splitting along the channel dimension, the channel dimension of every output tensor must be a multiple "
       "of 16"),
    IS(RESIZE_NEAREST_NEIGHBOR, RESIZE_2N, "The resized height or width must be 2n or 2n-1 where n is the original height or width"),
    IS(PAD, PAD_HW_ONLY, "Only zero padding in the H and W dimension is supported"),
    IS(PAD, PAD_ZERO, "Only zero padding in the H and W dimension is supported"),
    RANGE(PAD, PAD_MAX, 0, 7, "Padding of up to 7 each side of the tensor in those dimensions is supported"),
    IS(PAD, QUANT_MATCH, "Quantization for input and output tensors must be identical"),
    {.op = EVO_NPU_OP_DEPTH_TO_SPACE, .param = EVO_NPU_P_BLOCK, .kind = EVO_NPU_SET, .set = {2}, .n_set = 1,
     .text = "A block size of 2 is supported"},
};

const evo_npu_table evo_npu_table_ethos_n = {
    .family = "Ethos-N78",
    .source = N_SRC,
    .version = N_VER,
    .ops = n_ops,
    .n_ops = (int)(sizeof(n_ops) / sizeof(n_ops[0])),
    .rules = n_rules,
    .n_rules = (int)(sizeof(n_rules) / sizeof(n_rules[0])),
};
