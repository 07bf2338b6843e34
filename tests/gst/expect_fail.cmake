# Runs gst-launch with a missing model; prints its exit code and output for
# the test's regular expression (which wants a non-zero exit and evo's message).
execute_process(COMMAND ${LAUNCH} videotestsrc num-buffers=2 ! evodetect model=/nonexistent/missing.onnx ! fakesink
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("exit ${rc}\n${out}${err}")
