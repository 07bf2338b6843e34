/*
 * test_onnx_roundtrip.c - the ONNX writer round trip on the test models.
 *
 * Each model is imported and compiled (every pass, so the graph holds
 * fused Conv epilogues, folded constants, the grouped head layout and
 * evo.UpdateSlices), written as ONNX, re-imported and compiled again.
 * Checks: the written model compiles to as many live nodes as the
 * original (the writer's expansions are what the passes fuse back), and
 * its outputs on PyTorch's saved input equal the original's within
 * 1e-6 * max|output|.
 */
#include <stdlib.h>

#include "check.h"
#include "evo.h"
#include "exec/model.h"
#include "models/npy.h"
#include "onnx/onnx_write.h"

#ifndef EVO_MODELS_DEFAULT_DIR
#define EVO_MODELS_DEFAULT_DIR "models/out"
#endif

#define ROUND_TRIP_REL_BOUND 1e-6

static int live_nodes(const evo_graph *g)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !g->nodes[i].is_dead;
    return n;
}

/* Runs model on input; returns a malloc'd copy of output 0 (*count floats) or NULL. */
static float *run(evo_model *model, const npy_array *in, size_t *count)
{
    evo_session *sess = NULL;
    evo_error err = {0};
    evo_tensor_desc d;
    float *out = NULL;
    if (evo_session_create(model, NULL, &sess, &err) != EVO_OK) {
        fprintf(stderr, "session: %s\n", err.msg);
        return NULL;
    }
    memcpy(evo_session_input_data(sess, 0), in->data, in->count * sizeof(float));
    if (evo_session_run(sess, &err) == EVO_OK && evo_model_output_desc(model, 0, &d) == EVO_OK &&
        d.dtype == EVO_DTYPE_FLOAT && (out = malloc(d.size_bytes)) != NULL) {
        memcpy(out, evo_session_output_data(sess, 0), d.size_bytes);
        *count = d.size_bytes / sizeof(float);
    } else {
        fprintf(stderr, "run: %s\n", err.msg);
    }
    evo_session_free(sess);
    return out;
}

static void round_trip(const char *dir, const char *file, const char *data)
{
    char path[1024], in_path[1024], msg[1400];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    snprintf(in_path, sizeof(in_path), "%s/%s.input.npy", dir, data);
    evo_error err = {0};
    evo_graph *g = NULL;
    evo_model *a = NULL, *b = NULL;
    uint8_t *buf = NULL;
    size_t size = 0, na = 0, nb = 0;
    float *ya = NULL, *yb = NULL;
    npy_array in = {0};
    CHECK_MSG(npy_load(in_path, &in, msg, sizeof(msg)) == 0, "%s: %s", in_path, msg);
    CHECK_MSG(evo_graph_load_compiled(path, NULL, 0, NULL, &g, &err) == EVO_OK, "%s", err.msg);
    if (!g || !in.data)
        goto done;
    CHECK_MSG(evo_onnx_write_buffer(g, NULL, &buf, &size, &err) == EVO_OK, "%s: write: %s", file, err.msg);
    CHECK_MSG(evo_model_load(path, NULL, &a, &err) == EVO_OK, "%s", err.msg);
    if (!buf || !a)
        goto done;
    CHECK_MSG(evo_model_load_buffer(buf, size, file, NULL, &b, &err) == EVO_OK, "%s: re-import: %s", file,
              err.msg);
    if (!b)
        goto done;
    int live_a = live_nodes(g), live_b = live_nodes(b->g);
    printf("%-20s written %.2f MB, %d live nodes, re-imported %d\n", file, (double)size / 1e6, live_a,
           live_b);
    CHECK_MSG(live_a == live_b, "%s: %d live nodes compiled, %d after the round trip", file, live_a, live_b);
    ya = run(a, &in, &na);
    yb = run(b, &in, &nb);
    CHECK(ya && yb && na == nb);
    if (!ya || !yb || na != nb)
        goto done;
    double max_err = 0, max_ref = 0;
    size_t n_diff = 0;
    for (size_t i = 0; i < na; i++) {
        double e = fabs((double)ya[i] - yb[i]);
        max_err = e > max_err ? e : max_err;
        max_ref = fabs(ya[i]) > max_ref ? fabs(ya[i]) : max_ref;
        n_diff += ya[i] != yb[i];
    }
    printf("%-20s outputs: %zu of %zu differ, max|diff| %.3g, max|y| %.3g\n", file, n_diff, na, max_err,
           max_ref);
    CHECK_MSG(max_err <= ROUND_TRIP_REL_BOUND * max_ref, "%s: max|diff| %.6g > %g * %.6g", file, max_err,
              ROUND_TRIP_REL_BOUND, max_ref);
done:
    free(ya);
    free(yb);
    evo_model_free(b);
    evo_model_free(a);
    free(buf);
    evo_graph_free(g);
    npy_free(&in);
}

int main(void)
{
    const char *dir = getenv("EVO_MODELS_DIR");
    if (!dir || !*dir)
        dir = EVO_MODELS_DEFAULT_DIR;
    static const char *const cases[][2] = {
        {"tiny_cnn_op13.onnx", "tiny_cnn"},
        {"resnet18_op12.onnx", "resnet18"},
        {"resnet18_op17.onnx", "resnet18"},
        {"yolov5s_op12.onnx", "yolov5s"},
        {"yolov5s_op17.onnx", "yolov5s"},
        {"yolov8n_op12.onnx", "yolov8n"},
        {"yolov8n_op17.onnx", "yolov8n"},
        {"yolov5n_op17.onnx", "yolov5n"},
        {"mobilenet_v2_op17.onnx", "mobilenet_v2"},
        {"mobilenet_v3_large_op17.onnx", "mobilenet_v3_large"},
        {"shufflenet_v2_x1_0_op17.onnx", "shufflenet_v2_x1_0"},
        {"efficientnet_b0_op17.onnx", "efficientnet_b0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        round_trip(dir, cases[i][0], cases[i][1]);
    printf("test_onnx_roundtrip: %d checks, %d failed\n", check_count, check_failures);
    return check_failures != 0;
}
