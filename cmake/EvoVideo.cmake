# Video sources and the pipelined frame loop (src/video, include/evo_video.h)
# on FFmpeg's libavformat, libavcodec, libavdevice, libavutil and libswscale.
# Optional and separate from the core (which stays libc + pthreads + libm):
#   EVO_VIDEO=AUTO  built when the libraries are found, a note when not (default)
#   EVO_VIDEO=ON    the libraries are required
#   EVO_VIDEO=OFF   never built
# When built, the target evo_video (static) and the CLI get EVO_HAVE_VIDEO=1.
set(EVO_VIDEO AUTO CACHE STRING "Video support through FFmpeg: AUTO, ON or OFF")
set_property(CACHE EVO_VIDEO PROPERTY STRINGS AUTO ON OFF)
set(EVO_HAVE_VIDEO OFF)
if(EVO_VIDEO STREQUAL "OFF")
  message(STATUS "evo: video support off (EVO_VIDEO=OFF)")
else()
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(EVO_FFMPEG QUIET IMPORTED_TARGET libavformat libavcodec libavdevice libavutil libswscale)
  endif()
  if(EVO_FFMPEG_FOUND)
    set(EVO_HAVE_VIDEO ON)
  elseif(EVO_VIDEO STREQUAL "ON")
    message(FATAL_ERROR "EVO_VIDEO=ON but FFmpeg's development libraries were not found "
                        "(libavformat-dev libavcodec-dev libavdevice-dev libavutil-dev libswscale-dev)")
  else()
    message(STATUS "evo: video support left out: FFmpeg's development libraries were not found "
                   "(scripts/install-deps.sh installs them)")
  endif()
endif()

if(EVO_HAVE_VIDEO)
  message(STATUS "evo: video support on (FFmpeg libavformat ${EVO_FFMPEG_libavformat_VERSION})")
  file(GLOB EVO_VIDEO_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/video/*.c)
  add_library(evo_video_obj OBJECT ${EVO_VIDEO_SOURCES})
  target_compile_options(evo_video_obj PRIVATE ${EVO_WARNINGS})
  target_link_libraries(evo_video_obj PUBLIC evo_obj PkgConfig::EVO_FFMPEG)
  set_target_properties(evo_video_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(evo_video_obj PUBLIC EVO_HAVE_VIDEO=1)
  # libevo_video.a for applications: link it with libevo.a
  add_library(evo_video STATIC $<TARGET_OBJECTS:evo_video_obj>)
  target_include_directories(evo_video PUBLIC ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(evo_video PUBLIC evo PkgConfig::EVO_FFMPEG)
endif()

# Included after evo_cli is defined: the CLI's `evo detect VIDEO` and the example.
if(EVO_HAVE_VIDEO)
  target_link_libraries(evo_cli PRIVATE evo_video_obj)
  add_executable(video_detect ${CMAKE_SOURCE_DIR}/examples/video_detect.c)
  target_compile_options(video_detect PRIVATE ${EVO_WARNINGS})
  target_link_libraries(video_detect PRIVATE evo_video) # as an application would
endif()
