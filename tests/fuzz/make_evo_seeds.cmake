# Compiles the seed corpus of fuzz_evo_file into OUT (a build directory):
# every model of the ONNX seed corpus (SRC) that compiles, and a few ONNX
# node tests from libonnx-testdata (NODE_DIR) for ops the corpus lacks.
# .evo files are derived from the compiler, so they are built, never kept
# in the tree: a format change just regenerates them.
#   cmake -DEVO=path/to/evo -DSRC=build/tests/fuzz/corpus/onnx -DNODE_DIR=... -DOUT=dir -P make_evo_seeds.cmake
# (cross builds add -DEMULATOR=the one program that runs the target's evo).
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(GLOB models ${SRC}/*.onnx)
foreach(name argmax_keepdims_example averagepool_2d_pads convtranspose depthtospace_example gather_0
             globalaveragepool matmul_4d reduce_mean_keepdims_example relu)
  if(EXISTS ${NODE_DIR}/test_${name}/model.onnx)
    list(APPEND models ${NODE_DIR}/test_${name}/model.onnx)
  endif()
endforeach()
set(count 0)
foreach(path ${models})
  get_filename_component(dir ${path} DIRECTORY)
  get_filename_component(stem ${path} NAME_WE)
  if(stem STREQUAL "model")
    get_filename_component(stem ${dir} NAME)
  endif()
  # the corpus also holds models that must fail to load: those give no seed
  execute_process(COMMAND ${EMULATOR} ${EVO} compile ${path} -o ${OUT}/${stem}.evo
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    math(EXPR count "${count} + 1")
  else()
    file(REMOVE ${OUT}/${stem}.evo)
  endif()
endforeach()
# an int8 model with a recorded NPU placement (the optional NPU section)
if(EXISTS ${NODE_DIR}/test_qlinearconv/model.onnx)
  execute_process(COMMAND ${EMULATOR} ${EVO} compile ${NODE_DIR}/test_qlinearconv/model.onnx --target ethos-u55-128 --no-cache
                          -o ${OUT}/qlinearconv_ethos_u55.evo
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "make_evo_seeds: test_qlinearconv does not compile with --target ethos-u55-128")
  endif()
endif()
if(count LESS 10)
  message(FATAL_ERROR "make_evo_seeds: only ${count} .evo seeds compiled into ${OUT}")
endif()
