# Cross-compiling evo for 64-bit Arm Linux (Raspberry Pi 4/5, Jetson, RK3588,
# i.MX 8) with Debian's gcc-aarch64-linux-gnu, and running what it builds
# (tests, the CLI) on an x86 host under qemu-user:
#
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
#
# EVO_QEMU_CPU picks the emulated CPU model ("max": NEON, dotprod, i8mm,
# fp16; "cortex-a57": NEON only, the fallbacks run). Without arm64 builds of
# libjpeg-turbo and libspng the image codecs are left out (EvoVision.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(EVO_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "prefix of the cross tools")
set(CMAKE_C_COMPILER ${EVO_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${EVO_CROSS_PREFIX}g++)

# Debian's multiarch layout: target headers and libraries under /usr/aarch64-linux-gnu
# and /usr/lib/aarch64-linux-gnu, never the host's.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# ctest and the build steps that run built programs (fuzz seeds) go through
# one wrapper, BUILD/qemu-aarch64-run, so that scripts can take it as a
# single program path.
set(EVO_QEMU_CPU max CACHE STRING "CPU model qemu-aarch64 emulates for tests (max, cortex-a57, ...)")
find_program(EVO_QEMU qemu-aarch64)
if(EVO_QEMU)
  file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/qemu-aarch64-run @ONLY CONTENT [[#!/bin/sh
# runs an aarch64 program of this build; EVO_QEMU_CPU in the environment picks another CPU model
exec @EVO_QEMU@ -L /usr/aarch64-linux-gnu -cpu "${EVO_QEMU_CPU:-@EVO_QEMU_CPU@}" "$@"
]])
  file(CHMOD ${CMAKE_BINARY_DIR}/qemu-aarch64-run PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
       GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_BINARY_DIR}/qemu-aarch64-run)
endif()
