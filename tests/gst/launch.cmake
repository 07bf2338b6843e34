# Runs `gst-launch-1.0 PIPE` (LAUNCH, PIPE given with -D) and prints its exit
# code before its output, so a test's regular expression checks both.
separate_arguments(args UNIX_COMMAND "${PIPE}")
execute_process(COMMAND ${LAUNCH} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("exit ${rc}\n${out}${err}")
