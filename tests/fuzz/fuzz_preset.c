/*
 * fuzz_preset.c - libFuzzer target over the preset file parser. Any input
 * must end in options or a clean error; options it accepts must plan a
 * preprocess without error (finite mean, non-zero std, a known mode).
 */
#include "vision/vision.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evo_detect_options o;
    evo_error err;
    if (evo_preset_parse((const char *)data, size, "fuzz", &o, &err) != EVO_OK) {
        if (!err.msg[0])
            abort(); // a failure must say why
        return 0;
    }
    evo_transform t;
    if (evo_preprocess_plan(640, 480, 416, 416, &o.preprocess, &t, &err) != EVO_OK)
        abort();
    if (o.decode.n_strides < 0 || o.decode.n_strides > EVO_YOLO_MAX_STRIDES || o.decode.reg_max < 0)
        abort();
    return 0;
}
