/*
 * ops.c - the op table generated from ops.def: names, lookup, and the
 * per-op definitions (every family must exist: tests/unit/test_ops_table.c).
 */
#include "graph/op.h"

#include <string.h>

#define X(e, name, family) extern const evo_op_def evo_opdef_##family;
#include "graph/ops.def"
#undef X

static const char *const op_names[EVO_OP_COUNT + 1] = {
#define X(e, name, family) name,
#include "graph/ops.def"
#undef X
    "unknown",
};

const char *evo_op_name(evo_op op)
{
    return (op >= 0 && op <= EVO_OP_COUNT) ? op_names[op] : "unknown";
}

const evo_op_def *evo_op_get(evo_op op)
{
    switch (op) {
#define X(e, name, family) \
    case EVO_OP_##e:       \
        return &evo_opdef_##family;
#include "graph/ops.def"
#undef X
    default:
        return NULL;
    }
}

bool evo_op_is_internal(evo_op op)
{
    return op >= 0 && op < EVO_OP_COUNT && strncmp(op_names[op], "evo.", 4) == 0;
}

evo_op evo_op_from_name(const char *domain, const char *op_type)
{
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0)
        return EVO_OP_UNKNOWN;
    for (int i = 0; i < EVO_OP_COUNT; i++) {
        if (strcmp(op_names[i], op_type) == 0)
            return (evo_op)i;
    }
    return EVO_OP_UNKNOWN;
}
