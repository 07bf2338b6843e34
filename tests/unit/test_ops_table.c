/*
 * test_ops_table.c - every op in src/graph/ops.def has shape inference and
 * a reference kernel (so no op can be added half-way), names round-trip,
 * and unknown names or domains are reported as unknown.
 */
#include "check.h"
#include "graph/op.h"
#include "kernels/kernel.h"

#include <string.h>

static void test_every_op_complete(void)
{
    for (int op = 0; op < EVO_OP_COUNT; op++) {
        const evo_op_def *def = evo_op_get((evo_op)op);
        const evo_kernel_def *ref = evo_kernel_ref((evo_op)op);
        CHECK_MSG(def && def->infer, "%s has no shape inference", evo_op_name((evo_op)op));
        CHECK_MSG(ref && ref->run && ref->isa == EVO_ISA_REF, "%s has no reference kernel",
                  evo_op_name((evo_op)op));
    }
}

static void test_names(void)
{
    for (int op = 0; op < EVO_OP_COUNT; op++) {
        const char *name = evo_op_name((evo_op)op), *type = evo_op_type((evo_op)op);
        bool has_domain = type != name;
        CHECK(evo_op_from_table_name(name) == (evo_op)op);
        CHECK(evo_op_is_internal((evo_op)op) == (strncmp(name, "evo.", 4) == 0));
        if (!has_domain) {
            CHECK(evo_op_from_name("", name) == (evo_op)op);
            CHECK(evo_op_from_name("ai.onnx", name) == (evo_op)op);
            continue;
        }
        /* "<domain>.<OpType>": found under its domain only */
        char domain[64];
        size_t n = (size_t)(type - 1 - name);
        CHECK(n < sizeof(domain) && strchr(type, '.') == NULL);
        memcpy(domain, name, n);
        domain[n] = 0;
        CHECK(evo_op_in_domain((evo_op)op, domain) && !evo_op_in_domain((evo_op)op, ""));
        CHECK(evo_op_from_name(domain, type) == (evo_op)op);
        CHECK(evo_op_from_name("", type) != (evo_op)op);
        CHECK(evo_op_from_name("", name) == EVO_OP_UNKNOWN);
    }
    CHECK(evo_op_is_internal(EVO_OP_UPDATE_SLICES) && !evo_op_is_internal(EVO_OP_CONCAT));
    CHECK(evo_op_from_name("", "NoSuchOp") == EVO_OP_UNKNOWN);
    CHECK(evo_op_from_name("com.microsoft", "Conv") == EVO_OP_UNKNOWN);
    CHECK(evo_op_from_name("com.example", "QLinearAdd") == EVO_OP_UNKNOWN);
    CHECK(evo_op_from_name("", "QLinearAdd") == EVO_OP_UNKNOWN);
    CHECK(evo_op_from_name("com.microsoft", "QLinearAdd") == EVO_OP_QLINEAR_ADD);
    CHECK(evo_op_from_name("com.microsoft", "QLinearConcat") == EVO_OP_QLINEAR_CONCAT);
    CHECK(evo_op_from_name("evo", "UpdateSlices") == EVO_OP_UPDATE_SLICES);
    CHECK(strcmp(evo_op_name(EVO_OP_CONV), "Conv") == 0);
    CHECK(strcmp(evo_op_name(EVO_OP_QLINEAR_MUL), "com.microsoft.QLinearMul") == 0);
    CHECK(strcmp(evo_op_type(EVO_OP_QLINEAR_MUL), "QLinearMul") == 0);
}

CHECK_MAIN(CHECK_TEST(test_every_op_complete), CHECK_TEST(test_names))
