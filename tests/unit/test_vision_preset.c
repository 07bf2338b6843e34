/*
 * test_vision_preset.c - detector presets: every built-in sets the options
 * its model family documents, preset files parse (base + overrides), and
 * bad files fail with the line number and never change the options.
 */
#include "check.h"
#include "vision/vision.h"

static void test_builtins(void)
{
    evo_detect_options o;
    CHECK(evo_preset_load("yolox", &o, NULL) == EVO_OK);
    CHECK(o.decode.kind == EVO_YOLO_X && o.preprocess.mode == EVO_FIT_LETTERBOX_TOPLEFT);
    CHECK(o.preprocess.bgr && o.preprocess.scale == 1.0f && o.preprocess.pad_value == 114);
    CHECK(o.decode.n_strides == 3 && o.decode.strides[2] == 32);
    CHECK_NEAR(o.decode.conf_threshold, 0.3, 1e-7);
    CHECK_NEAR(o.decode.iou_threshold, 0.45, 1e-7);
    CHECK(evo_preset_load("nanodet", &o, NULL) == EVO_OK);
    CHECK(o.decode.kind == EVO_YOLO_GFL && o.preprocess.mode == EVO_FIT_CENTER);
    CHECK(o.preprocess.interp == EVO_INTERP_AREA && o.preprocess.bgr && o.preprocess.pad_value == 0);
    CHECK_NEAR(o.preprocess.mean[0], 103.53, 1e-5);
    CHECK_NEAR(o.preprocess.std[2], 58.395, 1e-5);
    CHECK_NEAR(o.decode.cell_offset, 0.5, 0);
    CHECK(o.decode.n_strides == 3 && o.decode.reg_max == 7 && !o.decode.gfl_sigmoid);
    CHECK(evo_preset_load("picodet", &o, NULL) == EVO_OK);
    CHECK(!o.preprocess.bgr && o.decode.n_strides == 4 && o.decode.strides[3] == 64);
    CHECK_NEAR(o.preprocess.mean[0], 123.675, 1e-5);
    CHECK(evo_preset_load("yolov8", &o, NULL) == EVO_OK);
    CHECK(o.decode.kind == EVO_YOLO_V8 && o.preprocess.mode == EVO_FIT_LETTERBOX);
    CHECK_NEAR(o.preprocess.scale, 1.0 / 255.0, 1e-9);
    CHECK_NEAR(o.decode.iou_threshold, 0.7, 1e-7);
    int n = 0;
    while (evo_preset_name(n))
        CHECK(evo_preset_load(evo_preset_name(n++), &o, NULL) == EVO_OK);
    CHECK(n == 5);
    evo_error err;
    CHECK(evo_preset_load("yolov9", &o, &err) == EVO_ERR_INVALID_ARG && strstr(err.msg, "yolov9"));
    evo_detect_options pub;
    CHECK(evo_detect_options_preset("picodet", &pub, NULL) == EVO_OK && pub.decode.n_strides == 4);
    CHECK(evo_detect_options_preset(NULL, &pub, NULL) == EVO_ERR_INVALID_ARG);
}

static void test_file(void)
{
    static const char text[] = "# my model\npreset = nanodet   # start from NanoDet\n\n"
                               "  strides = 8,16,32,64\r\ncolor=rgb\nconf = 0.25\nscale = 1/255\n"
                               "mode = letterbox\nagnostic = true\n";
    evo_detect_options o;
    CHECK(evo_preset_parse(text, sizeof text - 1, "my.preset", &o, NULL) == EVO_OK);
    CHECK(o.decode.kind == EVO_YOLO_GFL && o.decode.n_strides == 4 && !o.preprocess.bgr);
    CHECK(o.preprocess.mode == EVO_FIT_LETTERBOX && o.decode.class_agnostic);
    CHECK_NEAR(o.preprocess.scale, 1.0 / 255.0, 1e-9);
    CHECK_NEAR(o.decode.conf_threshold, 0.25, 1e-7);
    CHECK_NEAR(o.preprocess.mean[0], 103.53, 1e-5); // from the base
    // without a base line: the defaults, then the keys
    CHECK(evo_preset_parse("iou = 0.6", 9, "x", &o, NULL) == EVO_OK);
    CHECK(o.decode.kind == EVO_YOLO_AUTO && o.preprocess.scale < 0.01f);
    CHECK_NEAR(o.decode.iou_threshold, 0.6, 1e-7);
}

static void test_file_errors(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"conf = 0.3\nconff = 0.3\n", "f:2: unknown key \"conff\""},
        {"conf = 0.3\nconf = 0.4\n", "f:2: \"conf\" given twice"},
        {"conf = 0.3\npreset = yolox\n", "f:2: \"preset\" must be the first key"},
        {"preset = yolov9\n", "f:1: unknown preset"},
        {"\n\nconf 0.3\n", "f:3: expected \"key = value\""},
        {"conf =\n", "f:1: empty value"},
        {"= 3\n", "f:1: empty key"},
        {"conf = 1.5\n", "f:1: conf \"1.5\", expected a number in [0, 1]"},
        {"strides = 8,16,,32\n", "f:1: strides"},
        {"strides = 8,16,32,64,128,256,512\n", "f:1: strides"},
        {"strides = 8.5\n", "f:1: strides"},
        {"mean = 1,2\n", "f:1: mean"},
        {"std = 1,0,1\n", "f:1: std"},
        {"pad = 256\n", "f:1: pad"},
        {"pad = 0x10\n", "f:1: pad"},
        {"scale = 1/0\n", "f:1: scale"},
        {"mode = centre\n", "f:1: mode \"centre\", expected letterbox, topleft, center or stretch"},
        {"agnostic = maybe\n", "f:1: agnostic"},
        {"decoder = yolov4\n", "f:1: decoder"},
    };
    for (size_t i = 0; i < EVO_ARRAY_LEN(bad); i++) {
        evo_detect_options o = evo_detect_options_default(), before = o;
        evo_error err = {0};
        CHECK_MSG(evo_preset_parse(bad[i].text, strlen(bad[i].text), "f", &o, &err) == EVO_ERR_PARSE,
                  "%s", bad[i].text);
        CHECK_MSG(strstr(err.msg, bad[i].want) != NULL, "got \"%s\", want \"%s\"", err.msg, bad[i].want);
        CHECK(memcmp(&o, &before, sizeof o) == 0);
    }
    evo_detect_options o;
    evo_error err;
    char nul[] = "conf = 0.3\nio\0u = 1\n";
    CHECK(evo_preset_parse(nul, sizeof nul - 1, "f", &o, &err) == EVO_ERR_PARSE && strstr(err.msg, "f:2: NUL"));
    char line[700];
    memset(line, ' ', sizeof line);
    CHECK(evo_preset_parse(line, sizeof line, "f", &o, &err) == EVO_ERR_PARSE && strstr(err.msg, "longer"));
    CHECK(evo_preset_parse(line, EVO_PRESET_MAX_BYTES + 1, "f", &o, &err) == EVO_ERR_LIMIT);
    CHECK(evo_preset_load("/nonexistent/my.preset", &o, &err) == EVO_ERR_IO);
}

static void test_option_set(void)
{
    evo_detect_options o = evo_detect_options_default();
    CHECK(evo_detect_option_set(&o, "max-det", "100", NULL) == EVO_OK && o.decode.max_detections == 100);
    CHECK(evo_detect_option_set(&o, "interp", "auto", NULL) == EVO_OK && o.preprocess.interp == EVO_INTERP_AUTO);
    CHECK(evo_detect_option_set(&o, "scale-up", "false", NULL) == EVO_OK && !o.preprocess.scale_up);
    CHECK(evo_detect_option_set(&o, "classes", "3", NULL) == EVO_OK && o.decode.n_classes == 3);
    CHECK(evo_detect_option_set(&o, "nope", "1", NULL) == EVO_ERR_INVALID_ARG);
    CHECK(evo_detect_option_known("reg-max") && !evo_detect_option_known("preset"));
}

CHECK_MAIN(CHECK_TEST(test_builtins), CHECK_TEST(test_file), CHECK_TEST(test_file_errors),
           CHECK_TEST(test_option_set))
