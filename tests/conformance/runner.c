/*
 * runner.c - runs the ONNX backend test cases that Debian ships in
 * libonnx-testdata (node/, pytorch-converted/, pytorch-operator/, simple/):
 * each case is a model.onnx plus test_data_set_N/{input,output}_K.pb.
 *
 * usage: conformance_runner [--expect FILE] [--verbose] DIR...
 *   DIR is a suite folder (its test_* subfolders are the cases) or one case.
 *
 * Every case ends as pass, fail, or unsupported (the model uses an op evo
 * does not implement at all). A failure must be listed in the expectation
 * file ("suite/case  reason"); an unlisted failure fails the run, and a
 * listed case that passes is reported so the list stays honest. Outputs are
 * compared like the ONNX backend tests: |got - want| <= atol + rtol * |want|
 * with rtol 1e-3, atol 1e-5 for floats, exact for integers and bools.
 */
#include "evo.h"
#include "graph/graph.h"
#include "onnx/onnx.h"
#include "onnx/onnx_priv.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TENSORS 32
#define RTOL 1e-3
#define ATOL 1e-5

typedef enum result { R_PASS, R_FAIL, R_UNSUPPORTED } result;

typedef struct expectation {
    char name[256];
    bool seen;
} expectation;

static expectation *expects;
static int n_expects;

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of entries in dir starting with prefix. Caller frees each and the array. */
static char **list_dir(const char *dir, const char *prefix, int *n_out)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    int n = 0, cap = 0;
    if (!d) {
        *n_out = 0;
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, sizeof(char *) * (size_t)cap);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof(char *), cmp_str);
    *n_out = n;
    return names;
}

static void free_list(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Reads a TensorProto file into t; the data lives in g's memory (or buf, which must outlive it). */
static evo_status read_pb_tensor(evo_graph *g, const unsigned char *buf, size_t size,
                                 const char *path, onnx_tensor *t, evo_error *err)
{
    onnx_loader L = {g, err, NULL, NULL};
    evo_pb msg = evo_pb_init(buf, size);
    return onnx_read_tensor(&L, &msg, path, t);
}

static double elem_double(const void *p, evo_dtype t, int64_t i)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return ((const float *)p)[i];
    case EVO_DTYPE_DOUBLE: return ((const double *)p)[i];
    case EVO_DTYPE_INT8: return ((const int8_t *)p)[i];
    case EVO_DTYPE_UINT8:
    case EVO_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case EVO_DTYPE_INT16: return ((const int16_t *)p)[i];
    case EVO_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case EVO_DTYPE_INT32: return ((const int32_t *)p)[i];
    case EVO_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case EVO_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case EVO_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

/* Compares an output; writes a reason on mismatch. */
static bool compare(const evo_tensor_desc *d, const void *got, const onnx_tensor *want, char *why,
                    size_t cap)
{
    char a[128], b[128];
    bool same_shape = d->rank == want->rank;
    for (int i = 0; same_shape && i < d->rank; i++)
        same_shape = d->dims[i] == want->dims[i];
    if (!same_shape || d->dtype != want->dtype) {
        snprintf(why, cap, "output \"%s\": got %s %s, expected %s %s", d->name, evo_dtype_name(d->dtype),
                 evo_dims_str(d->dims, d->rank, a, sizeof(a)), evo_dtype_name(want->dtype),
                 evo_dims_str(want->dims, want->rank, b, sizeof(b)));
        return false;
    }
    int64_t n = 1;
    for (int i = 0; i < d->rank; i++)
        n *= d->dims[i];
    if (d->dtype == EVO_DTYPE_FLOAT16 || d->dtype == EVO_DTYPE_BFLOAT16) {
        bool eq = memcmp(got, want->data, d->size_bytes) == 0;
        if (!eq)
            snprintf(why, cap, "output \"%s\": %s bytes differ", d->name, evo_dtype_name(d->dtype));
        return eq;
    }
    bool is_float = d->dtype == EVO_DTYPE_FLOAT || d->dtype == EVO_DTYPE_DOUBLE;
    for (int64_t i = 0; i < n; i++) {
        double x = elem_double(got, d->dtype, i), y = elem_double(want->data, d->dtype, i);
        bool ok;
        if (is_float) {
            if (isnan(y))
                ok = isnan(x);
            else if (isinf(y))
                ok = x == y;
            else
                ok = fabs(x - y) <= ATOL + RTOL * fabs(y);
        } else if (d->dtype == EVO_DTYPE_INT64 || d->dtype == EVO_DTYPE_UINT64) {
            ok = memcmp((const char *)got + i * 8, (const char *)want->data + i * 8, 8) == 0;
        } else {
            ok = x == y;
        }
        if (!ok) {
            snprintf(why, cap, "output \"%s\"[%lld]: got %.9g, expected %.9g", d->name, (long long)i, x, y);
            return false;
        }
    }
    return true;
}

/* Runs one test_data_set against a session. */
static result run_data_set(evo_model *model, evo_session *sess, const char *set_dir, char *why,
                           size_t cap)
{
    result r = R_FAIL;
    evo_error err = {0};
    evo_graph *mem = evo_graph_new(set_dir);
    int n_in = evo_model_n_inputs(model), n_out = evo_model_n_outputs(model);
    unsigned char *bufs[2 * MAX_TENSORS] = {0};
    int n_bufs = 0;
    if (!mem || n_in > MAX_TENSORS || n_out > MAX_TENSORS) {
        snprintf(why, cap, "too many tensors");
        goto done;
    }
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? n_in : n_out;
        for (int i = 0; i < n; i++) {
            char path[1200];
            snprintf(path, sizeof(path), "%s/%s_%d.pb", set_dir, pass == 0 ? "input" : "output", i);
            size_t size;
            unsigned char *buf = read_file(path, &size);
            if (!buf) {
                snprintf(why, cap, "%.900s: missing", path);
                goto done;
            }
            bufs[n_bufs++] = buf;
            onnx_tensor t;
            if (read_pb_tensor(mem, buf, size, path, &t, &err) != EVO_OK) {
                snprintf(why, cap, "%s", err.msg);
                goto done;
            }
            evo_tensor_desc d;
            if (pass == 0) {
                evo_model_input_desc(model, i, &d);
                if (t.size_bytes != d.size_bytes || t.dtype != d.dtype) {
                    snprintf(why, cap, "input %d: data set has %zu bytes of %s, model wants %zu of %s", i,
                             t.size_bytes, evo_dtype_name(t.dtype), d.size_bytes, evo_dtype_name(d.dtype));
                    goto done;
                }
                memcpy(evo_session_input_data(sess, i), t.data, t.size_bytes);
                continue;
            }
            if (i == 0 && evo_session_run(sess, &err) != EVO_OK) {
                snprintf(why, cap, "run: %s", err.msg);
                goto done;
            }
            evo_model_output_desc(model, i, &d);
            if (!compare(&d, evo_session_output_data(sess, i), &t, why, cap))
                goto done;
        }
    }
    r = R_PASS;
done:
    for (int i = 0; i < n_bufs; i++)
        free(bufs[i]);
    evo_graph_free(mem);
    return r;
}

/* Input shapes from the first data set, for models whose inputs have symbolic dims. */
static int data_set_shapes(const char *case_dir, evo_input_shape *shapes, char names[][128])
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/test_data_set_0", case_dir);
    int n = 0;
    evo_graph *mem = evo_graph_new(dir);
    evo_error err;
    for (int i = 0; mem && i < MAX_TENSORS; i++) {
        char path[1100];
        snprintf(path, sizeof(path), "%s/input_%d.pb", dir, i);
        size_t size;
        unsigned char *buf = read_file(path, &size);
        if (!buf)
            break;
        onnx_tensor t;
        if (read_pb_tensor(mem, buf, size, path, &t, &err) == EVO_OK && t.name[0] && t.rank > 0) {
            snprintf(names[n], 128, "%s", t.name);
            shapes[n].name = names[n];
            shapes[n].rank = t.rank;
            memcpy(shapes[n].dims, t.dims, sizeof(int64_t) * (size_t)t.rank);
            n++;
        }
        free(buf);
    }
    evo_graph_free(mem);
    return n;
}

static result run_case(const char *case_dir, char *why, size_t cap)
{
    char model_path[1024];
    snprintf(model_path, sizeof(model_path), "%s/model.onnx", case_dir);
    evo_error err = {0};
    evo_model *model = NULL;
    evo_session *sess = NULL;
    evo_input_shape shapes[MAX_TENSORS];
    char names[MAX_TENSORS][128];
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = shapes;
    co.n_input_shapes = data_set_shapes(case_dir, shapes, names);
    evo_status s = evo_model_load(model_path, &co, &model, &err);
    if (s == EVO_ERR_INVALID_ARG && co.n_input_shapes) {
        co.n_input_shapes = 0; /* data-set tensor names may not match the graph inputs */
        s = evo_model_load(model_path, &co, &model, &err);
    }
    if (s != EVO_OK) {
        snprintf(why, cap, "%s", err.msg);
        return (s == EVO_ERR_UNSUPPORTED && strstr(err.msg, "unsupported op")) ? R_UNSUPPORTED : R_FAIL;
    }
    evo_session_options so = evo_session_options_default();
    const char *threads = getenv("EVO_TEST_THREADS");
    so.n_threads = threads ? atoi(threads) : 1;
    if (evo_session_create(model, &so, &sess, &err) != EVO_OK) {
        snprintf(why, cap, "%s", err.msg);
        evo_model_free(model);
        return R_FAIL;
    }
    int n_sets;
    char **sets = list_dir(case_dir, "test_data_set_", &n_sets);
    result r = n_sets ? R_PASS : R_FAIL;
    if (!n_sets)
        snprintf(why, cap, "no test_data_set_* folders");
    for (int i = 0; i < n_sets && r == R_PASS; i++) {
        char set_dir[1100];
        snprintf(set_dir, sizeof(set_dir), "%s/%s", case_dir, sets[i]);
        r = run_data_set(model, sess, set_dir, why, cap);
    }
    free_list(sets, n_sets);
    evo_session_free(sess);
    evo_model_free(model);
    return r;
}

static void load_expectations(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "conformance: cannot open expectation file %s\n", path);
        exit(2);
    }
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        char name[256];
        if (line[0] == '#' || sscanf(line, "%255s", name) != 1)
            continue;
        expects = realloc(expects, sizeof(*expects) * (size_t)(n_expects + 1));
        snprintf(expects[n_expects].name, sizeof(expects[n_expects].name), "%s", name);
        expects[n_expects].seen = false;
        n_expects++;
    }
    fclose(f);
}

static expectation *find_expect(const char *name)
{
    for (int i = 0; i < n_expects; i++) {
        if (strcmp(expects[i].name, name) == 0)
            return &expects[i];
    }
    return NULL;
}

typedef struct totals {
    int pass, fail, unsupported, expected_fail, unexpected_fail, unexpected_pass;
} totals;

static void run_one(const char *suite, const char *case_dir, const char *case_name, bool verbose,
                    totals *t)
{
    char why[1024] = "", key[512];
    snprintf(key, sizeof(key), "%s/%s", suite, case_name);
    result r = run_case(case_dir, why, sizeof(why));
    expectation *e = find_expect(key);
    if (e)
        e->seen = true;
    switch (r) {
    case R_PASS:
        t->pass++;
        if (e) {
            t->unexpected_pass++;
            printf("PASS        %s (listed as expected failure: remove it from the list)\n", key);
        } else if (verbose) {
            printf("PASS        %s\n", key);
        }
        break;
    case R_UNSUPPORTED:
        t->unsupported++;
        printf("UNSUPPORTED %s: %s\n", key, why);
        break;
    case R_FAIL:
        t->fail++;
        if (e)
            t->expected_fail++;
        else
            t->unexpected_fail++;
        printf("FAIL%s    %s: %s\n", e ? "(xf)" : "    ", key, why);
        break;
    }
}

int main(int argc, char **argv)
{
    bool verbose = false;
    totals all = {0};
    int n_dirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
            load_expectations(argv[++i]);
            continue;
        }
        if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
            continue;
        }
        const char *dir = argv[i];
        if (!is_dir(dir)) {
            fprintf(stderr, "conformance: %s is not a directory (is libonnx-testdata installed?)\n", dir);
            return 2;
        }
        n_dirs++;
        char model[1100];
        snprintf(model, sizeof(model), "%s/model.onnx", dir);
        const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        if (access(model, R_OK) == 0) {
            run_one("case", dir, base, true, &all);
            continue;
        }
        int n_cases;
        char **cases = list_dir(dir, "test_", &n_cases);
        totals t = {0};
        for (int c = 0; c < n_cases; c++) {
            char case_dir[1200];
            snprintf(case_dir, sizeof(case_dir), "%s/%s", dir, cases[c]);
            run_one(base, case_dir, cases[c], verbose, &t);
        }
        free_list(cases, n_cases);
        printf("%-20s %4d passed, %4d failed (%d expected), %4d unsupported, of %d\n", base, t.pass, t.fail,
               t.expected_fail, t.unsupported, n_cases);
        all.pass += t.pass;
        all.fail += t.fail;
        all.unsupported += t.unsupported;
        all.expected_fail += t.expected_fail;
        all.unexpected_fail += t.unexpected_fail;
        all.unexpected_pass += t.unexpected_pass;
    }
    if (!n_dirs) {
        fprintf(stderr, "usage: conformance_runner [--expect FILE] [--verbose] DIR...\n");
        return 2;
    }
    printf("total: %d passed, %d failed (%d expected, %d unexpected), %d unsupported\n", all.pass, all.fail,
           all.expected_fail, all.unexpected_fail, all.unsupported);
    if (all.unexpected_fail)
        printf("conformance: %d unexpected failure(s): fix them or list them with a reason\n", all.unexpected_fail);
    free(expects);
    return all.unexpected_fail ? 1 : 0;
}
