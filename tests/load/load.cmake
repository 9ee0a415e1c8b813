# The load generator for tests/interop/test_load.sh (found next to the latch binary).
add_executable(load_client ${CMAKE_SOURCE_DIR}/tests/load/load_client.c)
target_compile_options(load_client PRIVATE ${LATCH_WARNINGS})
target_link_libraries(load_client PRIVATE latch)
