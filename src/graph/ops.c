/*
 * ops.c - the op table generated from ops.def: names, lookup, and the
 * per-op definitions (every family must exist: tests/unit/test_ops_table.c).
 * An op outside the default ONNX domain has its domain in its table name,
 * "<domain>.<OpType>" ("com.microsoft.QLinearAdd"; internal ops are the
 * domain "evo"): ONNX op types hold no dots, so the last dot splits them.
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
#define X(e, name, family)                                                                                   \
    case EVO_OP_##e:                                                                                         \
        return &evo_opdef_##family;
#include "graph/ops.def"
#undef X
    default: return NULL;
    }
}

bool evo_op_is_internal(evo_op op)
{
    return op >= 0 && op < EVO_OP_COUNT && strncmp(op_names[op], "evo.", 4) == 0;
}

/* Length of the domain prefix of a table name ("com.microsoft" of "com.microsoft.QLinearAdd"), 0 for none. */
static size_t domain_len(const char *table_name)
{
    const char *dot = strrchr(table_name, '.');
    return dot ? (size_t)(dot - table_name) : 0;
}

const char *evo_op_type(evo_op op)
{
    const char *name = evo_op_name(op);
    size_t n = domain_len(name);
    return n ? name + n + 1 : name;
}

bool evo_op_in_domain(evo_op op, const char *domain)
{
    const char *name = evo_op_name(op);
    size_t n = domain_len(name);
    if (!domain || !domain[0] || strcmp(domain, "ai.onnx") == 0)
        return n == 0;
    return n == strlen(domain) && strncmp(name, domain, n) == 0;
}

evo_op evo_op_from_name(const char *domain, const char *op_type)
{
    for (int i = 0; i < EVO_OP_COUNT; i++) {
        if (strcmp(evo_op_type((evo_op)i), op_type) == 0 && evo_op_in_domain((evo_op)i, domain))
            return (evo_op)i;
    }
    return EVO_OP_UNKNOWN;
}

evo_op evo_op_from_table_name(const char *name)
{
    for (int i = 0; i < EVO_OP_COUNT; i++) {
        if (strcmp(op_names[i], name) == 0)
            return (evo_op)i;
    }
    return EVO_OP_UNKNOWN;
}
