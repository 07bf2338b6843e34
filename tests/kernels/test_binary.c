/*
 * test_binary.c - the broadcasting elementwise family against a naive
 * model written here: every output element maps its coordinates back to
 * each input (size-1 axes pinned to 0) and applies the op in double or
 * int64. Random shapes up to rank 5 with prime sizes and random size-1 and
 * missing axes, run as 1 and 3 tasks; hand-computed integer semantics
 * (truncating Div, Python vs C Mod, wrap-around, integer Pow), float16;
 * constant folding through the pass pipeline; and bad input.
 */
#include "kernels/nn_util.h"
#include "passes/passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN 4

static const int64_t sizes[] = {1, 2, 3, 5, 7, 11, 13};

typedef struct shape {
    int rank;
    int64_t dims[EVO_MAX_RANK];
} shape;

static int64_t shape_count(const shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->dims[i];
    return n;
}

/* n_in shapes that broadcast together: each is a suffix of a random full shape with some 1s. */
static void random_shapes(check_rng *r, int n_in, shape *s, int first_full)
{
    shape full;
    full.rank = check_rng_int(r, 0, 5);
    int64_t budget = 1;
    for (int d = 0; d < full.rank; d++) {
        full.dims[d] = sizes[check_rng_int(r, 0, 6)];
        if (budget * full.dims[d] > 3000)
            full.dims[d] = 1;
        budget *= full.dims[d];
    }
    for (int k = 0; k < n_in; k++) {
        int rank = (first_full && k == 0) ? full.rank : check_rng_int(r, 0, full.rank);
        s[k].rank = rank;
        for (int d = 0; d < rank; d++) {
            int64_t dim = full.dims[full.rank - rank + d];
            s[k].dims[d] = (!(first_full && k == 0) && check_rng_int(r, 0, 2) == 0) ? 1 : dim;
        }
    }
}

static void naive_broadcast(const shape *s, int n, shape *out)
{
    out->rank = 0;
    for (int k = 0; k < n; k++)
        out->rank = s[k].rank > out->rank ? s[k].rank : out->rank;
    for (int d = 0; d < out->rank; d++) {
        out->dims[d] = 1;
        for (int k = 0; k < n; k++) {
            int kd = d - (out->rank - s[k].rank);
            if (kd >= 0 && s[k].dims[kd] != 1)
                out->dims[d] = s[k].dims[kd];
        }
    }
}

/* Flat index into input s of the output element with coordinates c (rank out_rank). */
static int64_t naive_index(const shape *s, const int64_t *c, int out_rank)
{
    int64_t idx = 0;
    for (int d = 0; d < s->rank; d++) {
        int64_t coord = s->dims[d] == 1 ? 0 : c[d + out_rank - s->rank];
        idx = idx * s->dims[d] + coord;
    }
    return idx;
}

static double get(const void *p, evo_dtype t, int64_t i)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return ((const float *)p)[i];
    case EVO_DTYPE_DOUBLE: return ((const double *)p)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)p)[i];
    case EVO_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case EVO_DTYPE_INT8: return ((const int8_t *)p)[i];
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    default: return NAN;
    }
}

static void set(void *p, evo_dtype t, int64_t i, double v)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
    case EVO_DTYPE_DOUBLE: ((double *)p)[i] = v; break;
    case EVO_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case EVO_DTYPE_INT64: ((int64_t *)p)[i] = (int64_t)v; break;
    case EVO_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)(int64_t)v; break;
    case EVO_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)(int64_t)v; break;
    case EVO_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

static bool is_flt(evo_dtype t)
{
    return t == EVO_DTYPE_FLOAT || t == EVO_DTYPE_DOUBLE;
}

/* The op in double, with ONNX integer rules when is_int. */
static double naive_op(const char *op, bool is_int, bool fmod_attr, const double *v, int n)
{
    double p = v[0], q = n > 1 ? v[1] : 0;
    if (!strcmp(op, "Add"))
        return p + q;
    if (!strcmp(op, "Sub"))
        return p - q;
    if (!strcmp(op, "Mul"))
        return p * q;
    if (!strcmp(op, "Div"))
        return is_int ? trunc(p / q) : p / q;
    if (!strcmp(op, "Pow"))
        return pow(p, q);
    if (!strcmp(op, "PRelu"))
        return p >= 0 ? p : p * q;
    if (!strcmp(op, "Mod")) {
        double r = p - q * trunc(p / q);
        if (!fmod_attr && r != 0 && (r < 0) != (q < 0))
            r += q;
        return is_int ? r : fmod(p, q);
    }
    if (!strcmp(op, "Equal"))
        return p == q;
    if (!strcmp(op, "Less"))
        return p < q;
    if (!strcmp(op, "Greater"))
        return p > q;
    if (!strcmp(op, "LessOrEqual"))
        return p <= q;
    if (!strcmp(op, "GreaterOrEqual"))
        return p >= q;
    if (!strcmp(op, "And"))
        return p != 0 && q != 0;
    if (!strcmp(op, "Or"))
        return p != 0 || q != 0;
    if (!strcmp(op, "Xor"))
        return (p != 0) != (q != 0);
    if (!strcmp(op, "Where"))
        return v[0] != 0 ? v[1] : v[2];
    double acc = v[0];
    for (int k = 1; k < n; k++) {
        if (!strcmp(op, "Max"))
            acc = v[k] > acc ? v[k] : acc;
        else if (!strcmp(op, "Min"))
            acc = v[k] < acc ? v[k] : acc;
        else
            acc += v[k];
    }
    if (!strcmp(op, "Mean"))
        acc = is_int ? trunc(acc / n) : acc / n;
    return acc;
}

static bool is_compare(const char *op)
{
    return !strcmp(op, "Equal") || !strcmp(op, "Less") || !strcmp(op, "Greater") ||
           !strcmp(op, "LessOrEqual") || !strcmp(op, "GreaterOrEqual") || !strcmp(op, "And") ||
           !strcmp(op, "Or") || !strcmp(op, "Xor");
}

static double random_value(check_rng *r, const char *op, evo_dtype t, int k)
{
    if (t == EVO_DTYPE_BOOL)
        return check_rng_int(r, 0, 1);
    bool divisor = k == 1 && (!strcmp(op, "Div") || !strcmp(op, "Mod"));
    if (!strcmp(op, "Pow"))
        return k == 0 ? check_rng_float(r, 0.1f, 3.0f) : check_rng_int(r, -3, 3);
    if (is_compare(op))
        return check_rng_int(r, -3, 3); // small ints, so that ties occur
    if (is_flt(t)) {
        double v = check_rng_float(r, -4.0f, 4.0f);
        return divisor && fabs(v) < 0.25 ? 1.5 : v;
    }
    int lo = t == EVO_DTYPE_UINT8 ? 0 : -50;
    int64_t v = check_rng_int(r, lo, 50);
    return divisor && v == 0 ? 7 : (double)v;
}

/* One random case: builds the node, checks inference and the kernel against the naive model. */
static void run_case(check_rng *r, const char *op, evo_dtype t, int n_in, bool fmod_attr,
                     int n_tasks)
{
    shape s[MAX_IN], out;
    bool is_prelu = !strcmp(op, "PRelu"), is_where = !strcmp(op, "Where");
    random_shapes(r, n_in, s, is_prelu);
    naive_broadcast(s, n_in, &out);
    evo_graph *g = evo_graph_new("test");
    g->opset = 17;
    int ins[MAX_IN];
    for (int k = 0; k < n_in; k++) {
        char name[8];
        snprintf(name, sizeof(name), "x%d", k);
        evo_dtype kt = (is_where && k == 0) ? EVO_DTYPE_BOOL : t;
        ins[k] = nn_value(g, name, kt, s[k].rank, s[k].dims);
    }
    int node = nn_node(g, op, n_in, ins, 1);
    if (fmod_attr)
        nn_attr_int(g, node, "fmod", 1);
    char desc[256];
    snprintf(desc, sizeof(desc), "%s %s n_in=%d rank=%d tasks=%d seed=%llu", op,
             evo_dtype_name(t), n_in, out.rank, n_tasks, (unsigned long long)r->s);
    evo_error err = {0};
    evo_status st = nn_infer(g, node, &err);
    CHECK_MSG(st == EVO_OK, "%s: %s", desc, err.msg);
    if (st) {
        evo_graph_free(g);
        return;
    }
    const evo_value *y = &g->values[g->nodes[node].out[0]];
    CHECK_MSG(y->rank == out.rank && !memcmp(y->dims, out.dims, sizeof(int64_t) * (size_t)out.rank),
              "%s: output shape", desc);
    evo_dtype out_t = is_compare(op) ? EVO_DTYPE_BOOL : t;
    CHECK_MSG(y->dtype == out_t, "%s: output type %s", desc, evo_dtype_name(y->dtype));
    void *data[MAX_IN];
    for (int k = 0; k < n_in; k++) {
        evo_dtype kt = g->values[ins[k]].dtype;
        int64_t count = shape_count(&s[k]);
        data[k] = malloc(8 * (size_t)(count ? count : 1));
        for (int64_t i = 0; i < count; i++)
            set(data[k], kt, i, random_value(r, op, kt, k));
    }
    int64_t count = shape_count(&out);
    void *got = malloc(8 * (size_t)(count ? count : 1));
    memset(got, 0xa5, 8 * (size_t)(count ? count : 1));
    void *outs[1] = {got};
    nn_run(g, node, data, outs, n_tasks);
    int bad = 0;
    int64_t c[EVO_MAX_RANK];
    for (int64_t i = 0; i < count; i++) {
        int64_t rem = i;
        for (int d = out.rank - 1; d >= 0; d--) {
            c[d] = rem % out.dims[d];
            rem /= out.dims[d];
        }
        double v[MAX_IN];
        for (int k = 0; k < n_in; k++)
            v[k] = get(data[k], g->values[ins[k]].dtype, naive_index(&s[k], c, out.rank));
        double want = naive_op(op, !is_flt(t) && t != EVO_DTYPE_BOOL, fmod_attr, v, n_in);
        if (!is_flt(out_t)) { // wrap like the output type
            double tmp[1] = {0};
            set(tmp, out_t, 0, want);
            want = get(tmp, out_t, 0);
        }
        double have = get(got, out_t, i);
        double tol = is_flt(out_t) ? 2e-6 * (1 + fabs(want)) : 0;
        if (!(fabs(have - want) <= tol)) {
            if (bad++ < 3)
                fprintf(stderr, "%s: element %lld = %.9g, want %.9g\n", desc, (long long)i, have,
                        want);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d mismatches", desc, bad);
    for (int k = 0; k < n_in; k++)
        free(data[k]);
    free(got);
    evo_graph_free(g);
}

static void run_random(const char *op, evo_dtype t, int n_in, bool fmod_attr, int reps)
{
    check_rng r = {0x5eed0000u + (uint64_t)t * 977 + (uint64_t)strlen(op) * 31 + (uint64_t)n_in};
    for (int i = 0; i < reps; i++) {
        run_case(&r, op, t, n_in, fmod_attr, 1);
        run_case(&r, op, t, n_in, fmod_attr, 3);
    }
}

static void test_float_arith(void)
{
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Mod"};
    for (size_t i = 0; i < EVO_ARRAY_LEN(ops); i++) {
        run_random(ops[i], EVO_DTYPE_FLOAT, 2, !strcmp(ops[i], "Mod"), 25);
        run_random(ops[i], EVO_DTYPE_DOUBLE, 2, !strcmp(ops[i], "Mod"), 5);
    }
}

static void test_int_arith(void)
{
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "PRelu"};
    static const evo_dtype types[] = {EVO_DTYPE_INT64, EVO_DTYPE_INT32, EVO_DTYPE_INT8,
                                      EVO_DTYPE_UINT8};
    for (size_t i = 0; i < EVO_ARRAY_LEN(ops); i++) {
        for (size_t j = 0; j < EVO_ARRAY_LEN(types); j++) {
            if (!strcmp(ops[i], "PRelu") && types[j] == EVO_DTYPE_UINT8)
                continue;
            run_random(ops[i], types[j], 2, false, 8);
        }
    }
    run_random("Mod", EVO_DTYPE_INT64, 2, true, 8);
    run_random("Mod", EVO_DTYPE_INT32, 2, true, 8);
}

static void test_compare_logic(void)
{
    static const char *cmp[] = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"};
    for (size_t i = 0; i < EVO_ARRAY_LEN(cmp); i++) {
        run_random(cmp[i], EVO_DTYPE_FLOAT, 2, false, 10);
        run_random(cmp[i], EVO_DTYPE_INT64, 2, false, 10);
        run_random(cmp[i], EVO_DTYPE_INT32, 2, false, 4);
    }
    run_random("Equal", EVO_DTYPE_BOOL, 2, false, 5);
    run_random("And", EVO_DTYPE_BOOL, 2, false, 10);
    run_random("Or", EVO_DTYPE_BOOL, 2, false, 10);
    run_random("Xor", EVO_DTYPE_BOOL, 2, false, 10);
}

static void test_variadic(void)
{
    static const char *ops[] = {"Sum", "Mean", "Max", "Min"};
    for (size_t i = 0; i < EVO_ARRAY_LEN(ops); i++) {
        for (int n = 1; n <= 4; n++)
            run_random(ops[i], EVO_DTYPE_FLOAT, n, false, 6);
        run_random(ops[i], EVO_DTYPE_INT64, 3, false, 4);
    }
}

static void test_where(void)
{
    run_random("Where", EVO_DTYPE_FLOAT, 3, false, 25);
    run_random("Where", EVO_DTYPE_INT64, 3, false, 10);
    run_random("Where", EVO_DTYPE_UINT8, 3, false, 5);
    run_random("Where", EVO_DTYPE_BOOL, 3, false, 5);
}

/* Runs a one-node graph over literal data; returns the status of inference. */
static evo_status run_literal(const char *op, evo_dtype ta, int rank_a, const int64_t *da,
                              const void *a, evo_dtype tb, int rank_b, const int64_t *db,
                              const void *b, bool fmod_attr, void *out, evo_error *err)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 17;
    int ins[2] = {nn_value(g, "a", ta, rank_a, da), nn_value(g, "b", tb, rank_b, db)};
    int node = nn_node(g, op, 2, ins, 1);
    if (fmod_attr)
        nn_attr_int(g, node, "fmod", 1);
    evo_status s = nn_infer(g, node, err);
    if (!s) {
        void *in_data[2] = {(void *)a, (void *)b}, *out_data[1] = {out};
        nn_run(g, node, in_data, out_data, 2);
    }
    evo_graph_free(g);
    return s;
}

static void test_integer_semantics(void)
{
    evo_error err = {0};
    int64_t six = 6;
    int64_t a[6] = {-7, 7, -7, 7, INT64_MIN, 5}, b[6] = {2, -2, -2, 2, -1, 0}, y[6];
    // Div truncates toward zero; INT64_MIN / -1 wraps; x / 0 gives 0 rather than trapping
    CHECK(run_literal("Div", EVO_DTYPE_INT64, 1, &six, a, EVO_DTYPE_INT64, 1, &six, b, false, y,
                      &err) == EVO_OK);
    int64_t div_want[6] = {-3, -3, 3, 3, INT64_MIN, 0};
    for (int i = 0; i < 6; i++)
        CHECK_MSG(y[i] == div_want[i], "Div %d: %lld", i, (long long)y[i]);
    // Mod follows the divisor's sign; fmod=1 the dividend's (ONNX test_mod_mixed_sign_int8)
    int8_t ma[6] = {-4, 7, 5, 4, -7, 8}, mb[6] = {2, -3, 8, -2, 3, 5}, my[6];
    CHECK(run_literal("Mod", EVO_DTYPE_INT8, 1, &six, ma, EVO_DTYPE_INT8, 1, &six, mb, false, my,
                      &err) == EVO_OK);
    int8_t mod_want[6] = {0, -2, 5, 0, 2, 3};
    CHECK(!memcmp(my, mod_want, 6));
    CHECK(run_literal("Mod", EVO_DTYPE_INT8, 1, &six, ma, EVO_DTYPE_INT8, 1, &six, mb, true, my,
                      &err) == EVO_OK);
    int8_t fmod_want[6] = {0, 1, 5, 0, -1, 3};
    CHECK(!memcmp(my, fmod_want, 6));
    // float fmod (ONNX test_mod_mixed_sign_float32)
    float fa[6] = {-4.3f, 7.2f, 5.0f, 4.3f, -7.2f, 8.0f}, fb[6] = {2.1f, -3.4f, 8.0f, -2.1f, 3.4f, 5.0f};
    float fy[6], ff_want[6] = {-0.10000038f, 0.39999962f, 5.0f, 0.10000038f, -0.39999962f, 3.0f};
    CHECK(run_literal("Mod", EVO_DTYPE_FLOAT, 1, &six, fa, EVO_DTYPE_FLOAT, 1, &six, fb, true, fy,
                      &err) == EVO_OK);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(fy[i], ff_want[i], 1e-6);
    // uint8 wraps
    int64_t three = 3;
    uint8_t ua[3] = {250, 3, 128}, ub[3] = {10, 5, 2}, uy[3];
    CHECK(run_literal("Add", EVO_DTYPE_UINT8, 1, &three, ua, EVO_DTYPE_UINT8, 1, &three, ub, false,
                      uy, &err) == EVO_OK);
    CHECK(uy[0] == 4 && uy[1] == 8 && uy[2] == 130);
    CHECK(run_literal("Sub", EVO_DTYPE_UINT8, 1, &three, ua, EVO_DTYPE_UINT8, 1, &three, ub, false,
                      uy, &err) == EVO_OK);
    CHECK(uy[0] == 240 && uy[1] == 254 && uy[2] == 126);
    // Pow with mixed types: the output has the base's type (ONNX test_pow_types_*)
    int64_t ia[3] = {1, 2, 3}, iy[3];
    float fe[3] = {4, 5, 6}, fx[3] = {1, 2, 3}, fr[3];
    CHECK(run_literal("Pow", EVO_DTYPE_INT64, 1, &three, ia, EVO_DTYPE_FLOAT, 1, &three, fe, false,
                      iy, &err) == EVO_OK);
    CHECK(iy[0] == 1 && iy[1] == 32 && iy[2] == 729);
    int64_t ie[3] = {4, 5, 6};
    CHECK(run_literal("Pow", EVO_DTYPE_FLOAT, 1, &three, fx, EVO_DTYPE_INT64, 1, &three, ie, false,
                      fr, &err) == EVO_OK);
    CHECK(fr[0] == 1 && fr[1] == 32 && fr[2] == 729);
    int32_t b32[3] = {3, -2, 0}, e32[3] = {21, 3, 0}, r32[3];
    CHECK(run_literal("Pow", EVO_DTYPE_INT32, 1, &three, b32, EVO_DTYPE_INT32, 1, &three, e32,
                      false, r32, &err) == EVO_OK);
    CHECK(r32[0] == (int32_t)10460353203LL && r32[1] == -8 && r32[2] == 1);
}

static void test_float16(void)
{
    evo_error err = {0};
    int64_t four = 4, one = 1;
    // 1, 2, 0.5, 65504 (+) 1.0 -> 2, 3, 1.5, 65504 (the +1 rounds away)
    uint16_t a[4] = {0x3c00, 0x4000, 0x3800, 0x7bff}, b[1] = {0x3c00}, y[4];
    CHECK(run_literal("Add", EVO_DTYPE_FLOAT16, 1, &four, a, EVO_DTYPE_FLOAT16, 1, &one, b, false,
                      y, &err) == EVO_OK);
    CHECK(y[0] == 0x4000 && y[1] == 0x4200 && y[2] == 0x3e00 && y[3] == 0x7bff);
    CHECK(run_literal("Mul", EVO_DTYPE_FLOAT16, 1, &four, a, EVO_DTYPE_FLOAT16, 1, &four, a, false,
                      y, &err) == EVO_OK);
    CHECK(y[0] == 0x3c00 && y[1] == 0x4400 && y[2] == 0x3400 && y[3] == 0x7c00); // overflow: inf
    uint8_t c[4];
    CHECK(run_literal("Greater", EVO_DTYPE_FLOAT16, 1, &four, a, EVO_DTYPE_FLOAT16, 1, &one, b,
                      false, c, &err) == EVO_OK);
    CHECK(c[0] == 0 && c[1] == 1 && c[2] == 0 && c[3] == 1);
}

static void test_prelu_channel(void)
{
    // x [1,2,2,3] with a legacy slope [2]: one slope per channel (axis 1)
    evo_graph *g = evo_graph_new("test");
    g->opset = 6;
    int64_t xd[4] = {1, 2, 2, 3}, sd[1] = {2};
    int ins[2] = {nn_value(g, "x", EVO_DTYPE_FLOAT, 4, xd), nn_value(g, "s", EVO_DTYPE_FLOAT, 1, sd)};
    int node = nn_node(g, "PRelu", 2, ins, 1);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    float x[12], s[2] = {0.5f, -2.0f}, y[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i % 2 ? -i : i);
    void *in_data[2] = {x, s}, *out_data[1] = {y};
    nn_run(g, node, in_data, out_data, 3);
    for (int i = 0; i < 12; i++) {
        float want = x[i] >= 0 ? x[i] : x[i] * s[i / 6];
        CHECK_NEAR(y[i], want, 0);
    }
    evo_graph_free(g);
}

/* Int64 shape arithmetic folded at compile time by the pass pipeline. */
static void test_fold(void)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = 17;
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int) * 2);
    int64_t two = 2, a[2] = {640, 480}, b[2] = {32, 0};
    int va = evo_graph_add_value(g, "a"), vb = evo_graph_add_value(g, "b");
    evo_error err = {0};
    CHECK(evo_value_set_const(g, &g->values[va], EVO_DTYPE_INT64, 1, &two, a, &err) == EVO_OK);
    CHECK(evo_value_set_const(g, &g->values[vb], EVO_DTYPE_INT64, 1, &two, b, &err) == EVO_OK);
    int ins[2] = {va, vb};
    int n1 = nn_node(g, "Div", 2, ins, 1);
    int q = g->nodes[n1].out[0];
    int ins2[2] = {q, vb};
    int n2 = evo_graph_add_node(g, "Equal", "eq", 2, 1);
    g->nodes[n2].in[0] = ins2[0];
    g->nodes[n2].in[1] = ins2[1];
    int ve = evo_graph_add_value(g, "e");
    g->nodes[n2].out[0] = ve;
    g->outputs[g->n_outputs++] = q;
    g->outputs[g->n_outputs++] = ve;
    g->values[q].is_output = g->values[ve].is_output = true;
    evo_compile_options o = evo_compile_options_default();
    evo_pass_ctx ctx = {&o, &err};
    evo_status s = evo_passes_run(g, &ctx);
    CHECK_MSG(s == EVO_OK, "%s", err.msg);
    if (!s) {
        const int64_t *qd = g->values[q].data;
        const uint8_t *ed = g->values[ve].data;
        CHECK(qd && qd[0] == 20 && qd[1] == 0); // 480 / 0 is defined as 0 here
        CHECK(ed && ed[0] == 0 && ed[1] == 1);
    }
    evo_graph_free(g);
}

static void test_bad_input(void)
{
    evo_error err = {0};
    evo_graph *g = evo_graph_new("test");
    g->opset = 17;
    int64_t d1[2] = {2, 3}, d2[2] = {4, 3}, d3[1] = {3};
    int a = nn_value(g, "a", EVO_DTYPE_FLOAT, 2, d1), b = nn_value(g, "b", EVO_DTYPE_FLOAT, 2, d2);
    int c = nn_value(g, "c", EVO_DTYPE_INT64, 1, d3), f = nn_value(g, "f", EVO_DTYPE_FLOAT, 1, d3);
    int ab[2] = {a, b}, ac[2] = {a, c}, aaa[3] = {a, a, a}, af[2] = {a, f};
    int n = nn_node(g, "Add", 2, ab, 1); // [2,3] + [4,3]
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE && nn_names_node(&err));
    n = nn_node(g, "Mul", 2, ac, 1); // float * int64
    CHECK(nn_infer(g, n, &err) != EVO_OK && nn_names_node(&err));
    n = nn_node(g, "Sub", 3, aaa, 1); // wrong arity
    CHECK(nn_infer(g, n, &err) != EVO_OK && nn_names_node(&err));
    n = nn_node(g, "Where", 2, ab, 1);
    CHECK(nn_infer(g, n, &err) != EVO_OK);
    n = nn_node(g, "Where", 3, aaa, 1); // condition is not bool
    CHECK(nn_infer(g, n, &err) != EVO_OK && strstr(err.msg, "bool"));
    n = nn_node(g, "And", 2, af, 1); // not bool
    CHECK(nn_infer(g, n, &err) == EVO_ERR_UNSUPPORTED);
    n = nn_node(g, "Mod", 2, af, 1); // float Mod needs fmod=1
    CHECK(nn_infer(g, n, &err) != EVO_OK && strstr(err.msg, "fmod"));
    n = nn_node(g, "PRelu", 2, ab, 1); // slope [4,3] does not broadcast to [2,3]
    CHECK(nn_infer(g, n, &err) == EVO_ERR_SHAPE);
    int ba[2] = {b, f};
    n = nn_node(g, "PRelu", 2, ba, 1); // fine: [3] to [4,3]
    CHECK(nn_infer(g, n, &err) == EVO_OK);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_float_arith), CHECK_TEST(test_int_arith), CHECK_TEST(test_compare_logic),
           CHECK_TEST(test_variadic), CHECK_TEST(test_where), CHECK_TEST(test_integer_semantics),
           CHECK_TEST(test_float16), CHECK_TEST(test_prelu_channel), CHECK_TEST(test_fold),
           CHECK_TEST(test_bad_input))
