/*
 * graph.c - IR storage: growable value/node arrays, the name hash, file
 * mappings, and the raw-attribute and constant-input readers that op import
 * and shape inference use. Names and arrays live in g->mem; the value and
 * node arrays themselves are realloc'd, so hold ids, not pointers, across
 * calls that add values or nodes.
 */
#include "graph/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

evo_graph *evo_graph_new(const char *file)
{
    evo_graph *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->file = evo_mem_strdup(&g->mem, file ? file : "<memory>");
    if (!g->file) {
        free(g);
        return NULL;
    }
    return g;
}

void evo_graph_free(evo_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_maps; i++)
        munmap(g->maps[i].addr, g->maps[i].size_bytes);
    free(g->maps);
    free(g->values);
    free(g->nodes);
    free(g->hash);
    evo_mem_free(&g->mem);
    free(g);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool hash_insert(int *table, int cap, const evo_value *values, int id)
{
    uint32_t mask = (uint32_t)cap - 1;
    for (uint32_t i = hash_str(values[id].name) & mask;; i = (i + 1) & mask) {
        if (table[i] < 0) {
            table[i] = id;
            return true;
        }
    }
}

static bool hash_grow(evo_graph *g)
{
    int cap = g->hash_cap ? g->hash_cap * 2 : 256;
    int *t = malloc(sizeof(int) * (size_t)cap);
    if (!t)
        return false;
    for (int i = 0; i < cap; i++)
        t[i] = -1;
    for (int id = 0; id < g->n_values; id++) {
        if (g->values[id].name[0])
            hash_insert(t, cap, g->values, id);
    }
    free(g->hash);
    g->hash = t;
    g->hash_cap = cap;
    return true;
}

int evo_graph_find_value(const evo_graph *g, const char *name)
{
    if (!g->hash_cap || !name || !name[0])
        return -1;
    uint32_t mask = (uint32_t)g->hash_cap - 1;
    for (uint32_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
        int id = g->hash[i];
        if (id < 0)
            return -1;
        if (strcmp(g->values[id].name, name) == 0)
            return id;
    }
}

int evo_graph_add_value(evo_graph *g, const char *name)
{
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        evo_value *v = realloc(g->values, sizeof(*v) * (size_t)cap);
        if (!v)
            return -1;
        g->values = v;
        g->cap_values = cap;
    }
    if ((g->n_values + 1) * 2 > g->hash_cap && !hash_grow(g))
        return -1;
    const char *copy = evo_mem_strdup(&g->mem, name ? name : "");
    if (!copy)
        return -1;
    int id = g->n_values++;
    evo_value *v = &g->values[id];
    memset(v, 0, sizeof(*v));
    v->name = copy;
    v->rank = -1;
    v->producer = -1;
    for (int i = 0; i < EVO_MAX_RANK; i++)
        v->dims[i] = -1;
    if (copy[0])
        hash_insert(g->hash, g->hash_cap, g->values, id);
    return id;
}

int evo_graph_add_node(evo_graph *g, const char *op_type, const char *name, int n_in, int n_out)
{
    if (n_in < 0 || n_out < 0)
        return -1;
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        evo_node *nn = realloc(g->nodes, sizeof(*nn) * (size_t)cap);
        if (!nn)
            return -1;
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    int id = g->n_nodes;
    evo_node *n = &g->nodes[id];
    memset(n, 0, sizeof(*n));
    n->op_type = evo_mem_strdup(&g->mem, op_type ? op_type : "");
    if (name && name[0]) {
        n->name = evo_mem_strdup(&g->mem, name);
    } else {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s_%d", op_type ? op_type : "node", id);
        n->name = evo_mem_strdup(&g->mem, buf);
    }
    n->domain = "";
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n_in ? n_in : 1));
    n->out = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!n->op_type || !n->name || !n->in || !n->out)
        return -1;
    for (int i = 0; i < n_in; i++)
        n->in[i] = -1;
    for (int i = 0; i < n_out; i++)
        n->out[i] = -1;
    n->op = evo_op_from_table_name(n->op_type);
    g->n_nodes++;
    return id;
}

evo_status evo_graph_add_mapping(evo_graph *g, void *addr, size_t size_bytes, evo_error *err)
{
    if (g->n_maps == g->cap_maps) {
        int cap = g->cap_maps ? g->cap_maps * 2 : 4;
        evo_mapping *m = realloc(g->maps, sizeof(*m) * (size_t)cap);
        if (!m)
            return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", g->file);
        g->maps = m;
        g->cap_maps = cap;
    }
    g->maps[g->n_maps].addr = addr;
    g->maps[g->n_maps].size_bytes = size_bytes;
    g->n_maps++;
    return EVO_OK;
}

int64_t evo_value_count(const evo_value *v)
{
    int64_t n = 1;
    for (int i = 0; i < v->rank; i++)
        n *= v->dims[i];
    return n;
}

evo_status evo_value_set_const(evo_graph *g, evo_value *v, evo_dtype dtype, int rank,
                               const int64_t *dims, const void *data, evo_error *err)
{
    int64_t count;
    size_t esize = evo_dtype_size(dtype);
    if (rank < 0 || rank > EVO_MAX_RANK || esize == 0)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: tensor \"%s\": unsupported type %s or rank %d",
                          g->file, v->name, evo_dtype_name(dtype), rank);
    if (!evo_dims_count(dims, rank, EVO_MAX_ELEMENTS, &count))
        return evo_errorf(err, EVO_ERR_LIMIT, "%s: tensor \"%s\": element count too large", g->file,
                          v->name);
    size_t bytes = (size_t)count * esize;
    void *p = evo_mem_alloc(&g->mem, bytes);
    if (!p)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: tensor \"%s\": out of memory (%zu bytes)", g->file,
                          v->name, bytes);
    if (data && bytes)
        memcpy(p, data, bytes);
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < EVO_MAX_RANK; i++)
        v->dims[i] = i < rank ? dims[i] : -1;
    v->data = p;
    v->size_bytes = bytes;
    return EVO_OK;
}

evo_status evo_node_errorf(evo_error *err, const evo_graph *g, const evo_node *n, evo_status code,
                           const char *fmt, ...)
{
    if (!err)
        return code;
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return evo_errorf(err, code, "%s: node \"%s\" (%s): %s", g->file, n->name, n->op_type, detail);
}

const evo_attr *evo_attr_find(const evo_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++) {
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    }
    return NULL;
}

static evo_status attr_type_error(const evo_graph *g, const evo_node *n, const evo_attr *a,
                                  const char *want, evo_error *err)
{
    return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "attribute \"%s\": expected %s, got type %d",
                           a->name, want, (int)a->type);
}

evo_status evo_attr_int(const evo_graph *g, const evo_node *n, const char *name, int64_t def,
                        int64_t *out, evo_error *err)
{
    const evo_attr *a = evo_attr_find(n, name);
    if (!a) {
        *out = def;
        return EVO_OK;
    }
    if (a->type != EVO_ATTR_INT)
        return attr_type_error(g, n, a, "an int", err);
    *out = a->i;
    return EVO_OK;
}

evo_status evo_attr_float(const evo_graph *g, const evo_node *n, const char *name, float def,
                          float *out, evo_error *err)
{
    const evo_attr *a = evo_attr_find(n, name);
    if (!a) {
        *out = def;
        return EVO_OK;
    }
    if (a->type == EVO_ATTR_INT) {
        *out = (float)a->i;
        return EVO_OK;
    }
    if (a->type != EVO_ATTR_FLOAT)
        return attr_type_error(g, n, a, "a float", err);
    *out = a->f;
    return EVO_OK;
}

evo_status evo_attr_string(const evo_graph *g, const evo_node *n, const char *name,
                           const char *def, const char **out, evo_error *err)
{
    const evo_attr *a = evo_attr_find(n, name);
    if (!a) {
        *out = def;
        return EVO_OK;
    }
    if (a->type != EVO_ATTR_STRING)
        return attr_type_error(g, n, a, "a string", err);
    *out = a->s ? a->s : "";
    return EVO_OK;
}

/*
 * The list attribute name of n, checked to be of type list_type (want
 * names it) with at most max values; *out is NULL when n has none.
 */
static evo_status attr_list(const evo_graph *g, const evo_node *n, const char *name, evo_attr_type list_type,
                            const char *want, int max, const evo_attr **out, evo_error *err)
{
    const evo_attr *a = evo_attr_find(n, name);
    *out = NULL;
    if (!a)
        return EVO_OK;
    if (a->type != list_type)
        return attr_type_error(g, n, a, want, err);
    if (a->n > max)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT,
                               "attribute \"%s\": %d values, at most %d supported", name, a->n, max);
    *out = a;
    return EVO_OK;
}

evo_status evo_attr_ints(const evo_graph *g, const evo_node *n, const char *name, int64_t *out,
                         int max, int *n_out, evo_error *err)
{
    const evo_attr *a;
    *n_out = 0;
    evo_status s = attr_list(g, n, name, EVO_ATTR_INTS, "a list of ints", max, &a, err);
    if (s || !a)
        return s;
    for (int i = 0; i < a->n; i++)
        out[i] = a->ints[i];
    *n_out = a->n;
    return EVO_OK;
}

evo_status evo_attr_floats(const evo_graph *g, const evo_node *n, const char *name, float *out,
                           int max, int *n_out, evo_error *err)
{
    const evo_attr *a;
    *n_out = 0;
    evo_status s = attr_list(g, n, name, EVO_ATTR_FLOATS, "a list of floats", max, &a, err);
    if (s || !a)
        return s;
    for (int i = 0; i < a->n; i++)
        out[i] = a->floats[i];
    *n_out = a->n;
    return EVO_OK;
}

static evo_status const_input(evo_graph *g, const evo_node *n, int input, int max,
                              const evo_value **out, evo_error *err)
{
    const evo_value *v = evo_node_input(g, n, input);
    if (!v)
        return evo_node_errorf(err, g, n, EVO_ERR_INVALID_ARG, "input %d is missing", input);
    if (!v->data)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d (\"%s\") must be a constant (it is computed at run time)",
                               input, v->name);
    if (v->rank > 1)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (\"%s\"): expected rank 0 or 1, got %d",
                               input, v->name, v->rank);
    if (evo_value_count(v) > max)
        return evo_node_errorf(err, g, n, EVO_ERR_LIMIT,
                               "input %d (\"%s\"): %lld values, at most %d supported", input, v->name,
                               (long long)evo_value_count(v), max);
    *out = v;
    return EVO_OK;
}

evo_status evo_const_ints(evo_graph *g, const evo_node *n, int input, int64_t *out, int max,
                          int *n_out, evo_error *err)
{
    const evo_value *v;
    evo_status s = const_input(g, n, input, max, &v, err);
    if (s)
        return s;
    int count = (int)evo_value_count(v);
    for (int i = 0; i < count; i++) {
        if (v->dtype == EVO_DTYPE_INT64)
            out[i] = ((const int64_t *)v->data)[i];
        else if (v->dtype == EVO_DTYPE_INT32)
            out[i] = ((const int32_t *)v->data)[i];
        else
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (\"%s\"): expected int64 or int32, got %s",
                                   input, v->name, evo_dtype_name(v->dtype));
    }
    *n_out = count;
    return EVO_OK;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, mant = h & 1023;
    float f;
    if (exp == 0)
        f = ldexpf((float)mant, -24);
    else if (exp == 31)
        f = mant ? NAN : INFINITY;
    else
        f = ldexpf((float)(mant | 1024), (int)exp - 25);
    return sign ? -f : f;
}

evo_status evo_const_floats(evo_graph *g, const evo_node *n, int input, float *out, int max,
                            int *n_out, evo_error *err)
{
    const evo_value *v;
    evo_status s = const_input(g, n, input, max, &v, err);
    if (s)
        return s;
    int count = (int)evo_value_count(v);
    for (int i = 0; i < count; i++) {
        switch (v->dtype) {
        case EVO_DTYPE_FLOAT: out[i] = ((const float *)v->data)[i]; break;
        case EVO_DTYPE_DOUBLE: out[i] = (float)((const double *)v->data)[i]; break;
        case EVO_DTYPE_FLOAT16: out[i] = half_to_float(((const uint16_t *)v->data)[i]); break;
        default:
            return evo_node_errorf(err, g, n, EVO_ERR_PARSE, "input %d (\"%s\"): expected a float type, got %s",
                                   input, v->name, evo_dtype_name(v->dtype));
        }
    }
    *n_out = count;
    return EVO_OK;
}

evo_status evo_const_scalar(evo_graph *g, const evo_node *n, int input, double *out,
                            evo_error *err)
{
    const evo_value *v = evo_node_input(g, n, input);
    if (!v)
        return evo_node_errorf(err, g, n, EVO_ERR_INVALID_ARG, "input %d is missing", input);
    if (!v->data)
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED,
                               "input %d (\"%s\") must be a constant (it is computed at run time)",
                               input, v->name);
    if (evo_value_count(v) < 1)
        return evo_node_errorf(err, g, n, EVO_ERR_SHAPE, "input %d (\"%s\") is empty", input, v->name);
    const void *p = v->data;
    switch (v->dtype) {
    case EVO_DTYPE_FLOAT: *out = *(const float *)p; break;
    case EVO_DTYPE_DOUBLE: *out = *(const double *)p; break;
    case EVO_DTYPE_FLOAT16: *out = half_to_float(*(const uint16_t *)p); break;
    case EVO_DTYPE_INT8: *out = *(const int8_t *)p; break;
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_BOOL: *out = *(const uint8_t *)p; break;
    case EVO_DTYPE_INT16: *out = *(const int16_t *)p; break;
    case EVO_DTYPE_UINT16: *out = *(const uint16_t *)p; break;
    case EVO_DTYPE_INT32: *out = *(const int32_t *)p; break;
    case EVO_DTYPE_UINT32: *out = *(const uint32_t *)p; break;
    case EVO_DTYPE_INT64: *out = (double)*(const int64_t *)p; break;
    case EVO_DTYPE_UINT64: *out = (double)*(const uint64_t *)p; break;
    default:
        return evo_node_errorf(err, g, n, EVO_ERR_UNSUPPORTED, "input %d (\"%s\"): unsupported type %s",
                               input, v->name, evo_dtype_name(v->dtype));
    }
    return EVO_OK;
}

char *evo_dims_str(const int64_t *dims, int rank, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return buf;
    buf[0] = 0;
    if (rank < 0) {
        snprintf(buf, cap, "[?]");
        return buf;
    }
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (int i = 0; i < rank && len < cap; i++) {
        if (dims[i] < 0)
            len += (size_t)snprintf(buf + len, cap - len, "%s?", i ? "," : "");
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "", (long long)dims[i]);
    }
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
    return buf;
}
