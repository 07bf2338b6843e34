/*
 * fuzz_tflite.c - libFuzzer target over the TFLite reader (tflite_read.c):
 * the root, vtables, tables, vectors, strings, quantization, operators and
 * every index they hold. A model the reader accepts must serialise again
 * (when its options are all of kinds evo knows) and read back with the
 * same counts. Any input must end in a model or a clean error; crashes,
 * leaks and sanitizer reports are bugs. The seeds are the models
 * test_tflite exports (written into the build tree at build time).
 */
#include "tflite/tflite.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tfl_model *m = NULL, *again = NULL;
    evo_error err;
    if (evo_tflite_read(data, size, "fuzz.tflite", &m, &err) != EVO_OK)
        return 0;
    uint8_t *bytes = NULL;
    size_t n = 0;
    bool known = true;
    for (int i = 0; i < m->n_ops; i++)
        known &= m->ops[i].opt.type == TFL_OPT_NONE || tfl_options_fields(m->ops[i].opt.type) != NULL;
    if (known && evo_tflite_serialize(m, &bytes, &n, &err) == EVO_OK) {
        if (evo_tflite_read(bytes, n, "again.tflite", &again, &err) != EVO_OK)
            abort(); /* what the reader accepted, the writer wrote unreadably */
        if (again->n_tensors != m->n_tensors || again->n_ops != m->n_ops || again->n_buffers != m->n_buffers)
            abort();
        tfl_model_free(again);
        free(bytes);
    }
    tfl_model_free(m);
    return 0;
}
