/*
 * test_header_example.c - compiles and runs the usage example from the top
 * of include/evo.h (extracted at configure time into header_example.inc).
 * The example loads "yolov5s.onnx" from the current directory; the test
 * stands a Relu model from the ONNX conformance data in for it.
 */
#include "check.h"
#include "evo.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int example(void)
{
#include "header_example.inc"
    return 0;
}

static void test_example_runs(void)
{
    char dir[] = "/tmp/evo_example_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char link[64];
    snprintf(link, sizeof(link), "%s/yolov5s.onnx", dir);
    CHECK(symlink("/usr/share/libonnx-testdata/data/node/test_relu/model.onnx", link) == 0);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(chdir(dir) == 0);
    CHECK(example() == 0);
    CHECK(chdir(cwd) == 0);
    unlink(link);
    rmdir(dir);
}

static void test_example_reports_missing_file(void)
{
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(chdir("/") == 0);
    CHECK(example() == 1);
    CHECK(chdir(cwd) == 0);
}

CHECK_MAIN(CHECK_TEST(test_example_runs), CHECK_TEST(test_example_reports_missing_file))
