/*
 * test_graph_check.c - the check pass on hand-built graphs: topological
 * order, cycles, missing inputs, duplicate producers, dangling outputs,
 * unsupported ops, and input shapes from options.
 */
#include "check.h"
#include "passes/passes.h"

#include <string.h>

static int add_in(evo_graph *g, const char *name)
{
    int v = evo_graph_add_value(g, name);
    g->values[v].is_input = true;
    g->values[v].dtype = EVO_DTYPE_FLOAT;
    g->values[v].rank = 2;
    g->values[v].dims[0] = 2;
    g->values[v].dims[1] = 3;
    g->inputs[g->n_inputs++] = v;
    return v;
}

static int add_node(evo_graph *g, const char *op, const char *in0, const char *out0)
{
    int id = evo_graph_add_node(g, op, NULL, 1, 1);
    int a = evo_graph_find_value(g, in0);
    if (a < 0)
        a = evo_graph_add_value(g, in0);
    int b = evo_graph_find_value(g, out0);
    if (b < 0)
        b = evo_graph_add_value(g, out0);
    g->nodes[id].in[0] = a;
    g->nodes[id].out[0] = b;
    return id;
}

static evo_graph *new_graph(void)
{
    evo_graph *g = evo_graph_new("t.onnx");
    g->inputs = evo_mem_alloc(&g->mem, sizeof(int) * 8);
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int) * 8);
    return g;
}

static void set_output(evo_graph *g, const char *name)
{
    int v = evo_graph_find_value(g, name);
    g->values[v].is_output = true;
    g->outputs[g->n_outputs++] = v;
}

static evo_status run_check(evo_graph *g, evo_error *err)
{
    evo_compile_options o = evo_compile_options_default();
    evo_pass_ctx ctx = {&o, err};
    return evo_pass_check(g, &ctx);
}

static void test_topo_order(void)
{
    evo_graph *g = new_graph();
    add_in(g, "x");
    /* written out of order: c <- b <- a <- x */
    add_node(g, "Relu", "b", "c");
    add_node(g, "Relu", "a", "b");
    add_node(g, "Relu", "x", "a");
    set_output(g, "c");
    evo_error err = {0};
    CHECK_MSG(run_check(g, &err) == EVO_OK, "%s", err.msg);
    CHECK(strcmp(g->values[g->nodes[0].out[0]].name, "a") == 0);
    CHECK(strcmp(g->values[g->nodes[2].out[0]].name, "c") == 0);
    for (int i = 0; i < g->n_nodes; i++)
        CHECK(g->values[g->nodes[i].out[0]].producer == i);
    evo_graph_free(g);
}

static void test_cycle(void)
{
    evo_graph *g = new_graph();
    add_in(g, "x");
    add_node(g, "Relu", "b", "a");
    add_node(g, "Relu", "a", "b");
    set_output(g, "b");
    evo_error err = {0};
    CHECK(run_check(g, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "cycle") != NULL, "%s", err.msg);
    CHECK(strstr(err.msg, "t.onnx") != NULL);
    evo_graph_free(g);
}

static void test_missing_input(void)
{
    evo_graph *g = new_graph();
    add_in(g, "x");
    add_node(g, "Relu", "nowhere", "y");
    set_output(g, "y");
    evo_error err = {0};
    CHECK(run_check(g, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "\"nowhere\"") != NULL, "%s", err.msg);
    evo_graph_free(g);
}

static void test_duplicate_producer(void)
{
    evo_graph *g = new_graph();
    add_in(g, "x");
    add_node(g, "Relu", "x", "y");
    add_node(g, "Relu", "x", "y");
    set_output(g, "y");
    evo_error err = {0};
    CHECK(run_check(g, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "already produced") != NULL, "%s", err.msg);
    evo_graph_free(g);
}

static void test_dangling_output(void)
{
    evo_graph *g = new_graph();
    add_in(g, "x");
    add_node(g, "Relu", "x", "y");
    evo_graph_add_value(g, "ghost");
    set_output(g, "ghost");
    evo_error err = {0};
    CHECK(run_check(g, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "\"ghost\"") != NULL, "%s", err.msg);
    evo_graph_free(g);
}

static void test_unknown_op(void)
{
    evo_graph *g = new_graph();
    add_in(g, "x");
    int id = add_node(g, "NoSuchOp", "x", "y");
    set_output(g, "y");
    evo_error err = {0};
    CHECK(g->nodes[id].op == EVO_OP_UNKNOWN);
    CHECK(run_check(g, &err) == EVO_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "NoSuchOp") != NULL, "%s", err.msg);
    evo_graph_free(g);
}

static void test_input_shape_option(void)
{
    evo_graph *g = new_graph();
    int x = add_in(g, "x");
    g->values[x].rank = 4;
    g->values[x].dims[0] = -1;
    g->values[x].dims[1] = 3;
    g->values[x].dims[2] = -1;
    g->values[x].dims[3] = -1;
    add_node(g, "Relu", "x", "y");
    set_output(g, "y");
    evo_error err = {0};
    evo_compile_options o = evo_compile_options_default();
    evo_pass_ctx ctx = {&o, &err};
    CHECK(evo_pass_check(g, &ctx) == EVO_ERR_SHAPE);
    CHECK_MSG(strstr(err.msg, "--input-shape") != NULL, "%s", err.msg);
    evo_input_shape s = {"x", 4, {1, 3, 320, 256}};
    o.input_shapes = &s;
    o.n_input_shapes = 1;
    CHECK_MSG(evo_pass_check(g, &ctx) == EVO_OK, "%s", err.msg);
    CHECK(g->values[x].dims[2] == 320 && g->values[x].dims[3] == 256);
    evo_input_shape bad = {"x", 4, {1, 4, 320, 256}};
    o.input_shapes = &bad;
    CHECK(evo_pass_check(g, &ctx) == EVO_ERR_SHAPE);
    evo_graph_free(g);
}

static void test_value_hash(void)
{
    evo_graph *g = new_graph();
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "v%d", i);
        CHECK(evo_graph_add_value(g, name) == i);
    }
    for (int i = 0; i < 5000; i += 7) {
        snprintf(name, sizeof(name), "v%d", i);
        CHECK(evo_graph_find_value(g, name) == i);
    }
    CHECK(evo_graph_find_value(g, "v5000") == -1);
    CHECK(evo_graph_find_value(g, "") == -1);
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_topo_order), CHECK_TEST(test_cycle), CHECK_TEST(test_missing_input),
           CHECK_TEST(test_duplicate_producer), CHECK_TEST(test_dangling_output), CHECK_TEST(test_unknown_op),
           CHECK_TEST(test_input_shape_option), CHECK_TEST(test_value_hash))
