/*
 * evo.h - the one public header of evo, the edge vision optimizer.
 *
 * Usage (this example is compiled by tests/unit/test_header_example.c):
 *
 *     evo_error err;
 *     evo_model *model = NULL;
 *     evo_session *sess = NULL;
 *     evo_compile_options opts = evo_compile_options_default();
 *     if (evo_model_load("yolov5s.onnx", &opts, &model, &err) != EVO_OK) {
 *         fprintf(stderr, "%s\n", err.msg);
 *         return 1;
 *     }
 *     evo_session_options sopts = evo_session_options_default();
 *     sopts.n_threads = 2;
 *     if (evo_session_create(model, &sopts, &sess, &err) != EVO_OK) {
 *         evo_model_free(model);
 *         return 1;
 *     }
 *     float *in = evo_session_input_data(sess, 0);    // write the frame here
 *     in[0] = 0.5f;
 *     if (evo_session_run(sess, &err) == EVO_OK) {
 *         const float *out = evo_session_output_data(sess, 0);
 *         printf("%g\n", out[0]);
 *     }
 *     evo_session_free(sess);
 *     evo_model_free(model);
 */
#ifndef EVO_H
#define EVO_H

#define EVO_VERSION_MAJOR 0
#define EVO_VERSION_MINOR 1
#define EVO_VERSION_PATCH 0
#define EVO_VERSION_STRING "0.1.0"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define EVO_API __declspec(dllexport)
#elif defined(__GNUC__)
#define EVO_API __attribute__((visibility("default")))
#else
#define EVO_API
#endif

/* Status codes: one list generates the enum and evo_status_name(). */
#define EVO_STATUS_MAP(X)                                   \
    X(OK, "ok")                                             \
    X(ERR_IO, "i/o error")                                  \
    X(ERR_PARSE, "parse error")                             \
    X(ERR_UNSUPPORTED, "unsupported")                       \
    X(ERR_SHAPE, "shape error")                             \
    X(ERR_NOMEM, "out of memory")                           \
    X(ERR_LIMIT, "limit exceeded")                          \
    X(ERR_INVALID_ARG, "invalid argument")                  \
    X(ERR_INTERNAL, "internal error")

typedef enum evo_status {
#define EVO_STATUS_ENUM_(name, text) EVO_##name,
    EVO_STATUS_MAP(EVO_STATUS_ENUM_)
#undef EVO_STATUS_ENUM_
    EVO_STATUS_COUNT
} evo_status;

/* Caller-owned error detail; every fallible call takes one last (may be NULL). */
typedef struct evo_error {
    evo_status code;
    char msg[512];
} evo_error;

/* Returns a static string such as "parse error"; never NULL. */
EVO_API const char *evo_status_name(evo_status s);

/* Tensor element types, numbered as ONNX TensorProto.DataType. */
typedef enum evo_dtype {
    EVO_DTYPE_UNDEFINED = 0,
    EVO_DTYPE_FLOAT = 1,
    EVO_DTYPE_UINT8 = 2,
    EVO_DTYPE_INT8 = 3,
    EVO_DTYPE_UINT16 = 4,
    EVO_DTYPE_INT16 = 5,
    EVO_DTYPE_INT32 = 6,
    EVO_DTYPE_INT64 = 7,
    EVO_DTYPE_STRING = 8,
    EVO_DTYPE_BOOL = 9,
    EVO_DTYPE_FLOAT16 = 10,
    EVO_DTYPE_DOUBLE = 11,
    EVO_DTYPE_UINT32 = 12,
    EVO_DTYPE_UINT64 = 13,
    EVO_DTYPE_BFLOAT16 = 16,
} evo_dtype;

/* Returns "float32", "int64", ...; "undefined" for unknown codes. */
EVO_API const char *evo_dtype_name(evo_dtype t);
/* Returns the element size in bytes, 0 for unsupported types. */
EVO_API size_t evo_dtype_size(evo_dtype t);

#define EVO_MAX_RANK 8

/* Describes a model input or output. name is owned by the model. */
typedef struct evo_tensor_desc {
    const char *name;
    evo_dtype dtype;
    int rank;
    int64_t dims[EVO_MAX_RANK];
    size_t size_bytes;
} evo_tensor_desc;

typedef void (*evo_log_fn)(void *user, int level, const char *msg);

/* One fixed input shape, e.g. {"images", 4, {1, 3, 640, 640}}. */
typedef struct evo_input_shape {
    const char *name;
    int rank;
    int64_t dims[EVO_MAX_RANK];
} evo_input_shape;

/*
 * An input bound to a fixed value at compile time (it becomes a constant and
 * is no longer fed at run time), e.g. a Reshape target shape or Resize scales
 * that a model takes as inputs. data is borrowed during load.
 */
typedef struct evo_const_input {
    const char *name;
    evo_dtype dtype;
    int rank;
    int64_t dims[EVO_MAX_RANK];
    const void *data;
} evo_const_input;

typedef struct evo_compile_options {
    const evo_input_shape *input_shapes; /* fixes unknown dims; borrowed during load */
    int n_input_shapes;
    int64_t default_batch;               /* value for a symbolic leading dim; 1 */
    const char *disable_passes;          /* comma-separated optimisation passes to skip, e.g. "fuse_act" */
    const evo_const_input *const_inputs; /* inputs frozen to constants; borrowed during load */
    int n_const_inputs;
    /*
     * Simulate an NPU target ("ethos-u55-256", docs/npu.md): the nodes it
     * takes compute with its integer semantics (TFLite's), the others as on
     * the CPU. The model must be int8. NULL: none (a .evo compiled with
     * --target already carries its target's semantics).
     */
    const char *npu_target;
    evo_log_fn log;                      /* NULL: silent */
    void *log_user;
    /*
     * Activation levels, e.g. "silu=relu,hardswish=leaky:0.1": activations
     * replaced before quantization and fusion. This changes the network (it
     * needs retraining); NULL or "": none. docs/npu.md.
     */
    const char *act_levels;
} evo_compile_options;

EVO_API evo_compile_options evo_compile_options_default(void);

typedef struct evo_model evo_model;

/*
 * Loads and compiles an ONNX model. On success *out owns the mapped file and
 * all weights; free it with evo_model_free. On failure *out is untouched and
 * err says what failed and where.
 */
EVO_API evo_status evo_model_load(const char *path, const evo_compile_options *opts,
                                  evo_model **out, evo_error *err);
/* Same as evo_model_load, from a caller buffer that must outlive the model. */
EVO_API evo_status evo_model_load_buffer(const void *data, size_t size_bytes, const char *name,
                                         const evo_compile_options *opts, evo_model **out,
                                         evo_error *err);
EVO_API void evo_model_free(evo_model *model);

EVO_API int evo_model_n_inputs(const evo_model *model);
EVO_API int evo_model_n_outputs(const evo_model *model);
/* Writes the description of input/output i; returns EVO_ERR_INVALID_ARG if out of range. */
EVO_API evo_status evo_model_input_desc(const evo_model *model, int i, evo_tensor_desc *out);
EVO_API evo_status evo_model_output_desc(const evo_model *model, int i, evo_tensor_desc *out);

typedef struct evo_session_options {
    int n_threads;   /* 0 or 1: run on the calling thread only */
    /* cap kernel choice: "ref", x86 "avx2"/"avx512"/"vnni", Arm "neon"/"dotprod"/"i8mm";
       NULL: $EVO_ISA or best */
    const char *isa;
    int profile;     /* non-zero: time every step (see evo_session_profile) */
    /*
     * 0: with n_threads > 1, a run goes on the calling thread alone while
     * the session measures its runs faster that way (CPUs whose shared
     * data has become slow to pass; now and then a run tries the other
     * way). Non-zero: every run uses the threads. Profiling sessions
     * always use them.
     */
    int fixed_threads;
} evo_session_options;

EVO_API evo_session_options evo_session_options_default(void);

typedef struct evo_session evo_session;

/* Creates a session (arena, scratch, threads) for a model that must outlive it. */
EVO_API evo_status evo_session_create(const evo_model *model, const evo_session_options *opts,
                                      evo_session **out, evo_error *err);
EVO_API void evo_session_free(evo_session *sess);

/*
 * Input buffer i inside the session arena: write the input here before
 * every run (a run may reuse the inputs' memory once it has read them).
 * NULL if out of range.
 */
EVO_API void *evo_session_input_data(evo_session *sess, int i);
/* Output i, valid until the next evo_session_run or evo_session_free. NULL if out of range. */
EVO_API const void *evo_session_output_data(const evo_session *sess, int i);
EVO_API evo_status evo_session_run(evo_session *sess, evo_error *err);

/* One step of the last run when profiling: strings are owned by the model. */
typedef struct evo_step_profile {
    const char *node;   /* node name */
    const char *op;     /* op type */
    const char *kernel; /* kernel variant, e.g. "ref" */
    double time_ms;
    double flops;       /* floating-point operations (2 per MAC), 0 if not counted */
    const char *output; /* name of the step's first output (after fusion: the fused op's) */
    double bytes;       /* bytes the step reads and writes (inputs, weights, outputs), nominal */
    int n_tasks;        /* threads the step runs on (small steps run on the calling thread alone) */
    int is_reference;   /* 1: the portable reference kernel runs it (no fast variant took it) */
    /*
     * The time its tasks ran, summed over the threads that ran them. On one
     * thread it is time_ms less the call overhead; a step whose cpu_ms on
     * n threads grows past its time_ms on one does more work per thread
     * when split (caches shared or data moving between cores), not waits.
     */
    double cpu_ms;
} evo_step_profile;

EVO_API int evo_session_n_steps(const evo_session *sess);
/* Fills out for step i of the last run; EVO_ERR_INVALID_ARG if out of range. */
EVO_API evo_status evo_session_profile(const evo_session *sess, int i, evo_step_profile *out);
/* Arena bytes this session holds for activations and scratch. */
EVO_API size_t evo_session_arena_bytes(const evo_session *sess);

/* ---- detection pipeline: a camera frame in, boxes out ---- */

typedef enum evo_pixel_format {
    EVO_PIXEL_RGB24 = 0, /* R,G,B bytes */
    EVO_PIXEL_BGR24,     /* B,G,R bytes (OpenCV's default) */
    EVO_PIXEL_RGBA32,    /* R,G,B,A bytes; alpha ignored */
    EVO_PIXEL_BGRA32,    /* B,G,R,A bytes; alpha ignored */
    EVO_PIXEL_GRAY8,     /* one byte, replicated to R=G=B */
    EVO_PIXEL_YUYV,      /* YUY2: Y0 U Y1 V per pixel pair, BT.601 limited range */
    EVO_PIXEL_NV12,      /* Y plane, then interleaved U,V plane at half resolution */
    EVO_PIXEL_I420,      /* YUV420P: Y plane, then U plane, then V plane, both at half resolution */
    EVO_PIXEL_FORMAT_COUNT
} evo_pixel_format;

/* Returns "rgb24", "nv12", ...; "unknown" for bad values. */
EVO_API const char *evo_pixel_format_name(evo_pixel_format f);

/*
 * A frame in caller memory. stride_bytes is the distance between rows (for
 * NV12 and I420, between Y rows). NV12's UV plane is uv_data with
 * uv_stride_bytes; uv_data NULL means right after the Y plane (data +
 * height * stride_bytes) and uv_stride_bytes 0 means stride_bytes.
 * I420's U plane is uv_data and its V plane v_data, both with
 * uv_stride_bytes; NULL means packed after the previous plane and a zero
 * stride means stride_bytes / 2 (rounded up), as FFmpeg's YUV420P lays
 * out a contiguous buffer.
 */
typedef struct evo_frame {
    evo_pixel_format format;
    int width, height;
    const uint8_t *data;
    size_t stride_bytes;
    const uint8_t *uv_data;
    size_t uv_stride_bytes;
    const uint8_t *v_data;
} evo_frame;

typedef enum evo_fit_mode {
    EVO_FIT_LETTERBOX = 0,  /* keep aspect, centre, pad (Ultralytics LetterBox) */
    EVO_FIT_LETTERBOX_TOPLEFT, /* keep aspect, image at top-left, pad (YOLOX) */
    EVO_FIT_STRETCH,        /* resize to the tensor size, aspect not kept */
    EVO_FIT_CENTER,         /* keep aspect, size truncated, centred, pad (NanoDet/PicoDet) */
} evo_fit_mode;

typedef enum evo_interp {
    EVO_INTERP_LINEAR = 0, /* OpenCV INTER_LINEAR (half-pixel centres) */
    EVO_INTERP_AUTO,       /* INTER_AREA when shrinking by 2x or more, else linear */
    EVO_INTERP_AREA,       /* OpenCV INTER_AREA when shrinking; linear when enlarging */
} evo_interp;

typedef struct evo_preprocess_options {
    evo_fit_mode mode;
    evo_interp interp;
    bool bgr;          /* tensor channel order B,G,R instead of R,G,B */
    bool scale_up;     /* letterbox may enlarge small images (Ultralytics scaleup) */
    bool round_u8;     /* round resized pixels to 8 bits like an OpenCV uint8 resize */
    uint8_t pad_value; /* pad pixel value, before scale/mean/std */
    float scale;       /* pixel multiplier: 1/255 or 1 */
    float mean[3];     /* tensor channel order; value = (pixel * scale - mean) / std */
    float std[3];
} evo_preprocess_options;

/* Ultralytics defaults: centred letterbox, linear, RGB, scale 1/255, pad 114. */
EVO_API evo_preprocess_options evo_preprocess_options_default(void);

typedef struct evo_detection {
    float x0, y0, x1, y1; /* box corners in pixels */
    float score;
    int class_id;
} evo_detection;

typedef enum evo_yolo_kind {
    EVO_YOLO_AUTO = 0, /* from output shapes */
    EVO_YOLO_V5,       /* [N, 5+C]: cx,cy,w,h, objectness, class scores (v5/v7) */
    EVO_YOLO_V8,       /* [4+C, N]: cx,cy,w,h, class scores (v8/v11) */
    EVO_YOLO_X,        /* [N, 5+C] per grid cell, raw box: grid + stride, exp w/h */
    EVO_YOLO_GFL,      /* NanoDet/PicoDet: class scores + 4 x (reg_max+1) distances */
    EVO_YOLO_KIND_COUNT
} evo_yolo_kind;

#define EVO_YOLO_MAX_STRIDES 6

typedef struct evo_decode_options {
    evo_yolo_kind kind;
    float conf_threshold;   /* keep scores > this */
    float iou_threshold;    /* suppress IoU > this */
    int max_candidates;     /* best candidates entering NMS */
    int max_detections;     /* kept after NMS */
    bool class_agnostic;    /* NMS across classes */
    int n_classes;          /* 0: from shapes (GFL needs reg_max to split) */
    int n_strides;          /* 0: 8,16,32 (GFL single tensor: 8,16,32,64) */
    int strides[EVO_YOLO_MAX_STRIDES];
    int reg_max;            /* GFL: bins - 1; 7 */
    float cell_offset;      /* GFL/YOLOX: cell centre = (g + offset) * stride */
    bool gfl_sigmoid;       /* GFL: class scores are logits, apply sigmoid */
} evo_decode_options;

/* Ultralytics defaults: auto kind, conf 0.25, IoU 0.45, 30000 candidates, 300 kept. */
EVO_API evo_decode_options evo_decode_options_default(void);

typedef struct evo_detect_options {
    evo_preprocess_options preprocess;
    evo_decode_options decode;
} evo_detect_options;

/* Ultralytics defaults for both stages. */
EVO_API evo_detect_options evo_detect_options_default(void);
/*
 * A model family's whole pipeline: "yolov5", "yolov8", "yolox", "nanodet",
 * "picodet", or a preset file (any name with '/' or '.'; `key = value`
 * lines, README "Detector presets"). *out is written only on success;
 * errors name the file and line.
 */
EVO_API evo_status evo_detect_options_preset(const char *name_or_path, evo_detect_options *out,
                                             evo_error *err);

/* Milliseconds per stage of the last evo_detector_run. */
typedef struct evo_detect_timing {
    double preprocess_ms;  /* frame -> input tensor (fused resize, colour, normalise) */
    double inference_ms;
    double postprocess_ms; /* decode, threshold, NMS, map back to frame pixels */
} evo_detect_timing;

typedef struct evo_detector evo_detector;

/*
 * Creates a detector: its own session on model (which must outlive it) with
 * a float [1,3,H,W] input. The output layout is matched to a decoder on the
 * first run. On failure *out is untouched.
 */
EVO_API evo_status evo_detector_create(const evo_model *model, const evo_session_options *sopts,
                                       const evo_detect_options *dopts, evo_detector **out,
                                       evo_error *err);
EVO_API void evo_detector_free(evo_detector *det);
/*
 * Runs the pipeline on one frame. The frame is read once, by the fused
 * preprocess that writes straight into the input tensor; it is never copied
 * or kept. *dets (best first, boxes in frame pixels) is owned by the detector
 * and valid until the next run or free.
 */
EVO_API evo_status evo_detector_run(evo_detector *det, const evo_frame *frame,
                                    const evo_detection **dets, int *n_dets, evo_error *err);
EVO_API evo_detect_timing evo_detector_timing(const evo_detector *det);
/* The detector's session, e.g. for the raw outputs of the last run. */
EVO_API evo_session *evo_detector_session(evo_detector *det);

#ifdef __cplusplus
}
#endif

#endif /* EVO_H */
