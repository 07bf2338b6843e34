/*
 * test_qpool.c - com.microsoft QLinearGlobalAveragePool and
 * QLinearAveragePool against direct loops written here: 1-3 spatial dims,
 * odd and prime sizes, strides, asymmetric pads, auto_pad, ceil_mode,
 * count_include_pad, whole-image kernels (the integer path), NCHW and
 * channels-last, uint8 and int8, 1 and 3 tasks; hand-computed values; bad
 * inputs.
 */
#include "q_util.h"

typedef struct qp_case {
    bool global, channels_last;
    evo_dtype t;
    int ns;
    int64_t batch, chans, in[3], k[3], s[3], pb[3], pe[3];
    const char *auto_pad;
    int ceil_mode, count_include_pad;
    float sx, sy;
    int zx, zy;
} qp_case;

static int64_t out_extent(const qp_case *c, int i, int64_t *pb, int64_t *pe)
{
    *pe = 0;
    if (c->global)
        return *pb = 0, 1;
    if (c->auto_pad && strncmp(c->auto_pad, "SAME", 4) == 0) {
        int64_t out = (c->in[i] + c->s[i] - 1) / c->s[i], total = (out - 1) * c->s[i] + c->k[i] - c->in[i];
        total = total < 0 ? 0 : total;
        *pb = strcmp(c->auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
        *pe = total - *pb;
        return out;
    }
    *pb = c->auto_pad ? 0 : c->pb[i];
    *pe = c->auto_pad ? 0 : c->pe[i];
    int64_t span = c->in[i] + *pb + (c->auto_pad ? 0 : c->pe[i]) - c->k[i];
    int64_t out = (c->ceil_mode ? (span + c->s[i] - 1) / c->s[i] : span / c->s[i]) + 1;
    if (c->ceil_mode && (out - 1) * c->s[i] >= c->in[i] + *pb)
        out--;
    return out;
}

/* Expected NCHW output from NCHW bytes x. */
static void direct(const qp_case *c, const uint8_t *x, const int64_t *out, const int64_t *pb,
                   const int64_t *pe, uint8_t *y)
{
    int64_t in3[3] = {1, 1, 1}, o3[3] = {1, 1, 1}, k3[3] = {1, 1, 1}, s3[3] = {1, 1, 1}, b3[3] = {0, 0, 0};
    bool whole = true;
    for (int i = 0; i < c->ns; i++) {
        in3[i] = c->in[i], o3[i] = out[i], b3[i] = pb[i];
        k3[i] = c->global ? c->in[i] : c->k[i];
        s3[i] = c->global ? 1 : c->s[i];
        whole = whole && k3[i] == in3[i] && pb[i] == 0 && pe[i] == 0;
    }
    int64_t plane = in3[0] * in3[1] * in3[2], yi = 0;
    for (int64_t nc = 0; nc < c->batch * c->chans; nc++) {
        const uint8_t *xp = x + nc * plane;
        if (whole) {
            int32_t sum = 0;
            for (int64_t i = 0; i < plane; i++)
                sum += q_val(xp[i], c->t);
            float scale = c->sx / (float)plane / c->sy;
            y[yi++] = q_quant((float)(sum - c->zx * (int32_t)plane) * scale, c->zy, c->t);
            continue;
        }
        for (int64_t a = 0; a < o3[0]; a++)
            for (int64_t b = 0; b < o3[1]; b++)
                for (int64_t d = 0; d < o3[2]; d++) {
                    int64_t o[3] = {a, b, d}, lo[3], hi[3];
                    for (int i = 0; i < 3; i++) {
                        int64_t st = o[i] * s3[i] - b3[i];
                        lo[i] = st < 0 ? 0 : st;
                        hi[i] = st + k3[i] > in3[i] ? in3[i] : st + k3[i];
                    }
                    float sum = 0.0f;
                    for (int64_t u = lo[0]; u < hi[0]; u++)
                        for (int64_t v = lo[1]; v < hi[1]; v++)
                            for (int64_t w = lo[2]; w < hi[2]; w++)
                                sum +=
                                    c->sx * (float)(q_val(xp[(u * in3[1] + v) * in3[2] + w], c->t) - c->zx);
                    int64_t n = c->count_include_pad ? k3[0] * k3[1] * k3[2]
                                                     : (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
                    y[yi++] = q_quant(sum / (float)n / c->sy + (float)c->zy, 0, c->t);
                }
    }
}

static int build(evo_graph *g, const qp_case *c)
{
    int64_t xd[5] = {c->batch};
    for (int i = 0; i < c->ns; i++)
        xd[c->channels_last ? 1 + i : 2 + i] = c->in[i];
    xd[c->channels_last ? 1 + c->ns : 1] = c->chans;
    int ins[5] = {nn_value(g, "X", c->t, 2 + c->ns, xd), q_scale(g, "x_s", c->sx),
                  q_zp(g, "x_z", c->t, c->zx), q_scale(g, "y_s", c->sy), q_zp(g, "y_z", c->t, c->zy)};
    evo_op op = c->global ? EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL : EVO_OP_QLINEAR_AVERAGE_POOL;
    int node = nn_node(g, evo_op_name(op), 5, ins, 1);
    if (c->channels_last)
        nn_attr_int(g, node, "channels_last", 1);
    if (c->global)
        return node;
    nn_attr_ints(g, node, "kernel_shape", c->k, c->ns);
    nn_attr_ints(g, node, "strides", c->s, c->ns);
    if (c->auto_pad) {
        nn_attr_string(g, node, "auto_pad", c->auto_pad);
    } else {
        int64_t pads[6];
        for (int i = 0; i < c->ns; i++)
            pads[i] = c->pb[i], pads[c->ns + i] = c->pe[i];
        nn_attr_ints(g, node, "pads", pads, 2 * c->ns);
    }
    nn_attr_int(g, node, "ceil_mode", c->ceil_mode);
    nn_attr_int(g, node, "count_include_pad", c->count_include_pad);
    return node;
}

/* NCHW <-> channels-last copy of a [batch, chans, plane] tensor. */
static void relayout(const uint8_t *src, uint8_t *dst, int64_t batch, int64_t chans, int64_t plane,
                     bool to_last)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t ch = 0; ch < chans; ch++)
            for (int64_t p = 0; p < plane; p++) {
                int64_t nchw = (b * chans + ch) * plane + p, nhwc = (b * plane + p) * chans + ch;
                dst[to_last ? nhwc : nchw] = src[to_last ? nchw : nhwc];
            }
}

static void run(check_rng *r, const qp_case *c, int n_tasks)
{
    char desc[300];
    snprintf(desc, sizeof(desc),
             "%s %s last=%d ns=%d in=[%lld,%lld,%lld] k=[%lld,%lld,%lld] s=[%lld,%lld,%lld] "
             "pb=[%lld,%lld,%lld] pe=[%lld,%lld,%lld] auto=%s ceil=%d incl=%d tasks=%d",
             c->global ? "global" : "avg", evo_dtype_name(c->t), c->channels_last, c->ns, (long long)c->in[0],
             (long long)c->in[1], (long long)c->in[2], (long long)c->k[0], (long long)c->k[1],
             (long long)c->k[2], (long long)c->s[0], (long long)c->s[1], (long long)c->s[2],
             (long long)c->pb[0], (long long)c->pb[1], (long long)c->pb[2], (long long)c->pe[0],
             (long long)c->pe[1], (long long)c->pe[2], c->auto_pad ? c->auto_pad : "-", c->ceil_mode,
             c->count_include_pad, n_tasks);
    evo_graph *g = evo_graph_new("test");
    int node = build(g, c);
    evo_error err = {0};
    evo_status s = nn_infer(g, node, &err);
    CHECK_MSG(s == EVO_OK, "%s: %s", desc, err.msg);
    if (s == EVO_OK) {
        int64_t out[3], pb[3], pe[3], plane = 1, oplane = 1;
        const evo_value *yv = &g->values[g->nodes[node].out[0]];
        for (int i = 0; i < c->ns; i++) {
            out[i] = out_extent(c, i, &pb[i], &pe[i]);
            CHECK_MSG(yv->dims[(c->channels_last ? 1 : 2) + i] == out[i], "%s: dim %d", desc, i);
            plane *= c->in[i];
            oplane *= out[i];
        }
        int64_t nx = c->batch * c->chans * plane, ny = c->batch * c->chans * oplane;
        uint8_t *x = q_bytes(r, nx), *xl = q_bytes(r, nx), *want = q_bytes(r, ny), *got = q_bytes(r, ny);
        uint8_t *gotl = q_bytes(r, ny);
        direct(c, x, out, pb, pe, want);
        if (c->channels_last)
            relayout(x, xl, c->batch, c->chans, plane, true);
        void *ins[5] = {c->channels_last ? xl : x};
        q_run(g, node, ins, c->channels_last ? gotl : got, n_tasks);
        if (c->channels_last)
            relayout(gotl, got, c->batch, c->chans, oplane, false);
        CHECK_MSG(q_compare(got, want, ny, c->t, desc) == 0, "%s", desc);
        free(x), free(xl), free(want), free(got), free(gotl);
    }
    evo_graph_free(g);
}

static void test_random(void)
{
    static const char *const pads[] = {NULL, "SAME_UPPER", "SAME_LOWER", "VALID"};
    check_rng r = {0x9001};
    for (int it = 0; it < 160; it++) {
        qp_case c = {it % 5 == 0, it % 3 == 1, it % 2 ? EVO_DTYPE_INT8 : EVO_DTYPE_UINT8};
        c.ns = check_rng_int(&r, 1, 3);
        c.batch = check_rng_int(&r, 1, 2);
        c.chans = check_rng_int(&r, 1, 5);
        for (int i = 0; i < c.ns; i++) {
            c.in[i] = check_rng_int(&r, 1, c.ns == 3 ? 6 : 13);
            c.k[i] = check_rng_int(&r, 1, (int)c.in[i] < 4 ? (int)c.in[i] : 4);
            c.s[i] = check_rng_int(&r, 1, 3);
            c.pb[i] = check_rng_int(&r, 0, (int)c.k[i] - 1);
            c.pe[i] = check_rng_int(&r, 0, (int)c.k[i] - 1);
        }
        c.auto_pad = pads[check_rng_int(&r, 0, 5) % 4 == 0 ? check_rng_int(&r, 1, 3) : 0];
        if (it % 7 == 3) /* a whole-image window without pads takes the integer path; SAME pads it */
            for (int i = 0; i < c.ns; i++)
                c.k[i] = c.in[i], c.pb[i] = c.pe[i] = 0;
        c.ceil_mode = check_rng_int(&r, 0, 1) && !c.auto_pad;
        c.count_include_pad = check_rng_int(&r, 0, 1);
        c.sx = check_rng_float(&r, 0.005f, 0.1f);
        c.sy = check_rng_float(&r, 0.005f, 0.1f);
        c.zx = q_zp_rand(&r, c.t);
        c.zy = q_zp_rand(&r, c.t);
        run(&r, &c, it % 4 == 0 ? 3 : 1);
    }
}

static void test_hand(void)
{
    /* 2x2 image 10, 20, 30, 41 (zp 0, scale 0.5) into y scale 1: sum 101 * 0.5 / 4 = 12.625 -> 13 */
    qp_case c = {true, false, EVO_DTYPE_UINT8, 2, 1, 1, {2, 2}, {0}, {0}, {0}, {0}, NULL, 0, 0, 0.5f, 1.0f,
                 0,    0};
    evo_graph *g = evo_graph_new("test");
    int node = build(g, &c);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_OK);
    uint8_t x[4] = {10, 20, 30, 41}, y[1] = {0};
    void *ins[5] = {x};
    q_run(g, node, ins, y, 1);
    CHECK(y[0] == 13);
    evo_graph_free(g);
}

static void test_bad_inputs(void)
{
    qp_case c = {
        false, false, EVO_DTYPE_UINT8, 2, 1, 1, {4, 4}, {2, 2}, {1, 1}, {0}, {0}, NULL, 0, 0, 0.5f, 1.0f,
        0,     0};
    evo_graph *g = evo_graph_new("test");
    int node = build(g, &c);
    nn_attr_int(g, node, "channels_last", 2);
    evo_error err = {0};
    CHECK(nn_infer(g, node, &err) == EVO_ERR_PARSE && strstr(err.msg, "channels_last") &&
          nn_names_node(&err));
    evo_graph_free(g);
    g = evo_graph_new("test");
    node = build(g, &c);
    g->values[g->nodes[node].in[0]].rank = 2;
    CHECK(nn_infer(g, node, &err) == EVO_ERR_SHAPE && nn_names_node(&err));
    evo_graph_free(g);
}

CHECK_MAIN(CHECK_TEST(test_random), CHECK_TEST(test_hand), CHECK_TEST(test_bad_inputs))
