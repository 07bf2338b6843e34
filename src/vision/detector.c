/*
 * detector.c - evo_detector: the whole frame-to-boxes pipeline behind the
 * public API. A detector owns a session; each run writes the letterboxed
 * frame straight into the session's input tensor on the session's threads
 * (the frame is read once, never copied), runs the model, and decodes boxes
 * straight from the output tensors into a detector-owned buffer sized once
 * for every anchor, so a run allocates nothing.
 */
#include "exec/session.h"
#include "vision/vision.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OUTPUTS 16

struct evo_detector {
    const evo_model *model;
    evo_session *sess;
    evo_detect_options opts;
    int in_w, in_h;
    evo_vision_tensor outs[MAX_OUTPUTS];
    int n_outs;
    evo_decode_layout lay;
    bool resolved;
    evo_detection *dets;
    int64_t cap;
    evo_detect_timing timing;
};

typedef struct preprocess_job {
    const evo_frame *frame;
    const evo_transform *t;
    const evo_preprocess_options *o;
    float *dst;
} preprocess_job;

evo_detect_options evo_detect_options_default(void)
{
    evo_detect_options o;
    o.preprocess = evo_preprocess_options_default();
    o.decode = evo_decode_options_default();
    return o;
}

evo_status evo_detector_create(const evo_model *model, const evo_session_options *sopts,
                               const evo_detect_options *dopts, evo_detector **out, evo_error *err)
{
    if (!model || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_detector_create: model and out are required");
    evo_tensor_desc in;
    if (evo_model_n_inputs(model) != 1 || evo_model_input_desc(model, 0, &in) != EVO_OK)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "detector: the model has %d inputs, expected one image",
                          evo_model_n_inputs(model));
    if (in.dtype != EVO_DTYPE_FLOAT || in.rank != 4 || in.dims[0] != 1 || in.dims[1] != 3)
        return evo_errorf(err, EVO_ERR_INVALID_ARG,
                          "detector: input \"%s\" must be float32 [1,3,H,W] (got %s of rank %d)", in.name,
                          evo_dtype_name(in.dtype), in.rank);
    int n_outs = evo_model_n_outputs(model);
    if (n_outs < 1 || n_outs > MAX_OUTPUTS)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "detector: the model has %d outputs (1..%d supported)",
                          n_outs, MAX_OUTPUTS);
    evo_detector *d = calloc(1, sizeof(*d));
    if (!d)
        return evo_errorf(err, EVO_ERR_NOMEM, "detector: out of memory");
    d->model = model;
    d->opts = dopts ? *dopts : evo_detect_options_default();
    d->in_h = (int)in.dims[2];
    d->in_w = (int)in.dims[3];
    d->n_outs = n_outs;
    evo_status s = evo_session_create(model, sopts, &d->sess, err);
    if (s) {
        free(d);
        return s;
    }
    for (int i = 0; i < n_outs; i++) {
        evo_tensor_desc od;
        evo_model_output_desc(model, i, &od);
        if (od.dtype != EVO_DTYPE_FLOAT) {
            evo_detector_free(d);
            return evo_errorf(err, EVO_ERR_INVALID_ARG, "detector: output \"%s\" is %s, expected float32",
                              od.name, evo_dtype_name(od.dtype));
        }
        d->outs[i].rank = od.rank;
        memcpy(d->outs[i].dims, od.dims, sizeof(od.dims));
    }
    *out = d;
    return EVO_OK;
}

void evo_detector_free(evo_detector *d)
{
    if (!d)
        return;
    evo_session_free(d->sess);
    free(d->dets);
    free(d);
}

static void preprocess_task(void *ctx, int task, int n_tasks)
{
    const preprocess_job *j = ctx;
    evo_preprocess_run(j->frame, j->t, j->o, j->dst, task, n_tasks);
}

/* Matches the outputs to a decoder and sizes the detection buffer, once. */
static evo_status resolve_layout(evo_detector *d, evo_error *err)
{
    evo_status s = evo_decode_resolve(d->outs, d->n_outs, d->in_w, d->in_h, &d->opts.decode, &d->lay, err);
    if (s)
        return s;
    d->dets = malloc(sizeof(evo_detection) * (size_t)d->lay.n_anchors);
    if (!d->dets)
        return evo_errorf(err, EVO_ERR_NOMEM, "detector: out of memory for %lld anchors",
                          (long long)d->lay.n_anchors);
    d->cap = d->lay.n_anchors;
    d->resolved = true;
    return EVO_OK;
}

evo_status evo_detector_run(evo_detector *d, const evo_frame *frame, const evo_detection **dets,
                            int *n_dets, evo_error *err)
{
    if (!d || !frame || !dets || !n_dets)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_detector_run: detector, frame and outputs are required");
    evo_status s = evo_frame_check(frame, err);
    if (s)
        return s;
    evo_transform t;
    s = evo_preprocess_plan(frame->width, frame->height, d->in_w, d->in_h, &d->opts.preprocess, &t, err);
    if (s)
        return s;
    int64_t t0 = evo_now_ns();
    preprocess_job job = {frame, &t, &d->opts.preprocess, evo_session_input_data(d->sess, 0)};
    evo_pool_run(evo_session_pool(d->sess), preprocess_task, &job);
    int64_t t1 = evo_now_ns();
    s = evo_session_run(d->sess, err);
    if (s)
        return s;
    int64_t t2 = evo_now_ns();
    for (int i = 0; i < d->n_outs; i++)
        d->outs[i].data = evo_session_output_data(d->sess, i);
    if (!d->resolved && (s = resolve_layout(d, err)) != EVO_OK)
        return s;
    int n = 0;
    s = evo_detect_postprocess(&d->lay, d->outs, &d->opts.decode, &t, d->dets, d->cap, &n, err);
    if (s)
        return s;
    int64_t t3 = evo_now_ns();
    d->timing.preprocess_ms = (double)(t1 - t0) / 1e6;
    d->timing.inference_ms = (double)(t2 - t1) / 1e6;
    d->timing.postprocess_ms = (double)(t3 - t2) / 1e6;
    *dets = d->dets;
    *n_dets = n;
    return EVO_OK;
}

evo_detect_timing evo_detector_timing(const evo_detector *d)
{
    evo_detect_timing none = {0, 0, 0};
    return d ? d->timing : none;
}

evo_session *evo_detector_session(evo_detector *d)
{
    return d ? d->sess : NULL;
}

/* The resolved decoder, for messages: NULL before the first run. */
const evo_decode_layout *evo_detector_layout(const evo_detector *d)
{
    return d && d->resolved ? &d->lay : NULL;
}
