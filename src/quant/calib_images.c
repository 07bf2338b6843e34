/*
 * calib_images.c - calibration over an image folder: list, decode, the
 * fused preprocess of evo detect straight into the session's input, one
 * observed inference per image. Bad images are skipped and counted; a
 * folder with nothing usable is an error naming the folder.
 */
#include "exec/model.h"
#include "quant/calib.h"
#include "vision/vision.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_image_name(const char *name)
{
    const char *ext = strrchr(name, '.');
    return ext && (!strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg") || !strcasecmp(ext, ".png"));
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void evo_calib_free_list(char **paths, int n)
{
    for (int i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

evo_status evo_calib_list_images(const char *dir, int max_images, char ***out, int *n_out, evo_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot read the calibration folder: %s", dir, strerror(errno));
    int n = 0, cap = 0;
    char **paths = NULL;
    evo_status s = EVO_OK;
    struct dirent *e;
    while ((e = readdir(d)) && n < EVO_CALIB_MAX_IMAGES) {
        if (!is_image_name(e->d_name))
            continue;
        if (n == cap) {
            int ncap = cap ? cap * 2 : 64;
            char **np = realloc(paths, sizeof(char *) * (size_t)ncap);
            if (!np) {
                s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory listing images", dir);
                break;
            }
            paths = np;
            cap = ncap;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(paths[n] = malloc(len))) {
            s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory listing images", dir);
            break;
        }
        snprintf(paths[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (!s && n == 0)
        s = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: no calibration images (.jpg, .jpeg or .png) in the folder", dir);
    if (s) {
        evo_calib_free_list(paths, n);
        return s;
    }
    qsort(paths, (size_t)n, sizeof(char *), cmp_path);
    if (max_images > 0 && n > max_images) {
        for (int i = max_images; i < n; i++)
            free(paths[i]);
        n = max_images;
    }
    *out = paths;
    *n_out = n;
    return EVO_OK;
}

/* The model input's [1, 3, H, W] float shape, or an error naming what is wrong. */
static evo_status input_size(const evo_model *model, int *w, int *h, evo_error *err)
{
    evo_tensor_desc d;
    if (evo_model_n_inputs(model) < 1 || evo_model_input_desc(model, 0, &d) != EVO_OK)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "calibration: the model has no input");
    if (d.dtype != EVO_DTYPE_FLOAT || d.rank != 4 || d.dims[0] != 1 || d.dims[1] != 3 || d.dims[2] < 1 ||
        d.dims[3] < 1 || d.dims[2] > 16384 || d.dims[3] > 16384) {
        char buf[96];
        return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                          "calibration on images: input \"%s\" is %s %s, expected float32 [1,3,H,W]", d.name,
                          d.dtype == EVO_DTYPE_FLOAT ? "float32" : "not float32", evo_dims_str(d.dims, d.rank, buf, sizeof buf));
    }
    *h = (int)d.dims[2];
    *w = (int)d.dims[3];
    return EVO_OK;
}

evo_status evo_calib_run_images(evo_calib *c, evo_session *sess, const evo_model *model,
                                const evo_calib_images *opts, evo_calib_summary *sum, evo_error *err)
{
    int w = 0, h = 0, n = 0;
    char **paths = NULL;
    memset(sum, 0, sizeof(*sum));
    evo_status s = evo_calib_list_images(opts->dir, opts->max_images, &paths, &n, err);
    if (!s && (s = input_size(model, &w, &h, err)))
        evo_calib_free_list(paths, n);
    if (s)
        return s;
    sum->n_listed = n;
    int64_t t0 = evo_now_ns();
    float *input = evo_session_input_data(sess, 0);
    for (int i = 0; i < n && !s; i++) {
        evo_image img;
        evo_error ierr = {0};
        if (evo_image_load(paths[i], &img, &ierr) != EVO_OK) {
            sum->n_skipped++;
            if (opts->warn)
                opts->warn(opts->user, ierr.msg);
            continue;
        }
        evo_frame f = evo_image_frame(&img);
        evo_transform t;
        s = evo_preprocess(&f, w, h, &opts->pre, input, &t, err);
        evo_image_free(&img);
        if (!s)
            s = evo_calib_observe(c, sess, err);
        if (!s)
            sum->n_used++;
        if (opts->progress)
            opts->progress(opts->user, i + 1, n, paths[i], (double)(evo_now_ns() - t0) / 1e9);
    }
    sum->seconds = (double)(evo_now_ns() - t0) / 1e9;
    evo_calib_free_list(paths, n);
    if (!s && sum->n_used == 0)
        s = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: none of the %d calibration images could be decoded",
                       opts->dir, n);
    return s;
}

void evo_calib_free_inputs(float **inputs, int n)
{
    for (int i = 0; inputs && i < n; i++)
        free(inputs[i]);
    free(inputs);
}

evo_status evo_calib_load_inputs(const evo_model *model, const evo_calib_images *opts, int max, float ***out, int *n,
                                 evo_error *err)
{
    int w = 0, h = 0, n_paths = 0, got = 0;
    char **paths = NULL;
    evo_status s = input_size(model, &w, &h, err);
    if (!s)
        s = evo_calib_list_images(opts->dir, max, &paths, &n_paths, err);
    if (s)
        return s;
    float **inputs = calloc((size_t)n_paths + 1, sizeof(float *));
    if (!inputs)
        s = evo_errorf(err, EVO_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_paths && !s; i++) {
        evo_image img;
        evo_error ierr = {0};
        if (evo_image_load(paths[i], &img, &ierr) != EVO_OK) {
            if (opts->warn)
                opts->warn(opts->user, ierr.msg);
            continue;
        }
        evo_frame f = evo_image_frame(&img);
        evo_transform t;
        if (!(inputs[got] = malloc(sizeof(float) * 3 * (size_t)w * (size_t)h)))
            s = evo_errorf(err, EVO_ERR_NOMEM, "out of memory for %d preprocessed images", n_paths);
        else if (!(s = evo_preprocess(&f, w, h, &opts->pre, inputs[got], &t, err)))
            got++;
        evo_image_free(&img);
    }
    evo_calib_free_list(paths, n_paths);
    if (!s && got == 0)
        s = evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: none of the images could be decoded", opts->dir);
    if (s) {
        evo_calib_free_inputs(inputs, n_paths);
        return s;
    }
    *out = inputs;
    *n = got;
    return EVO_OK;
}
