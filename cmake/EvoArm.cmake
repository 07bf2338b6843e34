# AArch64 builds (native on a board, or cross with cmake/toolchain-aarch64.cmake):
# one Arm tier per file suffix, as the x86 ones in the root CMakeLists.txt.
#   *_neon.c     Advanced SIMD, in every ARMv8-A core: no flag
#   *_dotprod.c  + SDOT/UDOT        (-march=armv8.2-a+dotprod)
#   *_i8mm.c     + SMMLA/USDOT      (-march=armv8.2-a+dotprod+i8mm)
# The registry runs each only on CPUs whose hardware capabilities list it.
# Included by the root CMakeLists.txt on the source list before evo_obj is made.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64|ARM64")
  foreach(src ${EVO_SOURCES})
    if(src MATCHES "_dotprod\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
    elseif(src MATCHES "_i8mm\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod+i8mm")
    endif()
  endforeach()
  # GCC 12's AArch64 vectoriser fails (internal compiler error in
  # vect_transform_reduction) on fmax() reductions of float values into a
  # double, as in src/quant/equalize.c and tools/evo/cmd_verify.c: calling
  # fmax as a function keeps it out of the vectoriser (GCC 13 is fine).
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU" AND CMAKE_C_COMPILER_VERSION VERSION_LESS 13)
    add_compile_options(-fno-builtin-fmax)
  endif()
else()
  list(FILTER EVO_SOURCES EXCLUDE REGEX "_(neon|dotprod|i8mm)\\.c$")
endif()
