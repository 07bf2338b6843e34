/*
 * test_vision_output.c - class names, JSON text, the bitmap font and
 * drawing (pixel counts, clipping, hostile coordinates).
 */
#include "check.h"
#include "vision/vision.h"

#include <stdlib.h>

static char *slurp(FILE *fp)
{
    long n = ftell(fp);
    rewind(fp);
    char *s = calloc((size_t)n + 1, 1);
    if (fread(s, 1, (size_t)n, fp) != (size_t)n)
        s[0] = 0;
    return s;
}

static void test_names(void)
{
    evo_names coco = evo_names_coco();
    CHECK(coco.count == 80);
    CHECK(strcmp(evo_names_get(&coco, 0), "person") == 0);
    CHECK(strcmp(evo_names_get(&coco, 79), "toothbrush") == 0);
    CHECK(evo_names_get(&coco, 80) == NULL && evo_names_get(&coco, -1) == NULL);
    const char *path = "test_vision_names.txt";
    FILE *fp = fopen(path, "wb");
    fputs("cat\r\n\n  \ndog house  \nbird", fp);
    fclose(fp);
    evo_names n;
    CHECK(evo_names_load(path, &n, NULL) == EVO_OK);
    CHECK(n.count == 3);
    if (n.count == 3) {
        CHECK(strcmp(n.names[0], "cat") == 0);
        CHECK(strcmp(n.names[1], "dog house") == 0);
        CHECK(strcmp(n.names[2], "bird") == 0);
    }
    evo_names_free(&n);
    fp = fopen(path, "wb");
    fclose(fp);
    evo_error err;
    CHECK(evo_names_load(path, &n, &err) == EVO_ERR_PARSE);
    remove(path);
    CHECK(evo_names_load("/nonexistent/names", &n, &err) == EVO_ERR_IO);
}

static void test_json(void)
{
    const char *names_arr[2] = {"a \"q\"", "b\\n"};
    evo_names names = {2, names_arr, NULL, NULL};
    evo_detection d[3] = {{1, 2, 3.5f, 4.25f, 0.875f, 0},
                          {10, 20, 30, 40, 0.5f, 1},
                          {0, 0, NAN, 1, 0.25f, 7}};
    FILE *fp = tmpfile();
    CHECK(evo_json_write(fp, "x\ty.jpg", 64, 48, d, 3, &names, NULL) == EVO_OK);
    char *s = slurp(fp);
    const char *want =
        "{\"image\": \"x\\ty.jpg\", \"width\": 64, \"height\": 48, \"detections\": [\n"
        "  {\"class_id\": 0, \"name\": \"a \\\"q\\\"\", \"score\": 0.8750, \"box\": [1.00, 2.00, "
        "3.50, 4.25]},\n"
        "  {\"class_id\": 1, \"name\": \"b\\\\n\", \"score\": 0.5000, \"box\": [10.00, 20.00, "
        "30.00, 40.00]},\n"
        "  {\"class_id\": 7, \"name\": null, \"score\": 0.2500, \"box\": [0.00, 0.00, null, "
        "1.00]}\n"
        "]}\n";
    CHECK_MSG(strcmp(s, want) == 0, "got:\n%s", s);
    free(s);
    fclose(fp);
    fp = tmpfile();
    CHECK(evo_json_write(fp, "e", 1, 1, NULL, 0, NULL, NULL) == EVO_OK);
    s = slurp(fp);
    CHECK(strcmp(s, "{\"image\": \"e\", \"width\": 1, \"height\": 1, \"detections\": []}\n") == 0);
    free(s);
    fclose(fp);
}

static void test_font(void)
{
    for (int c = 33; c < 127; c++) {
        const uint8_t *g = evo_font_glyph(c);
        int bits = 0;
        for (int r = 0; r < EVO_FONT_H; r++) {
            CHECK_MSG((g[r] & ~0x1f) == 0, "glyph %c row %d wider than 5", c, r);
            bits |= g[r];
        }
        CHECK_MSG(bits != 0, "glyph %c is empty", c);
    }
    // distinct glyphs for characters that must not be confused
    CHECK(memcmp(evo_font_glyph('0'), evo_font_glyph('O'), EVO_FONT_H) != 0);
    CHECK(memcmp(evo_font_glyph('1'), evo_font_glyph('l'), EVO_FONT_H) != 0);
    CHECK(evo_font_glyph(200) == evo_font_glyph('?'));
    CHECK(evo_font_glyph(' ')[3] == 0);
}

static int count_color(const evo_image *img, const uint8_t rgb[3])
{
    int n = 0;
    for (int i = 0; i < img->width * img->height; i++)
        n += memcmp(img->data + 3 * i, rgb, 3) == 0;
    return n;
}

static void test_draw(void)
{
    evo_image img;
    CHECK(evo_image_alloc(10, 10, &img, NULL) == EVO_OK);
    const uint8_t red[3] = {255, 0, 0};
    evo_draw_rect(&img, 2, 2, 5, 4, 1, red); // 4x3 outline: 10 pixels
    CHECK(count_color(&img, red) == 10);
    CHECK(img.data[(2 * 10 + 2) * 3] == 255 && img.data[(3 * 10 + 3) * 3] == 0);
    memset(img.data, 0, 300);
    evo_draw_rect(&img, -5, -5, 100, 100, 2, red); // only the clipped parts remain: nothing
    CHECK(count_color(&img, red) == 0);
    evo_draw_fill(&img, -3, 8, 4, 30, red); // 4 x 2 inside
    CHECK(count_color(&img, red) == 8);
    memset(img.data, 0, 300);
    // 'T' at scale 1: full top row (5) + stem (6)
    const uint8_t white[3] = {255, 255, 255};
    int w = evo_draw_text(&img, 1, 1, "T", 1, white);
    CHECK(w == EVO_FONT_W + 1);
    CHECK(count_color(&img, white) == 11);
    for (int x = 1; x <= 5; x++)
        CHECK(img.data[(1 * 10 + x) * 3] == 255);
    CHECK(img.data[(7 * 10 + 3) * 3] == 255 && img.data[(7 * 10 + 2) * 3] == 0);
    memset(img.data, 0, 300);
    CHECK(evo_draw_text(&img, 1, 1, "T", 2, white) == 12);
    CHECK(count_color(&img, white) == 18 + 14); // bar 9x2 and stem 2x7 after clipping
    evo_image_free(&img);

    CHECK(evo_image_alloc(50, 40, &img, NULL) == EVO_OK);
    evo_names coco = evo_names_coco();
    evo_detection d[4] = {{5, 15, 30, 35, 0.9f, 0},
                          {NAN, 0, 1e30f, -1e30f, 0.5f, 3},
                          {-100, -100, 200, 200, 0.4f, 1000},
                          {49.9f, 39.9f, 50, 40, 0.3f, -2}};
    evo_draw_detections(&img, d, 4, &coco);
    uint8_t c0[3];
    evo_class_color(0, c0);
    CHECK(img.data[(35 * 50 + 20) * 3] == c0[0] && img.data[(35 * 50 + 20) * 3 + 1] == c0[1]);
    evo_image_free(&img);
    uint8_t a[3], b[3];
    evo_class_color(1, a);
    evo_class_color(2, b);
    CHECK(memcmp(a, b, 3) != 0);
}

CHECK_MAIN(CHECK_TEST(test_names), CHECK_TEST(test_json), CHECK_TEST(test_font),
           CHECK_TEST(test_draw))
