/*
 * test_fast_paths.c - no step of the models edge users deploy is left on a
 * reference kernel where it matters.
 *
 * For each model (the lightweight test models, the tuned YOLO/ResNet ones
 * and, when ../shared/data is present, the pretrained detectors) the plan
 * is built at the best ISA of this machine, and every step that a portable
 * reference kernel runs is weighed by its estimated cost (nominal FLOPs and
 * bytes at fast-kernel rates, the estimate the thread planner uses; no
 * timing). A reference kernel runs ten or more times slower than that
 * estimate, so a step over 0.2 % of the model's estimate could cost more
 * than 2 % of a run: such a step fails the test. On a machine without
 * AVX2 every step is on a reference kernel and the check is skipped (exit
 * 77), as are the pretrained detectors (test_pretrained_detectors, its own
 * ctest entry) without ../shared/data.
 */
#include <stdlib.h>

#include "check.h"
#include "core/cpu.h"
#include "evo.h"
#include "exec/model.h"
#include "exec/session.h"
#include "exec/tasks.h"

#ifndef EVO_MODELS_DEFAULT_DIR
#define EVO_MODELS_DEFAULT_DIR "models/out"
#endif
#ifndef EVO_SHARED_DATA_DIR
#define EVO_SHARED_DATA_DIR "../shared/data"
#endif

#define REF_SHARE_MAX 0.002

/* Checks one model; returns 0 when the file is absent (optional models only). */
static int check_model(const char *path, int required)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        CHECK_MSG(!required, "%s: missing", path);
        if (!required)
            CHECK_SKIP("%s: not present (../shared/data absent)", path);
        return 0;
    }
    fclose(f);
    evo_error err = {0};
    evo_model *model = NULL;
    evo_session *sess = NULL;
    evo_compile_options co = evo_compile_options_default();
    evo_status st = evo_model_load(path, &co, &model, &err);
    CHECK_MSG(st == EVO_OK, "%s: %s", path, err.msg);
    if (st == EVO_OK) {
        evo_session_options so = evo_session_options_default();
        so.isa = "amx"; /* no cap but the CPU's (as $EVO_ISA caps it) */
        st = evo_session_create(model, &so, &sess, &err);
        CHECK_MSG(st == EVO_OK, "%s: %s", path, err.msg);
    }
    if (st != EVO_OK)
        goto done;
    const evo_graph *g = model->g;
    double total = 0, ref_total = 0, worst = 0;
    int n = evo_session_n_steps(sess), n_ref = 0;
    for (int i = 0; i < n; i++)
        total += evo_step_estimate_ns(g, &g->nodes[evo_session_step_node(sess, i)]);
    for (int i = 0; i < n; i++) {
        evo_step_profile p;
        evo_session_profile(sess, i, &p);
        if (!p.is_reference)
            continue;
        double share = evo_step_estimate_ns(g, &g->nodes[evo_session_step_node(sess, i)]) / total;
        n_ref++;
        ref_total += share;
        worst = share > worst ? share : worst;
        CHECK_MSG(share <= REF_SHARE_MAX, "%s: step %s (%s) runs on the reference kernel at %.2f %% of the model",
                  path, p.node, p.op, 100.0 * share);
    }
    printf("%-40s %3d steps, %d on reference kernels (%.3f %% of the estimate, largest %.3f %%)\n", path, n, n_ref,
           100.0 * ref_total, 100.0 * worst);
done:
    evo_session_free(sess);
    evo_model_free(model);
    return 1;
}

static bool has_fast_kernels(void)
{
    if (evo_cpu_has_isa(EVO_ISA_AVX2))
        return true;
    CHECK_SKIP("no AVX2: every kernel here is a reference kernel");
    return false;
}

static void test_local_models(void)
{
    static const char *const local[] = {"yolov5n_op17", "mobilenet_v2_op17", "mobilenet_v3_large_op17",
                                        "shufflenet_v2_x1_0_op17", "efficientnet_b0_op17", "yolov5s_op17",
                                        "yolov8n_op17", "resnet18_op17"};
    if (!has_fast_kernels())
        return;
    const char *dir = getenv("EVO_MODELS_DIR");
    dir = dir && *dir ? dir : EVO_MODELS_DEFAULT_DIR;
    char path[1024];
    for (size_t i = 0; i < EVO_ARRAY_LEN(local); i++) {
        snprintf(path, sizeof(path), "%s/%s.onnx", dir, local[i]);
        check_model(path, 1);
    }
}

static void test_pretrained_detectors(void)
{
    static const char *const shared[] = {"yolox_nano", "nanodet_m_416", "picodet_s_416_coco"};
    if (!has_fast_kernels())
        return;
    char path[1024];
    for (size_t i = 0; i < EVO_ARRAY_LEN(shared); i++) {
        snprintf(path, sizeof(path), "%s/models/%s.onnx", EVO_SHARED_DATA_DIR, shared[i]);
        check_model(path, 0);
    }
}

CHECK_MAIN(CHECK_TEST(test_local_models), CHECK_TEST(test_pretrained_detectors))
