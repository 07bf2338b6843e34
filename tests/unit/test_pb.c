/*
 * test_pb.c - the protobuf wire reader on hand-written byte arrays: every
 * wire type, packed and unpacked repeated fields, and malformed input
 * (truncation at every byte, overlong varints, lengths past the end, groups).
 */
#include "check.h"
#include "core/core.h"
#include "onnx/pb.h"

#include <stdlib.h>

static void test_varint(void)
{
    static const struct {
        uint8_t bytes[11];
        size_t n;
        uint64_t value;
    } ok[] = {
        {{0x00}, 1, 0},
        {{0x01}, 1, 1},
        {{0x7f}, 1, 127},
        {{0x80, 0x01}, 2, 128},
        {{0xac, 0x02}, 2, 300},
        {{0xff, 0xff, 0xff, 0xff, 0x0f}, 5, 0xffffffffu},
        // -1 as int64: ten bytes, the last carrying only bit 63
        {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10, UINT64_MAX},
        // non-minimal encoding of 1 is still valid
        {{0x81, 0x80, 0x00}, 3, 1},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(ok); i++) {
        const uint8_t *p = ok[i].bytes;
        uint64_t v = 12345;
        CHECK(evo_pb_varint(&p, ok[i].bytes + ok[i].n, &v));
        CHECK_MSG(v == ok[i].value, "case %zu: %llu", i, (unsigned long long)v);
        CHECK(p == ok[i].bytes + ok[i].n);
        // every proper prefix is truncated
        for (size_t cut = 0; cut < ok[i].n; cut++) {
            p = ok[i].bytes;
            CHECK(!evo_pb_varint(&p, ok[i].bytes + cut, &v));
            CHECK(p == ok[i].bytes);
        }
    }
    // 11 bytes, and a 10th byte with more than bit 63: rejected
    uint8_t long11[11];
    memset(long11, 0x80, sizeof(long11));
    long11[10] = 0x01;
    const uint8_t *p = long11;
    uint64_t v;
    CHECK(!evo_pb_varint(&p, long11 + 11, &v));
    uint8_t big10[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    p = big10;
    CHECK(!evo_pb_varint(&p, big10 + 10, &v));
}

/* field 1 varint 150; field 2 "testing"; field 3 fixed32 1.5f; field 4 fixed64 -2.0 */
static const uint8_t msg_all[] = {
    0x08, 0x96, 0x01,                                     // 1: 150
    0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g',        // 2: "testing"
    0x1d, 0x00, 0x00, 0xc0, 0x3f,                         // 3: 1.5f
    0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, // 4: -2.0
};

static void test_fields(void)
{
    evo_pb r = evo_pb_init(msg_all, sizeof(msg_all));
    evo_pb_field f;
    CHECK(evo_pb_next(&r, &f));
    CHECK(f.number == 1 && f.wire == EVO_PB_VARINT && f.u64 == 150 && f.offset == 0);
    CHECK(evo_pb_next(&r, &f));
    CHECK(f.number == 2 && f.wire == EVO_PB_LEN && f.len == 7 && f.offset == 3);
    CHECK(f.data && memcmp(f.data, "testing", 7) == 0);
    CHECK(evo_pb_next(&r, &f));
    CHECK(f.number == 3 && f.wire == EVO_PB_I32 && evo_pb_f32(f.u64) == 1.5f);
    CHECK(evo_pb_next(&r, &f));
    CHECK(f.number == 4 && f.wire == EVO_PB_I64 && evo_pb_f64(f.u64) == -2.0);
    CHECK(!evo_pb_next(&r, &f));
    CHECK(r.error == NULL);
    // the end is sticky
    CHECK(!evo_pb_next(&r, &f));

    // Truncating anywhere inside a field is an error; at a field boundary, a clean end.
    static const size_t boundaries[] = {0, 3, 12, 17, 26};
    for (size_t cut = 0; cut <= sizeof(msg_all); cut++) {
        bool at_boundary = false;
        size_t n_expected = 0;
        for (size_t b = 0; b < EVO_ARRAY_LEN(boundaries); b++) {
            if (boundaries[b] == cut)
                at_boundary = true;
            if (boundaries[b] < cut)
                n_expected = b;
        }
        if (at_boundary && cut > 0)
            n_expected = 0;
        r = evo_pb_init(msg_all, cut);
        size_t n = 0;
        while (evo_pb_next(&r, &f))
            n++;
        if (at_boundary) {
            CHECK_MSG(r.error == NULL, "cut %zu: %s", cut, r.error);
        } else {
            CHECK_MSG(r.error != NULL, "cut %zu: no error", cut);
            CHECK_MSG(n == n_expected, "cut %zu: %zu fields, expected %zu", cut, n, n_expected);
            CHECK(r.error_offset < cut);
        }
    }
}

static void expect_error(const uint8_t *bytes, size_t n, size_t offset, const char *label)
{
    evo_pb r = evo_pb_init(bytes, n);
    evo_pb_field f;
    while (evo_pb_next(&r, &f)) {
    }
    CHECK_MSG(r.error != NULL, "%s: accepted", label);
    CHECK_MSG(r.error_offset == offset, "%s: offset %zu, expected %zu", label, r.error_offset,
              offset);
}

static void test_malformed(void)
{
    static const uint8_t group_start[] = {0x08, 0x01, 0x0b, 0x0c};
    expect_error(group_start, sizeof(group_start), 2, "start group");
    static const uint8_t group_end[] = {0x0c};
    expect_error(group_end, sizeof(group_end), 0, "end group");
    static const uint8_t wire6[] = {0x0e, 0x00};
    expect_error(wire6, sizeof(wire6), 0, "wire type 6");
    static const uint8_t wire7[] = {0x08, 0x00, 0x0f};
    expect_error(wire7, sizeof(wire7), 2, "wire type 7");
    static const uint8_t field0[] = {0x00, 0x01};
    expect_error(field0, sizeof(field0), 0, "field number 0");
    // field number 2^29 (one past the largest)
    static const uint8_t field_big[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
    expect_error(field_big, sizeof(field_big), 0, "field number 2^29");
    // a length of 2^63 must not wrap the pointer
    static const uint8_t len_huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                                       0x00};
    expect_error(len_huge, sizeof(len_huge), 0, "huge length");
    static const uint8_t len_past[] = {0x08, 0x05, 0x12, 0x03, 'a', 'b'};
    expect_error(len_past, sizeof(len_past), 2, "length past end");
    static const uint8_t varint_long[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_error(varint_long, sizeof(varint_long), 0, "11-byte varint");
    static const uint8_t tag_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x01};
    expect_error(tag_long, sizeof(tag_long), 0, "11-byte tag");

    // Sub-messages report offsets from the start of the whole buffer.
    static const uint8_t nested[] = {0x08, 0x01, 0x12, 0x03, 0x08, 0x80, 0x80};
    evo_pb r = evo_pb_init(nested, sizeof(nested));
    evo_pb_field f;
    CHECK(evo_pb_next(&r, &f) && evo_pb_next(&r, &f));
    CHECK(f.number == 2 && f.len == 3);
    evo_pb sub = evo_pb_sub(&r, &f);
    evo_pb_field g;
    CHECK(!evo_pb_next(&sub, &g));
    CHECK(sub.error != NULL && sub.error_offset == 4);
    CHECK(!evo_pb_next(&r, &f) && r.error == NULL);

    // Empty input and NULL are clean and empty.
    r = evo_pb_init(NULL, 0);
    CHECK(!evo_pb_next(&r, &f) && r.error == NULL);
}

static void test_repeated(void)
{
    // field 5 as: unpacked 1, packed [2, 300, -1 (10 bytes)], other field, unpacked 7, empty packed
    static const uint8_t msg[] = {
        0x28, 0x01,                                     // 5: 1
        0x2a, 0x0d, 0x02, 0xac, 0x02,                   // 5: packed, 13 bytes
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        0x30, 0x09,                                     // 6: 9 (skipped)
        0x28, 0x07,                                     // 5: 7
        0x2a, 0x00,                                     // 5: packed, empty
    };
    static const int64_t want[] = {1, 2, 300, -1, 7};
    evo_pb r = evo_pb_init(msg, sizeof(msg));
    evo_pb_iter it = evo_pb_iter_init(&r, 5, EVO_PB_SCALAR_VARINT);
    uint64_t v;
    size_t n = 0;
    while (evo_pb_iter_next(&it, &v)) {
        CHECK(n < EVO_ARRAY_LEN(want) && (int64_t)v == want[n]);
        n++;
    }
    CHECK(n == EVO_ARRAY_LEN(want) && it.error == NULL);
    const char *why = NULL;
    size_t offset = 0, count = 99;
    CHECK(evo_pb_count(&r, 5, EVO_PB_SCALAR_VARINT, &count, &why, &offset) && count == 5);
    CHECK(evo_pb_count(&r, 6, EVO_PB_SCALAR_VARINT, &count, &why, &offset) && count == 1);
    CHECK(evo_pb_count(&r, 9, EVO_PB_SCALAR_VARINT, &count, &why, &offset) && count == 0);
    // field 6 read as fixed32 has the wrong wire type
    CHECK(!evo_pb_count(&r, 6, EVO_PB_SCALAR_FIXED32, &count, &why, &offset));
    CHECK(why != NULL && offset == 17);

    // packed floats [1, -0.5] then unpacked 3.0; and packed doubles
    static const uint8_t floats[] = {
        0x22, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xbf,
        0x25, 0x00, 0x00, 0x40, 0x40,
        0x52, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x40,
    };
    r = evo_pb_init(floats, sizeof(floats));
    it = evo_pb_iter_init(&r, 4, EVO_PB_SCALAR_FIXED32);
    float fw[] = {1.0f, -0.5f, 3.0f};
    n = 0;
    while (evo_pb_iter_next(&it, &v))
        CHECK(n < 3 && evo_pb_f32(v) == fw[n++]);
    CHECK(n == 3 && it.error == NULL);
    it = evo_pb_iter_init(&r, 10, EVO_PB_SCALAR_FIXED64);
    CHECK(evo_pb_iter_next(&it, &v) && evo_pb_f64(v) == 10.0);
    CHECK(!evo_pb_iter_next(&it, &v) && it.error == NULL);

    // packed fixed32 whose length is not a multiple of 4; packed varint truncated
    static const uint8_t bad_fixed[] = {0x22, 0x05, 0, 0, 0x80, 0x3f, 0};
    r = evo_pb_init(bad_fixed, sizeof(bad_fixed));
    CHECK(!evo_pb_count(&r, 4, EVO_PB_SCALAR_FIXED32, &count, &why, &offset));
    CHECK(offset == 6);
    static const uint8_t bad_varint[] = {0x2a, 0x02, 0x01, 0x80};
    r = evo_pb_init(bad_varint, sizeof(bad_varint));
    CHECK(!evo_pb_count(&r, 5, EVO_PB_SCALAR_VARINT, &count, &why, &offset));
    CHECK(offset == 3);
    // a wire error in an unrelated later field is reported too
    static const uint8_t bad_later[] = {0x28, 0x01, 0x32, 0x05, 0x00};
    r = evo_pb_init(bad_later, sizeof(bad_later));
    CHECK(!evo_pb_count(&r, 5, EVO_PB_SCALAR_VARINT, &count, &why, &offset));
    CHECK(offset == 2);
}

/* Random bytes never crash the reader and it never reads past the end (ASan checks the latter). */
static void test_random(void)
{
    check_rng rng = {0x9e3779b97f4a7c15ull};
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)check_rng_int(&rng, 0, 40);
        uint8_t *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)check_rng_u64(&rng);
        evo_pb r = evo_pb_init(buf, n);
        evo_pb_field f;
        size_t fields = 0;
        while (evo_pb_next(&r, &f)) {
            fields++;
            CHECK(f.offset < n);
            if (f.wire == EVO_PB_LEN)
                CHECK(f.data >= buf && f.data + f.len <= buf + n);
        }
        CHECK(fields <= n);
        evo_pb fresh = evo_pb_init(buf, n);
        size_t count;
        const char *why;
        size_t offset;
        if (evo_pb_count(&fresh, 1, EVO_PB_SCALAR_VARINT, &count, &why, &offset))
            CHECK(count <= n);
        free(buf);
    }
}

CHECK_MAIN(CHECK_TEST(test_varint), CHECK_TEST(test_fields), CHECK_TEST(test_malformed),
           CHECK_TEST(test_repeated), CHECK_TEST(test_random))
