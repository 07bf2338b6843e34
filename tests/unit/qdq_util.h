/*
 * qdq_util.h - what the QDQ folding tests (test_fold_qdq.c,
 * test_fold_qdq_ms.c) share: building quantization parameters and
 * Quantize -> Dequantize pairs, and comparing two compiled models'
 * outputs on the same random inputs.
 */
#ifndef EVO_TEST_QDQ_UTIL_H
#define EVO_TEST_QDQ_UTIL_H

#include "check.h"
#include "exec/model.h"
#include "graph/builder.h"

#include <math.h>
#include <string.h>

/* Scalar float scale and uint8/int8 zero point constants "<p>_s", "<p>_z". */
static inline void qp(evo_builder *b, const char *p, float scale, evo_dtype t, int zp)
{
    char s[64], z[64];
    snprintf(s, sizeof(s), "%.60s_s", p);
    snprintf(z, sizeof(z), "%.60s_z", p);
    evo_build_const(b, s, EVO_DTYPE_FLOAT, 0, NULL, &scale);
    uint8_t zb = (uint8_t)zp;
    evo_build_const(b, z, t, 0, NULL, &zb);
}

/* x -> Q(p) -> DQ(p): the value "<out>" is the dequantized x, the quantized bytes "<out>_q". */
static inline void qdq(evo_builder *b, const char *x, const char *p, const char *out)
{
    char ins[200], q[80];
    snprintf(q, sizeof(q), "%.60s_q", out);
    snprintf(ins, sizeof(ins), "%.60s %.40s_s %.40s_z", x, p, p);
    evo_build_node(b, "QuantizeLinear", ins, q, NULL);
    snprintf(ins, sizeof(ins), "%.70s %.40s_s %.40s_z", q, p, p);
    evo_build_node(b, "DequantizeLinear", ins, out, NULL);
}

/* Runs m on inputs drawn from seed in [-2, 2); writes output 0 as floats (at most cap); returns their count. */
static inline size_t qdq_run(const evo_model *m, uint64_t seed, float *out, size_t cap)
{
    evo_session *s = NULL;
    evo_error err = {0};
    CHECK_MSG(evo_session_create(m, NULL, &s, &err) == EVO_OK, "%s", err.msg);
    if (!s)
        return 0;
    check_rng r = {seed};
    for (int i = 0; i < evo_model_n_inputs(m); i++) {
        evo_tensor_desc d;
        evo_model_input_desc(m, i, &d);
        float *p = evo_session_input_data(s, i);
        for (size_t k = 0; k < d.size_bytes / 4; k++)
            p[k] = check_rng_float(&r, -2.0f, 2.0f);
    }
    size_t n = 0;
    if (evo_session_run(s, &err) == EVO_OK) {
        evo_tensor_desc d;
        evo_model_output_desc(m, 0, &d);
        n = EVO_MIN(d.size_bytes / 4, cap);
        memcpy(out, evo_session_output_data(s, 0), n * 4);
    } else {
        CHECK_MSG(false, "%s", err.msg);
    }
    evo_session_free(s);
    return n;
}

/*
 * Folded f vs unfolded u on 3 inputs: within lsb everywhere (the first
 * 2^14 outputs); returns the share of bit-exact elements.
 */
static inline double qdq_compare(const evo_model *f, const evo_model *u, float lsb, const char *name)
{
    static float a[1 << 14], b[1 << 14];
    size_t same = 0, total = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        size_t na = qdq_run(f, seed, a, 1 << 14), nb = qdq_run(u, seed, b, 1 << 14);
        CHECK_MSG(na == nb && na > 0, "%s: %zu vs %zu outputs", name, na, nb);
        int bad = 0;
        for (size_t i = 0; i < na && i < nb; i++) {
            same += a[i] == b[i];
            if (!(fabsf(a[i] - b[i]) <= lsb * 1.001f) && bad++ < 3)
                fprintf(stderr, "%s: seed %llu element %zu: folded %g, unfolded %g\n", name,
                        (unsigned long long)seed, i, a[i], b[i]);
        }
        CHECK_MSG(bad == 0, "%s: %d elements differ by more than one step", name, bad);
        total += na;
    }
    return total ? (double)same / (double)total : 0;
}

#endif /* EVO_TEST_QDQ_UTIL_H */
