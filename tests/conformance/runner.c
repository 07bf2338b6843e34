/*
 * runner.c - runs the ONNX backend test cases that Debian ships in
 * libonnx-testdata (node/, pytorch-converted/, pytorch-operator/, simple/):
 * each case is a model.onnx plus test_data_set_N/{input,output}_K.pb.
 *
 * usage: conformance_runner [--expect FILE] [--totals FILE | --write-totals FILE] [--verbose] DIR...
 *   DIR is a suite folder (its test_* subfolders are the cases) or one case.
 *
 * Every case ends as pass, fail, or unsupported (the model uses an op evo
 * does not implement at all). A failure must be listed in the expectation
 * file ("suite/case  reason"); the run fails on an unlisted failure, on a
 * listed case that passes (remove it from the list) and on a listed case
 * of a suite run here that matches no case (a stale entry). --totals pins
 * each suite's counts ("suite cases passed failed unsupported", as
 * --write-totals writes them): any other count fails the run, so an op
 * that stops being supported is noticed, and one newly supported is
 * written down. Outputs are
 * compared like the ONNX backend tests: |got - want| <= atol + rtol * |want|
 * with rtol 1e-3, atol 1e-5 for floats, exact for integers and bools.
 */
#include "evo.h"
#include "graph/graph.h"
#include "kernels/elem_ref.h"
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
    int line;
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

/* The ONNX 1.12 test data stores bfloat16 tensors with data type uint16 (same bytes). */
static bool same_type(evo_dtype data_set, evo_dtype model)
{
    return data_set == model || (data_set == EVO_DTYPE_UINT16 && model == EVO_DTYPE_BFLOAT16) ||
           (data_set == EVO_DTYPE_BFLOAT16 && model == EVO_DTYPE_UINT16);
}

/* Compares an output; writes a reason on mismatch. */
static bool compare(const evo_tensor_desc *d, const void *got, const onnx_tensor *want, char *why,
                    size_t cap)
{
    char a[128], b[128];
    bool same_shape = d->rank == want->rank;
    for (int i = 0; same_shape && i < d->rank; i++)
        same_shape = d->dims[i] == want->dims[i];
    if (!same_shape || !same_type(d->dtype, want->dtype)) {
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
        double x = elem_load_f64(got, d->dtype, i), y = elem_load_f64(want->data, d->dtype, i);
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

/* The tensors of one test_data_set: inputs and expected outputs. */
typedef struct data_set {
    evo_graph *mem; /* owns decoded tensors */
    unsigned char *bufs[2 * MAX_TENSORS];
    int n_bufs;
    onnx_tensor in[MAX_TENSORS], out[MAX_TENSORS];
    int n_in, n_out;
} data_set;

static void data_set_free(data_set *ds)
{
    for (int i = 0; i < ds->n_bufs; i++)
        free(ds->bufs[i]);
    evo_graph_free(ds->mem);
}

static bool data_set_load(const char *set_dir, data_set *ds, char *why, size_t cap)
{
    evo_error err = {0};
    memset(ds, 0, sizeof(*ds));
    ds->mem = evo_graph_new(set_dir);
    for (int pass = 0; ds->mem && pass < 2; pass++) {
        for (int i = 0; i < MAX_TENSORS; i++) {
            char path[1200];
            snprintf(path, sizeof(path), "%s/%s_%d.pb", set_dir, pass == 0 ? "input" : "output", i);
            size_t size;
            unsigned char *buf = read_file(path, &size);
            if (!buf)
                break;
            ds->bufs[ds->n_bufs++] = buf;
            onnx_tensor *t = pass == 0 ? &ds->in[ds->n_in++] : &ds->out[ds->n_out++];
            if (read_pb_tensor(ds->mem, buf, size, path, t, &err) != EVO_OK) {
                snprintf(why, cap, "%s", err.msg);
                return false;
            }
        }
    }
    return ds->mem != NULL;
}

/* Finds NAME in an error of the form ...("NAME") must be a constant...; false if none. */
static bool needs_constant(const char *msg, char *name, size_t cap)
{
    const char *m = strstr(msg, "\") must be a constant");
    if (!m)
        return false;
    const char *q = m;
    while (q > msg + 1 && !(q[-1] == '"' && q[-2] == '('))
        q--;
    if (q <= msg + 1 || (size_t)(m - q) >= cap)
        return false;
    memcpy(name, q, (size_t)(m - q));
    name[m - q] = 0;
    return true;
}

static void add_frozen(evo_const_input *f, const onnx_tensor *t)
{
    f->name = t->name;
    f->dtype = t->dtype;
    f->rank = t->rank;
    memcpy(f->dims, t->dims, sizeof(t->dims));
    f->data = t->data;
}

/*
 * Compiles the model for one data set. Inputs that the model uses as shapes
 * or parameters (reported as "must be a constant") are frozen to the data
 * set's values and the model is compiled again.
 */
static result compile_for(const char *model_path, const data_set *ds, evo_const_input *frozen,
                          int *n_frozen, evo_model **model, char *why, size_t cap)
{
    evo_input_shape shapes[MAX_TENSORS];
    evo_error err = {0};
    for (int attempt = 0; attempt <= MAX_TENSORS; attempt++) {
        evo_compile_options co = evo_compile_options_default();
        int n_shapes = 0;
        for (int i = 0; i < ds->n_in; i++) {
            bool is_frozen = false;
            for (int f = 0; f < *n_frozen; f++)
                is_frozen |= strcmp(frozen[f].name, ds->in[i].name) == 0;
            if (is_frozen || !ds->in[i].name[0] || ds->in[i].rank < 1)
                continue;
            shapes[n_shapes].name = ds->in[i].name;
            shapes[n_shapes].rank = ds->in[i].rank;
            memcpy(shapes[n_shapes].dims, ds->in[i].dims, sizeof(int64_t) * (size_t)ds->in[i].rank);
            n_shapes++;
        }
        co.input_shapes = shapes;
        co.n_input_shapes = n_shapes;
        co.const_inputs = frozen;
        co.n_const_inputs = *n_frozen;
        evo_status s = evo_model_load(model_path, &co, model, &err);
        if (s != EVO_OK && n_shapes) {
            co.n_input_shapes = 0; /* data-set tensor names may not match the graph inputs */
            evo_error err2 = {0};
            if (evo_model_load(model_path, &co, model, &err2) == EVO_OK)
                s = EVO_OK;
        }
        if (s == EVO_OK)
            return R_PASS;
        char name[256];
        int found = -1;
        if (needs_constant(err.msg, name, sizeof(name))) {
            for (int i = 0; i < ds->n_in; i++) {
                if (strcmp(ds->in[i].name, name) == 0)
                    found = i;
            }
        }
        if (found < 0 || *n_frozen == MAX_TENSORS) {
            snprintf(why, cap, "%s", err.msg);
            if (s == EVO_ERR_UNSUPPORTED &&
                (strstr(err.msg, "unsupported op") || strstr(err.msg, "only tensor types") ||
                 strstr(err.msg, "type string")))
                return R_UNSUPPORTED;
            return R_FAIL;
        }
        add_frozen(&frozen[(*n_frozen)++], &ds->in[found]);
    }
    snprintf(why, cap, "%s", err.msg);
    return R_FAIL;
}

/* Compiles, binds inputs by name (or position), runs, and compares every output. */
static result run_data_set(const char *model_path, const data_set *ds, char *why, size_t cap)
{
    evo_const_input frozen[MAX_TENSORS];
    int n_frozen = 0;
    evo_error err = {0};
    evo_model *model = NULL;
    evo_session *sess = NULL;
    result r = compile_for(model_path, ds, frozen, &n_frozen, &model, why, cap);
    if (r != R_PASS)
        return r;
    r = R_FAIL;
    evo_session_options so = evo_session_options_default();
    const char *threads = getenv("EVO_TEST_THREADS");
    so.n_threads = threads ? atoi(threads) : 1;
    if (evo_session_create(model, &so, &sess, &err) != EVO_OK) {
        snprintf(why, cap, "%s", err.msg);
        goto done;
    }
    int n_in = evo_model_n_inputs(model), n_out = evo_model_n_outputs(model);
    if (n_out != ds->n_out) {
        snprintf(why, cap, "model has %d outputs, data set %d", n_out, ds->n_out);
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        evo_tensor_desc d;
        evo_model_input_desc(model, i, &d);
        const onnx_tensor *t = NULL;
        for (int k = 0; k < ds->n_in; k++) {
            if (strcmp(ds->in[k].name, d.name) == 0)
                t = &ds->in[k];
        }
        if (!t && n_frozen == 0 && i < ds->n_in)
            t = &ds->in[i]; /* unnamed data-set tensors bind by position */
        if (!t || t->size_bytes != d.size_bytes || !same_type(t->dtype, d.dtype)) {
            snprintf(why, cap, "input %d \"%s\": data set has %zu bytes of %s, model wants %zu of %s", i,
                     d.name, t ? t->size_bytes : 0, t ? evo_dtype_name(t->dtype) : "nothing", d.size_bytes,
                     evo_dtype_name(d.dtype));
            goto done;
        }
        memcpy(evo_session_input_data(sess, i), t->data, t->size_bytes);
    }
    if (evo_session_run(sess, &err) != EVO_OK) {
        snprintf(why, cap, "run: %s", err.msg);
        goto done;
    }
    for (int i = 0; i < n_out; i++) {
        evo_tensor_desc d;
        evo_model_output_desc(model, i, &d);
        if (!compare(&d, evo_session_output_data(sess, i), &ds->out[i], why, cap))
            goto done;
    }
    r = R_PASS;
done:
    evo_session_free(sess);
    evo_model_free(model);
    return r;
}

/* Does the model take or give sequences, maps or optionals (data sets that are not tensors)? */
static bool non_tensor_model(const char *model_path)
{
    evo_error err = {0};
    evo_model *model = NULL;
    evo_status s = evo_model_load(model_path, NULL, &model, &err);
    evo_model_free(model);
    return s == EVO_ERR_UNSUPPORTED &&
           (strstr(err.msg, "only tensor types") != NULL || strstr(err.msg, "unsupported op") != NULL);
}

static result run_case(const char *case_dir, char *why, size_t cap)
{
    char model_path[1024];
    snprintf(model_path, sizeof(model_path), "%s/model.onnx", case_dir);
    int n_sets;
    char **sets = list_dir(case_dir, "test_data_set_", &n_sets);
    result r = n_sets ? R_PASS : R_FAIL;
    if (!n_sets)
        snprintf(why, cap, "no test_data_set_* folders");
    for (int i = 0; i < n_sets && r == R_PASS; i++) {
        char set_dir[1100];
        snprintf(set_dir, sizeof(set_dir), "%s/%s", case_dir, sets[i]);
        data_set ds;
        if (!data_set_load(set_dir, &ds, why, cap))
            r = non_tensor_model(model_path) ? R_UNSUPPORTED : R_FAIL;
        else
            r = run_data_set(model_path, &ds, why, cap);
        data_set_free(&ds);
    }
    free_list(sets, n_sets);
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
    int line_no = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[256];
        line_no++;
        if (line[0] == '#' || sscanf(line, "%255s", name) != 1)
            continue;
        expectation *grown = realloc(expects, sizeof(*expects) * (size_t)(n_expects + 1));
        if (!grown) {
            fprintf(stderr, "conformance: out of memory reading %s\n", path);
            exit(2);
        }
        expects = grown;
        snprintf(expects[n_expects].name, sizeof(expects[n_expects].name), "%s", name);
        expects[n_expects].seen = false;
        expects[n_expects].line = line_no;
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

/* Listed cases of suite that matched no case folder; each is printed. */
static int stale_entries(const char *suite, const char *expect_path)
{
    size_t len = strlen(suite);
    int n = 0;
    for (int i = 0; i < n_expects; i++) {
        if (expects[i].seen || strncmp(expects[i].name, suite, len) != 0 || expects[i].name[len] != '/')
            continue;
        printf("STALE       %s (%s:%d): no such case in this data set: remove the entry\n", expects[i].name,
               expect_path, expects[i].line);
        n++;
    }
    return n;
}

/*
 * Compares a suite's counts with its line in the totals file; prints what
 * differs. Returns the number of mismatches (a missing line is one).
 */
static int check_totals(const char *path, const char *suite, int n_cases, const totals *t)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "conformance: cannot open totals file %s\n", path);
        return 1;
    }
    char line[512], name[256];
    int cases, pass, fail, unsupported, found = 0, bad = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || sscanf(line, "%255s %d %d %d %d", name, &cases, &pass, &fail, &unsupported) != 5 ||
            strcmp(name, suite) != 0)
            continue;
        found = 1;
        if (cases != n_cases || pass != t->pass || fail != t->fail || unsupported != t->unsupported) {
            printf("TOTALS      %s: %d cases, %d passed, %d failed, %d unsupported; %s pins %d, %d, %d, %d\n",
                   suite, n_cases, t->pass, t->fail, t->unsupported, path, cases, pass, fail, unsupported);
            if (cases != n_cases)
                printf("            the data set changed (another libonnx-testdata version?)\n");
            else if (t->unsupported > unsupported || t->pass < pass)
                printf("            fewer cases supported or passing than pinned: an op or a case was dropped\n");
            else
                printf("            more cases pass than pinned: write the new totals (--write-totals)\n");
            bad = 1;
        }
    }
    fclose(f);
    if (!found) {
        printf("TOTALS      %s: no line in %s (write it with --write-totals)\n", suite, path);
        bad = 1;
    }
    return bad;
}

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
    int n_dirs = 0, n_stale = 0, n_totals_bad = 0;
    const char *expect_path = NULL, *totals_path = NULL, *write_path = NULL;
    FILE *write_f = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
            expect_path = argv[++i];
            load_expectations(expect_path);
            continue;
        }
        if (strcmp(argv[i], "--totals") == 0 && i + 1 < argc) {
            totals_path = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--write-totals") == 0 && i + 1 < argc) {
            write_path = argv[++i];
            write_f = fopen(write_path, "w");
            if (!write_f) {
                fprintf(stderr, "conformance: cannot create %s\n", write_path);
                return 2;
            }
            fprintf(write_f, "# ONNX backend cases per suite of libonnx-testdata, pinned: conformance_runner --totals\n"
                             "# fails on any other count. Written by conformance_runner --write-totals.\n"
                             "# suite              cases  passed  failed  unsupported\n");
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
        n_stale += stale_entries(base, expect_path);
        if (totals_path)
            n_totals_bad += check_totals(totals_path, base, n_cases, &t);
        if (write_f)
            fprintf(write_f, "%-20s %6d  %6d  %6d  %11d\n", base, n_cases, t.pass, t.fail, t.unsupported);
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
    if (all.unexpected_pass)
        printf("conformance: %d listed failure(s) now pass: remove them from %s\n", all.unexpected_pass,
               expect_path);
    if (n_stale)
        printf("conformance: %d stale entr%s in %s\n", n_stale, n_stale == 1 ? "y" : "ies", expect_path);
    if (n_totals_bad)
        printf("conformance: %d suite(s) differ from %s\n", n_totals_bad, totals_path);
    if (write_f) {
        fclose(write_f);
        printf("wrote %s\n", write_path);
    }
    free(expects);
    return all.unexpected_fail || all.unexpected_pass || n_stale || n_totals_bad ? 1 : 0;
}
