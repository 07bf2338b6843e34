/*
 * builder.c - building small graphs in code, for `evo verify` and tests:
 * values by name, random constant weights from a seeded generator, nodes
 * with attributes written as short strings. Errors only set b->ok = false;
 * the pass pipeline then reports anything malformed.
 */
#include "graph/builder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

evo_status evo_builder_init(evo_builder *b, const char *name, uint64_t seed)
{
    b->g = evo_graph_new(name);
    b->seed = seed;
    b->ok = b->g != NULL;
    if (!b->ok)
        return EVO_ERR_NOMEM;
    b->g->opset = 17;
    b->g->inputs = evo_mem_alloc(&b->g->mem, sizeof(int) * EVO_BUILDER_MAX_IO);
    b->g->outputs = evo_mem_alloc(&b->g->mem, sizeof(int) * EVO_BUILDER_MAX_IO);
    b->ok = b->g->inputs && b->g->outputs;
    return b->ok ? EVO_OK : EVO_ERR_NOMEM;
}

static float rnd(evo_builder *b)
{
    b->seed = b->seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((b->seed >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

int evo_build_value(evo_builder *b, const char *name)
{
    int v = evo_graph_find_value(b->g, name);
    if (v < 0)
        v = evo_graph_add_value(b->g, name);
    if (v < 0)
        b->ok = false;
    return v;
}

void evo_build_input(evo_builder *b, const char *name, int rank, const int64_t *dims)
{
    int v = evo_build_value(b, name);
    evo_value *val = &b->g->values[v];
    val->is_input = true;
    val->dtype = EVO_DTYPE_FLOAT;
    val->rank = rank;
    memcpy(val->dims, dims, sizeof(int64_t) * (size_t)rank);
    if (b->g->n_inputs < EVO_BUILDER_MAX_IO)
        b->g->inputs[b->g->n_inputs++] = v;
    else
        b->ok = false;
}

void evo_build_weight(evo_builder *b, const char *name, int rank, const int64_t *dims, float scale)
{
    int v = evo_build_value(b, name);
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    float *data = malloc(sizeof(float) * (size_t)n);
    if (!data) {
        b->ok = false;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        data[i] = rnd(b) * scale;
    if (evo_value_set_const(b->g, &b->g->values[v], EVO_DTYPE_FLOAT, rank, dims, data, NULL) != EVO_OK)
        b->ok = false;
    free(data);
}

void evo_build_input_typed(evo_builder *b, const char *name, evo_dtype dtype, int rank, const int64_t *dims)
{
    evo_build_input(b, name, rank, dims);
    if (b->ok)
        b->g->values[b->g->inputs[b->g->n_inputs - 1]].dtype = dtype;
}

void evo_build_const(evo_builder *b, const char *name, evo_dtype dtype, int rank, const int64_t *dims,
                     const void *data)
{
    int v = evo_build_value(b, name);
    if (evo_value_set_const(b->g, &b->g->values[v], dtype, rank, dims, data, NULL) != EVO_OK)
        b->ok = false;
}

void evo_build_qweight(evo_builder *b, const char *name, int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    int8_t *data = malloc((size_t)n);
    if (!data) {
        b->ok = false;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        data[i] = (int8_t)lrintf(rnd(b) * 127.0f);
    evo_build_const(b, name, EVO_DTYPE_INT8, rank, dims, data);
    free(data);
}

void evo_build_ints(evo_builder *b, const char *name, int count, const int64_t *values)
{
    int v = evo_build_value(b, name);
    int64_t dims[1] = {count};
    if (evo_value_set_const(b->g, &b->g->values[v], EVO_DTYPE_INT64, 1, dims, values, NULL) != EVO_OK)
        b->ok = false;
}

void evo_build_node(evo_builder *b, const char *op, const char *ins, const char *outs, const char *attrs)
{
    char names[2][EVO_BUILDER_MAX_NODE_IO][32];
    int count[2] = {0, 0};
    const char *lists[2] = {ins, outs};
    for (int k = 0; k < 2; k++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", lists[k]);
        for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && count[k] < EVO_BUILDER_MAX_NODE_IO;
             t = strtok_r(NULL, " ", &save))
            snprintf(names[k][count[k]++], 32, "%s", t);
    }
    int id = evo_graph_add_node(b->g, op, NULL, count[0], count[1]);
    if (id < 0) {
        b->ok = false;
        return;
    }
    for (int i = 0; i < count[0]; i++) /* "_" marks an empty optional input */
        b->g->nodes[id].in[i] = strcmp(names[0][i], "_") == 0 ? -1 : evo_build_value(b, names[0][i]);
    for (int i = 0; i < count[1]; i++)
        b->g->nodes[id].out[i] = evo_build_value(b, names[1][i]);
    evo_attr *a = evo_mem_alloc(&b->g->mem, sizeof(evo_attr) * 8);
    int n_attrs = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", attrs ? attrs : "");
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n_attrs < 8; t = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(t, '='), *colon = strchr(t, ':');
        evo_attr *at = &a[n_attrs++];
        at->tensor = -1;
        if (colon) {
            *colon = 0;
            at->name = evo_mem_strdup(&b->g->mem, t);
            at->type = EVO_ATTR_FLOAT;
            at->f = strtof(colon + 1, NULL);
            continue;
        }
        *eq = 0;
        at->name = evo_mem_strdup(&b->g->mem, t);
        if ((eq[1] >= 'a' && eq[1] <= 'z') || (eq[1] >= 'A' && eq[1] <= 'Z')) {
            at->type = EVO_ATTR_STRING;
            at->s = evo_mem_strdup(&b->g->mem, eq + 1);
            at->s_len = strlen(eq + 1);
            continue;
        }
        int64_t *ints = evo_mem_alloc(&b->g->mem, sizeof(int64_t) * 8);
        int n = 0;
        for (char *s2 = NULL, *x = strtok_r(eq + 1, ",", &s2); x && n < 8; x = strtok_r(NULL, ",", &s2))
            ints[n++] = strtoll(x, NULL, 10);
        static const char *const single[] = {"group", "axis", "transA", "transB", "ceil_mode", "blocksize"};
        bool list = true;
        for (size_t k = 0; k < sizeof(single) / sizeof(single[0]); k++)
            list = list && strcmp(at->name, single[k]) != 0;
        at->type = list ? EVO_ATTR_INTS : EVO_ATTR_INT;
        at->ints = ints;
        at->n = n;
        at->i = ints[0];
    }
    b->g->nodes[id].attrs = a;
    b->g->nodes[id].n_attrs = n_attrs;
}

void evo_build_output(evo_builder *b, const char *name)
{
    int v = evo_build_value(b, name);
    b->g->values[v].is_output = true;
    if (b->g->n_outputs < EVO_BUILDER_MAX_IO)
        b->g->outputs[b->g->n_outputs++] = v;
    else
        b->ok = false;
}

