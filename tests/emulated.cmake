# Tests of a cross build, run under the emulator of the toolchain file
# (cmake/toolchain-aarch64.cmake: qemu-user). Included last by
# tests/CMakeLists.txt when cross-compiling; it changes no test, only which
# run there:
# - Tests that start the built programs from the host's Python (python/*,
#   models/*_ort*) would need the emulator inside their scripts, and the
#   install test builds a consumer with the host's compiler: left out.
# - Without the target's image codecs (EVO_IMAGE_CODECS OFF, EvoVision.cmake)
#   the tests that read JPEG/PNG files are left out too.
# - The whole-model tests are too slow emulated (minutes per model):
#   models/test_models runs a reduced set instead, one ctest each
#   (models/emulated/*): tiny_cnn and YOLOv5n at opset 17 (docs/arm64.md),
#   and its per-tier entries (models/test_models/TIER) are left out too;
#   unit/test_evo_file and unit/test_quantize, which compile and quantize
#   every test model, are left out.
# - unit/test_pool times out: its workers poll with sched_yield, a system
#   call per poll under qemu-user, which also cannot show the weak memory
#   ordering of a real Arm core (the host's ordering is stronger).
# What is left out is written, as one ctest -E regular expression, to
# BUILD/emulated-exclude.regex; `make aarch64-test` passes it and prints it.
set(evo_emulated_out "^python/" "_ort$" "_ort/" "^install/" "^models/test_models(/.*)?$" "^models/test_onnx_roundtrip$"
    "^unit/test_evo_file$" "^unit/test_quantize$" "^unit/test_pool$")
if(NOT EVO_IMAGE_CODECS)
  list(APPEND evo_emulated_out "^unit/test_vision_image$" "^unit/test_quant_detectors$" "^models/test_detect$"
       "^models/camera_loop$" "^fuzz-replay/image$" "^cli/quantize_report_target$" "^cli/quantize_qdq")
endif()
list(JOIN evo_emulated_out "|" evo_emulated_regex)
file(WRITE ${CMAKE_BINARY_DIR}/emulated-exclude.regex "${evo_emulated_regex}\n")

foreach(case tiny_cnn_op13 yolov5n_op17)
  add_test(NAME models/emulated/${case} COMMAND test_models test_${case})
  set_tests_properties(models/emulated/${case} PROPERTIES FIXTURES_REQUIRED evo_models LABELS models TIMEOUT 900
                       PASS_REGULAR_EXPRESSION "1 passed, 0 failed")
endforeach()

# evo verify runs every check at each Arm tier the CPU model has, with 1 and 2 threads: 1-2 minutes
# emulated on an idle 2-core host, several on a loaded one.
if(TEST cli/verify)
  set_tests_properties(cli/verify PROPERTIES TIMEOUT 900)
endif()
