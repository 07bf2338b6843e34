/*
 * calib.h - the calibration engine: runs a float model and keeps, for every
 * float value a quantized op could read or write (graph inputs and node
 * outputs, constants excepted), the bounded statistics of quant/hist.h.
 * Activations are never stored: memory is one evo_hist (32 KB) per
 * observed value, whatever the number of calibration inputs.
 *
 * The model is run through an observable session (exec/session.h: no
 * fused pairs, a callback after every step), so each value is seen right
 * after its producer wrote it, before the arena reuses its bytes.
 */
#ifndef EVO_QUANT_CALIB_H
#define EVO_QUANT_CALIB_H

#include "graph/graph.h"
#include "quant/hist.h"

typedef struct evo_calib {
    const evo_graph *g; /* borrowed: the float graph observed */
    evo_hist **hist;    /* per value id; NULL when the value is not observed */
    int n_values;
    int n_observed;
    int64_t n_runs;     /* inferences observed */
} evo_calib;

/* Statistics for every float non-constant value of g (borrowed until evo_calib_free). */
evo_status evo_calib_create(const evo_graph *g, evo_calib **out, evo_error *err);
void evo_calib_free(evo_calib *c);

/*
 * Runs sess once on the inputs already written into it and adds every
 * observed value. sess must be an observable session of a model whose
 * graph is c->g.
 */
evo_status evo_calib_observe(evo_calib *c, evo_session *sess, evo_error *err);

/* The statistics of value v, or NULL when v is not observed or was never seen. */
const evo_hist *evo_calib_hist(const evo_calib *c, int v);

/* Progress of a calibration over images: image i (1-based) of n, seconds since the start. */
typedef void (*evo_calib_progress_fn)(void *user, int i, int n, const char *path, double elapsed_s);
/* A non-fatal problem (an image that does not decode) in one line. */
typedef void (*evo_calib_warn_fn)(void *user, const char *msg);

typedef struct evo_calib_images {
    const char *dir;            /* .jpg/.jpeg/.png files, read in name order */
    int max_images;             /* 0: all (at most EVO_CALIB_MAX_IMAGES) */
    evo_preprocess_options pre; /* the fused preprocess of evo detect */
    evo_calib_progress_fn progress;
    evo_calib_warn_fn warn;
    void *user;
} evo_calib_images;

#define EVO_CALIB_MAX_IMAGES 100000

typedef struct evo_calib_summary {
    int n_listed;   /* image files found */
    int n_used;     /* decoded and observed */
    int n_skipped;  /* failed to decode (each reported through warn) */
    double seconds; /* whole calibration */
} evo_calib_summary;

/*
 * Lists opts->dir's images (sorted by name). Errors: a folder that cannot
 * be read (EVO_ERR_IO) or holds no image file (EVO_ERR_INVALID_ARG).
 * *out is an array of malloc'd paths the caller frees with
 * evo_calib_free_list.
 */
evo_status evo_calib_list_images(const char *dir, int max_images, char ***out, int *n_out, evo_error *err);
void evo_calib_free_list(char **paths, int n);

/*
 * Decodes each image, writes it through the fused preprocess into input 0
 * of sess (a float [1, 3, H, W] tensor) and observes one inference. Images
 * that fail to decode are skipped with a warning and counted; when none
 * decodes the calibration fails with EVO_ERR_INVALID_ARG.
 */
evo_status evo_calib_run_images(evo_calib *c, evo_session *sess, const evo_model *model,
                                const evo_calib_images *opts, evo_calib_summary *sum, evo_error *err);

/*
 * Decodes and preprocesses up to max images of opts->dir for input 0 of
 * model (a float [1, 3, H, W] tensor) into *out: n malloc'd tensors, freed
 * by evo_calib_free_inputs. Undecodable images are skipped (opts->warn).
 */
evo_status evo_calib_load_inputs(const evo_model *model, const evo_calib_images *opts, int max, float ***out, int *n,
                                 evo_error *err);
void evo_calib_free_inputs(float **inputs, int n);

#endif /* EVO_QUANT_CALIB_H */
