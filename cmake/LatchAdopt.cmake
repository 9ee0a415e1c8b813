# Everything that makes latch adoptable by other C programs, included at the
# end of CMakeLists.txt (after the targets latch, latch-shared, latch-cli):
#
#   * symbol hygiene: liblatch.so exports only latch_* (cmake/latch.map)
#   * install rules: headers, liblatch.a, liblatch.so.0, the latch CLI, the
#     man page, latch.pc (pkg-config) and the CMake package (find_package(latch))
#   * examples/ (built by default) and their interop test's environment
#   * tests/install: install.symbols and install.package
#   * the `docs` target (doxygen, docs/Doxyfile)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_target_property(LATCH_PACKAGE_VERSION latch-shared VERSION)
if(NOT LATCH_PACKAGE_VERSION)
  set(LATCH_PACKAGE_VERSION 0.1.0)
endif()
if(NOT DEFINED LATCH_TEST_DATA_DIR)
  set(LATCH_TEST_DATA_DIR ${CMAKE_SOURCE_DIR}/tests/data)
endif()

# ---- symbol hygiene --------------------------------------------------------
# Only latch_* leaves the shared library; --no-undefined makes a missing
# dependency a link error here rather than at the embedder's.
set(LATCH_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/latch.map)
target_link_options(latch-shared PRIVATE "LINKER:--version-script=${LATCH_VERSION_SCRIPT}"
                                         "LINKER:--no-undefined")
set_property(TARGET latch-shared APPEND PROPERTY LINK_DEPENDS ${LATCH_VERSION_SCRIPT})

# ---- usage requirements that survive installation -------------------------
# The variant function gives the libraries ${CMAKE_SOURCE_DIR}/include as a
# plain path, which cannot be exported; say which path holds where.
foreach(target latch latch-shared)
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES
               "$<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>"
               "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
endforeach()
# liblatch.a and liblatch.so share the base name (no clash: different
# suffixes, both in LIBDIR).  Exported as latch::latch (shared, the default
# an embedder wants) and latch::latch_static.
set_target_properties(latch-shared PROPERTIES EXPORT_NAME latch)
set_target_properties(latch PROPERTIES EXPORT_NAME latch_static)

# ---- install ----------------------------------------------------------------
set(LATCH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/latch)
install(TARGETS latch-shared latch EXPORT latchTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS latch-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/latch DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_SOURCE_DIR}/man/latch.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/docs/API.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

install(EXPORT latchTargets NAMESPACE latch:: DESTINATION ${LATCH_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/latchConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/package/latchConfig.cmake
                              INSTALL_DESTINATION ${LATCH_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/package/latchConfigVersion.cmake
                                 VERSION ${LATCH_PACKAGE_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/package/latchConfig.cmake
              ${CMAKE_BINARY_DIR}/package/latchConfigVersion.cmake
        DESTINATION ${LATCH_CMAKE_DIR})

# latch.pc: paths filled in twice, LIBDIR/INCLUDEDIR now and the prefix at
# install time, so `cmake --install --prefix DIR` (make install PREFIX=DIR)
# writes a .pc that points into DIR.
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(LATCH_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(LATCH_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
set(LATCH_PC_PREFIX "@LATCH_PC_PREFIX@") # kept for the install-time pass
configure_file(${CMAKE_CURRENT_LIST_DIR}/latch.pc.in ${CMAKE_BINARY_DIR}/package/latch.pc.in @ONLY)
install(CODE "
  set(LATCH_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${CMAKE_BINARY_DIR}/package/latch.pc.in\" \"${CMAKE_BINARY_DIR}/package/install/latch.pc\" @ONLY)
  file(INSTALL \"${CMAKE_BINARY_DIR}/package/install/latch.pc\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")
")

# ---- examples -----------------------------------------------------------------
# Built by default; linked to the shared library (the way an embedder links),
# and, with LATCH_WITH_SANITIZED, also to latch-sanitized.  Output:
# build/examples/NAME and NAME-sanitized.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LATCH_LIBEVENT QUIET IMPORTED_TARGET libevent_core)
endif()
set(LATCH_EXAMPLES https_get echo_server poll_client)
if(LATCH_LIBEVENT_FOUND)
  list(APPEND LATCH_EXAMPLES libevent_server)
else()
  message(WARNING "libevent (libevent-dev) not found: examples/libevent_server.c is not built "
                  "and interop.examples will fail (scripts/install-deps.sh installs it)")
endif()
function(latch_example name library suffix)
  set(exe example-${name}${suffix})
  add_executable(${exe} ${CMAKE_SOURCE_DIR}/examples/${name}.c)
  target_compile_options(${exe} PRIVATE ${LATCH_WARNINGS} ${ARGN})
  target_link_libraries(${exe} PRIVATE ${library} ${ARGN})
  if(name STREQUAL "libevent_server")
    target_link_libraries(${exe} PRIVATE PkgConfig::LATCH_LIBEVENT)
  endif()
  set_target_properties(${exe} PROPERTIES OUTPUT_NAME ${name}${suffix}
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/examples)
endfunction()
foreach(name ${LATCH_EXAMPLES})
  latch_example(${name} latch-shared "")
  if(LATCH_WITH_SANITIZED)
    latch_example(${name} latch-sanitized "-sanitized" ${LATCH_SANITIZE_FLAGS})
  endif()
endforeach()
# tests/interop/test_examples.sh is registered by the interop glob; tell it
# where its binaries are.
if(TEST interop.examples)
  set_property(TEST interop.examples APPEND PROPERTY ENVIRONMENT
               "LATCH_EXAMPLES_DIR=${CMAKE_BINARY_DIR}/examples" "LATCH_EXAMPLES_SUFFIX=")
endif()
if(TEST sanitized.interop.examples)
  set_property(TEST sanitized.interop.examples APPEND PROPERTY ENVIRONMENT
               "LATCH_EXAMPLES_DIR=${CMAKE_BINARY_DIR}/examples" "LATCH_EXAMPLES_SUFFIX=-sanitized")
endif()

# ---- install tests ----------------------------------------------------------
add_test(NAME install.symbols
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/test_symbols.sh
                 $<TARGET_FILE:latch-shared> ${CMAKE_SOURCE_DIR}/include/latch)
add_test(NAME install.package COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/test_install.sh)
set_tests_properties(install.package PROPERTIES
  ENVIRONMENT "LATCH_BUILD_DIR=${CMAKE_BINARY_DIR};LATCH_SOURCE_DIR=${CMAKE_SOURCE_DIR};LATCH_TEST_DATA=${LATCH_TEST_DATA_DIR};LATCH_TEST_WORK=${CMAKE_BINARY_DIR}/testwork"
  TIMEOUT 300)

# ---- docs ---------------------------------------------------------------------
# `cmake --build BUILD --target docs` (or `make docs`, which also installs
# doxygen): HTML reference in BUILD/docs/html; any undocumented public symbol
# fails the build (WARN_AS_ERROR in docs/Doxyfile).
add_custom_target(docs
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/docs
  COMMAND ${CMAKE_COMMAND} -E env LATCH_DOCS_OUT=${CMAKE_BINARY_DIR}/docs doxygen docs/Doxyfile
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  COMMENT "doxygen: API reference in ${CMAKE_BINARY_DIR}/docs/html"
  VERBATIM)
