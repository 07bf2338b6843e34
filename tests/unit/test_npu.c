/*
 * test_npu.c - NPU targets as data: every rule of every target table has a
 * case that passes and one that fails (with the rule's text and source in
 * the message), a few rules checked with their exact messages, the target
 * parser, the partition count on placement sequences, and the placement of
 * a small hand-built int8 graph.
 */
#include "check.h"
#include "graph/builder.h"
#include "npu/npu.h"
#include "passes/passes.h"
#include "plan/evo_file.h"

#include <stdio.h>

#include <stdlib.h>
#include <unistd.h>

/* An op the rule applies to and the table lists (an ANY rule: the first listed op it does not except). */
static evo_npu_op rule_op(const evo_npu_table *t, const evo_npu_rule *r)
{
    if (r->op != EVO_NPU_OP_ANY)
        return r->op;
    for (int i = 0; i < t->n_ops; i++) {
        bool excepted = false;
        for (int k = 0; k < EVO_NPU_MAX_EXCEPT && r->except[k] != EVO_NPU_OP_NONE; k++)
            excepted |= r->except[k] == t->ops[i];
        if (!excepted)
            return t->ops[i];
    }
    return EVO_NPU_OP_NONE;
}

static double inside(const evo_npu_rule *r)
{
    switch (r->kind) {
    case EVO_NPU_SET: return r->set[0];
    case EVO_NPU_OPEN: return (r->lo + r->hi) / 2;
    default: return r->lo;
    }
}

/* Candidate values outside the rule (a set: every integer around it that it excludes). */
static int outside(const evo_npu_rule *r, double *out, int cap)
{
    int n = 0;
    if (r->kind == EVO_NPU_SET) {
        double lo = r->set[0], hi = r->set[0];
        for (int i = 1; i < r->n_set; i++) {
            lo = r->set[i] < lo ? r->set[i] : lo;
            hi = r->set[i] > hi ? r->set[i] : hi;
        }
        for (double v = lo - 1; v <= hi + 3 && n < cap; v++) {
            bool in = false;
            for (int i = 0; i < r->n_set; i++)
                in |= r->set[i] == v;
            if (!in)
                out[n++] = v;
        }
        return n;
    }
    if (r->kind == EVO_NPU_OPEN) {
        out[n++] = r->hi;
        out[n++] = r->lo;
        return n;
    }
    if (r->hi < 1e299)
        out[n++] = r->hi + 1;
    out[n++] = r->lo > 0 ? r->lo / 2 : r->lo - 1;
    return n;
}

/* Each rule alone: in range passes, out of range fails naming the rule, the parameter and the source. */
static void test_every_rule(const evo_npu_table *t)
{
    CHECK(t->n_rules > 0 && t->n_ops > 0);
    for (int i = 0; i < t->n_rules; i++) {
        const evo_npu_rule *r = &t->rules[i];
        evo_npu_desc d = {.op = rule_op(t, r)};
        CHECK_MSG(d.op != EVO_NPU_OP_NONE, "%s rule %d: no listed op it applies to", t->family, i);
        char why[512] = "";
        evo_npu_set(&d, r->param, inside(r));
        CHECK_MSG(evo_npu_check(t, &d, why, sizeof(why)), "%s rule %d (%s) refused %g: %s", t->family, i, r->text,
                  inside(r), why);
        double vals[16];
        int n_vals = outside(r, vals, 16), n_named = 0;
        for (int k = 0; k < n_vals; k++) {
            evo_npu_set(&d, r->param, vals[k]);
            CHECK_MSG(!evo_npu_check(t, &d, why, sizeof(why)), "%s rule %d (%s) accepted %g", t->family, i, r->text,
                      vals[k]);
            n_named += strstr(why, r->text) && strstr(why, t->source) && strstr(why, t->version) &&
                       strstr(why, evo_npu_param_name(r->param));
        }
        /* some value outside fails by this rule (a generic rule on the same parameter may catch others first) */
        CHECK_MSG(n_vals > 0 && n_named > 0, "%s rule %d (%s): no failing case names it; last \"%s\"", t->family, i,
                  r->text, why);
    }
}

static void test_messages(void)
{
    char why[512];
    evo_npu_desc d = {.op = EVO_NPU_OP_DEPTHWISE_CONV_2D};
    evo_npu_set(&d, EVO_NPU_P_STRIDE_H, 4);
    CHECK(!evo_npu_check(&evo_npu_table_ethos_u, &d, why, sizeof(why)));
    CHECK_MSG(strcmp(why, "DEPTHWISE_CONV_2D: Kernel stride must be in the range (1,3). (stride h = 4; "
                          "ethos-u-vela SUPPORTED_OPS.md, Vela 5.2.0)") == 0,
              "%s", why);
    /* CONV_2D: any stride when undilated and VALID (Vela 5.2.0), as describe.c's parameter says */
    d = (evo_npu_desc){.op = EVO_NPU_OP_CONV_2D};
    evo_npu_set(&d, EVO_NPU_P_STRIDE_H, 4);
    evo_npu_set(&d, EVO_NPU_P_STRIDE_GT3_OK, 1);
    CHECK(evo_npu_check(&evo_npu_table_ethos_u, &d, why, sizeof(why)));
    evo_npu_set(&d, EVO_NPU_P_STRIDE_GT3_OK, 0);
    CHECK(!evo_npu_check(&evo_npu_table_ethos_u, &d, why, sizeof(why)));
    CHECK_MSG(strstr(why, "CONV_2D: Stride>3 is only supported IF (dilation = 1 AND padding = VALID)") == why, "%s",
              why);
    evo_npu_set(&d, EVO_NPU_P_STRIDE_H, 3); /* Ethos-N: {1, 2} */
    CHECK(!evo_npu_check(&evo_npu_table_ethos_n, &d, why, sizeof(why)));
    CHECK_MSG(strstr(why, "are: { 1, 2 } (stride h = 3; Ethos-N driver stack SUPPORTED.md") != NULL, "%s", why);

    evo_npu_desc m = {.op = EVO_NPU_OP_MUL};
    evo_npu_set(&m, EVO_NPU_P_IFM2_CONST_C, 0);
    CHECK(!evo_npu_check(&evo_npu_table_ethos_n, &m, why, sizeof(why)));
    CHECK_MSG(strstr(why, "MUL: the multiplication of a tensor with a constant tensor is supported when the constant "
                          "shape is 1 x 1 x 1 x C") == why,
              "%s", why);
    CHECK(evo_npu_check(&evo_npu_table_ethos_u, &m, why, sizeof(why))); /* Vela has no such rule */

    /* TRANSPOSE runs on Ethos-U from Vela 5.2.0's list; on Ethos-N (this revision) it does not */
    evo_npu_desc tr = {.op = EVO_NPU_OP_TRANSPOSE};
    evo_npu_set(&tr, EVO_NPU_P_TRANSPOSE_PROD, 65536);
    CHECK(evo_npu_check(&evo_npu_table_ethos_u, &tr, why, sizeof(why)));
    evo_npu_set(&tr, EVO_NPU_P_TRANSPOSE_PROD, 65537);
    CHECK(!evo_npu_check(&evo_npu_table_ethos_u, &tr, why, sizeof(why)));
    CHECK_MSG(strstr(why, "Product of any N-2 axes in a rank N tensor must be less than or equal to 2^16") != NULL,
              "%s", why);
    CHECK(!evo_npu_check(&evo_npu_table_ethos_n, &tr, why, sizeof(why)));
    CHECK_MSG(strstr(why, "TRANSPOSE: not an operator") == why, "%s", why);

    /* a generic rule's exception: int32 feature maps on ADD pass, on CONCATENATION they fail */
    evo_npu_desc add = {.op = EVO_NPU_OP_ADD};
    evo_npu_set(&add, EVO_NPU_P_IFM_DTYPE, EVO_DTYPE_INT32);
    CHECK(evo_npu_check(&evo_npu_table_ethos_u, &add, why, sizeof(why)));
    evo_npu_desc cat = {.op = EVO_NPU_OP_CONCATENATION};
    evo_npu_set(&cat, EVO_NPU_P_IFM_DTYPE, EVO_DTYPE_INT32);
    CHECK(!evo_npu_check(&evo_npu_table_ethos_u, &cat, why, sizeof(why)));
    CHECK_MSG(strstr(why, "32-bit feature-maps are not supported.") != NULL, "%s", why);
}

static void test_targets(void)
{
    char list[512];
    evo_npu_target_list(list, sizeof(list));
    CHECK(strstr(list, "cpu, ethos-u55-128, ethos-u55-256, ethos-u65-256, ethos-u65-512, ethos-n78-1tops-2ple") == list);
    CHECK(strstr(list, "ethos-n78-8tops-4ple") != NULL);
    CHECK(evo_npu_target_find("ethos-u65-512")->table == &evo_npu_table_ethos_u);
    CHECK(evo_npu_target_find("ethos-n78-4tops-2ple")->table == &evo_npu_table_ethos_n);
    CHECK(evo_npu_target_find("cpu")->table == NULL);
    CHECK(evo_npu_target_find("ethos-n78-3tops-2ple") == NULL);
    CHECK(evo_npu_target_find("ethos-u55") == NULL);
    CHECK(evo_npu_target_find(NULL) == NULL);
    int n = 0;
    while (evo_npu_target_at(n))
        n++;
    CHECK(n == 13);
}

static void test_partition(void)
{
    int subgraphs, transitions;
    evo_npu_partition((const bool[]){true, true, false, true, true}, 5, &subgraphs, &transitions);
    CHECK(subgraphs == 2 && transitions == 2);
    evo_npu_partition((const bool[]){false, true, false, true, false}, 5, &subgraphs, &transitions);
    CHECK(subgraphs == 2 && transitions == 4);
    evo_npu_partition((const bool[]){true, true, true}, 3, &subgraphs, &transitions);
    CHECK(subgraphs == 1 && transitions == 0);
    evo_npu_partition((const bool[]){false, false}, 2, &subgraphs, &transitions);
    CHECK(subgraphs == 0 && transitions == 0);
    evo_npu_partition(NULL, 0, &subgraphs, &transitions);
    CHECK(subgraphs == 0 && transitions == 0);
}

static void qconv(evo_builder *b, const char *x, const char *y, int c, int k, const char *attrs, const char *tag)
{
    char names[9][32], ins[320];
    const char *suffix[9] = {"", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"};
    for (int i = 1; i < 9; i++)
        snprintf(names[i], sizeof(names[i]), "%s_%s", tag, suffix[i]);
    float xs = 0.05f, ys = 0.1f, ws[16];
    uint8_t zp = 128;
    int8_t wz[16] = {0};
    int32_t bias[16] = {0};
    for (int i = 0; i < c; i++)
        ws[i] = 0.01f;
    evo_build_const(b, names[1], EVO_DTYPE_FLOAT, 0, NULL, &xs);
    evo_build_const(b, names[2], EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_qweight(b, names[3], 4, (int64_t[]){c, strstr(attrs, "group") ? 1 : c, k, k});
    evo_build_const(b, names[4], EVO_DTYPE_FLOAT, 1, (int64_t[]){c}, ws);
    evo_build_const(b, names[5], EVO_DTYPE_INT8, 1, (int64_t[]){c}, wz);
    evo_build_const(b, names[6], EVO_DTYPE_FLOAT, 0, NULL, &ys);
    evo_build_const(b, names[7], EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_const(b, names[8], EVO_DTYPE_INT32, 1, (int64_t[]){c}, bias);
    snprintf(ins, sizeof(ins), "%s %s %s %s %s %s %s %s %s", x, names[1], names[2], names[3], names[4], names[5],
             names[6], names[7], names[8]);
    evo_build_node(b, "QLinearConv", ins, y, attrs);
}

/*
 * x -> QLinearConv 3x3 (SAME) -> MaxPool 2x2/2 -> DequantizeLinear -> Exp
 * -> QuantizeLinear -> QLinearConv 3x3 depthwise stride 2 (explicit pads).
 */
static evo_graph *build_small(void)
{
    evo_builder b;
    CHECK(evo_builder_init(&b, "npu_small", 7) == EVO_OK);
    float s = 0.1f;
    uint8_t zp = 128;
    evo_build_input_typed(&b, "x", EVO_DTYPE_UINT8, 4, (int64_t[]){1, 16, 8, 8});
    qconv(&b, "x", "c1", 16, 3, "kernel_shape=3,3 pads=1,1,1,1", "c1");
    evo_build_node(&b, "MaxPool", "c1", "p", "kernel_shape=2,2 strides=2,2");
    evo_build_const(&b, "s", EVO_DTYPE_FLOAT, 0, NULL, &s);
    evo_build_const(&b, "z", EVO_DTYPE_UINT8, 0, NULL, &zp);
    evo_build_node(&b, "DequantizeLinear", "p s z", "f", NULL);
    evo_build_node(&b, "Exp", "f", "e", NULL);
    evo_build_node(&b, "QuantizeLinear", "e s z", "q", NULL);
    qconv(&b, "q", "y", 16, 3, "kernel_shape=3,3 pads=1,1,1,1 strides=2,2 group=16", "c2");
    evo_build_output(&b, "y");
    CHECK(b.ok);
    evo_error err = {0};
    evo_compile_options co = evo_compile_options_default();
    evo_pass_ctx ctx = {&co, &err};
    evo_status st = evo_passes_run(b.g, &ctx);
    CHECK_MSG(st == EVO_OK, "%s", err.msg);
    return b.g;
}

static const evo_npu_place *find_place(const evo_graph *g, const evo_npu_placement *pl, const char *op_type)
{
    for (int i = 0; i < pl->n_nodes; i++) {
        if (strcmp(g->nodes[pl->nodes[i].node].op_type, op_type) == 0)
            return &pl->nodes[i];
    }
    return NULL;
}

static void test_graph(void)
{
    evo_graph *g = build_small();
    evo_error err = {0};
    evo_npu_placement pl;
    CHECK(evo_npu_graph_is_int8(g));
    CHECK(evo_npu_place_graph(g, evo_npu_target_find("ethos-u55-128"), &pl, &err) == EVO_OK);
    CHECK_MSG(pl.n_nodes == 6, "%d nodes", pl.n_nodes);
    CHECK(pl.nodes[0].on_npu && pl.nodes[1].on_npu && !pl.nodes[2].on_npu && !pl.nodes[3].on_npu &&
          !pl.nodes[4].on_npu && pl.nodes[5].on_npu);
    CHECK(pl.n_npu == 3 && pl.n_subgraphs == 2 && pl.n_transitions == 2);
    CHECK(strcmp(pl.nodes[3].reason, "float op") == 0);
    CHECK(pl.nodes[0].n_parts == 1 && pl.nodes[0].parts[0] == EVO_NPU_OP_CONV_2D); /* pads 1,1 on 8 are SAME */
    /* stride 2 with pads 1,1 on 8 is not SAME (0,1): a PAD first */
    CHECK(pl.nodes[5].n_parts == 2 && pl.nodes[5].parts[0] == EVO_NPU_OP_PAD &&
          pl.nodes[5].parts[1] == EVO_NPU_OP_DEPTHWISE_CONV_2D);
    CHECK_NEAR(pl.macs_total, 16.0 * 8 * 8 * 16 * 9 + 16.0 * 2 * 2 * 9, 0.5);
    CHECK_NEAR(pl.macs_npu, pl.macs_total, 0.5);
    /* the weight sum is the largest per-output-channel sum of |w - w_zp| (w_zp 0 here) */
    evo_npu_node_desc nd;
    const evo_node *c1 = &g->nodes[pl.nodes[0].node];
    evo_npu_describe(g, c1, &nd);
    const evo_value *w = &g->values[c1->in[3]];
    double want = 0;
    for (int64_t c = 0; c < w->dims[0]; c++) {
        double sum = 0;
        int64_t per = evo_value_count(w) / w->dims[0];
        for (int64_t k = 0; k < per; k++)
            sum += abs(((const int8_t *)w->data)[c * per + k]);
        want = sum > want ? sum : want;
    }
    CHECK(nd.n_parts == 1 && nd.parts[0].has[EVO_NPU_P_WEIGHT_SUM]);
    CHECK_NEAR(nd.parts[0].v[EVO_NPU_P_WEIGHT_SUM], want, 0);
    CHECK_NEAR(nd.parts[0].v[EVO_NPU_P_RESCALE], 0.05 * 0.01 / 0.1, 1e-9);
    CHECK(nd.parts[0].v[EVO_NPU_P_PER_AXIS] == 1 && nd.parts[0].v[EVO_NPU_P_FUSED_ACT] == EVO_NPU_ACT_NONE);
    /* a fused HardSigmoid as the TFLite export writes it (alpha 1/6: ADD with RELU6, MUL); other alphas: CPU */
    evo_node hs = *c1;
    hs.a.conv.act = EVO_ACT_HARD_SIGMOID;
    hs.a.conv.act_alpha = 1.0f / 6;
    hs.a.conv.act_beta = 0.5f;
    evo_npu_describe(g, &hs, &nd);
    CHECK_MSG(nd.n_parts == 3 && nd.parts[0].op == EVO_NPU_OP_CONV_2D && nd.parts[1].op == EVO_NPU_OP_ADD &&
                  nd.parts[2].op == EVO_NPU_OP_MUL, "%d parts", nd.n_parts);
    CHECK(nd.parts[1].v[EVO_NPU_P_FUSED_ACT] == EVO_NPU_ACT_RELU6 && nd.parts[2].v[EVO_NPU_P_IFM2_CONST_C] == 1);
    hs.a.conv.act_alpha = 0.2f;
    evo_npu_describe(g, &hs, &nd);
    CHECK_MSG(nd.n_parts == 0 && strstr(nd.cpu_reason, "HardSigmoid with alpha 0.2"), "%s", nd.cpu_reason);
    const evo_npu_place *mp = find_place(g, &pl, "MaxPool");
    CHECK(mp && mp->on_npu && mp->parts[0] == EVO_NPU_OP_MAX_POOL_2D);
    evo_npu_placement_free(&pl);

    CHECK(evo_npu_place_graph(g, evo_npu_target_find("cpu"), &pl, &err) == EVO_OK);
    CHECK(pl.n_npu == 0 && pl.n_subgraphs == 0 && pl.n_transitions == 0 && pl.macs_npu == 0);
    evo_npu_placement_free(&pl);
    evo_graph_free(g);
}

/* Reads a whole file; NULL when it cannot. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        p = n > 0 ? malloc((size_t)n) : NULL;
        if (p && (fseek(f, 0, SEEK_SET) != 0 || fread(p, 1, (size_t)n, f) != (size_t)n)) {
            free(p);
            p = NULL;
        }
        *size = (size_t)(p ? n : 0);
    }
    if (f)
        fclose(f);
    return p;
}

static uint32_t rd_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Loads image with the byte at offset at (from the NPU section's start) set to value; the error text. */
static evo_status load_patched(const uint8_t *image, size_t size, uint64_t at, uint8_t value, evo_error *err)
{
    uint8_t *b = malloc(size);
    evo_graph *g = NULL;
    memcpy(b, image, size);
    uint32_t n_sec = rd_u32(b + 20);
    uint64_t table, off = 0;
    memcpy(&table, b + 40, 8);
    for (uint32_t k = 0; k < n_sec; k++) {
        if (rd_u32(b + table + 24 * k) == 7) /* the NPU section */
            memcpy(&off, b + table + 24 * k + 8, 8);
    }
    CHECK(off > 0);
    b[off + at] = value;
    uint64_t sum = evo_file_checksum(b, size - 8);
    memcpy(b + size - 8, &sum, 8);
    evo_status s = evo_file_load_buffer(b, size, "patched.evo", 0, &g, err);
    evo_graph_free(g);
    free(b);
    return s;
}

/* evo compile --target's record: written, read back, and a bad placement refused by name. */
static void test_evo_file(void)
{
    evo_graph *g = build_small();
    evo_error err = {0};
    evo_npu_placement pl;
    CHECK(evo_npu_record(g, evo_npu_target_find("ethos-u55-128"), &pl, &err) == EVO_OK);
    evo_npu_placement_free(&pl);
    char path[] = "/tmp/evo_test_npu_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_MSG(evo_file_write(g, path, NULL, &err) == EVO_OK, "%s", err.msg);
    evo_graph *h = NULL;
    CHECK_MSG(evo_file_load(path, &h, &err) == EVO_OK, "%s", err.msg);
    CHECK(h && h->npu_target && strcmp(h->npu_target, "ethos-u55-128") == 0);
    int live = 0, exp_index = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].is_dead)
            continue;
        CHECK(h && h->npu_place && h->npu_place[live] == g->npu_place[i]);
        if (strcmp(g->nodes[i].op_type, "Exp") == 0)
            exp_index = live;
        live++;
    }
    evo_graph_free(h);
    CHECK(exp_index >= 0);

    size_t size = 0;
    uint8_t *image = slurp(path, &size);
    CHECK(image != NULL);
    CHECK(load_patched(image, size, 16 + (uint64_t)exp_index, 1, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "patched.evo: npu placement: node \"") &&
                  strstr(err.msg, "(Exp) is placed on the NPU, but ethos-u55-128 refuses it: float op"),
              "%s", err.msg);
    CHECK(load_patched(image, size, 16, 2, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "place 2, expected 0 (CPU) or 1 (NPU)") != NULL, "%s", err.msg);
    CHECK(load_patched(image, size, 0, 9, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "npu placement: section version 9, expected 1") != NULL, "%s", err.msg);
    CHECK(load_patched(image, size, 8, 99, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "places in") != NULL, "%s", err.msg);
    free(image);

    /* an unknown target name in the file lists the known ones */
    g->npu_target = "ethos-u99";
    CHECK(evo_file_write(g, path, NULL, &err) == EVO_OK);
    h = NULL;
    CHECK(evo_file_load(path, &h, &err) == EVO_ERR_PARSE && h == NULL);
    CHECK_MSG(strstr(err.msg, "npu placement: unknown target \"ethos-u99\"; known targets: cpu, ethos-u55-128") != NULL,
              "%s", err.msg);
    remove(path);
    evo_graph_free(g);
}

int main(void)
{
    test_every_rule(&evo_npu_table_ethos_u);
    test_every_rule(&evo_npu_table_ethos_n);
    test_messages();
    test_targets();
    test_partition();
    test_graph();
    test_evo_file();
    printf("%d checks, %d failed\n", check_count, check_failures);
    return check_failures != 0;
}
