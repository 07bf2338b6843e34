/*
 * fuzz_image.c - libFuzzer target over the image readers (JPEG via
 * TurboJPEG, PNG via libspng, sniffed by signature). Any input must end in
 * an image or a clean error, within the pixel limit given here so a
 * hostile header cannot make the fuzzer allocate gigabytes. A decoded
 * image is pushed through the fused preprocess too.
 */
#include "vision/vision.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 4 Mpixel: large enough for real seeds, small enough for fast iterations. */
#define FUZZ_MAX_PIXELS ((int64_t)1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evo_image img;
    evo_error err;
    if (evo_image_decode(data, size, FUZZ_MAX_PIXELS, &img, &err) != EVO_OK)
        return 0;
    if (img.width <= 0 || img.height <= 0 || !img.data)
        abort(); // success must mean a real image
    evo_frame f = evo_image_frame(&img);
    evo_preprocess_options o = evo_preprocess_options_default();
    float *dst = malloc(sizeof(float) * 3 * 32 * 24);
    if (dst && evo_preprocess(&f, 32, 24, &o, dst, NULL, &err) != EVO_OK)
        abort();
    free(dst);
    evo_image_free(&img);
    return 0;
}
