/*
 * detect_opts.c - what `evo detect` and `evo eval` share: the detector
 * options (a --preset first, then explicit flags over it, whatever their
 * order on the line), image folder listing, and opening a model as a
 * detector. Option names and syntax live in src/vision/preset.c, so a flag
 * and a preset file key always agree.
 */
#include "cli.h"
#include "vision/vision.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int cli_detect_preset(int argc, char **argv, const char *cmd, evo_detect_options *o)
{
    const char *preset = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--preset") != 0)
            continue;
        if (i + 1 >= argc)
            return cli_fail("%s: --preset needs a name or a file", cmd), -1;
        if (preset)
            return cli_fail("%s: --preset given twice", cmd), -1;
        preset = argv[++i];
    }
    if (!preset)
        return 0;
    evo_error err = {0};
    if (evo_preset_load(preset, o, &err) != EVO_OK)
        return cli_fail("%s: --preset: %s", cmd, err.msg), -1;
    return 1;
}

int cli_parse_detect_args(int argc, char **argv, const cli_detect_args *p, evo_detect_options *det,
                          cli_model_opts *mo, const char **model_path)
{
    *model_path = NULL;
    if (cli_detect_preset(argc, argv, "detect", det) < 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, mo);
        if (r == 0)
            r = cli_parse_sim_target(argc, argv, &i, mo);
        if (r == 0)
            r = p->option(argc, argv, &i, p->user);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_fail("detect: unknown or incomplete option \"%s\"\n%s", argv[i], p->usage);
        if (!*model_path)
            *model_path = argv[i];
        else if (p->operand(argv[i], p->user))
            return 1;
    }
    return 0;
}

/* Flags without a value, as key = value. */
static const struct {
    const char *flag, *key, *value;
} flag_keys[] = {
    {"--bgr", "color", "bgr"},       {"--rgb", "color", "rgb"},
    {"--no-scale", "scale", "1"},    {"--agnostic", "agnostic", "true"},
    {"--sigmoid", "sigmoid", "true"},
};

int cli_parse_detect_opt(int argc, char **argv, int *i, const char *cmd, evo_detect_options *o,
                         bool *conf_set)
{
    const char *a = argv[*i], *key = NULL, *value = NULL;
    for (size_t k = 0; k < EVO_ARRAY_LEN(flag_keys) && !key; k++)
        if (strcmp(a, flag_keys[k].flag) == 0)
            key = flag_keys[k].key, value = flag_keys[k].value;
    if (!key) {
        if (strncmp(a, "--", 2) != 0 || *i + 1 >= argc)
            return 0;
        if (strcmp(a, "--preset") == 0) { // applied by cli_detect_preset
            (*i)++;
            return 1;
        }
        if (!evo_detect_option_known(a + 2))
            return 0;
        key = a + 2, value = argv[++*i];
    }
    evo_error err = {0};
    if (evo_detect_option_set(o, key, value, &err) != EVO_OK)
        return cli_fail("%s: --%s", cmd, err.msg), -1;
    if (conf_set && strcmp(key, "conf") == 0)
        *conf_set = true;
    return 1;
}

bool cli_is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_image_name(const char *name)
{
    const char *ext = strrchr(name, '.');
    return ext && (!strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg") || !strcasecmp(ext, ".png"));
}

void cli_free_list(char **paths, int n)
{
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

int cli_list_images(const char *dir, int max_images, char ***out, int *n_out)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_fail("%s: cannot open directory: %s", dir, strerror(errno));
    char **paths = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!is_image_name(e->d_name))
            continue;
        if (n == max_images) {
            rc = cli_fail("%s: more than %d images", dir, max_images);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(paths, sizeof(char *) * (size_t)cap);
            if (!grown) {
                rc = cli_fail("out of memory");
                break;
            }
            paths = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(paths[n] = malloc(len))) {
            rc = cli_fail("out of memory");
            break;
        }
        snprintf(paths[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (rc == 0 && n == 0)
        rc = cli_fail("%s: no .jpg, .jpeg or .png files", dir);
    if (rc) {
        cli_free_list(paths, n);
        return rc;
    }
    qsort(paths, (size_t)n, sizeof(char *), cmp_name);
    *out = paths;
    *n_out = n;
    return 0;
}

int cli_open_detector(const char *model_path, const cli_model_opts *mo, const evo_detect_options *d,
                      evo_model **model_out, evo_detector **det_out)
{
    evo_error err = {0};
    evo_model *model = NULL;
    evo_compile_options co = cli_compile_options(mo);
    if (evo_model_load(model_path, &co, &model, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    evo_tensor_desc in;
    if (evo_model_n_inputs(model) < 1 || evo_model_input_desc(model, 0, &in) != EVO_OK ||
        in.dtype != EVO_DTYPE_FLOAT || in.rank != 4 || in.dims[0] != 1 || in.dims[1] != 3 ||
        in.dims[2] < 1 || in.dims[3] < 1 || in.dims[2] > EVO_IMAGE_MAX_SIDE ||
        in.dims[3] > EVO_IMAGE_MAX_SIDE) {
        evo_model_free(model);
        return cli_fail("%s: input 0 must be float32 [1,3,H,W] with fixed H and W (use --input-shape)",
                        model_path);
    }
    evo_session_options so = cli_session_options(mo);
    if (evo_detector_create(model, &so, d, det_out, &err) != EVO_OK) {
        evo_model_free(model);
        return cli_fail("%s", err.msg);
    }
    *model_out = model;
    return 0;
}
