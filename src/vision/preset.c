/*
 * preset.c - detector presets: every pre/post-processing option of a model
 * family under one name, and a small `key = value` file format for the
 * user's own models.
 *
 * One setter (evo_detect_option_set) owns the option names, their syntax
 * and their ranges; the built-in presets, preset files and the command
 * line all go through it, so a key means the same everywhere. The file
 * parser is strict (unknown keys, repeated keys, junk after a value and
 * over-long lines are errors naming file:line) and bounded: it reads at
 * most EVO_PRESET_MAX_BYTES and never allocates per line.
 */
#include "vision/vision.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 512
#define MAX_KEYS 32

/* The keys, in the order `evo detect --help` and the README list them. */
static const char *const option_keys[] = {
    "decoder", "classes", "strides", "reg-max", "cell-offset", "sigmoid", "conf", "iou",
    "max-det", "max-candidates", "agnostic", "mode", "interp", "color", "scale", "pad",
    "mean", "std", "scale-up",
};

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0)
        return *out = true, true;
    if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0)
        return *out = false, true;
    return false;
}

/* "a,b,c": exactly n (or, with n_out, 1..n) numbers each in [lo, hi]. */
static bool parse_list(const char *s, double lo, double hi, double *out, int n, int *n_out)
{
    int k = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (k == n || len == 0 || len >= sizeof item)
            return false;
        memcpy(item, p, len);
        item[len] = 0;
        if (!parse_double(item, lo, hi, &out[k++]))
            return false;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (n_out)
        *n_out = k;
    return n_out ? k >= 1 : k == n;
}

/* "1/255" or a plain number in (0, 1000]. */
static bool parse_scale(const char *s, float *out)
{
    double num, den = 1;
    const char *slash = strchr(s, '/');
    char buf[64];
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (!parse_double(buf, 1e-9, 1e6, &num) || (slash && !parse_double(slash + 1, 1e-9, 1e6, &den)))
        return false;
    if (!(num / den > 0 && num / den <= 1000))
        return false;
    *out = (float)(num / den);
    return true;
}

static bool parse_enum(const char *s, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return *out = i, true;
    return false;
}

static bool set_preprocess(evo_preprocess_options *p, const char *key, const char *v, bool *ok)
{
    static const char *const modes[] = {"letterbox", "topleft", "stretch", "center"};
    static const char *const interps[] = {"linear", "auto", "area"};
    static const char *const colors[] = {"rgb", "bgr"};
    double list[3];
    int i = 0;
    if (strcmp(key, "mode") == 0) {
        *ok = parse_enum(v, modes, 4, &i);
        p->mode = *ok ? (evo_fit_mode)i : p->mode;
    } else if (strcmp(key, "interp") == 0) {
        *ok = parse_enum(v, interps, 3, &i);
        p->interp = *ok ? (evo_interp)i : p->interp;
    } else if (strcmp(key, "color") == 0) {
        *ok = parse_enum(v, colors, 2, &i);
        p->bgr = *ok ? i == 1 : p->bgr;
    } else if (strcmp(key, "scale") == 0) {
        *ok = parse_scale(v, &p->scale);
    } else if (strcmp(key, "pad") == 0) {
        *ok = parse_int(v, 0, 255, &i);
        p->pad_value = *ok ? (uint8_t)i : p->pad_value;
    } else if (strcmp(key, "mean") == 0 || strcmp(key, "std") == 0) {
        bool is_std = key[0] == 's';
        *ok = parse_list(v, is_std ? 1e-6 : -1e6, 1e6, list, 3, NULL);
        for (int c = 0; *ok && c < 3; c++)
            (is_std ? p->std : p->mean)[c] = (float)list[c];
    } else if (strcmp(key, "scale-up") == 0) {
        *ok = parse_bool(v, &p->scale_up);
    } else {
        return false;
    }
    return true;
}

static bool set_decode(evo_decode_options *d, const char *key, const char *v, bool *ok)
{
    double x = 0, list[EVO_YOLO_MAX_STRIDES];
    int n = 0;
    if (strcmp(key, "decoder") == 0) {
        *ok = evo_yolo_kind_parse(v, &d->kind);
    } else if (strcmp(key, "classes") == 0) {
        *ok = parse_int(v, 0, 100000, &d->n_classes);
    } else if (strcmp(key, "strides") == 0) {
        *ok = parse_list(v, 1, 1024, list, EVO_YOLO_MAX_STRIDES, &n);
        for (int i = 0; *ok && i < n; i++)
            *ok = list[i] == floor(list[i]);
        for (int i = 0; *ok && i < n; i++)
            d->strides[i] = (int)list[i];
        d->n_strides = *ok ? n : d->n_strides;
    } else if (strcmp(key, "reg-max") == 0) {
        *ok = parse_int(v, 0, 64, &d->reg_max);
    } else if (strcmp(key, "cell-offset") == 0) {
        *ok = parse_double(v, 0, 1, &x);
        d->cell_offset = *ok ? (float)x : d->cell_offset;
    } else if (strcmp(key, "sigmoid") == 0) {
        *ok = parse_bool(v, &d->gfl_sigmoid);
    } else if (strcmp(key, "conf") == 0 || strcmp(key, "iou") == 0) {
        *ok = parse_double(v, 0, 1, &x);
        if (*ok)
            *(key[0] == 'c' ? &d->conf_threshold : &d->iou_threshold) = (float)x;
    } else if (strcmp(key, "max-det") == 0) {
        *ok = parse_int(v, 1, 100000, &d->max_detections);
    } else if (strcmp(key, "max-candidates") == 0) {
        *ok = parse_int(v, 1, 1000000, &d->max_candidates);
    } else if (strcmp(key, "agnostic") == 0) {
        *ok = parse_bool(v, &d->class_agnostic);
    } else {
        return false;
    }
    return true;
}

static const char *expected_for(const char *key)
{
    static const struct {
        const char *key, *text;
    } t[] = {
        {"decoder", "auto, yolov5, yolov8, yolox or gfl"}, {"classes", "an integer in [0, 100000]"},
        {"strides", "1 to 6 integers in [1, 1024], comma-separated"},
        {"reg-max", "an integer in [0, 64]"}, {"cell-offset", "a number in [0, 1]"},
        {"conf", "a number in [0, 1]"}, {"iou", "a number in [0, 1]"},
        {"max-det", "an integer in [1, 100000]"}, {"max-candidates", "an integer in [1, 1000000]"},
        {"mode", "letterbox, topleft, center or stretch"}, {"interp", "linear, area or auto"},
        {"color", "rgb or bgr"}, {"scale", "a number in (0, 1000] or a fraction like 1/255"},
        {"pad", "an integer in [0, 255]"}, {"mean", "3 numbers, comma-separated"},
        {"std", "3 positive numbers, comma-separated"},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(t); i++)
        if (strcmp(key, t[i].key) == 0)
            return t[i].text;
    return "true or false";
}

bool evo_detect_option_known(const char *key)
{
    for (size_t i = 0; i < EVO_ARRAY_LEN(option_keys); i++)
        if (strcmp(key, option_keys[i]) == 0)
            return true;
    return false;
}

evo_status evo_detect_option_set(evo_detect_options *o, const char *key, const char *value,
                                 evo_error *err)
{
    bool ok = false;
    if (!set_preprocess(&o->preprocess, key, value, &ok) && !set_decode(&o->decode, key, value, &ok))
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "unknown option \"%s\"", key);
    if (!ok)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s \"%s\", expected %s", key, value,
                          expected_for(key));
    return EVO_OK;
}

/*
 * The built-in presets, written in the preset file format so the format can
 * say everything a preset needs. Values follow each project's own demo and
 * documentation (README, "Presets").
 */
static const struct {
    const char *name, *text;
} builtin[] = {
    {"yolov5", // Ultralytics YOLOv5 detect.py: letterbox 114, RGB /255, conf 0.25, IoU 0.45
     "decoder = yolov5\nmode = letterbox\ninterp = linear\ncolor = rgb\nscale = 1/255\n"
     "pad = 114\nconf = 0.25\niou = 0.45\nmax-det = 1000\n"},
    {"yolov8", // Ultralytics predict defaults: conf 0.25, IoU 0.7, 300 boxes
     "decoder = yolov8\nmode = letterbox\ninterp = linear\ncolor = rgb\nscale = 1/255\n"
     "pad = 114\nconf = 0.25\niou = 0.7\nmax-det = 300\n"},
    {"yolox", // YOLOX demo: BGR 0..255 at the top-left, pad 114, strides 8/16/32
     "decoder = yolox\nstrides = 8,16,32\ncell-offset = 0\nmode = topleft\ninterp = linear\n"
     "color = bgr\nscale = 1\npad = 114\nmean = 0,0,0\nstd = 1,1,1\nconf = 0.3\niou = 0.45\n"},
    {"nanodet", // NanoDet-m: BGR, area resize centred, pad 0, ImageNet mean/std in B,G,R
     "decoder = gfl\nstrides = 8,16,32\nreg-max = 7\ncell-offset = 0.5\nsigmoid = false\n"
     "mode = center\ninterp = area\ncolor = bgr\nscale = 1\npad = 0\n"
     "mean = 103.53,116.28,123.675\nstd = 57.375,57.12,58.395\nconf = 0.4\niou = 0.5\n"},
    {"picodet", // PP-PicoDet: as NanoDet in R,G,B order, four strides
     "decoder = gfl\nstrides = 8,16,32,64\nreg-max = 7\ncell-offset = 0.5\nsigmoid = false\n"
     "mode = center\ninterp = area\ncolor = rgb\nscale = 1\npad = 0\n"
     "mean = 123.675,116.28,103.53\nstd = 58.395,57.12,57.375\nconf = 0.4\niou = 0.5\n"},
};

const char *evo_preset_name(int i)
{
    return i >= 0 && i < (int)EVO_ARRAY_LEN(builtin) ? builtin[i].name : NULL;
}

/* Copies s[0, n) without surrounding blanks into buf (size MAX_LINE). */
static void trim_copy(const char *s, size_t n, char *buf)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    memcpy(buf, s, n);
    buf[n] = 0;
}

static evo_status parse_text(const char *text, size_t size, const char *source, bool allow_base,
                             evo_detect_options *o, evo_error *err);

static evo_status apply_builtin(const char *name, evo_detect_options *o, evo_error *err)
{
    for (size_t i = 0; i < EVO_ARRAY_LEN(builtin); i++)
        if (strcmp(name, builtin[i].name) == 0) {
            *o = evo_detect_options_default();
            return parse_text(builtin[i].text, strlen(builtin[i].text), name, false, o, err);
        }
    return evo_errorf(err, EVO_ERR_INVALID_ARG,
                      "unknown preset \"%s\", expected yolov5, yolov8, yolox, nanodet, picodet "
                      "or a preset file",
                      name);
}

/* One `key = value` line (comment already cut); seen[] records keys given so far. */
static evo_status parse_line(const char *line, const char *source, int line_no, bool allow_base,
                             const char **seen, int *n_seen, evo_detect_options *o, evo_error *err)
{
    const char *eq = strchr(line, '=');
    if (!eq)
        return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: expected \"key = value\", got \"%s\"",
                          source, line_no, line);
    char key[MAX_LINE], value[MAX_LINE];
    trim_copy(line, (size_t)(eq - line), key);
    trim_copy(eq + 1, strlen(eq + 1), value);
    if (!key[0] || !value[0])
        return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: empty %s", source, line_no,
                          key[0] ? "value" : "key");
    bool is_base = strcmp(key, "preset") == 0;
    if (!is_base && !evo_detect_option_known(key))
        return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: unknown key \"%s\" (see evo detect --help)",
                          source, line_no, key);
    for (int i = 0; i < *n_seen; i++)
        if (strcmp(seen[i], key) == 0)
            return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: \"%s\" given twice", source, line_no, key);
    if (is_base && (!allow_base || *n_seen > 0))
        return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: \"preset\" must be the first key", source,
                          line_no);
    for (size_t i = 0; i < EVO_ARRAY_LEN(option_keys); i++)
        if (strcmp(key, option_keys[i]) == 0)
            seen[(*n_seen)++] = option_keys[i];
    if (is_base)
        seen[(*n_seen)++] = "preset";
    evo_error e = {0};
    evo_status s = is_base ? apply_builtin(value, o, &e) : evo_detect_option_set(o, key, value, &e);
    if (s)
        return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: %s", source, line_no, e.msg);
    return EVO_OK;
}

static evo_status parse_text(const char *text, size_t size, const char *source, bool allow_base,
                             evo_detect_options *o, evo_error *err)
{
    const char *seen[MAX_KEYS + 1];
    int n_seen = 0, line_no = 0;
    size_t at = 0;
    while (at < size) {
        line_no++;
        const char *nl = memchr(text + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (text + at)) : size - at;
        if (memchr(text + at, 0, len))
            return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: NUL byte (not a text file)", source, line_no);
        if (len >= MAX_LINE)
            return evo_errorf(err, EVO_ERR_PARSE, "%s:%d: line longer than %d bytes", source,
                              line_no, MAX_LINE - 1);
        char line[MAX_LINE];
        const char *hash = memchr(text + at, '#', len);
        trim_copy(text + at, hash ? (size_t)(hash - (text + at)) : len, line);
        at += len + (nl ? 1 : 0);
        if (!line[0])
            continue;
        evo_status s = parse_line(line, source, line_no, allow_base, seen, &n_seen, o, err);
        if (s)
            return s;
    }
    return EVO_OK;
}

evo_status evo_preset_parse(const char *text, size_t size, const char *source,
                            evo_detect_options *o, evo_error *err)
{
    if (size > EVO_PRESET_MAX_BYTES)
        return evo_errorf(err, EVO_ERR_LIMIT, "%s: %zu bytes, a preset file has at most %d",
                          source, size, EVO_PRESET_MAX_BYTES);
    evo_detect_options r = evo_detect_options_default();
    evo_status s = parse_text(text, size, source, true, &r, err);
    if (s == EVO_OK)
        *o = r;
    return s;
}

evo_status evo_preset_load(const char *name_or_path, evo_detect_options *o, evo_error *err)
{
    if (!strchr(name_or_path, '/') && !strchr(name_or_path, '.')) {
        evo_detect_options r;
        evo_status s = apply_builtin(name_or_path, &r, err);
        if (s == EVO_OK)
            *o = r;
        return s;
    }
    FILE *fp = fopen(name_or_path, "rb");
    if (!fp)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open preset: %s", name_or_path, strerror(errno));
    char *buf = malloc(EVO_PRESET_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, EVO_PRESET_MAX_BYTES + 1, fp) : 0;
    bool bad = ferror(fp);
    fclose(fp);
    evo_status s;
    if (!buf)
        s = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", name_or_path);
    else if (bad)
        s = evo_errorf(err, EVO_ERR_IO, "%s: read error", name_or_path);
    else
        s = evo_preset_parse(buf, n, name_or_path, o, err);
    free(buf);
    return s;
}

evo_status evo_detect_options_preset(const char *name_or_path, evo_detect_options *out, evo_error *err)
{
    if (!name_or_path || !out)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "evo_detect_options_preset: name and out are required");
    return evo_preset_load(name_or_path, out, err);
}
