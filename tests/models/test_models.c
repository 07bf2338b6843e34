/*
 * test_models.c - whole-model numerics against PyTorch.
 *
 * For each ONNX file that models/export.py writes (YOLOv5s, YOLOv8n and
 * ResNet18 at opsets 12 and 17, a tiny CNN at opset 13, YOLOv5n and the
 * lightweight torchvision classifiers at opset 17), load it through the
 * public API, run PyTorch's saved input and compare with PyTorch's saved
 * output. Bounds, stated once here and in models/README.md:
 *   - whole tensor:  max|evo - torch| <= 1e-4 * max|torch|
 *   - per channel (YOLO outputs: each of the 85 / 84 box, score and class
 *     channels): max error in the channel <= 1e-3 * max|torch in channel|,
 *     so a small score in [0,1] cannot hide under the box coordinates' scale.
 * A missing model is a failure, never a skip. Files are looked up in
 * $EVO_MODELS_DIR, else in the directory baked in at build time. With
 * --isa TIER (check.h) every session is capped at that kernel tier; ctest
 * runs the models so at each tier as models/test_models/TIER, and a tier
 * this CPU lacks exits 77 (skipped).
 */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "evo.h"
#include "models/npy.h"

#ifndef EVO_MODELS_DEFAULT_DIR
#define EVO_MODELS_DEFAULT_DIR "models/out"
#endif

#define REL_BOUND 1e-4
#define CHANNEL_REL_BOUND 1e-3

typedef struct model_case {
    const char *file;  /* ONNX file name */
    const char *data;  /* prefix of <data>.input.npy / <data>.output.npy */
    int channel_axis;  /* output axis holding per-box channels, -1: none */
    int from_buffer;   /* load with evo_model_load_buffer instead of a path */
} model_case;

typedef struct compare_stats {
    double max_err, max_ref;
    size_t worst;      /* flat index of max_err */
    size_t n_nonfinite;
} compare_stats;

static const char *models_dir(void)
{
    const char *d = getenv("EVO_MODELS_DIR");
    return d && *d ? d : EVO_MODELS_DEFAULT_DIR;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void print_dims(const char *what, int rank, const int64_t *dims)
{
    fprintf(stderr, "  %s [", what);
    for (int i = 0; i < rank; i++)
        fprintf(stderr, "%s%lld", i ? "," : "", (long long)dims[i]);
    fprintf(stderr, "]\n");
}

/* True when the tensor description matches the .npy array exactly. */
static int desc_matches(const evo_tensor_desc *d, const npy_array *a)
{
    if (d->dtype != EVO_DTYPE_FLOAT || d->rank != a->rank || d->size_bytes != a->count * 4)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (d->dims[i] != a->dims[i])
            return 0;
    return 1;
}

static compare_stats compare(const float *got, const npy_array *ref)
{
    compare_stats s = {0, 0, 0, 0};
    for (size_t i = 0; i < ref->count; i++) {
        double r = ref->data[i], g = got[i];
        if (!isfinite(g)) {
            s.n_nonfinite++;
            continue;
        }
        double e = fabs(g - r);
        if (e > s.max_err) {
            s.max_err = e;
            s.worst = i;
        }
        if (fabs(r) > s.max_ref)
            s.max_ref = fabs(r);
    }
    return s;
}

/* Checks every channel along `axis` against its own scale. */
static void check_channels(const char *name, const float *got, const npy_array *ref, int axis)
{
    size_t inner = 1;
    for (int i = axis + 1; i < ref->rank; i++)
        inner *= (size_t)ref->dims[i];
    size_t n_ch = (size_t)ref->dims[axis];
    double *max_err = calloc(n_ch, sizeof(double));
    double *max_ref = calloc(n_ch, sizeof(double));
    CHECK(max_err && max_ref);
    if (!max_err || !max_ref)
        goto done;
    for (size_t i = 0; i < ref->count; i++) {
        size_t c = (i / inner) % n_ch;
        double e = fabs((double)got[i] - ref->data[i]);
        double r = fabs(ref->data[i]);
        max_err[c] = e > max_err[c] ? e : max_err[c];
        max_ref[c] = r > max_ref[c] ? r : max_ref[c];
    }
    double worst_ratio = 0;
    size_t worst_ch = 0, n_bad = 0;
    for (size_t c = 0; c < n_ch; c++) {
        double ratio = max_err[c] / (max_ref[c] > 0 ? max_ref[c] : 1);
        if (!(ratio <= CHANNEL_REL_BOUND))
            n_bad++;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst_ch = c;
        }
    }
    printf("%-20s per-channel worst: channel %zu ratio %.3g (bound %g)\n", name, worst_ch,
           worst_ratio, CHANNEL_REL_BOUND);
    CHECK_MSG(n_bad == 0, "%s: %zu of %zu channels exceed %g (worst channel %zu: %.3g)", name,
              n_bad, n_ch, CHANNEL_REL_BOUND, worst_ch, worst_ratio);
done:
    free(max_err);
    free(max_ref);
}

static void compare_and_report(const char *name, const char *what, const float *got,
                               const npy_array *ref)
{
    compare_stats s = compare(got, ref);
    double ratio = s.max_err / (s.max_ref > 0 ? s.max_ref : 1);
    printf("%-20s %s: max|err| %.4g  max|ref| %.4g  ratio %.3g (bound %g)\n", name, what,
           s.max_err, s.max_ref, ratio, REL_BOUND);
    CHECK_MSG(s.n_nonfinite == 0, "%s: %zu non-finite outputs", name, s.n_nonfinite);
    CHECK_MSG(s.max_err <= REL_BOUND * s.max_ref,
              "%s: max|err| %.6g at flat index %zu (evo %.9g, torch %.9g) > %g * %.6g", name,
              s.max_err, s.worst, (double)got[s.worst], (double)ref->data[s.worst], REL_BOUND,
              s.max_ref);
}

/* Reads a whole file into a malloc'ed buffer; NULL on failure. */
static void *read_file(const char *path, size_t *size)
{
    void *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    *size = n > 0 ? (size_t)n : 0;
    return buf;
}

static void run_case(const model_case *mc, int n_runs)
{
    char path[1024], msg[1200];
    npy_array in = {0}, ref = {0};
    evo_model *model = NULL;
    evo_session *sess = NULL;
    evo_error err = {0};
    void *file_buf = NULL;
    size_t file_size = 0;
    const char *dir = models_dir();

    snprintf(path, sizeof(path), "%s/%s.input.npy", dir, mc->data);
    if (npy_load(path, &in, msg, sizeof(msg)) != 0) {
        CHECK_MSG(0, "%s (generate with: /usr/bin/python3 models/export.py --out %s)", msg, dir);
        goto done;
    }
    snprintf(path, sizeof(path), "%s/%s.output.npy", dir, mc->data);
    if (npy_load(path, &ref, msg, sizeof(msg)) != 0) {
        CHECK_MSG(0, "%s", msg);
        goto done;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, mc->file);
    evo_compile_options opts = evo_compile_options_default();
    double t0 = now_ms();
    evo_status st;
    if (mc->from_buffer) {
        file_buf = read_file(path, &file_size);
        CHECK_MSG(file_buf != NULL, "%s: cannot read", path);
        if (!file_buf)
            goto done;
        st = evo_model_load_buffer(file_buf, file_size, mc->file, &opts, &model, &err);
    } else {
        st = evo_model_load(path, &opts, &model, &err);
    }
    CHECK_MSG(st == EVO_OK, "load (%s): %s", evo_status_name(st), err.msg);
    if (st != EVO_OK)
        goto done;
    double t_load = now_ms() - t0;

    CHECK_MSG(evo_model_n_inputs(model) == 1, "%s: %d inputs", mc->file, evo_model_n_inputs(model));
    CHECK_MSG(evo_model_n_outputs(model) == 1, "%s: %d outputs", mc->file,
              evo_model_n_outputs(model));
    evo_tensor_desc din, dout;
    if (evo_model_input_desc(model, 0, &din) != EVO_OK || !desc_matches(&din, &in)) {
        CHECK_MSG(0, "%s: input 0 does not match %s.input.npy", mc->file, mc->data);
        print_dims("npy", in.rank, in.dims);
        goto done;
    }
    if (evo_model_output_desc(model, 0, &dout) != EVO_OK || !desc_matches(&dout, &ref)) {
        CHECK_MSG(0, "%s: output 0 does not match %s.output.npy", mc->file, mc->data);
        print_dims("evo", dout.rank, dout.dims);
        print_dims("npy", ref.rank, ref.dims);
        goto done;
    }

    evo_session_options sopts = evo_session_options_default();
    sopts.n_threads = 2;
    st = evo_session_create(model, &sopts, &sess, &err);
    CHECK_MSG(st == EVO_OK, "%s: session: %s: %s", mc->file, evo_status_name(st), err.msg);
    if (st != EVO_OK)
        goto done;
    // a second run catches state that the first run leaves behind in the arena
    for (int run = 0; run < n_runs; run++) {
        float *x = evo_session_input_data(sess, 0);
        CHECK(x != NULL);
        if (!x)
            goto done;
        memcpy(x, in.data, in.count * 4);
        t0 = now_ms();
        st = evo_session_run(sess, &err);
        double t_run = now_ms() - t0;
        CHECK_MSG(st == EVO_OK, "%s: run: %s: %s", mc->file, evo_status_name(st), err.msg);
        if (st != EVO_OK)
            goto done;
        const float *y = evo_session_output_data(sess, 0);
        CHECK(y != NULL);
        if (!y)
            goto done;
        printf("%-20s run %d: load %.0f ms, run %.0f ms\n", mc->file, run + 1, t_load, t_run);
        compare_and_report(mc->file, run ? "run 2" : "run 1", y, &ref);
        if (mc->channel_axis >= 0 && run == 0)
            check_channels(mc->file, y, &ref, mc->channel_axis);
    }
done:
    evo_session_free(sess);
    evo_model_free(model);
    free(file_buf); // the buffer must outlive the model
    npy_free(&in);
    npy_free(&ref);
}

static const model_case TINY_CNN = {"tiny_cnn_op13.onnx", "tiny_cnn", -1, 0};
static const model_case TINY_CNN_BUFFER = {"tiny_cnn_op13.onnx", "tiny_cnn", -1, 1};
static const model_case RESNET18_OP12 = {"resnet18_op12.onnx", "resnet18", -1, 0};
static const model_case RESNET18_OP17 = {"resnet18_op17.onnx", "resnet18", -1, 0};
static const model_case YOLOV8N_OP12 = {"yolov8n_op12.onnx", "yolov8n", 1, 0};
static const model_case YOLOV8N_OP17 = {"yolov8n_op17.onnx", "yolov8n", 1, 0};
static const model_case YOLOV5S_OP12 = {"yolov5s_op12.onnx", "yolov5s", 2, 0};
static const model_case YOLOV5S_OP17 = {"yolov5s_op17.onnx", "yolov5s", 2, 0};

static const model_case YOLOV5N_OP17 = {"yolov5n_op17.onnx", "yolov5n", 2, 0};
static const model_case MOBILENET_V2 = {"mobilenet_v2_op17.onnx", "mobilenet_v2", -1, 0};
static const model_case MOBILENET_V3 = {"mobilenet_v3_large_op17.onnx", "mobilenet_v3_large", -1, 0};
static const model_case SHUFFLENET_V2 = {"shufflenet_v2_x1_0_op17.onnx", "shufflenet_v2_x1_0", -1, 0};
static const model_case EFFICIENTNET_B0 = {"efficientnet_b0_op17.onnx", "efficientnet_b0", -1, 0};

static void test_tiny_cnn_op13(void) { run_case(&TINY_CNN, 2); }
static void test_tiny_cnn_op13_buffer(void) { run_case(&TINY_CNN_BUFFER, 1); }
static void test_resnet18_op12(void) { run_case(&RESNET18_OP12, 1); }
static void test_resnet18_op17(void) { run_case(&RESNET18_OP17, 1); }
static void test_yolov8n_op12(void) { run_case(&YOLOV8N_OP12, 1); }
static void test_yolov8n_op17(void) { run_case(&YOLOV8N_OP17, 1); }
static void test_yolov5s_op12(void) { run_case(&YOLOV5S_OP12, 1); }
static void test_yolov5s_op17(void) { run_case(&YOLOV5S_OP17, 1); }
static void test_yolov5n_op17(void) { run_case(&YOLOV5N_OP17, 1); }
static void test_mobilenet_v2(void) { run_case(&MOBILENET_V2, 1); }
static void test_mobilenet_v3_large(void) { run_case(&MOBILENET_V3, 1); }
static void test_shufflenet_v2(void) { run_case(&SHUFFLENET_V2, 1); }
static void test_efficientnet_b0(void) { run_case(&EFFICIENTNET_B0, 1); }

/* Builds a version-1.0 .npy image: header text padded to 64 bytes, then data. */
static size_t make_npy(unsigned char *buf, const char *dict, const float *data, size_t n_bytes)
{
    char hdr[118];
    int len = snprintf(hdr, sizeof(hdr), "%s", dict);
    while (len < 117)
        hdr[len++] = ' ';
    hdr[117] = '\n';
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = 118;
    buf[9] = 0;
    memcpy(buf + 10, hdr, 118);
    memcpy(buf + 128, data, n_bytes);
    return 128 + n_bytes;
}

/* The reader against hand-made files: one valid, each malformed one rejected. */
static void test_npy_reader(void)
{
    static const float vals[6] = {1.5f, -2.0f, 0.25f, 3.0f, -0.0f, 1e-30f};
    unsigned char buf[256];
    char msg[256];
    npy_array a = {0};

    size_t n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                        vals, sizeof(vals));
    CHECK(npy_parse(buf, n, &a, msg, sizeof(msg)) == 0);
    CHECK(a.rank == 2 && a.dims[0] == 2 && a.dims[1] == 3 && a.count == 6);
    for (int i = 0; i < 6 && a.data; i++)
        CHECK(a.data[i] == vals[i]);
    npy_free(&a);

    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", vals,
                 sizeof(vals));
    CHECK(npy_parse(buf, n, &a, msg, sizeof(msg)) == 0);
    CHECK(a.rank == 1 && a.dims[0] == 6);
    npy_free(&a);

    static const char *bad[] = {
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }",
        "{'descr': '<f4', 'fortran_order': False, }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1), }",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = make_npy(buf, bad[i], vals, sizeof(vals));
        a.data = NULL;
        CHECK_MSG(npy_parse(buf, n, &a, msg, sizeof(msg)) != 0, "accepted %s", bad[i]);
        CHECK(a.data == NULL);
    }
    // valid header, data one float short; bad magic; header longer than the file
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", vals,
                 sizeof(vals));
    CHECK(npy_parse(buf, n - 4, &a, msg, sizeof(msg)) != 0);
    buf[1] = 'X';
    CHECK(npy_parse(buf, n, &a, msg, sizeof(msg)) != 0);
    buf[1] = 'N';
    CHECK(npy_parse(buf, 60, &a, msg, sizeof(msg)) != 0);
}

CHECK_MAIN(CHECK_TEST(test_npy_reader), CHECK_TEST(test_tiny_cnn_op13),
           CHECK_TEST(test_tiny_cnn_op13_buffer),
           CHECK_TEST(test_resnet18_op12), CHECK_TEST(test_resnet18_op17),
           CHECK_TEST(test_yolov8n_op12), CHECK_TEST(test_yolov8n_op17),
           CHECK_TEST(test_yolov5s_op12), CHECK_TEST(test_yolov5s_op17),
           CHECK_TEST(test_yolov5n_op17), CHECK_TEST(test_mobilenet_v2),
           CHECK_TEST(test_mobilenet_v3_large), CHECK_TEST(test_shufflenet_v2),
           CHECK_TEST(test_efficientnet_b0))
