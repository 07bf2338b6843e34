# Image I/O for src/vision: libjpeg-turbo (TurboJPEG API) and libspng.
# Included from the root CMakeLists.txt right after evo_obj is defined.
# A cross build (cmake/toolchain-aarch64.cmake) without the target's builds
# of both libraries leaves the codecs out: the rest of src/vision works on
# pixels in memory, and decoding or encoding a file says what is missing
# (EVO_IMAGE_CODECS is then OFF; tests that read images are disabled).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(EVO_TURBOJPEG QUIET IMPORTED_TARGET libturbojpeg)
  pkg_check_modules(EVO_SPNG QUIET IMPORTED_TARGET spng)
endif()

set(EVO_IMAGE_CODECS ON)
if(CMAKE_CROSSCOMPILING AND NOT (EVO_TURBOJPEG_FOUND AND EVO_SPNG_FOUND))
  find_path(EVO_TURBOJPEG_INCLUDE turbojpeg.h)
  find_path(EVO_SPNG_INCLUDE spng.h)
  if(NOT EVO_TURBOJPEG_INCLUDE OR NOT EVO_SPNG_INCLUDE)
    set(EVO_IMAGE_CODECS OFF)
    message(STATUS "image codecs: no ${CMAKE_SYSTEM_PROCESSOR} libturbojpeg/libspng, JPEG and PNG I/O left out")
    target_compile_definitions(evo_obj PUBLIC EVO_NO_IMAGE_CODECS)
    return()
  endif()
endif()

if(EVO_TURBOJPEG_FOUND)
  target_link_libraries(evo_obj PUBLIC PkgConfig::EVO_TURBOJPEG)
else()
  find_path(EVO_TURBOJPEG_INCLUDE turbojpeg.h REQUIRED)
  find_library(EVO_TURBOJPEG_LIB turbojpeg REQUIRED)
  target_include_directories(evo_obj PUBLIC ${EVO_TURBOJPEG_INCLUDE})
  target_link_libraries(evo_obj PUBLIC ${EVO_TURBOJPEG_LIB})
endif()

if(EVO_SPNG_FOUND)
  target_link_libraries(evo_obj PUBLIC PkgConfig::EVO_SPNG)
else()
  find_path(EVO_SPNG_INCLUDE spng.h REQUIRED)
  find_library(EVO_SPNG_LIB spng REQUIRED)
  target_include_directories(evo_obj PUBLIC ${EVO_SPNG_INCLUDE})
  target_link_libraries(evo_obj PUBLIC ${EVO_SPNG_LIB})
endif()

# The static library carries the same dependencies for applications.
if(TARGET evo)
  if(EVO_TURBOJPEG_FOUND)
    target_link_libraries(evo PUBLIC PkgConfig::EVO_TURBOJPEG)
  else()
    target_link_libraries(evo PUBLIC ${EVO_TURBOJPEG_LIB})
  endif()
  if(EVO_SPNG_FOUND)
    target_link_libraries(evo PUBLIC PkgConfig::EVO_SPNG)
  else()
    target_link_libraries(evo PUBLIC ${EVO_SPNG_LIB})
  endif()
endif()
