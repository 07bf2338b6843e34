/*
 * test_vision_image.c - JPEG/PNG encode/decode round trips and rejection of
 * bad images: empty, unknown, truncated, corrupt, zero-sized and huge headers.
 * Test images are generated and encoded here.
 */
#include "check.h"
#include "vision/vision.h"

#include <stdlib.h>

static evo_image gradient(int w, int h)
{
    evo_image img;
    CHECK(evo_image_alloc(w, h, &img, NULL) == EVO_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img.data + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)((x + y) * 2);
        }
    return img;
}

static void test_png_round_trip(void)
{
    check_rng r = {3};
    evo_image img;
    CHECK(evo_image_alloc(37, 23, &img, NULL) == EVO_OK);
    for (size_t i = 0; i < 37 * 23 * 3; i++)
        img.data[i] = (uint8_t)check_rng_int(&r, 0, 255);
    uint8_t *png = NULL;
    size_t size = 0;
    CHECK(evo_image_encode(&img, EVO_IMAGE_PNG, 0, &png, &size, NULL) == EVO_OK);
    CHECK(size > 8 && png[1] == 'P');
    evo_image back;
    CHECK(evo_image_decode(png, size, 0, &back, NULL) == EVO_OK);
    CHECK(back.width == 37 && back.height == 23);
    CHECK(memcmp(back.data, img.data, 37 * 23 * 3) == 0);
    evo_image_free(&back);
    free(png);
    evo_image_free(&img);
}

static void test_jpeg_round_trip(void)
{
    evo_image img = gradient(64, 48);
    uint8_t *jpg = NULL;
    size_t size = 0;
    CHECK(evo_image_encode(&img, EVO_IMAGE_JPEG, 95, &jpg, &size, NULL) == EVO_OK);
    CHECK(size > 3 && jpg[0] == 0xff && jpg[1] == 0xd8);
    evo_image back;
    CHECK(evo_image_decode(jpg, size, 0, &back, NULL) == EVO_OK);
    CHECK(back.width == 64 && back.height == 48);
    double sum = 0;
    int worst = 0;
    for (size_t i = 0; i < 64 * 48 * 3; i++) {
        int d = abs((int)back.data[i] - (int)img.data[i]);
        sum += d;
        worst = d > worst ? d : worst;
    }
    CHECK_MSG(sum / (64 * 48 * 3) < 2.0, "mean error %g", sum / (64 * 48 * 3));
    CHECK_MSG(worst < 24, "worst error %d", worst);
    evo_image_free(&back);
    free(jpg);
    evo_image_free(&img);
}

static void test_save_load(void)
{
    evo_image img = gradient(9, 5);
    const char *path = "test_vision_image_tmp.png";
    evo_error err;
    CHECK(evo_image_save(&img, path, 0, &err) == EVO_OK);
    evo_image back;
    CHECK(evo_image_load(path, &back, &err) == EVO_OK);
    CHECK(back.width == 9 && back.height == 5 && memcmp(back.data, img.data, 9 * 5 * 3) == 0);
    evo_image_free(&back);
    remove(path);
    CHECK(evo_image_save(&img, "x.bmp", 0, &err) == EVO_ERR_INVALID_ARG);
    CHECK(evo_image_load("/nonexistent/none.png", &back, &err) == EVO_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/none.png") != NULL);
    evo_image_free(&img);
}

static void test_rejects_garbage(void)
{
    evo_image out = {0, 0, NULL};
    evo_error err;
    CHECK(evo_image_decode(NULL, 0, 0, &out, &err) == EVO_ERR_PARSE);
    const uint8_t junk[] = {'G', 'I', 'F', '8', '9', 'a'};
    CHECK(evo_image_decode(junk, sizeof junk, 0, &out, &err) == EVO_ERR_UNSUPPORTED);
    CHECK(out.data == NULL);
    const uint8_t soi[] = {0xff, 0xd8, 0xff};
    CHECK(evo_image_decode(soi, sizeof soi, 0, &out, &err) == EVO_ERR_PARSE);
    const uint8_t sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(evo_image_decode(sig, sizeof sig, 0, &out, &err) == EVO_ERR_PARSE);
    CHECK(out.data == NULL);
}

static void test_rejects_truncated(void)
{
    check_rng r = {11};
    evo_image img;
    CHECK(evo_image_alloc(40, 30, &img, NULL) == EVO_OK);
    for (size_t i = 0; i < 40 * 30 * 3; i++)
        img.data[i] = (uint8_t)check_rng_int(&r, 0, 255);
    for (int codec = 0; codec < 2; codec++) {
        uint8_t *buf = NULL;
        size_t size = 0;
        CHECK(evo_image_encode(&img, (evo_image_codec)codec, 90, &buf, &size, NULL) == EVO_OK);
        // cut at several points: in the header, in the pixel data, just before the end
        size_t cuts[] = {size / 10, size / 2, size - 20};
        for (size_t i = 0; i < EVO_ARRAY_LEN(cuts); i++) {
            evo_image out = {0, 0, NULL};
            evo_error err;
            evo_status st = evo_image_decode(buf, cuts[i], 0, &out, &err);
            CHECK_MSG(st == EVO_ERR_PARSE, "codec %d cut %zu/%zu: status %s", codec, cuts[i],
                      size, evo_status_name(st));
            CHECK(out.data == NULL);
        }
        // corrupt the middle: PNG's CRC catches it, JPEG must not crash
        uint8_t *bad = malloc(size);
        memcpy(bad, buf, size);
        for (size_t i = size / 3; i < size / 3 + 16; i++)
            bad[i] ^= 0x5a;
        evo_image out = {0, 0, NULL};
        evo_status st = evo_image_decode(bad, size, 0, &out, NULL);
        if (codec == EVO_IMAGE_PNG)
            CHECK(st == EVO_ERR_PARSE);
        if (st == EVO_OK)
            evo_image_free(&out);
        free(bad);
        free(buf);
    }
    evo_image_free(&img);
}

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* A PNG whose IHDR claims w x h (valid CRC), followed by nothing. */
static size_t png_header(uint8_t *buf, uint32_t w, uint32_t h)
{
    const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    put_be32(buf + 8, 13);
    memcpy(buf + 12, "IHDR", 4);
    put_be32(buf + 16, w);
    put_be32(buf + 20, h);
    buf[24] = 8, buf[25] = 2, buf[26] = 0, buf[27] = 0, buf[28] = 0;
    put_be32(buf + 29, crc32_ref(buf + 12, 17));
    return 33;
}

static void test_rejects_huge_and_zero(void)
{
    uint8_t buf[64];
    evo_image out = {0, 0, NULL};
    evo_error err;
    size_t n = png_header(buf, 100000, 100000);
    CHECK(evo_image_decode(buf, n, 0, &out, &err) == EVO_ERR_LIMIT);
    n = png_header(buf, 20000, 20000); // within the side limit, over the pixel limit
    CHECK(evo_image_decode(buf, n, 0, &out, &err) == EVO_ERR_LIMIT);
    CHECK(strstr(err.msg, "20000x20000") != NULL);
    n = png_header(buf, 0, 10);
    CHECK(evo_image_decode(buf, n, 0, &out, &err) != EVO_OK);
    CHECK(out.data == NULL);

    // JPEG: patch the SOF dimensions of a real file
    evo_image img = gradient(16, 16);
    uint8_t *jpg = NULL;
    size_t size = 0;
    CHECK(evo_image_encode(&img, EVO_IMAGE_JPEG, 80, &jpg, &size, NULL) == EVO_OK);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < size; i++)
        if (jpg[i] == 0xff && (jpg[i + 1] == 0xc0 || jpg[i + 1] == 0xc2)) {
            sof = i;
            break;
        }
    CHECK(sof > 0);
    if (sof > 0) {
        // height at +5, width at +7 (big endian)
        jpg[sof + 5] = 0xfd, jpg[sof + 6] = 0xe8, jpg[sof + 7] = 0xfd, jpg[sof + 8] = 0xe8;
        CHECK(evo_image_decode(jpg, size, 0, &out, &err) == EVO_ERR_LIMIT);
        jpg[sof + 5] = 0, jpg[sof + 6] = 0; // zero height
        CHECK(evo_image_decode(jpg, size, 0, &out, &err) != EVO_OK);
        CHECK(out.data == NULL);
        jpg[sof + 5] = 0, jpg[sof + 6] = 16, jpg[sof + 7] = 0, jpg[sof + 8] = 16;
        CHECK(evo_image_decode(jpg, size, 0, &out, &err) == EVO_OK);
        evo_image_free(&out);
        CHECK(evo_image_decode(jpg, size, 100, &out, &err) == EVO_ERR_LIMIT); // caller limit
    }
    free(jpg);
    evo_image_free(&img);
}

static void test_encode_args(void)
{
    evo_image img = gradient(4, 4);
    uint8_t *buf = NULL;
    size_t size = 0;
    evo_error err;
    CHECK(evo_image_encode(&img, EVO_IMAGE_JPEG, 101, &buf, &size, &err) == EVO_ERR_INVALID_ARG);
    evo_image empty = {0, 0, NULL};
    CHECK(evo_image_encode(&empty, EVO_IMAGE_PNG, 0, &buf, &size, &err) == EVO_ERR_INVALID_ARG);
    CHECK(buf == NULL);
    evo_image_free(&img);
    evo_image_free(NULL);
}

CHECK_MAIN(CHECK_TEST(test_png_round_trip), CHECK_TEST(test_jpeg_round_trip),
           CHECK_TEST(test_save_load), CHECK_TEST(test_rejects_garbage),
           CHECK_TEST(test_rejects_truncated), CHECK_TEST(test_rejects_huge_and_zero),
           CHECK_TEST(test_encode_args))
