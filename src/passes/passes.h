/*
 * passes.h - the compile pipeline over the IR. Each pass is a standalone
 * function with one signature; passes.c holds the ordered table.
 */
#ifndef EVO_PASSES_H
#define EVO_PASSES_H

#include "graph/graph.h"

typedef struct evo_pass_ctx {
    const evo_compile_options *opts;
    evo_error *err;
} evo_pass_ctx;

typedef evo_status (*evo_pass_fn)(evo_graph *g, evo_pass_ctx *ctx);

/*
 * Checks the graph (names, cycles, missing inputs), imports typed attributes,
 * infers every shape in topological order and folds constants (a node whose
 * inputs are all constant is run by its reference kernel now), then removes
 * dead nodes. On success every live value has a known dtype and static dims.
 */
evo_status evo_passes_run(evo_graph *g, evo_pass_ctx *ctx);

evo_status evo_pass_check(evo_graph *g, evo_pass_ctx *ctx);
/* Sorts g's nodes topologically again (stable), after a rewrite added nodes. check.c. */
evo_status evo_graph_sort(evo_graph *g, evo_error *err);
evo_status evo_pass_infer_fold(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_dead_code(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_simplify(evo_graph *g, evo_pass_ctx *ctx);
/* a Focus block (pixel-phase Slices, Concat, k x k Conv) as one 2k x 2k stride-2 Conv: fold_focus.c */
evo_status evo_pass_fold_focus(evo_graph *g, evo_pass_ctx *ctx);
/* The same for Concat node concat (its Focus, if it is one): *folded says whether it was. */
evo_status evo_fold_focus_at(evo_graph *g, int concat, bool *folded, evo_error *err);
/* a stride-2 6x6 Conv as SpaceToDepth then a stride-1 3x3 Conv, for the Winograd kernels: s2d_conv.c */
evo_status evo_pass_s2d_conv(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fuse_hard(evo_graph *g, evo_pass_ctx *ctx);
/* Activation levels (evo_compile_options.act_levels): changes the network. act_levels.c. */
evo_status evo_pass_act_levels(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fold_bn(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fuse_residual(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fuse_residual_act(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fuse_layout(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fuse_act(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fuse_update(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fold_qdq(evo_graph *g, evo_pass_ctx *ctx);
evo_status evo_pass_fold_qdq_ms(evo_graph *g, evo_pass_ctx *ctx);

/*
 * For a live float op reading a DequantizeLinear output after the passes
 * (a "float island" of a QDQ model): why fold_qdq left it float, e.g.
 * "no int8 kernel for this op". NULL for any other node. fold_qdq.c.
 */
const char *evo_fold_qdq_island(const evo_graph *g, const evo_node *n);
/*
 * The same for the ops fold_qdq_ms takes (Add, Mul, Sigmoid, LeakyRelu,
 * Concat, the average pools, Gemm): why one stayed float, or NULL for any
 * other op. fold_qdq_ms.c.
 */
const char *evo_fold_qdq_ms_island(const evo_graph *g, const evo_node *n);

#endif /* EVO_PASSES_H */
