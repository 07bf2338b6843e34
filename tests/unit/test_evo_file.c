/*
 * test_evo_file.c - the .evo compiled model file: every model in models/out
 * round-trips (compile -> write -> load -> run gives bit-identical outputs
 * to the .onnx path, weights used in place from the mapping); truncation at
 * every offset, random byte flips, a version bump, a foreign schema and
 * semantically broken graphs all give clean errors; compile options are
 * checked against what the file was compiled for.
 */
#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"
#include "passes/passes.h"
#include "plan/evo_file.h"
#include "plan/plan.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char models_dir[1024];
static char tmp_dir[256];

/* models/out next to this source file, unless $EVO_MODELS_DIR says otherwise. */
static const char *find_models_dir(void)
{
    const char *env = getenv("EVO_MODELS_DIR");
    if (env && *env)
        return env;
    snprintf(models_dir, sizeof(models_dir), "%s", __FILE__);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(models_dir, '/');
        if (!slash)
            return "models/out";
        *slash = 0;
    }
    strncat(models_dir, "/models/out", sizeof(models_dir) - strlen(models_dir) - 1);
    return models_dir;
}

static const char *tmp_path(const char *name, char *buf, size_t cap)
{
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_evo_file.XXXXXX");
        if (!mkdtemp(tmp_dir))
            snprintf(tmp_dir, sizeof(tmp_dir), ".");
    }
    snprintf(buf, cap, "%s/%s", tmp_dir, name);
    return buf;
}

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* Compiles an ONNX model and writes it as .evo; true on success. */
static bool compile_to(const char *onnx, const char *evo, size_t *bytes)
{
    evo_error err = {0};
    evo_graph *g = NULL;
    if (evo_graph_load_compiled(onnx, NULL, 0, NULL, &g, &err) != EVO_OK) {
        fprintf(stderr, "compile %s: %s\n", onnx, err.msg);
        return false;
    }
    evo_status s = evo_file_write(g, evo, bytes, &err);
    if (s)
        fprintf(stderr, "write %s: %s\n", evo, err.msg);
    evo_graph_free(g);
    return s == EVO_OK;
}

/* Runs model on a seeded random input; returns the concatenated output bytes (malloc'd). */
static uint8_t *run_model(const evo_model *m, uint64_t seed, size_t *out_bytes)
{
    evo_session_options so = evo_session_options_default();
    so.n_threads = 4;
    evo_session *sess = NULL;
    evo_error err = {0};
    if (evo_session_create(m, &so, &sess, &err) != EVO_OK) {
        fprintf(stderr, "session: %s\n", err.msg);
        return NULL;
    }
    check_rng rng = {seed};
    for (int i = 0; i < evo_model_n_inputs(m); i++) {
        evo_tensor_desc d;
        evo_model_input_desc(m, i, &d);
        uint8_t *p = evo_session_input_data(sess, i);
        if (d.dtype == EVO_DTYPE_FLOAT) {
            for (size_t k = 0; k < d.size_bytes / 4; k++)
                ((float *)p)[k] = check_rng_float(&rng, -1.0f, 1.0f);
        } else if (d.dtype == EVO_DTYPE_UINT8 || d.dtype == EVO_DTYPE_INT8) {
            for (size_t k = 0; k < d.size_bytes; k++)
                p[k] = (uint8_t)check_rng_int(&rng, 0, 255);
        } else {
            memset(p, 0, d.size_bytes);
        }
    }
    uint8_t *out = NULL;
    size_t total = 0;
    if (evo_session_run(sess, &err) == EVO_OK) {
        for (int i = 0; i < evo_model_n_outputs(m); i++) {
            evo_tensor_desc d;
            evo_model_output_desc(m, i, &d);
            uint8_t *grown = realloc(out, total + d.size_bytes + 1);
            if (!grown)
                break;
            out = grown;
            memcpy(out + total, evo_session_output_data(sess, i), d.size_bytes);
            total += d.size_bytes;
        }
    } else {
        fprintf(stderr, "run: %s\n", err.msg);
    }
    evo_session_free(sess);
    *out_bytes = total;
    return out;
}

static bool same_desc(const evo_tensor_desc *a, const evo_tensor_desc *b)
{
    if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->rank != b->rank || a->size_bytes != b->size_bytes)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

/* Every constant a live node reads points into the file mapping (no copy). */
static bool weights_in_place(const evo_graph *g)
{
    if (g->n_maps != 1)
        return false;
    const uint8_t *lo = g->maps[0].addr, *hi = lo + g->maps[0].size_bytes;
    for (int v = 0; v < g->n_values; v++) {
        const uint8_t *p = g->values[v].data;
        if (p && (p < lo || p + g->values[v].size_bytes > hi || (uintptr_t)p % 64))
            return false;
    }
    return true;
}

static void round_trip(const char *onnx, const char *name)
{
    char evo[512];
    tmp_path(name, evo, sizeof(evo));
    strncat(evo, ".evo", sizeof(evo) - strlen(evo) - 1);
    size_t bytes = 0;
    int64_t t0 = evo_now_ns();
    CHECK_MSG(compile_to(onnx, evo, &bytes), "%s", onnx);
    int64_t t1 = evo_now_ns();
    evo_error err = {0};
    evo_model *mo = NULL, *me = NULL;
    int64_t t2 = evo_now_ns();
    CHECK_MSG(evo_model_load(onnx, NULL, &mo, &err) == EVO_OK, "%s: %s", onnx, err.msg);
    int64_t t3 = evo_now_ns();
    CHECK_MSG(evo_model_load(evo, NULL, &me, &err) == EVO_OK, "%s: %s", evo, err.msg);
    int64_t t4 = evo_now_ns();
    if (!mo || !me) {
        evo_model_free(mo);
        evo_model_free(me);
        return;
    }
    printf("%-28s %8.2f MB  compile+write %7.1f ms  load .onnx+passes %7.1f ms  load .evo %6.2f ms\n", name,
           (double)bytes / 1e6, (double)(t1 - t0) / 1e6, (double)(t3 - t2) / 1e6, (double)(t4 - t3) / 1e6);
    CHECK(weights_in_place(me->g));
    CHECK(evo_model_n_inputs(mo) == evo_model_n_inputs(me));
    CHECK(evo_model_n_outputs(mo) == evo_model_n_outputs(me));
    for (int i = 0; i < evo_model_n_inputs(mo) && i < evo_model_n_inputs(me); i++)
        CHECK_MSG(same_desc(&mo->inputs[i], &me->inputs[i]), "%s input %d", name, i);
    for (int i = 0; i < evo_model_n_outputs(mo) && i < evo_model_n_outputs(me); i++)
        CHECK_MSG(same_desc(&mo->outputs[i], &me->outputs[i]), "%s output %d", name, i);
    size_t na = 0, nb = 0;
    uint8_t *a = run_model(mo, 0x5eed, &na), *b = run_model(me, 0x5eed, &nb);
    CHECK_MSG(a && b && na == nb && na > 0 && memcmp(a, b, na) == 0, "%s: outputs differ", name);
    free(a);
    free(b);
    evo_model_free(mo);
    evo_model_free(me);
    unlink(evo);
}

static void test_round_trip_models(void)
{
    const char *dir = find_models_dir();
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "no models in %s (generate them with models/export.py)", dir);
    if (!d)
        return;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".onnx") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        round_trip(path, e->d_name);
        n++;
    }
    closedir(d);
    CHECK_MSG(n > 0, "no .onnx files in %s", dir);
}

static const char *relu_onnx = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx";

/* The tiny CNN compiled into memory: the image used by the corruption tests. */
static uint8_t *tiny_image(size_t *size)
{
    char onnx[2048], evo[512];
    snprintf(onnx, sizeof(onnx), "%s/tiny_cnn_op13.onnx", find_models_dir());
    tmp_path("tiny.evo", evo, sizeof(evo));
    size_t bytes;
    if (!compile_to(onnx, evo, &bytes))
        return NULL;
    uint8_t *p = read_all(evo, size);
    unlink(evo);
    return p;
}

/* Reads a copy of image[0, size) (exactly sized, so overreads are caught); builds the plan on success. */
static evo_status load_copy(const uint8_t *image, size_t size, unsigned flags, evo_error *err)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, image, size);
    evo_graph *g = NULL;
    evo_status s = evo_file_load_buffer(copy, size, "t.evo", flags, &g, err);
    if (s == EVO_OK) {
        evo_plan plan;
        if (evo_plan_build(g, EVO_ISA_AMX, 2, &plan, err) == EVO_OK)
            evo_plan_free(&plan);
        evo_graph_free(g);
    }
    free(copy);
    return s;
}

static void test_truncation(void)
{
    size_t size = 0;
    uint8_t *image = tiny_image(&size);
    CHECK(image != NULL);
    if (!image)
        return;
    evo_error err = {0};
    CHECK(load_copy(image, size, 0, &err) == EVO_OK);
    int bad = 0;
    for (size_t cut = 0; cut < size; cut++) {
        memset(&err, 0, sizeof(err));
        evo_status s = load_copy(image, cut, 0, &err);
        if (s != EVO_ERR_PARSE || strncmp(err.msg, "t.evo: ", 7) != 0)
            bad++;
        /* without the checksum the structural checks must catch it on their own */
        s = load_copy(image, cut, EVO_FILE_NO_CHECKSUM, &err);
        if (s != EVO_ERR_PARSE)
            bad++;
    }
    CHECK_MSG(bad == 0, "%d truncations not rejected cleanly", bad);
    free(image);
}

static void test_byte_flips(void)
{
    size_t size = 0;
    uint8_t *image = tiny_image(&size);
    CHECK(image != NULL);
    if (!image)
        return;
    check_rng rng = {0xf11b5};
    int missed = 0, structural_ok = 0;
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *copy = malloc(size);
        memcpy(copy, image, size);
        int n_flips = 1 + (int)(check_rng_u64(&rng) % 4);
        for (int k = 0; k < n_flips; k++)
            copy[check_rng_u64(&rng) % size] ^= (uint8_t)(1u << (check_rng_u64(&rng) % 8));
        evo_error err = {0};
        if (memcmp(copy, image, size) != 0 && load_copy(copy, size, 0, &err) != EVO_ERR_PARSE)
            missed++;
        /* the same damage past the checksum: any outcome but a crash or leak */
        if (load_copy(copy, size, EVO_FILE_NO_CHECKSUM, &err) == EVO_OK)
            structural_ok++;
        free(copy);
    }
    CHECK_MSG(missed == 0, "%d corrupted files loaded", missed);
    printf("byte flips: %d of 3000 passed the structural checks alone (e.g. weight bytes)\n", structural_ok);
    free(image);
}

static void patch_checksum(uint8_t *image, size_t size)
{
    uint64_t sum = evo_file_checksum(image, size - 8);
    memcpy(image + size - 8, &sum, 8);
}

static void test_version_and_schema(void)
{
    size_t size = 0;
    uint8_t *image = tiny_image(&size);
    CHECK(image != NULL);
    if (!image)
        return;
    evo_error err = {0};
    uint32_t version = EVO_FILE_VERSION + 1;
    memcpy(image + 8, &version, 4);
    patch_checksum(image, size);
    CHECK(load_copy(image, size, 0, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "format version 2") && strstr(err.msg, "recompile"), "%s", err.msg);
    version = EVO_FILE_VERSION;
    memcpy(image + 8, &version, 4);
    uint64_t schema = evo_file_schema() ^ 1;
    memcpy(image + 32, &schema, 8);
    patch_checksum(image, size);
    CHECK(load_copy(image, size, 0, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "different operator attributes") != NULL, "%s", err.msg);
    uint32_t tag = 0x04030201u;
    memcpy(image + 12, &tag, 4);
    CHECK(load_copy(image, size, 0, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "byte order") != NULL, "%s", err.msg);
    CHECK(evo_file_has_magic(image, size));
    image[0] = 'X';
    CHECK(!evo_file_has_magic(image, size));
    CHECK(load_copy(image, size, 0, &err) == EVO_ERR_PARSE);
    /* a flip in the weights is caught by the checksum alone */
    image[0] = 'E';
    memcpy(image + 12, &(uint32_t){0x01020304u}, 4);
    memcpy(image + 32, &(uint64_t){evo_file_schema()}, 8);
    patch_checksum(image, size);
    CHECK(load_copy(image, size, 0, &err) == EVO_OK);
    image[size - 100] ^= 0x10;
    CHECK(load_copy(image, size, 0, &err) == EVO_ERR_PARSE);
    CHECK_MSG(strstr(err.msg, "checksum") != NULL, "%s", err.msg);
    free(image);
}

typedef void (*graph_damage)(evo_graph *g);

static int first_live(evo_graph *g, evo_op op)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].is_dead && g->nodes[i].op == op)
            return i;
    return -1;
}

static void zero_stride(evo_graph *g) { g->nodes[first_live(g, EVO_OP_CONV)].a.conv.stride[0] = 0; }
static void wrong_dims(evo_graph *g)
{
    evo_node *n = &g->nodes[first_live(g, EVO_OP_CONV)];
    g->values[n->out[0]].dims[1] += 1;
}
static void big_pad(evo_graph *g) { g->nodes[first_live(g, EVO_OP_CONV)].a.conv.pad_begin[0] = 1000; }
static void swap_nodes(evo_graph *g)
{
    int a = first_live(g, EVO_OP_CONV), b = -1;
    for (int i = a + 1; i < g->n_nodes && b < 0; i++)
        if (!g->nodes[i].is_dead)
            b = i;
    evo_node t = g->nodes[a];
    g->nodes[a] = g->nodes[b];
    g->nodes[b] = t;
}
static void bad_act(evo_graph *g) { g->nodes[first_live(g, EVO_OP_CONV)].a.conv.act = (evo_act)99; }
static void negative_groups(evo_graph *g) { g->nodes[first_live(g, EVO_OP_CONV)].a.conv.out_groups = -1; }
/* more output groups than channels: no [N, G, H, W, C / G] layout fits */
static void bad_groups(evo_graph *g)
{
    evo_node *n = &g->nodes[first_live(g, EVO_OP_CONV)];
    n->a.conv.out_groups = g->values[n->out[0]].dims[1] + 1;
}
/* YOLOv5's box decoding (evo.UpdateSlices from fuse_update): an update past the axis, a start missing */
static void update_past_end(evo_graph *g) { g->nodes[first_live(g, EVO_OP_UPDATE_SLICES)].a.split.sizes[1] = 84; }
static void update_start_missing(evo_graph *g) { g->nodes[first_live(g, EVO_OP_UPDATE_SLICES)].a.split.n_splits--; }

/* A well-formed file (valid checksum) holding a broken graph is rejected by the reader. */
static void test_semantic_tampering(void)
{
    static const struct {
        const char *name;
        graph_damage fn;
        const char *expect;
        const char *model;
        evo_status status;
    } cases[] = {
        {"zero stride", zero_stride, "window attributes out of range", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"output dims", wrong_dims, "disagrees with shape inference", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"pad", big_pad, "shape inference", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"node order", swap_nodes, "before any node produces it", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"enum", bad_act, "out of range", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"negative out_groups", negative_groups, "out_groups out of range", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"out_groups", bad_groups, "out_groups", "tiny_cnn_op13", EVO_ERR_PARSE},
        {"update past the axis", update_past_end, "covers [84, 86) of axis 4", "yolov5s_op17", EVO_ERR_SHAPE},
        {"update start missing", update_start_missing, "1 split sizes for 2 updates", "yolov5s_op17",
         EVO_ERR_PARSE},
    };
    char onnx[2048], evo[512];
    tmp_path("bad.evo", evo, sizeof(evo));
    for (size_t c = 0; c < EVO_ARRAY_LEN(cases); c++) {
        evo_error err = {0};
        evo_graph *g = NULL;
        snprintf(onnx, sizeof(onnx), "%s/%s.onnx", find_models_dir(), cases[c].model);
        CHECK(evo_graph_load_compiled(onnx, NULL, 0, NULL, &g, &err) == EVO_OK);
        if (!g)
            return;
        cases[c].fn(g);
        CHECK(evo_file_write(g, evo, NULL, &err) == EVO_OK);
        evo_graph_free(g);
        g = NULL;
        evo_status s = evo_file_load(evo, &g, &err);
        CHECK_MSG(s == cases[c].status && strstr(err.msg, cases[c].expect), "%s: status %d: %s", cases[c].name, s,
                  err.msg);
        evo_graph_free(g);
    }
    unlink(evo);
}

/* x quantized twice -> QLinearAdd (FIXED, ReLU) -> QLinearMul by a [1, 4, 1, 1] input (FIXED, Clip) -> y. */
static evo_graph *qbinary_graph(void)
{
    evo_builder b;
    evo_error err = {0};
    evo_builder_init(&b, "qbinary", 3);
    evo_build_input(&b, "x", 4, (int64_t[]){1, 4, 5, 6});
    evo_build_input(&b, "g", 4, (int64_t[]){1, 4, 1, 1});
    float s1 = 0.02f, s2 = 0.03f;
    uint8_t z1 = 128, z2 = 100;
    int64_t one[1] = {1};
    evo_build_const(&b, "s1", EVO_DTYPE_FLOAT, 0, one, &s1);
    evo_build_const(&b, "s2", EVO_DTYPE_FLOAT, 0, one, &s2);
    evo_build_const(&b, "z1", EVO_DTYPE_UINT8, 0, one, &z1);
    evo_build_const(&b, "z2", EVO_DTYPE_UINT8, 0, one, &z2);
    evo_build_node(&b, "QuantizeLinear", "x s1 z1", "xq", NULL);
    evo_build_node(&b, "QuantizeLinear", "x s2 z2", "xq2", NULL);
    evo_build_node(&b, "QuantizeLinear", "g s1 z1", "gq", NULL);
    evo_build_node(&b, "com.microsoft.QLinearAdd", "xq s1 z1 xq2 s2 z2 s2 z2", "a", NULL);
    if (b.ok)
        b.g->nodes[b.g->n_nodes - 1].a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FIXED, EVO_ACT_RELU, 0, 0};
    evo_build_node(&b, "com.microsoft.QLinearMul", "a s2 z2 gq s1 z1 s2 z2", "m", NULL);
    if (b.ok)
        b.g->nodes[b.g->n_nodes - 1].a.qbinary = (evo_qbinary_attrs){EVO_REQUANT_FIXED, EVO_ACT_CLIP, -1, 2};
    evo_build_node(&b, "DequantizeLinear", "m s2 z2", "y", NULL);
    evo_build_output(&b, "y");
    evo_compile_options co = evo_compile_options_default();
    bool ok = b.ok && evo_passes_run(b.g, &(evo_pass_ctx){&co, &err}) == EVO_OK;
    CHECK_MSG(ok, "qbinary graph: %s", err.msg);
    if (!ok) {
        evo_graph_free(b.g);
        return NULL;
    }
    return b.g;
}

/* QLinearAdd/QLinearMul's typed attributes round-trip; an activation or mode they do not take is refused on load. */
static void test_qbinary_attrs(void)
{
    char evo[512];
    tmp_path("qbinary.evo", evo, sizeof(evo));
    for (int c = 0; c < 4; c++) {
        evo_graph *g = qbinary_graph(), *back = NULL;
        evo_error err = {0};
        if (!g)
            return;
        evo_qbinary_attrs *add = &g->nodes[first_live(g, EVO_OP_QLINEAR_ADD)].a.qbinary;
        evo_qbinary_attrs *mul = &g->nodes[first_live(g, EVO_OP_QLINEAR_MUL)].a.qbinary;
        if (c == 1)
            add->act = EVO_ACT_SIGMOID; /* a table activation QLinearAdd does not fuse */
        if (c == 2)
            mul->act_alpha = 3; /* Clip min above max */
        if (c == 3)
            mul->requant = (evo_requant)2;
        CHECK(evo_file_write(g, evo, NULL, &err) == EVO_OK);
        evo_status s = evo_file_load(evo, &back, &err);
        if (c == 0) {
            CHECK_MSG(s == EVO_OK, "%s", err.msg);
            if (back) {
                const evo_qbinary_attrs *a2 = &back->nodes[first_live(back, EVO_OP_QLINEAR_ADD)].a.qbinary;
                const evo_qbinary_attrs *m2 = &back->nodes[first_live(back, EVO_OP_QLINEAR_MUL)].a.qbinary;
                CHECK(a2->requant == EVO_REQUANT_FIXED && a2->act == EVO_ACT_RELU);
                CHECK(m2->requant == EVO_REQUANT_FIXED && m2->act == EVO_ACT_CLIP && m2->act_alpha == -1 &&
                      m2->act_beta == 2);
            }
        } else {
            const char *want = c == 1 ? "fused activation" : c == 2 ? "Clip min" : "out of range";
            CHECK_MSG(s == EVO_ERR_PARSE && strstr(err.msg, want), "case %d: status %d: %s", c, s, err.msg);
        }
        evo_graph_free(g);
        evo_graph_free(back);
    }
    unlink(evo);
}

static void test_options_and_buffers(void)
{
    char evo[512];
    tmp_path("relu.evo", evo, sizeof(evo));
    if (!compile_to(relu_onnx, evo, NULL)) {
        CHECK_MSG(0, "cannot compile %s", relu_onnx);
        return;
    }
    evo_error err = {0};
    evo_model *m = NULL;
    evo_compile_options co = evo_compile_options_default();
    evo_input_shape sh = {"x", 3, {3, 4, 5}};
    co.input_shapes = &sh;
    co.n_input_shapes = 1;
    CHECK(evo_model_load(evo, &co, &m, &err) == EVO_OK);
    evo_model_free(m);
    m = NULL;
    sh.dims[0] = 2;
    CHECK(evo_model_load(evo, &co, &m, &err) == EVO_ERR_INVALID_ARG);
    CHECK_MSG(strstr(err.msg, "compiled for [3,4,5]") != NULL, "%s", err.msg);
    CHECK(m == NULL);

    /* from memory: aligned (in place) and misaligned (copied), same results */
    size_t size = 0;
    uint8_t *bytes = read_all(evo, &size);
    uint8_t *aligned = evo_aligned_alloc(size + 64);
    CHECK(bytes && aligned);
    if (bytes && aligned) {
        size_t na = 0, nb = 0;
        uint8_t *ra = NULL, *rb = NULL;
        memcpy(aligned, bytes, size);
        CHECK(evo_model_load_buffer(aligned, size, "relu", NULL, &m, &err) == EVO_OK);
        if (m)
            ra = run_model(m, 7, &na);
        evo_model_free(m);
        m = NULL;
        memmove(aligned + 1, aligned, size);
        CHECK(evo_model_load_buffer(aligned + 1, size, "relu", NULL, &m, &err) == EVO_OK);
        if (m)
            rb = run_model(m, 7, &nb);
        evo_model_free(m);
        CHECK(ra && rb && na == 60 * 4 && na == nb && memcmp(ra, rb, na) == 0);
        /* Relu by hand on the same seeded input */
        check_rng rng = {7};
        for (size_t k = 0; ra && k < na / 4; k++) {
            float x = check_rng_float(&rng, -1.0f, 1.0f);
            CHECK(((float *)ra)[k] == (x > 0 ? x : 0));
        }
        free(ra);
        free(rb);
    }
    free(bytes);
    evo_aligned_free(aligned);
    unlink(evo);
    rmdir(tmp_dir);
}

/*
 * Quantized node tests round-trip like the models (uint8/int8 inputs drawn
 * at random), and the requantization fields passes set (FIXED mode, a
 * fused table activation with its scale and zero point) survive the file.
 */
static void test_round_trip_quantized(void)
{
    static const char *const cases[] = {"test_qlinearconv", "test_qlinearmatmul_3D", "test_convinteger_with_padding",
                                        "test_matmulinteger", "test_quantizelinear_axis",
                                        "test_dequantizelinear_axis", "test_dynamicquantizelinear"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char onnx[512];
        snprintf(onnx, sizeof(onnx), "/usr/share/libonnx-testdata/data/node/%s/model.onnx", cases[i]);
        round_trip(onnx, cases[i]);
    }
    evo_error err = {0};
    evo_graph *g = NULL;
    const char *onnx = "/usr/share/libonnx-testdata/data/node/test_qlinearconv/model.onnx";
    CHECK_MSG(evo_graph_load_compiled(onnx, NULL, 0, NULL, &g, &err) == EVO_OK, "%s", err.msg);
    if (!g)
        return;
    evo_node *conv = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == EVO_OP_QLINEAR_CONV)
            conv = &g->nodes[i];
    CHECK(conv && conv->a.conv.requant == EVO_REQUANT_FLOAT);
    if (conv) {
        conv->a.conv.requant = EVO_REQUANT_FIXED;
        conv->a.conv.act = EVO_ACT_SIGMOID;
        conv->a.conv.act_scale = 0.0625f;
        conv->a.conv.act_zp = 117;
    }
    char evo[512];
    tmp_path("q.evo", evo, sizeof(evo));
    size_t bytes = 0, size = 0;
    CHECK_MSG(evo_file_write(g, evo, &bytes, &err) == EVO_OK, "%s", err.msg);
    evo_graph_free(g);
    uint8_t *image = read_all(evo, &size);
    g = NULL;
    CHECK_MSG(image && evo_file_load_buffer(image, size, "q.evo", 0, &g, &err) == EVO_OK, "%s", err.msg);
    bool found = false;
    for (int i = 0; g && i < g->n_nodes; i++) {
        const evo_conv_attrs *c = &g->nodes[i].a.conv;
        if (g->nodes[i].op != EVO_OP_QLINEAR_CONV)
            continue;
        found = true;
        CHECK(c->requant == EVO_REQUANT_FIXED && c->act == EVO_ACT_SIGMOID && c->act_scale == 0.0625f &&
              c->act_zp == 117);
    }
    CHECK(found);
    evo_graph_free(g);
    free(image);
    unlink(evo);
}

CHECK_MAIN(CHECK_TEST(test_round_trip_models), CHECK_TEST(test_round_trip_quantized), CHECK_TEST(test_truncation), CHECK_TEST(test_byte_flips),
           CHECK_TEST(test_version_and_schema), CHECK_TEST(test_semantic_tampering), CHECK_TEST(test_qbinary_attrs),
           CHECK_TEST(test_options_and_buffers))
