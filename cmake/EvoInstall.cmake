# Shared library and install rules: `cmake --install BUILD --prefix P` (or
# `make install PREFIX=P`) puts libevo.so (versioned soname, only the evo_*
# API exported: sources build with -fvisibility=hidden and evo.h marks the
# API with EVO_API), libevo.a, evo.h, the evo CLI, evo.pc for pkg-config and
# evoConfig.cmake for find_package(evo). Included from the root CMakeLists.txt
# after the evo, evo_obj and evo_cli targets exist.
include(GNUInstallDirs)

add_library(evo_shared SHARED $<TARGET_OBJECTS:evo_obj>)
set_target_properties(evo_shared PROPERTIES OUTPUT_NAME evo VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR})
target_include_directories(evo_shared PUBLIC ${CMAKE_SOURCE_DIR}/include)
# the same image libraries and system libraries as the object library
target_link_libraries(evo_shared PRIVATE $<TARGET_PROPERTY:evo_obj,INTERFACE_LINK_LIBRARIES>)
target_link_options(evo_shared PRIVATE -Wl,--no-undefined)

install(TARGETS evo evo_shared
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development)
install(TARGETS evo_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/evo.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# What a static link needs besides libevo.a: the image libraries found at
# configure time (full paths or link flags) and the system libraries.
set(EVO_STATIC_DEPS "")
foreach(dep TURBOJPEG SPNG)
  if(EVO_${dep}_FOUND)
    list(APPEND EVO_STATIC_DEPS ${EVO_${dep}_LINK_LIBRARIES})
  else()
    list(APPEND EVO_STATIC_DEPS ${EVO_${dep}_LIB})
  endif()
endforeach()
set(EVO_PC_REQUIRES_PRIVATE "")
if(EVO_TURBOJPEG_FOUND AND EVO_SPNG_FOUND)
  set(EVO_PC_REQUIRES_PRIVATE "libturbojpeg spng")
  set(EVO_PC_LIBS_PRIVATE "-lpthread -lm")
else()
  list(JOIN EVO_STATIC_DEPS " " EVO_PC_LIBS_PRIVATE)
  string(APPEND EVO_PC_LIBS_PRIVATE " -lpthread -lm")
endif()

# relative to the .pc file's folder, so the installed tree can move
file(RELATIVE_PATH EVO_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${CMAKE_SOURCE_DIR}/cmake/evo.pc.in ${CMAKE_BINARY_DIR}/evo.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/evo.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(EVO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/evo)
# the config file finds the prefix from its own place, so the tree can move
file(RELATIVE_PATH EVO_CONFIG_TO_PREFIX /prefix/${EVO_CMAKE_DIR} /prefix)
include(CMakePackageConfigHelpers)
configure_file(${CMAKE_SOURCE_DIR}/cmake/evoConfig.cmake.in ${CMAKE_BINARY_DIR}/evoConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/evoConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/evoConfig.cmake ${CMAKE_BINARY_DIR}/evoConfigVersion.cmake
        DESTINATION ${EVO_CMAKE_DIR})
