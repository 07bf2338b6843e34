/*
 * test_fastops.c - the vectorised non-conv kernels (kernels/fastops.h)
 * against the reference kernels, for every variant this CPU can run:
 * random shapes with odd and prime sizes, every supported attribute
 * combination, 1, 2 and 3 tasks. Outputs carry a guard zone after the end
 * that must stay untouched. Max, elementwise arithmetic and data movement
 * must match bit for bit; sums in another order and exp-based ops get a
 * tight tolerance. v_exp itself is checked against double exp over the
 * float range. Also: supports() refuses what the variants do not handle.
 */
#include "nn_util.h"

#include "core/cpu.h"
#include "kernels/fastops.h"

#include <float.h>
#include <stdlib.h>

#define GUARD 67
#define CANARY 12345.678f

typedef struct variant {
    const evo_kernel_def *def;
    const char *what;
} variant;

#if defined(__aarch64__)
/* The NEON variant of the family whose AVX2 variant is avx2, or NULL. */
static const evo_kernel_def *neon_of(const evo_kernel_def *avx2)
{
    static const struct {
        const evo_kernel_def *avx2, *neon;
    } families[] = {
        {&evo_kernel_pool_avx2, &evo_kernel_pool_neon},       {&evo_kernel_global_pool_avx2, &evo_kernel_global_pool_neon},
        {&evo_kernel_binary_avx2, &evo_kernel_binary_neon},   {&evo_kernel_unary_avx2, &evo_kernel_unary_neon},
        {&evo_kernel_softmax_avx2, &evo_kernel_softmax_neon}, {&evo_kernel_concat_avx2, &evo_kernel_concat_neon},
        {&evo_kernel_split_avx2, &evo_kernel_split_neon},     {&evo_kernel_update_avx2, &evo_kernel_update_neon},
        {&evo_kernel_transpose_avx2, &evo_kernel_transpose_neon},
    };
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (families[i].avx2 == avx2)
            return families[i].neon;
    return NULL;
}
#endif

/* The variants of one family that the host can run, best first; returns the count (at most 2). */
static int host_variants(const evo_kernel_def *avx512, const evo_kernel_def *avx2, variant *out)
{
    int n = 0;
#if defined(__aarch64__)
    evo_isa best = evo_cpu_best_isa();
#endif
    out[0] = out[1] = (variant){NULL, ""};
#if defined(__aarch64__)
    if (best >= EVO_ISA_NEON && neon_of(avx2))
        out[n++] = (variant){neon_of(avx2), "neon"};
#else
    if (check_host_runs(avx512))
        out[n++] = (variant){avx512, "avx512"};
    if (check_host_runs(avx2))
        out[n++] = (variant){avx2, "avx2"};
#endif
    return n;
}

/* Runs kernel k on node as n_tasks tasks (in reverse order) over the given buffers. */
static void run_kernel(const evo_kernel_def *k, evo_graph *g, int node, void *const *in_data,
                       void *const *out_data, int n_tasks)
{
    evo_node *n = &g->nodes[node];
    evo_tensor in[8], out[8];
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] >= 0)
            nn_tensor(&g->values[n->in[i]], in_data[i], &in[i]);
        else
            memset(&in[i], 0, sizeof(in[i]));
    }
    for (int i = 0; i < n->n_out; i++)
        nn_tensor(&g->values[n->out[i]], out_data[i], &out[i]);
    size_t bytes = k->scratch_bytes ? k->scratch_bytes(g, n, n_tasks) : 0;
    void *scratch = bytes ? evo_aligned_alloc(bytes) : NULL;
    if (scratch)
        memset(scratch, 0x7f, bytes); // garbage a kernel must not rely on
    evo_kernel_args args = {n, in, n->n_in, out, n->n_out, scratch, bytes, NULL};
    for (int t = n_tasks - 1; t >= 0; t--)
        k->run(&args, t, n_tasks);
    evo_aligned_free(scratch);
}

static float *alloc_out(int64_t n)
{
    float *p = malloc(sizeof(float) * (size_t)(n + GUARD));
    for (int64_t i = 0; i < n + GUARD; i++)
        p[i] = CANARY;
    return p;
}

static int64_t value_count(const evo_graph *g, int id)
{
    int64_t n = 1;
    for (int i = 0; i < g->values[id].rank; i++)
        n *= g->values[id].dims[i];
    return n;
}

/*
 * got vs want (n floats): bit-exact when rel_tol == 0, else |d| <= rel_tol *
 * max(|want|, floor). The guard after got must hold the canary.
 */
static bool same_floats(const float *got, const float *want, int64_t n, double rel_tol, double floor_,
                        const char *what)
{
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        bool ok;
        if (rel_tol == 0)
            ok = memcmp(&got[i], &want[i], sizeof(float)) == 0;
        else
            ok = got[i] == want[i] || fabs((double)got[i] - want[i]) <= rel_tol * fmax(fabs((double)want[i]), floor_) ||
                 (isnan(got[i]) && isnan(want[i]));
        if (!ok && bad++ < 3)
            fprintf(stderr, "%s: element %lld = %.9g, want %.9g\n", what, (long long)i, got[i],
                    want[i]);
    }
    for (int64_t i = n; i < n + GUARD; i++) {
        if (got[i] != CANARY && bad++ < 3)
            fprintf(stderr, "%s: wrote past the end at %lld\n", what, (long long)i);
    }
    return bad == 0;
}

static const int task_counts[] = {1, 2, 3};

/* Runs the reference and every host variant of node with 1/2/3 tasks; compares output 0. */
static void compare_variants(evo_graph *g, int node, void *const *in_data, const evo_kernel_def *avx512,
                             const evo_kernel_def *avx2, bool expect_support, double rel_tol,
                             double floor_, const char *what)
{
    int y = g->nodes[node].out[0];
    int64_t n = value_count(g, y);
    float *want = alloc_out(n);
    void *want_out[1] = {want};
    nn_run(g, node, in_data, want_out, 1);
    variant vs[2];
    int nv = host_variants(avx512, avx2, vs);
    for (int v = 0; v < nv; v++) {
        bool sup = !vs[v].def->supports || vs[v].def->supports(g, &g->nodes[node]);
        CHECK_MSG(sup == expect_support, "%s %s: supports() = %d", what, vs[v].what, sup);
        if (!sup)
            continue;
        for (int t = 0; t < 3; t++) {
            float *got = alloc_out(n);
            void *got_out[1] = {got};
            run_kernel(vs[v].def, g, node, in_data, got_out, task_counts[t]);
            char msg[256];
            snprintf(msg, sizeof(msg), "%s %s tasks=%d", what, vs[v].what, task_counts[t]);
            CHECK_MSG(same_floats(got, want, n, rel_tol, floor_, msg), "%s", msg);
            free(got);
        }
    }
    free(want);
}

static float *random_floats(check_rng *r, int64_t n, float lo, float hi)
{
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        x[i] = check_rng_float(r, lo, hi);
    return x;
}

/* ---- pooling ---- */

typedef struct pool2d {
    bool is_max;
    int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr;
    int ceil_mode, count_include_pad;
} pool2d;

static void check_pool2d(check_rng *r, const pool2d *pc)
{
    evo_graph *g = evo_graph_new("test");
    int64_t xd[4] = {pc->n, pc->c, pc->h, pc->w};
    int x = nn_value(g, "X", EVO_DTYPE_FLOAT, 4, xd);
    int node = nn_node(g, pc->is_max ? "MaxPool" : "AveragePool", 1, &x, 1);
    int64_t k[2] = {pc->kh, pc->kw}, s[2] = {pc->sh, pc->sw}, pads[4] = {pc->pt, pc->pl, pc->pb, pc->pr};
    nn_attr_ints(g, node, "kernel_shape", k, 2);
    nn_attr_ints(g, node, "strides", s, 2);
    nn_attr_ints(g, node, "pads", pads, 4);
    nn_attr_int(g, node, "ceil_mode", pc->ceil_mode);
    if (!pc->is_max)
        nn_attr_int(g, node, "count_include_pad", pc->count_include_pad);
    evo_error err;
    if (nn_infer(g, node, &err) == EVO_OK) {
        float *xs = random_floats(r, pc->n * pc->c * pc->h * pc->w, -3.0f, 1.0f);
        void *ins[1] = {xs};
        char what[200];
        snprintf(what, sizeof(what), "%s %lldx%lldx%lldx%lld k%lldx%lld s%lldx%lld p%lld,%lld,%lld,%lld ceil%d cip%d",
                 pc->is_max ? "MaxPool" : "AveragePool", (long long)pc->n, (long long)pc->c,
                 (long long)pc->h, (long long)pc->w, (long long)pc->kh, (long long)pc->kw,
                 (long long)pc->sh, (long long)pc->sw, (long long)pc->pt, (long long)pc->pl,
                 (long long)pc->pb, (long long)pc->pr, pc->ceil_mode, pc->count_include_pad);
        compare_variants(g, node, ins, &evo_kernel_pool_avx512, &evo_kernel_pool_avx2, true,
                         pc->is_max ? 0 : 2e-6, 1.0, what);
        free(xs);
    }
    evo_graph_free(g);
}

static void test_pool_yolo_resnet_shapes(void)
{
    check_rng r = {11};
    static const pool2d cases[] = {
        {true, 1, 7, 20, 20, 5, 5, 1, 1, 2, 2, 2, 2, 0, 0},   // SPPF
        {true, 1, 5, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0}, // ResNet stem
        {true, 2, 3, 17, 33, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0},
        {false, 1, 4, 14, 14, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0},
        {false, 1, 3, 13, 29, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1},
        {false, 1, 3, 13, 29, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
        {true, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {true, 1, 2, 3, 3, 3, 3, 1, 1, 2, 2, 2, 2, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_pool2d(&r, &cases[i]);
}

static void test_pool_random(void)
{
    check_rng r = {0x5eed};
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 37, 41};
    for (int it = 0; it < 300; it++) {
        pool2d pc;
        pc.is_max = check_rng_int(&r, 0, 1);
        pc.n = check_rng_int(&r, 1, 2);
        pc.c = check_rng_int(&r, 1, 5);
        pc.h = sizes[check_rng_int(&r, 0, 11)];
        pc.w = sizes[check_rng_int(&r, 0, 11)];
        pc.kh = check_rng_int(&r, 1, 6);
        pc.kw = check_rng_int(&r, 1, 6);
        pc.sh = check_rng_int(&r, 1, 4);
        pc.sw = check_rng_int(&r, 1, 4);
        pc.pt = check_rng_int(&r, 0, (int)pc.kh - 1);
        pc.pb = check_rng_int(&r, 0, (int)pc.kh - 1);
        pc.pl = check_rng_int(&r, 0, (int)pc.kw - 1);
        pc.pr = check_rng_int(&r, 0, (int)pc.kw - 1);
        pc.ceil_mode = check_rng_int(&r, 0, 1);
        pc.count_include_pad = check_rng_int(&r, 0, 1);
        if (pc.kh > pc.h + pc.pt + pc.pb || pc.kw > pc.w + pc.pl + pc.pr)
            continue;
        check_pool2d(&r, &pc);
    }
}

static void test_global_pool(void)
{
    check_rng r = {77};
    static const int64_t shapes[][4] = {{1, 512, 7, 7}, {2, 3, 1, 1}, {1, 5, 13, 17}, {1, 2, 100, 101}, {3, 1, 4, 4}};
    for (int op = 0; op < 2; op++) {
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
            evo_graph *g = evo_graph_new("test");
            int x = nn_value(g, "X", EVO_DTYPE_FLOAT, 4, shapes[i]);
            int node = nn_node(g, op ? "GlobalMaxPool" : "GlobalAveragePool", 1, &x, 1);
            evo_error err;
            CHECK(nn_infer(g, node, &err) == EVO_OK);
            float *xs = random_floats(&r, value_count(g, x), -2.0f, 3.0f);
            void *ins[1] = {xs};
            compare_variants(g, node, ins, &evo_kernel_global_pool_avx512, &evo_kernel_global_pool_avx2,
                             true, op ? 0 : 1e-6, 1e-3, op ? "GlobalMaxPool" : "GlobalAveragePool");
            free(xs);
            evo_graph_free(g);
        }
    }
}

/* Pooling forms the variants leave to the reference: 3-D, Indices, dilation, int8. */
static void test_pool_refused(void)
{
    variant vs[2];
    int nv = host_variants(&evo_kernel_pool_avx512, &evo_kernel_pool_avx2, vs);
    for (int form = 0; form < 4; form++) {
        evo_graph *g = evo_graph_new("test");
        int64_t xd[5] = {1, 2, 6, 6, 6};
        int x = nn_value(g, "X", form == 3 ? EVO_DTYPE_INT8 : EVO_DTYPE_FLOAT, form == 0 ? 5 : 4, xd);
        int node = nn_node(g, "MaxPool", 1, &x, form == 1 ? 2 : 1);
        int64_t k[3] = {2, 2, 2}, d[2] = {2, 2};
        nn_attr_ints(g, node, "kernel_shape", k, form == 0 ? 3 : 2);
        if (form == 2)
            nn_attr_ints(g, node, "dilations", d, 2);
        evo_error err;
        CHECK(nn_infer(g, node, &err) == EVO_OK);
        for (int v = 0; v < nv; v++)
            CHECK_MSG(!vs[v].def->supports(g, &g->nodes[node]), "form %d %s", form, vs[v].what);
        evo_graph_free(g);
    }
}

/* ---- elementwise binary ---- */

static void check_binary(check_rng *r, const char *op, int ra, const int64_t *da, int rb, const int64_t *db)
{
    evo_graph *g = evo_graph_new("test");
    int ins[2] = {nn_value(g, "A", EVO_DTYPE_FLOAT, ra, da), nn_value(g, "B", EVO_DTYPE_FLOAT, rb, db)};
    int node = nn_node(g, op, 2, ins, 1);
    evo_error err;
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    float *a = random_floats(r, value_count(g, ins[0]), -2.0f, 2.0f);
    float *b = random_floats(r, value_count(g, ins[1]), -2.0f, 2.0f);
    void *in_data[2] = {a, b};
    char what[200];
    snprintf(what, sizeof(what), "%s rank %d [%lld..] op rank %d [%lld..]", op, ra,
             (long long)(ra ? da[0] : 1), rb, (long long)(rb ? db[0] : 1));
    compare_variants(g, node, in_data, &evo_kernel_binary_avx512, &evo_kernel_binary_avx2, true, 0, 0, what);
    free(a);
    free(b);
    evo_graph_free(g);
}

static void test_binary_shapes(void)
{
    check_rng r = {99};
    static const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    int64_t same[4] = {1, 3, 17, 29}, chan[4] = {1, 3, 1, 1}, chan3[3] = {3, 1, 1};
    int64_t one[1] = {1}, yolo[5] = {1, 3, 8, 7, 2}, anchor[5] = {1, 3, 1, 1, 2};
    int64_t mid_a[3] = {2, 1, 5}, mid_b[3] = {2, 3, 5}, row[2] = {1, 37}, col[2] = {13, 1};
    int64_t big[2] = {5, 1031};
    for (int o = 0; o < 4; o++) {
        check_binary(&r, ops[o], 4, same, 4, same);
        check_binary(&r, ops[o], 4, same, 0, one);
        check_binary(&r, ops[o], 0, one, 4, same);
        check_binary(&r, ops[o], 1, one, 4, same);
        check_binary(&r, ops[o], 4, same, 4, chan);
        check_binary(&r, ops[o], 4, chan, 4, same);
        check_binary(&r, ops[o], 4, same, 3, chan3);
        check_binary(&r, ops[o], 5, yolo, 5, anchor);
        check_binary(&r, ops[o], 3, mid_a, 3, mid_b);
        check_binary(&r, ops[o], 2, row, 2, col);
        check_binary(&r, ops[o], 2, big, 2, big);
        check_binary(&r, ops[o], 0, one, 0, one);
    }
}

static void test_binary_random(void)
{
    check_rng r = {1234};
    static const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    for (int it = 0; it < 200; it++) {
        int rank = check_rng_int(&r, 1, 5);
        int64_t da[5], db[5];
        for (int d = 0; d < rank; d++) {
            int64_t dim = check_rng_int(&r, 1, 19);
            int form = check_rng_int(&r, 0, 3); // both, a broadcast, b broadcast, both 1
            da[d] = form == 1 || form == 3 ? 1 : dim;
            db[d] = form == 2 || form == 3 ? 1 : dim;
        }
        int rb = check_rng_int(&r, 0, rank); // b may have fewer (leading) axes
        check_binary(&r, ops[it % 4], rank, da, rb, db + (rank - rb));
    }
}

/* ---- elementwise unary ---- */

static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 88.7f, 88.8f, -87.4f, -103.0f, -110.0f,
                                200.0f, -200.0f, 1e-30f, -1e-30f, 3.4e38f, -3.4e38f};

static float *unary_input(check_rng *r, int64_t n, bool with_nan)
{
    float *x = random_floats(r, n, -12.0f, 12.0f);
    int n_special = (int)(sizeof(special) / sizeof(special[0]));
    for (int64_t i = 0; i < n; i += 3)
        x[i] = special[(i / 3) % n_special];
    if (with_nan && n > 4) {
        x[4] = NAN;
        x[n - 1] = INFINITY;
        x[n / 2] = -INFINITY;
    }
    return x;
}

static void test_unary_ops(void)
{
    check_rng r = {4242};
    static const char *ops[] = {"Relu", "LeakyRelu", "Sigmoid", "Exp", "Clip", "HardSigmoid",
                                "HardSwish", "Neg", "Abs", "Sqrt", "Reciprocal"};
    static const int64_t lens[] = {1, 5, 8, 15, 16, 17, 33, 1000, 4099};
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        bool approx = strcmp(ops[o], "Sigmoid") == 0 || strcmp(ops[o], "Exp") == 0;
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            for (int clip_form = 0; clip_form < (strcmp(ops[o], "Clip") == 0 ? 3 : 1); clip_form++) {
                evo_graph *g = evo_graph_new("test");
                g->opset = clip_form == 0 ? 6 : 13;
                float lo = -1.5f, hi = 2.25f;
                int ins[3] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 1, &lens[l]), -1, -1};
                int n_in = 1;
                if (clip_form > 0) {
                    int64_t none[1] = {1};
                    ins[1] = nn_value(g, "lo", EVO_DTYPE_FLOAT, 0, none);
                    ins[2] = nn_value(g, "hi", EVO_DTYPE_FLOAT, 0, none);
                    n_in = 3;
                    if (clip_form == 2) { // constant bounds
                        g->values[ins[1]].data = &lo;
                        g->values[ins[2]].data = &hi;
                        g->values[ins[1]].size_bytes = g->values[ins[2]].size_bytes = 4;
                    }
                }
                int node = nn_node(g, ops[o], n_in, ins, 1);
                if (strcmp(ops[o], "LeakyRelu") == 0 || strcmp(ops[o], "HardSigmoid") == 0)
                    nn_attr_float(g, node, "alpha", 0.37f);
                if (strcmp(ops[o], "HardSigmoid") == 0)
                    nn_attr_float(g, node, "beta", 0.41f);
                if (clip_form == 0 && strcmp(ops[o], "Clip") == 0) {
                    nn_attr_float(g, node, "min", lo);
                    nn_attr_float(g, node, "max", hi);
                }
                evo_error err = {0};
                CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s: %s", ops[o], err.msg);
                float *x = unary_input(&r, lens[l], true);
                void *in_data[3] = {x, &lo, &hi};
                char what[120];
                snprintf(what, sizeof(what), "%s n=%lld clip_form %d", ops[o], (long long)lens[l], clip_form);
                // 3 ulp; Exp flushes subnormal results, so below 1e-30 the error is absolute
                compare_variants(g, node, in_data, &evo_kernel_unary_avx512, &evo_kernel_unary_avx2, true,
                                 approx ? 3.6e-7 : 0, 1e-30, what);
                free(x);
                evo_graph_free(g);
            }
        }
    }
}

/* Exp and Sigmoid against double precision over the whole float range, 3 ulp. */
static void test_exp_accuracy(void)
{
    check_rng r = {31337};
    int64_t n = 200003;
    for (int op = 0; op < 2; op++) {
        evo_graph *g = evo_graph_new("test");
        int x_id = nn_value(g, "X", EVO_DTYPE_FLOAT, 1, &n);
        int node = nn_node(g, op ? "Sigmoid" : "Exp", 1, &x_id, 1);
        evo_error err;
        CHECK(nn_infer(g, node, &err) == EVO_OK);
        float *x = random_floats(&r, n, -104.0f, 89.0f);
        for (int64_t i = 0; i < n; i += 2)
            x[i] = check_rng_float(&r, -1.0f, 1.0f) * (i % 4 ? 1.0f : 1e-3f);
        float *y = alloc_out(n);
        void *in_data[1] = {x}, *out_data[1] = {y};
        variant vs[2];
        int nv = host_variants(&evo_kernel_unary_avx512, &evo_kernel_unary_avx2, vs);
        for (int v = 0; v < nv; v++) {
            run_kernel(vs[v].def, g, node, in_data, out_data, 2);
            double worst = 0;
            int64_t worst_at = 0;
            for (int64_t i = 0; i < n; i++) {
                double xd = x[i], want = op ? 1.0 / (1.0 + exp(-xd)) : exp(xd);
                if (want > FLT_MAX) {
                    CHECK(isinf(y[i]));
                    continue;
                }
                if (op && -xd > log(FLT_MAX)) { // e^-x overflows: 0, as with expf
                    CHECK(y[i] == 0.0f);
                    continue;
                }
                if (xd < -87.33) { // subnormal results flush to 0
                    CHECK(y[i] == 0.0f);
                    continue;
                }
                double err_rel = fabs(y[i] - want) / want;
                if (err_rel > worst) {
                    worst = err_rel;
                    worst_at = i;
                }
            }
            CHECK_MSG(worst < 3.6e-7, "%s %s: worst rel err %.3g at x = %.9g", op ? "Sigmoid" : "Exp",
                      vs[v].what, worst, x[worst_at]);
        }
        free(x);
        free(y);
        evo_graph_free(g);
    }
}

/* ---- softmax ---- */

static void check_softmax(check_rng *r, int opset, int rank, const int64_t *dims, int64_t axis, float spread)
{
    evo_graph *g = evo_graph_new("test");
    g->opset = opset;
    int x = nn_value(g, "X", EVO_DTYPE_FLOAT, rank, dims);
    int node = nn_node(g, "Softmax", 1, &x, 1);
    nn_attr_int(g, node, "axis", axis);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    float *xs = random_floats(r, value_count(g, x), -spread, spread);
    void *ins[1] = {xs};
    char what[120];
    snprintf(what, sizeof(what), "Softmax opset %d rank %d axis %lld spread %g", opset, rank, (long long)axis,
             spread);
    // 1e-5: along a row of 1000 the reference adds in float one term at a time
    compare_variants(g, node, ins, &evo_kernel_softmax_avx512, &evo_kernel_softmax_avx2, true,
                     dims[rank - 1] >= 1000 ? 1e-5 : 1e-6, 1e-30, what);
    free(xs);
    evo_graph_free(g);
}

static void test_softmax(void)
{
    check_rng r = {555};
    int64_t dfl[4] = {1, 16, 4, 37}, rows[2] = {3, 17}, wide[3] = {2, 5, 1000}, four[4] = {2, 3, 4, 5};
    int64_t one[2] = {7, 1}, cls[2] = {1, 1000}, odd[3] = {3, 7, 23};
    check_softmax(&r, 13, 4, dfl, 1, 4.0f);
    check_softmax(&r, 13, 2, rows, 1, 4.0f);
    check_softmax(&r, 13, 2, rows, 0, 4.0f);
    check_softmax(&r, 13, 3, wide, -1, 4.0f);
    check_softmax(&r, 13, 3, wide, 1, 4.0f);
    check_softmax(&r, 13, 4, four, 2, 4.0f);
    check_softmax(&r, 13, 4, four, 0, 4.0f);
    check_softmax(&r, 13, 2, one, 1, 4.0f);
    check_softmax(&r, 13, 2, cls, 1, 100.0f); // outputs down to 0 (flushed) next to 1
    check_softmax(&r, 13, 3, odd, 1, 100.0f);
    check_softmax(&r, 11, 3, odd, 1, 4.0f); // legacy: coerced to [3, 7 * 23]
    check_softmax(&r, 11, 4, four, 2, 4.0f);
}

/* ---- transpose ---- */

static void check_transpose(check_rng *r, evo_dtype t, int rank, const int64_t *dims, const int64_t *perm,
                            bool expect_support)
{
    evo_graph *g = evo_graph_new("test");
    int x = nn_value(g, "X", t, rank, dims);
    int node = nn_node(g, "Transpose", 1, &x, 1);
    nn_attr_ints(g, node, "perm", perm, rank);
    evo_error err = {0};
    CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
    int64_t n = value_count(g, x);
    float *xs = random_floats(r, n, -5.0f, 5.0f);
    if (t == EVO_DTYPE_INT32)
        for (int64_t i = 0; i < n; i++)
            ((int32_t *)xs)[i] = (int32_t)check_rng_u64(r);
    void *ins[1] = {xs};
    char what[160];
    int len = snprintf(what, sizeof(what), "Transpose dims");
    for (int i = 0; i < rank; i++)
        len += snprintf(what + len, sizeof(what) - (size_t)len, " %lld", (long long)dims[i]);
    len += snprintf(what + len, sizeof(what) - (size_t)len, " perm");
    for (int i = 0; i < rank; i++)
        len += snprintf(what + len, sizeof(what) - (size_t)len, " %lld", (long long)perm[i]);
    compare_variants(g, node, ins, &evo_kernel_transpose_avx512, &evo_kernel_transpose_avx2, expect_support,
                     0, 0, what);
    free(xs);
    evo_graph_free(g);
}

static void test_transpose(void)
{
    check_rng r = {3};
    int64_t yolo[5] = {1, 3, 85, 13, 11}, yp[5] = {0, 1, 3, 4, 2};
    int64_t m[2] = {37, 29}, mp[2] = {1, 0}, m8[2] = {64, 16};
    int64_t b3[3] = {5, 9, 17}, bp[3] = {0, 2, 1};
    int64_t u[4] = {2, 1, 19, 8}, up[4] = {0, 3, 1, 2}; // the size-1 axis moves along
    int64_t nchw[4] = {1, 24, 7, 9}, to_nhwc[4] = {0, 2, 3, 1}, to_nchw[4] = {0, 3, 1, 2};
    int64_t dfl[4] = {1, 4, 16, 37}, dflp[4] = {0, 2, 1, 3}, rev[3] = {2, 1, 0};
    check_transpose(&r, EVO_DTYPE_FLOAT, 5, yolo, yp, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 2, m, mp, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 2, m8, mp, true);
    check_transpose(&r, EVO_DTYPE_INT32, 3, b3, bp, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 4, u, up, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 4, nchw, to_nhwc, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 4, nchw, to_nchw, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 4, dfl, dflp, true); // rows stay rows: copied as runs
    check_transpose(&r, EVO_DTYPE_FLOAT, 3, b3, rev, false);
    int64_t ident[3] = {0, 1, 2};
    check_transpose(&r, EVO_DTYPE_FLOAT, 3, b3, ident, false);
    /* output blocks with 16-, 8- and 1-column tails, rows past a multiple of 8 */
    int64_t head[5] = {1, 3, 85, 40, 41}, wide[3] = {2, 70, 1029};
    check_transpose(&r, EVO_DTYPE_FLOAT, 5, head, yp, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 3, wide, bp, true);
    /* channel shuffles: runs of H * W, tasks splitting inside a group; runs under 16 stay on the reference */
    int64_t shuf[5] = {1, 2, 58, 28, 28}, shp[5] = {0, 2, 1, 3, 4}, shuf2[5] = {2, 3, 5, 4, 4};
    int64_t small[5] = {1, 2, 3, 3, 1}, grp[4] = {3, 4, 5, 17}, grpp[4] = {2, 0, 1, 3};
    check_transpose(&r, EVO_DTYPE_FLOAT, 5, shuf, shp, true);
    check_transpose(&r, EVO_DTYPE_INT32, 5, shuf2, shp, true);
    check_transpose(&r, EVO_DTYPE_FLOAT, 5, small, shp, false);
    check_transpose(&r, EVO_DTYPE_FLOAT, 4, grp, grpp, true);
}

/* ---- concat / split ---- */

static void test_concat(void)
{
    check_rng r = {4};
    static const int64_t chunks[][3] = {{2, 2, 81}, {1, 7, 3}, {64, 64, 128}, {300, 5, 17}, {16, 1, 33}};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        for (int axis = 1; axis <= 3; axis += 2) {
            evo_graph *g = evo_graph_new("test");
            int ins[3];
            float *xs[3];
            for (int i = 0; i < 3; i++) {
                int64_t d[4] = {1, 3, 11, 5};
                d[axis] = chunks[c][i];
                char name[8];
                snprintf(name, sizeof(name), "x%d", i);
                ins[i] = nn_value(g, name, EVO_DTYPE_FLOAT, 4, d);
                xs[i] = random_floats(&r, value_count(g, ins[i]), -1.0f, 1.0f);
            }
            int node = nn_node(g, "Concat", 3, ins, 1);
            nn_attr_int(g, node, "axis", axis);
            evo_error err = {0};
            CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
            void *in_data[3] = {xs[0], xs[1], xs[2]};
            char what[80];
            snprintf(what, sizeof(what), "Concat axis %d chunks %lld %lld %lld", axis, (long long)chunks[c][0],
                     (long long)chunks[c][1], (long long)chunks[c][2]);
            compare_variants(g, node, in_data, &evo_kernel_concat_avx512, &evo_kernel_concat_avx2, true, 0, 0,
                             what);
            for (int i = 0; i < 3; i++)
                free(xs[i]);
            evo_graph_free(g);
        }
    }
}

/* Split: every output of every variant vs the reference. */
static void test_split(void)
{
    check_rng r = {5};
    static const int64_t parts[][3] = {{2, 2, 81}, {1, 7, 3}, {64, 64, 128}, {16, 1, 33}};
    variant vs[2];
    int nv = host_variants(&evo_kernel_split_avx512, &evo_kernel_split_avx2, vs);
    for (size_t c = 0; c < sizeof(parts) / sizeof(parts[0]); c++) {
        for (int axis = 0; axis < 3; axis += 2) {
            evo_graph *g = evo_graph_new("test");
            g->opset = 13;
            int64_t d[3] = {3, 7, 5}, three = 3;
            d[axis] = parts[c][0] + parts[c][1] + parts[c][2];
            int ins[2] = {nn_value(g, "X", EVO_DTYPE_FLOAT, 3, d), evo_graph_add_value(g, "sizes")};
            CHECK(evo_value_set_const(g, &g->values[ins[1]], EVO_DTYPE_INT64, 1, &three, parts[c], NULL) == EVO_OK);
            int node = nn_node(g, "Split", 2, ins, 3);
            nn_attr_int(g, node, "axis", axis);
            evo_error err = {0};
            CHECK_MSG(nn_infer(g, node, &err) == EVO_OK, "%s", err.msg);
            int64_t total = value_count(g, ins[0]), cnt[3];
            float *x = random_floats(&r, total, -1.0f, 1.0f), *want[3];
            for (int i = 0; i < 3; i++) {
                cnt[i] = value_count(g, g->nodes[node].out[i]);
                want[i] = alloc_out(cnt[i]);
            }
            void *in_data[2] = {x, NULL}, *want_out[3] = {want[0], want[1], want[2]};
            nn_run(g, node, in_data, want_out, 1);
            for (int v = 0; v < nv; v++) {
                CHECK(vs[v].def->supports(g, &g->nodes[node]));
                for (int t = 1; t <= 3; t++) {
                    float *got[3];
                    for (int i = 0; i < 3; i++)
                        got[i] = alloc_out(cnt[i]);
                    void *got_out[3] = {got[0], got[1], got[2]};
                    run_kernel(vs[v].def, g, node, in_data, got_out, t);
                    for (int i = 0; i < 3; i++) {
                        CHECK_MSG(same_floats(got[i], want[i], cnt[i], 0, 0, "Split"),
                                  "%s axis %d parts %zu output %d tasks %d", vs[v].what, axis, c, i, t);
                        free(got[i]);
                    }
                }
            }
            for (int i = 0; i < 3; i++)
                free(want[i]);
            free(x);
            evo_graph_free(g);
        }
    }
}

/*
 * evo.UpdateSlices: the reference and every variant against a plain loop,
 * into a separate output (input 0 copied) and in place (the output is
 * input 0's buffer, as the planner arranges), 1-3 tasks. Updates of 2, 2
 * and 3 along the axis at starts 0, 2 and 6 of 11, the rest passing
 * through; the YOLOv5 shape (2 + 2 of 85) too.
 */
static void test_update_slices(void)
{
    check_rng r = {6};
    static const int64_t shapes[][3] = {{3, 11, 7}, {40, 11, 1}, {1, 11, 9}, {60, 85, 1}};
    const evo_kernel_def *defs[3] = {evo_kernel_ref(EVO_OP_UPDATE_SLICES), NULL, NULL};
    const char *names[3] = {"ref", "avx512", "avx2"};
    variant vs[2];
    int nv = host_variants(&evo_kernel_update_avx512, &evo_kernel_update_avx2, vs);
    for (int v = 0; v < nv; v++)
        defs[v + 1] = vs[v].def, names[v + 1] = vs[v].what;
    for (size_t c = 0; c < sizeof(shapes) / sizeof(shapes[0]); c++) {
        evo_graph *g = evo_graph_new("test");
        int64_t xd[3] = {shapes[c][0], shapes[c][1], shapes[c][2]}, len[3] = {2, 2, 3};
        int64_t at[3] = {0, 2, xd[1] == 85 ? 4 : 6};
        int n_upd = xd[1] == 85 ? 2 : 3, ins[4];
        ins[0] = nn_value(g, "X", EVO_DTYPE_FLOAT, 3, xd);
        float *data[4];
        data[0] = random_floats(&r, value_count(g, ins[0]), -1.0f, 1.0f);
        for (int i = 0; i < n_upd; i++) {
            int64_t ud[3] = {xd[0], len[i], xd[2]};
            char name[8];
            snprintf(name, sizeof(name), "u%d", i);
            ins[i + 1] = nn_value(g, name, EVO_DTYPE_FLOAT, 3, ud);
            data[i + 1] = random_floats(&r, value_count(g, ins[i + 1]), 2.0f, 3.0f);
        }
        int node = nn_node(g, "evo.UpdateSlices", n_upd + 1, ins, 1);
        CHECK(g->nodes[node].op == EVO_OP_UPDATE_SLICES);
        g->nodes[node].a.split = (evo_split_attrs){.axis = 1, .n_splits = n_upd, .sizes = at};
        evo_error err = {0};
        CHECK_MSG(evo_op_get(EVO_OP_UPDATE_SLICES)->infer(g, &g->nodes[node], &err) == EVO_OK, "%s", err.msg);
        int64_t n = value_count(g, ins[0]);
        float *want = alloc_out(n);
        memcpy(want, data[0], sizeof(float) * (size_t)n);
        for (int i = 0; i < n_upd; i++)
            for (int64_t o = 0; o < xd[0]; o++)
                for (int64_t k = 0; k < len[i] * xd[2]; k++)
                    want[(o * xd[1] + at[i]) * xd[2] + k] = data[i + 1][o * len[i] * xd[2] + k];
        void *in_data[4] = {data[0], data[1], data[2], n_upd > 2 ? data[3] : NULL};
        for (int v = 0; v <= nv; v++) {
            CHECK(!defs[v]->supports || defs[v]->supports(g, &g->nodes[node]));
            for (int t = 1; t <= 3; t++) {
                for (int inplace = 0; inplace < 2; inplace++) {
                    float *got = alloc_out(n);
                    if (inplace)
                        memcpy(got, data[0], sizeof(float) * (size_t)n);
                    void *in2[4] = {inplace ? got : in_data[0], in_data[1], in_data[2], in_data[3]};
                    void *got_out[1] = {got};
                    run_kernel(defs[v], g, node, in2, got_out, t);
                    char msg[128];
                    snprintf(msg, sizeof(msg), "UpdateSlices %s shape %zu tasks %d%s", names[v], c, t,
                             inplace ? " in place" : "");
                    CHECK_MSG(same_floats(got, want, n, 0, 0, msg), "%s", msg);
                    free(got);
                }
            }
        }
        free(want);
        for (int i = 0; i <= n_upd; i++)
            free(data[i]);
        evo_graph_free(g);
    }
}

CHECK_MAIN(CHECK_TEST(test_pool_yolo_resnet_shapes), CHECK_TEST(test_pool_random),
           CHECK_TEST(test_global_pool), CHECK_TEST(test_pool_refused), CHECK_TEST(test_binary_shapes),
           CHECK_TEST(test_binary_random), CHECK_TEST(test_unary_ops), CHECK_TEST(test_exp_accuracy),
           CHECK_TEST(test_softmax), CHECK_TEST(test_transpose), CHECK_TEST(test_concat),
           CHECK_TEST(test_split), CHECK_TEST(test_update_slices))
