/*
 * test_quant_tflite.c - the fused activation tables in TFLite's int8
 * semantics (EVO_ACT_TABLE_TFLITE) against values worked out by hand from
 * TFLite's kernels at the edges: -128 and 127, the zero point, saturation
 * of LOGISTIC's and TANH's fixed output scales, and the ties TFLite's
 * fixed point rounds away from zero where the float table rounds to even.
 * Every table of both modes agrees at the zero point, and a uint8 table is
 * the int8 one with every byte moved by 128.
 */
#include "check.h"
#include "kernels/quant_common.h"
#include "kernels/quant_tflite.h"

/* Entry q (int8) of act's table in mode. */
static int entry(evo_act_table mode, evo_act act, float alpha, float beta, float in_scale, int32_t in_zp,
                 float y_scale, int32_t y_zp, int q)
{
    uint8_t t[256];
    evo_quant_act_table(mode, act, alpha, beta, in_scale, in_zp, y_scale, y_zp, EVO_DTYPE_INT8, t);
    return (int8_t)t[q + 128];
}

static int tfl(evo_act act, float alpha, float beta, float in_scale, int32_t in_zp, float y_scale, int32_t y_zp,
               int q)
{
    return entry(EVO_ACT_TABLE_TFLITE, act, alpha, beta, in_scale, in_zp, y_scale, y_zp, q);
}

static int flt(evo_act act, float alpha, float beta, float in_scale, int32_t in_zp, float y_scale, int32_t y_zp,
               int q)
{
    return entry(EVO_ACT_TABLE_FLOAT, act, alpha, beta, in_scale, in_zp, y_scale, y_zp, q);
}

static void test_sigmoid_tanh(void)
{
    /* LOGISTIC's own output (1/256, -128): 0 -> 0.5 -> 0; 12.7 -> 255.9992 rounds to 256, saturates */
    CHECK(tfl(EVO_ACT_SIGMOID, 0, 0, 0.1f, 0, 1.0f / 256, -128, -128) == -128);
    CHECK(tfl(EVO_ACT_SIGMOID, 0, 0, 0.1f, 0, 1.0f / 256, -128, 0) == 0);
    CHECK(tfl(EVO_ACT_SIGMOID, 0, 0, 0.1f, 0, 1.0f / 256, -128, 127) == 127);
    /*
     * y at 1/255: TFLite's LOGISTIC saturates at 127 (255/256), then QUANTIZE
     * rescales 255 steps of 1/256 to 254.004 steps of 1/255: 126, where the
     * float table reaches 1.0 = 127.
     */
    CHECK(tfl(EVO_ACT_SIGMOID, 0, 0, 0.1f, 0, 1.0f / 255, -128, 127) == 126);
    CHECK(flt(EVO_ACT_SIGMOID, 0, 0, 0.1f, 0, 1.0f / 255, -128, 127) == 127);
    /* TANH (1/128, 0): +-1 saturates to 127 and -128; QUANTIZE to 1/100: 127 / 1.28 = 99.2 -> 99 (float: 100) */
    CHECK(tfl(EVO_ACT_TANH, 0, 0, 0.1f, 0, 1.0f / 128, 0, 127) == 127);
    CHECK(tfl(EVO_ACT_TANH, 0, 0, 0.1f, 0, 1.0f / 128, 0, -128) == -128);
    CHECK(tfl(EVO_ACT_TANH, 0, 0, 0.1f, 0, 1.0f / 128, 0, 0) == 0);
    CHECK(tfl(EVO_ACT_TANH, 0, 0, 0.1f, 0, 0.01f, 0, 127) == 99);
    CHECK(flt(EVO_ACT_TANH, 0, 0, 0.1f, 0, 0.01f, 0, 127) == 100);
    CHECK(tfl(EVO_ACT_TANH, 0, 0, 0.1f, 0, 0.01f, 0, -128) == -100);
}

static void test_silu(void)
{
    /*
     * x = 12.7 (q 127, scale 0.1): LOGISTIC saturates at 127 (byte 255
     * above its zero point), MUL multiplies 127 * 255 = 32385 by
     * 0.1 / 256 / 0.05 = 2^-7 (q 2^30, shift -6): 16193 >> 6 rounds to 253,
     * so -128 + 253 = 125; the float table rounds 12.69996 / 0.05 to 254: 126.
     */
    CHECK(tfl(EVO_ACT_SILU, 0, 0, 0.1f, 0, 0.05f, -128, 127) == 125);
    CHECK(flt(EVO_ACT_SILU, 0, 0, 0.1f, 0, 0.05f, -128, 127) == 126);
    /* -12.8: sigmoid * 256 rounds to 0, the product is 0: y's zero point */
    CHECK(tfl(EVO_ACT_SILU, 0, 0, 0.1f, 0, 0.05f, -128, -128) == -128);
    /* the zero point maps to the zero point, saturation at the top of a small y range */
    CHECK(tfl(EVO_ACT_SILU, 0, 0, 0.1f, 5, 0.05f, -100, 5) == -100);
    CHECK(tfl(EVO_ACT_SILU, 0, 0, 0.1f, 0, 0.05f, -100, 127) == 127);
}

static void test_leaky_relu(void)
{
    /*
     * alpha 1/8 at equal scales: the negative side multiplies by 2^-3
     * (q 2^30, shift -2). x = -4 is -0.5 output steps: TFLite's
     * RoundingDivideByPOT rounds the tie away from zero (-1), the float table
     * to even (0); x = -20 is -2.5: -3 against -2; x = -12 (-1.5): -2 both.
     */
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, -4) == -1);
    CHECK(flt(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, -4) == 0);
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, -20) == -3);
    CHECK(flt(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, -20) == -2);
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, -12) == -2);
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, -128) == -16);
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, 127) == 127);
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.1f, 0, 0.1f, 0, 0) == 0);
    /* identity side saturating: twice the scale ratio */
    CHECK(tfl(EVO_ACT_LEAKY_RELU, 0.125f, 0, 0.2f, -28, 0.1f, 0, 127) == 127);
}

static void test_hard_swish(void)
{
    /*
     * in 0.05, out 0.05: output multiplier 2^-7 (int16 16384, exponent -6),
     * reluish multiplier 4.2667 (int16 17476, exponent 3). q 127: the
     * reluish value saturates to 1.0 (32767), 32767 * 8128 >> 15 = 8127,
     * 8127 / 64 rounds to 127. q -128 (x = -6.4): reluish 0, output 0.
     * q 20 (x = 1, 1 * 4/6 / 0.05 = 13.3): preshift 1280, reluish 21845,
     * 21845 * 1280 >> 15 = 853, 853 / 64 -> 13.
     */
    CHECK(tfl(EVO_ACT_HARD_SWISH, 0, 0, 0.05f, 0, 0.05f, 0, 127) == 127);
    CHECK(tfl(EVO_ACT_HARD_SWISH, 0, 0, 0.05f, 0, 0.05f, 0, -128) == 0);
    CHECK(tfl(EVO_ACT_HARD_SWISH, 0, 0, 0.05f, 0, 0.05f, 0, 20) == 13);
    CHECK(tfl(EVO_ACT_HARD_SWISH, 0, 0, 0.05f, 0, 0.05f, 0, 0) == 0);
    /* an output range that saturates */
    CHECK(tfl(EVO_ACT_HARD_SWISH, 0, 0, 0.05f, 0, 0.02f, -20, 127) == 127);
    CHECK(tfl(EVO_ACT_HARD_SWISH, 0, 0, 0.05f, 0, 0.02f, -20, -128) == -20);
}

static void test_hard_sigmoid(void)
{
    /*
     * ADD(x, 3) with RELU6 into (6/255, -128), MUL by 1/6: x = -12.8 clamps
     * to 0 (y's zero point), x = 12.7 to 6 (the RELU6 top, 127), whose
     * 255 * 127 = 32385 times 6/255 / 127 / (1/255) ~ 1/127 is 255 steps: 127.
     */
    float a = 1.0f / 6, b = 0.5f;
    CHECK(tfl(EVO_ACT_HARD_SIGMOID, a, b, 0.1f, 0, 1.0f / 255, -128, -128) == -128);
    CHECK(tfl(EVO_ACT_HARD_SIGMOID, a, b, 0.1f, 0, 1.0f / 255, -128, 127) == 127);
    /* x = 0: RELU6(3) = 3 is 127.5 steps of 6/255 (rounded in two fixed-point steps), then half of 255 */
    int mid = tfl(EVO_ACT_HARD_SIGMOID, a, b, 0.1f, 0, 1.0f / 255, -128, 0);
    CHECK_MSG(mid == -1 || mid == 0, "hard sigmoid(0) = %d", mid);
}

/* Every act: both modes agree where f is exact at the zero point; uint8 tables are the int8 ones moved by 128. */
static void test_zero_point_and_uint8(void)
{
    const evo_act acts[] = {EVO_ACT_SIGMOID, EVO_ACT_TANH,       EVO_ACT_SILU,
                            EVO_ACT_LEAKY_RELU, EVO_ACT_HARD_SWISH, EVO_ACT_HARD_SIGMOID};
    for (size_t k = 0; k < sizeof(acts) / sizeof(acts[0]); k++) {
        evo_act act = acts[k];
        float alpha = act == EVO_ACT_HARD_SIGMOID ? 1.0f / 6 : 0.1f, beta = 0.5f;
        float ys = act == EVO_ACT_SIGMOID ? 1.0f / 256 : act == EVO_ACT_TANH ? 1.0f / 128 : 0.037f;
        int32_t yzp = act == EVO_ACT_SIGMOID ? -128 : act == EVO_ACT_TANH ? 0 : -7;
        uint8_t t8[256], tu[256];
        evo_quant_act_table(EVO_ACT_TABLE_TFLITE, act, alpha, beta, 0.043f, 11, ys, yzp, EVO_DTYPE_INT8, t8);
        evo_quant_act_table(EVO_ACT_TABLE_TFLITE, act, alpha, beta, 0.043f, 11 + 128, ys, yzp + 128,
                            EVO_DTYPE_UINT8, tu);
        int same = 0;
        for (int i = 0; i < 256; i++)
            same += tu[i] == (uint8_t)((int8_t)t8[i] + 128);
        CHECK_MSG(same == 256, "act %d: uint8 table differs from the int8 one at %d entries", (int)act, 256 - same);
        if (act != EVO_ACT_HARD_SIGMOID) /* f(0) = 0.5 is a tie for 2 * 127.5 steps */
            CHECK_MSG(tfl(act, alpha, beta, 0.043f, 11, ys, yzp, 11) ==
                          flt(act, alpha, beta, 0.043f, 11, ys, yzp, 11),
                      "act %d at the zero point", (int)act);
    }
}

CHECK_MAIN(CHECK_TEST(test_sigmoid_tanh), CHECK_TEST(test_silu), CHECK_TEST(test_leaky_relu),
           CHECK_TEST(test_hard_swish), CHECK_TEST(test_hard_sigmoid), CHECK_TEST(test_zero_point_and_uint8))
