# cmake -DPYTHON=... -DSCRIPT=models/export.py -DOUT=<dir> -P ensure_models.cmake
# Runs the export only when an expected file is missing or older than the script.
set(files
    tiny_cnn_op13.onnx tiny_cnn.input.npy tiny_cnn.output.npy
    resnet18_op12.onnx resnet18_op17.onnx resnet18.input.npy resnet18.output.npy
    yolov8n_op12.onnx yolov8n_op17.onnx yolov8n.input.npy yolov8n.output.npy
    yolov5s_op12.onnx yolov5s_op17.onnx yolov5s.input.npy yolov5s.output.npy
    yolov5n_op17.onnx yolov5n.input.npy yolov5n.output.npy
    mobilenet_v2_op17.onnx mobilenet_v2.input.npy mobilenet_v2.output.npy
    mobilenet_v3_large_op17.onnx mobilenet_v3_large.input.npy mobilenet_v3_large.output.npy
    shufflenet_v2_x1_0_op17.onnx shufflenet_v2_x1_0.input.npy shufflenet_v2_x1_0.output.npy
    efficientnet_b0_op17.onnx efficientnet_b0.input.npy efficientnet_b0.output.npy)
set(stale "")
foreach(f ${files})
  if(NOT EXISTS "${OUT}/${f}" OR "${SCRIPT}" IS_NEWER_THAN "${OUT}/${f}")
    list(APPEND stale ${f})
  endif()
endforeach()
if(NOT stale)
  message(STATUS "test models up to date in ${OUT}")
  return()
endif()
message(STATUS "exporting test models into ${OUT} (missing or stale: ${stale})")
if(NOT EXISTS "${PYTHON}")
  message(FATAL_ERROR "python '${PYTHON}' not found; set EVO_PYTHON (needs torch, torchvision, onnx)")
endif()
execute_process(COMMAND "${PYTHON}" "${SCRIPT}" --out "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "models/export.py failed (${rc})")
endif()
