/*
 * kernel.h - the kernel contract and the registry of variants.
 *
 * A kernel gets resolved descriptors and pointers and never allocates,
 * fails or validates: shape inference and the plan builder did that. It is
 * called as run(args, task, n_tasks) on n_tasks threads at once, and splits
 * its own work by task (a kernel that does not split runs all work when
 * task == 0 and returns for the others). scratch holds scratch_bytes(...,
 * n_tasks) bytes shared by all tasks; each task uses its own slice.
 */
#ifndef EVO_KERNEL_H
#define EVO_KERNEL_H

#include "graph/graph.h"

typedef struct evo_tensor {
    evo_dtype dtype;
    int rank;
    int64_t dims[EVO_MAX_RANK];
    void *data; /* NULL: absent optional input */
} evo_tensor;

typedef struct evo_kernel_args {
    const evo_node *node; /* typed attributes in node->a */
    const evo_tensor *in;
    int n_in;
    const evo_tensor *out;
    int n_out;
    void *scratch;
    size_t scratch_bytes;
    const void *packed; /* the kernel's packed constants (see evo_kernel_def.pack), or NULL */
    /*
     * The step's own run state (evo_kernel_def.state_bytes), zero when the
     * session is made, kept between runs, written by its tasks alone; or NULL.
     */
    void *state;
    /*
     * A fused pair (evo_kernel_def.fuses): the arguments of the step
     * before, whose node produces this one's input and which this kernel
     * runs too (its output is never stored whole); else NULL.
     */
    const struct evo_kernel_args *fused_prev;
} evo_kernel_args;

typedef void (*evo_kernel_fn)(const evo_kernel_args *a, int task, int n_tasks);

/*
 * Kernel tiers: the portable reference, then each architecture's tiers in
 * ascending order (a tier's CPUs run every lower tier of its family). The
 * Arm tiers come first, so that on an Arm CPU every x86 tier is above the
 * best one (and never picked), and on x86 the Arm tiers, never built
 * there, are below it. Not stored in .evo files: free to renumber.
 */
typedef enum evo_isa {
    EVO_ISA_REF = 0,
    EVO_ISA_NEON,    /* AArch64 Advanced SIMD (every ARMv8-A core) */
    EVO_ISA_DOTPROD, /* + SDOT/UDOT (ARMv8.2-A dotprod: Cortex-A55/A76 and later) */
    EVO_ISA_I8MM,    /* + SMMLA/UMMLA/USDOT (ARMv8.6-A i8mm: Cortex-A510/A710, Neoverse V1) */
    EVO_ISA_AVX2,
    EVO_ISA_AVX512,
    EVO_ISA_VNNI,
    EVO_ISA_AMX,
} evo_isa;

typedef struct evo_kernel_def {
    const char *name;
    evo_isa isa;
    /* NULL: supports every node its op's shape inference accepted */
    bool (*supports)(const evo_graph *g, const evo_node *n);
    /* NULL: needs no scratch */
    size_t (*scratch_bytes)(const evo_graph *g, const evo_node *n, int n_tasks);
    evo_kernel_fn run;
    /*
     * Optional weight packing, done once per session before any run: bytes
     * needed for node n's packed constants, and the packing itself into dst
     * (64-byte aligned, packed_bytes long). NULL, or 0 bytes for a node:
     * the kernel reads its constant inputs as they are (args.packed NULL).
     */
    size_t (*packed_bytes)(const evo_graph *g, const evo_node *n);
    void (*pack)(const evo_graph *g, const evo_node *n, void *dst);
    /* NULL, or bytes of args.state node n's step needs */
    size_t (*state_bytes)(const evo_graph *g, const evo_node *n);
    /*
     * Fused-pair kernels only (evo_kernel_fused): whether this kernel takes
     * node n together with prev, the node producing n's input 0 in the step
     * before; it then runs both, and prev's output is never stored whole.
     */
    bool (*fuses)(const evo_graph *g, const evo_node *prev, const evo_node *n);
    /* a fused kernel that stores prev's output too (other nodes read it) */
    bool keeps_prev_output;
} evo_kernel_def;

/* The best kernel for n on this CPU capped at max_isa, or NULL if none. */
const evo_kernel_def *evo_kernel_select(const evo_graph *g, const evo_node *n, evo_isa max_isa);
/* The reference kernel for op, or NULL. */
const evo_kernel_def *evo_kernel_ref(evo_op op);
/*
 * A kernel running prev (chosen kernel kp) and n (kernel kn, reading
 * prev's output) as one step, or NULL; skipped like the others by
 * $EVO_SKIP_KERNELS.
 */
const evo_kernel_def *evo_kernel_fused(const evo_graph *g, const evo_node *prev, const evo_kernel_def *kp,
                                       const evo_node *n, const evo_kernel_def *kn);

/* Element count of a tensor. */
static inline int64_t evo_tensor_count(const evo_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

/* Splits [0, n) evenly among n_tasks; writes this task's [begin, end). */
static inline void evo_task_range(int64_t n, int task, int n_tasks, int64_t *begin, int64_t *end)
{
    int64_t per = n / n_tasks, rem = n % n_tasks;
    *begin = task * per + (task < rem ? task : rem);
    *end = *begin + per + (task < rem ? 1 : 0);
}

#endif /* EVO_KERNEL_H */
