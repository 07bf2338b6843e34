/*
 * npu.h - Arm NPU targets as data: operator constraint tables, one generic
 * checker, and the placement of an int8 graph's nodes (NPU or CPU, with the
 * rule a CPU node breaks).
 *
 * Each evo node is described as the TFLite-level operators it becomes (a
 * QLinearConv with a SiLU table is CONV_2D, LOGISTIC and MUL), each a vector
 * of named parameters (strides, kernel, dtypes, scale ratios...). A target
 * family is a table of constraint records {op, parameter, allowed range or
 * set, the rule's text}, taken from the vendor's published support list with
 * its version; evo_npu_check() interprets any table the same way, so a new
 * target or release is a new table, never a change to the checker.
 */
#ifndef EVO_NPU_H
#define EVO_NPU_H

#include "graph/graph.h"

/* The TFLite-level operators evo's int8 nodes become: X(ENUM, "NAME"). */
#define EVO_NPU_OPS(X)                                                                            \
    X(NONE, "-")                                                                                  \
    X(CONV_2D, "CONV_2D")                                                                         \
    X(DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D")                                                     \
    X(FULLY_CONNECTED, "FULLY_CONNECTED")                                                         \
    X(ADD, "ADD")                                                                                 \
    X(MUL, "MUL")                                                                                 \
    X(LOGISTIC, "LOGISTIC")                                                                       \
    X(TANH, "TANH")                                                                               \
    X(HARD_SWISH, "HARD_SWISH")                                                                   \
    X(LEAKY_RELU, "LEAKY_RELU")                                                                   \
    X(MAX_POOL_2D, "MAX_POOL_2D")                                                                 \
    X(AVERAGE_POOL_2D, "AVERAGE_POOL_2D")                                                         \
    X(MEAN, "MEAN")                                                                               \
    X(RESIZE_NEAREST_NEIGHBOR, "RESIZE_NEAREST_NEIGHBOR")                                         \
    X(CONCATENATION, "CONCATENATION")                                                             \
    X(SPLIT, "SPLIT")                                                                             \
    X(SPLIT_V, "SPLIT_V")                                                                         \
    X(STRIDED_SLICE, "STRIDED_SLICE")                                                             \
    X(RESHAPE, "RESHAPE")                                                                         \
    X(TRANSPOSE, "TRANSPOSE")                                                                     \
    X(PAD, "PAD")                                                                                 \
    X(DEPTH_TO_SPACE, "DEPTH_TO_SPACE")                                                           \
    X(SPACE_TO_DEPTH, "SPACE_TO_DEPTH")                                                           \
    X(ANY, "any operator")

typedef enum evo_npu_op {
#define X(e, name) EVO_NPU_OP_##e,
    EVO_NPU_OPS(X)
#undef X
    EVO_NPU_OP_COUNT
} evo_npu_op;

/*
 * The parameters a rule can constrain: X(ENUM, "name", "meaning"). Booleans
 * are 1 (holds) or 0. Spatial values are of the NHWC view TFLite takes of
 * evo's NCHW tensors (the channel axis is evo's axis 1).
 */
#define EVO_NPU_PARAMS(X)                                                                         \
    X(IFM_DTYPE, "ifm dtype", "the data input's element type (evo_dtype)")                     \
    X(IFM_TYPES_MATCH, "input types match", "both inputs have one element type")                \
    X(RANK, "rank", "the largest rank of the inputs and outputs")                               \
    X(BATCH, "batch", "the data input's batch size")                                            \
    X(DIM_MAX, "largest dim", "the largest dimension of any input or output")                   \
    X(PER_AXIS, "per-axis quantization", "the weights have one scale per output channel")       \
    X(FUSED_ACT, "fused activation", "the activation fused into the op (evo_npu_act)")          \
    X(STRIDE_H, "stride h", "")                                                                 \
    X(STRIDE_W, "stride w", "")                                                                 \
    X(STRIDES_EQUAL, "equal strides", "stride h equals stride w")                               \
    X(KERNEL_H, "kernel h", "")                                                                 \
    X(KERNEL_W, "kernel w", "")                                                                 \
    X(KERNEL_AREA, "kernel area", "kernel h * kernel w")                                        \
    X(KERNEL_SQUARE, "square kernel", "kernel h equals kernel w")                               \
    X(DIL_KERNEL_H, "dilated kernel h", "(kernel h - 1) * dilation h + 1")                      \
    X(DIL_KERNEL_AREA, "dilated kernel area", "dilated kernel h * dilated kernel w")            \
    X(DILATION, "dilation", "the larger dilation factor")                                       \
    X(LARGE_KERNEL_STRIDE, "stride of a kernel > 7", "the stride when kernel h or w exceeds 7, else 1") \
    X(STRIDE_GT3_OK, "stride > 3 undilated and VALID", "strides <= 3, or dilation 1 and VALID padding")   \
    X(DEPTH_MULT, "depth multiplier", "output channels per input channel of a depthwise conv") \
    X(DEPTH_MULT_OK, "depth multiplier layout", "multiplier 1, or 1 input channel")             \
    X(WEIGHT_SUM, "weight sum", "max over output channels of sum |w - w_zp|")                   \
    X(BIAS_BITS, "bias bits", "bits of the largest |bias| as a signed integer")                 \
    X(RESCALE, "I*W/O", "max over output channels of x_scale * w_scale / y_scale")              \
    X(OFM_RANK, "ofm rank", "the output's rank")                                                \
    X(SHAPE_MATCH, "an input shape is the ofm's", "at least one input has the output's shape")  \
    X(SHAPES_EQUAL, "input shapes equal", "both inputs have one shape (element by element)")    \
    X(BCAST_DIM1, "broadcast from dims of 1", "broadcasting only from dimensions of size 1")    \
    X(IFM2_CONST_C, "2nd input constant 1x1x1xC", "the second operand is a constant of shape 1x1x1xC") \
    X(CH_MULT16, "channels multiple of 16", "along the channel axis every part is a multiple of 16") \
    X(OUT_IN_SCALE, "out/in scale", "the smallest output scale / input scale")                  \
    X(OUT_SCALE_256, "out scale * 256", "the output scale times 256")                           \
    X(OUT_ZP_IS_MIN, "out zero point is the minimum", "the output zero point is the dtype's minimum") \
    X(QUANT_MATCH, "quantization kept", "input and output scale and zero point are equal")      \
    X(RESIZE_FACTOR, "resize factor", "equal integer h and w factor (1: same size or 1x1 ifm; 0: other)") \
    X(RESIZE_2N, "resize to 2n or 2n-1", "each output side is 2n or 2n-1 of its input side n")  \
    X(POOL_PARITY, "pool padding parity", "VALID with even input sides or SAME with odd ones (or 1x1)") \
    X(POOL_FITS, "input >= pool", "the input is not smaller than the pooling window")          \
    X(IFM_W_K3, "width of a 3x3 pool", "input width when the pool is 3x3, else 0")              \
    X(PAD_SAME, "SAME padding", "the padding is TensorFlow's SAME")                            \
    X(PAD_HW_ONLY, "pads only h and w", "padding only on height and width")                    \
    X(PAD_MAX, "largest pad", "the largest pad on any side")                                    \
    X(PAD_ZERO, "zero padding", "the pad value is the zero point")                              \
    X(ALPHA, "alpha", "LeakyReLU's negative slope")                                             \
    X(ACT_BOUNDS_ORDERED, "clamp bounds ordered", "a fused clamp's lower bound is below its upper") \
    X(HW_AXES, "reduces h and w", "the reduced axes are height and width")                      \
    X(HW_AREA, "h * w", "input height times width")                                             \
    X(HW_AREA_REQUANT, "h * w when requantizing", "input height times width when scales or zero points differ, else 0") \
    X(IFM_HW, "square input side", "input height when height equals width, else 0")            \
    X(AXIS_DIV_SPLITS, "axis divisible by splits", "the split axis' size is divisible by the number of outputs") \
    X(SLICE_STEP_ONE, "all steps 1", "every slice step is 1")                                   \
    X(SLICE_STEP_HW, "steps only over h and w", "every step is positive, and 1 except on height and width") \
    X(TRANSPOSE_PROD, "transpose extent", "the largest of h, w, c when the other axes are 1, else the largest product of rank - 2 axes") \
    X(REDUCED_AXIS, "largest reduced axis", "the larger of the reduced height and width")        \
    X(BLOCK, "block size", "DepthToSpace block size")

typedef enum evo_npu_param {
#define X(e, name, meaning) EVO_NPU_P_##e,
    EVO_NPU_PARAMS(X)
#undef X
    EVO_NPU_PARAM_COUNT
} evo_npu_param;

/* Activation fused into a conv-like op, as TFLite names them (FUSED_ACT values). */
typedef enum evo_npu_act {
    EVO_NPU_ACT_NONE = 0,
    EVO_NPU_ACT_RELU,
    EVO_NPU_ACT_RELU6,
    EVO_NPU_ACT_RELU_N1_TO_1,
    EVO_NPU_ACT_CLAMP, /* another clamp: not one of TFLite's fused kinds */
} evo_npu_act;

/* One TFLite-level operator of a node, with its parameters (has[p]: p applies). */
typedef struct evo_npu_desc {
    evo_npu_op op;
    const char *role; /* what this part of the node does ("SiLU's x * sigmoid(x)"); NULL for the node itself */
    double v[EVO_NPU_PARAM_COUNT];
    bool has[EVO_NPU_PARAM_COUNT];
} evo_npu_desc;

/* Sets parameter p of d. */
static inline void evo_npu_set(evo_npu_desc *d, evo_npu_param p, double value)
{
    d->v[p] = value;
    d->has[p] = true;
}

typedef enum evo_npu_rule_kind {
    EVO_NPU_RANGE = 0, /* lo <= v <= hi */
    EVO_NPU_OPEN,      /* lo < v < hi */
    EVO_NPU_SET,       /* v is one of set[0, n_set) */
} evo_npu_rule_kind;

#define EVO_NPU_MAX_SET 8
#define EVO_NPU_MAX_EXCEPT 10

/*
 * One constraint record: for op (EVO_NPU_OP_ANY: every op but except[]),
 * parameter param must lie in the range or set. text is the rule as its
 * source states it, for reports.
 */
typedef struct evo_npu_rule {
    evo_npu_op op;
    evo_npu_param param;
    evo_npu_rule_kind kind;
    double lo, hi;
    double set[EVO_NPU_MAX_SET];
    int n_set;
    evo_npu_op except[EVO_NPU_MAX_EXCEPT]; /* EVO_NPU_OP_NONE-terminated */
    const char *text;
} evo_npu_rule;

/* A target family's constraint table: the operators it runs and their rules, with the source. */
typedef struct evo_npu_table {
    const char *family;  /* "Ethos-U" */
    const char *source;  /* "ethos-u-vela SUPPORTED_OPS.md" */
    const char *version; /* "Vela 5.2.0" */
    const evo_npu_op *ops; /* the operators the source lists */
    int n_ops;
    const evo_npu_rule *rules;
    int n_rules;
} evo_npu_table;

extern const evo_npu_table evo_npu_table_ethos_u;
extern const evo_npu_table evo_npu_table_ethos_n;

/* A target: its name, its family's table, and its MAC units (for reports). */
typedef struct evo_npu_target {
    const char *name; /* "ethos-u55-128" */
    const evo_npu_table *table; /* NULL: the CPU */
    int macs_per_cycle;
} evo_npu_target;

/* The target named name, or NULL (see evo_npu_target_list). */
const evo_npu_target *evo_npu_target_find(const char *name);
/* Writes the known target names, comma-separated, into buf. Returns buf. */
char *evo_npu_target_list(char *buf, size_t cap);
/* The target with index i (0 .. n-1), NULL past the end. */
const evo_npu_target *evo_npu_target_at(int i);

const char *evo_npu_op_name(evo_npu_op op);
const char *evo_npu_param_name(evo_npu_param p);

/*
 * The generic checker: true when d's op is in table's operator list and d
 * meets every rule that applies to it; otherwise false with why (when not
 * NULL) set to "<OP>: <rule text> (<param> = <value>; <source> <version>)".
 */
bool evo_npu_check(const evo_npu_table *table, const evo_npu_desc *d, char *why, size_t cap);

#define EVO_NPU_MAX_PARTS 4

/* A node's TFLite-level operators, or the reason it has none (a float op...). */
typedef struct evo_npu_node_desc {
    int n_parts;
    evo_npu_desc parts[EVO_NPU_MAX_PARTS];
    char cpu_reason[160]; /* set when n_parts == 0 */
} evo_npu_node_desc;

/* Describes node n of g (a live node with inferred shapes) as TFLite-level operators. */
void evo_npu_describe(const evo_graph *g, const evo_node *n, evo_npu_node_desc *out);

/* Where one node runs. */
typedef struct evo_npu_place {
    int node;       /* node id */
    bool on_npu;
    int n_parts;
    evo_npu_op parts[EVO_NPU_MAX_PARTS];
    double macs;
    char reason[320]; /* CPU nodes: the rule broken */
} evo_npu_place;

/* A graph's placement on a target: live nodes in execution order. */
typedef struct evo_npu_placement {
    const evo_npu_target *target;
    evo_npu_place *nodes;
    int n_nodes;
    int n_npu;
    double macs_total, macs_npu;
    int n_subgraphs;   /* maximal runs of NPU nodes */
    int n_transitions; /* NPU <-> CPU changes along the execution order */
} evo_npu_placement;

/*
 * Places g's live nodes on target (a node the target accepts stays on the
 * CPU when g records a placement for target that keeps it there). Caller
 * frees with evo_npu_placement_free.
 */
evo_status evo_npu_place_graph(const evo_graph *g, const evo_npu_target *target, evo_npu_placement *out,
                               evo_error *err);
void evo_npu_placement_free(evo_npu_placement *p);
/*
 * Places g on target and records the result in g (npu_target, npu_place:
 * what evo_file_write stores), giving the NPU nodes the target's integer
 * semantics (evo_npu_apply_semantics); *out as evo_npu_place_graph's, for
 * reports.
 */
evo_status evo_npu_record(evo_graph *g, const evo_npu_target *target, evo_npu_placement *out, evo_error *err);
/*
 * Counts the maximal NPU runs and the NPU <-> CPU transitions of a sequence
 * of n placements in execution order (the partition of a scheduled graph).
 */
void evo_npu_partition(const bool *on_npu, int n, int *n_subgraphs, int *n_transitions);
#define EVO_NPU_SIM_KINDS 8

/* What simulating a placement changed (simulate.c). */
typedef struct evo_npu_sim {
    int n_nodes;   /* live nodes placed */
    int n_npu;     /* of them on the NPU */
    int n_tables;  /* NPU nodes whose fused activation table became TFLite's */
    int n_requant; /* NPU convs, QLinearAdds and QLinearMuls whose float requantization (imported) became FIXED */
    int n_inexact; /* NPU nodes whose arithmetic is not TFLite's (ONNX Runtime's float ops) */
    int n_kinds;
    struct {
        const char *op, *reason; /* static or graph-owned */
        int count;
    } kinds[EVO_NPU_SIM_KINDS]; /* the inexact nodes by op */
} evo_npu_sim;

/*
 * Gives the nodes pl places on the NPU the target's integer semantics
 * where evo has them (TFLite's tables for fused activations:
 * EVO_ACT_TABLE_TFLITE; EVO_REQUANT_FIXED for imported convolutions) and
 * counts those it has not in *out. CPU nodes are left as they are.
 */
void evo_npu_apply_semantics(evo_graph *g, const evo_npu_placement *pl, evo_npu_sim *out);
/* Places g on target (as g's recorded placement for target, if any) and applies the semantics. */
evo_status evo_npu_simulate(evo_graph *g, const evo_npu_target *target, evo_npu_sim *out, evo_error *err);
/* One line saying what *s simulates and which NPU nodes are not TFLite-exact. Returns buf. */
char *evo_npu_sim_summary(const evo_npu_sim *s, const char *target, char *buf, size_t cap);

/* Does g have any int8 compute (QLinearConv, QLinearMatMul, com.microsoft QLinear*)? */
bool evo_npu_graph_is_int8(const evo_graph *g);

/*
 * Exact rewrites for a target (rewrite.c): the graph computes the same
 * function (float up to rounding order, int8 exactly) with nodes the target
 * may accept. X(ENUM, "name").
 */
typedef enum evo_npu_rewrite_kind {
    EVO_NPU_RW_FOCUS = 0, /* Focus slices + concat + conv -> one stride-2 conv */
    EVO_NPU_RW_KERNEL_PAD, /* a refused kernel side grown by zero taps */
    EVO_NPU_RW_POOL_CHAIN, /* k x k stride-1 max pool -> chained 3 x 3 */
    EVO_NPU_RW_SLICES_SPLIT, /* channel Slices tiling a tensor -> one Split */
    EVO_NPU_RW_COUNT
} evo_npu_rewrite_kind;

#define EVO_NPU_MAX_SPLIT 16 /* the most parts slices->split joins */

typedef struct evo_npu_rewrites {
    int count[EVO_NPU_RW_COUNT];
} evo_npu_rewrites;

/*
 * Applies the exact rewrites to g for table (NULL: every rewrite that
 * matches, regardless of a target), counting them in *out; sorts g again
 * when nodes were added.
 */
evo_status evo_npu_rewrite(evo_graph *g, const evo_npu_table *table, evo_npu_rewrites *out, evo_error *err);
/* Grows conv node ni's kernel (Conv or QLinearConv) by dh x dw zero taps at the end (kernel-pad's step). */
evo_status evo_npu_grow_kernel(evo_graph *g, int ni, int64_t dh, int64_t dw, evo_error *err);
const char *evo_npu_rewrite_name(evo_npu_rewrite_kind k);
/* "focus->conv 1, maxpool-chain 3" (or "none") into buf; returns buf. */
char *evo_npu_rewrites_str(const evo_npu_rewrites *r, char *buf, size_t cap);

#endif /* EVO_NPU_H */
