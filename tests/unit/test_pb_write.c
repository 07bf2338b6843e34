/*
 * test_pb_write.c - the protobuf writer against the reader: varints at
 * every length boundary (negative int64 as 10 bytes), fixed32 floats,
 * strings, packed repeated fields and nested messages read back field by
 * field with pb.h; the counting run of a nested message gives the length
 * actually written.
 */
#include "check.h"
#include "onnx/pb.h"
#include "onnx/pb_write.h"

#include <stdlib.h>

static const int64_t ints[] = {0,         1,  127,      128, 16383, 16384, INT32_MAX, (int64_t)1 << 35,
                               INT64_MAX, -1, INT64_MIN};

static void put_inner(evo_pbw *w, const void *ctx)
{
    (void)ctx;
    evo_pbw_string(w, 1, "inner");
    evo_pbw_packed_ints(w, 2, ints, sizeof(ints) / sizeof(ints[0]));
}

static void put_outer(evo_pbw *w, const void *ctx)
{
    evo_pbw_int(w, 1, 42);
    evo_pbw_message(w, 2, put_inner, ctx);
    evo_pbw_message(w, 2, put_inner, ctx);
}

static void test_scalars(void)
{
    evo_pbw w = {0};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        evo_pbw_int(&w, (uint32_t)(i + 1), ints[i]);
    evo_pbw_float(&w, 100, -2.5f);
    evo_pbw_bytes(&w, 536870911, "\0x\0", 3); /* the largest field number */
    CHECK(!w.failed);
    evo_pb r = evo_pb_init(w.buf, w.len);
    evo_pb_field f;
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        CHECK(evo_pb_next(&r, &f) && f.number == i + 1 && f.wire == EVO_PB_VARINT);
        CHECK((int64_t)f.u64 == ints[i]);
    }
    CHECK(evo_pb_next(&r, &f) && f.number == 100 && f.wire == EVO_PB_I32 && evo_pb_f32(f.u64) == -2.5f);
    CHECK(evo_pb_next(&r, &f) && f.number == 536870911 && f.len == 3 && memcmp(f.data, "\0x\0", 3) == 0);
    CHECK(!evo_pb_next(&r, &f) && r.error == NULL);
    evo_pbw_free(&w);
}

static void test_nested(void)
{
    evo_pbw w = {0}, count = {.counting = true};
    put_outer(&count, NULL);
    evo_pbw_message(&w, 7, put_outer, NULL);
    CHECK(!w.failed && !count.failed);
    evo_pb r = evo_pb_init(w.buf, w.len);
    evo_pb_field f;
    CHECK(evo_pb_next(&r, &f) && f.number == 7 && f.wire == EVO_PB_LEN && f.len == count.len);
    CHECK(f.data + f.len == w.buf + w.len);
    evo_pb outer = evo_pb_sub(&r, &f);
    CHECK(evo_pb_next(&outer, &f) && f.number == 1 && f.u64 == 42);
    for (int k = 0; k < 2; k++) {
        CHECK(evo_pb_next(&outer, &f) && f.number == 2 && f.wire == EVO_PB_LEN);
        evo_pb inner = evo_pb_sub(&outer, &f);
        evo_pb_field g;
        CHECK(evo_pb_next(&inner, &g) && g.number == 1 && g.len == 5 && memcmp(g.data, "inner", 5) == 0);
        evo_pb_iter it = evo_pb_iter_init(&inner, 2, EVO_PB_SCALAR_VARINT);
        uint64_t v;
        size_t n = 0;
        while (evo_pb_iter_next(&it, &v)) {
            CHECK(n < sizeof(ints) / sizeof(ints[0]) && (int64_t)v == ints[n]);
            n++;
        }
        CHECK(n == sizeof(ints) / sizeof(ints[0]) && it.error == NULL);
    }
    CHECK(!evo_pb_next(&outer, &f) && outer.error == NULL);
    evo_pbw_free(&w);
}

static void test_packed_floats(void)
{
    const float v[] = {0.0f, -1.0f, 3.25f, 1e-30f};
    evo_pbw w = {0};
    evo_pbw_packed_floats(&w, 3, v, 4);
    evo_pbw_packed_floats(&w, 4, v, 0); /* nothing */
    evo_pb r = evo_pb_init(w.buf, w.len);
    evo_pb_iter it = evo_pb_iter_init(&r, 3, EVO_PB_SCALAR_FIXED32);
    uint64_t bits;
    int n = 0;
    while (evo_pb_iter_next(&it, &bits)) {
        CHECK(n < 4 && evo_pb_f32(bits) == v[n]);
        n++;
    }
    CHECK(n == 4 && w.len == 2 + 16);
    evo_pbw_free(&w);
}

CHECK_MAIN(CHECK_TEST(test_scalars), CHECK_TEST(test_nested), CHECK_TEST(test_packed_floats))
