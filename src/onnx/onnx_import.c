/*
 * onnx_import.c - ModelProto / GraphProto -> evo_graph: initializers,
 * graph inputs and outputs, opset imports (nodes and their attributes:
 * onnx_node.c).
 *
 * The graph message is walked several times, one field kind per walk
 * (initializers, inputs, nodes, outputs), so the result does not depend on
 * the order fields appear in the file. Counts are taken by a first walk and
 * arrays sized from them: every counted item consumed input bytes, so sizes
 * stay proportional to the input. Unknown fields are skipped, as protobuf
 * requires; nested graphs in attributes are recorded by type only.
 */
#include "onnx/onnx.h"
#include "onnx/onnx_fields.h"
#include "onnx/onnx_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


/* protobuf's own limit for one serialized message */
#define ONNX_MAX_BYTES ((size_t)INT32_MAX)

evo_status onnx_fail(onnx_loader *L, evo_status code, const char *what, const char *fmt, ...)
{
    if (!L->err)
        return code;
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return evo_errorf(L->err, code, "%s: %s: %s", L->g->file, what, detail);
}

evo_status onnx_fail_pb(onnx_loader *L, const char *what, const char *why, size_t offset)
{
    return onnx_fail(L, EVO_ERR_PARSE, what, "%s at byte %zu", why, offset);
}

evo_status onnx_want_wire(onnx_loader *L, const char *what, const evo_pb_field *f,
                          evo_pb_wire want)
{
    static const char *const names[] = {"varint", "fixed64", "length-delimited", "", "", "fixed32"};
    if (f->wire == want)
        return EVO_OK;
    return onnx_fail(L, EVO_ERR_PARSE, what, "field %u at byte %zu: expected %s, got %s", f->number,
                     f->offset, names[want], names[f->wire]);
}

evo_status onnx_string(onnx_loader *L, const char *what, const evo_pb_field *f, const char **out)
{
    evo_status s = onnx_want_wire(L, what, f, EVO_PB_LEN);
    if (s != EVO_OK)
        return s;
    if (memchr(f->data, 0, f->len))
        return onnx_fail(L, EVO_ERR_PARSE, what, "string field %u at byte %zu contains a NUL byte",
                         f->number, f->offset);
    char *p = evo_mem_strndup(&L->g->mem, (const char *)f->data, f->len);
    if (!p)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    *out = p;
    return EVO_OK;
}

/* Counts the fields numbered `number` in msg (any wire type). */
static evo_status count_fields(onnx_loader *L, const evo_pb *msg, uint32_t number, const char *what,
                               int *n_out)
{
    evo_pb r = *msg;
    evo_pb_field f;
    int64_t n = 0;
    while (evo_pb_next(&r, &f))
        n += f.number == number;
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    if (n > INT_MAX / 2)
        return onnx_fail(L, EVO_ERR_LIMIT, what, "too many entries of field %u", number);
    *n_out = (int)n;
    return EVO_OK;
}

int onnx_find_or_add(onnx_loader *L, const char *name)
{
    int id = evo_graph_find_value(L->g, name);
    return id >= 0 ? id : evo_graph_add_value(L->g, name);
}

/* ---- initializers ---------------------------------------------------------- */

evo_status onnx_set_const(onnx_loader *L, int id, const onnx_tensor *t)
{
    evo_value *v = &L->g->values[id];
    v->dtype = t->dtype;
    v->rank = t->rank;
    memcpy(v->dims, t->dims, sizeof(v->dims));
    v->data = t->data;
    v->size_bytes = t->size_bytes;
    return EVO_OK;
}

bool onnx_is_constant(const evo_value *v)
{
    // A STRING initializer has no data but is still a constant, not an input.
    return v->data || (v->dtype == EVO_DTYPE_STRING && v->rank >= 0 && !v->is_input);
}

static evo_status load_initializer(onnx_loader *L, const evo_pb *msg, int index)
{
    char what[160];
    snprintf(what, sizeof(what), "initializer %d", index);
    // Name it in messages when the name field is readable.
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number == 8 && f.wire == EVO_PB_LEN && f.len && !memchr(f.data, 0, f.len))
            snprintf(what, sizeof(what), "initializer \"%.*s\"", (int)EVO_MIN(f.len, 120),
                     (const char *)f.data);
    }
    onnx_tensor t;
    evo_status s = onnx_read_tensor(L, msg, what, &t);
    if (s != EVO_OK)
        return s;
    if (!t.name[0])
        return onnx_fail(L, EVO_ERR_PARSE, what, "initializer without a name");
    if (evo_graph_find_value(L->g, t.name) >= 0)
        return onnx_fail(L, EVO_ERR_PARSE, what, "duplicate initializer \"%s\"", t.name);
    int id = evo_graph_add_value(L->g, t.name);
    if (id < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    return onnx_set_const(L, id, &t);
}

/* ---- graph inputs ---------------------------------------------------------- */

static evo_status read_shape(onnx_loader *L, const evo_pb *msg, const char *what, evo_value *v)
{
    evo_pb r = *msg;
    evo_pb_field f;
    int rank = 0;
    int64_t known = 1;
    while (evo_pb_next(&r, &f)) {
        if (f.number != SHAPE_DIM)
            continue;
        evo_status s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
        if (s != EVO_OK)
            return s;
        if (rank == EVO_MAX_RANK)
            return onnx_fail(L, EVO_ERR_LIMIT, what, "more than %d dims", EVO_MAX_RANK);
        int64_t dim = -1;
        evo_pb dr = evo_pb_sub(&r, &f);
        evo_pb_field d;
        while (evo_pb_next(&dr, &d)) {
            if (d.number == DIM_VALUE) {
                if ((s = onnx_want_wire(L, what, &d, EVO_PB_VARINT)) != EVO_OK)
                    return s;
                dim = (int64_t)d.u64;
                if (dim < 0)
                    return onnx_fail(L, EVO_ERR_PARSE, what, "dim %d is negative (%lld)", rank,
                                     (long long)dim);
            } else if (d.number == DIM_PARAM) {
                dim = -1; // symbolic: fixed later from the compile options
            }
        }
        if (dr.error)
            return onnx_fail_pb(L, what, dr.error, dr.error_offset);
        if (dim >= 0 && (!evo_mul_i64(known, dim, &known) || known > EVO_MAX_ELEMENTS))
            return onnx_fail(L, EVO_ERR_LIMIT, what, "dims exceed %lld elements",
                             (long long)EVO_MAX_ELEMENTS);
        v->dims[rank++] = dim;
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    v->rank = rank;
    return EVO_OK;
}

/* TypeProto: only tensor types are supported; sets dtype and dims of v. */
static evo_status read_type(onnx_loader *L, const evo_pb *msg, const char *what, evo_value *v)
{
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number == 4 || f.number == 5 || f.number == 8 || f.number == 9)
            return onnx_fail(L, EVO_ERR_UNSUPPORTED, what,
                             "only tensor types are supported (sequence/map/optional/sparse found)");
        if (f.number != TYPE_TENSOR)
            continue;
        evo_status s = onnx_want_wire(L, what, &f, EVO_PB_LEN);
        if (s != EVO_OK)
            return s;
        evo_pb tr = evo_pb_sub(&r, &f);
        evo_pb_field t;
        while (evo_pb_next(&tr, &t)) {
            if (t.number == TENSOR_TYPE_ELEM) {
                if ((s = onnx_want_wire(L, what, &t, EVO_PB_VARINT)) != EVO_OK)
                    return s;
                if (!onnx_dtype_known(t.u64))
                    return onnx_fail(L, EVO_ERR_UNSUPPORTED, what,
                                     "unsupported element type code %llu (%s)",
                                     (unsigned long long)t.u64, onnx_dtype_unsupported_name(t.u64));
                v->dtype = (evo_dtype)t.u64;
            } else if (t.number == TENSOR_TYPE_SHAPE) {
                if ((s = onnx_want_wire(L, what, &t, EVO_PB_LEN)) != EVO_OK)
                    return s;
                evo_pb sr = evo_pb_sub(&tr, &t);
                if ((s = read_shape(L, &sr, what, v)) != EVO_OK)
                    return s;
            }
        }
        if (tr.error)
            return onnx_fail_pb(L, what, tr.error, tr.error_offset);
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    return EVO_OK;
}

/* ValueInfoProto name; *name is NULL when absent. */
static evo_status value_info_name(onnx_loader *L, const evo_pb *msg, const char *what,
                                  const char **name)
{
    evo_pb r = *msg;
    evo_pb_field f;
    *name = NULL;
    while (evo_pb_next(&r, &f)) {
        if (f.number == VI_NAME) {
            evo_status s = onnx_string(L, what, &f, name);
            if (s != EVO_OK)
                return s;
        }
    }
    if (r.error)
        return onnx_fail_pb(L, what, r.error, r.error_offset);
    if (!*name || !(*name)[0])
        return onnx_fail(L, EVO_ERR_PARSE, what, "value without a name");
    return EVO_OK;
}

static evo_status load_input(onnx_loader *L, const evo_pb *msg, int index)
{
    char what[160];
    snprintf(what, sizeof(what), "input %d", index);
    const char *name;
    evo_status s = value_info_name(L, msg, what, &name);
    if (s != EVO_OK)
        return s;
    snprintf(what, sizeof(what), "input \"%.120s\"", name);
    int id = evo_graph_find_value(L->g, name);
    if (id >= 0 && onnx_is_constant(&L->g->values[id]))
        return EVO_OK; // an initializer listed as input (IR < 4 exporters): a constant
    if (id >= 0)
        return onnx_fail(L, EVO_ERR_PARSE, what, "listed twice");
    if ((id = evo_graph_add_value(L->g, name)) < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    evo_pb r = *msg;
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
        if (f.number != VI_TYPE)
            continue;
        if ((s = onnx_want_wire(L, what, &f, EVO_PB_LEN)) != EVO_OK)
            return s;
        evo_pb tr = evo_pb_sub(&r, &f);
        if ((s = read_type(L, &tr, what, &L->g->values[id])) != EVO_OK)
            return s;
    }
    L->g->values[id].is_input = true;
    L->g->inputs[L->g->n_inputs++] = id;
    return EVO_OK;
}

static evo_status load_output(onnx_loader *L, const evo_pb *msg, int index)
{
    char what[64];
    snprintf(what, sizeof(what), "output %d", index);
    const char *name;
    evo_status s = value_info_name(L, msg, what, &name);
    if (s != EVO_OK)
        return s;
    int id = onnx_find_or_add(L, name);
    if (id < 0)
        return onnx_fail(L, EVO_ERR_NOMEM, what, "out of memory");
    if (L->g->values[id].is_output)
        return EVO_OK; // listed twice: one output
    L->g->values[id].is_output = true;
    L->g->outputs[L->g->n_outputs++] = id;
    return EVO_OK;
}

/* ---- graph and model ------------------------------------------------------- */

typedef evo_status (*item_fn)(onnx_loader *L, const evo_pb *msg, int index);

/* Calls fn for every field `number` (a message) of the graph, in file order. */
static evo_status for_each(onnx_loader *L, const evo_pb *graph, uint32_t number, item_fn fn)
{
    evo_pb r = *graph;
    evo_pb_field f;
    int index = 0;
    while (evo_pb_next(&r, &f)) {
        if (f.number != number)
            continue;
        evo_status s = onnx_want_wire(L, "graph", &f, EVO_PB_LEN);
        if (s != EVO_OK)
            return s;
        evo_pb sub = evo_pb_sub(&r, &f);
        if ((s = fn(L, &sub, index++)) != EVO_OK)
            return s;
    }
    if (r.error)
        return onnx_fail_pb(L, "graph", r.error, r.error_offset);
    return EVO_OK;
}

static evo_status load_graph(onnx_loader *L, const evo_pb *graph, onnx_domain_use has_opset)
{
    evo_graph *g = L->g;
    int n_in, n_out, n_sparse;
    evo_status s = count_fields(L, graph, GRAPH_INPUT, "graph", &n_in);
    if (s == EVO_OK)
        s = count_fields(L, graph, GRAPH_OUTPUT, "graph", &n_out);
    if (s == EVO_OK)
        s = count_fields(L, graph, GRAPH_SPARSE_INITIALIZER, "graph", &n_sparse);
    if (s != EVO_OK)
        return s;
    if (n_sparse)
        return onnx_fail(L, EVO_ERR_UNSUPPORTED, "graph", "sparse initializers are not supported");
    g->inputs = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n_in ? n_in : 1));
    g->outputs = evo_mem_alloc(&g->mem, sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!g->inputs || !g->outputs)
        return onnx_fail(L, EVO_ERR_NOMEM, "graph", "out of memory");
    if ((s = for_each(L, graph, GRAPH_INITIALIZER, load_initializer)) != EVO_OK ||
        (s = for_each(L, graph, GRAPH_INPUT, load_input)) != EVO_OK)
        return s;
    evo_pb r = *graph;
    evo_pb_field f;
    int index = 0;
    onnx_domain_use uses = {false, false};
    while (evo_pb_next(&r, &f)) {
        if (f.number != GRAPH_NODE)
            continue;
        evo_pb sub = evo_pb_sub(&r, &f);
        if ((s = onnx_want_wire(L, "graph", &f, EVO_PB_LEN)) != EVO_OK ||
            (s = onnx_load_node(L, &sub, index++, &uses)) != EVO_OK)
            return s;
    }
    if (uses.default_domain && !has_opset.default_domain)
        return onnx_fail(L, EVO_ERR_PARSE, "model",
                         "no opset_import for the default domain, which its nodes use");
    if (uses.ms_domain && !has_opset.ms_domain)
        return onnx_fail(L, EVO_ERR_PARSE, "model",
                         "no opset_import for the domain \"com.microsoft\", which its nodes use");
    return for_each(L, graph, GRAPH_OUTPUT, load_output);
}

/* OperatorSetIdProto: records the versions of the default and com.microsoft domains. */
static evo_status load_opset(onnx_loader *L, const evo_pb *msg, onnx_domain_use *has)
{
    const char *domain = "";
    uint64_t version = 0;
    evo_pb r = *msg;
    evo_pb_field f;
    evo_status s = EVO_OK;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        if (f.number == 1)
            s = onnx_string(L, "opset_import", &f, &domain);
        else if (f.number == 2 && (s = onnx_want_wire(L, "opset_import", &f, EVO_PB_VARINT)) == EVO_OK)
            version = f.u64;
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, "opset_import", r.error, r.error_offset);
    if (s != EVO_OK)
        return s;
    bool is_default = !domain[0] || strcmp(domain, "ai.onnx") == 0;
    bool is_ms = strcmp(domain, "com.microsoft") == 0;
    if ((is_default || is_ms) && (version < 1 || version > 1000))
        return onnx_fail(L, EVO_ERR_PARSE, "opset_import", "domain \"%.60s\": invalid opset version %llu",
                         domain, (unsigned long long)version);
    if (is_default) {
        L->g->opset = (int64_t)version;
        has->default_domain = true;
    } else if (is_ms) {
        L->g->opset_ms = (int64_t)version;
        has->ms_domain = true;
    }
    return EVO_OK;
}

static evo_status load_model(onnx_loader *L, const void *data, size_t size_bytes)
{
    evo_graph *g = L->g;
    if (size_bytes == 0)
        return onnx_fail(L, EVO_ERR_PARSE, "model", "empty file");
    if (size_bytes > ONNX_MAX_BYTES)
        return onnx_fail(L, EVO_ERR_LIMIT, "model",
                         "%zu bytes is past protobuf's 2 GiB limit (use external data)", size_bytes);
    evo_pb r = evo_pb_init(data, size_bytes);
    evo_pb_field f, graph_field;
    bool has_graph = false, has_opset = false;
    onnx_domain_use has = {false, false};
    evo_status s = EVO_OK;
    while (s == EVO_OK && evo_pb_next(&r, &f)) {
        if (f.number == MODEL_IR_VERSION) {
            if ((s = onnx_want_wire(L, "model", &f, EVO_PB_VARINT)) == EVO_OK)
                g->ir_version = (int64_t)f.u64;
        } else if (f.number == MODEL_PRODUCER_NAME) {
            s = onnx_string(L, "model", &f, &g->producer_name);
        } else if (f.number == MODEL_GRAPH) {
            s = onnx_want_wire(L, "model", &f, EVO_PB_LEN);
            graph_field = f;
            has_graph = true;
        } else if (f.number == MODEL_OPSET_IMPORT) {
            evo_pb sub = evo_pb_sub(&r, &f);
            if ((s = onnx_want_wire(L, "model", &f, EVO_PB_LEN)) == EVO_OK)
                s = load_opset(L, &sub, &has);
            has_opset = true;
        }
    }
    if (s == EVO_OK && r.error)
        s = onnx_fail_pb(L, "model", r.error, r.error_offset);
    if (s != EVO_OK)
        return s;
    if (!g->producer_name)
        g->producer_name = "";
    if (!has_graph)
        return onnx_fail(L, EVO_ERR_PARSE, "model", "no graph (is this an ONNX model?)");
    if (!has_opset) {
        g->opset = 1; // IR version < 3: opset_import did not exist yet
        has.default_domain = true;
    }
    evo_pb gr = evo_pb_sub(&r, &graph_field);
    return load_graph(L, &gr, has);
}

static evo_status load_into(evo_graph *g, const char *dir, const void *data, size_t size_bytes,
                            evo_error *err)
{
    onnx_loader L;
    memset(&L, 0, sizeof(L));
    L.g = g;
    L.err = err;
    L.dir = dir;
    return load_model(&L, data, size_bytes);
}

evo_status evo_onnx_load_buffer(const void *data, size_t size_bytes, const char *name,
                                evo_graph **out, evo_error *err)
{
    evo_graph *g = evo_graph_new(name ? name : "<memory>");
    if (!g)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", name ? name : "<memory>");
    if (!data && size_bytes)
        size_bytes = 0;
    evo_status s = load_into(g, NULL, data, size_bytes, err);
    if (s != EVO_OK) {
        evo_graph_free(g);
        return s;
    }
    *out = g;
    return EVO_OK;
}

/* The directory part of path ("." when there is none), in g->mem. */
static const char *dir_of(evo_graph *g, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    if (slash == path)
        return "/";
    return evo_mem_strndup(&g->mem, path, (size_t)(slash - path));
}

evo_status evo_onnx_load_file(const char *path, evo_graph **out, evo_error *err)
{
    evo_status s = EVO_OK;
    evo_graph *g = evo_graph_new(path);
    if (!g)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s = evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = evo_errorf(err, EVO_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    size_t size_bytes = (size_t)st.st_size;
    void *data = NULL;
    if (size_bytes > 0 && size_bytes <= ONNX_MAX_BYTES) {
        data = mmap(NULL, size_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED) {
            s = evo_errorf(err, EVO_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
            goto done;
        }
        if ((s = evo_graph_add_mapping(g, data, size_bytes, err)) != EVO_OK) {
            munmap(data, size_bytes);
            goto done;
        }
    }
    const char *dir = dir_of(g, path);
    if (!dir) {
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    s = load_into(g, dir, data, size_bytes, err);
done:
    if (fd >= 0)
        close(fd);
    if (s != EVO_OK) {
        evo_graph_free(g);
        return s;
    }
    *out = g;
    return EVO_OK;
}
