/*
 * json.c - class names (COCO-80 built in, or one per line from a file) and
 * the detections as JSON. Strings are escaped per RFC 8259; numbers are
 * printed with fixed precision so output diffs cleanly between runs.
 */
#include "vision/vision.h"
#include "core/core.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const evo_coco_names[EVO_COCO_CLASSES] = {
    "person",        "bicycle",      "car",           "motorcycle",    "airplane",
    "bus",           "train",        "truck",         "boat",          "traffic light",
    "fire hydrant",  "stop sign",    "parking meter", "bench",         "bird",
    "cat",           "dog",          "horse",         "sheep",         "cow",
    "elephant",      "bear",         "zebra",         "giraffe",       "backpack",
    "umbrella",      "handbag",      "tie",           "suitcase",      "frisbee",
    "skis",          "snowboard",    "sports ball",   "kite",          "baseball bat",
    "baseball glove", "skateboard",  "surfboard",     "tennis racket", "bottle",
    "wine glass",    "cup",          "fork",          "knife",         "spoon",
    "bowl",          "banana",       "apple",         "sandwich",      "orange",
    "broccoli",      "carrot",       "hot dog",       "pizza",         "donut",
    "cake",          "chair",        "couch",         "potted plant",  "bed",
    "dining table",  "toilet",       "tv",            "laptop",        "mouse",
    "remote",        "keyboard",     "cell phone",    "microwave",     "oven",
    "toaster",       "sink",         "refrigerator",  "book",          "clock",
    "vase",          "scissors",     "teddy bear",    "hair drier",    "toothbrush",
};

evo_names evo_names_coco(void)
{
    evo_names n = {EVO_COCO_CLASSES, evo_coco_names, NULL, NULL};
    return n;
}

void evo_names_free(evo_names *n)
{
    if (!n)
        return;
    free(n->storage);
    free(n->owned);
    n->storage = NULL;
    n->owned = NULL;
    n->names = NULL;
    n->count = 0;
}

const char *evo_names_get(const evo_names *n, int id)
{
    if (!n || !n->names || id < 0 || id >= n->count)
        return NULL;
    return n->names[id];
}

/* Names files beyond this are not class lists. */
#define NAMES_FILE_LIMIT (16L << 20)

evo_status evo_names_load(const char *path, evo_names *out, evo_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    evo_status st = EVO_OK;
    char *text = NULL;
    char **table = NULL;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (size < 0 || size > NAMES_FILE_LIMIT || fseek(fp, 0, SEEK_SET) != 0) {
        st = evo_errorf(err, EVO_ERR_LIMIT, "%s: size %ld, expected at most %ld bytes", path, size,
                        NAMES_FILE_LIMIT);
        goto fail;
    }
    text = malloc((size_t)size + 1);
    table = malloc(sizeof(char *) * ((size_t)size / 2 + 2));
    if (!text || !table) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (fread(text, 1, (size_t)size, fp) != (size_t)size) {
        st = evo_errorf(err, EVO_ERR_IO, "%s: read error", path);
        goto fail;
    }
    text[size] = 0;
    int count = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = 0;
        if (len > 0)
            table[count++] = line;
        line = next;
    }
    if (count == 0) {
        st = evo_errorf(err, EVO_ERR_PARSE, "%s: no class names", path);
        goto fail;
    }
    fclose(fp);
    out->count = count;
    out->names = (const char *const *)table;
    out->storage = text;
    out->owned = table;
    return EVO_OK;
fail:
    free(text);
    free(table);
    fclose(fp);
    return st;
}

/* JSON has no NaN or infinity: print null for them. */
static void put_number(FILE *fp, const char *fmt, float v)
{
    if (isfinite(v))
        fprintf(fp, fmt, (double)v);
    else
        fputs("null", fp);
}

evo_status evo_json_write(FILE *fp, const char *image_name, int width, int height,
                          const evo_detection *dets, int n, const evo_names *names,
                          evo_error *err)
{
    fputs("{\"image\": ", fp);
    evo_json_put_string(fp, image_name ? image_name : "");
    fprintf(fp, ", \"width\": %d, \"height\": %d, \"detections\": [", width, height);
    for (int i = 0; i < n; i++) {
        const evo_detection *d = &dets[i];
        const char *name = evo_names_get(names, d->class_id);
        fprintf(fp, "%s\n  {\"class_id\": %d, \"name\": ", i ? "," : "", d->class_id);
        if (name)
            evo_json_put_string(fp, name);
        else
            fputs("null", fp);
        fputs(", \"score\": ", fp);
        put_number(fp, "%.4f", d->score);
        const float box[4] = {d->x0, d->y0, d->x1, d->y1};
        for (int k = 0; k < 4; k++) {
            fputs(k ? ", " : ", \"box\": [", fp);
            put_number(fp, "%.2f", box[k]);
        }
        fputs("]}", fp);
    }
    fputs(n ? "\n]}\n" : "]}\n", fp);
    if (ferror(fp))
        return evo_errorf(err, EVO_ERR_IO, "json: write error");
    return EVO_OK;
}
