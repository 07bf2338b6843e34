/*
 * vision.h - the image side of the detection pipeline: image decode/encode,
 * raw camera frames, the fused letterbox preprocess, YOLO-family output
 * decoders, NMS, drawing and JSON output.
 *
 * Nothing here depends on the runtime: the preprocess writes into any float
 * NCHW buffer (normally evo_session_input_data) and the decoders read plain
 * float tensors (normally evo_session_output_data). Fallible calls return an
 * evo_status with the detail in a caller-owned evo_error (may be NULL).
 */
#ifndef EVO_VISION_H
#define EVO_VISION_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- raw frames (borrowed pixels) ---- */




/* Builds a frame with the tightest stride for format (uv plane right after Y). */
evo_frame evo_frame_make(evo_pixel_format format, int width, int height, const void *data);
/* Checks format, sizes, strides and even dimensions where chroma is subsampled. */
evo_status evo_frame_check(const evo_frame *f, evo_error *err);
/* Bytes of one tightly packed frame, 0 on bad arguments or overflow. */
size_t evo_frame_size_bytes(evo_pixel_format format, int width, int height);
/* The RGB value of pixel (x, y) of a checked frame; YUV as OpenCV's COLOR_YUV2RGB_*. */
void evo_frame_pixel_rgb(const evo_frame *f, int x, int y, uint8_t rgb[3]);
/* BT.601 limited-range YUV -> RGB, the fixed-point formula of OpenCV's YUV2RGB. */
void evo_yuv_to_rgb(int y, int u, int v, uint8_t rgb[3]);

/* ---- decoded images (owned pixels) ---- */

/* RGB24, rows packed (stride 3 * width). data is owned; free with evo_image_free. */
typedef struct evo_image {
    int width, height;
    uint8_t *data;
} evo_image;

typedef enum evo_image_codec {
    EVO_IMAGE_JPEG = 0,
    EVO_IMAGE_PNG,
} evo_image_codec;

/* Default largest decoded image, in pixels (side limit 32768). */
#define EVO_IMAGE_MAX_PIXELS ((int64_t)1 << 27)
#define EVO_IMAGE_MAX_SIDE 32768

/*
 * Decodes a JPEG or PNG (sniffed from the first bytes) into RGB24. The
 * header's dimensions are checked against max_pixels (0: the default)
 * before anything is allocated. Truncated or corrupt data is an error. On
 * success *out owns the pixels; on failure *out is untouched.
 */
evo_status evo_image_decode(const void *buf, size_t size_bytes, int64_t max_pixels,
                            evo_image *out, evo_error *err);
/* Reads a file and decodes it as evo_image_decode does; errors name the path. */
evo_status evo_image_load(const char *path, evo_image *out, evo_error *err);
/* Allocates a width x height image filled with zeros. */
evo_status evo_image_alloc(int width, int height, evo_image *out, evo_error *err);
/* Converts a checked frame to a new RGB24 image. */
evo_status evo_image_from_frame(const evo_frame *f, evo_image *out, evo_error *err);
void evo_image_free(evo_image *img);
/* A borrowed RGB24 frame view of img. */
evo_frame evo_image_frame(const evo_image *img);

/*
 * Encodes img as JPEG (quality 1..100, 0: 90) or PNG into *out_data, a
 * malloc'd buffer the caller releases with free(). On failure nothing is owed.
 */
evo_status evo_image_encode(const evo_image *img, evo_image_codec codec, int quality,
                            uint8_t **out_data, size_t *out_size, evo_error *err);
/* Encodes by file extension (.jpg/.jpeg or .png) and writes the file. */
evo_status evo_image_save(const evo_image *img, const char *path, int quality, evo_error *err);

/* ---- fused preprocess: frame -> float NCHW input tensor ---- */





/*
 * Where the source image lands in the tensor, and how to map back:
 * src_x = (tensor_x - pad_x) / scale_x. content_* is the resized image's
 * rectangle inside the tensor; everything else is padding.
 */
typedef struct evo_transform {
    int src_w, src_h;
    int dst_w, dst_h;
    int content_x, content_y, content_w, content_h;
    double scale_x, scale_y;
    double pad_x, pad_y;
} evo_transform;

/* Computes the transform for a frame of src_w x src_h into dst_w x dst_h. */
evo_status evo_preprocess_plan(int src_w, int src_h, int dst_w, int dst_h,
                               const evo_preprocess_options *o, evo_transform *t, evo_error *err);
/*
 * Writes the whole [3, dst_h, dst_w] planar float tensor in one pass: resize,
 * colour conversion, pad, scale, mean/std. f must pass evo_frame_check and
 * match t. Rows are split by task/n_tasks like a kernel; never fails.
 */
void evo_preprocess_run(const evo_frame *f, const evo_transform *t,
                        const evo_preprocess_options *o, float *dst, int task, int n_tasks);
/*
 * The same, with the area resize done per output pixel (every tap fetched
 * and converted where it is used): the reference the row-cached area path
 * of evo_preprocess_run is tested against, bit for bit.
 */
void evo_preprocess_run_ref(const evo_frame *f, const evo_transform *t,
                            const evo_preprocess_options *o, float *dst, int task, int n_tasks);
/* plan + run on the calling thread. */
evo_status evo_preprocess(const evo_frame *f, int dst_w, int dst_h,
                          const evo_preprocess_options *o, float *dst, evo_transform *t,
                          evo_error *err);

/* ---- detections ---- */


/* Maps boxes from tensor to source pixels and clips them to the source image. */
void evo_transform_boxes(const evo_transform *t, evo_detection *dets, int n);

/* ---- YOLO-family output decoders ---- */


/* Returns "yolov5", "yolov8", "yolox", "gfl", "auto". */
const char *evo_yolo_kind_name(evo_yolo_kind k);
/* Parses a name as printed by evo_yolo_kind_name (also "v5", "v7", "v8", "v11", "nanodet", "picodet"). */
bool evo_yolo_kind_parse(const char *s, evo_yolo_kind *out);

/* A float output tensor (borrowed). */
typedef struct evo_vision_tensor {
    const float *data;
    int rank;
    int64_t dims[EVO_MAX_RANK];
} evo_vision_tensor;




/* A resolved output layout: which decoder, how many anchors and classes. */
typedef struct evo_decode_layout {
    evo_yolo_kind kind;
    int n_classes;
    int64_t n_anchors;
    int in_w, in_h;
    int n_strides;
    int strides[EVO_YOLO_MAX_STRIDES];
    int reg_max;
    float cell_offset;
    bool gfl_sigmoid;
    bool transposed;        /* V8 exported as [N, 4+C] instead of [4+C, N] */
    bool gfl_split;         /* GFL: per-stride (scores, boxes) pairs instead of one tensor */
    int box_output;         /* index of the output used (single-tensor layouts) */
    int gfl_cls_output[EVO_YOLO_MAX_STRIDES]; /* GFL split: scores output per stride */
    int gfl_reg_output[EVO_YOLO_MAX_STRIDES]; /* GFL split: distributions output per stride */
} evo_decode_layout;

/*
 * Matches the outputs against each decoder by shape for a model input of
 * in_w x in_h. With kind AUTO exactly one decoder must fit; otherwise the
 * chosen one must. Errors say which shapes were expected.
 */
evo_status evo_decode_resolve(const evo_vision_tensor *outs, int n_outs, int in_w, int in_h,
                              const evo_decode_options *o, evo_decode_layout *lay,
                              evo_error *err);
/*
 * Writes candidates with score > conf_threshold (tensor coordinates, best
 * class per anchor) into dets, at most cap of them (n_anchors always fits);
 * returns the count.
 */
int64_t evo_decode_candidates(const evo_decode_layout *lay, const evo_vision_tensor *outs,
                              float conf_threshold, evo_detection *dets, int64_t cap);

/* Intersection over union of two boxes (0 when both are empty). */
float evo_box_iou(const evo_detection *a, const evo_detection *b);
/*
 * Greedy NMS in place: sorts dets by score (descending), keeps at most
 * max_candidates, suppresses boxes with IoU > iou_threshold against a kept
 * box of the same class (any class when class_agnostic), and moves the kept
 * ones to the front, at most max_detections. Returns how many were kept.
 */
int64_t evo_nms(evo_detection *dets, int64_t n, float iou_threshold, bool class_agnostic,
                int64_t max_candidates, int64_t max_detections);

/*
 * The whole postprocess: decode, threshold, NMS, map back through t (may be
 * NULL: tensor coordinates). dets has room for cap >= lay->n_anchors
 * detections (scratch for the candidates); the *n_out kept come first, best
 * first.
 */
evo_status evo_detect_postprocess(const evo_decode_layout *lay, const evo_vision_tensor *outs,
                                  const evo_decode_options *o, const evo_transform *t,
                                  evo_detection *dets, int64_t cap, int *n_out, evo_error *err);

/* ---- class names, JSON, drawing ---- */

#define EVO_COCO_CLASSES 80
/* The 80 COCO class names in YOLO order. */
extern const char *const evo_coco_names[EVO_COCO_CLASSES];

/* Class names: a built-in table or lines read from a file. */
typedef struct evo_names {
    int count;
    const char *const *names;
    char *storage; /* owned text when read from a file */
    char **owned;  /* owned pointer table when read from a file */
} evo_names;

/* The COCO-80 table (nothing to free, but evo_names_free is harmless). */
evo_names evo_names_coco(void);
/* One name per line (blank lines and trailing spaces dropped). */
evo_status evo_names_load(const char *path, evo_names *out, evo_error *err);
void evo_names_free(evo_names *n);
/* names[id], or NULL when out of range. */
const char *evo_names_get(const evo_names *n, int id);

/*
 * Writes {"image":..., "width":..., "height":..., "detections":[{"class_id",
 * "name", "score", "box":[x0,y0,x1,y1]}...]} with strings escaped. names may be NULL.
 */
evo_status evo_json_write(FILE *fp, const char *image_name, int width, int height,
                          const evo_detection *dets, int n, const evo_names *names,
                          evo_error *err);

/* The built-in bitmap font: glyph cells of EVO_FONT_W x EVO_FONT_H, printable ASCII. */
#define EVO_FONT_W 5
#define EVO_FONT_H 7
/* Row bits of a glyph (bit 4 = leftmost column); '?' for characters it lacks. */
const uint8_t *evo_font_glyph(int ch);

/* A colour for class id, stable and distinct for neighbours. */
void evo_class_color(int class_id, uint8_t rgb[3]);
/* Rectangle outline, clipped to the image. */
void evo_draw_rect(evo_image *img, int x0, int y0, int x1, int y1, int thickness,
                   const uint8_t rgb[3]);
/* Filled rectangle, clipped. */
void evo_draw_fill(evo_image *img, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
/* Text with the built-in font at integer scale; (x, y) is the top-left. Returns the width. */
int evo_draw_text(evo_image *img, int x, int y, const char *text, int scale,
                  const uint8_t rgb[3]);
/* Boxes with "name 0.87" labels on a filled tab, colour by class. */
void evo_draw_detections(evo_image *img, const evo_detection *dets, int n,
                         const evo_names *names);

/*
 * A writable frame for drawing in place: evo_frame's layout with mutable
 * planes, all given explicitly (NV12: uv_data; I420: uv_data = U, v_data =
 * V, both with uv_stride_bytes). The evo_canvas_* calls draw as the
 * evo_image ones above (which are the RGB24 case), clipped to the frame.
 */
typedef struct evo_canvas {
    evo_pixel_format format;
    int width, height;
    uint8_t *data;
    size_t stride_bytes;
    uint8_t *uv_data;
    size_t uv_stride_bytes;
    uint8_t *v_data;
} evo_canvas;

evo_canvas evo_canvas_from_image(evo_image *img);
/* True for the formats the evo_canvas_* calls draw on (all but YUYV). */
bool evo_canvas_can_draw(evo_pixel_format format);
/* RGB -> BT.601 limited-range Y, U, V (rounded), as evo_yuv_to_rgb reads them. */
void evo_rgb_to_yuv(const uint8_t rgb[3], uint8_t yuv[3]);
void evo_canvas_fill(const evo_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
void evo_canvas_rect(const evo_canvas *c, int x0, int y0, int x1, int y1, int thickness,
                     const uint8_t rgb[3]);
int evo_canvas_text(const evo_canvas *c, int x, int y, const char *text, int scale,
                    const uint8_t rgb[3]);
void evo_canvas_draw_detections(const evo_canvas *c, const evo_detection *dets, int n,
                                const evo_names *names);

/* ---- COCO-style evaluation (eval.c) ---- */

#define EVO_EVAL_IOUS 10       /* IoU thresholds 0.50:0.05:0.95 */
#define EVO_EVAL_RECALLS 101   /* recall points 0:0.01:1 */
#define EVO_EVAL_MAX_DETS 100  /* per image and class, as COCOeval's maxDets */
#define EVO_EVAL_MAX_CLASSES 100000

/* A box in COCO's form: top-left x, y and width, height in source pixels. */
typedef struct evo_eval_box {
    double x, y, w, h;
    float score; /* detections only */
    int class_id;
} evo_eval_box;

typedef struct evo_eval_class {
    int class_id;
    int64_t n_gt, n_dets;  /* n_dets: after the per-image cut */
    double ap, ap50, ap75; /* AP@0.5:0.95, AP@0.5, AP@0.75 */
} evo_eval_class;

typedef struct evo_eval_result {
    double map, map50, map75; /* means over the classes with ground truth */
    int n_classes;            /* classes with ground truth */
    int n_images;
} evo_eval_result;

typedef struct evo_coco_eval evo_coco_eval;

evo_status evo_coco_eval_create(evo_coco_eval **out, evo_error *err);
void evo_coco_eval_free(evo_coco_eval *e);
/*
 * Adds one image: its ground truth and its detections (any order; ties in
 * score keep the given order, as the order of a COCO results file does).
 * Bad boxes (non-finite, negative size, class outside [0, 100000)) are an
 * error; after any error the evaluator must only be freed.
 */
evo_status evo_coco_eval_add_image(evo_coco_eval *e, const evo_eval_box *gt, int n_gt,
                                   const evo_eval_box *dets, int n_dets, evo_error *err);
/* mAP over every image added so far; per-class results by evo_coco_eval_class. */
evo_status evo_coco_eval_compute(evo_coco_eval *e, evo_eval_result *out, evo_error *err);
/* Classes with ground truth (after compute), by ascending class id. */
int evo_coco_eval_n_classes(const evo_coco_eval *e);
const evo_eval_class *evo_coco_eval_class(const evo_coco_eval *e, int i);
/* IoU of two COCO boxes as pycocotools computes it (0 when they do not overlap). */
double evo_eval_iou(const evo_eval_box *a, const evo_eval_box *b);

#define EVO_LABELS_MAX_BOXES 100000
/*
 * Reads a YOLO label file ("class cx cy w h" per line, normalised; blank
 * lines skipped, an empty file has no objects) into boxes in pixels of a
 * width x height image. *out is malloc'd (NULL when empty; free() it).
 * Errors name path:line.
 */
evo_status evo_yolo_labels_load(const char *path, int width, int height, evo_eval_box **out,
                                int *n_out, evo_error *err);

/* ---- presets: named option sets and `key = value` preset files ---- */

#define EVO_PRESET_MAX_BYTES 65536

/* True when key names a detector option (the keys of a preset file). */
bool evo_detect_option_known(const char *key);
/*
 * Sets one option from its text form: "conf" = "0.3", "mode" = "center",
 * "mean" = "103.53,116.28,123.675"... Errors name the key, the value and
 * what was expected; o is changed only on success.
 */
evo_status evo_detect_option_set(evo_detect_options *o, const char *key, const char *value,
                                 evo_error *err);
/* The i-th built-in preset's name (yolov5, yolov8, yolox, nanodet, picodet), NULL past the end. */
const char *evo_preset_name(int i);
/*
 * Parses preset text: `key = value` lines, '#' comments, an optional first
 * `preset = NAME` to start from a built-in (else from the defaults). Errors
 * name source:line. *o is written only on success.
 */
evo_status evo_preset_parse(const char *text, size_t size, const char *source,
                            evo_detect_options *o, evo_error *err);
/* A built-in preset by name, or a preset file (any argument with '/' or '.'). */
evo_status evo_preset_load(const char *name_or_path, evo_detect_options *o, evo_error *err);

/* The decoder a detector resolved on its first run, or NULL before it. */
const evo_decode_layout *evo_detector_layout(const evo_detector *det);

#endif /* EVO_VISION_H */
